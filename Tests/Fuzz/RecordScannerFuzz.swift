// libFuzzer harness for RecordScanner (built by scripts/fuzz, not by SwiftPM).
//
// For every input it
//  1. scans the bytes as a JSON-2 body and as a JSON-RPC body, calling every RecordView accessor on
//     every wanted field of every record and checking that the answers agree with each other and
//     stay inside the buffer (AddressSanitizer catches any read outside it);
//  2. unless FUZZ_DIFFERENTIAL=0, compares the JSON-2 scan with JSONSerialization: both must accept
//     or reject the same inputs (apart from the known, documented differences below) and agree on
//     every wanted field's value.
//
// Any disagreement calls fatalError, which libFuzzer reports as a crash with the input saved.

import Foundation

private let fieldNames = ["id", "name", "stage_id", "tag_ids", "active", "a", "b", "c", "", "é", "result", "error"]
private let scanner = RecordScanner(fields: fieldNames)
private let differential = ProcessInfo.processInfo.environment["FUZZ_DIFFERENTIAL"] != "0"

@_cdecl("LLVMFuzzerTestOneInput")
public func recordScannerFuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = UnsafeRawBufferPointer(start: data, count: size)
    var json2: (outcome: ScanOutcome, records: [[String: Observed]])?
    var json2Error: RecordScanError?
    for envelope in [RecordScanner.Envelope.json2, .jsonRPC] {
        var records: [[String: Observed]] = []
        do {
            let outcome = try scanner.scan(body, envelope: envelope) { view in
                records.append(exercise(copy view, size: size))
            }
            switch outcome {
            case .records(let count):
                check(count == records.count, "records(count:) \(count) but \(records.count) callbacks")
            case .error(let range), .otherResult(let range):
                check(range.lowerBound >= 0 && range.upperBound <= size, "outcome range \(range) outside 0..<\(size)")
            }
            if envelope == .json2 { json2 = (outcome, records) }
        } catch let error as RecordScanError {
            check(error.offset >= 0 && error.offset <= size, "error offset \(error.offset) outside 0...\(size)")
            if envelope == .json2 { json2Error = error }
        } catch {
            fatalError("unexpected error type \(error)")
        }
    }
    if differential { compareWithFoundation(body, json2, json2Error) }
    return 0
}

/// What the scanner reported for one field, as plain values.
private enum Observed: Equatable {
    case string([UInt8]), integer(Int?, Double?, String), float(Double?, String), bool(Bool), null, array(String), object
}

@inline(__always)
private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("RecordScanner fuzz: " + message()) }
}

/// Calls every accessor on every field and checks their mutual consistency.
private func exercise(_ view: RecordView, size: Int) -> [String: Observed] {
    check(view.range.lowerBound >= 0 && view.range.upperBound <= size && view.range.count >= 2, "record range \(view.range)")
    let base = view.rawBytes
    check(base.first == UInt8(ascii: "{") && base.last == UInt8(ascii: "}"), "record range does not span an object")
    var observed: [String: Observed] = [:]
    for (index, name) in fieldNames.enumerated() {
        let has = view.has(index)
        let raw = view.rawValue(index)
        let kind = view.kind(index)
        let int = view.int(index), double = view.double(index), bool = view.bool(index)
        let string = view.string(index), pair = view.many2one(index), list = view.intList(index)
        let pairID = view.many2oneID(index)
        let bytes = view.withUTF8String(index) { $0.map(Array.init) }
        let pairBytes = view.withUTF8Many2one(index) { $0.map { ($0.id, Array($0.name)) } }
        check(has == (raw != nil) && has == (kind != nil), "has/rawValue/kind disagree for \(name)")
        guard let raw, let kind else {
            check(int == nil && double == nil && bool == nil && string == nil && pair == nil && list == nil && bytes == nil
                  && pairID == nil && pairBytes == nil && !view.isFalseOrNull(index), "missing field \(name) has a value")
            continue
        }
        check(raw.lowerBound > view.range.lowerBound && raw.upperBound < view.range.upperBound, "value range outside record")
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: base[(raw.lowerBound - view.range.lowerBound)..<(raw.upperBound - view.range.lowerBound)]), as: UTF8.self)
        check((string != nil) == (kind == .string) && (bytes != nil) == (kind == .string), "string accessors vs kind for \(name)")
        if let string, let bytes {
            check(Array(string.utf8) == bytes, "string() and withUTF8String disagree for \(name)")
            check(String(validating: bytes, as: UTF8.self) != nil, "withUTF8String returned invalid UTF-8")
        }
        check((bool != nil) == (kind == .bool), "bool vs kind")
        check(view.isFalseOrNull(index) == (kind == .null || bool == false), "isFalseOrNull")
        check(int == nil || kind == .integer, "int() for a non-integer")
        if let int { check(double == Double(int), "double() != Double(int())") }
        check(double == nil || kind == .integer || kind == .float, "double() for a non-number")
        if let double { check(double.isFinite, "non-finite double") }
        check(pair == nil || kind == .array, "many2one for a non-array")
        check(pair?.id == pairID && pair?.id == pairBytes?.0, "many2one accessors disagree")
        if let pair, let pairBytes { check(Array(pair.name.utf8) == pairBytes.1, "many2one names disagree") }
        check(list == nil || kind == .array, "intList for a non-array")
        check(!(list != nil && pair != nil), "both an int list and a many2one")
        switch kind {
        case .string: observed[name] = .string(bytes ?? [])
        case .integer: observed[name] = .integer(int, double, text)
        case .float: observed[name] = .float(double, text)
        case .bool: observed[name] = .bool(bool ?? false)
        case .null: observed[name] = .null
        case .array: observed[name] = .array(text)
        case .object: observed[name] = .object
        }
    }
    return observed
}

