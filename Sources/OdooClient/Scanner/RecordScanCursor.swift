// The validating single-pass JSON cursor of RecordScanner, and the lookup table that maps object
// keys to the caller's field indices.
//
// Everything here works on raw bytes and offsets. Every read is bounds-checked against `n` by hand
// (the pointer subscripts themselves are unchecked), containers are skipped iteratively (no
// recursion, so hostile nesting cannot overflow the stack), and every loop advances `i`.

/// The validating cursor. `p[0..<n]` is the body; `i` the current offset.
@usableFromInline
struct RecordScanCursor {
    @usableFromInline let p: UnsafePointer<UInt8>
    @usableFromInline let n: Int
    @usableFromInline var i: Int
    /// Bit stack of open containers for `skipContainer` (1 = object), `RecordScanCursor.maxDepth` bits.
    @usableFromInline let stack: UnsafeMutablePointer<UInt64>

    /// Maximum container nesting, counting the top level as 1 (JSONSerialization's limit too).
    @usableFromInline static let maxDepth = 512

    @inlinable init(p: UnsafePointer<UInt8>, n: Int, stack: UnsafeMutablePointer<UInt64>) {
        self.p = p
        self.n = n
        self.i = 0
        self.stack = stack
    }

    @inline(never) @usableFromInline
    func fail(_ reason: String, at offset: Int? = nil) -> RecordScanError {
        RecordScanError(offset: offset ?? i, reason: reason)
    }

    /// The error for "needed more input at `i`": truncated bodies land here.
    @inline(never) @usableFromInline
    func truncated(_ what: String) -> RecordScanError {
        RecordScanError(offset: i, reason: "unexpected end of body, expected \(what)")
    }

    @inline(__always) @usableFromInline
    mutating func skipWhitespace() {
        while i < n && RecordScanBytes.isWhitespace(p[i]) { i &+= 1 }
    }

    /// Skips whitespace and returns the next byte without consuming it.
    @inline(__always) @usableFromInline
    mutating func peekAfterWhitespace(_ what: @autoclosure () -> String) throws(RecordScanError) -> UInt8 {
        skipWhitespace()
        guard i < n else { throw truncated(what()) }
        return p[i]
    }

    // MARK: strings

    /// At an opening quote: validates the string and leaves `i` just past the closing quote.
    /// Returns true when the string holds escapes.
    @inline(__always) @usableFromInline
    mutating func scanString() throws(RecordScanError) -> Bool {
        let open = i
        i &+= 1
        var escaped = false
        while true {
            while i &+ 8 <= n {
                let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                let m = RecordScanBytes.stringSpecialMask(w)
                if m != 0 {
                    i &+= m.trailingZeroBitCount &>> 3
                    break
                }
                i &+= 8
            }
            guard i < n else { throw fail("unterminated string", at: open) }
            let c = p[i]
            if c == RecordScanByte.quote {
                i &+= 1
                return escaped
            } else if c == RecordScanByte.backslash {
                escaped = true
                try scanEscape()
            } else if c >= 0x80 {
                try scanUTF8Sequence(c)
            } else if c < 0x20 {
                throw fail("unescaped control character in string")
            } else {
                i &+= 1
            }
        }
    }

    /// At a backslash inside a string.
    @usableFromInline
    mutating func scanEscape() throws(RecordScanError) {
        guard i &+ 1 < n else { throw truncated("an escape sequence") }
        switch p[i &+ 1] {
        case RecordScanByte.quote, RecordScanByte.backslash, RecordScanByte.slash, 0x62, 0x66, 0x6E, 0x72, 0x74:
            i &+= 2
        case RecordScanByte.lowerU:
            let unit = try hex4(at: i &+ 2)
            i &+= 6
            if unit >= 0xD800 && unit < 0xDC00 {
                guard i &+ 1 < n else { throw truncated("a low surrogate escape") }
                guard p[i] == RecordScanByte.backslash && p[i &+ 1] == RecordScanByte.lowerU else {
                    throw fail("high surrogate escape not followed by a low surrogate escape")
                }
                let low = try hex4(at: i &+ 2)
                guard low >= 0xDC00 && low < 0xE000 else {
                    throw fail("high surrogate escape not followed by a low surrogate escape")
                }
                i &+= 6
            } else if unit >= 0xDC00 && unit < 0xE000 {
                throw fail("unpaired low surrogate escape", at: i &- 6)
            }
        default:
            throw fail("invalid escape sequence")
        }
    }

