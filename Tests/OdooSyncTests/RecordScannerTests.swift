import Foundation
import Testing
@testable import OdooClient

// Tests for the streaming record scanner. The reference for every value is JSONSerialization
// reading the same bytes.

// MARK: - Helpers

/// /work/shared/reference/samples/odoo, found from this file: the repo root is three levels up.
private let odooSamplesDirectory: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Tests/OdooSyncTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()  // repo root
    .appendingPathComponent("../shared/reference/samples/odoo")
    .standardizedFileURL

private struct SampleBody: CustomStringConvertible {
    var name: String
    var bytes: [UInt8]
    var envelope: RecordScanner.Envelope
    var description: String { name }
}

/// Every response body in the samples directory: raw bodies of `.json` files, the bodies of the
/// `.txt` curl captures (HTTP headers stripped) and the `response.body` of `probe_*` exchanges,
/// re-serialized compactly and pretty-printed.
private func sampleBodies() throws -> [SampleBody] {
    let files = try FileManager.default.contentsOfDirectory(atPath: odooSamplesDirectory.path).sorted()
    var bodies: [SampleBody] = []
    for file in files where file.hasSuffix(".json") || file.hasSuffix(".txt") {
        let data = try Data(contentsOf: odooSamplesDirectory.appendingPathComponent(file))
        var bytes = [UInt8](data)
        if file.hasSuffix(".txt") {
            // Strip the HTTP status line and headers.
            for separator in [[13, 10, 13, 10], [10, 10]] as [[UInt8]] {
                if let at = firstIndex(of: separator, in: bytes) {
                    bytes = Array(bytes[(at + separator.count)...])
                    break
                }
            }
        }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed) else {
            continue  // a non-JSON body (e.g. an HTML error page)
        }
        if let exchange = parsed as? [String: Any], let api = exchange["api"] as? String,
           let response = exchange["response"] as? [String: Any], let body = response["body"] {
            let envelope: RecordScanner.Envelope = api == "json2" ? .json2 : .jsonRPC
            for (suffix, options) in [("compact", JSONSerialization.WritingOptions.fragmentsAllowed),
                                      ("pretty", [.fragmentsAllowed, .prettyPrinted])] {
                let serialized = try JSONSerialization.data(withJSONObject: body, options: options)
                bodies.append(SampleBody(name: "\(file) body \(suffix)", bytes: [UInt8](serialized), envelope: envelope))
            }
        } else {
            let isRPC = (parsed as? [String: Any])?["jsonrpc"] != nil
            bodies.append(SampleBody(name: file, bytes: bytes, envelope: isRPC ? .jsonRPC : .json2))
        }
    }
    return bodies
}

private func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) {
        return i
    }
    return nil
}

private func parse(_ bytes: some Collection<UInt8>) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)
}

/// Structural equality of two JSONSerialization values (via canonical re-serialization).
private func sameJSON(_ a: Any, _ b: Any) -> Bool {
    let options: JSONSerialization.WritingOptions = [.fragmentsAllowed, .sortedKeys]
    guard let x = try? JSONSerialization.data(withJSONObject: a, options: options),
          let y = try? JSONSerialization.data(withJSONObject: b, options: options) else { return false }
    return x == y
}

/// What the scanner should report for a body, according to JSONSerialization.
private enum ExpectedOutcome {
    case records([[String: Any]])
    case error(Any)
    case other(Any?)  // nil: no result member
}

private func expectedOutcome(_ parsed: Any, envelope: RecordScanner.Envelope) -> ExpectedOutcome {
    var result: Any? = parsed
    if envelope == .jsonRPC {
        let object = parsed as! [String: Any]
        if let error = object["error"] { return .error(error) }
        result = object["result"]
    }
    if let array = result as? [Any], array.isEmpty || array.first is [String: Any] {
        return .records(array.map { $0 as! [String: Any] })
    }
    return .other(result)
}

private func objCType(_ n: NSNumber) -> String { String(cString: n.objCType) }

/// Checks a scanned Double against the correctly rounded value of `text` (Swift's `Double(String)`,
/// i.e. strtod) and against JSONSerialization. JSONSerialization on Linux mis-rounds many literals
/// with more than 15 significant digits (e.g. `1.2877086205464669e+44` reads as
/// `1.2877086205464673e+44`), so it is only the reference up to 15 digits, where it is exact.
private func checkDouble(
    _ scanned: Double?, text: String, foundation n: NSNumber, context: Comment, sourceLocation: SourceLocation
) {
    let exact = Double(text)
    if let exact, exact.isFinite {
        #expect(scanned?.bitPattern == exact.bitPattern || (Int(text) != nil && scanned == exact),
                "\(context.rawValue): \(text) → \(String(describing: scanned)), strtod \(exact)", sourceLocation: sourceLocation)
    } else {
        #expect(scanned == nil, context, sourceLocation: sourceLocation)
    }
    if significantDigits(text) <= 15 {
        #expect(scanned?.bitPattern == n.doubleValue.bitPattern,
                "\(context.rawValue): \(text) → \(String(describing: scanned)), JSONSerialization \(n.doubleValue)",
                sourceLocation: sourceLocation)
    }
}

/// Digits of a number literal's mantissa without leading zeros.
private func significantDigits(_ text: String) -> Int {
    let mantissa = text.prefix { $0 != "e" && $0 != "E" }.filter(\.isNumber)
    return mantissa.drop { $0 == "0" }.count
}

