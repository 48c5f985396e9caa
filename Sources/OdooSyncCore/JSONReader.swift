import Foundation

/// JSON text read straight from UTF-8 into `JSONValue`, keys in the order they were written.
///
/// JSONSerialization on Linux builds Foundation objects and bridges every value back, which
/// cost more than the rest of a sync's own work; this reads the bytes once.
public struct JSONReadError: Error, CustomStringConvertible, Sendable {
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
    /// Parses JSON text keeping each object's keys in the order the text has them.
    public static func parseOrdered(_ data: Data) throws(JSONReadError) -> JSONValue {
        let result: Result<JSONValue, JSONReadError> = data.withUnsafeBytes { raw in
            parseOrdered(raw.bindMemory(to: UInt8.self))
        }
        return try result.get()
    }

    /// Parses JSON text keeping each object's keys in the order the text has them.
    public static func parseOrdered(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONReadError> {
        var reader = Reader(bytes: bytes)
        do {
            let value = try reader.value(depth: 0)
            reader.skipSpace()
            guard reader.index == reader.bytes.count else { throw reader.fail("trailing characters") }
            return .success(value)
        } catch let error as JSONReadError {
            return .failure(error)
        } catch {
            return .failure(JSONReadError(offset: reader.index, reason: "\(error)"))
        }
    }

    /// Sorted keys, the last of repeated ones kept: what a parse through a dictionary gives.
    func sortingKeys() -> JSONValue {
        switch self {
        case .array(let items): return .array(items.map { $0.sortingKeys() })
        case .object(let pairs):
            var inOrder = true
            for i in pairs.indices.dropFirst() where pairs[i - 1].0 >= pairs[i].0 {
                inOrder = false
                break
            }
            if inOrder { return .object(pairs.map { ($0.0, $0.1.sortingKeys()) }) }
            var sorted: [(String, JSONValue)] = []
            sorted.reserveCapacity(pairs.count)
            // Stable, so that among repeated keys the last one written ends last.
            for (key, value) in pairs.enumerated().sorted(by: { $0.element.0 != $1.element.0 ? $0.element.0 < $1.element.0 : $0.offset < $1.offset }).map(\.element) {
                if let last = sorted.last, last.0 == key { sorted.removeLast() }
                sorted.append((key, value.sortingKeys()))
            }
            return .object(sorted)
        default: return self
        }
    }

    fileprivate struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        func fail(_ reason: String) -> JSONReadError { JSONReadError(offset: index, reason: reason) }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < 512 else { throw fail("nested too deeply") }
            skipSpace()
            guard index < bytes.count else { throw fail("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var pairs: [(String, JSONValue)] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(pairs)
                }
                while true {
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                    let key = try string()
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected :") }
                    index += 1
                    pairs.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard index < bytes.count else { throw fail("unterminated object") }
                    let c = bytes[index]
                    index += 1
                    if c == UInt8(ascii: "}") { return .object(pairs) }
                    guard c == UInt8(ascii: ",") else { throw fail("expected , or }") }
                }
            case UInt8(ascii: "["):
                index += 1
                var items: [JSONValue] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard index < bytes.count else { throw fail("unterminated array") }
                    let c = bytes[index]
                    index += 1
                    if c == UInt8(ascii: "]") { return .array(items) }
                    guard c == UInt8(ascii: ",") else { throw fail("expected , or ]") }
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default:
                return try number()
            }
        }

        mutating func literal(_ word: StaticString, _ value: JSONValue) throws -> JSONValue {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw fail("unexpected end") }
            for i in 0..<count where bytes[index + i] != word.utf8Start[i] { throw fail("unknown literal") }
            index += count
            return value
        }

        mutating func number() throws -> JSONValue {
            let start = index
            var integral = true
            while index < bytes.count {
                let c = bytes[index]
                if (0x30...0x39).contains(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
                    index += 1
                } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                    integral = false
                    index += 1
                } else {
                    break
                }
            }
            guard index > start else { throw fail("unexpected character") }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if integral, let n = Int(text) { return .int(n) }
            guard let d = Double(text) else { throw fail("bad number \(text)") }
            return .double(d)
        }

        /// A string at `index` (on its opening quote).
        mutating func string() throws -> String {
            index += 1
            let start = index
            // Most strings have no escapes: take their bytes as they are.
            while index < bytes.count {
                let c = bytes[index]
                if c == UInt8(ascii: "\"") {
                    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                    index += 1
                    return text
                }
                if c == UInt8(ascii: "\\") { break }
                index += 1
            }
            var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let c = bytes[index]
                index += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                guard c == UInt8(ascii: "\\") else {
                    out.append(c)
                    continue
                }
                guard index < bytes.count else { break }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                       bytes[index + 1] == UInt8(ascii: "u") {
                        index += 2
                        let low = try hex4()
                        code = (0xDC00...0xDFFF).contains(low) ? 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(scalar).utf8))
                default:
                    throw fail("bad escape")
                }
            }
            throw fail("unterminated string")
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= bytes.count else { throw fail("short \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[index]
                index += 1
                let digit: UInt32
                switch c {
                case 0x30...0x39: digit = UInt32(c - 0x30)
                case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
                default: throw fail("bad \\u escape")
                }
                value = value << 4 | digit
            }
            return value
        }
    }
}
