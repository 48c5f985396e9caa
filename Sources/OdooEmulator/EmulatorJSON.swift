import Foundation

/// A JSON document as the emulator sees it: request bodies, control-API values, error bodies.
///
/// Integers and floats stay distinct because Odoo (Python) tells `1` from `1.0`, and
/// error messages quote values with Python's `repr`. Objects keep their key order
/// because the real server answers with keys in a meaningful order.
public enum EmulatorJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([EmulatorJSON])
    case object([(String, EmulatorJSON)])

    public static func == (lhs: EmulatorJSON, rhs: EmulatorJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.int(a), .double(b)), let (.double(b), .int(a)): return Double(a) == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            // Like Python dicts: key order does not matter for equality.
            return a.count == b.count && a.allSatisfy { key, value in b.last { $0.0 == key }?.1 == value }
        default: return false
        }
    }

    /// Python's `dict` keeps the last value of a repeated key.
    public subscript(key: String) -> EmulatorJSON? {
        if case .object(let pairs) = self { return pairs.last { $0.0 == key }?.1 }
        return nil
    }

    public subscript(index: Int) -> EmulatorJSON? {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var arrayValue: [EmulatorJSON]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [(String, EmulatorJSON)]? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// Integers as Python's `int()` would accept them from JSON: whole floats included.
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9e18: return Int(d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// Python truthiness, which Odoo applies to flags such as `active_test`.
    var truthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        }
    }

    /// Parses JSON text the way Python's `json.loads` does (NaN and Infinity included).
    public static func parse(_ data: Data) throws -> EmulatorJSON {
        try data.withUnsafeBytes { raw in
            var parser = JSONByteParser(raw.bindMemory(to: UInt8.self))
            return try parser.parseDocument()
        }
    }

    public static func parse(_ text: String) throws -> EmulatorJSON {
        try parse(Data(text.utf8))
    }

    /// Serializes like Python's `json.dumps` (", " and ": " separators, non-ASCII kept).
    public var serialized: String {
        var writer = JSONBytes()
        writer.value(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    public var serializedData: Data { Data(serializedBytes) }

    var serializedBytes: [UInt8] {
        var writer = JSONBytes()
        writer.value(self)
        return writer.bytes
    }
}

extension EmulatorJSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: EmulatorJSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, EmulatorJSON)...) { self = .object(elements) }
}

extension EmulatorJSON: CustomStringConvertible {
    public var description: String { serialized }
}

/// A JSON syntax error worded like Python's `json.JSONDecodeError`, because Odoo
/// passes that text on to clients ("could not parse the body as json: ...").
struct JSONSyntaxError: Error, CustomStringConvertible {
    let message: String
    let offset: Int
    let line: Int
    let column: Int
    var description: String { "\(message): line \(line) column \(column) (char \(offset))" }
}
