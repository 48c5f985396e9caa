import Foundation

/// Appends JSON text the way Odoo's `json.dumps(..., ensure_ascii=False)` lays it out,
/// so response sizes and bytes look like the real server's.
struct JSONBytes {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    mutating func raw(_ other: [UInt8]) {
        bytes.append(contentsOf: other)
    }

    mutating func int(_ value: Int) {
        if value >= 0 && value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        guard value != .min else {
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        // Digits into a fixed buffer: no String allocation per number.
        var magnitude = value < 0 ? -value : value
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var position = 20
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[position..<20]))
        }
    }

    /// Python's float repr: shortest round-trip digits, always with a fraction or an exponent.
    mutating func double(_ value: Double) {
        bytes.append(contentsOf: pythonFloatRepr(value).utf8)
    }

    mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }

    mutating func string(_ value: String) {
        bytes.append(0x22)
        var text = value
        text.withUTF8 { utf8 in
            var runStart = 0
            var i = 0
            let count = utf8.count
            while i < count {
                let byte = utf8[i]
                if byte >= 0x20 && byte != 0x22 && byte != 0x5C {
                    i += 1
                    continue
                }
                if i > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                switch byte {
                case 0x22: raw("\\\"")
                case 0x5C: raw("\\\\")
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                case 0x08: raw("\\b")
                case 0x0C: raw("\\f")
                default:
                    raw("\\u00")
                    bytes.append(hexDigit(byte >> 4))
                    bytes.append(hexDigit(byte & 0x0F))
                }
                i += 1
                runStart = i
            }
            if count > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count])) }
        }
        bytes.append(0x22)
    }

    /// `"key": ` with Python's separator.
    @inline(__always)
    mutating func key(_ name: String) {
        string(name)
        raw(": ")
    }

    mutating func value(_ json: EmulatorJSON) {
        switch json {
        case .null: raw("null")
        case .bool(let b): bool(b)
        case .int(let i): int(i)
        case .double(let d): double(d)
        case .string(let s): string(s)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { raw(", ") }
                value(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let pairs):
            bytes.append(UInt8(ascii: "{"))
            for (n, pair) in pairs.enumerated() {
                if n > 0 { raw(", ") }
                key(pair.0)
                value(pair.1)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    mutating func intList(_ ids: [Int]) {
        bytes.append(UInt8(ascii: "["))
        for (n, id) in ids.enumerated() {
            if n > 0 { raw(", ") }
            int(id)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}

@inline(__always)
private func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
}

/// Swift's shortest representation already matches Python's repr for the values Odoo stores
/// (both print `40000.0`, `1e-05`, `1e+16`); only the special values are spelled differently.
func pythonFloatRepr(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
    return value.description
}

/// Python's `repr`, used where Odoo quotes a value in an error message.
func pythonRepr(_ value: EmulatorJSON) -> String {
    switch value {
    case .null: return "None"
    case .bool(let b): return b ? "True" : "False"
    case .int(let i): return String(i)
    case .double(let d):
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return d.description
    case .string(let s): return pythonRepr(s)
    case .array(let items): return "[" + items.map(pythonRepr).joined(separator: ", ") + "]"
    case .object(let pairs):
        return "{" + pairs.map { pythonRepr($0.0) + ": " + pythonRepr($0.1) }.joined(separator: ", ") + "}"
    }
}

/// A JSON list as Python shows the tuple Odoo converts it to (`('id', '=', 1)`).
func pythonTupleRepr(_ items: [EmulatorJSON]) -> String {
    if items.count == 1 { return "(" + pythonRepr(items[0]) + ",)" }
    return "(" + items.map(pythonRepr).joined(separator: ", ") + ")"
}

func pythonRepr(_ text: String) -> String {
    let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
    var out = String(quote)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if Character(scalar) == quote {
                out += "\\" + String(quote)
            } else if scalar.value < 0x20 || scalar.value == 0x7F {
                out += String(format: "\\x%02x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    out.append(quote)
    return out
}
