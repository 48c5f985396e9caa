// A single-pass, validating scanner for Odoo `search_read` / `read` response bodies.
//
// It reads the body once, calls back once per record of the result array with a `RecordView`
// that knows where each wanted field's value sits, and never builds an intermediate tree. The
// caller pulls typed values (or zero-copy UTF-8) straight out of the body, for example to bind
// them into prepared SQLite statements.
//
// The whole body is validated as strict JSON (RFC 8259): malformed or truncated input throws
// `RecordScanError`; nothing reads outside the buffer, and hostile nesting is bounded (512 levels,
// like JSONSerialization) and handled without recursion. Records are delivered as they are
// scanned, so a body that turns out to be malformed after record k has already delivered
// records 0...k; treat a throw as "the whole page failed".

/// Scans Odoo response bodies for records, extracting only the fields asked for.
public struct RecordScanner: Sendable {
    /// The field names the caller wants, in the order it will ask for them (index = position).
    public let fields: [String]
    @usableFromInline let table: RecordScanFieldTable

    /// - Parameter fields: the field names the caller wants; `RecordView` accessors take the
    ///   index of a name in this array. A name may appear more than once.
    public init(fields: [String]) {
        self.fields = fields
        self.table = RecordScanFieldTable(fields)
    }

    /// How the body wraps the method's result.
    public enum Envelope: Sendable {
        /// `{"jsonrpc": "2.0", "id": …, "result": …}` or `{"jsonrpc": "2.0", "id": …, "error": {…}}`
        /// (`/jsonrpc`, `/web/dataset/call_kw`). Keys may come in any order.
        case jsonRPC
        /// The bare result (`POST /json/2/<model>/<method>`).
        case json2
    }

    /// Scans `body`; calls `onRecord` once per object of the result array, in order.
    ///
    /// The result counts as records when it is an array whose first element is an object (every
    /// element must then be an object) or an empty array. The view passed to `onRecord` points
    /// into `body` and is valid only during the call. Errors thrown by `onRecord` stop the scan and
    /// propagate unchanged.
    ///
    /// - Returns: what the body held besides records.
    /// - Throws: `RecordScanError` for malformed or truncated JSON (strict RFC 8259: no trailing
    ///   commas, no byte order mark, valid UTF-8 only, no lone surrogate escapes, at most 512
    ///   nested containers), for a JSON-RPC body that is not an object or has two `"result"`
    ///   members, and for a result array that mixes records with other values.
    public func scan(
        _ body: UnsafeRawBufferPointer,
        envelope: Envelope,
        onRecord: (borrowing RecordView) throws -> Void
    ) throws -> ScanOutcome {
        guard let base = body.baseAddress, body.count > 0 else {
            throw RecordScanError(offset: 0, reason: "empty body")
        }
        let fieldCount = table.count
        let slots = UnsafeMutablePointer<RecordScanSlot>.allocate(capacity: max(fieldCount, 1))
        slots.initialize(repeating: RecordScanSlot(start: 0, end: 0, kind: RecordScanKind.missing), count: max(fieldCount, 1))
        let stack = UnsafeMutablePointer<UInt64>.allocate(capacity: (RecordScanCursor.maxDepth + 64) / 64)
        stack.initialize(repeating: 0, count: (RecordScanCursor.maxDepth + 64) / 64)
        let predictions = UnsafeMutablePointer<Int32>.allocate(capacity: RecordScanState.predictedKeys)
        predictions.initialize(repeating: -1, count: RecordScanState.predictedKeys)
        defer {
            slots.deallocate()
            stack.deallocate()
            predictions.deallocate()
        }
        var state = RecordScanState(
            cursor: RecordScanCursor(p: base.assumingMemoryBound(to: UInt8.self), n: body.count, stack: stack),
            table: table, slots: slots, predictions: predictions)
        let outcome: ScanOutcome
        switch envelope {
        case .json2:
            state.cursor.skipWhitespace()
            outcome = try state.scanResult(depth: 1, onRecord: onRecord)
        case .jsonRPC:
            outcome = try state.scanJSONRPC(onRecord: onRecord)
        }
        state.cursor.skipWhitespace()
        guard state.cursor.i == state.cursor.n else {
            throw RecordScanError(offset: state.cursor.i, reason: "unexpected characters after the JSON value")
        }
        return outcome
    }

    /// Convenience for callers holding bytes in an array (tests, small bodies).
    public func scan(
        _ body: [UInt8],
        envelope: Envelope,
        onRecord: (borrowing RecordView) throws -> Void
    ) throws -> ScanOutcome {
        try body.withUnsafeBytes { try scan($0, envelope: envelope, onRecord: onRecord) }
    }
}

