import Foundation

/// Writes records in `read` form: `id` first, many2one as `[id, "display name"]`, empty
/// values as `false`, datetimes truncated to seconds.
struct RowRenderer {
    let table: ModelTable
    let state: StoreState
    let fields: [FieldDef]
    /// `read(load=None)`: many2one values as bare ids instead of `[id, name]` pairs.
    let many2oneAsID: Bool
    /// `, "name": ` per field, escaped once per request rather than once per row.
    private let keyPrefixes: [[UInt8]]
    /// Escaped display names of related records, per requested field, for this request.
    private var names: [[Int: [UInt8]]]

    init(table: ModelTable, state: StoreState, fields: [FieldDef], many2oneAsID: Bool = false) {
        self.table = table
        self.state = state
        self.many2oneAsID = many2oneAsID
        self.fields = fields.filter { $0.name != "id" }
        keyPrefixes = self.fields.map { field in
            var out = JSONBytes()
            out.raw(", ")
            out.key(field.name)
            return out.bytes
        }
        names = Array(repeating: [:], count: self.fields.count)
    }

    /// Identifies the field list for the render cache.
    static func cacheKey(model: String, fields: [FieldDef], many2oneAsID: Bool) -> String {
        model + (many2oneAsID ? "|ids|" : "|") + fields.map(\.name).joined(separator: ",")
    }

    mutating func render(_ record: StoredRecord) -> [UInt8] {
        var out = JSONBytes(capacity: 64 + fields.count * 32)
        out.raw("{\"id\": ")
        out.int(record.id)
        for position in fields.indices {
            out.raw(keyPrefixes[position])
            let field = fields[position]
            appendValue(record.values[field.index], field: field, position: position, record: record, to: &out)
        }
        out.bytes.append(UInt8(ascii: "}"))
        return out.bytes
    }

    private mutating func appendValue(
        _ value: FieldValue, field: FieldDef, position: Int, record: StoredRecord, to out: inout JSONBytes
    ) {
        switch value {
        case .null:
            switch field.kind {
            case .one2many, .many2many: out.raw("[]")
            case .integer: out.raw("0")
            case .float, .monetary: out.raw("0.0")
            default:
                // display_name is computed; fixtures rarely store it for models that show `name`.
                if field.name == "display_name" {
                    out.string(ModelTable.displayName(of: record, schema: table.schema))
                } else {
                    out.raw("false")
                }
            }
        case .bool(let flag): out.bool(flag)
        case .int(let number): out.int(number)
        case .float(let number): out.double(number)
        case .text(let text): out.string(text)
        case .datetime(let micros):
            out.bytes.append(UInt8(ascii: "\""))
            TimeUtil.appendDateTime(micros, to: &out.bytes)
            out.bytes.append(UInt8(ascii: "\""))
        case .ref(let id) where many2oneAsID:
            out.int(id)
        case .ref(let id):
            out.bytes.append(UInt8(ascii: "["))
            out.int(id)
            out.raw(", ")
            if let cached = names[position][id] {
                out.raw(cached)
            } else {
                let name = displayNameJSON(relation: field.relation, id: id)
                names[position][id] = name
                out.raw(name)
            }
            out.bytes.append(UInt8(ascii: "]"))
        case .ids(let ids): out.intList(ids)
        case .json(let json): out.value(json)
        }
    }

    private func displayNameJSON(relation: String?, id: Int) -> [UInt8] {
        let model = relation ?? ""
        var text = JSONBytes()
        if let related = state.tables[model], let name = related.displayName(id: id) {
            text.string(name)
        } else {
            text.string("\(model),\(id)")
        }
        return text.bytes
    }
}

/// Serialized rows per (model, field list), valid while the row's version and the display
/// epoch are unchanged. Bounded to a few field lists; the sync client asks for one or two.
final class RenderCache: @unchecked Sendable {
    private struct Row {
        var version: UInt64
        var epoch: UInt64
        var bytes: [UInt8]
    }

    private final class FieldList {
        var rows: [Row?] = []
        var lastUse: UInt64 = 0
    }

    private let lock = NSLock()
    private var lists: [String: FieldList] = [:]
    private var clock: UInt64 = 0
    private let maxLists = 6

    /// Cached bytes for each record, nil where missing or stale.
    func lookup(key: String, records: [StoredRecord], epoch: UInt64) -> [[UInt8]?] {
        lock.lock()
        defer { lock.unlock() }
        guard let list = lists[key] else { return Array(repeating: nil, count: records.count) }
        clock += 1
        list.lastUse = clock
        return records.map { record in
            let slot = Int(record.slot)
            guard slot < list.rows.count, let row = list.rows[slot], row.version == record.version, row.epoch == epoch
            else { return nil }
            return row.bytes
        }
    }

    func store(key: String, entries: [(record: StoredRecord, bytes: [UInt8])], epoch: UInt64) {
        guard !entries.isEmpty else { return }
        lock.lock()
        defer { lock.unlock() }
        clock += 1
        let list: FieldList
        if let existing = lists[key] {
            list = existing
        } else {
            if lists.count >= maxLists, let oldest = lists.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
                lists[oldest] = nil
            }
            list = FieldList()
            lists[key] = list
        }
        list.lastUse = clock
        for entry in entries {
            let slot = Int(entry.record.slot)
            if slot >= list.rows.count {
                list.rows.append(contentsOf: repeatElement(nil, count: slot - list.rows.count + 1))
            }
            list.rows[slot] = Row(version: entry.record.version, epoch: epoch, bytes: entry.bytes)
        }
    }

    func clear() {
        lock.lock()
        lists.removeAll()
        lock.unlock()
    }
}
