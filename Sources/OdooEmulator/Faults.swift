import Foundation

public enum FaultKind: Sendable, Equatable {
    /// A 502 or 503 from an nginx in front of Odoo, or Odoo's own 500 page (chosen by the
    /// plan's seed). The request is not processed.
    case serverError
    /// A specific status: 502/503/504 with nginx's page, anything else with werkzeug's page.
    case httpError(status: Int)
    /// The connection closes before any response byte. The request is not processed.
    case dropConnection
    /// Headers announce the full Content-Length, half the body follows, then the connection
    /// closes. A write is evaluated but not applied, so nothing changes silently.
    case truncatedBody
    /// The response is delayed, then served normally.
    case latency(milliseconds: Int)
    /// The request is processed (a write is applied), then the connection closes without a
    /// response: a lost reply.
    case dropAfterApply
}

/// Seeded, reproducible fault injection. Request *n* (counting requests that match `onlyPaths`
/// since the plan was set) is faulted when a hash of (seed, n) falls under `rate`, so the same
/// plan and the same request sequence fault the same requests.
public struct FaultPlan: Sendable, Equatable {
    public var rate: Double
    public var kinds: [FaultKind]
    public var seed: UInt64
    /// Path prefixes that may be faulted (e.g. ["/jsonrpc", "/json/2/"]); nil means every path.
    public var onlyPaths: [String]?
    /// The first `afterRequests` eligible requests are never faulted.
    public var afterRequests: Int
    /// Stop injecting after this many faults.
    public var maxFaults: Int?

    public init(
        rate: Double, kinds: [FaultKind], seed: UInt64 = 1, onlyPaths: [String]? = nil, afterRequests: Int = 0,
        maxFaults: Int? = nil
    ) {
        self.rate = min(1, max(0, rate))
        self.kinds = kinds
        self.seed = seed
        self.onlyPaths = onlyPaths
        self.afterRequests = afterRequests
        self.maxFaults = maxFaults
    }

    public static let none = FaultPlan(rate: 0, kinds: [])

    /// Exactly one fault of `kind`, on the eligible request numbered `afterRequests + 1`.
    public static func once(_ kind: FaultKind, afterRequests: Int = 0, onlyPaths: [String]? = nil) -> FaultPlan {
        FaultPlan(rate: 1, kinds: [kind], onlyPaths: onlyPaths, afterRequests: afterRequests, maxFaults: 1)
    }

    func applies(toPath path: String) -> Bool {
        guard let onlyPaths else { return true }
        return onlyPaths.contains { path.hasPrefix($0) }
    }

    /// The fault for the eligible request with 1-based number `n`, ignoring `maxFaults`.
    func decide(requestNumber n: Int) -> FaultKind? {
        guard !kinds.isEmpty, rate > 0, n > afterRequests else { return nil }
        var mixer = SplitMix64(seed: seed ^ (UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15))
        let draw = Double(mixer.next() >> 11) / Double(1 << 53)
        guard draw < rate else { return nil }
        let kind = kinds[Int(mixer.next() % UInt64(kinds.count))]
        if kind == .serverError { return .httpError(status: [502, 503, 500][Int(mixer.next() % 3)]) }
        return kind
    }
}

/// Small, fast, seedable generator (the same one Java's SplittableRandom uses).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Canned HTML pages for the failure modes and for werkzeug-rendered HTTP errors.
enum ErrorPages {
    static func nginx(status: Int) -> String {
        let title: String
        switch status {
        case 502: title = "502 Bad Gateway"
        case 503: title = "503 Service Temporarily Unavailable"
        case 504: title = "504 Gateway Time-out"
        default: title = "\(status) Error"
        }
        return "<html>\r\n<head><title>\(title)</title></head>\r\n<body>\r\n<center><h1>\(title)</h1></center>\r\n"
            + "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    }

    /// werkzeug's `HTTPException.get_body()` (2.x): description escaped, newlines as `<br>`.
    static func werkzeug(status: Int, description: String) -> String {
        let reason = OdooError.reasonPhrases[status] ?? "Error"
        let escaped = htmlEscape(description).replacingOccurrences(of: "\n", with: "<br>")
        return "<!doctype html>\n<html lang=en>\n<title>\(status) \(reason)</title>\n<h1>\(reason)</h1>\n<p>\(escaped)</p>\n"
    }

    static let notFoundDescription =
        "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."

    static let internalErrorDescription =
        "The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application."

    /// Odoo's answer to a JSON-2 call naming a database that does not exist (byte for byte).
    static let noDatabase =
        "<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>\n<p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n\n<!-- Alternatively, use the X-Odoo-Database header. -->\n"

    static func htmlEscape(_ text: String) -> String {
        var out = ""
        for char in text {
            switch char {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.append(char)
            }
        }
        return out
    }
}
