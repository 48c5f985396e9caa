import Foundation

/// Where an external identifier ("module.name", Odoo's ir.model.data) points.
struct ExternalRef: Sendable, Equatable {
    let model: String
    let resID: Int
}

/// `load(fields, data)`: Odoo's import API, which clients use for idempotent creates. A row
/// whose "id" column holds an external identifier updates the record it names, or creates the
/// record and records the identifier, in the same transaction, so a retried import never
/// creates twice. Values arrive as strings, as in an import file.
extension Transaction {
    func load(_ state: inout StoreState, model: String, fields: EmulatorJSON, data: EmulatorJSON, zone: TimeZone) throws -> EmulatorJSON {
        guard let schema = state.tables[model]?.schema else { throw OdooError.userError("Object \(model) doesn't exist") }
        guard case .array(let names) = fields, case .array(let rows) = data else {
            throw OdooError.typeError("load() expects a list of field names and a list of rows")
        }
        let columns = names.map { $0.stringValue ?? "" }
        // Odoo reports import problems as messages and rolls the whole import back.
        let before = state
        var ids: [EmulatorJSON] = []
        for (index, row) in rows.enumerated() {
            do {
                guard case .array(let cells) = row, cells.count == columns.count else {
                    throw LoadProblem("row \(index) has \(row.arrayValue?.count ?? 0) values for \(columns.count) columns")
                }
                var xmlID: String?
                var vals: [(String, EmulatorJSON)] = []
                for (column, cell) in zip(columns, cells) {
                    let text = cell.stringValue ?? cell.intValue.map(String.init) ?? ""
                    if column == "id" {
                        xmlID = text.isEmpty ? nil : (text.contains(".") ? text : "__import__.\(text)")
                        continue
                    }
                    vals.append(try LoadProblem.convert(column: column, text: text, schema: schema, state: state, zone: zone))
                }
                let existing = xmlID.flatMap { state.externalIDs[$0] }.flatMap { ref -> Int? in
                    ref.model == model && state.tables[model]?.slot(of: ref.resID) != nil ? ref.resID : nil
                }
                if let id = existing {
                    try write(&state, model: model, ids: [id], vals: .object(vals))
                    ids.append(.int(id))
                } else {
                    guard let id = try create(&state, model: model, valsList: [.object(vals)]).first else {
                        throw LoadProblem("the record was not created")
                    }
                    if let xmlID { state.externalIDs[xmlID] = ExternalRef(model: model, resID: id) }
                    ids.append(.int(id))
                }
            } catch {
                state = before
                let message = (error as? LoadProblem)?.message ?? (error as? OdooError)?.message ?? "\(error)"
                return .object([
                    ("ids", .bool(false)),
                    ("messages", .array([.object([
                        ("type", "error"), ("message", .string(message)), ("record", .int(index)),
                        ("rows", .object([("from", .int(index)), ("to", .int(index))])),
                    ])])),
                    ("nextrow", .int(0)),
                ])
            }
        }
        return .object([("ids", .array(ids)), ("messages", .array([])), ("nextrow", .int(0))])
    }
}

struct LoadProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }

    /// One import cell to a write value: "field/.id" holds database ids, plain columns text.
    static func convert(column: String, text: String, schema: ModelSchema, state: StoreState, zone: TimeZone) throws -> (String, EmulatorJSON) {
        let byDatabaseID = column.hasSuffix("/.id")
        let name = byDatabaseID ? String(column.dropLast(4)) : column
        guard let field = schema.field(name) else {
            throw LoadProblem("The column \"\(column)\" does not match any field of \(schema.name)")
        }
        if text.isEmpty { return (name, field.kind.isX2Many ? .array([]) : .bool(false)) }
        switch field.kind {
        case .many2one:
            guard byDatabaseID, let id = Int(text) else {
                throw LoadProblem("No matching record found for name '\(text)' in field '\(field.name)'")
            }
            return (name, .int(id))
        case .many2many, .one2many:
            let ids = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            return (name, .array([.array([.int(6), .int(0), .array(ids.map(EmulatorJSON.int))])]))
        case .integer:
            guard let n = Int(text) else { throw LoadProblem("'\(text)' does not seem to be an integer for field '\(field.name)'") }
            return (name, .int(n))
        case .float, .monetary:
            guard let n = Double(text) else { throw LoadProblem("'\(text)' does not seem to be a number for field '\(field.name)'") }
            return (name, .double(n))
        case .boolean:
            return (name, .bool(["1", "true", "yes"].contains(text.lowercased())))
        case .selection:
            if let option = field.selection.first(where: { $0.key == text || $0.label.lowercased() == text.lowercased() }) {
                return (name, .string(option.key))
            }
            throw LoadProblem("Value '\(text)' not found in selection field '\(field.name)'")
        case .datetime:
            // An import file's datetimes are wall-clock times in the importing user's zone.
            return (name, .string(utcDatetime(text, from: zone) ?? text))
        default:
            return (name, .string(text))
        }
    }

    /// "YYYY-MM-DD HH:MM:SS" (or a bare date) read in `zone`, written back in UTC; nil when
    /// the text is no such value (the write then refuses it as Odoo would).
    static func utcDatetime(_ text: String, from zone: TimeZone) -> String? {
        guard let local = parseOdooDateTime(text) ?? parseOdooDate(text).map({ Int64($0) * TimeUtil.microsPerDay }) else { return nil }
        return TimeUtil.formatDateTime(TimeUtil.utc(fromLocal: local, zone: zone))
    }
}
