import Foundation

/// Per-type condition builders. SQL semantics apply: NULL never compares, except that Odoo
/// turns `!=`, `not in` and `not like` into "... OR IS NULL".
enum ValueTests {
    static func badText(_ text: String, typeName: String) -> OdooError {
        OdooError.psycopg(
            "psycopg2.errors.InvalidTextRepresentation", "invalid input syntax for type \(typeName): \"\(text)\"\n")
    }

    private static func isFalse(_ value: EmulatorJSON) -> Bool {
        value.isNull || value == .bool(false)
    }

    private static func listItems(_ value: EmulatorJSON) -> [EmulatorJSON] {
        if case .array(let items) = value { return items }
        return [value]
    }

    // MARK: numbers

    static func integer(
        op: String, value: EmulatorJSON, leaf: DomainLeaf, typeName: String,
        _ get: @escaping (StoredRecord) -> Int?
    ) throws -> RowTest {
        func number(_ item: EmulatorJSON) throws -> Double? {
            switch item {
            case .int(let i): return Double(i)
            case .double(let d): return d
            case .bool(true): return 1
            case .string(let s):
                guard let parsed = Double(s.trimmingCharacters(in: .whitespaces)) else {
                    throw badText(s, typeName: typeName)
                }
                return parsed
            case .array(let pair) where pair.count == 2 && pair[0].intValue != nil:
                return pair[0].intValue.map(Double.init)
            default: return nil
            }
        }
        return try numeric(op: op, value: value, leaf: leaf, parse: number) { record in get(record).map(Double.init) }
    }

    static func float(
        op: String, value: EmulatorJSON, leaf: DomainLeaf, typeName: String, _ get: @escaping (StoredRecord) -> Double
    ) throws -> RowTest {
        func number(_ item: EmulatorJSON) throws -> Double? {
            switch item {
            case .int(let i): return Double(i)
            case .double(let d): return d
            case .bool(true): return 1
            case .string(let s):
                guard let parsed = Double(s.trimmingCharacters(in: .whitespaces)) else {
                    throw badText(s, typeName: typeName)
                }
                return parsed
            default: return nil
            }
        }
        return try numeric(op: op, value: value, leaf: leaf, parse: number) { Optional(get($0)) }
    }

    private static func numeric(
        op: String, value: EmulatorJSON, leaf: DomainLeaf, parse: (EmulatorJSON) throws -> Double?,
        get: @escaping (StoredRecord) -> Double?
    ) throws -> RowTest {
        switch op {
        case "in", "not in":
            var set = Set<Double>()
            var withNull = false
            for item in listItems(value) {
                if isFalse(item) { withNull = true } else if let n = try parse(item) { set.insert(n) }
            }
            let negate = op == "not in"
            return { record in
                guard let v = get(record) else { return negate ? !withNull : withNull }
                return set.contains(v) != negate
            }
        case "like", "ilike", "=like", "=ilike", "not like", "not ilike", "not =like", "not =ilike":
            let pattern = try LikePattern(op: op, value: value, leaf: leaf)
            return { record in pattern.matches(get(record).map { $0.rounded() == $0 ? String(Int($0)) : String($0) }) }
        default:
            break
        }
        if isFalse(value) {
            switch op {
            case "=": return { get($0) == nil }
            case "!=": return { get($0) != nil }
            default: return { _ in false }
            }
        }
        guard let target = try parse(value) else {
            throw OdooError.valueError("Invalid value \(pythonRepr(value)) in condition \(leaf.conditionRepr)")
        }
        switch op {
        case "=": return { get($0) == target }
        case "!=": return { record in get(record).map { $0 != target } ?? true }
        case "<": return { record in get(record).map { $0 < target } ?? false }
        case "<=": return { record in get(record).map { $0 <= target } ?? false }
        case ">": return { record in get(record).map { $0 > target } ?? false }
        case ">=": return { record in get(record).map { $0 >= target } ?? false }
        default: throw OdooError.valueError("Invalid operator in condition \(leaf.conditionRepr)")
        }
    }