// MARK: - Differential check against JSONSerialization

private func compareWithFoundation(
    _ body: UnsafeRawBufferPointer, _ scanned: (outcome: ScanOutcome, records: [[String: Observed]])?,
    _ scanError: RecordScanError?
) {
    let bytes = Array(body)
    let foundation: Any?
    var foundationError = ""
    do {
        foundation = try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)
    } catch {
        foundation = nil
        foundationError = "\((error as NSError).userInfo)"
    }
    guard let scanned else {
        guard let foundation else { return }  // both reject
        // Known cases JSONSerialization accepts and strict JSON does not.
        let reason = scanError?.reason ?? ""
        if reason.hasPrefix("trailing comma") { return }              // `[1,]`, `{"a":1,}`
        if reason.hasPrefix("expected a record object") { return }    // `[{}, 1]`: valid JSON, refused by design
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return }           // UTF-8 byte order mark
        if bytes.prefix(4).contains(0) || bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) {
            return                                                    // read as UTF-16/UTF-32
        }
        fatalError("JSONSerialization accepts what the scanner rejects (\(reason) at \(scanError?.offset ?? -1)): \(foundation)")
    }
    guard let foundation else {
        if foundationError.contains("not representable") { return }   // 1e400: valid JSON, no Double
        fatalError("the scanner accepts what JSONSerialization rejects: \(foundationError)")
    }
    guard case .records(let count) = scanned.outcome else {
        if let array = foundation as? [Any] { check(array.isEmpty || !(array.first is [String: Any]), "records not reported") }
        return
    }
    guard let array = foundation as? [Any], array.count == count else { fatalError("record count differs from JSONSerialization") }
    // JSONSerialization drops some raw U+FEFF characters from strings and keys (a key "\u{FEFF}"
    // becomes ""), so values cannot be matched by key when the body holds one.
    if bytes.indices.dropLast(2).contains(where: { bytes[$0] == 0xEF && bytes[$0 + 1] == 0xBB && bytes[$0 + 2] == 0xBF }) {
        return
    }
    for (record, observed) in zip(array, scanned.records) {
        guard let dict = record as? [String: Any] else { fatalError("JSONSerialization element is not an object") }
        for name in fieldNames {
            compare(dict[name], observed[name], name: name)
        }
    }
}

private func compare(_ expected: Any?, _ observed: Observed?, name: String) {
    switch (expected, observed) {
    case (nil, nil): return
    case (is NSNull, .null?): return
    case (let s as String, .string(let bytes)?):
        let strip = { (t: String) in String(String.UnicodeScalarView(t.unicodeScalars.filter { $0 != "\u{FEFF}" })) }
        // JSONSerialization drops some raw U+FEFF characters; compare without them.
        check(strip(String(decoding: bytes, as: UTF8.self)) == strip(s), "string \(name) differs: \(s)")
    case (let n as NSNumber, .bool(let b)?):
        check(String(cString: n.objCType) == "c" && n.boolValue == b, "bool \(name) differs")
    case (let n as NSNumber, .integer(let int, let double, let text)?):
        check(String(cString: n.objCType) != "c", "number \(name) is a bool")
        check(int == Int(text), "int \(name) differs from Int(\(text))")
        checkDouble(double, text: text, n)
    case (let n as NSNumber, .float(let double, let text)?):
        check(String(cString: n.objCType) != "c", "number \(name) is a bool")
        checkDouble(double, text: text, n)
    case (is [Any], .array?), (is [String: Any], .object?):
        return
    default:
        fatalError("field \(name): JSONSerialization has \(String(describing: expected)), scanner \(String(describing: observed))")
    }
}

private func checkDouble(_ double: Double?, text: String, _ n: NSNumber) {
    let exact = Double(text)  // correctly rounded (strtod)
    if let exact, exact.isFinite {
        check(double == exact, "double \(text): scanner \(String(describing: double)), strtod \(exact)")
    }
    // JSONSerialization mis-rounds some literals with more than 15 significant digits.
    let digits = text.prefix { $0 != "e" && $0 != "E" }.filter(\.isNumber).drop { $0 == "0" }.count
    if digits <= 15 {
        check(double == n.doubleValue, "double \(text): scanner \(String(describing: double)), JSONSerialization \(n.doubleValue)")
    }
}
