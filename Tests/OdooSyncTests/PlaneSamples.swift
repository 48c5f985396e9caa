import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OdooSyncCore

/// One recorded exchange of `../shared/reference/samples/plane/*.http`.
struct PlaneSample {
    var method: String
    var path: String
    var requestBody: String?
    var status: Int
    /// Header names lowercased.
    var headers: [String: String]
    var body: JSONValue?

    static func load(_ name: String) throws -> PlaneSample {
        let text = try String(contentsOf: PlaneHarness.samples.appendingPathComponent("\(name).http"), encoding: .utf8)
            .replacingOccurrences(of: "\r\n", with: "\n")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = lines.removeFirst().split(separator: " ")
        var sample = PlaneSample(method: first.count > 1 ? String(first[1]) : "", path: first.count > 2 ? String(first[2]) : "",
                                 requestBody: nil, status: 0, headers: [:], body: nil)
        while let line = lines.first, !line.hasPrefix("HTTP/") {
            if line.hasPrefix("### request body: ") { sample.requestBody = String(line.dropFirst("### request body: ".count)) }
            lines.removeFirst()
        }
        guard let statusLine = lines.first else { return sample }
        sample.status = Int(statusLine.split(separator: " ")[1]) ?? 0
        lines.removeFirst()
        while let line = lines.first, !line.isEmpty {
            if let colon = line.firstIndex(of: ":") {
                sample.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            lines.removeFirst()
        }
        let body = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if !body.isEmpty { sample.body = try OrderedJSON.parse(body) }
        return sample
    }
}

/// A raw answer from the emulator, its body parsed keeping key order.
struct RawReply {
    var status: Int
    var headers: [String: String]
    var body: Data
    var json: JSONValue? { try? OrderedJSON.parse(String(decoding: body, as: UTF8.self)) }
}

/// Plain HTTP to the emulator, to see statuses, headers and bodies as they are.
struct RawPlane {
    let base: URL
    let key: String?
    let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 20
        return URLSession(configuration: configuration)
    }()

    func send(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> RawReply {
        guard let url = URL(string: "/api/v1/" + path, relativeTo: base) else { throw URLError(.badURL) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let key { request.setValue(key, forHTTPHeaderField: "X-API-Key") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return RawReply(status: http.statusCode, headers: fields, body: data)
    }
}

/// JSON parsing that keeps object keys in document order (JSONSerialization sorts them), so
/// that the emulator's serializer order can be compared with the recorded one.
enum OrderedJSON {
    struct Failure: Error {}

    static func parse(_ text: String) throws -> JSONValue {
        var scalars = Array(text.unicodeScalars)[...]
        let value = try parseValue(&scalars)
        skip(&scalars)
        guard scalars.isEmpty else { throw Failure() }
        return value
    }

    private static func skip(_ s: inout ArraySlice<Unicode.Scalar>) {
        while let c = s.first, c == " " || c == "\n" || c == "\t" || c == "\r" { s.removeFirst() }
    }

    private static func parseValue(_ s: inout ArraySlice<Unicode.Scalar>) throws -> JSONValue {
        skip(&s)
        guard let c = s.first else { throw Failure() }
        switch c {
        case "{":
            s.removeFirst()
            var pairs: [(String, JSONValue)] = []
            skip(&s)
            if s.first == "}" { s.removeFirst(); return .object([]) }
            while true {
                skip(&s)
                guard case .string(let key) = try parseValue(&s) else { throw Failure() }
                skip(&s)
                guard s.popFirst() == ":" else { throw Failure() }
                pairs.append((key, try parseValue(&s)))
                skip(&s)
                let next = s.popFirst()
                if next == "}" { return .object(pairs) }
                guard next == "," else { throw Failure() }
            }
        case "[":
            s.removeFirst()
            var items: [JSONValue] = []
            skip(&s)
            if s.first == "]" { s.removeFirst(); return .array([]) }
            while true {
                items.append(try parseValue(&s))
                skip(&s)
                let next = s.popFirst()
                if next == "]" { return .array(items) }
                guard next == "," else { throw Failure() }
            }
        case "\"":
            s.removeFirst()
            var out = ""
            while let c = s.popFirst() {
                if c == "\"" { return .string(out) }
                if c == "\\" {
                    guard let e = s.popFirst() else { throw Failure() }
                    switch e {
                    case "n": out += "\n"
                    case "t": out += "\t"
                    case "r": out += "\r"
                    case "b": out += "\u{8}"
                    case "f": out += "\u{C}"
                    case "u":
                        let hex = String(String.UnicodeScalarView(s.prefix(4)))
                        s.removeFirst(min(4, s.count))
                        guard let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else { throw Failure() }
                        out.unicodeScalars.append(scalar)
                    default: out.unicodeScalars.append(e)
                    }
                } else {
                    out.unicodeScalars.append(c)
                }
            }
            throw Failure()
        default:
            var word = ""
            while let c = s.first, !(c == "," || c == "}" || c == "]" || c == " " || c == "\n" || c == "\r" || c == "\t") {
                word.unicodeScalars.append(c)
                s.removeFirst()
            }
            switch word {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            default:
                if !word.contains("."), !word.contains("e"), !word.contains("E"), let i = Int(word) { return .int(i) }
                if let d = Double(word) { return .double(d) }
                throw Failure()
            }
        }
    }
}

/// Differences between a recorded answer's shape and the emulator's: the same keys in the same
/// order for objects and for the objects inside lists (deeper only the same keys), and the
/// same JSON type wherever both sides have a value.
func shapeDifferences(_ sample: JSONValue, _ ours: JSONValue, at path: String = "$", depth: Int = 0) -> [String] {
    switch (sample, ours) {
    case (.null, _), (_, .null): return []
    case let (.object(a), .object(b)):
        var problems: [String] = []
        let keysA = a.map(\.0), keysB = b.map(\.0)
        if depth <= 1 ? keysA != keysB : Set(keysA) != Set(keysB) {
            problems.append("\(path): keys \(keysA) ≠ \(keysB)")
        }
        for (key, value) in a {
            if let other = b.first(where: { $0.0 == key })?.1 {
                problems += shapeDifferences(value, other, at: "\(path).\(key)", depth: depth + 1)
            }
        }
        return problems
    case let (.array(a), .array(b)):
        guard let x = a.first, let y = b.first else { return [] }
        return shapeDifferences(x, y, at: "\(path)[0]", depth: depth)
    case (.int, .int), (.double, .double), (.string, .string), (.bool, .bool): return []
    default: return ["\(path): \(sample.serialized.prefix(40)) vs \(ours.serialized.prefix(40))"]
    }
}

extension JSONValue {
    /// The object without `keys` (ids that differ between servers).
    func removing(_ keys: Set<String>) -> JSONValue {
        guard case .object(let pairs) = self else { return self }
        return .object(pairs.filter { !keys.contains($0.0) })
    }
}
