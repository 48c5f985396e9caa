import Foundation

/// A stored field value, typed by the field's kind (not `[String: Any]`), so that filtering
/// and rendering a 100,000-row table stays cheap.
enum FieldValue: Sendable, Equatable {
    /// SQL NULL: rendered `false` (or `[]`, `0`, `0.0` depending on the kind).
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    /// char, text, html, selection keys and dates ("YYYY-MM-DD").
    case text(String)
    /// Microseconds since the epoch, UTC.
    case datetime(Int64)
    /// A many2one: the related record's id.
    case ref(Int)
    /// one2many / many2many ids.
    case ids([Int])
    /// Field kinds the emulator does not model, kept as given.
    case json(EmulatorJSON)
}

struct StoredRecord: Sendable {
    var id: Int
    /// Bumped on every change; the render cache keys rows on it.
    var version: UInt64
    var values: ContiguousArray<FieldValue>
    /// Position in its table, fixed for the record's life (slots are never reused).
    var slot: Int32 = -1
}

/// Position of a record in the (write_date, id) index.
struct WriteDateKey: Sendable, Comparable {
    var micros: Int64
    var id: Int
    var slot: Int32

    static func < (a: WriteDateKey, b: WriteDateKey) -> Bool {
        a.micros != b.micros ? a.micros < b.micros : a.id < b.id
    }

    static func == (a: WriteDateKey, b: WriteDateKey) -> Bool { a.micros == b.micros && a.id == b.id }
}

struct IDSlot: Sendable, Comparable {
    var id: Int
    var slot: Int32

    static func < (a: IDSlot, b: IDSlot) -> Bool { a.id < b.id }
    static func == (a: IDSlot, b: IDSlot) -> Bool { a.id == b.id }
}

/// One model's rows plus the two orderings the sync client pages by: id and (write_date, id).
struct ModelTable: Sendable {
    let schema: ModelSchema
    private(set) var slots: [StoredRecord?] = []
    private(set) var slotById: [Int: Int32] = [:]
    /// Live rows by ascending id, with their slots so walks skip the dictionary.
    private(set) var idIndex: [IDSlot] = []
    private(set) var writeDateIndex: [WriteDateKey] = []
    var nextId = 1

    init(schema: ModelSchema) {
        self.schema = schema
    }

    var count: Int { idIndex.count }

    var idsAscending: [Int] { idIndex.map(\.id) }

    func record(id: Int) -> StoredRecord? {
        guard let slot = slotById[id] else { return nil }
        return slots[Int(slot)]
    }

    func slot(of id: Int) -> Int32? { slotById[id] }

    func record(atSlot slot: Int32) -> StoredRecord? { slots[Int(slot)] }

    func writeDateMicros(_ record: StoredRecord) -> Int64 {
        guard let index = schema.writeDateField, case .datetime(let micros) = record.values[index] else { return .min }
        return micros
    }

    /// Appends without maintaining the sorted indexes; call `rebuildIndexes()` afterwards.
    mutating func appendUnindexed(_ record: StoredRecord) {
        let slot = Int32(slots.count)
        var record = record
        record.slot = slot
        slots.append(record)
        slotById[record.id] = slot
        nextId = max(nextId, record.id + 1)
    }

    mutating func rebuildIndexes() {
        idIndex = slotById.map { IDSlot(id: $0.key, slot: $0.value) }.sorted()
        writeDateIndex = slotById.map { id, slot in
            WriteDateKey(micros: slots[Int(slot)].map(writeDateMicros) ?? .min, id: id, slot: slot)
        }
        writeDateIndex.sort()
    }

    mutating func insert(_ record: StoredRecord) {
        let slot = Int32(slots.count)
        var record = record
        record.slot = slot
        slots.append(record)
        slotById[record.id] = slot
        nextId = max(nextId, record.id + 1)
        let entry = IDSlot(id: record.id, slot: slot)
        if let last = idIndex.last, last.id > record.id {
            idIndex.insert(entry, at: lowerBound(idIndex, entry))
        } else {
            idIndex.append(entry)
        }
        insertKey(WriteDateKey(micros: writeDateMicros(record), id: record.id, slot: slot))
    }

