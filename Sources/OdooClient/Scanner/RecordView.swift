// Typed access to one scanned record's wanted fields. The values were validated while scanning,
// so the accessors below only convert; they never fail on structure, only on type.

/// The JSON type of a field's value, for callers that need to branch on it.
public enum RecordValueKind: Sendable, Equatable {
    case string, integer, float, bool, null, array, object
}

/// A view of one record, valid only inside the `onRecord` callback (it points into the body and
/// into scanner state that the next record overwrites). Field indices are positions in the
/// scanner's `fields`. Every accessor returns nil (or false) for a field the record lacks.
public struct RecordView {
    @usableFromInline let base: UnsafePointer<UInt8>
    @usableFromInline let slots: UnsafePointer<RecordScanSlot>
    @usableFromInline let fieldCount: Int
    /// The byte range of the whole `{...}` object in the body, for storing the raw record.
    public let range: Range<Int>

    @inlinable
    init(base: UnsafePointer<UInt8>, slots: UnsafePointer<RecordScanSlot>, fieldCount: Int, range: Range<Int>) {
        self.base = base
        self.slots = slots
        self.fieldCount = fieldCount
        self.range = range
    }

    /// The bytes of the whole `{...}` object (same span as `range`), e.g. to bind as a blob.
    @inlinable
    public var rawBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    @inlinable @inline(__always)
    func slot(_ field: Int) -> RecordScanSlot {
        precondition(field >= 0 && field < fieldCount, "RecordView: field index \(field) out of range 0..<\(fieldCount)")
        return slots[field]
    }

    /// Whether the record has the field (whatever its value, `false` and `null` included).
    @inlinable
    public func has(_ field: Int) -> Bool {
        slot(field).kind != RecordScanKind.missing
    }

    /// True when the record has the field and its value is `false` or `null` (Odoo's "empty").
    @inlinable
    public func isFalseOrNull(_ field: Int) -> Bool {
        let k = slot(field).kind
        return k == RecordScanKind.falseLiteral || k == RecordScanKind.null
    }

    /// The JSON type of the value, or nil when the field is missing.
    @inlinable
    public func kind(_ field: Int) -> RecordValueKind? {
        switch slot(field).kind {
        case RecordScanKind.string, RecordScanKind.escapedString: return .string
        case RecordScanKind.integer: return .integer
        case RecordScanKind.float: return .float
        case RecordScanKind.trueLiteral, RecordScanKind.falseLiteral: return .bool
        case RecordScanKind.null: return .null
        case RecordScanKind.array, RecordScanKind.many2one, RecordScanKind.many2oneEscaped: return .array
        case RecordScanKind.object: return .object
        default: return nil
        }
    }

    /// The byte range of the value's text in the body (quotes included for strings).
    @inlinable
    public func rawValue(_ field: Int) -> Range<Int>? {
        let s = slot(field)
        return s.kind == RecordScanKind.missing ? nil : s.start..<s.end
    }

    /// An integer literal's value. Nil for false/null/missing, for numbers written with a fraction
    /// or exponent (`40000.0`, `1e3`) and for integers outside Int's range.
    @inlinable
    public func int(_ field: Int) -> Int? {
        let s = slot(field)
        guard s.kind == RecordScanKind.integer else { return nil }
        return RecordScanBytes.parseInteger(base + s.start, count: s.end &- s.start)
    }

    /// A number's value as Double (integers included), correctly rounded like strtod (so it equals
    /// the Double Python printed). Nil for non-numbers and for magnitudes that overflow Double.
    /// (JSONSerialization on Linux agrees up to 15 significant digits; beyond that it is sometimes
    /// off by a few ulps, and this is not.)
    @inlinable
    public func double(_ field: Int) -> Double? {
        let s = slot(field)
        if s.kind == RecordScanKind.integer, let v = RecordScanBytes.parseInteger(base + s.start, count: s.end &- s.start) {
            return Double(v)  // what JSONSerialization's integer NSNumber gives (so "-0" is +0.0)
        }
        guard s.kind == RecordScanKind.integer || s.kind == RecordScanKind.float else { return nil }
        return RecordScanBytes.parseDouble(base + s.start, count: s.end &- s.start)
    }

    /// `true`/`false`; nil for null, missing and non-booleans.
    @inlinable
    public func bool(_ field: Int) -> Bool? {
        switch slot(field).kind {
        case RecordScanKind.trueLiteral: return true
        case RecordScanKind.falseLiteral: return false
        default: return nil
        }
    }

    /// The unescaped string. Nil for false/null/missing and non-strings; `""` stays `""`.
    @inlinable
    public func string(_ field: Int) -> String? {
        let s = slot(field)
        guard s.kind == RecordScanKind.string || s.kind == RecordScanKind.escapedString else { return nil }
        return RecordScanBytes.makeString(
            base + (s.start &+ 1), count: s.end &- s.start &- 2, escaped: s.kind == RecordScanKind.escapedString)
    }