/// What a body held besides the records delivered to the callback.
public enum ScanOutcome: Sendable, Equatable {
    /// The result was an array of objects (or empty); `count` records were delivered.
    case records(count: Int)
    /// The JSON-RPC body had an `"error"` member: the byte range of its value (decode it with
    /// JSONSerialization). Wins over `"result"` if a body has both.
    case error(Range<Int>)
    /// The result was not an array of objects: the byte range of its value (e.g. `42`, `false`,
    /// `[1, 2]`, `null`, a JSON-2 error object), or an empty range when a JSON-RPC body had no
    /// `"result"` (the method returned None).
    case otherResult(Range<Int>)
}

/// Malformed or truncated JSON.
public struct RecordScanError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Byte offset in the body where the problem was detected.
    public let offset: Int
    public let reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "malformed JSON at byte \(offset): \(reason)" }
}

/// Mutable state of one `scan` call.
struct RecordScanState {
    /// Keys at ordinal positions below this are predicted from the previous record's key order.
    static let predictedKeys = 128

    var cursor: RecordScanCursor
    let table: RecordScanFieldTable
    let slots: UnsafeMutablePointer<RecordScanSlot>
    /// For key ordinal k, the field index the k-th key matched in the previous record (-1 = none).
    let predictions: UnsafeMutablePointer<Int32>

    /// The JSON-RPC envelope: an object whose `result` or `error` member matters.
    mutating func scanJSONRPC(onRecord: (borrowing RecordView) throws -> Void) throws -> ScanOutcome {
        let first = try cursor.peekAfterWhitespace("a JSON-RPC response object")
        guard first == RecordScanByte.openBrace else {
            throw cursor.fail("expected a JSON-RPC response object")
        }
        cursor.i &+= 1
        var result: ScanOutcome?
        var error: Range<Int>?
        if try cursor.peekAfterWhitespace("a key or '}'") == RecordScanByte.closeBrace {
            cursor.i &+= 1
        } else {
            var afterComma = false
            while true {
                guard cursor.i < cursor.n else { throw cursor.truncated("an object key") }
                guard cursor.p[cursor.i] == RecordScanByte.quote else {
                    throw afterComma && cursor.p[cursor.i] == RecordScanByte.closeBrace
                        ? cursor.fail("trailing comma in object") : cursor.fail("expected an object key")
                }
                let keyStart = cursor.i &+ 1
                let escaped = try cursor.scanString()
                let key = envelopeKey(cursor.p + keyStart, cursor.i &- 1 &- keyStart, escaped: escaped)
                guard try cursor.peekAfterWhitespace("':'") == RecordScanByte.colon else {
                    throw cursor.fail("expected ':' after object key")
                }
                cursor.i &+= 1
                cursor.skipWhitespace()
                let valueStart = cursor.i
                switch key {
                case .result:
                    guard result == nil else { throw cursor.fail("duplicate \"result\" member") }
                    result = try scanResult(depth: 2, onRecord: onRecord)
                case .error:
                    _ = try cursor.scanValue(depth: 2)
                    error = valueStart..<cursor.i
                case .other:
                    _ = try cursor.scanValue(depth: 2)
                }
                let d = try cursor.peekAfterWhitespace("',' or '}'")
                if d == RecordScanByte.comma {
                    cursor.i &+= 1
                    cursor.skipWhitespace()
                    afterComma = true
                } else if d == RecordScanByte.closeBrace {
                    cursor.i &+= 1
                    break
                } else {
                    throw cursor.fail("expected ',' or '}' in object")
                }
            }
        }
        if let error { return .error(error) }
        return result ?? .otherResult(0..<0)
    }

    enum EnvelopeKey { case result, error, other }

    func envelopeKey(_ key: UnsafePointer<UInt8>, _ length: Int, escaped: Bool) -> EnvelopeKey {
        func classify(_ k: UnsafePointer<UInt8>, _ len: Int) -> EnvelopeKey {
            if len == 6 && RecordScanBytes.equal(k, "result", 6) { return .result }
            if len == 5 && RecordScanBytes.equal(k, "error", 5) { return .error }
            return .other
        }
        guard escaped else { return classify(key, length) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(length, 1)) { buffer in
            let count = RecordScanBytes.unescape(key, count: length, into: buffer.baseAddress!)
            return classify(buffer.baseAddress!, count)
        }
    }

