import Foundation

/// write / create / unlink / archive. Each call is one transaction: values are validated and
/// every new row is computed before the first one is stored, so a failure changes nothing
/// (x2many sub-commands that create or update other models' rows excepted).
///
/// The store is passed `inout` and no table copy is held across a mutation: a lingering copy
/// would make copy-on-write duplicate a 100,000-row table on every write.
struct Transaction {
    let caller: Caller
    let stamp: Int64
    let referencedModels: Set<String>

    private func schema(_ state: StoreState, _ model: String) throws -> ModelSchema {
        guard let schema = state.tables[model]?.schema else { throw OdooError.userError("Object \(model) doesn't exist") }
        return schema
    }

    private func checkACL(_ schema: ModelSchema, operation: String) throws {
        if caller.user.readOnlyModels.contains(schema.name) {
            throw OdooError.aclDenied(operation: operation, schema: schema)
        }
    }

    private func checkExisting(_ state: StoreState, _ schema: ModelSchema, ids: [Int], operation: String) throws {
        let missing = ids.filter { state.tables[schema.name]?.slot(of: $0) == nil }
        if !missing.isEmpty {
            throw OdooError.missingRecords(model: schema.name, ids: missing, uid: caller.uid)
        }
        // The salesman record rule: someone else's lead may not be touched.
        if caller.user.ownLeadsOnly, schema.name == "crm.lead", let userIndex = schema.fieldIndex["user_id"] {
            for id in ids {
                guard let record = state.tables[schema.name]?.record(id: id) else { continue }
                if case .ref(let owner) = record.values[userIndex], owner != caller.uid {
                    throw OdooError.recordRuleDenied(operation: operation, schema: schema, caller: caller)
                }
            }
        }
    }

    private func changes(_ state: StoreState, _ vals: EmulatorJSON, schema: ModelSchema) throws -> [(FieldDef, FieldChange)] {
        guard case .object(let pairs) = vals else {
            throw OdooError.attributeError("'\(vals.arrayValue != nil ? "list" : "str")' object has no attribute 'items'")
        }
        for (name, _) in pairs where schema.field(name) == nil {
            throw OdooError.valueError("Invalid field \(pythonRepr(name)) in \(pythonRepr(schema.name))")
        }
        let coercion = ValueCoercion(schema: schema, state: state)
        var result: [(FieldDef, FieldChange)] = []
        for (name, value) in pairs {
            guard let field = schema.field(name), !field.isMagic, field.store else { continue }
            result.append((field, try coercion.change(for: field, value: value)))
        }
        return result
    }

    // MARK: write

    func write(_ state: inout StoreState, model: String, ids: [Int], vals: EmulatorJSON) throws {
        let schema = try schema(state, model)
        try checkACL(schema, operation: "write")
        let planned = try changes(state, vals, schema: schema)
        try checkExisting(state, schema, ids: ids, operation: "write")
        var seen = Set<Int>()
        var pending: [(id: Int, values: ContiguousArray<FieldValue>, old: ContiguousArray<FieldValue>)] = []
        for id in ids where seen.insert(id).inserted {
            guard let old = state.tables[model]?.record(id: id)?.values else { continue }
            var values = old
            var touched = Set<Int>()
            for (field, change) in planned {
                values[field.index] = try apply(&state, change, to: values[field.index], field: field)
                touched.insert(field.index)
            }
            try finish(state, &values, schema: schema, old: old, touched: touched)
            pending.append((id, values, old))
        }
        for row in pending { store(&state, model: model, id: row.id, values: row.values, old: row.old) }
        // project.project's write: "archiving/unarchiving a project does it on its tasks, too",
        // archived tasks included.
        if model == "project.project", case .object(let given) = vals, let active = given.last(where: { $0.0 == "active" })?.1,
           let tasks = state.tables["project.task"], let projectField = try self.schema(state, "project.task").field("project_id") {
            let projects = Set(pending.map(\.id))
            let owned = tasks.idsAscending.filter { id in
                if case .ref(let project)? = tasks.record(id: id)?.values[projectField.index] { return projects.contains(project) }
                return false
            }
            if !owned.isEmpty { try write(&state, model: "project.task", ids: owned, vals: .object([("active", active)])) }
        }
    }