    /// Calls `body` with the string's UTF-8 bytes (no NUL terminator), or with nil when the value
    /// is not a string (false/null/missing/other). Zero-copy (a span of the body) when the string
    /// has no escapes; otherwise the text is unescaped into a temporary buffer. The buffer is only
    /// valid during the call. The bytes are always valid UTF-8.
    @inlinable @inline(__always)
    public func withUTF8String<R, E: Error>(
        _ field: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws(E) -> R
    ) throws(E) -> R {
        let s = slot(field)
        if s.kind == RecordScanKind.string {
            return try body(UnsafeBufferPointer(start: base + (s.start &+ 1), count: s.end &- s.start &- 2))
        }
        if s.kind == RecordScanKind.escapedString {
            return try RecordScanBytes.withUnescaped(base + (s.start &+ 1), count: s.end &- s.start &- 2) { (bytes) throws(E) -> R in
                try body(bytes)
            }
        }
        return try body(nil)
    }

    /// A many2one value `[id, "display name"]`. Nil for false/null/missing and any other shape
    /// (including ids outside Int's range).
    @inlinable
    public func many2one(_ field: Int) -> (id: Int, name: String)? {
        let s = slot(field)
        guard s.kind == RecordScanKind.many2one || s.kind == RecordScanKind.many2oneEscaped else { return nil }
        let name = RecordScanBytes.makeString(
            base + s.nameStart, count: s.nameEnd &- s.nameStart, escaped: s.kind == RecordScanKind.many2oneEscaped)
        return (s.id, name)
    }

    /// Just the id of a many2one value `[id, "display name"]`, without building the name.
    @inlinable
    public func many2oneID(_ field: Int) -> Int? {
        let s = slot(field)
        guard s.kind == RecordScanKind.many2one || s.kind == RecordScanKind.many2oneEscaped else { return nil }
        return s.id
    }

    /// Calls `body` with a many2one's id and the UTF-8 bytes of its display name (zero-copy when the
    /// name has no escapes), or with nil when the value is not `[int, string]`.
    @inlinable @inline(__always)
    public func withUTF8Many2one<R, E: Error>(
        _ field: Int, _ body: ((id: Int, name: UnsafeBufferPointer<UInt8>)?) throws(E) -> R
    ) throws(E) -> R {
        let s = slot(field)
        if s.kind == RecordScanKind.many2one {
            return try body((s.id, UnsafeBufferPointer(start: base + s.nameStart, count: s.nameEnd &- s.nameStart)))
        }
        if s.kind == RecordScanKind.many2oneEscaped {
            return try RecordScanBytes.withUnescaped(base + s.nameStart, count: s.nameEnd &- s.nameStart) { (name) throws(E) -> R in
                try body((s.id, name))
            }
        }
        return try body(nil)
    }

    /// A list of integers (one2many/many2many ids). `[]` for an empty list; nil for
    /// false/null/missing, non-arrays and arrays holding anything but integer literals in Int's range.
    @inlinable
    public func intList(_ field: Int) -> [Int]? {
        let s = slot(field)
        guard s.kind == RecordScanKind.array else { return nil }
        var r = RecordScanValueReader(p: base, i: s.start &+ 1, end: s.end &- 1)
        var out: [Int] = []
        r.skipWhitespace()
        if r.i >= r.end { return out }
        while true {
            guard let v = r.readInt() else { return nil }
            out.append(v)
            r.skipWhitespace()
            if r.i >= r.end { return out }
            guard r.p[r.i] == RecordScanByte.comma else { return nil }
            r.i &+= 1
            r.skipWhitespace()
        }
    }
}

/// A non-validating reader over an already validated span `p[i..<end]`.
@usableFromInline
struct RecordScanValueReader {
    @usableFromInline let p: UnsafePointer<UInt8>
    @usableFromInline var i: Int
    @usableFromInline let end: Int

    @inlinable init(p: UnsafePointer<UInt8>, i: Int, end: Int) {
        self.p = p
        self.i = i
        self.end = end
    }

    @inlinable mutating func skipWhitespace() {
        while i < end && RecordScanBytes.isWhitespace(p[i]) { i &+= 1 }
    }

    /// Reads an integer literal; nil (position unspecified) if the next value is anything else.
    @inlinable mutating func readInt() -> Int? {
        let start = i
        if i < end && p[i] == RecordScanByte.minus { i &+= 1 }
        while i < end && RecordScanBytes.isDigit(p[i]) { i &+= 1 }
        if i < end {
            let c = p[i]
            guard c == RecordScanByte.comma || RecordScanBytes.isWhitespace(c) else { return nil }  // fraction, exponent, other value
        }
        return RecordScanBytes.parseInteger(p + start, count: i &- start)
    }
}