    @usableFromInline
    func hex4(at k: Int) throws(RecordScanError) -> UInt32 {
        var v: UInt32 = 0
        var j = k
        while j < k &+ 4 {
            guard j < n else { throw RecordScanError(offset: j, reason: "unexpected end of body, expected a hex digit") }
            guard let d = RecordScanBytes.hexValue(p[j]) else { throw RecordScanError(offset: j, reason: "invalid hex digit in \\u escape") }
            v = (v << 4) | d
            j &+= 1
        }
        return v
    }

    /// At a byte >= 0x80 inside a string: validates one UTF-8 sequence (no overlongs, no
    /// surrogates, nothing above U+10FFFF) and steps over it.
    @usableFromInline
    mutating func scanUTF8Sequence(_ lead: UInt8) throws(RecordScanError) {
        var need = 0
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default: throw fail("invalid UTF-8 in string")
        }
        guard i &+ need < n else { throw truncated("the rest of a UTF-8 sequence") }
        let c1 = p[i &+ 1]
        guard c1 >= lo && c1 <= hi else { throw fail("invalid UTF-8 in string") }
        var k = 2
        while k <= need {
            guard p[i &+ k] & 0xC0 == 0x80 else { throw fail("invalid UTF-8 in string") }
            k &+= 1
        }
        i &+= need &+ 1
    }

    // MARK: numbers and literals

    /// At `-` or a digit: validates a JSON number. Returns true when it has no fraction or exponent.
    @inline(__always) @usableFromInline
    mutating func scanNumber() throws(RecordScanError) -> Bool {
        if p[i] == RecordScanByte.minus { i &+= 1 }
        guard i < n else { throw truncated("a digit") }
        let first = p[i]
        if first == RecordScanByte.zero {
            i &+= 1
        } else if RecordScanBytes.isDigit(first) {
            i &+= 1
            while i < n && RecordScanBytes.isDigit(p[i]) { i &+= 1 }
        } else {
            throw fail("invalid number")
        }
        guard i < n else { return true }
        var integer = true
        if p[i] == RecordScanByte.dot {
            integer = false
            i &+= 1
            guard i < n else { throw truncated("a digit after '.'") }
            guard RecordScanBytes.isDigit(p[i]) else { throw fail("expected a digit after '.'") }
            while i < n && RecordScanBytes.isDigit(p[i]) { i &+= 1 }
            guard i < n else { return false }
        }
        let e = p[i]
        if e == RecordScanByte.lowerE || e == RecordScanByte.upperE {
            integer = false
            i &+= 1
            guard i < n else { throw truncated("an exponent") }
            if p[i] == RecordScanByte.plus || p[i] == RecordScanByte.minus { i &+= 1 }
            guard i < n else { throw truncated("an exponent digit") }
            guard RecordScanBytes.isDigit(p[i]) else { throw fail("expected an exponent digit") }
            while i < n && RecordScanBytes.isDigit(p[i]) { i &+= 1 }
        }
        return integer
    }

    /// At `t`, `f` or `n`.
    @inline(__always) @usableFromInline
    mutating func scanLiteral() throws(RecordScanError) -> UInt8 {
        let c = p[i]
        let (word, length, kind): (StaticString, Int, UInt8) =
            c == RecordScanByte.lowerT ? ("true", 4, RecordScanKind.trueLiteral)
            : c == RecordScanByte.lowerF ? ("false", 5, RecordScanKind.falseLiteral) : ("null", 4, RecordScanKind.null)
        let w = word.utf8Start
        var k = 1
        while k < length {
            guard i &+ k < n else { i &+= k; throw truncated("the literal \(word)") }
            guard p[i &+ k] == w[k] else { throw fail("invalid literal, expected \(word)") }
            k &+= 1
        }
        i &+= length
        return kind
    }

    // MARK: values and containers

    /// At the first byte of a value (whitespace already skipped, `i < n` not required): validates
    /// the value, leaves `i` just past it and returns its kind. `depth` is the nesting depth a
    /// container starting here would have.
    @inline(__always) @usableFromInline
    mutating func scanValue(depth: Int) throws(RecordScanError) -> UInt8 {
        guard i < n else { throw truncated("a value") }
        switch p[i] {
        case RecordScanByte.quote:
            return try scanString() ? RecordScanKind.escapedString : RecordScanKind.string
        case RecordScanByte.minus, RecordScanByte.zero...RecordScanByte.nine:
            return try scanNumber() ? RecordScanKind.integer : RecordScanKind.float
        case RecordScanByte.lowerT, RecordScanByte.lowerF, RecordScanByte.lowerN:
            return try scanLiteral()
        case RecordScanByte.openBracket:
            try skipContainer(depth: depth)
            return RecordScanKind.array
        case RecordScanByte.openBrace:
            try skipContainer(depth: depth)
            return RecordScanKind.object
        default:
            throw fail("expected a value")
        }
    }

    /// Like `scanValue`, for a wanted field: also recognizes many2one pairs so that reading them
    /// later needs no second parse.
    @inline(__always) @usableFromInline
    mutating func scanWantedValue(depth: Int) throws(RecordScanError) -> RecordScanSlot {
        let start = i
        if i < n && p[i] == RecordScanByte.openBracket, let pair = try scanMany2one() { return pair }
        let kind = try scanValue(depth: depth)
        return RecordScanSlot(start: start, end: i, kind: kind)
    }

    /// At `[`: recognizes exactly `[integer, "string"]` (any whitespace). Returns nil with `i`
    /// restored for any other array, which the caller then scans generically. Whatever this
    /// throws, the generic scan would have thrown at the same token.
    @usableFromInline
    mutating func scanMany2one() throws(RecordScanError) -> RecordScanSlot? {
        let start = i
        i &+= 1
        skipWhitespace()
        guard i < n, p[i] == RecordScanByte.minus || RecordScanBytes.isDigit(p[i]) else { i = start; return nil }
        let idStart = i
        guard try scanNumber(), let id = RecordScanBytes.parseInteger(p + idStart, count: i &- idStart) else { i = start; return nil }
        skipWhitespace()
        guard i < n && p[i] == RecordScanByte.comma else { i = start; return nil }
        i &+= 1
        skipWhitespace()
        guard i < n && p[i] == RecordScanByte.quote else { i = start; return nil }
        let nameStart = i &+ 1
        let escaped = try scanString()
        let nameEnd = i &- 1
        skipWhitespace()
        guard i < n && p[i] == RecordScanByte.closeBracket else { i = start; return nil }
        i &+= 1
        return RecordScanSlot(start: start, end: i, id: id, nameStart: nameStart, nameEnd: nameEnd,
                        kind: escaped ? RecordScanKind.many2oneEscaped : RecordScanKind.many2one)
    }

    /// Inside an object, at the place where a key must start: validates `"key"` `:` and the
    /// whitespace after it. Leaves `i` at the first byte of the value.
    @inline(__always) @usableFromInline
    mutating func scanKeyAndColon(afterComma: Bool) throws(RecordScanError) {
        guard i < n else { throw truncated("an object key") }
        guard p[i] == RecordScanByte.quote else {
            throw afterComma && p[i] == RecordScanByte.closeBrace ? fail("trailing comma in object") : fail("expected an object key")
        }
        _ = try scanString()
        guard try peekAfterWhitespace("':'") == RecordScanByte.colon else { throw fail("expected ':' after object key") }
        i &+= 1
        skipWhitespace()
    }

    /// At `[` or `{`: validates the whole container (iteratively) and leaves `i` just past it.
    /// `depth` is the nesting depth of this container (1 = top level).
    @usableFromInline
    mutating func skipContainer(depth baseDepth: Int) throws(RecordScanError) {
        var open = 0  // containers currently open in this call; bit k of `stack` = container k is an object
        while true {
            // At the first byte of a value (i < n not yet checked for nested values).
            guard i < n else { throw truncated("a value") }
            let c = p[i]
            var closedEmpty = false
            if c == RecordScanByte.openBracket || c == RecordScanByte.openBrace {
                guard baseDepth &+ open <= RecordScanCursor.maxDepth else { throw fail("containers nested too deeply") }
                let isObject = c == RecordScanByte.openBrace
                let word = open &>> 6, bit = UInt64(1) << UInt64(open & 63)
                if isObject { stack[word] |= bit } else { stack[word] &= ~bit }
                open &+= 1
                i &+= 1
                let d = try peekAfterWhitespace(isObject ? "an object key or '}'" : "a value or ']'")
                if d == (isObject ? RecordScanByte.closeBrace : RecordScanByte.closeBracket) {
                    i &+= 1
                    open &-= 1
                    closedEmpty = true
                } else if isObject {
                    try scanKeyAndColon(afterComma: false)
                    continue
                } else {
                    continue
                }
            }
            if !closedEmpty {
                switch c {
                case RecordScanByte.quote: _ = try scanString()
                case RecordScanByte.minus, RecordScanByte.zero...RecordScanByte.nine: _ = try scanNumber()
                case RecordScanByte.lowerT, RecordScanByte.lowerF, RecordScanByte.lowerN: _ = try scanLiteral()
                default: throw fail("expected a value")
                }
            }
            // After a complete value inside the container `open - 1`.
            while true {
                if open == 0 { return }
                let top = open &- 1
                let isObject = (stack[top &>> 6] >> UInt64(top & 63)) & 1 == 1
                let d = try peekAfterWhitespace(isObject ? "',' or '}'" : "',' or ']'")
                if d == RecordScanByte.comma {
                    i &+= 1
                    skipWhitespace()
                    if isObject {
                        try scanKeyAndColon(afterComma: true)
                    } else if i < n && p[i] == RecordScanByte.closeBracket {
                        throw fail("trailing comma in array")
                    }
                    break
                } else if d == (isObject ? RecordScanByte.closeBrace : RecordScanByte.closeBracket) {
                    i &+= 1
                    open &-= 1
                } else {
                    throw fail(isObject ? "expected ',' or '}' in object" : "expected ',' or ']' in array")
                }
            }
        }
    }
}

