import Foundation
import OdooSyncCore

public typealias JSONFields = [(String, JSONValue)]

/// The writes a sync needs. Every create that takes a `PlaneExternalKey` is idempotent: run
/// twice (a retry, a re-run after a crash) it returns the record the first run made.
extension PlaneClient {
    // MARK: projects

    /// Creates a project (Plane adds its five default states). Plane 1.3 does not check a
    /// project's external key, so the key is looked up among the projects before the create
    /// and again after a lost answer or a 409 (name or identifier taken).
    public func createProject(name: String, identifier: String, fields: JSONFields = [], external: PlaneExternalKey?) async throws
        -> PlaneCreated<PlaneProject>
    {
        let body = JSONValue.object([("name", .string(name)), ("identifier", .string(identifier))] + fields + (external?.fields ?? []))
        let request = PlaneRequest("POST", "\(workspacePath)projects/", body: body, retryable: false)
        guard let external else {
            return PlaneCreated(value: try PlaneProject(json: try await object(request)), created: true)
        }
        return try await createIdempotently(key: "project/\(external)", request: request, lookupFirst: true,
                                            decode: PlaneProject.init(json:)) { _ in
            try await self.projects().first { $0.external == external }
        }
    }

    public func updateProject(id: String, fields: JSONFields) async throws -> PlaneProject {
        try PlaneProject(json: try await object(PlaneRequest("PATCH", projectPath(id), body: .object(fields))))
    }

    public func deleteProject(id: String) async throws {
        _ = try await perform(PlaneRequest("DELETE", projectPath(id)))
    }

    public func archiveProject(id: String) async throws {
        _ = try await perform(PlaneRequest("POST", "\(projectPath(id))archive/"))
    }

    public func unarchiveProject(id: String) async throws {
        _ = try await perform(PlaneRequest("DELETE", "\(projectPath(id))archive/"))
    }

    // MARK: issues

    /// Creates a work item. With a key, a duplicate answer (409) or a lost answer returns the
    /// issue that already carries the key; without one a create is never sent twice.
    public func createIssue(projectID: String, fields: JSONFields, external: PlaneExternalKey?) async throws -> PlaneCreated<PlaneIssue> {
        let body = JSONValue.object(fields.filter { $0.0 != "external_id" && $0.0 != "external_source" } + (external?.fields ?? []))
        let request = PlaneRequest("POST", "\(projectPath(projectID))issues/", body: body, retryable: false)
        guard let external else {
            return PlaneCreated(value: try PlaneIssue(json: try await object(request)), created: true)
        }
        return try await createIdempotently(key: "issue/\(projectID)/\(external)", request: request,
                                            decode: PlaneIssue.init(json:)) { existingID in
            if let found = try await self.lookupIssue(projectID: projectID, key: external) { return found }
            guard let existingID else { return nil }
            let issue = try await self.issue(projectID: projectID, id: existingID)
            return issue.external == external ? issue : nil
        }
    }

    /// PATCH: only the given fields change; `labels` and `assignees` replace the whole set.
    public func updateIssue(projectID: String, id: String, fields: JSONFields) async throws -> PlaneIssue {
        try PlaneIssue(json: try await object(PlaneRequest("PATCH", "\(projectPath(projectID))issues/\(id)/", body: .object(fields))))
    }

    public func deleteIssue(projectID: String, id: String) async throws {
        _ = try await perform(PlaneRequest("DELETE", "\(projectPath(projectID))issues/\(id)/"))
    }

    // MARK: states and labels

    /// Creates a state; when the project already has one of that name (409), returns it.
    public func createState(projectID: String, name: String, group: PlaneStateGroup, color: String = "#60646C",
                            fields: JSONFields = [], external: PlaneExternalKey? = nil) async throws -> PlaneCreated<PlaneState> {
        let body = JSONValue.object([("name", .string(name)), ("group", .string(group.rawValue)), ("color", .string(color))]
                                    + fields + (external?.fields ?? []))
        let request = PlaneRequest("POST", "\(projectPath(projectID))states/", body: body, retryable: false)
        return try await createIdempotently(key: "state/\(projectID)/\(name)", request: request, decode: PlaneState.init(json:)) { id in
            try await self.states(projectID: projectID).first { $0.id == id || (id == nil && $0.name == name) }
        }
    }

    /// Creates a label; when the project already has one of that name (409), returns it.
    public func createLabel(projectID: String, name: String, color: String? = nil, fields: JSONFields = [],
                            external: PlaneExternalKey? = nil) async throws -> PlaneCreated<PlaneLabel> {
        var pairs: JSONFields = [("name", .string(name))]
        if let color { pairs.append(("color", .string(color))) }
        let request = PlaneRequest("POST", "\(projectPath(projectID))labels/", body: .object(pairs + fields + (external?.fields ?? [])),
                                   retryable: false)
        return try await createIdempotently(key: "label/\(projectID)/\(name)", request: request, decode: PlaneLabel.init(json:)) { id in
            try await self.labels(projectID: projectID).first { $0.id == id || (id == nil && $0.name == name) }
        }
    }

