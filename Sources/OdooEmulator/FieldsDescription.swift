import Foundation

/// `fields_get`: the fixture's attributes, completed with the ones Odoo adds when no
/// `attributes` filter is given. Fields come in model order, attributes alphabetically.
enum FieldsDescription {
    static func describe(_ schema: ModelSchema, allfields: EmulatorJSON, attributes: EmulatorJSON) -> EmulatorJSON {
        var wanted: Set<String>?
        if case .array(let names) = allfields, !names.isEmpty { wanted = Set(names.compactMap(\.stringValue)) }
        var attributeFilter: Set<String>?
        if case .array(let names) = attributes { attributeFilter = Set(names.compactMap(\.stringValue)) }
        var result: [(String, EmulatorJSON)] = []
        for field in schema.fields where wanted?.contains(field.name) ?? true {
            var attrs = fullAttributes(field, schema: schema)
            if let attributeFilter { attrs = attrs.filter { attributeFilter.contains($0.0) } }
            result.append((field.name, .object(attrs.sorted { $0.0 < $1.0 })))
        }
        return .object(result)
    }

    private static func fullAttributes(_ field: FieldDef, schema: ModelSchema) -> [(String, EmulatorJSON)] {
        var attrs: [String: EmulatorJSON] = [:]
        for (key, value) in field.attributes { attrs[key] = value }
        func fill(_ key: String, _ value: EmulatorJSON) {
            if attrs[key] == nil { attrs[key] = value }
        }
        fill("type", .string(field.kind.odooType))
        fill("string", .string(field.label))
        fill("readonly", .bool(field.readonly))
        fill("required", .bool(field.required))
        fill("store", .bool(field.store))
        fill("name", .string(field.name))
        fill("change_default", false)
        fill("company_dependent", false)
        fill("default_export_compatible", false)
        fill("depends", .array([]))
        fill("exportable", true)
        fill("groupable", .bool(field.store))
        fill("manual", false)
        fill("searchable", true)
        fill("sortable", .bool(field.store && !field.kind.isX2Many))
        switch field.kind {
        case .many2one, .one2many, .many2many:
            fill("allow_hierachy_operators", false)
            fill("context", .object([]))
            fill("domain", .array([]))
            if let relation = field.relation { fill("relation", .string(relation)) }
        case .monetary:
            fill("aggregator", "sum")
            fill("currency_field", .string(schema.fieldIndex["company_currency"] != nil ? "company_currency" : "currency_id"))
        case .integer where field.name != "id", .float:
            fill("aggregator", "sum")
        case .selection:
            fill("selection", .array(field.selection.map { .array([.string($0.key), .string($0.label)]) }))
        default:
            break
        }
        return attrs.map { ($0.key, $0.value) }
    }
}

extension EmulatorCore {
    /// `web_search_read(domain, specification, ...)`: the web client's read, with nested specs
    /// for relational fields (`{"id": 1, "display_name": "New"}` instead of `[1, "New"]`).
    func webSearchRead(table: ModelTable, env: QueryEnv, args: BoundArguments) throws -> EmulatorJSON {
        var request = try searchRequest(args)
        request.domain = args["domain"]
        let records = try search(table: table, env: env, request: request)
        let countLimit = try parseLimit(args["count_limit"])
        var length = records.count + request.offset
        if request.limit.map({ records.count >= $0 }) ?? false || request.offset > 0 {
            length = try count(table: table, env: env, domain: args["domain"], limit: countLimit)
        }
        guard case .object(let specification) = args["specification"] else {
            throw OdooError.typeError("specification must be a dict")
        }
        let rendered = try records.map { try webRead($0, table: table, state: env.state, specification: specification) }
        return .object([("length", .int(length)), ("records", .array(rendered))])
    }

    private func webRead(
        _ record: StoredRecord, table: ModelTable, state: StoreState, specification: [(String, EmulatorJSON)]
    ) throws -> EmulatorJSON {
        var out: [(String, EmulatorJSON)] = [("id", .int(record.id))]
        for (name, spec) in specification where name != "id" {
            if name == "display_name" {
                out.append((name, .string(ModelTable.displayName(of: record, schema: table.schema))))
                continue
            }
            guard let field = table.schema.field(name) else {
                throw OdooError.valueError("Invalid field \(pythonRepr(name)) on \(pythonRepr(table.schema.name))")
            }
            let nested: [(String, EmulatorJSON)]? = spec["fields"]?.objectValue
            let related = field.relation.flatMap { state.tables[$0] }
            switch (record.values[field.index], nested, related) {
            case (.ref(let id), let nested?, let related?):
                if let target = related.record(id: id) {
                    out.append((name, try webRead(target, table: related, state: state, specification: nested)))
                } else {
                    out.append((name, ["id": .int(id), "display_name": .string("\(related.schema.name),\(id)")]))
                }
            case (.ref(let id), _, _):
                out.append((name, .int(id)))
            case (.ids(let ids), let nested?, let related?):
                let rows = try ids.compactMap(related.record(id:)).map {
                    try webRead($0, table: related, state: state, specification: nested)
                }
                out.append((name, .array(rows)))
            default:
                let renderer = RowRenderer(table: table, state: state, fields: [field])
                var copy = renderer
                let bytes = copy.render(record)
                let parsed = try EmulatorJSON.parse(Data(bytes))
                out.append((name, parsed[name] ?? .bool(false)))
            }
        }
        return .object(out)
    }
}