/// The texts of the top-level elements of a valid JSON array text, whitespace trimmed.
private func topLevelElements(_ text: [UInt8]) -> [String] {
    var elements: [String] = []
    var depth = 0, inString = false, escaped = false
    var current: [UInt8] = []
    for c in text {
        if inString {
            if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false }
        } else if c == UInt8(ascii: "\"") {
            inString = true
        } else if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
            depth += 1
            if depth == 1 { continue }
        } else if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
            depth -= 1
            if depth == 0 { break }
        } else if c == UInt8(ascii: ","), depth == 1 {
            elements.append(String(decoding: current, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            current = []
            continue
        }
        current.append(c)
    }
    let last = String(decoding: current, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    if !last.isEmpty || !elements.isEmpty { elements.append(last) }
    return elements
}

private func isIntegerLiteral(_ text: String) -> Bool {
    !text.isEmpty && text.allSatisfy { $0 == "-" || $0.isASCII && $0.isNumber } && text != "-"
}

/// Compares every accessor of `view` for field `index` against JSONSerialization's `expected`
/// value (nil = the record lacks the key). `text` is the body.
private func checkField(
    _ view: RecordView, _ index: Int, name: String, expected: Any?, body: [UInt8],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let context = Comment(rawValue: "field \(name)")
    guard let expected else {
        #expect(!view.has(index), context, sourceLocation: sourceLocation)
        #expect(view.rawValue(index) == nil && view.kind(index) == nil, context, sourceLocation: sourceLocation)
        #expect(view.int(index) == nil && view.double(index) == nil && view.bool(index) == nil, context, sourceLocation: sourceLocation)
        #expect(view.string(index) == nil && view.many2one(index) == nil && view.intList(index) == nil, context, sourceLocation: sourceLocation)
        #expect(view.withUTF8String(index) { $0 == nil }, context, sourceLocation: sourceLocation)
        #expect(!view.isFalseOrNull(index), context, sourceLocation: sourceLocation)
        return
    }
    #expect(view.has(index), context, sourceLocation: sourceLocation)
    guard let range = view.rawValue(index) else { return }
    let rawText = body[range]
    // The raw value text parses to the same value.
    if let reparsed = try? parse(rawText) {
        #expect(sameJSON(reparsed, expected), context, sourceLocation: sourceLocation)
    } else {
        Issue.record("raw value of \(name) does not parse: \(String(decoding: rawText, as: UTF8.self))", sourceLocation: sourceLocation)
    }
    let kind = view.kind(index)
    switch expected {
    case is NSNull:
        #expect(kind == .null, context, sourceLocation: sourceLocation)
        #expect(view.isFalseOrNull(index), context, sourceLocation: sourceLocation)
        #expect(view.bool(index) == nil && view.int(index) == nil && view.string(index) == nil, context, sourceLocation: sourceLocation)
    case let s as String:
        #expect(kind == .string, context, sourceLocation: sourceLocation)
        if firstIndex(of: [0xEF, 0xBB, 0xBF], in: Array(rawText)) != nil {
            // JSONSerialization (swift-corelibs-foundation) drops a raw U+FEFF that follows the
            // opening quote or an escape sequence; the scanner keeps it, as JSON requires. (The
            // generated-value checks cover U+FEFF exactly.)
            let strip = { (t: String) in String(String.UnicodeScalarView(t.unicodeScalars.filter { $0 != "\u{FEFF}" })) }
            #expect(view.string(index).map(strip) == strip(s), context, sourceLocation: sourceLocation)
        } else {
            #expect(view.string(index) == s, context, sourceLocation: sourceLocation)
            #expect(view.withUTF8String(index) { $0.map(Array.init) } == Array(s.utf8), context, sourceLocation: sourceLocation)
        }
        #expect(!view.isFalseOrNull(index) && view.int(index) == nil && view.double(index) == nil, context, sourceLocation: sourceLocation)
    case let n as NSNumber where objCType(n) == "c":
        #expect(kind == .bool, context, sourceLocation: sourceLocation)
        #expect(view.bool(index) == n.boolValue, context, sourceLocation: sourceLocation)
        #expect(view.isFalseOrNull(index) == !n.boolValue, context, sourceLocation: sourceLocation)
        #expect(view.int(index) == nil && view.string(index) == nil && view.many2one(index) == nil, context, sourceLocation: sourceLocation)
    case let n as NSNumber:
        #expect(kind == .integer || kind == .float, context, sourceLocation: sourceLocation)
        checkDouble(view.double(index), text: String(decoding: rawText, as: UTF8.self), foundation: n,
                    context: context, sourceLocation: sourceLocation)
        if kind == .integer {
            // Swift's own Int parser is the reference (JSONSerialization's NSNumber types vary).
            #expect(view.int(index) == Int(String(decoding: rawText, as: UTF8.self)), context, sourceLocation: sourceLocation)
            if !["d", "f", "Q"].contains(objCType(n)) {
                #expect(view.int(index) == n.intValue, context, sourceLocation: sourceLocation)
            }
        } else {
            #expect(view.int(index) == nil, context, sourceLocation: sourceLocation)
        }
        #expect(view.bool(index) == nil && view.string(index) == nil && !view.isFalseOrNull(index), context, sourceLocation: sourceLocation)
    case let array as [Any]:
        #expect(kind == .array, context, sourceLocation: sourceLocation)
        // Integer-ness comes from the element text: JSONSerialization reads `1.0` and some large
        // negative integers into the same NSNumber type.
        let elements = topLevelElements(Array(rawText))
        #expect(elements.count == array.count, context, sourceLocation: sourceLocation)
        let ints = elements.compactMap { isIntegerLiteral($0) ? Int($0) : nil }
        if ints.count == array.count {
            #expect(view.intList(index) == ints, context, sourceLocation: sourceLocation)
        } else {
            #expect(view.intList(index) == nil, context, sourceLocation: sourceLocation)
        }
        if array.count == 2, elements.count == 2, isIntegerLiteral(elements[0]), let id = Int(elements[0]),
           let name = array[1] as? String {
            let pair = view.many2one(index)
            #expect(view.many2oneID(index) == id, context, sourceLocation: sourceLocation)
            let viaBytes = view.withUTF8Many2one(index) { $0.map { ($0.id, String(decoding: $0.name, as: UTF8.self)) } }
            #expect(pair?.id == id && viaBytes?.0 == id && pair?.name == viaBytes?.1, context, sourceLocation: sourceLocation)
            let strip = { (t: String) in String(String.UnicodeScalarView(t.unicodeScalars.filter { $0 != "\u{FEFF}" })) }
            if firstIndex(of: [0xEF, 0xBB, 0xBF], in: Array(rawText)) != nil {  // see the String case
                #expect(pair.map { strip($0.name) } == strip(name), context, sourceLocation: sourceLocation)
            } else {
                #expect(pair?.name == name, context, sourceLocation: sourceLocation)
            }
        } else {
            #expect(view.many2one(index) == nil && view.many2oneID(index) == nil, context, sourceLocation: sourceLocation)
        }
        #expect(view.string(index) == nil && view.int(index) == nil && !view.isFalseOrNull(index), context, sourceLocation: sourceLocation)
    case is [String: Any]:
        #expect(kind == .object, context, sourceLocation: sourceLocation)
        #expect(view.string(index) == nil && view.intList(index) == nil && view.many2one(index) == nil, context, sourceLocation: sourceLocation)
    default:
        Issue.record("unexpected JSONSerialization value \(type(of: expected)) for \(name)", sourceLocation: sourceLocation)
    }
}

/// Scans `body` and checks the outcome and every field of every record against JSONSerialization.
/// `fields` defaults to the union of the records' keys plus a name no record has.
private func checkAgainstJSONSerialization(
    _ body: [UInt8], envelope: RecordScanner.Envelope, fields wanted: [String]? = nil, label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let parsed = try parse(body)
    let expected = expectedOutcome(parsed, envelope: envelope)
    var fields = wanted ?? []
    if wanted == nil, case .records(let records) = expected {
        var seen = Set<String>()
        for record in records { for key in record.keys.sorted() where seen.insert(key).inserted { fields.append(key) } }
        fields.append("no_such_field")
    }
    let scanner = RecordScanner(fields: fields)
    var delivered = 0
    let outcome = try scanner.scan(body, envelope: envelope) { view in
        guard case .records(let records) = expected, delivered < records.count else {
            Issue.record("\(label): unexpected record \(delivered)", sourceLocation: sourceLocation)
            return
        }
        let record = records[delivered]
        #expect(body[view.range].first == UInt8(ascii: "{") && body[view.range].last == UInt8(ascii: "}"),
                "\(label)", sourceLocation: sourceLocation)
        #expect(view.rawBytes.elementsEqual(body[view.range]), "\(label)", sourceLocation: sourceLocation)
        if let whole = try? parse(body[view.range]) {
            #expect(sameJSON(whole, record), "\(label) record \(delivered)", sourceLocation: sourceLocation)
        } else {
            Issue.record("\(label): record range does not parse", sourceLocation: sourceLocation)
        }
        for (index, name) in fields.enumerated() {
            checkField(copy view, index, name: "\(label) record \(delivered) \(name)", expected: record[name], body: body,
                       sourceLocation: sourceLocation)
        }
        delivered += 1
    }
    switch expected {
    case .records(let records):
        #expect(outcome == .records(count: records.count), "\(label)", sourceLocation: sourceLocation)
        #expect(delivered == records.count, "\(label)", sourceLocation: sourceLocation)
    case .error(let error):
        guard case .error(let range) = outcome else {
            Issue.record("\(label): expected .error, got \(outcome)", sourceLocation: sourceLocation)
            return
        }
        #expect(sameJSON(try parse(body[range]), error), "\(label)", sourceLocation: sourceLocation)
    case .other(let value):
        guard case .otherResult(let range) = outcome else {
            Issue.record("\(label): expected .otherResult, got \(outcome)", sourceLocation: sourceLocation)
            return
        }
        if let value {
            #expect(sameJSON(try parse(body[range]), value), "\(label)", sourceLocation: sourceLocation)
        } else {
            #expect(range.isEmpty, "\(label)", sourceLocation: sourceLocation)
        }
    }
}

