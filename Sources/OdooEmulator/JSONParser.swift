import Foundation

/// A recursive-descent JSON reader over raw bytes. Foundation's parser is avoided because it
/// blurs `true` and `1` on Linux, reorders object keys, and is slow for thousand-id domains.
struct JSONByteParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws -> EmulatorJSON {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index < bytes.count { throw error("Extra data") }
        return value
    }

    private func error(_ message: String, at position: Int? = nil) -> JSONSyntaxError {
        let offset = position ?? index
        var line = 1
        var lastNewline = -1
        var i = 0
        while i < offset && i < bytes.count {
            if bytes[i] == UInt8(ascii: "\n") {
                line += 1
                lastNewline = i
            }
            i += 1
        }
        return JSONSyntaxError(message: message, offset: offset, line: line, column: offset - lastNewline)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws -> EmulatorJSON {
        guard index < bytes.count else { throw error("Expecting value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            if matchLiteral("true") { return .bool(true) }
        case UInt8(ascii: "f"):
            if matchLiteral("false") { return .bool(false) }
        case UInt8(ascii: "n"):
            if matchLiteral("null") { return .null }
        case UInt8(ascii: "N"):
            if matchLiteral("NaN") { return .double(.nan) }
        case UInt8(ascii: "I"):
            if matchLiteral("Infinity") { return .double(.infinity) }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if let number = parseNumber() { return number }
        default:
            break
        }
        throw error("Expecting value")
    }

    private mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let start = literal.utf8Start
        for i in 0..<count where bytes[index + i] != start[i] {
            return false
        }
        index += count
        return true
    }

    private mutating func parseNumber() -> EmulatorJSON? {
        let start = index
        if bytes[index] == UInt8(ascii: "-") {
            index += 1
            if matchLiteral("Infinity") { return .double(-.infinity) }
        }
        let digitsStart = index
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        guard index > digitsStart else {
            index = start
            return nil
        }
        // Python rejects leading zeros by stopping after the "0", which then reads as extra data.
        if bytes[digitsStart] == UInt8(ascii: "0") && index - digitsStart > 1 {
            index = digitsStart + 1
        }
        var isFloat = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "."),
            index + 1 < bytes.count, isDigit(bytes[index + 1])
        {
            isFloat = true
            index += 1
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            var probe = index + 1
            if probe < bytes.count, bytes[probe] == UInt8(ascii: "+") || bytes[probe] == UInt8(ascii: "-") {
                probe += 1
            }
            if probe < bytes.count, isDigit(bytes[probe]) {
                isFloat = true
                index = probe
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if !isFloat, let value = Int(text) { return .int(value) }
        return Double(text).map { .double($0) }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func parseString() throws -> String {
        let quote = index
        index += 1
        let contentStart = index
        // Fast path: no escapes, the common case for field names and values.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[contentStart..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("Invalid control character at") }
            index += 1
        }
        var scalars = Array(UnsafeBufferPointer(rebasing: bytes[contentStart..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: scalars, as: UTF8.self)
            }
            if byte < 0x20 { throw error("Invalid control character at") }
            if byte != UInt8(ascii: "\\") {
                scalars.append(byte)
                index += 1
                continue
            }
            guard index + 1 < bytes.count else { break }
            let escape = bytes[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "\""): scalars.append(0x22)
            case UInt8(ascii: "\\"): scalars.append(0x5C)
            case UInt8(ascii: "/"): scalars.append(0x2F)
            case UInt8(ascii: "b"): scalars.append(0x08)
            case UInt8(ascii: "f"): scalars.append(0x0C)
            case UInt8(ascii: "n"): scalars.append(0x0A)
            case UInt8(ascii: "r"): scalars.append(0x0D)
            case UInt8(ascii: "t"): scalars.append(0x09)
            case UInt8(ascii: "u"):
                var code = try readHex4()
                if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count,
                    bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                {
                    let save = index
                    index += 2
                    let low = try readHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = save
                    }
                }
                // Lone surrogates cannot live in a Swift String; Python keeps them, we substitute.
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw error("Invalid \\escape", at: index - 2)
            }
        }
        throw error("Unterminated string starting at", at: quote)
    }

    private mutating func readHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("Invalid \\uXXXX escape", at: index - 1) }
        var value: UInt32 = 0
        for i in 0..<4 {
            let byte = bytes[index + i]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("Invalid \\uXXXX escape", at: index - 1)
            }
            value = value * 16 + digit
        }
        index += 4
        return value
    }

    private mutating func enter() throws {
        depth += 1
        if depth > 512 { throw error("Maximum nesting depth exceeded") }
    }

    private mutating func parseArray() throws -> EmulatorJSON {
        try enter()
        defer { depth -= 1 }
        index += 1
        var items: [EmulatorJSON] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw error("Expecting ',' delimiter") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            throw error("Expecting ',' delimiter")
        }
    }

    private mutating func parseObject() throws -> EmulatorJSON {
        try enter()
        defer { depth -= 1 }
        index += 1
        var pairs: [(String, EmulatorJSON)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(pairs)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error("Expecting property name enclosed in double quotes")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw error("Expecting ':' delimiter")
            }
            index += 1
            skipWhitespace()
            pairs.append((key, try parseValue()))
            skipWhitespace()
            guard index < bytes.count else { throw error("Expecting ',' delimiter") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(pairs)
            }
            throw error("Expecting ',' delimiter")
        }
    }
}
