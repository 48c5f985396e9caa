import Foundation

/// Reads `fixtures/odoo/<model>.json` (records in stored form) and `fields/<model>.json`
/// (the fields_get answer) for every model present.
enum FixtureLoader {
    static func load(directory: URL, profile: VersionProfile = VersionProfile(major: 19)) throws -> StoreState {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EmulatorSetupError("fixture directory \(directory.path) does not exist")
        }
        let recordFiles = try jsonFiles(in: directory)
        let fieldsDirectory = directory.appendingPathComponent("fields")
        let fieldFiles = (try? jsonFiles(in: fieldsDirectory)) ?? [:]

        var state = StoreState()
        for model in Set(recordFiles.keys).union(fieldFiles.keys).sorted() {
            var records: [EmulatorJSON] = []
            if let url = recordFiles[model] {
                guard case .array(let items) = try EmulatorJSON.parse(Data(contentsOf: url)) else {
                    throw EmulatorSetupError("\(url.lastPathComponent) is not a JSON array of records")
                }
                records = items
            }
            let fieldsJSON = try fieldFiles[model].map { try EmulatorJSON.parse(Data(contentsOf: $0)) }
            let adapted = profile.adapt(model: model, fields: fieldsJSON, records: records)
            records = adapted.records
            let schema: ModelSchema
            if let described = adapted.fields {
                schema = try ModelSchema.load(name: model, fieldsJSON: described)
            } else {
                schema = ModelSchema.infer(name: model, records: records)
            }
            var table = ModelTable(schema: schema)
            for item in records {
                guard case .object(let pairs) = item, let id = item["id"]?.intValue else {
                    throw EmulatorSetupError("\(model): every record needs an integer id")
                }
                var values = defaultValues(schema)
                for (key, raw) in pairs {
                    guard let index = schema.fieldIndex[key] else { continue }
                    values[index] = storedValue(fromFixture: raw, field: schema.fields[index])
                }
                if let idIndex = schema.idField { values[idIndex] = .int(id) }
                table.appendUnindexed(StoredRecord(id: id, version: state.nextVersion(), values: values))
            }
            table.rebuildIndexes()
            state.tables[model] = table
        }
        return state
    }

    private static func jsonFiles(in directory: URL) throws -> [String: URL] {
        var result: [String: URL] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".json") {
            let url = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[String(name.dropLast(5))] = url
            }
        }
        return result
    }

    /// What a column holds when nothing was written to it.
    static func defaultValues(_ schema: ModelSchema) -> ContiguousArray<FieldValue> {
        ContiguousArray(schema.fields.map(emptyValue))
    }

    static func emptyValue(_ field: FieldDef) -> FieldValue {
        switch field.kind {
        case .integer: return .int(0)
        case .float, .monetary: return .float(0)
        case .boolean: return .bool(false)
        case .one2many, .many2many: return .ids([])
        default: return .null
        }
    }

    /// Fixture values are already in read form, except many2one which is a bare id.
    static func storedValue(fromFixture raw: EmulatorJSON, field: FieldDef) -> FieldValue {
        switch field.kind {
        case .integer:
            return .int(raw.intValue ?? 0)
        case .float, .monetary:
            return .float(raw.doubleValue ?? 0)
        case .boolean:
            return .bool(raw.truthy)
        case .char, .text, .html, .selection, .date:
            if case .string(let s) = raw { return .text(s) }
            if case .int(let i) = raw, field.kind == .selection { return .text(String(i)) }
            return .null
        case .datetime:
            if case .string(let s) = raw, let micros = parseOdooDateTime(s) { return .datetime(micros) }
            return .null
        case .many2one:
            if let id = raw.intValue { return .ref(id) }
            if case .array(let pair) = raw, let id = pair.first?.intValue { return .ref(id) }
            return .null
        case .one2many, .many2many:
            if case .array(let items) = raw { return .ids(items.compactMap(\.intValue)) }
            return .ids([])
        case .other:
            return raw.isNull || raw == .bool(false) ? .null : .json(raw)
        }
    }
}