private func scanCount(_ text: String, envelope: RecordScanner.Envelope = .json2, fields: [String] = []) throws -> ScanOutcome {
    try RecordScanner(fields: fields).scan(Array(text.utf8), envelope: envelope) { _ in }
}

/// Scans `text` and returns, for the first record, what `extract` computed.
private func firstRecord<T>(
    _ text: String, fields: [String], envelope: RecordScanner.Envelope = .json2,
    _ extract: (borrowing RecordView) -> T
) throws -> T? {
    var value: T?
    _ = try RecordScanner(fields: fields).scan(Array(text.utf8), envelope: envelope) { view in
        if value == nil { value = extract(view) }
    }
    return value
}

// MARK: - Recorded samples

@Suite("RecordScanner")
struct RecordScannerTests {
    @Test("every recorded Odoo body matches JSONSerialization")
    func recordedSamples() throws {
        let bodies = try sampleBodies()
        #expect(bodies.count > 60, "samples not found under \(odooSamplesDirectory.path)")
        var recordBodies = 0
        for sample in bodies {
            try checkAgainstJSONSerialization(sample.bytes, envelope: sample.envelope, label: sample.name)
            if case .records(let records) = expectedOutcome(try parse(sample.bytes), envelope: sample.envelope),
               !records.isEmpty { recordBodies += 1 }
        }
        #expect(recordBodies >= 20)
    }

    @Test("crm.lead sample: typed values")
    func crmLeadValues() throws {
        let data = try Data(contentsOf: odooSamplesDirectory.appendingPathComponent("search_read_crm_lead_rows.json"))
        let scanner = RecordScanner(fields: ["id", "name", "stage_id", "partner_id", "expected_revenue", "tag_ids",
                                             "active", "order_ids", "date_open", "description"])
        var ids: [Int] = []
        let outcome = try data.withUnsafeBytes { body in
            try scanner.scan(body, envelope: .json2) { lead in
                ids.append(lead.int(0)!)
                if lead.int(0) == 1 {
                    #expect(lead.string(1) == "Club Office Furnitures")
                    #expect(lead.many2one(2)! == (1, "New"))
                    #expect(lead.isFalseOrNull(3) && lead.many2one(3) == nil && lead.has(3))
                    #expect(lead.double(4) == 0 && lead.int(4) == nil)
                    #expect(lead.intList(5) == [6] && lead.intList(7) == [])
                    #expect(lead.bool(6) == true)
                    #expect(lead.string(8) == "2026-09-21 04:18:00")
                    #expect(lead.string(9) == nil && lead.isFalseOrNull(9))
                }
            }
        }
        #expect(outcome == .records(count: 5))
        #expect(ids == [1, 2, 3, 4, 5])
    }

    // MARK: - Truncation

