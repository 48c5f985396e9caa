import Foundation

/// A domain in tree form. Odoo domains are prefix-notation lists where `&` and `|` take two
/// operands, `!` one, and whatever remains at top level is AND-ed.
indirect enum DomainNode: Sendable {
    case constant(Bool)
    case and([DomainNode])
    case or([DomainNode])
    case not(DomainNode)
    case leaf(DomainLeaf)
}

struct DomainLeaf: Sendable {
    let path: [String]
    let op: String
    let value: EmulatorJSON
    /// The term as the client sent it, for error messages.
    let raw: [EmulatorJSON]

    var field: String { path[0] }
    var conditionRepr: String { pythonTupleRepr(raw) }
}

enum DomainParser {
    static let operators: Set<String> = [
        "=", "!=", "<=", "<", ">", ">=", "=?", "=like", "=ilike", "like", "not like", "ilike", "not ilike",
        "in", "not in", "child_of", "parent_of", "any", "not any", "not =like", "not =ilike",
    ]

    static func parse(_ domain: EmulatorJSON?) throws -> DomainNode {
        guard let domain, !domain.isNull, domain != .bool(false) else { return .constant(true) }
        guard case .array(let items) = domain else {
            throw OdooError.valueError("Invalid domain: \(pythonRepr(domain))")
        }
        var position = 0
        var nodes: [DomainNode] = []
        while position < items.count {
            nodes.append(try parseTerm(items, &position, whole: domain))
        }
        switch nodes.count {
        case 0: return .constant(true)
        case 1: return nodes[0]
        default: return .and(nodes)
        }
    }

    private static func parseTerm(_ items: [EmulatorJSON], _ position: inout Int, whole: EmulatorJSON) throws
        -> DomainNode
    {
        guard position < items.count else {
            throw OdooError.valueError("Domain \(pythonRepr(whole)) is syntactically not correct.")
        }
        let item = items[position]
        position += 1
        switch item {
        case .string("&"):
            let left = try parseTerm(items, &position, whole: whole)
            return .and([left, try parseTerm(items, &position, whole: whole)])
        case .string("|"):
            let left = try parseTerm(items, &position, whole: whole)
            return .or([left, try parseTerm(items, &position, whole: whole)])
        case .string("!"):
            return .not(try parseTerm(items, &position, whole: whole))
        case .bool(let flag):
            return .constant(flag)
        case .array(let term):
            return try parseLeaf(term)
        default:
            throw OdooError.valueError("Invalid domain term \(pythonRepr(item))")
        }
    }

    private static func parseLeaf(_ term: [EmulatorJSON]) throws -> DomainNode {
        guard term.count == 3 else {
            throw OdooError.valueError("Invalid domain term \(pythonTupleRepr(term))")
        }
        // TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1) survive from older clients.
        if case .int(let left) = term[0], term[1] == .string("="), term[2] == .int(1) {
            return .constant(left == 1)
        }
        guard case .string(let fieldPath) = term[0], case .string(let rawOp) = term[1] else {
            throw OdooError.valueError("Invalid field \(pythonRepr(term[0])) in condition \(pythonTupleRepr(term))")
        }
        var op = rawOp.lowercased()
        if op == "<>" { op = "!=" }
        if op == "==" { op = "=" }
        guard operators.contains(op) else {
            throw OdooError.valueError("Invalid operator in condition \(pythonTupleRepr(term))")
        }
        let path = fieldPath.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        return .leaf(DomainLeaf(path: path, op: op, value: term[2], raw: term))
    }

    /// Odoo's active_test adds `('active', '=', True)` unless the domain already talks about `active`.
    static func mentionsActive(_ node: DomainNode) -> Bool {
        switch node {
        case .constant: return false
        case .and(let nodes), .or(let nodes): return nodes.contains(where: mentionsActive)
        case .not(let inner): return mentionsActive(inner)
        case .leaf(let leaf): return leaf.path.count == 1 && leaf.path[0] == "active"
        }
    }
}

/// A datetime domain value after Odoo 19's rewrite: a start instant and the granularity
/// the comparison works at (one second, or one day for a date-only value).
struct TemporalBound {
    var start: Int64
    var span: Int64
}

/// Reads datetime/date domain values like `odoo.tools.date_utils.parse_date`.
struct TemporalParser {
    let zone: TimeZone
    let nowMicros: Int64
    /// Monday=0 ... Sunday=6; en_US weeks start on Sunday.
    var weekStart = 6

    enum Parsed {
        case instant(Int64)
        case day(Int)
    }

    func parse(_ text: String) throws -> Parsed {
        let digits = text.prefix(while: { $0.isASCII && $0.isNumber })
        if !digits.isEmpty, text.dropFirst(digits.count).first == "-" {
            return try parseISO(text)
        }
        return try parseRelative(text)
    }

