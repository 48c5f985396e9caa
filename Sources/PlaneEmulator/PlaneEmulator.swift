import Foundation
import OdooSyncCore

/// An in-process stand-in for a Plane CE server (the 1.3 line): the public REST API under
/// `/api/v1/` over real HTTP, with Plane's pagination, rate limit, error bodies, external-id
/// checks and serializer shapes, loaded from `fixtures/plane/`.
///
/// ```swift
/// let plane = try PlaneEmulator(fixtures: fixturesURL)
/// let port = try await plane.start()
/// // point a client at plane.baseURL with plane.apiKey and workspace plane.workspaceSlug
/// await plane.stop()
/// ```
public final class PlaneEmulator: Sendable {
    let core: PlaneCore
    private let server = PlaneServerHandle()

    public init(fixtures: URL, configuration: PlaneEmulatorConfiguration = .init()) throws {
        core = PlaneCore(store: try PlaneFixtures.load(directory: fixtures), configuration: configuration)
    }

    // MARK: server

    /// Starts serving on `host:port` (0 picks a free port); returns the port.
    @discardableResult
    public func start(host: String = "127.0.0.1", port: Int = 0) async throws -> Int {
        let bound = try await server.start(core: core, host: host, port: port)
        core.locked { core.baseHost = "http://\(host):\(bound)" }
        return bound
    }

    public func stop() async { await server.stop() }

    public func waitUntilStopped() async { await server.wait() }

    public var port: Int? { server.port }

    /// `http://127.0.0.1:<port>`: what PLANE_API_URL should be.
    public var baseURL: URL { URL(string: core.locked { core.baseHost }) ?? URL(fileURLWithPath: "/") }

    public var workspaceSlug: String { core.locked { core.store.workspaceSlug } }

    /// The API key of the workspace's first admin.
    public var apiKey: String {
        core.locked {
            core.store.userOrder.compactMap { core.store.users[$0] }.first { $0.role == 20 && $0.apiKey != nil }?.apiKey ?? ""
        }
    }

    public func apiKey(email: String) -> String? {
        core.locked { core.store.users.values.first { $0.email == email }?.apiKey }
    }

    // MARK: faults, limits, observation

    public func setFaults(_ plan: PlaneFaultPlan) { core.setFaults(plan) }

    /// Changes the throttle (nil turns it off) and forgets the requests counted so far.
    public func setRateLimit(_ limit: Int?, window: Int = 60) { core.setRateLimit(limit, window: window) }

    /// Every POST, PATCH and DELETE received over HTTP, in arrival order.
    public func writes() -> [PlaneRecordedWrite] { core.writes }

    /// Forgets the recorded writes and the request log.
    public func clearWrites() { core.clearWrites() }

    public func requestCount() -> Int { core.requestCount }

    /// The most requests this emulator was answering at once since the last reset.
    public func peakConcurrentRequests() -> Int { core.peakInFlight }

    public func resetPeakConcurrentRequests() { core.resetPeakInFlight() }

    /// "GET /api/v1/…?query" of every request received, in arrival order.
    public func requestLog() -> [String] { core.requestLines }

    /// Calls `hook` with "METHOD /path?query" before each request is handled, so a test can
    /// change the data between two pages of one pass; nil removes it.
    public func setRequestHook(_ hook: (@Sendable (String) -> Void)?) { core.setRequestHook(hook) }

    /// Replaces the clock behind created_at/updated_at and the throttle (nil: the system clock).
    public func setClock(_ clock: (@Sendable () -> Date)?) { core.setClock(clock) }

    /// Plane renders datetimes in the API user's profile timezone.
    public func setTimezone(_ timezone: String, email: String) {
        core.locked {
            guard let id = core.store.users.values.first(where: { $0.email == email })?.id else { return }
            core.store.users[id]?.timezone = timezone
        }
    }

    // MARK: reading the data (in UTC, as a test would compare it)

