import Foundation

/// A change requested for one field by `write`/`create`.
enum FieldChange {
    case set(FieldValue)
    case x2many([X2ManyCommand])
}

/// Odoo's x2many command tuples (`Command.set`, `Command.link`, ...).
enum X2ManyCommand {
    case create(EmulatorJSON)
    case update(Int, EmulatorJSON)
    case delete(Int)
    case unlink(Int)
    case link(Int)
    case clear
    case set([Int])
}

/// Converts client values to stored values the way the ORM's `convert_to_cache` does,
/// raising the same exceptions for bad input.
struct ValueCoercion {
    let schema: ModelSchema
    let state: StoreState

    func change(for field: FieldDef, value: EmulatorJSON) throws -> FieldChange {
        if field.kind.isX2Many { return .x2many(try commands(value)) }
        return .set(try stored(field: field, value: value))
    }

    func stored(field: FieldDef, value: EmulatorJSON) throws -> FieldValue {
        let isFalse = value.isNull || value == .bool(false)
        switch field.kind {
        case .char, .text, .html:
            if isFalse { return .null }
            switch value {
            case .string(let s): return .text(s)
            case .int(let i): return .text(String(i))
            case .double(let d): return .text(pythonFloatRepr(d))
            case .bool(true): return .text("True")
            default: return .text(pythonRepr(value))
            }
        case .selection:
            if isFalse { return .null }
            guard case .string(let key) = value, field.selectionKeys.isEmpty || field.selectionKeys.contains(key) else {
                throw OdooError.valueError("Wrong value for \(schema.name).\(field.name): \(pythonRepr(value))")
            }
            return .text(key)
        case .integer:
            switch value {
            case .null, .bool(false): return .int(0)
            case .bool(true): return .int(1)
            case .int(let i): return .int(i)
            case .double(let d): return .int(Int(d.rounded(.towardZero)))
            case .string(let s):
                guard let i = Int(s.trimmingCharacters(in: .whitespaces)) else {
                    throw OdooError.valueError("invalid literal for int() with base 10: \(pythonRepr(s))")
                }
                return .int(i)
            default:
                throw OdooError.typeError("int() argument must be a string, a bytes-like object or a real number")
            }
        case .float, .monetary:
            switch value {
            case .null, .bool(false): return .float(0)
            case .bool(true): return .float(1)
            case .int(let i): return .float(Double(i))
            case .double(let d): return .float(d)
            case .string(let s):
                guard let d = Double(s.trimmingCharacters(in: .whitespaces)) else {
                    throw OdooError.valueError("could not convert string to float: \(pythonRepr(s))")
                }
                return .float(d)
            default:
                throw OdooError.typeError("float() argument must be a string or a real number")
            }
        case .boolean:
            return .bool(value.truthy)
        case .date:
            if isFalse { return .null }
            guard case .string(let text) = value else {
                throw OdooError.typeError("strptime() argument 1 must be str, not \(pythonTypeName(value))")
            }
            // Date.to_date keeps the first ten characters, so a datetime string is accepted.
            let parts = try PyStrptime.parse(String(text.prefix(10)), format: "%Y-%m-%d")
            return .text(TimeUtil.formatDate(days: TimeUtil.daysFromCivil(year: parts.year, month: parts.month, day: parts.day)))
        case .datetime:
            if isFalse { return .null }
            guard case .string(let text) = value else {
                throw OdooError.typeError("strptime() argument 1 must be str, not \(pythonTypeName(value))")
            }
            // Datetime.to_datetime parses with DATETIME_FORMAT[:len(value) - 2], hence "2026-12-31" works.
            let full = Array("%Y-%m-%d %H:%M:%S")
            let format = String(full.prefix(max(0, text.count - 2)))
            let p = try PyStrptime.parse(text, format: format)
            return .datetime(
                TimeUtil.micros(year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute, second: p.second))
        case .many2one:
            if isFalse { return .null }
            var candidate = value
            if case .array(let pair) = value, let first = pair.first { candidate = first }
            guard let id = candidate.intValue else {
                throw OdooError.typeError("Invalid many2one value \(pythonRepr(value)) for \(schema.name).\(field.name)")
            }
            if let relation = field.relation, let related = state.tables[relation], related.record(id: id) == nil {
                let table = schema.name.replacingOccurrences(of: ".", with: "_")
                throw OdooError.psycopg(
                    "psycopg2.errors.ForeignKeyViolation",
                    "insert or update on table \"\(table)\" violates foreign key constraint \"\(table)_\(field.name)_fkey\"\n"
                        + "DETAIL:  Key (\(field.name))=(\(id)) is not present in table \"\(relation.replacingOccurrences(of: ".", with: "_"))\".\n"
                )
            }
            return .ref(id)
        case .one2many, .many2many:
            return .ids([])
        case .other:
            return isFalse ? .null : .json(value)
        }
    }