    /// At the first byte of the result value (whitespace skipped). `depth` is the nesting depth a
    /// container here would have.
    mutating func scanResult(depth: Int, onRecord: (borrowing RecordView) throws -> Void) throws -> ScanOutcome {
        let start = cursor.i
        guard cursor.i < cursor.n else { throw cursor.truncated("a value") }
        guard cursor.p[cursor.i] == RecordScanByte.openBracket else {
            _ = try cursor.scanValue(depth: depth)
            return .otherResult(start..<cursor.i)
        }
        cursor.i &+= 1
        let first = try cursor.peekAfterWhitespace("a value or ']'")
        if first == RecordScanByte.closeBracket {
            cursor.i &+= 1
            return .records(count: 0)
        }
        guard first == RecordScanByte.openBrace else {
            cursor.i = start
            try cursor.skipContainer(depth: depth)
            return .otherResult(start..<cursor.i)
        }
        var count = 0
        while true {
            guard cursor.i < cursor.n else { throw cursor.truncated("a record object") }
            guard cursor.p[cursor.i] == RecordScanByte.openBrace else {
                throw cursor.p[cursor.i] == RecordScanByte.closeBracket
                    ? cursor.fail("trailing comma in array")
                    : cursor.fail("expected a record object: the result array mixes objects with other values")
            }
            let recordStart = cursor.i
            try scanRecord(depth: depth &+ 1)
            count &+= 1
            let view = RecordView(
                base: cursor.p, slots: UnsafePointer(slots), fieldCount: table.count,
                range: recordStart..<cursor.i)
            try onRecord(view)
            let d = try cursor.peekAfterWhitespace("',' or ']'")
            if d == RecordScanByte.comma {
                cursor.i &+= 1
                cursor.skipWhitespace()
            } else if d == RecordScanByte.closeBracket {
                cursor.i &+= 1
                return .records(count: count)
            } else {
                throw cursor.fail("expected ',' or ']' in array")
            }
        }
    }

    /// At `{`: scans one record, filling `slots` for the wanted fields.
    mutating func scanRecord(depth: Int) throws(RecordScanError) {
        let fieldCount = table.count
        var k = 0
        while k < fieldCount {
            slots[k].kind = RecordScanKind.missing
            k &+= 1
        }
        cursor.i &+= 1
        if try cursor.peekAfterWhitespace("an object key or '}'") == RecordScanByte.closeBrace {
            cursor.i &+= 1
            return
        }
        var ordinal = 0
        var afterComma = false
        while true {
            guard cursor.i < cursor.n else { throw cursor.truncated("an object key") }
            guard cursor.p[cursor.i] == RecordScanByte.quote else {
                throw afterComma && cursor.p[cursor.i] == RecordScanByte.closeBrace
                    ? cursor.fail("trailing comma in object") : cursor.fail("expected an object key")
            }
            let keyStart = cursor.i &+ 1
            let escaped = try cursor.scanString()
            let field = lookup(cursor.p + keyStart, cursor.i &- 1 &- keyStart, escaped: escaped, ordinal: ordinal)
            ordinal &+= 1
            guard try cursor.peekAfterWhitespace("':'") == RecordScanByte.colon else {
                throw cursor.fail("expected ':' after object key")
            }
            cursor.i &+= 1
            cursor.skipWhitespace()
            if field >= 0 {
                let slot = try cursor.scanWantedValue(depth: depth &+ 1)
                var f = field
                while f >= 0 {  // duplicate keys in the body: the last one wins
                    slots[f] = slot
                    f = Int(table.nextSame[f])
                }
            } else {
                _ = try cursor.scanValue(depth: depth &+ 1)
            }
            let d = try cursor.peekAfterWhitespace("',' or '}'")
            if d == RecordScanByte.comma {
                cursor.i &+= 1
                cursor.skipWhitespace()
                afterComma = true
            } else if d == RecordScanByte.closeBrace {
                cursor.i &+= 1
                return
            } else {
                throw cursor.fail("expected ',' or '}' in object")
            }
        }
    }

    /// The first wanted field index for a key, or -1. Tries the field the key at the same
    /// position matched in the previous record first (Odoo repeats one key order on every record).
    @inline(__always)
    func lookup(_ key: UnsafePointer<UInt8>, _ length: Int, escaped: Bool, ordinal: Int) -> Int {
        if escaped {
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(length, 1)) { buffer in
                let count = RecordScanBytes.unescape(key, count: length, into: buffer.baseAddress!)
                return table.firstIndex(buffer.baseAddress!, count) ?? -1
            }
        }
        if ordinal < RecordScanState.predictedKeys {
            let predicted = Int(predictions[ordinal])
            if predicted >= 0 && table.matches(predicted, key, length) { return predicted }
            let found = table.firstIndex(key, length) ?? -1
            predictions[ordinal] = Int32(truncatingIfNeeded: found)
            return found
        }
        return table.firstIndex(key, length) ?? -1
    }
}