    // MARK: booleans

    static func boolean(op: String, value: EmulatorJSON, leaf: DomainLeaf, _ get: @escaping (StoredRecord) -> Bool)
        throws -> RowTest
    {
        func flag(_ item: EmulatorJSON) -> Bool { item.truthy }
        switch op {
        case "=":
            let wanted = flag(value)
            return { get($0) == wanted }
        case "!=":
            let wanted = flag(value)
            return { get($0) != wanted }
        case "in", "not in":
            let wanted = Set(listItems(value).map(flag))
            let negate = op == "not in"
            return { wanted.contains(get($0)) != negate }
        default:
            let wanted: Double = flag(value) ? 1 : 0
            return try numeric(op: op, value: .double(wanted), leaf: leaf, parse: { $0.doubleValue }) {
                get($0) ? 1 : 0
            }
        }
    }

    // MARK: text

    static func text(
        op: String, value: EmulatorJSON, leaf: DomainLeaf, emptyIsFalse: Bool, _ get: @escaping (StoredRecord) -> String?
    ) throws -> RowTest {
        func string(_ item: EmulatorJSON) -> String? {
            switch item {
            case .string(let s): return s
            case .int(let i): return String(i)
            case .double(let d): return pythonFloatRepr(d)
            case .bool(true): return "True"
            default: return nil
            }
        }
        // Odoo treats '' like NULL when comparing a char field to False.
        let isEmpty: (StoredRecord) -> Bool = { record in
            guard let v = get(record) else { return true }
            return emptyIsFalse && v.isEmpty
        }
        switch op {
        case "in", "not in":
            var set = Set<String>()
            var withNull = false
            for item in listItems(value) {
                if isFalse(item) { withNull = true } else if let s = string(item) { set.insert(s) }
            }
            let negate = op == "not in"
            return { record in
                guard let v = get(record) else { return negate ? !withNull : withNull }
                return set.contains(v) != negate
            }
        case "like", "ilike", "=like", "=ilike", "not like", "not ilike", "not =like", "not =ilike":
            if isFalse(value) {
                let negate = op.hasPrefix("not")
                return { isEmpty($0) != negate }
            }
            let pattern = try LikePattern(op: op, value: value, leaf: leaf)
            return { pattern.matches(get($0)) }
        default:
            break
        }
        if isFalse(value) {
            switch op {
            case "=": return isEmpty
            case "!=": return { !isEmpty($0) }
            default: return { _ in false }
            }
        }
        guard let target = string(value) else {
            throw OdooError.valueError("Invalid value \(pythonRepr(value)) in condition \(leaf.conditionRepr)")
        }
        switch op {
        case "=": return { get($0) == target }
        case "!=": return { record in get(record).map { $0 != target } ?? true }
        case "<": return { record in get(record).map { $0 < target } ?? false }
        case "<=": return { record in get(record).map { $0 <= target } ?? false }
        case ">": return { record in get(record).map { $0 > target } ?? false }
        case ">=": return { record in get(record).map { $0 >= target } ?? false }
        default: throw OdooError.valueError("Invalid operator in condition \(leaf.conditionRepr)")
        }
    }

    // MARK: datetimes

