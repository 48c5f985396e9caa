// Shared pieces of the record scanner: value kinds, per-field slots, ASCII constants and the
// byte-level helpers (string unescaping, number parsing) used both while scanning and when a
// RecordView converts a value.

/// What a scanned value was. Stored per wanted field in a `RecordScanSlot`.
@usableFromInline
enum RecordScanKind {
    @usableFromInline static let missing: UInt8 = 0
    @usableFromInline static let string: UInt8 = 1         // no escapes: the bytes between the quotes are the value
    @usableFromInline static let escapedString: UInt8 = 2  // holds at least one backslash escape
    @usableFromInline static let integer: UInt8 = 3        // number without fraction or exponent
    @usableFromInline static let float: UInt8 = 4          // number with fraction and/or exponent
    @usableFromInline static let trueLiteral: UInt8 = 5
    @usableFromInline static let falseLiteral: UInt8 = 6
    @usableFromInline static let null: UInt8 = 7
    @usableFromInline static let array: UInt8 = 8
    @usableFromInline static let object: UInt8 = 9
    @usableFromInline static let many2one: UInt8 = 10         // exactly `[int, "string"]`: id and name recorded
    @usableFromInline static let many2oneEscaped: UInt8 = 11  // same, the name holds escapes
}

/// Where one wanted field's value sits in the body: `start..<end` is the value text
/// (quotes included for strings). `kind == RecordScanKind.missing` when the record lacked the key.
/// For many2one values, `id` is the parsed id and `nameStart..<nameEnd` the name between its quotes.
@usableFromInline
struct RecordScanSlot {
    @usableFromInline var start: Int
    @usableFromInline var end: Int
    @usableFromInline var id: Int
    @usableFromInline var nameStart: Int
    @usableFromInline var nameEnd: Int
    @usableFromInline var kind: UInt8

    @inlinable init(start: Int, end: Int, kind: UInt8) {
        self.start = start
        self.end = end
        self.id = 0
        self.nameStart = 0
        self.nameEnd = 0
        self.kind = kind
    }

    @inlinable init(start: Int, end: Int, id: Int, nameStart: Int, nameEnd: Int, kind: UInt8) {
        self.start = start
        self.end = end
        self.id = id
        self.nameStart = nameStart
        self.nameEnd = nameEnd
        self.kind = kind
    }
}

/// Namespace for the scanner's byte-level helpers.
@usableFromInline
enum RecordScanBytes {}

/// ASCII bytes used by the scanner.
@usableFromInline
enum RecordScanByte {
    @usableFromInline static let quote: UInt8 = 0x22
    @usableFromInline static let backslash: UInt8 = 0x5C
    @usableFromInline static let slash: UInt8 = 0x2F
    @usableFromInline static let comma: UInt8 = 0x2C
    @usableFromInline static let colon: UInt8 = 0x3A
    @usableFromInline static let minus: UInt8 = 0x2D
    @usableFromInline static let plus: UInt8 = 0x2B
    @usableFromInline static let dot: UInt8 = 0x2E
    @usableFromInline static let zero: UInt8 = 0x30
    @usableFromInline static let nine: UInt8 = 0x39
    @usableFromInline static let openBracket: UInt8 = 0x5B
    @usableFromInline static let closeBracket: UInt8 = 0x5D
    @usableFromInline static let openBrace: UInt8 = 0x7B
    @usableFromInline static let closeBrace: UInt8 = 0x7D
    @usableFromInline static let lowerE: UInt8 = 0x65
    @usableFromInline static let upperE: UInt8 = 0x45
    @usableFromInline static let lowerT: UInt8 = 0x74
    @usableFromInline static let lowerF: UInt8 = 0x66
    @usableFromInline static let lowerN: UInt8 = 0x6E
    @usableFromInline static let lowerU: UInt8 = 0x75
}

