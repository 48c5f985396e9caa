import Foundation

/// Bounds taken from top-level AND-ed conditions on `id` and `write_date`; they only narrow the
/// rows visited, the full domain is still evaluated on each of them.
struct IndexHints {
    var writeDateLow: Int64?
    var writeDateHigh: Int64?
    var idLow: Int?
    var idHigh: Int?
    var idSet: Set<Int>?

    static func collect(_ node: DomainNode, schema: ModelSchema, parser: TemporalParser) -> IndexHints {
        var hints = IndexHints()
        var conjuncts: [DomainNode] = []
        func flatten(_ node: DomainNode) {
            if case .and(let nodes) = node { nodes.forEach(flatten) } else { conjuncts.append(node) }
        }
        flatten(node)
        for case .leaf(let leaf) in conjuncts where leaf.path.count == 1 {
            if leaf.field == "id" {
                hints.addID(op: leaf.op, value: leaf.value)
            } else if let index = schema.writeDateField, schema.fieldIndex[leaf.field] == index,
                let (low, high) = ValueTests.datetimeRange(op: leaf.op, value: leaf.value, parser: parser)
            {
                if let low { hints.writeDateLow = max(hints.writeDateLow ?? low, low) }
                if let high { hints.writeDateHigh = min(hints.writeDateHigh ?? high, high) }
            }
        }
        return hints
    }

    private mutating func addID(op: String, value: EmulatorJSON) {
        if op == "in", case .array(let items) = value {
            let ids = Set(items.compactMap(\.intValue))
            idSet = idSet.map { $0.intersection(ids) } ?? ids
            return
        }
        guard let bound = value.intValue, value.boolValue == nil else { return }
        switch op {
        case "=": idSet = idSet.map { $0.intersection([bound]) } ?? [bound]
        case ">": idLow = max(idLow ?? (bound + 1), bound + 1)
        case ">=": idLow = max(idLow ?? bound, bound)
        case "<": idHigh = min(idHigh ?? bound, bound)
        case "<=": idHigh = min(idHigh ?? (bound + 1), bound + 1)
        default: break
        }
    }
}

/// Runs a search: picks the cheapest way to walk candidates, streams when that walk is
/// already in the requested order, otherwise collects and sorts.
struct QueryRunner {
    let table: ModelTable
    let state: StoreState
    let test: RowTest
    let hints: IndexHints
    let order: OrderSpec

    private enum Source {
        case idSet([Int])
        case idRange(Range<Int>)
        case writeDateRange(Range<Int>)
    }

    private func sources(natural: OrderSpec.Natural) -> [(source: Source, count: Int)] {
        var result: [(Source, Int)] = []
        let idStart = hints.idLow.map(table.idPosition(atLeast:)) ?? 0
        let idEnd = hints.idHigh.map(table.idPosition(atLeast:)) ?? table.idIndex.count
        result.append((.idRange(idStart..<max(idStart, idEnd)), max(0, idEnd - idStart)))
        if let set = hints.idSet {
            let ids = set.filter { id in
                (hints.idLow.map { id >= $0 } ?? true) && (hints.idHigh.map { id < $0 } ?? true)
                    && table.slot(of: id) != nil
            }
            result.append((.idSet(ids.sorted()), ids.count))
        }
        // Unbounded too when the order is by write_date: "newest first, limit 1" then reads one row.
        if hints.writeDateLow != nil || hints.writeDateHigh != nil || natural == .writeDateAscending
            || natural == .writeDateDescending {
            let start = hints.writeDateLow.map(table.writeDatePosition(atLeast:)) ?? 0
            let end = hints.writeDateHigh.map(table.writeDatePosition(atLeast:)) ?? table.writeDateIndex.count
            result.append((.writeDateRange(start..<max(start, end)), max(0, end - start)))
        }
        return result
    }

    private func isOrdered(_ source: Source, _ natural: OrderSpec.Natural) -> Bool {
        switch (source, natural) {
        case (.idRange, .idAscending), (.idRange, .idDescending), (.idSet, .idAscending), (.idSet, .idDescending):
            return true
        case (.writeDateRange, .writeDateAscending), (.writeDateRange, .writeDateDescending):
            return true
        default:
            return false
        }
    }

    private func walk(_ source: Source, reversed: Bool, _ visit: (StoredRecord) -> Bool) {
        func emit(_ slot: Int32?) -> Bool {
            guard let slot, let record = table.record(atSlot: slot) else { return true }
            return visit(record)
        }
        switch source {
        case .idSet(let ids):
            for id in (reversed ? ids.reversed() : ids) where !emit(table.slot(of: id)) { return }
        case .idRange(let range):
            let entries = table.idIndex
            if reversed {
                for i in range.reversed() where !emit(entries[i].slot) { return }
            } else {
                for i in range where !emit(entries[i].slot) { return }
            }
        case .writeDateRange(let range):
            let keys = table.writeDateIndex
            if reversed {
                for i in range.reversed() where !emit(keys[i].slot) { return }
            } else {
                for i in range where !emit(keys[i].slot) { return }
            }
        }
    }

    /// Matching rows in order, after `offset`, at most `limit` of them.
    func run(offset: Int, limit: Int?) -> [StoredRecord] {
        let natural = order.natural(schema: table.schema)
        let candidates = sources(natural: natural)
        let smallest = candidates.min { $0.count < $1.count } ?? (.idRange(0..<0), 0)
        let need = limit.map { offset + $0 }
        var chosen = smallest.source
        var streaming = isOrdered(smallest.source, natural)
        if !streaming, let need, let ordered = candidates.first(where: { isOrdered($0.source, natural) }) {
            // Streaming stops after `need` hits; guess how far it walks from the best selectivity known.
            let selectivity = Double(max(smallest.count, 1)) / Double(max(ordered.count, 1))
            let streamCost = min(Double(ordered.count), Double(need) / max(selectivity, 1e-9))
            let sortCost = Double(smallest.count) * (1 + log2(Double(max(smallest.count, 2))) / 4)
            if streamCost < sortCost {
                chosen = ordered.source
                streaming = true
            }
        }
        let reversed = natural == .idDescending || natural == .writeDateDescending
        var result: [StoredRecord] = []
        if streaming {
            var skipped = 0
            walk(chosen, reversed: reversed) { record in
                guard test(record) else { return true }
                if skipped < offset {
                    skipped += 1
                    return true
                }
                result.append(record)
                return need.map { result.count < $0 - offset } ?? true
            }
            return result
        }
        walk(chosen, reversed: false) { record in
            if test(record) { result.append(record) }
            return true
        }
        result.sort(by: order.comparator(table: table, state: state))
        guard offset < result.count else { return [] }
        let end = limit.map { min(result.count, offset + $0) } ?? result.count
        return Array(result[offset..<end])
    }

    func count(limit: Int?) -> Int {
        let smallest = sources(natural: .none).min { $0.count < $1.count }?.source ?? .idRange(0..<0)
        var total = 0
        walk(smallest, reversed: false) { record in
            if test(record) { total += 1 }
            return limit.map { total < $0 } ?? true
        }
        return total
    }
}
