import Foundation
import OdooSyncCore

/// The reads a pull and a sync need, one method per Plane endpoint.
extension PlaneClient {
    /// The token's user: a cheap way to prove the key.
    public func me() async throws -> PlaneMember {
        try PlaneMember(json: try await object(PlaneRequest("GET", "users/me/")))
    }

    /// Workspace members with their workspace role (Plane does not paginate this list).
    public func workspaceMembers() async throws -> [PlaneMember] {
        try await plainList("\(workspacePath)members/").map(PlaneMember.init(json:))
    }

    /// Every project of the workspace the key's user can see, archived ones included.
    public func projects(perPage: Int = 1000) async throws -> [PlaneProject] {
        try await listAll("\(workspacePath)projects/", perPage: perPage).map(PlaneProject.init(json:))
    }

    public func project(id: String) async throws -> PlaneProject {
        try PlaneProject(json: try await object(PlaneRequest("GET", projectPath(id))))
    }

    /// The project's members (not paginated, no role).
    public func projectMembers(projectID: String) async throws -> [PlaneMember] {
        try await plainList("\(projectPath(projectID))members/").map(PlaneMember.init(json:))
    }

    public func states(projectID: String, perPage: Int = 1000) async throws -> [PlaneState] {
        try await listAll("\(projectPath(projectID))states/", perPage: perPage).map(PlaneState.init(json:))
    }

    public func labels(projectID: String, perPage: Int = 1000) async throws -> [PlaneLabel] {
        try await listAll("\(projectPath(projectID))labels/", perPage: perPage).map(PlaneLabel.init(json:))
    }

    /// One issue. Plane answers 404 for archived and draft issues here; `lookupIssue` finds those.
    public func issue(projectID: String, id: String) async throws -> PlaneIssue {
        try PlaneIssue(json: try await object(PlaneRequest("GET", "\(projectPath(projectID))issues/\(id)/")))
    }

    /// The issue carrying `key`, archived and draft ones included; nil when there is none.
    ///
    /// Plane answers 500 for as long as two issues share the key (`Issue.objects.get` raising
    /// MultipleObjectsReturned, answered as its generic JSON 500), so that 500 is sent again
    /// once, not `maxAttempts` times, before it is taken for a duplicate. Other transient
    /// failures, other 500 pages included, are retried as usual.
    public func lookupIssue(projectID: String, key: PlaneExternalKey) async throws -> PlaneIssue? {
        var request = PlaneRequest("GET", "\(projectPath(projectID))issues/",
                                   query: [("external_id", key.id), ("external_source", key.source)])
        request.retryable = false
        let serverErrorAttempts = min(2, settings.maxAttempts)
        var attempt = 1
        var serverErrors = 0
        while true {
            do {
                return try PlaneIssue(json: try await object(request))
            } catch PlaneError.notFound {
                return nil
            } catch let error as PlaneError where error.isTransient {
                // Only Plane's own answer to the failed `get` (a JSON 500 with its generic
                // message) says so; a proxy's 500 page during a restart does not.
                if case .server(_, 500, let message, _) = error, message.hasPrefix("Something went wrong") { serverErrors += 1 }
                if serverErrors >= serverErrorAttempts {
                    throw PlaneError.duplicateExternalID(project: projectID, source: key.source, id: key.id)
                }
                guard attempt < settings.maxAttempts else { throw error.withAttempts(attempt) }
                try await backoff(attempt: attempt, reason: error, request: request)
                attempt += 1
            }
        }
    }

    /// Pages of a project's issues (archived and draft ones are not listed by Plane).
    /// `orderBy` "-updated_at" gives the newest changes first; `fields` trims each issue.
    public func issuePages(projectID: String, orderBy: String? = nil, fields: [String]? = nil, perPage: Int = 1000,
                           _ body: (PlanePage) async throws -> Bool) async throws {
        var query: [(String, String)] = []
        if let orderBy { query.append(("order_by", orderBy)) }
        if let fields { query.append(("fields", fields.joined(separator: ","))) }
        try await forEachPage("\(projectPath(projectID))issues/", query: query, perPage: perPage, body)
    }

    public func issues(projectID: String, perPage: Int = 1000) async throws -> [PlaneIssue] {
        try await listAll("\(projectPath(projectID))issues/", perPage: perPage).map(PlaneIssue.init(json:))
    }

    public func cycles(projectID: String, perPage: Int = 1000) async throws -> [PlaneCycle] {
        try await listAll("\(projectPath(projectID))cycles/", perPage: perPage).map(PlaneCycle.init(json:))
    }

    /// Archived cycles, which the main list leaves out (`archived-cycles/`).
    public func archivedCycles(projectID: String, perPage: Int = 1000) async throws -> [PlaneCycle] {
        try await listAll("\(projectPath(projectID))archived-cycles/", perPage: perPage).map(PlaneCycle.init(json:))
    }

    public func cycle(projectID: String, id: String) async throws -> PlaneCycle {
        try PlaneCycle(json: try await object(PlaneRequest("GET", "\(projectPath(projectID))cycles/\(id)/")))
    }

    /// Ids of the issues in a cycle.
    public func cycleIssueIDs(projectID: String, cycleID: String, perPage: Int = 1000) async throws -> [String] {
        try await listAll("\(projectPath(projectID))cycles/\(cycleID)/cycle-issues/", query: [("fields", "id")], perPage: perPage)
            .compactMap { $0["id"]?.stringValue }
    }

    public func modules(projectID: String, perPage: Int = 1000) async throws -> [PlaneModule] {
        try await listAll("\(projectPath(projectID))modules/", perPage: perPage).map(PlaneModule.init(json:))
    }

    /// Archived modules, which the main list leaves out (`archived-modules/`).
    public func archivedModules(projectID: String, perPage: Int = 1000) async throws -> [PlaneModule] {
        try await listAll("\(projectPath(projectID))archived-modules/", perPage: perPage).map(PlaneModule.init(json:))
    }

    public func module(projectID: String, id: String) async throws -> PlaneModule {
        try PlaneModule(json: try await object(PlaneRequest("GET", "\(projectPath(projectID))modules/\(id)/")))
    }

    /// Ids of the issues in a module.
    public func moduleIssueIDs(projectID: String, moduleID: String, perPage: Int = 1000) async throws -> [String] {
        try await listAll("\(projectPath(projectID))modules/\(moduleID)/module-issues/", query: [("fields", "id")], perPage: perPage)
            .compactMap { $0["id"]?.stringValue }
    }
}
