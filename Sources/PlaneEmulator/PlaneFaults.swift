import Foundation

public enum PlaneFaultKind: Sendable, Equatable {
    /// Plane's own 500 (`{"error": "Something went wrong please try again later"}`) or a 502/503
    /// page from the proxy in front of it, chosen by the plan's seed. Nothing is applied.
    case serverError
    /// A specific status: 500 with Plane's JSON, anything else with an nginx page.
    case httpError(status: Int)
    /// The proxy's nginx page with this status, 500 included (Plane itself restarting).
    case proxyPage(status: Int)
    /// Plane's 400 for a value its serializer will not take, `{"<field>": ["<message>"]}`, as
    /// for a rule the emulator does not model (a uniqueness or permission check in a plugin,
    /// say). Nothing is applied.
    case refused(field: String, message: String)
    /// The connection breaks before the answer. Nothing is applied.
    case dropConnection
    /// The request is applied, then the connection breaks: a lost answer.
    case dropAfterApply
    /// The answer is delayed, then served normally.
    case latency(milliseconds: Int)
    /// A 429 as the throttle sends it, whatever the real rate limit says.
    case rateLimited(retryAfter: Int)
}

/// Seeded, reproducible fault injection: eligible request *n* (counted since the plan was set)
/// is faulted when a hash of (seed, n) falls under `rate`.
public struct PlaneFaultPlan: Sendable, Equatable {
    public var rate: Double
    public var kinds: [PlaneFaultKind]
    public var seed: UInt64
    /// Only requests with these methods ("GET", "POST", ...); nil means all.
    public var methods: Set<String>?
    /// Only paths containing one of these fragments (e.g. "/issues/"); nil means all.
    public var pathContains: [String]?
    /// The first `afterRequests` eligible requests are never faulted.
    public var afterRequests: Int
    /// Stop after this many faults.
    public var maxFaults: Int?

    public init(rate: Double, kinds: [PlaneFaultKind], seed: UInt64 = 1, methods: Set<String>? = nil, pathContains: [String]? = nil,
                afterRequests: Int = 0, maxFaults: Int? = nil) {
        self.rate = min(1, max(0, rate))
        self.kinds = kinds
        self.seed = seed
        self.methods = methods
        self.pathContains = pathContains
        self.afterRequests = afterRequests
        self.maxFaults = maxFaults
    }

    public static let none = PlaneFaultPlan(rate: 0, kinds: [])

    /// Exactly one fault, on the eligible request numbered `afterRequests + 1`.
    public static func once(_ kind: PlaneFaultKind, methods: Set<String>? = nil, pathContains: [String]? = nil,
                            afterRequests: Int = 0) -> PlaneFaultPlan {
        PlaneFaultPlan(rate: 1, kinds: [kind], methods: methods, pathContains: pathContains, afterRequests: afterRequests, maxFaults: 1)
    }

    func applies(method: String, path: String) -> Bool {
        if let methods, !methods.contains(method) { return false }
        if let pathContains, !pathContains.contains(where: { path.contains($0) }) { return false }
        return true
    }

    func decide(requestNumber n: Int) -> PlaneFaultKind? {
        guard !kinds.isEmpty, rate > 0, n > afterRequests else { return nil }
        var mixer = SeededGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15))
        let draw = Double(mixer.next() >> 11) / Double(1 << 53)
        guard draw < rate else { return nil }
        let kind = kinds[Int(mixer.next() % UInt64(kinds.count))]
        if kind == .serverError { return .httpError(status: [500, 502, 503][Int(mixer.next() % 3)]) }
        return kind
    }
}

/// SplitMix64: small, fast and seedable, so generated data and faults repeat for a seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
