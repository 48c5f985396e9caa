import Foundation

/// A method result before it is wrapped in a protocol envelope. Records stay as rendered
/// bytes so pages go from cache to socket without a JSON tree in between.
enum MethodResult {
    case value(EmulatorJSON)
    case rows([[UInt8]])
    case ids([Int])
    /// Python `None`: JSON-RPC then omits `result`, JSON-2 writes `null`.
    case none
}

/// One model-method call, protocol-neutral.
struct ModelCall {
    var model: String
    var method: String
    /// JSON-RPC positional args (record methods carry the ids first).
    var positional: [EmulatorJSON] = []
    var keywords: [(String, EmulatorJSON)] = []
    var isJSON2 = false
    var json2IDs: EmulatorJSON?
    var json2Context: EmulatorJSON?
    var channel: RecordedWrite.Channel
    /// Evaluate a write against a throwaway copy (truncated-body fault).
    var dryRun = false
}

/// Arguments common to the search family, after Odoo's coercions.
struct SearchRequest {
    var domain: EmulatorJSON?
    var order: EmulatorJSON?
    var offset = 0
    var limit: Int?
}

extension EmulatorCore {
    /// Checks done before anything else, whose failures differ per protocol.
    enum Resolution {
        case ok(MethodSpec)
        case unknownModel
        case privateMethod
        case unknownMethod
    }

    func resolve(model: String, method: String) -> Resolution {
        guard snapshot().tables[model] != nil else { return .unknownModel }
        if method.hasPrefix("_") { return .privateMethod }
        guard let spec = MethodSpec.lookup(model: model, method: method) else { return .unknownMethod }
        return .ok(spec)
    }

    func execute(_ call: ModelCall, caller: Caller) throws -> MethodResult {
        countCall(model: call.model, method: call.method)
        switch resolve(model: call.model, method: call.method) {
        case .unknownModel:
            throw OdooError.userError("Object \(call.model) doesn't exist")
        case .privateMethod:
            throw OdooError.accessError(
                "Private methods (such as '\(call.model).\(call.method)') cannot be called remotely.")
        case .unknownMethod:
            throw OdooError.attributeError("The method '\(call.model).\(call.method)' does not exist")
        case .ok(let spec):
            let result = try execute(call, spec: spec, caller: caller)
            if case .rows(let rows) = result { countServed(model: call.model, rows.count) }
            return result
        }
    }

    private func execute(_ call: ModelCall, spec: MethodSpec, caller: Caller) throws -> MethodResult {
        var positional = call.positional
        var keywords = call.keywords
        var context: EmulatorJSON = .object([])
        if call.isJSON2 {
            context = call.json2Context ?? .object([])
        } else if let found = keywords.last(where: { $0.0 == "context" }) {
            context = found.1
            keywords.removeAll { $0.0 == "context" }
        }
        if case .string(let lang) = context["lang"] ?? .null, lang != "en_US" {
            throw OdooError.userError("Invalid language code: \(lang)")
        }
        var ids: [Int] = []
        if !spec.isModelMethod {
            if call.isJSON2 {
                ids = try parseIDs(call.json2IDs ?? .array([]))
            } else {
                guard !positional.isEmpty else { throw OdooError.indexError("list index out of range") }
                ids = try parseIDs(positional.removeFirst())
            }
        } else if call.isJSON2, let raw = call.json2IDs, try !parseIDs(raw).isEmpty {
            throw OdooError.werkzeug(422, "cannot call \(call.model).\(call.method) with ids")
        }
        let args =
            call.isJSON2
            ? try ArgumentBinder.bindKeywords(spec, keywords: keywords)
            : try ArgumentBinder.bindCall(spec, positional: positional, keywords: keywords)

        if spec.mutates {
            return try executeMutation(call, spec: spec, ids: ids, args: args, caller: caller, context: context)
        }
        let state = snapshot()
        guard let table = state.tables[call.model] else { throw OdooError.userError("Object \(call.model) doesn't exist") }
        var env = queryEnv(state: state, caller: caller, context: context)
        if caller.user.hiddenModels.contains(call.model) && spec.name != "fields_get" {
            throw OdooError.aclDenied(operation: "read", schema: table.schema)
        }
        env.recordRule = recordRule(caller: caller, model: call.model)
        switch spec.name {
        case "search_read":
            if let extra = args.extra.first(where: { $0.0 != "load" }) {
                throw OdooError.typeError("BaseModel._read_format() got an unexpected keyword argument '\(extra.0)'")
            }
            let fields = try readFields(args["fields"], schema: table.schema)
            let records = try search(table: table, env: env, request: try searchRequest(args))
            let load = args.extra.last { $0.0 == "load" }?.1 ?? "_classic_read"
            return .rows(renderRows(records, table: table, state: state, fields: fields, load: load))
        case "search":
            return .ids(try search(table: table, env: env, request: try searchRequest(args)).map(\.id))
        case "search_count":
            let limit = try parseLimit(args["limit"])
            return .value(.int(try count(table: table, env: env, domain: args["domain"], limit: limit)))
        case "read":
            let fields = try readFields(args["fields"], schema: table.schema)
            let records = ids.compactMap(table.record(id:))
            if let rule = env.recordRule {
                let test = try DomainCompiler(env: env).compile(rule, table: table)
                if !records.allSatisfy(test) {
                    throw OdooError.recordRuleDenied(operation: "read", schema: table.schema, caller: caller)
                }
            }
            return .rows(renderRows(records, table: table, state: state, fields: fields, load: args["load"]))
        case "fields_get":
            return .value(FieldsDescription.describe(table.schema, allfields: args["allfields"], attributes: args["attributes"]))
        case "name_search":
            return .value(try nameSearch(table: table, env: env, args: args))
        case "web_search_read":
            return .value(try webSearchRead(table: table, env: env, args: args))
        case "default_get":
            return .value(defaultGet(table: table, state: state, caller: caller, fields: args["fields"]))
        case "context_get":
            return .value(["lang": "en_US", "tz": .string(caller.tz), "uid": .int(caller.uid)])
        default:
            throw OdooError.attributeError("The method '\(call.model).\(call.method)' does not exist")
        }
    }