/// The wanted field names, prepared for matching raw key bytes. Immutable after init.
@usableFromInline
final class RecordScanFieldTable: @unchecked Sendable {
    @usableFromInline let count: Int
    /// All names' UTF-8 bytes, back to back; name k is `names[starts[k] ..< starts[k] + lengths[k]]`.
    @usableFromInline let names: UnsafeMutablePointer<UInt8>
    @usableFromInline let starts: UnsafeMutablePointer<Int>
    @usableFromInline let lengths: UnsafeMutablePointer<Int>
    /// Next field index with the same name (-1 = none), for callers that list a name twice.
    @usableFromInline let nextSame: UnsafeMutablePointer<Int32>
    /// Open-addressing hash table of first indices (-1 = empty).
    @usableFromInline let table: UnsafeMutablePointer<Int32>
    @usableFromInline let mask: Int

    init(_ fields: [String]) {
        count = fields.count
        let utf8 = fields.map { Array($0.utf8) }
        let total = utf8.reduce(0) { $0 + $1.count }
        names = .allocate(capacity: max(total, 1))
        starts = .allocate(capacity: max(count, 1))
        lengths = .allocate(capacity: max(count, 1))
        nextSame = .allocate(capacity: max(count, 1))
        nextSame.initialize(repeating: -1, count: max(count, 1))
        var size = 8
        while size < count * 3 { size <<= 1 }
        mask = size - 1
        table = .allocate(capacity: size)
        table.initialize(repeating: -1, count: size)
        var offset = 0
        for (k, bytes) in utf8.enumerated() {
            starts[k] = offset
            lengths[k] = bytes.count
            for b in bytes { names[offset] = b; offset += 1 }
        }
        for k in 0..<count {
            if let first = firstIndex(names + starts[k], lengths[k]) {
                var last = first
                while nextSame[last] >= 0 { last = Int(nextSame[last]) }
                nextSame[last] = Int32(k)
            } else {
                var h = Self.hash(names + starts[k], lengths[k])
                while table[h & mask] >= 0 { h &+= 1 }
                table[h & mask] = Int32(k)
            }
        }
    }

