import Foundation

typealias RowTest = (StoredRecord) -> Bool

/// What a domain is evaluated against: the database snapshot and the caller's context.
struct QueryEnv {
    let state: StoreState
    let uid: Int
    let activeTest: Bool
    let temporal: TemporalParser
    /// Extra condition a record rule imposes on searches.
    var recordRule: DomainNode?
}

/// Turns a domain tree into a closure over stored rows, checking fields, operators and
/// values the way Odoo 19 does and reproducing its error messages.
struct DomainCompiler {
    let env: QueryEnv

    func compile(_ node: DomainNode, table: ModelTable) throws -> RowTest {
        switch node {
        case .constant(let flag):
            return { _ in flag }
        case .and(let nodes):
            let tests = try nodes.map { try compile($0, table: table) }
            if tests.count == 2 {
                let (a, b) = (tests[0], tests[1])
                return { a($0) && b($0) }
            }
            return { record in tests.allSatisfy { $0(record) } }
        case .or(let nodes):
            let tests = try nodes.map { try compile($0, table: table) }
            return { record in tests.contains { $0(record) } }
        case .not(let inner):
            let test = try compile(inner, table: table)
            return { !test($0) }
        case .leaf(let leaf):
            return try compileLeaf(leaf, pathIndex: 0, table: table)
        }
    }

    private func invalidField(_ leaf: DomainLeaf, model: String, name: String) -> OdooError {
        OdooError.valueError("Invalid field \(model).\(name) in condition \(leaf.conditionRepr)")
    }

    func compileLeaf(_ leaf: DomainLeaf, pathIndex: Int, table: ModelTable) throws -> RowTest {
        let schema = table.schema
        let name = leaf.path[pathIndex]
        guard let field = schema.field(name) else { throw invalidField(leaf, model: schema.name, name: name) }
        let index = field.index

        if pathIndex + 1 < leaf.path.count {
            return try compilePath(leaf, pathIndex: pathIndex, field: field, table: table)
        }
        if leaf.op == "=?" {
            if leaf.value.isNull || leaf.value == .bool(false) { return { _ in true } }
            return try compileLeaf(
                DomainLeaf(path: leaf.path, op: "=", value: leaf.value, raw: leaf.raw), pathIndex: pathIndex,
                table: table)
        }
        if leaf.op == "any" || leaf.op == "not any" {
            return try compileAny(leaf, field: field, negate: leaf.op == "not any")
        }
        let op = leaf.op == "child_of" || leaf.op == "parent_of" ? "in" : leaf.op
        if name == "id" {
            return try ValueTests.integer(op: op, value: leaf.value, leaf: leaf, typeName: "integer") { $0.id }
        }
        if name == "display_name" {
            // Computed from the name when the fixtures do not store it, as _rec_name search does.
            return try ValueTests.text(op: op, value: leaf.value, leaf: leaf, emptyIsFalse: true) { record in
                ModelTable.displayName(of: record, schema: schema)
            }
        }
        switch field.kind {
        case .integer:
            return try ValueTests.integer(op: op, value: leaf.value, leaf: leaf, typeName: "integer") { record in
                if case .int(let v) = record.values[index] { return v }
                return 0
            }
        case .float, .monetary:
            return try ValueTests.float(
                op: op, value: leaf.value, leaf: leaf, typeName: field.kind == .monetary ? "numeric" : "double precision"
            ) { record in
                if case .float(let v) = record.values[index] { return v }
                return 0
            }
        case .boolean:
            return try ValueTests.boolean(op: op, value: leaf.value, leaf: leaf) { record in
                if case .bool(let v) = record.values[index] { return v }
                return false
            }
        case .char, .text, .html, .selection:
            return try ValueTests.text(op: op, value: leaf.value, leaf: leaf, emptyIsFalse: field.kind != .selection) {
                record in
                if case .text(let v) = record.values[index] { return v }
                return nil
            }
        case .date:
            let normalized = try normalizeDateValue(leaf.value)
            return try ValueTests.text(op: op, value: normalized, leaf: leaf, emptyIsFalse: false) { record in
                if case .text(let v) = record.values[index] { return v }
                return nil
            }
        case .datetime:
            return try ValueTests.datetime(op: op, value: leaf.value, leaf: leaf, parser: env.temporal) { record in
                if case .datetime(let v) = record.values[index] { return v }
                return nil
            }
        case .many2one:
            return try compileMany2one(leaf, op: op, field: field)
        case .one2many, .many2many:
            return try compileX2many(leaf, op: op, field: field)
        case .other(let type):
            throw OdooError.valueError("The emulator cannot filter on \(type) field \(schema.name).\(name)")
        }
    }

    private func normalizeDateValue(_ value: EmulatorJSON) throws -> EmulatorJSON {
        switch value {
        case .string(let s): return .string(try env.temporal.dateString(for: s))
        case .array(let items): return .array(try items.map(normalizeDateValue))
        default: return value
        }
    }

    /// Related ids whose display name satisfies a text operator (`stage_id ilike 'new'`).
    private func relatedIDs(matchingName value: EmulatorJSON, op: String, leaf: DomainLeaf, relation: String) throws
        -> Set<Int>
    {
        guard let related = env.state.tables[relation] else { return [] }
        let test = try ValueTests.text(op: op, value: value, leaf: leaf, emptyIsFalse: true) { record in
            ModelTable.displayName(of: record, schema: related.schema)
        }
        var ids = Set<Int>()
        for id in related.idsAscending {
            if let record = related.record(id: id), test(record) { ids.insert(id) }
        }
        return ids
    }