    @Test("every prefix of every record body throws and never over-reports records")
    func truncatedBodies() throws {
        var checked = 0
        for sample in try sampleBodies() {
            guard case .records(let records) = expectedOutcome(try parse(sample.bytes), envelope: sample.envelope),
                  !records.isEmpty else { continue }
            var end = sample.bytes.count
            while end > 0 && [0x20, 0x0A, 0x0D, 0x09].contains(sample.bytes[end - 1]) { end -= 1 }
            let scanner = RecordScanner(fields: ["id", "name", "stage_id", "tag_ids", "write_date"])
            for length in 0..<end {
                var delivered = 0
                let prefix = Array(sample.bytes[0..<length])
                #expect(throws: RecordScanError.self, "\(sample.name) prefix \(length)") {
                    _ = try scanner.scan(prefix, envelope: sample.envelope) { view in
                        delivered += 1
                        _ = view.string(1)
                        _ = view.many2one(2)
                        _ = view.intList(3)
                    }
                }
                #expect(delivered <= records.count)
                checked += 1
            }
        }
        #expect(checked > 50_000)
    }

    @Test("truncation errors point at the end of the body")
    func truncationOffset() throws {
        let body = #"{"jsonrpc": "2.0", "id": 1, "result": [{"id": 1, "name": "abc"}, {"id": 2, "na"#
        do {
            _ = try scanCount(body, envelope: .jsonRPC)
            Issue.record("no error")
        } catch let error as RecordScanError {
            #expect(error.offset == body.utf8.count - 3)  // the unterminated string starts there
            #expect(error.description.contains("unterminated string"))
        }
        do {
            _ = try scanCount("[{\"id\": 1}, ", fields: ["id"])
            Issue.record("no error")
        } catch let error as RecordScanError {
            #expect(error.offset == 12)
            #expect(error.reason.contains("unexpected end"))
        }
    }

    // MARK: - Escapes and Unicode

    @Test("string escapes, \\u escapes, surrogate pairs and raw UTF-8")
    func escapesAndUnicode() throws {
        let body = #"""
        [{"plain": "Bob", "empty": "", "esc": "q\"b\\s\/b\bf\fn\nr\rt\t",
          "u": "\u0041\u00e9\u20ac\ud83d\ude00\u0000\u001f\uFFFF", "raw": "Zoë Ångström 北京 😀",
          "mixed": "é\u00e9😀\ud83d\ude00", "m2o": [7, "Acme, \"Bob\" \u00e9"], "m2o_plain": [ 8 , "Café" ] ,
          "long": "\u0041LONG-STRING-\n-WITH-ESCAPES-AND-MORE-THAN-256-BYTES-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-end",
          "n\u0061me": "escaped key", "ключ": "non-ASCII key", "emoji😀": 1}]
        """#
        try checkAgainstJSONSerialization(Array(body.utf8), envelope: .json2, label: "escapes")
        let fields = ["plain", "empty", "esc", "u", "raw", "mixed", "m2o", "m2o_plain", "name", "ключ", "emoji😀", "long"]
        let values = try firstRecord(body, fields: fields) { r in
            (r.string(0), r.string(1), r.string(2), r.string(3), r.string(4), r.string(5), r.many2one(6), r.many2one(7),
             r.string(8), r.string(9), r.int(10), r.string(11))
        }!
        #expect(values.0 == "Bob")
        #expect(values.1 == "")
        #expect(values.2 == "q\"b\\s/b\u{8}f\u{c}n\nr\rt\t")
        #expect(values.3 == "Aé€😀\u{0}\u{1f}\u{FFFF}")
        #expect(values.4 == "Zoë Ångström 北京 😀")
        #expect(values.5 == "éé😀😀")
        #expect(values.6! == (7, "Acme, \"Bob\" é"))
        #expect(values.7! == (8, "Café"))
        #expect(values.8 == "escaped key")
        #expect(values.9 == "non-ASCII key")
        #expect(values.10 == 1)
        #expect(values.11?.hasPrefix("ALONG-STRING-\n-WITH") == true && values.11?.hasSuffix("x-end") == true)
        // Zero-copy only without escapes; "" is an empty buffer, not nil.
        let pointers = try firstRecord(body, fields: fields) { r in
            (r.withUTF8String(0) { $0?.count }, r.withUTF8String(1) { $0?.count }, r.withUTF8String(2) { $0.map(Array.init) },
             r.withUTF8String(6) { $0 == nil }, r.withUTF8Many2one(6) { $0.map { String(decoding: $0.name, as: UTF8.self) } })
        }!
        #expect(pointers.0 == 3 && pointers.1 == 0)
        #expect(pointers.2 == Array("q\"b\\s/b\u{8}f\u{c}n\nr\rt\t".utf8))
        #expect(pointers.3)
        #expect(pointers.4 == "Acme, \"Bob\" é")
    }

    @Test("malformed strings and escapes throw", arguments: [
        #"["abc]"#, #"["a\"]"#, #"["\x"]"#, #"["\u12"]"#, #"["\u12G4"]"#, #"["\ud800"]"#, #"["\ud800\u0041"]"#,
        #"["\ud800\n"]"#, #"["\udc00"]"#, #"["\ud83d\ud83d"]"#, "[\"tab\there\"]", "[\"nl\nhere\"]", "[\"\u{1}\"]",
        #"["\"#, #"["\u"#, #"["\ud83d\u"#,
    ])
    func malformedStrings(_ text: String) {
        #expect(throws: RecordScanError.self) { _ = try scanCount(text) }
        #expect(throws: RecordScanError.self) { _ = try scanCount("[{\"k\": \(text.dropFirst().dropLast())}]", fields: ["k"]) }
    }

    @Test("invalid UTF-8 throws", arguments: [
        [0xFF], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xC3], [0xF0, 0x9F, 0x98],
    ] as [[UInt8]])
    func invalidUTF8(_ bytes: [UInt8]) throws {
        let body = Array("[{\"k\": \"a".utf8) + bytes + Array("b\"}]".utf8)
        #expect(throws: RecordScanError.self) { _ = try RecordScanner(fields: ["k"]).scan(body, envelope: .json2) { _ in } }
        #expect((try? JSONSerialization.jsonObject(with: Data(body))) == nil)
        let key = Array("[{\"a".utf8) + bytes + Array("\": 1}]".utf8)
        #expect(throws: RecordScanError.self) { _ = try RecordScanner(fields: ["k"]).scan(key, envelope: .json2) { _ in } }
    }

    // MARK: - Numbers

    @Test("numbers match JSONSerialization exactly", arguments: [
        "0", "-0", "1", "-1", "40000.0", "0.0", "-0.0", "1e3", "1E3", "1e+3", "1e-3", "-2.5E-3", "0.1", "0.3", "3.14159",
        "123456789012345678", "9007199254740993", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1.7976931348623157e308",
        "2.2250738585072014e-308", "4.9e-324", "2.5e-324", "1e-400", "0.1e1", "1.00000000000000011102230246251565404236316680908203125",
        "123456789012345678901234567890", "7.038531e-26", "1e22", "1e23", "8.98846567431158e307", "0.000001", "1e-05",
        "2251799813685248.5", "9007199254740992.0", "4503599627370497.5", "5e-324", "100e-2", "17976931348623157e292",
    ])
    func numbers(_ text: String) throws {
        let body = "[{\"n\": \(text)}]"
        let expected = (try parse(Array(body.utf8)) as! [[String: Any]])[0]["n"] as! NSNumber
        let (double, int, kind) = try firstRecord(body, fields: ["n"]) { ($0.double(0), $0.int(0), $0.kind(0)) }!
        checkDouble(double, text: text, foundation: expected, context: Comment(rawValue: text), sourceLocation: #_sourceLocation)
        let isInteger = !text.contains(where: { ".eE".contains($0) })
        #expect(kind == (isInteger ? .integer : .float))
        if isInteger {
            #expect(int == Int(text))
        } else {
            #expect(int == nil)
        }
    }

    @Test("number overflow: valid JSON, no Double")
    func numberOverflow() throws {
        let values = try firstRecord("[{\"n\": 1e400, \"m\": -1.8e308}]", fields: ["n", "m"]) { ($0.double(0), $0.double(1), $0.kind(0)) }!
        #expect(values.0 == nil && values.1 == nil && values.2 == .float)
    }

    @Test("malformed numbers and literals throw", arguments: [
        "01", "-", "-a", "1.", "1.e3", ".5", "1e", "1e+", "+1", "0x10", "1_000", "NaN", "Infinity", "-Infinity", "--1",
        "tru", "truth", "nul", "nulll", "fals", "False", "TRUE", "None", "1 2", "'a'", "00", "-01",
    ])
    func malformedScalars(_ text: String) {
        #expect(throws: RecordScanError.self) { _ = try scanCount("[{\"k\": \(text)}]", fields: ["k"]) }
        #expect(throws: RecordScanError.self) { _ = try scanCount("[\(text)]") }
        #expect(throws: RecordScanError.self) { _ = try scanCount("{\"jsonrpc\": \"2.0\", \"result\": \(text)}", envelope: .jsonRPC) }
    }

    // MARK: - Structure

    @Test("malformed structure throws", arguments: [
        "", " ", "\n\t ", "[", "]", "{", "}", "[{]", "[{}", "[{},]", "[{},", "[{} {}]", "[{\"a\" 1}]", "[{\"a\":}]",
        "[{\"a\":1,}]", "[{\"a\":1 \"b\":2}]", "[{a:1}]", "[{'a':1}]", "[{\"a\":1}]]", "[{\"a\":1}] x", "[{\"a\":1}]\u{0}",
        "[{\"a\":[1,2}]", "[{\"a\":{\"b\":1]}]", "[{\"a\":[1,]}]", "[{\"a\":{\"b\":1,}}]", "[{\"a\":[,1]}]",
        "[{\"a\":1}, 5]", "[{\"a\":1}, [1]]", "[{\"a\":1}, null]", "\u{FEFF}[{\"a\":1}]", "[{\"a\":1}]\u{FEFF}",
        "[{\"a\":1}]\u{A0}", "[{\"a\":\u{A0}1}]", "[1, 2,]", "[1 2]", "{\"a\":1} {}",
        "{\"a\"::1}", "[{\"a\":1},,{\"a\":2}]", "[{\"a\":1}{\"a\":2}]",
    ])
    func malformedStructure(_ text: String) {
        #expect(throws: RecordScanError.self) { _ = try scanCount(text, fields: ["a"]) }
        if text.hasPrefix("[") {
            let rpc = "{\"jsonrpc\": \"2.0\", \"id\": 1, \"result\": \(text)}"
            #expect(throws: RecordScanError.self) { _ = try scanCount(rpc, envelope: .jsonRPC, fields: ["a"]) }
        }
    }

    @Test("JSON-RPC envelope must be an object")
    func rpcEnvelopeShape() {
        for text in ["[{\"id\": 1}]", "null", "42", "\"result\"", "Invalid JSON data", "{\"result\": [] ", "{\"result\" []}",
                     "{\"result\": [],}", "{,\"result\": []}",
                     "{\"result\": [], \"result\": []}", "{\"result\": [{}], \"result\": 1}"] {
            #expect(throws: RecordScanError.self, "\(text)") { _ = try scanCount(text, envelope: .jsonRPC) }
        }
    }

    @Test("nesting: 512 levels like JSONSerialization, 513 throws, no recursion limits hit")
    func nesting() throws {
        func body(_ depth: Int) -> String {
            // top array (1) + record (2) + depth-2 nested arrays in field "deep"
            "[{\"id\": 1, \"deep\": " + String(repeating: "[", count: depth - 2) + String(repeating: "]", count: depth - 2) + "}]"
        }
        #expect(try scanCount(body(512), fields: ["id"]) == .records(count: 1))
        #expect((try? JSONSerialization.jsonObject(with: Data(body(512).utf8))) != nil)
        #expect(throws: RecordScanError.self) { _ = try scanCount(body(513), fields: ["id", "deep"]) }
        #expect((try? JSONSerialization.jsonObject(with: Data(body(513).utf8))) == nil)
        let mixed = "[{\"deep\": " + String(repeating: "{\"a\":[", count: 255) + String(repeating: "]}", count: 255) + "}]"
        #expect(try scanCount(mixed, fields: ["deep"]) == .records(count: 1))
        // Deep garbage far beyond the limit: throws, does not overflow the stack.
        #expect(throws: RecordScanError.self) { _ = try scanCount(String(repeating: "[", count: 200_000)) }
        #expect(throws: RecordScanError.self) { _ = try scanCount("[{\"a\":" + String(repeating: "{\"a\":", count: 100_000)) }
    }

    @Test("nested values in unrequested and requested fields are skipped and validated")
    func nestedValues() throws {
        let body = #"""
        {"jsonrpc": "2.0", "id": 2, "result": [
          {"id": 1, "extra": {"a": [1, 2.5, {"b": [true, false, null, "x\"]"]}], "c": {}}, "list": [[]], "name": "A"},
          {"extra": [], "id": 2, "list": [{"id": 3, "display_name": "x"}], "name": "B", "obj": {"z": "}"}}
        ]}
        """#
        try checkAgainstJSONSerialization(Array(body.utf8), envelope: .jsonRPC, label: "nested")
        try checkAgainstJSONSerialization(Array(body.utf8), envelope: .jsonRPC, fields: ["name", "id"], label: "nested subset")
        var names: [String] = []
        let outcome = try RecordScanner(fields: ["name", "id"]).scan(Array(body.utf8), envelope: .jsonRPC) { r in
            names.append(r.string(0)!)
        }
        #expect(outcome == .records(count: 2) && names == ["A", "B"])
    }

    @Test("duplicate keys: the last one wins; duplicate wanted names all see it")
    func duplicateKeys() throws {
        let values = try firstRecord(#"[{"a": 1, "b": "x", "a": [2, "two"], "b": false}]"#, fields: ["a", "b", "a"]) { r in
            (r.many2one(0), r.string(1), r.isFalseOrNull(1), r.many2one(2), r.int(0))
        }!
        #expect(values.0! == (2, "two") && values.1 == nil && values.2 && values.3! == (2, "two") && values.4 == nil)
    }

    @Test("keys in any order, missing and extra keys, empty records")
    func keyOrder() throws {
        let body = #"[{"b": 2, "a": 1}, {}, {"a": 3, "zzz": {"a": 99}}, {"c": 4, "b": 5}]"#
        var seen: [[Int?]] = []
        let outcome = try RecordScanner(fields: ["a", "b", "c"]).scan(Array(body.utf8), envelope: .json2) { r in
            seen.append([r.int(0), r.int(1), r.int(2)])
        }
        #expect(outcome == .records(count: 4))
        #expect(seen == [[1, 2, nil], [nil, nil, nil], [3, nil, nil], [nil, 5, 4]])
        try checkAgainstJSONSerialization(Array(body.utf8), envelope: .json2, label: "key order")
    }

    @Test("many2one and int list shapes")
    func shapes() throws {
        let body = #"""
        [{"m1": [7, "Acme, Bob"], "m2": [ 7 ,"x" ], "m3": [7], "m4": [7, "a", 8], "m5": ["7", "a"], "m6": [7.0, "a"],
          "m7": [-3, ""], "m8": false, "m9": [99999999999999999999, "big"], "m10": [7, null],
          "l1": [], "l2": [ 1 , 2,3 ], "l3": [1, "2"], "l4": [1.5], "l5": [-9223372036854775808, 9223372036854775807],
          "l6": [9223372036854775808], "l7": [[1]], "l8": false, "l9": [ ]}]
        """#
        let fields = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9"]
        try checkAgainstJSONSerialization(Array(body.utf8), envelope: .json2, fields: fields, label: "shapes")
        let r = try firstRecord(body, fields: fields) { r in (0..<fields.count).map { (r.many2one($0), r.intList($0)) } }!
        #expect(r[0].0! == (7, "Acme, Bob") && r[1].0! == (7, "x") && r[6].0! == (-3, ""))
        for k in [2, 3, 4, 5, 7, 8, 9] { #expect(r[k].0 == nil, "\(fields[k])") }
        #expect(r[10].1 == [] && r[11].1 == [1, 2, 3] && r[14].1 == [Int.min, Int.max] && r[18].1 == [])
        for k in [12, 13, 15, 16, 17] { #expect(r[k].1 == nil, "\(fields[k])") }
        #expect(r[2].1 == [7])  // a one-element list is an int list, not a many2one
    }

    // MARK: - Envelopes and outcomes

    @Test("error envelope and non-record results")
    func outcomes() throws {
        let error = #"{"jsonrpc": "2.0", "id": null, "error": {"code": 100, "message": "Odoo Session Expired", "data": {"name": "odoo.http.SessionExpiredException", "arguments": ["Session expired"], "context": {}}}}"#
        guard case .error(let range) = try scanCount(error, envelope: .jsonRPC) else {
            Issue.record("not an error")
            return
        }
        let errorObject = try parse(Array(error.utf8)[range]) as! [String: Any]
        #expect(errorObject["code"] as? Int == 100)

        // "error" wins even after a "result", and may come first.
        let both = #"{"result": [{"id": 1}], "error": {"code": 0}, "jsonrpc": "2.0"}"#
        var delivered = 0
        let outcome = try RecordScanner(fields: ["id"]).scan(Array(both.utf8), envelope: .jsonRPC) { _ in delivered += 1 }
        guard case .error(let r2) = outcome else { Issue.record("not an error: \(outcome)"); return }
        #expect(String(decoding: Array(both.utf8)[r2], as: UTF8.self) == #"{"code": 0}"#)
        #expect(delivered == 1)

        func other(_ text: String, _ envelope: RecordScanner.Envelope) throws -> String? {
            guard case .otherResult(let range) = try scanCount(text, envelope: envelope) else { return nil }
            return String(decoding: Array(text.utf8)[range], as: UTF8.self)
        }
        #expect(try other(#"{"jsonrpc": "2.0", "id": 3, "result": 40}"#, .jsonRPC) == "40")
        #expect(try other(#"{"jsonrpc": "2.0", "id": 3, "result": false}"#, .jsonRPC) == "false")
        #expect(try other(#"{"jsonrpc": "2.0", "id": 3, "result": [1, 2, 3]}"#, .jsonRPC) == "[1, 2, 3]")
        #expect(try other(#"{"jsonrpc": "2.0", "id": 3, "result": [[1, "a"]]}"#, .jsonRPC) == #"[[1, "a"]]"#)
        #expect(try other(#"{"jsonrpc": "2.0", "id": 3, "result": {"length": 0, "records": []}}"#, .jsonRPC) == #"{"length": 0, "records": []}"#)
        #expect(try other(#"{"jsonrpc": "2.0", "id": 3, "result": null}"#, .jsonRPC) == "null")
        #expect(try other(#"{"jsonrpc": "2.0", "id": 7}"#, .jsonRPC) == "")
        #expect(try other("{}", .jsonRPC) == "")
        #expect(try other("40", .json2) == "40")
        #expect(try other(" null ", .json2) == "null")
        #expect(try other("true", .json2) == "true")
        #expect(try other("[51]", .json2) == "[51]")
        #expect(try other(#"{"name": "werkzeug.exceptions.NotFound", "message": "x"}"#, .json2) == #"{"name": "werkzeug.exceptions.NotFound", "message": "x"}"#)
        #expect(try scanCount(#"{"jsonrpc": "2.0", "id": 3, "result": []}"#, envelope: .jsonRPC) == .records(count: 0))
        #expect(try scanCount("[]", envelope: .json2) == .records(count: 0))
        #expect(try scanCount("[ \n ]", envelope: .json2) == .records(count: 0))
        // Escaped envelope keys still count.
        #expect(try scanCount(#"{"res\u0075lt": [{}], "jsonrpc": "2.0"}"#, envelope: .jsonRPC) == .records(count: 1))
        #expect(try other(#"{"\u0065rror": 1}"#, .jsonRPC) == nil)
    }

    @Test("errors thrown by the callback propagate and stop the scan")
    func callbackErrors() throws {
        struct Stop: Error {}
        var calls = 0
        #expect(throws: Stop.self) {
            _ = try RecordScanner(fields: ["id"]).scan(Array(#"[{"id": 1}, {"id": 2}, {"id": 3}]"#.utf8), envelope: .json2) { r in
                calls += 1
                if r.int(0) == 2 { throw Stop() }
            }
        }
        #expect(calls == 2)
        // Typed-throws accessors pass caller errors through too.
        #expect(throws: Stop.self) {
            _ = try RecordScanner(fields: ["s"]).scan(Array(#"[{"s": "a\nb"}]"#.utf8), envelope: .json2) { r in
                try r.withUTF8String(0) { (_) throws(Stop) in throw Stop() }
            }
        }
    }

    // MARK: - Whitespace

    @Test("whitespace anywhere")
    func whitespaceVariants() throws {
        let tight = #"{"jsonrpc":"2.0","id":1,"result":[{"id":1,"name":"A","m":[2,"B"],"l":[1,2],"f":1.5,"b":true,"n":null}]}"#
        let spaced = """
        \r\n\t {\t"jsonrpc"\t:\t"2.0" ,\r\n"id" : 1 , "result" :\n[\n\t{ "id" : 1 , "name" :\r"A" , "m" : [ 2 , "B" ] ,\
         "l" : [ 1 ,\n2 ] , "f" : 1.5 , "b" : true , "n" : null }\n\t]\r\n}\r\n\t 
        """
        let fields = ["id", "name", "m", "l", "f", "b", "n"]
        for text in [tight, spaced] {
            try checkAgainstJSONSerialization(Array(text.utf8), envelope: .jsonRPC, fields: fields, label: "ws")
            let values = try firstRecord(text, fields: fields, envelope: .jsonRPC) { r in
                "\(r.int(0)!) \(r.string(1)!) \(r.many2one(2)!) \(r.intList(3)!) \(r.double(4)!) \(r.bool(5)!) \(r.isFalseOrNull(6))"
            }
            #expect(values == #"1 A (id: 2, name: "B") [1, 2] 1.5 true true"#)
        }
        // Random whitespace around every token of a recorded body.
        var rng = SplitMix64(seed: 7)
        let data = try Data(contentsOf: odooSamplesDirectory.appendingPathComponent("search_read_project_task_rows.json"))
        let value = try JSONValue(foundation: parse(Array(data)))
        for _ in 0..<20 {
            var writer = JSONTextWriter(rng: rng, whitespace: true, escapeNonASCII: rng.next() % 2 == 0, randomEscapes: true)
            writer.write(value)
            rng = writer.rng
            try checkAgainstJSONSerialization(writer.bytes, envelope: .json2, label: "random whitespace")
        }
    }

    // MARK: - Randomized differential test

    @Test("randomized records match JSONSerialization (seeded)", arguments: 0..<8)
    func randomizedDifferential(seed: UInt64) throws {
        var rng = SplitMix64(seed: 0x0DD0_5EED &+ seed)
        let keyPool = ["id", "name", "stage_id", "tag_ids", "active", "expected_revenue", "description", "write_date",
                       "partner_id", "x", "na\"me", "back\\slash", "ключ", "emoji😀", "tab\tkey", "", "id2", "nested"]
        for iteration in 0..<12 {
            let recordCount = Int(rng.next() % 40)
            var records: [JSONValue] = []
            for _ in 0..<recordCount {
                var members: [(String, JSONValue)] = []
                for key in keyPool where rng.next() % 4 != 0 {
                    members.append((key, randomValue(&rng, depth: 0)))
                }
                members.shuffle(using: &rng)
                records.append(.object(members))
            }
            let result = JSONValue.array(records)
            let wrapped: JSONValue = .object([("jsonrpc", .string("2.0")), ("id", .int(Int(iteration))), ("result", result)])
            var wanted = keyPool.filter { _ in rng.next() % 3 != 0 } + ["absent"]
            if let again = wanted.first { wanted.append(again) }
            wanted.shuffle(using: &rng)
            let label = "seed \(seed) iteration \(iteration)"

            // 1. JSONSerialization writes it (its own escaping and number formatting).
            for options: JSONSerialization.WritingOptions in [[], [.prettyPrinted], [.sortedKeys, .withoutEscapingSlashes]] {
                let rpc = [UInt8](try JSONSerialization.data(withJSONObject: wrapped.foundation, options: options))
                try checkAgainstJSONSerialization(rpc, envelope: .jsonRPC, fields: wanted, label: "\(label) rpc \(options.rawValue)")
                let bare = [UInt8](try JSONSerialization.data(withJSONObject: result.foundation, options: options))
                try checkAgainstJSONSerialization(bare, envelope: .json2, fields: wanted, label: "\(label) json2 \(options.rawValue)")
            }
            // 2. Our writer: \u escapes for non-ASCII (surrogate pairs), random escapes, random whitespace,
            //    shortest round-trip doubles; also compare against the generated values directly.
            var writer = JSONTextWriter(rng: rng, whitespace: true, escapeNonASCII: rng.next() % 2 == 0, randomEscapes: true)
            writer.write(wrapped)
            rng = writer.rng
            try checkAgainstJSONSerialization(writer.bytes, envelope: .jsonRPC, fields: wanted, label: "\(label) writer")
            var index = 0
            let outcome = try RecordScanner(fields: wanted).scan(writer.bytes, envelope: .jsonRPC) { view in
                guard case .object(let members) = records[index] else { return }
                for (k, name) in wanted.enumerated() {
                    let value = members.last(where: { $0.0 == name })?.1
                    checkGenerated(copy view, k, value, label: "\(label) record \(index) \(name)")
                }
                index += 1
            }
            #expect(outcome == .records(count: recordCount))
        }
    }
}

// MARK: - Random JSON generation

/// A small seeded generator for reproducible test randomness (shared by the test suites).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private indirect enum JSONValue {
    case null, bool(Bool), int(Int), double(Double), string(String)
    case array([JSONValue]), object([(String, JSONValue)])

    var foundation: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .array(let a): return a.map(\.foundation)
        case .object(let members):
            var dict: [String: Any] = [:]
            for (k, v) in members { dict[k] = v.foundation }
            return dict
        }
    }

    init(foundation value: Any) throws {
        switch value {
        case is NSNull: self = .null
        case let s as String: self = .string(s)
        case let n as NSNumber:
            switch objCType(n) {
            case "c": self = .bool(n.boolValue)
            case "d", "f": self = .double(n.doubleValue)
            default: self = .int(n.intValue)
            }
        case let a as [Any]: self = .array(try a.map(JSONValue.init(foundation:)))
        case let d as [String: Any]: self = .object(try d.keys.sorted().map { ($0, try JSONValue(foundation: d[$0]!)) })
        default: throw CocoaError(.coderInvalidValue)
        }
    }
}

private func randomString(_ rng: inout SplitMix64) -> String {
    let pools: [[Unicode.Scalar]] = [
        Array("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789-_,.:;!?@#$%^&*()[]{}<>'~`|+=".unicodeScalars),
        ["\"", "\\", "/", "\u{7F}"],
        (0..<0x20).map { Unicode.Scalar($0)! },
        Array("éèàçÅÖßñ€£¥©®°±µ¶·½¾".unicodeScalars),
        Array("北京東京서울ключМосква".unicodeScalars),
        ["\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFD}", "\u{FFFF}", "\u{10FFFF}", "\u{E000}", "\u{D7FF}"],
        Array("😀🎉👍🏽🇧🇪𝄞𐍈".unicodeScalars),
    ]
    let length = Int(rng.next() % 24)
    var s = String.UnicodeScalarView()
    for _ in 0..<length {
        let pool = pools[Int(rng.next() % UInt64(rng.next() % 3 == 0 ? pools.count : 1))]
        s.append(pool[Int(rng.next() % UInt64(pool.count))])
    }
    return String(s)
}

private func randomDouble(_ rng: inout SplitMix64) -> Double {
    switch rng.next() % 6 {
    case 0: return Double(Int(rng.next() % 2_000_001) - 1_000_000) / 100
    case 1: return Double(Int(rng.next() % 1000))
    case 2:
        var d: Double
        repeat { d = Double(bitPattern: rng.next()) } while !d.isFinite
        return d
    case 3: return Double(bitPattern: rng.next() % 0x0010_0000_0000_0000)  // subnormal
    case 4: return Double.random(in: -1e6...1e6, using: &rng)
    default: return [0.1, 0.2, 0.3, 1e22, 1e23, Double.leastNonzeroMagnitude, 1.7976931348623157e308, 2.2250738585072014e-308, -0.0, 0.0][Int(rng.next() % 10)]
    }
}

private func randomValue(_ rng: inout SplitMix64, depth: Int) -> JSONValue {
    switch rng.next() % (depth > 2 ? 8 : 11) {
    case 0: return .null
    case 1: return .bool(rng.next() % 2 == 0)
    case 2:
        switch rng.next() % 4 {
        case 0: return .int(Int(truncatingIfNeeded: rng.next()))
        case 1: return .int([Int.min, Int.max, 0, -1, 1 << 53, (1 << 53) + 1][Int(rng.next() % 6)])
        default: return .int(Int(rng.next() % 100_000) - 1000)
        }
    case 3: return .double(randomDouble(&rng))
    case 4, 5: return .string(randomString(&rng))
    case 6: return .bool(false)
    case 7: return .array([.int(Int(rng.next() % 1000)), .string(randomString(&rng))])  // many2one
    case 8: return .array((0..<Int(rng.next() % 6)).map { _ in .int(Int(rng.next() % 500)) })  // x2many ids
    case 9: return .array((0..<Int(rng.next() % 4)).map { _ in randomValue(&rng, depth: depth + 1) })
    default:
        return .object((0..<Int(rng.next() % 4)).map { k in ("k\(k)", randomValue(&rng, depth: depth + 1)) })
    }
}

/// A JSON writer with knobs JSONSerialization lacks: whitespace between every token, `\u` escapes
/// for all non-ASCII text (surrogate pairs for astral characters), random escaping of plain ASCII,
/// and shortest round-trip doubles.
private struct JSONTextWriter {
    var rng: SplitMix64
    var whitespace: Bool
    var escapeNonASCII: Bool
    var randomEscapes: Bool
    var bytes: [UInt8] = []

    mutating func space() {
        guard whitespace else { return }
        for _ in 0..<Int(rng.next() % 3) { bytes.append([0x20, 0x09, 0x0A, 0x0D][Int(rng.next() % 4)]) }
    }

    mutating func hex(_ unit: UInt16) {
        let digits = Array(rng.next() % 2 == 0 ? "0123456789abcdef".utf8 : "0123456789ABCDEF".utf8)
        bytes += [0x5C, 0x75] + [12, 8, 4, 0].map { digits[Int((unit >> $0) & 0xF)] }
    }

    mutating func string(_ s: String) {
        bytes.append(0x22)
        for scalar in s.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x22: bytes += [0x5C, 0x22]
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x0A: bytes += [0x5C, 0x6E]
            case 0x0D: bytes += [0x5C, 0x72]
            case 0x09: bytes += [0x5C, 0x74]
            case 0x08: bytes += [0x5C, 0x62]
            case 0x0C: bytes += [0x5C, 0x66]
            case 0..<0x20: hex(UInt16(v))
            case 0x2F where randomEscapes && rng.next() % 2 == 0: bytes += [0x5C, 0x2F]
            case 0x20..<0x80:
                if randomEscapes && rng.next() % 8 == 0 { hex(UInt16(v)) } else { bytes.append(UInt8(v)) }
            default:
                if escapeNonASCII {
                    for unit in String(scalar).utf16 { hex(unit) }
                } else {
                    bytes += Array(String(scalar).utf8)
                }
            }
        }
        bytes.append(0x22)
    }

    mutating func write(_ value: JSONValue) {
        switch value {
        case .null: bytes += Array("null".utf8)
        case .bool(let b): bytes += Array((b ? "true" : "false").utf8)
        case .int(let i): bytes += Array(String(i).utf8)
        case .double(let d):
            var text = "\(d)"  // shortest round-trip
            if text.hasSuffix(".0"), rng.next() % 2 == 0 { text += ["e0", "E+00", "e-0"][Int(rng.next() % 3)] }
            bytes += Array(text.utf8)
        case .string(let s): string(s)
        case .array(let elements):
            bytes.append(0x5B)
            space()
            for (k, element) in elements.enumerated() {
                if k > 0 { bytes.append(0x2C); space() }
                write(element)
                space()
            }
            bytes.append(0x5D)
        case .object(let members):
            bytes.append(0x7B)
            space()
            for (k, (key, element)) in members.enumerated() {
                if k > 0 { bytes.append(0x2C); space() }
                string(key)
                space()
                bytes.append(0x3A)
                space()
                write(element)
                space()
            }
            bytes.append(0x7D)
        }
    }
}

/// Checks field `index` of `view` against the generated value (nil = key absent).
private func checkGenerated(_ view: RecordView, _ index: Int, _ value: JSONValue?, label: String) {
    let context = Comment(rawValue: label)
    switch value {
    case nil:
        #expect(!view.has(index), context)
    case .null:
        #expect(view.isFalseOrNull(index) && view.kind(index) == .null, context)
    case .bool(let b):
        #expect(view.bool(index) == b && view.isFalseOrNull(index) == !b, context)
    case .int(let i):
        #expect(view.int(index) == i && view.double(index) == Double(i), context)
    case .double(let d):
        let scanned = view.double(index)
        #expect(scanned == d || (scanned == 0 && d == 0), "\(label): \(String(describing: scanned)) vs \(d)")
    case .string(let s):
        #expect(view.string(index) == s, context)
        #expect(view.withUTF8String(index) { $0.map(Array.init) } == Array(s.utf8), context)
    case .array(let elements):
        if elements.count == 2, case .int(let id) = elements[0], case .string(let name) = elements[1] {
            #expect(view.many2one(index)! == (id, name), context)
            #expect(view.withUTF8Many2one(index) { $0.map { ($0.id, Array($0.name)) } }! == (id, Array(name.utf8)), context)
        } else if elements.allSatisfy({ if case .int = $0 { true } else { false } }) {
            #expect(view.intList(index) == elements.map { if case .int(let i) = $0 { i } else { 0 } }, context)
        } else {
            #expect(view.kind(index) == .array && view.intList(index) == nil, context)
        }
    case .object:
        #expect(view.kind(index) == .object, context)
    }
}