    private func parseISO(_ value: String) throws -> Parsed {
        if value.count <= 10 {
            guard let days = parseOdooDate(value) else {
                throw OdooError.valueError("Invalid isoformat string: \(pythonRepr(value))")
            }
            return .day(days)
        }
        let chars = Array(value.utf8)
        guard chars.count >= 11, let days = parseOdooDate(String(decoding: chars[0..<10], as: UTF8.self)) else {
            throw OdooError.valueError("Invalid isoformat string: \(pythonRepr(value))")
        }
        // datetime.fromisoformat: any separator char, then HH[:MM[:SS[.ffffff]]], then an optional offset.
        var rest = String(decoding: chars[11...], as: UTF8.self)
        var hasZone = false
        if rest.hasSuffix("Z") {
            hasZone = true
            rest.removeLast()
        } else if let signIndex = rest.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            hasZone = true
            rest = String(rest[..<signIndex])
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else {
            throw OdooError.valueError("Invalid isoformat string: \(pythonRepr(value))")
        }
        var numbers: [Int] = []
        var fraction = 0
        for (n, part) in parts.enumerated() {
            var text = Substring(part)
            if n == 2, let dot = text.firstIndex(where: { $0 == "." || $0 == "," }) {
                let digits = text[text.index(after: dot)...]
                guard (1...6).contains(digits.count), let f = Int(digits) else {
                    throw OdooError.valueError("Invalid isoformat string: \(pythonRepr(value))")
                }
                fraction = f * Int(pow(10, Double(6 - digits.count)))
                text = text[..<dot]
            }
            guard text.count == 2, let number = Int(text) else {
                throw OdooError.valueError("Invalid isoformat string: \(pythonRepr(value))")
            }
            numbers.append(number)
        }
        while numbers.count < 3 { numbers.append(0) }
        guard numbers[0] < 24, numbers[1] < 60, numbers[2] < 60 else {
            throw OdooError.valueError("Invalid isoformat string: \(pythonRepr(value))")
        }
        if hasZone {
            throw OdooError.valueError("expecting only datetimes with no timezone: \(pythonRepr(value))")
        }
        let micros = Int64(days) * TimeUtil.microsPerDay
            + Int64(numbers[0] * 3600 + numbers[1] * 60 + numbers[2]) * TimeUtil.microsPerSecond + Int64(fraction)
        return .instant(micros)
    }

    private func parseRelative(_ value: String) throws -> Parsed {
        var terms = value.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        guard !terms.isEmpty else { throw OdooError.valueError("Empty date value") }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var isDate = false
        if terms[0] == "today" || terms[0] == "now" {
            isDate = terms.removeFirst() == "today"
        }
        var current = Date(timeIntervalSince1970: Double(nowMicros) / 1_000_000)
        if isDate { current = calendar.startOfDay(for: current) }
        let units: [Character: Calendar.Component] = [
            "d": .day, "w": .weekOfYear, "m": .month, "y": .year, "H": .hour, "M": .minute, "S": .second,
        ]
        let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        func invalid(_ term: String) -> OdooError {
            OdooError.valueError("Invalid term \(pythonRepr(term)) in expression date: \(pythonRepr(value))")
        }
        for term in terms {
            guard let op = term.first, "+-=".contains(op), term.count >= 3 else { throw invalid(term) }
            let name = String(term.dropFirst())
            if let dayNumber = weekdays.firstIndex(of: name) ?? (name == "week_start" ? weekStart : nil) {
                let weekday = (calendar.component(.weekday, from: current) + 5) % 7
                var offset = ((dayNumber - weekStart + 7) % 7) - ((weekday - weekStart + 7) % 7)
                if op == "+" && offset < 0 { offset += 7 }
                if op == "-" && offset > 0 { offset -= 7 }
                if op == "=" { current = calendar.startOfDay(for: current) }
                current = calendar.date(byAdding: .day, value: offset, to: current) ?? current
                continue
            }
            guard let unitChar = term.last, let unit = units[unitChar] else { throw invalid(term) }
            let digits = op == "=" ? String(term.dropFirst().dropLast()) : String(term.dropLast())
            guard let number = Int(digits) else { throw invalid(term) }
            if op == "=" {
                guard unit != .weekOfYear else { throw invalid(term) }
                var parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: current)
                switch unit {
                case .year: parts.year = number; parts.hour = 0; parts.minute = 0; parts.second = 0
                case .month: parts.month = number; parts.hour = 0; parts.minute = 0; parts.second = 0
                case .day: parts.day = number; parts.hour = 0; parts.minute = 0; parts.second = 0
                case .hour: parts.hour = number; parts.minute = 0; parts.second = 0
                case .minute: parts.minute = number; parts.second = 0
                default: parts.second = number
                }
                guard let next = calendar.date(from: parts) else { throw invalid(term) }
                current = next
            } else {
                if isDate && [.hour, .minute, .second].contains(unit) { isDate = false }
                current = calendar.date(byAdding: unit, value: number, to: current) ?? current
            }
        }
        if isDate {
            let parts = calendar.dateComponents([.year, .month, .day], from: current)
            return .day(TimeUtil.daysFromCivil(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1))
        }
        return .instant(TimeUtil.micros(of: current))
    }

    /// The [start, start + span) window a datetime comparison is rewritten against.
    func bound(for text: String) throws -> TemporalBound {
        switch try parse(text) {
        case .instant(let micros):
            let (days, inDay) = TimeUtil.split(micros)
            let second = Int64(days) * TimeUtil.microsPerDay + inDay / TimeUtil.microsPerSecond * TimeUtil.microsPerSecond
            return TemporalBound(start: second, span: TimeUtil.microsPerSecond)
        case .day(let days):
            // A bare date means midnight in the user's (or context's) timezone.
            let localMidnight = Int64(days) * TimeUtil.microsPerDay
            let start = TimeUtil.utc(fromLocal: localMidnight, zone: zone)
            let end = TimeUtil.utc(fromLocal: localMidnight + TimeUtil.microsPerDay, zone: zone)
            return TemporalBound(start: start, span: end - start)
        }
    }

    /// A date field's value as "YYYY-MM-DD".
    func dateString(for text: String) throws -> String {
        switch try parse(text) {
        case .day(let days): return TimeUtil.formatDate(days: days)
        case .instant(let micros): return TimeUtil.formatDate(days: TimeUtil.split(micros).days)
        }
    }
}