    /// Replaces a row's values, keeping the write_date index in step.
    mutating func replace(id: Int, values: ContiguousArray<FieldValue>, version: UInt64) {
        guard let slot = slotById[id], let old = slots[Int(slot)] else { return }
        let oldKey = WriteDateKey(micros: writeDateMicros(old), id: id, slot: slot)
        let updated = StoredRecord(id: id, version: version, values: values, slot: slot)
        let newKey = WriteDateKey(micros: writeDateMicros(updated), id: id, slot: slot)
        slots[Int(slot)] = updated
        if oldKey.micros != newKey.micros {
            removeKey(oldKey)
            insertKey(newKey)
        }
    }

    /// Replaces values without maintaining the write_date index; call `rebuildIndexes()` afterwards.
    mutating func replaceUnindexed(id: Int, values: ContiguousArray<FieldValue>, version: UInt64) {
        guard let slot = slotById[id] else { return }
        slots[Int(slot)] = StoredRecord(id: id, version: version, values: values, slot: slot)
    }

    mutating func remove(id: Int) {
        guard let slot = slotById[id], let old = slots[Int(slot)] else { return }
        removeKey(WriteDateKey(micros: writeDateMicros(old), id: id, slot: slot))
        let position = idPosition(atLeast: id)
        if position < idIndex.count, idIndex[position].id == id { idIndex.remove(at: position) }
        slots[Int(slot)] = nil
        slotById[id] = nil
    }

    private mutating func insertKey(_ key: WriteDateKey) {
        if let last = writeDateIndex.last, key < last {
            writeDateIndex.insert(key, at: lowerBound(writeDateIndex, key))
        } else {
            writeDateIndex.append(key)
        }
    }

    private mutating func removeKey(_ key: WriteDateKey) {
        let position = lowerBound(writeDateIndex, key)
        if position < writeDateIndex.count, writeDateIndex[position] == key { writeDateIndex.remove(at: position) }
    }

    /// First index in the write_date index at or after `micros`.
    func writeDatePosition(atLeast micros: Int64) -> Int {
        var low = 0
        var high = writeDateIndex.count
        while low < high {
            let mid = (low + high) / 2
            if writeDateIndex[mid].micros < micros { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// First index in the id list at or after `id`.
    func idPosition(atLeast id: Int) -> Int {
        var low = 0
        var high = idIndex.count
        while low < high {
            let mid = (low + high) / 2
            if idIndex[mid].id < id { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Display name as many2one values show it: `display_name` when stored, else `name`.
    func displayName(id: Int) -> String? {
        guard let record = record(id: id) else { return nil }
        return ModelTable.displayName(of: record, schema: schema)
    }

    static func displayName(of record: StoredRecord, schema: ModelSchema) -> String {
        if let index = schema.displayNameField, case .text(let name) = record.values[index] { return name }
        if let index = schema.nameField, case .text(let name) = record.values[index] { return name }
        return "\(schema.name),\(record.id)"
    }
}

func lowerBound<T: Comparable>(_ array: [T], _ value: T) -> Int {
    var low = 0
    var high = array.count
    while low < high {
        let mid = (low + high) / 2
        if array[mid] < value { low = mid + 1 } else { high = mid }
    }
    return low
}

/// The whole database. A value type on purpose: readers take a copy under the lock (a few
/// retains) and work without holding it; writers mutate in place.
struct StoreState: Sendable {
    var tables: [String: ModelTable] = [:]
    var versionCounter: UInt64 = 0
    /// Bumped when any record's name changes, which changes how many2one values render elsewhere.
    var displayEpoch: UInt64 = 0
    /// Last transaction timestamp handed out; keeps write_date strictly increasing.
    var lastTransactionMicros: Int64 = 0
    /// External identifiers ("module.name") that `load` recorded, as ir.model.data keeps them.
    var externalIDs: [String: ExternalRef] = [:]

    mutating func nextVersion() -> UInt64 {
        versionCounter += 1
        return versionCounter
    }

    /// Mutates one table without copying it: taking it out of the dictionary leaves it uniquely referenced.
    mutating func withTable<R>(_ model: String, _ body: (inout ModelTable) throws -> R) rethrows -> R? {
        guard var table = tables.removeValue(forKey: model) else { return nil }
        defer { tables[model] = table }
        return try body(&table)
    }
}