    /// Odoo 19 compares datetimes at whole-second (or whole-day) granularity:
    /// `> X` is `>= X + 1s`, `= X` is `[X, X + 1s)`, `<= X` is `< X + 1s`.
    static func datetime(
        op: String, value: EmulatorJSON, leaf: DomainLeaf, parser: TemporalParser,
        _ get: @escaping (StoredRecord) -> Int64?
    ) throws -> RowTest {
        func bound(_ item: EmulatorJSON) throws -> TemporalBound? {
            switch item {
            case .string(let s): return try parser.bound(for: s)
            case .null, .bool(false): return nil
            default:
                throw OdooError.valueError("Invalid value \(pythonRepr(item)) in condition \(leaf.conditionRepr)")
            }
        }
        switch op {
        case "in", "not in":
            var windows: [TemporalBound] = []
            var withNull = false
            for item in listItems(value) {
                if let window = try bound(item) { windows.append(window) } else { withNull = true }
            }
            let negate = op == "not in"
            return { record in
                guard let v = get(record) else { return negate ? !withNull : withNull }
                return windows.contains { v >= $0.start && v < $0.start + $0.span } != negate
            }
        case "like", "ilike", "=like", "=ilike", "not like", "not ilike", "not =like", "not =ilike":
            let pattern = try LikePattern(op: op, value: value, leaf: leaf)
            return { pattern.matches(get($0).map(TimeUtil.formatDateTime)) }
        default:
            break
        }
        guard let window = try bound(value) else {
            switch op {
            case "=": return { get($0) == nil }
            case "!=": return { get($0) != nil }
            default: return { _ in false }
            }
        }
        let (start, end) = (window.start, window.start + window.span)
        switch op {
        case "=": return { record in get(record).map { $0 >= start && $0 < end } ?? false }
        case "!=": return { record in get(record).map { $0 < start || $0 >= end } ?? true }
        case ">": return { record in get(record).map { $0 >= end } ?? false }
        case ">=": return { record in get(record).map { $0 >= start } ?? false }
        case "<": return { record in get(record).map { $0 < start } ?? false }
        case "<=": return { record in get(record).map { $0 < end } ?? false }
        default: throw OdooError.valueError("Invalid operator in condition \(leaf.conditionRepr)")
        }
    }

    /// The micros window a top-level write_date condition allows, for index narrowing.
    static func datetimeRange(op: String, value: EmulatorJSON, parser: TemporalParser) -> (Int64?, Int64?)? {
        guard case .string(let text) = value, let window = try? parser.bound(for: text) else { return nil }
        let (start, end) = (window.start, window.start + window.span)
        switch op {
        case "=": return (start, end)
        case ">": return (end, nil)
        case ">=": return (start, nil)
        case "<": return (nil, start)
        case "<=": return (nil, end)
        default: return nil
        }
    }
}

/// SQL LIKE / ILIKE with `%` and `_`; `like`/`ilike` wrap the value in `%...%` as Odoo does.
struct LikePattern {
    let negate: Bool
    let caseInsensitive: Bool
    let needle: [Character]
    let plainSubstring: String?

    init(op: String, value: EmulatorJSON, leaf: DomainLeaf) throws {
        negate = op.hasPrefix("not ")
        let base = negate ? String(op.dropFirst(4)) : op
        caseInsensitive = base.hasSuffix("ilike")
        var text: String
        switch value {
        case .string(let s): text = s
        case .int(let i): text = String(i)
        case .double(let d): text = pythonFloatRepr(d)
        default:
            throw OdooError.valueError("Invalid value \(pythonRepr(value)) in condition \(leaf.conditionRepr)")
        }
        if caseInsensitive { text = text.lowercased() }
        let anchored = base.hasPrefix("=")
        if !anchored && !text.contains("%") && !text.contains("_") {
            plainSubstring = text
        } else {
            plainSubstring = nil
        }
        needle = Array(anchored ? text : "%" + text + "%")
    }

    func matches(_ candidate: String?) -> Bool {
        guard let candidate else { return negate }
        let haystack = caseInsensitive ? candidate.lowercased() : candidate
        let hit: Bool
        if let plainSubstring {
            hit = plainSubstring.isEmpty || haystack.contains(plainSubstring)
        } else {
            hit = LikePattern.match(Array(haystack), needle)
        }
        return hit != negate
    }

    private static func match(_ text: [Character], _ pattern: [Character]) -> Bool {
        var t = 0
        var p = 0
        var star = -1
        var mark = 0
        while t < text.count {
            if p < pattern.count && (pattern[p] == "_" || pattern[p] == text[t]) && pattern[p] != "%" {
                t += 1
                p += 1
            } else if p < pattern.count && pattern[p] == "%" {
                star = p
                mark = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                mark += 1
                t = mark
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == "%" { p += 1 }
        return p == pattern.count
    }
}