    private func apply(_ state: inout StoreState, _ change: FieldChange, to current: FieldValue, field: FieldDef) throws
        -> FieldValue
    {
        switch change {
        case .set(let value):
            return value
        case .x2many(let commands):
            var ids: [Int] = []
            if case .ids(let existing) = current { ids = existing }
            let related = field.relation.flatMap { state.tables[$0] != nil ? $0 : nil }
            for command in commands {
                switch command {
                case .set(let replacement): ids = replacement
                case .clear: ids = []
                case .link(let id): if !ids.contains(id) { ids.append(id) }
                case .unlink(let id): ids.removeAll { $0 == id }
                case .delete(let id):
                    ids.removeAll { $0 == id }
                    if let related { try unlink(&state, model: related, ids: [id], checkAccess: false) }
                case .update(let id, let vals):
                    if let related { try write(&state, model: related, ids: [id], vals: vals) }
                case .create(let vals):
                    if let related { ids.append(contentsOf: try create(&state, model: related, valsList: [vals])) }
                }
            }
            return .ids(ids)
        }
    }

    /// Required fields, the ORM's bookkeeping and the CRM rules a client would observe.
    private func finish(
        _ state: StoreState, _ values: inout ContiguousArray<FieldValue>, schema: ModelSchema,
        old: ContiguousArray<FieldValue>?, touched: Set<Int>
    ) throws {
        for field in schema.fields where field.required && field.store && !field.isMagic && values[field.index] == .null {
            throw OdooError.missingRequired(field: field, schema: schema)
        }
        if let index = schema.writeDateField { values[index] = .datetime(stamp) }
        if schema.name == "crm.lead" {
            LeadRules(schema: schema, state: state, now: stamp).apply(&values, old: old, touched: touched)
        }
    }

    private func store(
        _ state: inout StoreState, model: String, id: Int, values: ContiguousArray<FieldValue>,
        old: ContiguousArray<FieldValue>?
    ) {
        let version = state.nextVersion()
        var renamed = false
        state.withTable(model) { table in
            if let old {
                let schema = table.schema
                renamed = [schema.nameField, schema.displayNameField].contains { index in
                    index.map { old[$0] != values[$0] } ?? false
                }
                table.replace(id: id, values: values, version: version)
            } else {
                table.insert(StoredRecord(id: id, version: version, values: values))
            }
        }
        if renamed && referencedModels.contains(model) { state.displayEpoch += 1 }
    }

    // MARK: create

    func create(_ state: inout StoreState, model: String, valsList: [EmulatorJSON]) throws -> [Int] {
        let schema = try schema(state, model)
        try checkACL(schema, operation: "create")
        var nextId = state.tables[model]?.nextId ?? 1
        var pending: [(id: Int, values: ContiguousArray<FieldValue>)] = []
        for vals in valsList {
            let planned = try changes(state, vals, schema: schema)
            var values = defaults(state, schema)
            var touched = Set<Int>()
            for (field, change) in planned {
                values[field.index] = try apply(&state, change, to: values[field.index], field: field)
                touched.insert(field.index)
            }
            if let index = schema.idField { values[index] = .int(nextId) }
            try finish(state, &values, schema: schema, old: nil, touched: touched)
            pending.append((nextId, values))
            nextId += 1
        }
        for row in pending { store(&state, model: model, id: row.id, values: row.values, old: nil) }
        return pending.map(\.id)
    }

    private func defaults(_ state: StoreState, _ schema: ModelSchema) -> ContiguousArray<FieldValue> {
        var values = FixtureLoader.defaultValues(schema)
        func set(_ name: String, _ value: FieldValue?) {
            if let index = schema.fieldIndex[name], let value { values[index] = value }
        }
        set("active", .bool(true))
        set("create_date", .datetime(stamp))
        set("write_date", .datetime(stamp))
        if schema.name == "crm.lead" {
            for (name, value) in LeadRules(schema: schema, state: state, now: stamp).defaults(uid: caller.uid) {
                set(name, value)
            }
        }
        if schema.name == "project.task" {
            // Odoo 19's defaults: a new task is in progress, low priority, in the project's first stage.
            set("state", .text("01_in_progress"))
            // Odoo 16 has kanban_state instead (required, default "normal"); set only where it exists.
            set("kanban_state", .text("normal"))
            set("priority", .text("0"))
            set("date_last_stage_update", .datetime(stamp))
            if let stages = state.tables["project.task.type"], let sequence = stages.schema.fieldIndex["sequence"] {
                let first = stages.idsAscending.compactMap(stages.record(id:)).min { a, b in
                    OrderSpec.compare(a.values[sequence], b.values[sequence], ranks: nil, nullsFirst: false, descending: false) < 0
                }
                if let first { set("stage_id", .ref(first.id)) }
            }
        }
        if schema.name == "project.project" {
            set("privacy_visibility", .text("portal"))
            set("last_update_status", .text("to_define"))
        }
        return values
    }