    /// Live projects' (id, identifier, name), oldest first.
    public func projects() -> [(id: String, identifier: String, name: String)] {
        core.locked {
            core.store.projects.values.filter { !$0.deleted }.sorted { ($0.string("created_at") ?? "") < ($1.string("created_at") ?? "") }
                .map { ($0.id, $0.string("identifier") ?? "", $0.string("name") ?? "") }
        }
    }

    /// A project as the API renders it (archived ones included); nil once deleted.
    public func project(id: String) -> JSONValue? {
        core.locked {
            guard let project = core.store.projects[id], !project.deleted else { return nil }
            return renderer().project(project)
        }
    }

    public func projectID(identifier: String) -> String? {
        projects().first { $0.identifier == identifier }?.id
    }

    /// An issue as the API would render it to a UTC user, archived and draft ones included;
    /// nil once deleted.
    public func issue(id: String) -> JSONValue? {
        core.locked {
            guard let issue = core.store.issues[id], !issue.deleted else { return nil }
            return renderer().issue(issue)
        }
    }

    /// Every live issue of a project (archived and draft ones included), by sequence id.
    public func issues(projectID: String) -> [JSONValue] {
        core.locked {
            core.store.issues.values.filter { !$0.deleted && $0.project == projectID }
                .sorted { ($0["sequence_id"]?.intValue ?? 0) < ($1["sequence_id"]?.intValue ?? 0) }
                .map { renderer().issue($0) }
        }
    }

    public func issueCount(projectID: String? = nil) -> Int {
        core.locked { core.store.issues.values.filter { !$0.deleted && (projectID == nil || $0.project == projectID) }.count }
    }

    /// Ids of the issues in a cycle or module.
    public func cycleIssueIDs(_ cycleID: String) -> [String] {
        core.locked { core.store.linkedIssues(core.store.cycleLinks, key: "cycle", id: cycleID) }
    }

    public func moduleIssueIDs(_ moduleID: String) -> [String] {
        core.locked { core.store.linkedIssues(core.store.moduleLinks, key: "module", id: moduleID) }
    }

    /// Live cycles' and modules' (id, project id, name).
    public func cycles() -> [(id: String, project: String, name: String)] {
        core.locked { core.store.cycles.values.filter { !$0.deleted }.map { ($0.id, $0.project, $0.string("name") ?? "") } }
    }

    public func modules() -> [(id: String, project: String, name: String)] {
        core.locked { core.store.modules.values.filter { !$0.deleted }.map { ($0.id, $0.project, $0.string("name") ?? "") } }
    }

    private func renderer() -> PlaneRenderer {
        let utc = PlaneUser(id: "", firstName: "", lastName: "", email: "", displayName: "", role: 20, timezone: "UTC", apiKey: nil)
        return PlaneRenderer(store: core.store, viewer: utc)
    }

    // MARK: a person working in Plane

    private func actingUser(_ email: String?) -> PlaneUser? {
        let users = core.store.userOrder.compactMap { core.store.users[$0] }
        return email.map { e in users.first { $0.email == e } } ?? users.first { $0.role == 20 }
    }

    /// Changes an issue as a user would in Plane's UI (validated like a PATCH; updated_at moves).
    public func modifyIssue(id: String, fields: [String: JSONValue], email: String? = nil) throws {
        try core.locked {
            guard let issue = core.store.issues[id], !issue.deleted else { throw PlaneEmulatorError(status: 404, body: "no issue \(id)") }
            guard let user = actingUser(email) else { throw PlaneEmulatorError(status: 403, body: "no such user") }
            let now = core.nextStamp()
            switch core.validateIssueFields(fields, project: issue.project, existing: issue, now: now) {
            case .failure(let reply): throw PlaneEmulatorError(status: reply.status, body: reply.json?.serialized ?? "")
            case .success(let valid): core.applyIssueChange(id, fields: valid, by: user.id, now: now)
            }
        }
    }