    private func compileMany2one(_ leaf: DomainLeaf, op: String, field: FieldDef) throws -> RowTest {
        let index = field.index
        let current: (StoredRecord) -> Int? = { record in
            if case .ref(let id) = record.values[index] { return id }
            return nil
        }
        let hasText: Bool
        switch leaf.value {
        case .string: hasText = true
        case .array(let items): hasText = items.contains { $0.stringValue != nil }
        default: hasText = false
        }
        guard hasText, let relation = field.relation else {
            return try ValueTests.integer(op: op, value: leaf.value, leaf: leaf, typeName: "integer", current)
        }
        // Strings on a many2one search the related records by name.
        let positive: String
        switch op {
        case "!=": positive = "="
        case "not in": positive = "in"
        case "not like": positive = "like"
        case "not ilike": positive = "ilike"
        case "not =like": positive = "=like"
        case "not =ilike": positive = "=ilike"
        default: positive = op
        }
        let ids = try relatedIDs(matchingName: leaf.value, op: positive, leaf: leaf, relation: relation)
        if positive == op {
            return { record in current(record).map(ids.contains) ?? false }
        }
        return { record in current(record).map { !ids.contains($0) } ?? true }
    }

    private func compileX2many(_ leaf: DomainLeaf, op: String, field: FieldDef) throws -> RowTest {
        let index = field.index
        let current: (StoredRecord) -> [Int] = { record in
            if case .ids(let ids) = record.values[index] { return ids }
            return []
        }
        var wanted = Set<Int>()
        var falseMeansEmpty = false
        let negative = ["!=", "not in", "not like", "not ilike", "not =like", "not =ilike"].contains(op)
        switch leaf.value {
        case .null, .bool(false): falseMeansEmpty = true
        case .int, .double:
            if let id = leaf.value.intValue { wanted = [id] }
        case .array(let items):
            for item in items {
                if let id = item.intValue { wanted.insert(id) } else if item.stringValue != nil, let relation = field.relation {
                    wanted.formUnion(try relatedIDs(matchingName: item, op: "=", leaf: leaf, relation: relation))
                }
            }
        case .string:
            guard let relation = field.relation else { break }
            let positive = negative ? String(op.dropFirst(op.hasPrefix("not ") ? 4 : 1)) : op
            wanted = try relatedIDs(
                matchingName: leaf.value, op: positive == "" ? "=" : positive, leaf: leaf, relation: relation)
        default:
            throw OdooError.valueError("Invalid value \(pythonRepr(leaf.value)) in condition \(leaf.conditionRepr)")
        }
        guard ["=", "!=", "in", "not in", "like", "ilike", "=like", "=ilike"].contains(op) || negative else {
            throw OdooError.valueError("Invalid operator in condition \(leaf.conditionRepr)")
        }
        if falseMeansEmpty {
            return negative ? { !current($0).isEmpty } : { current($0).isEmpty }
        }
        if negative {
            return { record in !current(record).contains(where: wanted.contains) }
        }
        return { record in current(record).contains(where: wanted.contains) }
    }

    /// `partner_id.name ilike 'x'`: evaluate the rest of the path on the related model, then
    /// keep rows linked to a match. Many2one sub-searches ignore active_test, like the ORM.
    private func compilePath(_ leaf: DomainLeaf, pathIndex: Int, field: FieldDef, table: ModelTable) throws -> RowTest {
        guard let relation = field.relation, field.kind == .many2one || field.kind.isX2Many else {
            throw invalidField(leaf, model: table.schema.name, name: leaf.path[pathIndex...].joined(separator: "."))
        }
        guard let related = env.state.tables[relation] else {
            throw invalidField(leaf, model: relation, name: leaf.path[pathIndex + 1])
        }
        let test = try compileLeaf(leaf, pathIndex: pathIndex + 1, table: related)
        let activeIndex = field.kind.isX2Many && env.activeTest ? related.schema.activeField : nil
        var ids = Set<Int>()
        for id in related.idsAscending {
            guard let record = related.record(id: id) else { continue }
            if let activeIndex, record.values[activeIndex] == .bool(false) { continue }
            if test(record) { ids.insert(id) }
        }
        return relationTest(field: field, ids: ids, negate: false)
    }

    private func compileAny(_ leaf: DomainLeaf, field: FieldDef, negate: Bool) throws -> RowTest {
        guard let relation = field.relation, let related = env.state.tables[relation] else {
            throw OdooError.valueError("Invalid operator in condition \(leaf.conditionRepr)")
        }
        let sub = try DomainParser.parse(leaf.value)
        let test = try compile(sub, table: related)
        var ids = Set<Int>()
        for id in related.idsAscending {
            if let record = related.record(id: id), test(record) { ids.insert(id) }
        }
        return relationTest(field: field, ids: ids, negate: negate)
    }

    private func relationTest(field: FieldDef, ids: Set<Int>, negate: Bool) -> RowTest {
        let index = field.index
        return { record in
            let hit: Bool
            switch record.values[index] {
            case .ref(let id): hit = ids.contains(id)
            case .ids(let linked): hit = linked.contains(where: ids.contains)
            default: hit = false
            }
            return hit != negate
        }
    }
}