    // MARK: unlink and archive

    func unlink(_ state: inout StoreState, model: String, ids: [Int], checkAccess: Bool = true) throws {
        let schema = try schema(state, model)
        if checkAccess { try checkACL(schema, operation: "unlink") }
        try checkExisting(state, schema, ids: ids, operation: "unlink")
        state.withTable(model) { table in
            for id in Set(ids) { table.remove(id: id) }
        }
        if referencedModels.contains(model) { state.displayEpoch += 1 }
    }

    func setActive(_ state: inout StoreState, model: String, ids: [Int], active: Bool) throws {
        let schema = try schema(state, model)
        guard schema.activeField != nil else {
            throw OdooError.assertionError("No 'active' field on model \(model)")
        }
        try write(&state, model: model, ids: ids, vals: ["active": .bool(active)])
    }
}

/// What crm.lead's compute methods and onchanges would do to the fields a sync client reads.
struct LeadRules {
    let schema: ModelSchema
    let state: StoreState
    let now: Int64

    private func index(_ name: String) -> Int? { schema.fieldIndex[name] }

    private func stageIsWon(_ value: FieldValue) -> Bool {
        guard case .ref(let id) = value, let stages = state.tables["crm.stage"], let stage = stages.record(id: id),
            let wonIndex = stages.schema.fieldIndex["is_won"]
        else { return false }
        return stage.values[wonIndex] == .bool(true)
    }

    func defaults(uid: Int) -> [(String, FieldValue)] {
        var result: [(String, FieldValue)] = [("priority", .text("0")), ("won_status", .text("pending"))]
        if let type = schema.field("type"), type.selectionKeys.contains("opportunity") {
            result.append(("type", .text("opportunity")))
        }
        if let users = state.tables["res.users"], let user = users.record(id: uid) {
            result.append(("user_id", .ref(uid)))
            result.append(("date_open", .datetime(now)))
            if let companyIndex = users.schema.fieldIndex["company_id"], case .ref(let company) = user.values[companyIndex] {
                result.append(("company_id", .ref(company)))
                if let companies = state.tables["res.company"], let record = companies.record(id: company),
                    let currencyIndex = companies.schema.fieldIndex["currency_id"]
                {
                    result.append(("company_currency", record.values[currencyIndex]))
                }
            }
        }
        if let teams = state.tables["crm.team"] {
            let memberIndex = teams.schema.fieldIndex["member_ids"]
            let all = teams.idsAscending.compactMap(teams.record(id:))
            let mine = all.first { record in
                guard let memberIndex, case .ids(let members) = record.values[memberIndex] else { return false }
                return members.contains(uid)
            }
            if let team = mine ?? all.first { result.append(("team_id", .ref(team.id))) }
        }
        if let stages = state.tables["crm.stage"], let sequence = stages.schema.fieldIndex["sequence"] {
            let first = stages.idsAscending.compactMap(stages.record(id:)).min { a, b in
                OrderSpec.compare(a.values[sequence], b.values[sequence], ranks: nil, nullsFirst: false, descending: false) < 0
            }
            if let first { result.append(("stage_id", .ref(first.id))) }
        }
        result.append(("date_last_stage_update", .datetime(now)))
        return result
    }