extension RecordScanBytes {
    @inline(__always) @usableFromInline
    static func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
    }

    @inline(__always) @usableFromInline
    static func isDigit(_ c: UInt8) -> Bool {
        c &- RecordScanByte.zero < 10
    }

    /// Value of one hex digit, or nil.
    @inline(__always) @usableFromInline
    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c &- 0x30)
        case 0x41...0x46: return UInt32(c &- 0x41 &+ 10)
        case 0x61...0x66: return UInt32(c &- 0x61 &+ 10)
        default: return nil
        }
    }

    /// Flags (high bit of each byte) every byte of `w` that ends the plain run of a string:
    /// `"`, `\`, a control character (< 0x20) or a non-ASCII byte (>= 0x80). The lowest flagged byte
    /// is always a real hit (borrows only propagate upwards from a real hit).
    @inline(__always) @usableFromInline
    static func stringSpecialMask(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let q = w ^ (ones &* UInt64(RecordScanByte.quote))
        let b = w ^ (ones &* UInt64(RecordScanByte.backslash))
        let quote = (q &- ones) & ~q
        let backslash = (b &- ones) & ~b
        let control = (w &- ones &* 0x20) & ~w
        return (quote | backslash | control | w) & high
    }

    /// Byte-wise equality of two spans of the same length.
    @inline(__always) @usableFromInline
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        if count >= 8 {
            // Compare 8-byte words; the last word may overlap the previous one.
            var k = 0
            while k &+ 8 < count {
                if UnsafeRawPointer(a + k).loadUnaligned(as: UInt64.self)
                    != UnsafeRawPointer(b + k).loadUnaligned(as: UInt64.self) { return false }
                k &+= 8
            }
            let last = count &- 8
            return UnsafeRawPointer(a + last).loadUnaligned(as: UInt64.self)
                == UnsafeRawPointer(b + last).loadUnaligned(as: UInt64.self)
        }
        var k = 0
        while k < count {
            if a[k] != b[k] { return false }
            k &+= 1
        }
        return true
    }

    /// Writes the UTF-8 encoding of `scalar` at `dst`; returns the number of bytes written (1...4).
    @inline(__always) @usableFromInline
    static func writeUTF8(_ scalar: UInt32, to dst: UnsafeMutablePointer<UInt8>) -> Int {
        switch scalar {
        case 0..<0x80:
            dst[0] = UInt8(truncatingIfNeeded: scalar)
            return 1
        case 0x80..<0x800:
            dst[0] = UInt8(truncatingIfNeeded: 0xC0 | (scalar >> 6))
            dst[1] = UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F))
            return 2
        case 0x800..<0x10000:
            dst[0] = UInt8(truncatingIfNeeded: 0xE0 | (scalar >> 12))
            dst[1] = UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F))
            dst[2] = UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F))
            return 3
        default:
            dst[0] = UInt8(truncatingIfNeeded: 0xF0 | (scalar >> 18))
            dst[1] = UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 12) & 0x3F))
            dst[2] = UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F))
            dst[3] = UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F))
            return 4
        }
    }

    /// Unescapes the inside of a JSON string (`src[0..<count]`, quotes excluded) into `dst`, which must
    /// have room for `count` bytes (unescaping never grows the text). Returns the number of bytes written.
    /// Expects text the cursor has validated; on anything else it stops early instead of reading past `count`.
    @usableFromInline
    static func unescape(_ src: UnsafePointer<UInt8>, count: Int, into dst: UnsafeMutablePointer<UInt8>) -> Int {
        var i = 0
        var o = 0
        while i < count {
            let c = src[i]
            if c != RecordScanByte.backslash {
                dst[o] = c
                o &+= 1
                i &+= 1
                continue
            }
            guard i &+ 1 < count else { return o }
            let e = src[i &+ 1]
            i &+= 2
            switch e {
            case 0x62: dst[o] = 0x08; o &+= 1  // \b
            case 0x66: dst[o] = 0x0C; o &+= 1  // \f
            case 0x6E: dst[o] = 0x0A; o &+= 1  // \n
            case 0x72: dst[o] = 0x0D; o &+= 1  // \r
            case 0x74: dst[o] = 0x09; o &+= 1  // \t
            case RecordScanByte.lowerU:
                guard let unit = RecordScanBytes.readHex4(src, at: i, count: count) else { return o }
                i &+= 4
                var scalar = unit
                if unit >= 0xD800 && unit < 0xDC00 {
                    // Validated input always pairs a high surrogate with a following low one.
                    guard i &+ 6 <= count, src[i] == RecordScanByte.backslash, src[i &+ 1] == RecordScanByte.lowerU,
                          let low = RecordScanBytes.readHex4(src, at: i &+ 2, count: count), low >= 0xDC00 && low < 0xE000
                    else { return o }
                    i &+= 6
                    scalar = 0x10000 &+ ((unit &- 0xD800) << 10) &+ (low &- 0xDC00)
                } else if unit >= 0xDC00 && unit < 0xE000 {
                    return o
                }
                o &+= RecordScanBytes.writeUTF8(scalar, to: dst + o)
            default: dst[o] = e; o &+= 1  // \" \\ \/
            }
        }
        return o
    }

    @inline(__always) @usableFromInline
    static func readHex4(_ p: UnsafePointer<UInt8>, at i: Int, count: Int) -> UInt32? {
        guard i &+ 4 <= count,
              let a = RecordScanBytes.hexValue(p[i]), let b = RecordScanBytes.hexValue(p[i &+ 1]),
              let c = RecordScanBytes.hexValue(p[i &+ 2]), let d = RecordScanBytes.hexValue(p[i &+ 3]) else { return nil }
        return (a << 12) | (b << 8) | (c << 4) | d
    }
}