    deinit {
        names.deallocate()
        starts.deallocate()
        lengths.deallocate()
        nextSame.deallocate()
        table.deallocate()
    }

    /// Cheap hash: length plus first, second and last bytes. Collisions only cost a probe.
    @inline(__always) @usableFromInline
    static func hash(_ key: UnsafePointer<UInt8>, _ length: Int) -> Int {
        guard length > 0 else { return 0 }
        let a = Int(key[0]), b = Int(key[length > 1 ? 1 : 0]), z = Int(key[length &- 1])
        return (length &* 0x9E37) ^ (a &* 0x3B) ^ (b &* 0x1F3) ^ (z &* 0x2B1)
    }

    /// The first field index whose name equals `key`, if any.
    @inline(__always) @usableFromInline
    func firstIndex(_ key: UnsafePointer<UInt8>, _ length: Int) -> Int? {
        var h = Self.hash(key, length)
        while true {
            let e = Int(table[h & mask])
            if e < 0 { return nil }
            if lengths[e] == length && RecordScanBytes.equal(names + starts[e], key, length) { return e }
            h &+= 1
        }
    }

    /// Whether field `k` is named exactly `key`.
    @inline(__always) @usableFromInline
    func matches(_ k: Int, _ key: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        lengths[k] == length && RecordScanBytes.equal(names + starts[k], key, length)
    }
}
