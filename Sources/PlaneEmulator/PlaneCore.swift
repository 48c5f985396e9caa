import Foundation
import OdooSyncCore

/// A request as the emulator sees it.
struct PlaneHTTPRequest: Sendable {
    var method: String
    var path: String
    var query: [(String, String)]
    /// Header names lowercased.
    var headers: [String: String]
    var body: [UInt8]

    func queryValue(_ name: String) -> String? { query.last { $0.0 == name }?.1 }
}

/// An answer: JSON (or an empty body for 204) or a raw page from the proxy in front of Plane.
struct PlaneHTTPReply: Error, Sendable {
    var status: Int
    var json: JSONValue?
    var headers: [(String, String)] = []
    var html: String? = nil

    static func json(_ status: Int, _ value: JSONValue) -> PlaneHTTPReply { PlaneHTTPReply(status: status, json: value) }
    static func error(_ status: Int, _ message: String) -> PlaneHTTPReply { .json(status, ["error": .string(message)]) }
    static func detail(_ status: Int, _ message: String) -> PlaneHTTPReply { .json(status, ["detail": .string(message)]) }
    static let noContent = PlaneHTTPReply(status: 204, json: nil)
    static let pageNotFound = PlaneHTTPReply.error(404, "Page not found.")
    static let doesNotExist = PlaneHTTPReply.error(404, "The requested resource does not exist.")
    static let forbidden = PlaneHTTPReply.detail(403, "You do not have permission to perform this action.")
    static let somethingWentWrong = PlaneHTTPReply.error(500, "Something went wrong please try again later")

    /// `{"field": ["message"]}`, a serializer error.
    static func field(_ name: String, _ message: String) -> PlaneHTTPReply {
        .json(400, .object([(name, .array([.string(message)]))]))
    }
}

/// What a handler gets: the caller, the parsed body and the request's timestamp.
struct HandlerContext {
    let user: PlaneUser
    let request: PlaneHTTPRequest
    let body: [String: JSONValue]
    let now: String
    var method: String { request.method }
}

/// Everything mutable behind one lock. A request is handled start to finish while holding
/// it, like one database transaction.
final class PlaneCore: @unchecked Sendable {
    let configuration: PlaneEmulatorConfiguration
    private let lock = NSLock()
    /// Any change to the data drops the cached issue orders.
    var store: PlaneStore {
        didSet { listCache.removeAll(keepingCapacity: true) }
    }
    /// Sorted issue lists by project and order, reused while the data does not change: every
    /// page of a 10,000-issue listing would otherwise filter and sort the project again.
    private var listCache: [String: [Entity]] = [:]
    /// The last timestamp handed out, kept out of `store` so that taking one (every request
    /// does) leaves the cache alone.
    private var lastStamp: Int64
    var random: SeededGenerator
    private var faultPlan: PlaneFaultPlan
    private var eligibleRequests = 0
    private var faultsInjected = 0
    private var requests = 0

    // Requests being answered now, and the most at once since the last reset: tests read it to
    // see that a client really overlaps its requests.
    private var inFlight = 0
    private var inFlightPeak = 0

    func enterRequest() { locked { inFlight += 1; inFlightPeak = max(inFlightPeak, inFlight) } }
    func leaveRequest() { locked { inFlight -= 1 } }
    var peakInFlight: Int { locked { inFlightPeak } }
    func resetPeakInFlight() { locked { inFlightPeak = inFlight } }
    private var recorded: [PlaneRecordedWrite] = []
    /// "GET /api/v1/...?query" of every request, faulted ones included.
    private(set) var requestLog: [String] = []
    private var throttleHistory: [String: [Double]] = [:]
    private var rateLimit: Int?
    private var rateWindow: Int
    private var clock: (@Sendable () -> Date)?
    private var requestHook: (@Sendable (String) -> Void)?
    /// Where the server listens, once started (read and written under the lock).
    var baseHost = "http://127.0.0.1"

    init(store: PlaneStore, configuration: PlaneEmulatorConfiguration) {
        self.store = store
        self.lastStamp = store.lastStamp
        self.configuration = configuration
        self.faultPlan = configuration.faults
        self.rateLimit = configuration.rateLimit
        self.rateWindow = configuration.rateWindow
        self.random = SeededGenerator(seed: configuration.seed ^ 0x5EED_0F_9_1A_4E)
    }

    func locked<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    func snapshot() -> PlaneStore { locked { store } }

    // MARK: time