    func queryEnv(state: StoreState, caller: Caller, context: EmulatorJSON) -> QueryEnv {
        let activeTest = context["active_test"].map(\.truthy) ?? true
        return QueryEnv(
            state: state, uid: caller.uid, activeTest: activeTest,
            temporal: TemporalParser(zone: userZone(caller: caller, context: context), nowMicros: nowMicros()))
    }

    /// The zone naive local times are read in: the context's `tz`, else the user's, as Odoo
    /// does for relative dates in domains and for an import's datetimes (ir.fields.converter).
    func userZone(caller: Caller, context: EmulatorJSON) -> TimeZone {
        context["tz"]?.stringValue.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: caller.tz)
            ?? TimeZone(secondsFromGMT: 0) ?? TimeZone.current
    }

    // MARK: argument coercion

    func parseIDs(_ value: EmulatorJSON) throws -> [Int] {
        switch value {
        case .null, .bool(false): return []
        case .array(let items):
            return try items.map { item in
                guard let id = item.intValue else {
                    throw OdooError.valueError("Invalid id \(pythonRepr(item))")
                }
                return id
            }
        default:
            guard let id = value.intValue else { throw OdooError.valueError("Invalid id \(pythonRepr(value))") }
            return [id]
        }
    }

    func parseLimit(_ value: EmulatorJSON) throws -> Int? {
        guard let limit = value.intValue, value.boolValue == nil else { return nil }
        if limit < 0 {
            throw OdooError.psycopg("psycopg2.errors.InvalidRowCountInLimitClause", "LIMIT must not be negative\n")
        }
        return limit == 0 ? nil : limit
    }

    func searchRequest(_ args: BoundArguments) throws -> SearchRequest {
        var request = SearchRequest(domain: args["domain"], order: args["order"])
        request.limit = try parseLimit(args["limit"])
        let offset = args["offset"].intValue ?? 0
        if offset < 0 {
            throw OdooError.psycopg(
                "psycopg2.errors.InvalidRowCountInResultOffsetClause", "OFFSET must not be negative\n")
        }
        request.offset = offset
        return request
    }

    /// The fields to return: all of them when none are named; `id` is always added by the renderer.
    func readFields(_ value: EmulatorJSON, schema: ModelSchema) throws -> [FieldDef] {
        guard case .array(let names) = value, !names.isEmpty else { return schema.fields }
        var result: [FieldDef] = []
        var seen = Set<String>()
        for item in names {
            guard case .string(let name) = item, let field = schema.field(name) else {
                throw OdooError.valueError("Invalid field \(pythonRepr(item)) on \(pythonRepr(schema.name))")
            }
            if seen.insert(name).inserted { result.append(field) }
        }
        return result
    }

    // MARK: searching

    /// The salesman rule `['|', ('user_id', '=', uid), ('user_id', '=', False)]` on crm.lead.
    func recordRule(caller: Caller, model: String) -> DomainNode? {
        guard caller.user.ownLeadsOnly, model == "crm.lead" else { return nil }
        let mine = DomainLeaf(path: ["user_id"], op: "=", value: .int(caller.uid), raw: ["user_id", "=", .int(caller.uid)])
        let nobody = DomainLeaf(path: ["user_id"], op: "=", value: false, raw: ["user_id", "=", false])
        return .or([.leaf(mine), .leaf(nobody)])
    }

    func compileDomain(_ domain: EmulatorJSON?, table: ModelTable, env: QueryEnv) throws -> (RowTest, DomainNode) {
        var node = try DomainParser.parse(domain)
        if let rule = env.recordRule { node = .and([rule, node]) }
        if env.activeTest, table.schema.activeField != nil, !DomainParser.mentionsActive(node) {
            let leaf = DomainLeaf(path: ["active"], op: "=", value: true, raw: ["active", "=", true])
            node = .and([.leaf(leaf), node])
        }
        return (try DomainCompiler(env: env).compile(node, table: table), node)
    }

    func search(table: ModelTable, env: QueryEnv, request: SearchRequest) throws -> [StoredRecord] {
        let (test, node) = try compileDomain(request.domain, table: table, env: env)
        var orderText = request.order?.stringValue ?? ""
        if orderText.trimmingCharacters(in: .whitespaces).isEmpty { orderText = table.schema.defaultOrder }
        let order = try OrderSpec.parse(orderText, schema: table.schema)
        let hints = IndexHints.collect(node, schema: table.schema, parser: env.temporal)
        return QueryRunner(table: table, state: env.state, test: test, hints: hints, order: order)
            .run(offset: request.offset, limit: request.limit)
    }

    func count(table: ModelTable, env: QueryEnv, domain: EmulatorJSON?, limit: Int?) throws -> Int {
        let (test, node) = try compileDomain(domain, table: table, env: env)
        let hints = IndexHints.collect(node, schema: table.schema, parser: env.temporal)
        return QueryRunner(table: table, state: env.state, test: test, hints: hints, order: OrderSpec(terms: []))
            .count(limit: limit)
    }

    /// Rows as JSON bytes, from the render cache where the row has not changed since.
    func renderRows(
        _ records: [StoredRecord], table: ModelTable, state: StoreState, fields: [FieldDef], load: EmulatorJSON
    ) -> [[UInt8]] {
        // Only load="_classic_read" (the default) shows many2one values as [id, name].
        let asIDs = load != "_classic_read"
        let key = RowRenderer.cacheKey(model: table.schema.name, fields: fields, many2oneAsID: asIDs)
        let epoch = state.displayEpoch
        let cached = cache.lookup(key: key, records: records, epoch: epoch)
        var renderer = RowRenderer(table: table, state: state, fields: fields, many2oneAsID: asIDs)
        var rows: [[UInt8]] = []
        rows.reserveCapacity(records.count)
        var fresh: [(record: StoredRecord, bytes: [UInt8])] = []
        for (record, hit) in zip(records, cached) {
            if let hit {
                rows.append(hit)
            } else {
                let bytes = renderer.render(record)
                rows.append(bytes)
                fresh.append((record, bytes))
            }
        }
        cache.store(key: key, entries: fresh, epoch: epoch)
        return rows
    }

    /// The defaults `create` would apply, for the requested fields (many2one as ids).
    private func defaultGet(table: ModelTable, state: StoreState, caller: Caller, fields: EmulatorJSON) -> EmulatorJSON {
        let wanted = Set((fields.arrayValue ?? []).compactMap(\.stringValue))
        let schema = table.schema
        var defaults: [(String, FieldValue)] = []
        if schema.activeField != nil { defaults.append(("active", .bool(true))) }
        if schema.name == "crm.lead" {
            defaults += LeadRules(schema: schema, state: state, now: nowMicros()).defaults(uid: caller.uid)
                .filter { !["won_status", "date_open", "date_last_stage_update", "company_currency"].contains($0.0) }
        }
        var result: [(String, EmulatorJSON)] = []
        for (name, value) in defaults where wanted.contains(name) && !result.contains(where: { $0.0 == name }) {
            switch value {
            case .bool(let flag): result.append((name, .bool(flag)))
            case .text(let text): result.append((name, .string(text)))
            case .ref(let id): result.append((name, .int(id)))
            case .int(let number): result.append((name, .int(number)))
            case .float(let number): result.append((name, .double(number)))
            default: break
            }
        }
        return .object(result)
    }

    private func nameSearch(table: ModelTable, env: QueryEnv, args: BoundArguments) throws -> EmulatorJSON {
        let name = args["name"].stringValue ?? ""
        let op = (args["operator"].stringValue ?? "ilike").lowercased()
        let limit = try parseLimit(args["limit"])
        let (domainTest, node) = try compileDomain(args["domain"], table: table, env: env)
        let schema = table.schema
        var test = domainTest
        if !(name.isEmpty && (op == "ilike" || op == "like")) {
            let leaf = DomainLeaf(path: ["display_name"], op: op, value: .string(name), raw: ["display_name", .string(op), .string(name)])
            let nameTest = try ValueTests.text(op: op, value: .string(name), leaf: leaf, emptyIsFalse: true) { record in
                ModelTable.displayName(of: record, schema: schema)
            }
            test = { domainTest($0) && nameTest($0) }
        }
        let order = try OrderSpec.parse(schema.defaultOrder, schema: schema)
        let hints = IndexHints.collect(node, schema: schema, parser: env.temporal)
        let records = QueryRunner(table: table, state: env.state, test: test, hints: hints, order: order)
            .run(offset: 0, limit: limit)
        return .array(records.map { .array([.int($0.id), .string(ModelTable.displayName(of: $0, schema: schema))]) })
    }
}