extension RecordScanBytes {
    @usableFromInline
    static func makeString(_ p: UnsafePointer<UInt8>, count: Int, escaped: Bool) -> String {
        if !escaped {
            return String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
        }
        return String(unsafeUninitializedCapacity: max(count, 1)) { buffer in
            RecordScanBytes.unescape(p, count: count, into: buffer.baseAddress!)
        }
    }

    /// Unescapes a validated string body into a temporary buffer and calls `body` with it.
    @inlinable
    static func withUnescaped<R, E: Error>(
        _ p: UnsafePointer<UInt8>, count: Int, _ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R
    ) throws(E) -> R {
        // Unescaping never makes the text longer. Small strings go on the stack.
        if count <= 256 {
            return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { (buffer) throws(E) -> R in
                let written = RecordScanBytes.unescape(p, count: count, into: buffer.baseAddress!)
                return try body(UnsafeBufferPointer(start: buffer.baseAddress!, count: written))
            }
        }
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
        defer { buffer.deallocate() }
        let written = RecordScanBytes.unescape(p, count: count, into: buffer)
        return try body(UnsafeBufferPointer(start: buffer, count: written))
    }

    /// Parses a validated integer literal (`-?digits`). Nil if it does not fit in Int (or is not one).
    @usableFromInline
    static func parseInteger(_ p: UnsafePointer<UInt8>, count: Int) -> Int? {
        var i = 0
        let negative = count > 0 && p[0] == RecordScanByte.minus
        if negative { i = 1 }
        let digits = count &- i
        guard digits > 0 else { return nil }
        if digits <= 18 {  // cannot overflow
            var v = 0
            while i < count {
                let d = p[i] &- RecordScanByte.zero
                guard d < 10 else { return nil }
                v = v &* 10 &+ Int(d)
                i &+= 1
            }
            return negative ? -v : v
        }
        // Accumulate negatively so Int.min fits.
        var v = 0
        while i < count {
            let d = p[i] &- RecordScanByte.zero
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.subtractingReportingOverflow(Int(d))
            if o1 || o2 { return nil }
            v = s
            i &+= 1
        }
        if negative { return v }
        return v == Int.min ? nil : -v
    }

    /// Parses a validated JSON number to the correctly rounded Double (what strtod gives).
    /// Nil when the magnitude overflows Double (JSONSerialization rejects those too).
    @usableFromInline
    static func parseDouble(_ p: UnsafePointer<UInt8>, count: Int) -> Double? {
        // Fast path (Clinger): mantissa <= 2^53 and |decimal exponent| <= 22 are both exact in a
        // Double, so one multiplication or division rounds correctly.
        var i = 0
        let negative = count > 0 && p[0] == RecordScanByte.minus
        if negative { i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        var fast = true
        while i < count && RecordScanBytes.isDigit(p[i]) {
            mantissa = mantissa &* 10 &+ UInt64(p[i] &- RecordScanByte.zero)
            digits &+= 1
            i &+= 1
        }
        if i < count && p[i] == RecordScanByte.dot {
            i &+= 1
            while i < count && RecordScanBytes.isDigit(p[i]) {
                mantissa = mantissa &* 10 &+ UInt64(p[i] &- RecordScanByte.zero)
                digits &+= 1
                exponent &-= 1
                i &+= 1
            }
        }
        if i < count && (p[i] == RecordScanByte.lowerE || p[i] == RecordScanByte.upperE) {
            i &+= 1
            var expNegative = false
            if i < count && (p[i] == RecordScanByte.plus || p[i] == RecordScanByte.minus) {
                expNegative = p[i] == RecordScanByte.minus
                i &+= 1
            }
            var e = 0
            var expDigits = 0
            while i < count && RecordScanBytes.isDigit(p[i]) {
                if e < 100_000 { e = e &* 10 &+ Int(p[i] &- RecordScanByte.zero) }
                expDigits &+= 1
                i &+= 1
            }
            if expDigits == 0 { fast = false }
            exponent &+= expNegative ? -e : e
        }
        if digits > 19 || digits == 0 || i != count { fast = false }
        if fast && mantissa <= (1 << 53) && exponent >= -22 && exponent <= 22 {
            var value = Double(mantissa)
            if exponent != 0 {
                var scale = 1.0
                var k = exponent < 0 ? -exponent : exponent
                while k > 0 { scale *= 10; k &-= 1 }  // exact: 10^k <= 10^22
                value = exponent < 0 ? value / scale : value * scale
            }
            return negative ? -value : value
        }
        return RecordScanBytes.parseDoubleSlow(p, count: count)
    }

    @usableFromInline @inline(never)
    static func parseDoubleSlow(_ p: UnsafePointer<UInt8>, count: Int) -> Double? {
        // Double(String) uses the C library's correctly rounded strtod in the C locale. Short
        // numbers fit in a small (non-allocating) String.
        let text = String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }
}