    func setClock(_ clock: (@Sendable () -> Date)?) { locked { self.clock = clock } }

    /// A timestamp later than every one handed out before (call with the lock held).
    func nextStamp() -> String {
        let now = Stamp.micros(clock?() ?? Date())
        lastStamp = max(now, lastStamp + 1)
        return Stamp.text(lastStamp)
    }

    /// `build`'s list, from the cache while the data is unchanged (call with the lock held).
    func cachedList(_ key: String, _ build: () -> [Entity]) -> [Entity] {
        if let hit = listCache[key] { return hit }
        let list = build()
        listCache[key] = list
        return list
    }

    func newID() -> String { Stamp.uuid(&random) }

    // MARK: faults, throttle, observation

    func admit(method: String, path: String, query: String?) -> PlaneFaultKind? {
        locked {
            requests += 1
            requestLog.append(method + " " + path + (query.map { "?" + $0 } ?? ""))
            guard faultPlan.applies(method: method, path: path) else { return nil }
            eligibleRequests += 1
            if let cap = faultPlan.maxFaults, faultsInjected >= cap { return nil }
            guard let fault = faultPlan.decide(requestNumber: eligibleRequests) else { return nil }
            faultsInjected += 1
            return fault
        }
    }

    func setFaults(_ plan: PlaneFaultPlan) {
        locked {
            faultPlan = plan
            eligibleRequests = 0
            faultsInjected = 0
        }
    }

    func setRateLimit(_ limit: Int?, window: Int) {
        locked {
            rateLimit = limit
            rateWindow = max(1, window)
            throttleHistory = [:]
        }
    }

    var requestCount: Int { locked { requests } }

    func setRequestHook(_ hook: (@Sendable (String) -> Void)?) { locked { requestHook = hook } }

    /// Outside the lock, so that the hook can change the data before the request sees it.
    func callRequestHook(method: String, path: String, query: String?) {
        guard let hook = locked({ requestHook }) else { return }
        hook(method + " " + path + (query.map { "?" + $0 } ?? ""))
    }

    var requestLines: [String] { locked { requestLog } }

    func record(_ write: PlaneRecordedWrite) { locked { recorded.append(write) } }

    var writes: [PlaneRecordedWrite] { locked { recorded } }

    func clearWrites() {
        locked {
            recorded.removeAll()
            requestLog.removeAll()
        }
    }

    /// DRF's SimpleRateThrottle with Plane's headers: a sliding window per key; a throttled
    /// request is not counted. Returns the 429 to send, or the headers of an allowed request.
    private func throttle(key: String) -> Result<[(String, String)], PlaneHTTPReply> {
        guard let limit = rateLimit else { return .success([]) }
        let now = (clock?() ?? Date()).timeIntervalSince1970
        let window = Double(rateWindow)
        var history = throttleHistory[key, default: []].filter { $0 > now - window }
        if history.count >= limit {
            throttleHistory[key] = history
            // DRF truncates the wait to whole seconds.
            let wait = window - (now - (history.first ?? now))
            var reply = PlaneHTTPReply.json(429, ["error_code": 5900, "error_message": "RATE_LIMIT_EXCEEDED"])
            reply.headers = [("Retry-After", String(Int(max(0, wait))))]
            return .failure(reply)
        }
        history.append(now)
        throttleHistory[key] = history
        return .success([("X-RateLimit-Remaining", String(limit - history.count)),
                         ("X-RateLimit-Reset", String(Int(now) + rateWindow))])
    }

    // MARK: handling

    /// Authentication, permission, throttle, then the handler, as DRF orders them: 401 and
    /// 403 answers do not use up the rate limit, 405 and 404 do.
    func handle(_ request: PlaneHTTPRequest) -> PlaneHTTPReply {
        locked {
            guard let route = PlaneRoute.parse(request.path) else { return .pageNotFound }
            var reply = authorizeAndDispatch(route, request)
            reply.headers.append(("Allow", route.allow))
            return reply
        }
    }

