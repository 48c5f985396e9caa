import Foundation

/// A web session created by /web/session/authenticate.
struct WebSession: Sendable {
    let id: String
    let uid: Int
    let login: String
    let db: String
}

/// The authenticated caller of a model method.
struct Caller: Sendable {
    let user: EmulatorUser
    let name: String
    let tz: String
    var uid: Int { user.uid }
}

/// Everything mutable behind one lock. Reads copy the (copy-on-write) store out and work
/// unlocked; writes validate and apply while holding it, like a serialized transaction.
final class EmulatorCore: @unchecked Sendable {
    let configuration: OdooEmulatorConfiguration
    let cache = RenderCache()
    /// Models some many2one points at: renaming their records changes other models' rows.
    let referencedModels: Set<String>

    private let lock = NSLock()
    private var state: StoreState
    private var sessions: [String: WebSession] = [:]
    private var faultPlan: FaultPlan
    private var eligibleRequests = 0
    private var faultsInjected = 0
    /// The decision for each request the plan applied to, in order (nil: served normally).
    private var decisions: [FaultKind?] = []
    private var requests = 0

    // Requests being answered now, and the most at once since the last reset: tests read it to
    // see that a client really overlaps its requests.
    private var inFlight = 0
    private var inFlightPeak = 0

    func enterRequest() { locked { inFlight += 1; inFlightPeak = max(inFlightPeak, inFlight) } }
    func leaveRequest() { locked { inFlight -= 1 } }
    var peakInFlight: Int { locked { inFlightPeak } }
    func resetPeakInFlight() { locked { inFlightPeak = inFlight } }
    private var callsByMethod: [String: Int] = [:]
    private var servedByModel: [String: Int] = [:]
    private var recorded: [RecordedWrite] = []
    private var clock: (@Sendable () -> Date)?
    private var publicURL = "http://127.0.0.1:8069"

    var baseURL: String {
        get { locked { publicURL } }
        set { locked { publicURL = newValue } }
    }

    init(state: StoreState, configuration: OdooEmulatorConfiguration) {
        self.state = state
        self.configuration = configuration
        self.faultPlan = configuration.faults
        var referenced = Set<String>()
        for table in state.tables.values {
            for field in table.schema.fields where field.kind == .many2one {
                if let relation = field.relation { referenced.insert(relation) }
            }
        }
        self.referencedModels = referenced
    }

    func locked<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    func snapshot() -> StoreState {
        locked { state }
    }

    func mutate<R>(_ body: (inout StoreState) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }

    // MARK: time

    func setClock(_ clock: (@Sendable () -> Date)?) {
        locked { self.clock = clock }
    }

    func nowMicros() -> Int64 {
        let override = locked { clock }
        return override.map { TimeUtil.micros(of: $0()) } ?? TimeUtil.now()
    }

    // MARK: users

    /// Record rules changed since start, by uid (an administrator editing the rule or the
    /// user's groups): the records they hide or show change without any record being written.
    private var ownLeadsOnlyNow: [Int: Bool] = [:]

    func setOwnLeadsOnly(uid: Int, _ value: Bool) { locked { ownLeadsOnlyNow[uid] = value } }

    private func current(_ user: EmulatorUser?) -> EmulatorUser? {
        guard var user else { return nil }
        if let rule = locked({ ownLeadsOnlyNow[user.uid] }) { user.ownLeadsOnly = rule }
        return user
    }

    func user(login: String) -> EmulatorUser? { current(configuration.users.first { $0.login == login }) }
    func user(uid: Int) -> EmulatorUser? { current(configuration.users.first { $0.uid == uid }) }

    /// common.login / execute_kw: password or API key; session login: password only.
    func checkCredentials(_ user: EmulatorUser, secret: String, allowAPIKey: Bool) -> Bool {
        secret == user.password || (allowAPIKey && !user.apiKey.isEmpty && secret == user.apiKey)
    }

    func user(apiKey: String) -> EmulatorUser? {
        current(configuration.users.first { !$0.apiKey.isEmpty && $0.apiKey == apiKey })
    }

    func caller(for user: EmulatorUser, in state: StoreState) -> Caller {
        let record = state.tables["res.users"]?.record(id: user.uid)
        let schema = state.tables["res.users"]?.schema
        var name = user.login
        var tz = "UTC"
        if let record, let schema {
            name = ModelTable.displayName(of: record, schema: schema)
            if let index = schema.fieldIndex["tz"], case .text(let zone) = record.values[index] { tz = zone }
        }
        return Caller(user: user, name: name, tz: tz)
    }

    func caller(for user: EmulatorUser) -> Caller {
        caller(for: user, in: snapshot())
    }

    // MARK: sessions

    func openSession(user: EmulatorUser) -> WebSession {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let id = String((0..<84).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
        let session = WebSession(id: id, uid: user.uid, login: user.login, db: configuration.database)
        locked { sessions[id] = session }
        return session
    }

    func session(id: String) -> WebSession? { locked { sessions[id] } }

    func closeSession(id: String) { locked { sessions[id] = nil } }

    func closeAllSessions() { locked { sessions = [:] } }

    // MARK: requests and faults

    /// Counts the request and decides its fault, if any.
    func admitRequest(path: String) -> FaultKind? {
        locked {
            requests += 1
            guard faultPlan.applies(toPath: path) else { return nil }
            eligibleRequests += 1
            if let cap = faultPlan.maxFaults, faultsInjected >= cap { decisions.append(nil); return nil }
            let fault = faultPlan.decide(requestNumber: eligibleRequests)
            decisions.append(fault)
            if fault != nil { faultsInjected += 1 }
            return fault
        }
    }

    func setFaults(_ plan: FaultPlan) {
        locked {
            faultPlan = plan
            eligibleRequests = 0
            faultsInjected = 0
            decisions = []
        }
    }

    var requestCount: Int { locked { requests } }

    var faultDecisions: [FaultKind?] { locked { decisions } }

    func countCall(model: String, method: String) { locked { callsByMethod[model + "." + method, default: 0] += 1 } }

    func callCount(model: String, method: String) -> Int { locked { callsByMethod[model + "." + method] ?? 0 } }

    func countServed(model: String, _ rows: Int) { locked { servedByModel[model, default: 0] += rows } }

    func servedCount(model: String) -> Int { locked { servedByModel[model] ?? 0 } }

    func record(_ write: RecordedWrite) { locked { recorded.append(write) } }

    var writes: [RecordedWrite] { locked { recorded } }
}
