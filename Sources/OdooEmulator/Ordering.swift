import Foundation

struct OrderTerm: Sendable {
    /// nil means the `id` pseudo-column when the schema has no `id` entry.
    let field: FieldDef?
    let isID: Bool
    let descending: Bool
    let nullsFirst: Bool
}

/// A parsed `order` clause, validated like `BaseModel._order_to_sql`.
struct OrderSpec {
    let terms: [OrderTerm]

    enum Natural { case idAscending, idDescending, writeDateAscending, writeDateDescending, none }

    /// Whether rows come out in an order one of the table's indexes already has.
    func natural(schema: ModelSchema) -> Natural {
        if terms.count == 1, terms[0].isID, terms[0].nullsFirst == terms[0].descending {
            return terms[0].descending ? .idDescending : .idAscending
        }
        if terms.count == 2, let first = terms[0].field, first.index == schema.writeDateField, terms[1].isID,
            terms[0].descending == terms[1].descending
        {
            return terms[0].descending ? .writeDateDescending : .writeDateAscending
        }
        // A lone write_date sort is still index order; the id tie-break is one valid order among equals.
        if terms.count == 1, let first = terms[0].field, first.index == schema.writeDateField {
            return terms[0].descending ? .writeDateDescending : .writeDateAscending
        }
        return .none
    }

    static func invalidOrder(_ text: String) -> OdooError {
        OdooError.userError(
            "Invalid \"order\" specified (\(text)). A valid \"order\" specification is a comma-separated list of valid field names (optionally followed by asc/desc for the direction)"
        )
    }

    static func parse(_ text: String, schema: ModelSchema) throws -> OrderSpec {
        var terms: [OrderTerm] = []
        let pieces = text.split(separator: ",", omittingEmptySubsequences: false)
        for piece in pieces {
            let words = piece.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
            guard let rawName = words.first else { throw invalidOrder(text) }
            var name = rawName
            if name.hasPrefix("\"") && name.hasSuffix("\"") && name.count > 2 { name = String(name.dropFirst().dropLast()) }
            if name.hasSuffix(".id") { name = String(name.dropLast(3)) }
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }), !name.isEmpty
            else { throw invalidOrder(text) }
            var descending = false
            var nullsFirst: Bool?
            var rest = words.dropFirst().map { $0.lowercased() }
            if let direction = rest.first, direction == "asc" || direction == "desc" {
                descending = direction == "desc"
                rest.removeFirst()
            }
            if rest.count == 2, rest[0] == "nulls", rest[1] == "first" || rest[1] == "last" {
                nullsFirst = rest[1] == "first"
                rest.removeAll()
            }
            guard rest.isEmpty else { throw invalidOrder(text) }
            let field = schema.field(name)
            guard field != nil || name == "id" else {
                throw OdooError.valueError("Invalid field \(pythonRepr(name)) on model \(pythonRepr(schema.name))")
            }
            if let field, field.kind.isX2Many { continue }
            // PostgreSQL puts NULLs last ascending and first descending unless told otherwise.
            terms.append(
                OrderTerm(field: field, isID: name == "id", descending: descending, nullsFirst: nullsFirst ?? descending))
        }
        return OrderSpec(terms: terms)
    }

    /// A strict "comes before" over stored rows; ties fall back to id so paging is stable.
    func comparator(table: ModelTable, state: StoreState) -> (StoredRecord, StoredRecord) -> Bool {
        var ranks: [Int: [Int: Int]] = [:]
        for term in terms {
            guard let field = term.field, field.kind == .many2one, let relation = field.relation,
                ranks[field.index] == nil, let related = state.tables[relation]
            else { continue }
            ranks[field.index] = OrderSpec.rankMap(related, state: state)
        }
        let terms = self.terms
        return { a, b in
            for term in terms {
                let result: Int
                if term.isID {
                    result = a.id == b.id ? 0 : (a.id < b.id ? -1 : 1)
                } else if let field = term.field {
                    result = OrderSpec.compare(
                        a.values[field.index], b.values[field.index], ranks: ranks[field.index], nullsFirst: term.nullsFirst,
                        descending: term.descending)
                } else {
                    result = 0
                }
                if result != 0 { return term.descending ? result > 0 : result < 0 }
            }
            return a.id < b.id
        }
    }

    /// Position of each related record in that model's default order (ordering by a many2one
    /// orders by the comodel's `_order`).
    static func rankMap(_ table: ModelTable, state: StoreState) -> [Int: Int] {
        guard let spec = try? OrderSpec.parse(table.schema.defaultOrder, schema: table.schema) else { return [:] }
        let plain = OrderSpec(terms: spec.terms.filter { $0.field?.kind != .many2one })
        let compare = plain.comparator(table: table, state: state)
        let records = table.idsAscending.compactMap(table.record(id:)).sorted(by: compare)
        var ranks: [Int: Int] = [:]
        for (position, record) in records.enumerated() { ranks[record.id] = position }
        return ranks
    }

    /// Three-way comparison in ascending terms; null placement is folded in so that flipping
    /// the result for DESC keeps NULLs where PostgreSQL puts them.
    static func compare(_ a: FieldValue, _ b: FieldValue, ranks: [Int: Int]?, nullsFirst: Bool, descending: Bool) -> Int {
        let aNull = a == .null
        let bNull = b == .null
        if aNull || bNull {
            if aNull && bNull { return 0 }
            let nullBefore = nullsFirst != descending
            return aNull == nullBefore ? -1 : 1
        }
        switch (a, b) {
        case let (.int(x), .int(y)): return x == y ? 0 : (x < y ? -1 : 1)
        case let (.float(x), .float(y)): return x == y ? 0 : (x < y ? -1 : 1)
        case let (.bool(x), .bool(y)): return x == y ? 0 : (!x ? -1 : 1)
        case let (.datetime(x), .datetime(y)): return x == y ? 0 : (x < y ? -1 : 1)
        case let (.text(x), .text(y)): return x == y ? 0 : (x < y ? -1 : 1)
        case let (.ref(x), .ref(y)):
            let rx = ranks?[x] ?? x
            let ry = ranks?[y] ?? y
            return rx == ry ? 0 : (rx < ry ? -1 : 1)
        default: return 0
        }
    }
}