    private func pythonTypeName(_ value: EmulatorJSON) -> String {
        switch value {
        case .null: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .object: return "dict"
        }
    }

    func commands(_ value: EmulatorJSON) throws -> [X2ManyCommand] {
        switch value {
        case .null, .bool(false): return [.clear]
        case .array(let items):
            if items.allSatisfy({ $0.intValue != nil }) { return [.set(items.compactMap(\.intValue))] }
            return try items.map(command)
        default:
            throw OdooError.valueError("Wrong value for \(schema.name) x2many field: \(pythonRepr(value))")
        }
    }

    private func command(_ item: EmulatorJSON) throws -> X2ManyCommand {
        guard case .array(let parts) = item, let code = parts.first?.intValue else {
            throw OdooError.valueError("Invalid x2many command \(pythonRepr(item))")
        }
        let id = parts.count > 1 ? parts[1].intValue ?? 0 : 0
        let payload = parts.count > 2 ? parts[2] : .null
        switch code {
        case 0: return .create(payload)
        case 1: return .update(id, payload)
        case 2: return .delete(id)
        case 3: return .unlink(id)
        case 4: return .link(id)
        case 5: return .clear
        case 6:
            guard case .array(let ids) = payload else { return .set([]) }
            return .set(ids.compactMap(\.intValue))
        default:
            throw OdooError.valueError("Invalid x2many command \(pythonRepr(item))")
        }
    }
}

/// Just enough of Python's `time.strptime` for the ORM's date formats, with its messages.
enum PyStrptime {
    struct Parts {
        var year = 1900, month = 1, day = 1, hour = 0, minute = 0, second = 0
    }

    static func parse(_ text: String, format: String) throws -> Parts {
        let input = Array(text)
        let pattern = Array(format)
        var position = 0
        var parts = Parts()
        var index = 0
        func mismatch() -> OdooError {
            OdooError.valueError("time data \(pythonRepr(text)) does not match format \(pythonRepr(format))")
        }
        func digits(max count: Int, exact: Bool, range: ClosedRange<Int>) throws -> Int {
            var taken = 0
            var value = 0
            while taken < count, position + taken < input.count, let digit = input[position + taken].wholeNumberValue,
                input[position + taken].isASCII
            {
                let next = value * 10 + digit
                if !exact && taken > 0 && next > range.upperBound { break }
                value = next
                taken += 1
            }
            guard taken > 0, !exact || taken == count, range.contains(value) else { throw mismatch() }
            position += taken
            return value
        }
        while index < pattern.count {
            let char = pattern[index]
            if char == "%" {
                guard index + 1 < pattern.count else {
                    throw OdooError.valueError("stray % in format \(pythonRepr(format))")
                }
                switch pattern[index + 1] {
                case "Y": parts.year = try digits(max: 4, exact: true, range: 0...9999)
                case "m": parts.month = try digits(max: 2, exact: false, range: 1...12)
                case "d": parts.day = try digits(max: 2, exact: false, range: 1...31)
                case "H": parts.hour = try digits(max: 2, exact: false, range: 0...23)
                case "M": parts.minute = try digits(max: 2, exact: false, range: 0...59)
                case "S": parts.second = try digits(max: 2, exact: false, range: 0...61)
                default: throw mismatch()
                }
                index += 2
            } else if char == " " {
                // strptime turns a space in the format into \s+.
                guard position < input.count, input[position].isWhitespace else { throw mismatch() }
                while position < input.count, input[position].isWhitespace { position += 1 }
                index += 1
            } else {
                guard position < input.count, input[position] == char else { throw mismatch() }
                position += 1
                index += 1
            }
        }
        if position < input.count {
            throw OdooError.valueError("unconverted data remains: \(String(input[position...]))")
        }
        guard parts.day <= TimeUtil.daysInMonth(year: parts.year, month: parts.month) else {
            throw OdooError.valueError("day is out of range for month")
        }
        return parts
    }
}