    private func authorizeAndDispatch(_ route: PlaneRoute, _ request: PlaneHTTPRequest) -> PlaneHTTPReply {
        guard let key = request.headers["x-api-key"], !key.isEmpty else {
            return .detail(401, "Authentication credentials were not provided.")
        }
        guard let user = store.user(apiKey: key) else { return .detail(403, "Given API token is not valid") }
        let writing = request.method != "GET"
        if let slug = route.workspace {
            guard slug == store.workspaceSlug else { return .forbidden }
        }
        if case .project = route, let projectID = route.project {
            // The project views check workspace membership only: a missing project is a 404 there.
            guard store.liveProject(projectID) != nil else {
                return throttled(key: key, reply: .doesNotExist)
            }
            if writing && (store.projectRole(projectID, user: user.id) ?? 0) < (request.method == "DELETE" ? 20 : 15) { return .forbidden }
        } else if let projectID = route.project {
            // Everything inside a project needs membership of it: otherwise 403, not 404.
            guard store.liveProject(projectID) != nil, let role = store.projectRole(projectID, user: user.id) else { return .forbidden }
            if writing && role < 15 { return .forbidden }
        } else if writing, route.workspace != nil, user.role < 15 {
            return .forbidden
        }
        let rateHeaders: [(String, String)]
        switch throttle(key: key) {
        case .failure(let reply): return reply
        case .success(let headers): rateHeaders = headers
        }
        var reply: PlaneHTTPReply
        if !route.allow.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }).contains(request.method) {
            reply = .detail(405, "Method \"\(request.method)\" not allowed.")
        } else {
            switch parseBody(request) {
            case .failure(let error): reply = error
            case .success(let body):
                let context = HandlerContext(user: user, request: request, body: body, now: nextStamp())
                reply = dispatch(route, context)
            }
        }
        reply.headers += rateHeaders
        return reply
    }

    /// An answer decided before the handler that still counts against the rate limit.
    private func throttled(key: String, reply: PlaneHTTPReply) -> PlaneHTTPReply {
        switch throttle(key: key) {
        case .failure(let limited): return limited
        case .success(let headers):
            var reply = reply
            reply.headers += headers
            return reply
        }
    }

    private func parseBody(_ request: PlaneHTTPRequest) -> Result<[String: JSONValue], PlaneHTTPReply> {
        guard !request.body.isEmpty, request.method != "GET" else { return .success([:]) }
        guard let value = try? JSONValue.parse(Data(request.body)) else {
            return .failure(.detail(400, "JSON parse error - Expecting value: line 1 column 1 (char 0)"))
        }
        var fields: [String: JSONValue] = [:]
        for (key, item) in value.objectValue ?? [] { fields[key] = item }
        return .success(fields)
    }

    private func dispatch(_ route: PlaneRoute, _ c: HandlerContext) -> PlaneHTTPReply {
        switch route {
        case .me:
            return .json(200, renderer(c).user(c.user))
        case .workspaceMembers:
            return .json(200, .array(store.userOrder.compactMap { store.users[$0] }.map { renderer(c).user($0, role: $0.role) }))
        case .projects: return c.method == "GET" ? listProjects(c) : createProject(c)
        case .project(_, let id):
            switch c.method {
            case "GET": return .json(200, renderer(c).project(store.projects[id] ?? Entity(fields: [:])))
            case "PATCH": return updateProject(id, c)
            default: return deleteProject(id)
            }
        case .projectArchive(_, let id): return archiveProject(id, archive: c.method == "POST", c)
        case .projectMembers(_, let id): return c.method == "GET" ? listProjectMembers(id, c) : addProjectMember(id, c)
        case .projectMember(_, let project, let member): return projectMember(project, member, c)
        case .states(_, let project): return c.method == "GET" ? listStates(project, c) : createState(project, c)
        case .state(_, let project, let id): return state(project, id, c)
        case .labels(_, let project): return c.method == "GET" ? listLabels(project, c) : createLabel(project, c)
        case .label(_, let project, let id): return label(project, id, c)
        case .issues(_, let project): return c.method == "GET" ? listIssues(project, c) : createIssue(project, c)
        case .issue(_, let project, let id):
            switch c.method {
            case "GET": return getIssue(project, id, c)
            case "PATCH": return updateIssue(project, id, c)
            default: return deleteIssue(project, id)
            }
        case .issueByKey(_, let identifier, let sequence): return issueByKey(identifier, sequence, c)
        case .issueSearch: return searchIssues(c)
        case .cycles(_, let project): return c.method == "GET" ? listCycles(project, c) : createCycle(project, c)
        case .cycle(_, let project, let id): return cycle(project, id, c)
        case .cycleIssues(_, let project, let cycle):
            return c.method == "GET" ? listContainerIssues(.cycle, project, cycle, c) : addContainerIssues(.cycle, project, cycle, c)
        case .cycleIssue(_, let project, let cycle, let issue): return containerIssue(.cycle, project, cycle, issue, c)
        case .modules(_, let project): return c.method == "GET" ? listModules(project, c) : createModule(project, c)
        case .module(_, let project, let id): return module(project, id, c)
        case .moduleIssues(_, let project, let module):
            return c.method == "GET" ? listContainerIssues(.module, project, module, c) : addContainerIssues(.module, project, module, c)
        case .moduleIssue(_, let project, let module, let issue): return containerIssue(.module, project, module, issue, c)
        case .containerArchive(_, let project, let kind, let id): return archiveContainer(kind, project, id, archive: true, c)
        case .containerUnarchive(_, let project, let kind, let id): return archiveContainer(kind, project, id, archive: false, c)
        case .archivedContainers(_, let project, let kind): return listArchivedContainers(kind, project, c)
        }
    }

    func renderer(_ c: HandlerContext) -> PlaneRenderer {
        var renderer = PlaneRenderer(store: store, viewer: c.user)
        if let fields = c.request.queryValue("fields"), !fields.isEmpty {
            renderer.only = Set(fields.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        return renderer
    }

    // MARK: pagination and ordering

    /// Plane's BasePaginator over `items`: `per_page` (default and max 1000) and the cursor
    /// "per_page:page:is_prev", whose offset comes from the `per_page` parameter.
    func paginate(_ items: [Entity], _ c: HandlerContext, render: (Entity) -> JSONValue) -> PlaneHTTPReply {
        var perPage = 1000
        if let text = c.request.queryValue("per_page") {
            guard let n = Int(text) else { return .detail(400, "Invalid per_page parameter.") }
            if n > 1000 { return .detail(400, "Invalid per_page value. Cannot exceed 1000.") }
            // Plane divides by it: per_page=0 is an unhandled exception.
            if n <= 0 { return .somethingWentWrong }
            perPage = n
        }
        var pageIndex = 0
        if let cursor = c.request.queryValue("cursor") {
            let parts = cursor.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, Int(parts[0]) != nil, let index = Int(parts[1]), Int(parts[2]) != nil else {
                return .detail(400, "Invalid cursor parameter.")
            }
            guard index >= 0 else { return .detail(400, "Error in parsing") }
            pageIndex = index
        }
        let start = min(items.count, pageIndex * perPage)
        let end = min(items.count, start + perPage)
        let results = items[start..<end].map(render)
        return .json(200, PlaneRenderer.page(results: results, total: items.count, perPage: perPage, pageIndex: pageIndex))
    }

    /// `order_by` on a field (with `-` for descending); ties by id so pages never overlap.
    func ordered(_ items: [Entity], by given: String?, default fallback: String) -> [Entity] {
        let allowed: Set<String> = ["created_at", "updated_at", "sequence_id", "name", "priority", "state__group", "state__name",
                                    "sort_order", "start_date", "target_date", "completed_at", "identifier", "sequence"]
        var key = given.flatMap { allowed.contains($0.hasPrefix("-") ? String($0.dropFirst()) : $0) ? $0 : nil } ?? fallback
        let descending = key.hasPrefix("-")
        if descending { key.removeFirst() }
        let priorityRank = ["urgent": 0, "high": 1, "medium": 2, "low": 3, "none": 4]
        let groupRank = ["backlog": 0, "unstarted": 1, "started": 2, "completed": 3, "cancelled": 4]
        func sortKey(_ e: Entity) -> JSONValue {
            switch key {
            case "priority": return .int(priorityRank[e.string("priority") ?? "none"] ?? 4)
            case "state__group": return .int(groupRank[store.stateGroup(e.string("state")) ?? ""] ?? 5)
            case "state__name": return .string(e.string("state").flatMap { store.states[$0]?.string("name") } ?? "")
            default: return e[key] ?? .null
            }
        }
        func less(_ a: JSONValue, _ b: JSONValue) -> Bool? {
            switch (a, b) {
            case let (.string(x), .string(y)): return x == y ? nil : x < y
            case (.null, .null): return nil
            case (.null, _): return false  // Postgres sorts NULL last ascending
            case (_, .null): return true
            default:
                if let x = a.doubleValue, let y = b.doubleValue { return x == y ? nil : x < y }
                return nil
            }
        }
        let keys = items.map { (sortKey($0), $0) }
        return keys.sorted { l, r in
            if let order = less(l.0, r.0) { return descending ? !order : order }
            return l.1.id < r.1.id
        }.map(\.1)
    }
}