    // MARK: cycles

    /// Creates a cycle (the project needs `cycle_view` on). `startDate`/`endDate` are
    /// "YYYY-MM-DD", both or neither.
    public func createCycle(projectID: String, name: String, fields: JSONFields = [], external: PlaneExternalKey?) async throws
        -> PlaneCreated<PlaneCycle>
    {
        // Plane's cycle create reads the project from the body, not the URL.
        let body = JSONValue.object([("name", .string(name))] + fields + (external?.fields ?? []) + [("project_id", .string(projectID))])
        let request = PlaneRequest("POST", "\(projectPath(projectID))cycles/", body: body, retryable: false)
        guard let external else {
            return PlaneCreated(value: try PlaneCycle(json: try await object(request)), created: true)
        }
        return try await createIdempotently(key: "cycle/\(projectID)/\(external)", request: request, decode: PlaneCycle.init(json:)) { id in
            if let id, let cycle = try? await self.cycle(projectID: projectID, id: id), cycle.external == external { return cycle }
            return try await self.cycles(projectID: projectID).first { $0.external == external }
        }
    }

    public func updateCycle(projectID: String, id: String, fields: JSONFields) async throws -> PlaneCycle {
        try PlaneCycle(json: try await object(PlaneRequest("PATCH", "\(projectPath(projectID))cycles/\(id)/", body: .object(fields))))
    }

    public func deleteCycle(projectID: String, id: String) async throws {
        _ = try await perform(PlaneRequest("DELETE", "\(projectPath(projectID))cycles/\(id)/"))
    }

    /// Puts issues in a cycle (an issue is in one cycle at most: this moves it). Sending the
    /// same list again changes nothing, so it is retried like a read.
    @discardableResult
    public func addIssuesToCycle(projectID: String, cycleID: String, issueIDs: [String]) async throws -> [JSONValue] {
        let body: JSONValue = ["issues": .array(issueIDs.map(JSONValue.string))]
        let response = try await perform(PlaneRequest("POST", "\(projectPath(projectID))cycles/\(cycleID)/cycle-issues/", body: body))
        return response.json?.arrayValue ?? []
    }

    /// Takes an issue out of a cycle; false when it was not in it.
    @discardableResult
    public func removeIssueFromCycle(projectID: String, cycleID: String, issueID: String) async throws -> Bool {
        do {
            _ = try await perform(PlaneRequest("DELETE", "\(projectPath(projectID))cycles/\(cycleID)/cycle-issues/\(issueID)/"))
            return true
        } catch PlaneError.notFound {
            return false
        }
    }

    // MARK: modules

    /// Creates a module (the project needs `module_view` on).
    public func createModule(projectID: String, name: String, fields: JSONFields = [], external: PlaneExternalKey?) async throws
        -> PlaneCreated<PlaneModule>
    {
        let body = JSONValue.object([("name", .string(name))] + fields + (external?.fields ?? []))
        let request = PlaneRequest("POST", "\(projectPath(projectID))modules/", body: body, retryable: false)
        guard let external else {
            return PlaneCreated(value: try PlaneModule(json: try await object(request)), created: true)
        }
        return try await createIdempotently(key: "module/\(projectID)/\(external)", request: request, decode: PlaneModule.init(json:)) { id in
            // A duplicate *name* also names an existing module: it is ours only if it has our key.
            if let id, let module = try? await self.module(projectID: projectID, id: id), module.external == external { return module }
            return try await self.modules(projectID: projectID).first { $0.external == external }
        }
    }

    /// PATCH a module. Plane answers with the writable fields only (no id), returned as sent.
    @discardableResult
    public func updateModule(projectID: String, id: String, fields: JSONFields) async throws -> JSONValue {
        try await object(PlaneRequest("PATCH", "\(projectPath(projectID))modules/\(id)/", body: .object(fields)))
    }

    public func deleteModule(projectID: String, id: String) async throws {
        _ = try await perform(PlaneRequest("DELETE", "\(projectPath(projectID))modules/\(id)/"))
    }

    /// Adds issues to a module (an issue may be in several). Idempotent, retried like a read.
    @discardableResult
    public func addIssuesToModule(projectID: String, moduleID: String, issueIDs: [String]) async throws -> [JSONValue] {
        let body: JSONValue = ["issues": .array(issueIDs.map(JSONValue.string))]
        let response = try await perform(PlaneRequest("POST", "\(projectPath(projectID))modules/\(moduleID)/module-issues/", body: body))
        return response.json?.arrayValue ?? []
    }

    @discardableResult
    public func removeIssueFromModule(projectID: String, moduleID: String, issueID: String) async throws -> Bool {
        do {
            _ = try await perform(PlaneRequest("DELETE", "\(projectPath(projectID))modules/\(moduleID)/module-issues/\(issueID)/"))
            return true
        } catch PlaneError.notFound {
            return false
        }
    }
}