    func apply(_ values: inout ContiguousArray<FieldValue>, old: ContiguousArray<FieldValue>?, touched: Set<Int>) {
        func set(_ name: String, _ value: FieldValue) {
            if let i = index(name), !touched.contains(i) { values[i] = value }
        }
        func changed(_ name: String) -> Bool {
            guard let i = index(name) else { return false }
            return old.map { $0[i] != values[i] } ?? true
        }
        if changed("stage_id"), let stageIndex = index("stage_id") {
            set("date_last_stage_update", .datetime(now))
            if stageIsWon(values[stageIndex]) {
                set("won_status", .text("won"))
                set("probability", .float(100))
                set("date_closed", .datetime(now))
            } else if let old, stageIsWon(old[stageIndex]) {
                set("won_status", .text("pending"))
                set("date_closed", .null)
            }
        }
        if old != nil, changed("active"), let activeIndex = index("active") {
            if values[activeIndex] == .bool(false) {
                set("probability", .float(0))
                set("won_status", .text("lost"))
                set("date_closed", .datetime(now))
            } else {
                let won = index("stage_id").map { stageIsWon(values[$0]) } ?? false
                set("won_status", .text(won ? "won" : "pending"))
                set("lost_reason_id", .null)
                if !won { set("date_closed", .null) }
            }
        }
        if let old, changed("user_id"), let userIndex = index("user_id"), values[userIndex] != .null,
            old[userIndex] != values[userIndex]
        {
            set("date_open", .datetime(now))
        }
        if changed("expected_revenue") || changed("probability"), let revenue = index("expected_revenue"),
            let probability = index("probability"), case .float(let amount) = values[revenue],
            case .float(let percent) = values[probability]
        {
            set("prorated_revenue", .float((amount * percent / 100 * 100).rounded() / 100))
        }
    }
}

extension EmulatorCore {
    func executeMutation(_ call: ModelCall, spec: MethodSpec, ids: [Int], args: BoundArguments, caller: Caller,
                         context: EmulatorJSON) throws -> MethodResult
    {
        let payload: EmulatorJSON
        switch spec.name {
        case "write": payload = args["vals"]
        case "create": payload = args["vals_list"]
        case "load": payload = .object([("fields", args["fields"]), ("data", args["data"])])
        default: payload = .null
        }
        var entry = RecordedWrite(
            channel: call.channel, model: call.model, method: call.method, ids: ids, values: payload.serializedData,
            time: Date(), applied: false, error: nil, createdIDs: [])
        let now = nowMicros()
        let referenced = referencedModels
        func run(_ state: inout StoreState) throws -> MethodResult {
            let stamp = max(now, state.lastTransactionMicros + 1)
            state.lastTransactionMicros = stamp
            let tx = Transaction(caller: caller, stamp: stamp, referencedModels: referenced)
            switch spec.name {
            case "write":
                try tx.write(&state, model: call.model, ids: ids, vals: args["vals"])
                return .value(true)
            case "create":
                let single: Bool
                let list: [EmulatorJSON]
                if case .array(let items) = args["vals_list"] {
                    (single, list) = (false, items)
                } else {
                    (single, list) = (true, [args["vals_list"]])
                }
                let created = try tx.create(&state, model: call.model, valsList: list)
                entry.createdIDs = created
                // execute_kw answers an int for one dict; JSON-2 always a list.
                if single && !call.isJSON2, let id = created.first { return .value(.int(id)) }
                return .ids(created)
            case "unlink":
                try tx.unlink(&state, model: call.model, ids: ids)
                return .value(true)
            case "load":
                let answer = try tx.load(&state, model: call.model, fields: args["fields"], data: args["data"],
                                         zone: userZone(caller: caller, context: context))
                entry.createdIDs = answer["ids"]?.arrayValue?.compactMap(\.intValue) ?? []
                return .value(answer)
            case "action_archive", "action_unarchive":
                try tx.setActive(&state, model: call.model, ids: ids, active: spec.name == "action_unarchive")
                return .none
            default:
                throw OdooError.attributeError("The method '\(call.model).\(call.method)' does not exist")
            }
        }
        do {
            let result: MethodResult
            if call.dryRun {
                var scratch = snapshot()
                result = try run(&scratch)
            } else {
                result = try mutate { try run(&$0) }
                entry.applied = true
            }
            record(entry)
            return result
        } catch let error as OdooError {
            entry.error = error.name
            record(entry)
            throw error
        }
    }
}