    /// Changes several issues at once, as Plane's bulk operations do: one UPDATE, so they all
    /// get the same updated_at.
    public func bulkModifyIssues(ids: [String], fields: [String: JSONValue], email: String? = nil) throws {
        try core.locked {
            guard let user = actingUser(email) else { throw PlaneEmulatorError(status: 403, body: "no such user") }
            let now = core.nextStamp()
            for id in ids {
                guard let issue = core.store.issues[id], !issue.deleted else { throw PlaneEmulatorError(status: 404, body: "no issue \(id)") }
                switch core.validateIssueFields(fields, project: issue.project, existing: issue, now: now) {
                case .failure(let reply): throw PlaneEmulatorError(status: reply.status, body: reply.json?.serialized ?? "")
                case .success(let valid): core.applyIssueChange(id, fields: valid, by: user.id, now: now)
                }
            }
        }
    }

    /// Creates an issue as a user would; returns its id.
    @discardableResult
    public func createIssue(projectID: String, fields: [String: JSONValue], email: String? = nil) throws -> String {
        try core.locked {
            guard core.store.liveProject(projectID) != nil else { throw PlaneEmulatorError(status: 404, body: "no project \(projectID)") }
            guard let user = actingUser(email) else { throw PlaneEmulatorError(status: 403, body: "no such user") }
            let now = core.nextStamp()
            switch core.validateIssueFields(fields, project: projectID, existing: nil, now: now) {
            case .failure(let reply): throw PlaneEmulatorError(status: reply.status, body: reply.json?.serialized ?? "")
            case .success(let valid): return core.insertIssue(project: projectID, fields: valid, by: user.id, now: now).id
            }
        }
    }

    /// Deletes an issue as a user would (soft, as Plane does; no webhook). False if it was gone.
    @discardableResult
    public func deleteIssue(id: String) -> Bool {
        core.locked {
            guard let issue = core.store.issues[id], !issue.deleted else { return false }
            core.removeIssue(id)
            return true
        }
    }

    /// Archives (or restores) an issue: it leaves every list and the detail endpoint.
    @discardableResult
    public func archiveIssue(id: String, archived: Bool = true) -> Bool {
        core.locked {
            guard core.store.issues[id].map({ !$0.deleted }) ?? false else { return false }
            let now = core.nextStamp()
            core.store.issues[id]?["archived_at"] = archived ? .string(now) : .null
            core.store.issues[id]?["updated_at"] = .string(now)
            return true
        }
    }

    /// Archives (or restores) a cycle or module as Plane's archive endpoints do, without their
    /// checks (a test's shortcut): it leaves or rejoins its list. False if there is no such one.
    @discardableResult
    public func archiveContainer(id: String, archived: Bool = true) -> Bool {
        core.locked {
            let now = core.nextStamp()
            for keyPath in [\PlaneStore.cycles, \PlaneStore.modules] where core.store[keyPath: keyPath][id].map({ !$0.deleted }) ?? false {
                core.store[keyPath: keyPath][id]?["archived_at"] = archived ? .string(now) : .null
                core.store[keyPath: keyPath][id]?["updated_at"] = .string(now)
                return true
            }
            return false
        }
    }

    /// Takes a user out of a project, as a project admin would in Plane. A public project is
    /// still listed to them (`is_member` false), and everything inside it answers 403.
    @discardableResult
    public func removeProjectMember(projectID: String, email: String) -> Bool {
        core.locked {
            guard let user = core.store.users.values.first(where: { $0.email == email }),
                  core.store.projectMembers[projectID]?[user.id] != nil else { return false }
            core.store.projectMembers[projectID]?[user.id] = nil
            return true
        }
    }

    // MARK: volume

    /// Adds `count` issues spread over the projects (or into one), reproducible for a seed.
    @discardableResult
    public func generateIssues(count: Int, seed: UInt64, projectID: String? = nil) -> [String] {
        core.locked {
            var generator = PlaneIssueGenerator(store: core.store, seed: seed)
            return generator.generate(count: count, projectID: projectID, core: core)
        }
    }

    /// Edits that fraction of all listed issues (name, priority, sometimes the state), each
    /// with its own new updated_at. Returns the ids touched.
    @discardableResult
    public func touchRandomIssues(fraction: Double, seed: UInt64) -> [String] {
        core.locked {
            var generator = PlaneIssueGenerator(store: core.store, seed: seed)
            return generator.touch(fraction: fraction, core: core)
        }
    }
}
