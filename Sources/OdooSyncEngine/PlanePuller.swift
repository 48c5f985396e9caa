import Foundation
import GRDB
import Logging
import OdooSyncCore
import OdooSyncMirror
import PlaneClient

/// `odoosync pull plane`: snapshots the workspace's members and, for each project in scope,
/// its members, states, labels, issues, cycles and modules (with their issue ids) into
/// `plane_records`. The scope is `PLANE_PROJECTS` or every listed project, less the public
/// ones the key's user is not a member of (Plane lists them but refuses what is inside); a
/// project that fails (a 404, a 403) is an error of that project, and the others are pulled.
///
/// Plane has no "changed since" filter, so issues are read newest first
/// (`order_by=-updated_at`) down to the project's cursor less an overlap, each page in one
/// transaction with the pass's progress. Offset pages can shift while Plane is being edited,
/// and deletes leave no trace, so a listing of every issue's id and updated_at (`fields=`,
/// cheap) then finds what vanished (each asked for by id first, since a shifted page can
/// leave out a live issue; then tombstoned, or archived when its external key still finds
/// it) and re-reads any issue whose updated_at the pass missed; an incremental pass
/// skips it when Plane's `total_results` and the mirror's count show no delete or archive
/// (and runs it anyway every `plane.listing_interval_seconds`). The other entities are small:
/// read whole, written only where they changed.
public final class PlanePuller: @unchecked Sendable {
    let mirror: Mirror
    let client: PlaneClient
    let runID: String
    let logger: Logger
    let progress: ProgressReporter?
    let pageSize: Int
    let overlapSeconds: Int
    let listingIntervalSeconds: Int
    private var report: PlanePullReport

    public init(mirror: Mirror, client: PlaneClient, runID: String, logger: Logger, progress: ProgressReporter? = nil) throws {
        self.mirror = mirror
        self.client = client
        self.runID = runID
        self.logger = logger
        self.progress = progress
        pageSize = min(1000, max(1, Int(try mirror.setting("plane.page_size") ?? "") ?? 1000))
        overlapSeconds = max(0, Int(try mirror.setting("plane.overlap_seconds") ?? "") ?? 300)
        listingIntervalSeconds = max(0, Int(try mirror.setting("plane.listing_interval_seconds") ?? "") ?? 21_600)
        report = PlanePullReport(runID: runID)
    }

    static let entityOrder = ["project", "member", "project_member", "state", "label", "issue", "cycle", "module"]

    public func pull(full: Bool) async throws -> PlanePullReport {
        let started = Date()
        for name in Self.entityOrder { report.add(name, ModelStats()) }
        var timings: [String: Double] = [:]
        func timed<T>(_ entity: String, _ body: () async throws -> T) async rethrows -> T {
            let t0 = Date()
            defer { timings[entity, default: 0] += Date().timeIntervalSince(t0) }
            return try await body()
        }

        let remoteProjects = try await client.projects(perPage: pageSize)
        let scope = try resolveScope(remoteProjects)
        try await timed("project") { report.add("project", try applyProjects(remoteProjects, scope: scope.ids)) }
        try await timed("member") { report.add("member", try await pullWorkspaceMembers()) }
        try noteNotMember(scope)

        // Projects are read side by side, a few at a time: each is a dozen round trips or more
        // (members, states, labels, issues, cycles and modules with their issues), nothing one
        // reads depends on another, and the client keeps the rate limit for all of them. The
        // report takes them in Plane's order, whichever ends first.
        var readable: [PlaneProject] = []
        for project in remoteProjects where scope.ids.contains(project.id) {
            if project.archivedAt != nil {
                // Plane lists none of an archived project's issues: leave its snapshot as it was.
                report.archivedProjects.append(project.identifier)
            } else {
                report.projects.append(project.identifier)
                readable.append(project)
            }
        }
        // A failure that ends the run (Plane unreachable, say) starts no further project and
        // lets those under way finish, so they are recorded as when projects were read one by one.
        let answers = await SyncEngine.inParallel(readable, limit: Self.projectConcurrency, stops: { _ in true }) { [self] project in
            try await pullProject(project, full: full)
        }
        var failure: Error?
        for (project, answer) in zip(readable, answers) {
            switch answer {
            case .success(let outcome)?:
                for (name, stats) in outcome.stats { report.add(name, stats) }
                // An entity's seconds are summed over its projects, read side by side or not.
                for (name, seconds) in outcome.seconds { timings[name, default: 0] += seconds }
                if let message = outcome.error { try recordProjectError(project, message: message) }
            case .failure(let error)?:
                failure = failure ?? error
            case nil:
                continue
            }
        }
        if let failure { throw failure }

        for (name, stats) in report.entities {
            try finishEntity(name, stats: stats, seconds: timings[name] ?? 0)
        }
        report.seconds = Date().timeIntervalSince(started)
        report.requests = await client.requestCount
        report.retries = await client.retryCount
        report.rateLimited = await client.rateLimitedCount
        report.rateLimitWaitSeconds = await client.rateLimitWaitSeconds
        return report
    }

    static let projectConcurrency = 4

    /// What one project's pull found: its entities' figures (in the order they were read), the
    /// time each took, and the error that stopped it, if one did.
    private struct ProjectPull: Sendable {
        var stats: [(String, ModelStats)] = []
        var seconds: [String: Double] = [:]
        var error: String?
    }

    private func pullProject(_ project: PlaneProject, full: Bool) async throws -> ProjectPull {
        var out = ProjectPull()
        func step(_ entity: String, _ body: () async throws -> ModelStats) async throws {
            let t0 = Date()
            defer { out.seconds[entity, default: 0] += Date().timeIntervalSince(t0) }
            out.stats.append((entity, try await body()))
        }
        do {
            try await step("project_member") { try await pullProjectMembers(project) }
            try await step("state") {
                try await pullFlat(kind: "state", project: project) {
                    try await self.client.states(projectID: project.id, perPage: self.pageSize).map { ($0.id, $0.raw) }
                }
            }
            try await step("label") {
                try await pullFlat(kind: "label", project: project) {
                    try await self.client.labels(projectID: project.id, perPage: self.pageSize).map { ($0.id, $0.raw) }
                }
            }
            try await step("issue") { try await pullIssues(project, full: full) }
            try await step("cycle") { try await pullContainers(kind: "cycle", project: project, full: full) }
            try await step("module") { try await pullContainers(kind: "module", project: project, full: full) }
        } catch let error as PlaneError where error.exitStatus == .itemErrors || error.isPermissionDenied {
            // This project could not be read (a 404 mid-pull, the key's user taken out of
            // it); the others still can.
            out.error = "Plane project \(project.identifier) could not be pulled: \(error)"
        }
        return out
    }

    // MARK: scope and projects

    /// The projects a pull reads, and the ones it leaves out because the key's user is not a
    /// member of them.
    struct Scope {
        var ids: Set<String> = []
        /// Listed (public) projects without the key's user among their members: Plane answers
        /// 403 for everything inside them.
        var notMember: [PlaneProject] = []
        /// Those of them `PLANE_PROJECTS` names: asked for, so their absence is an error.
        var namedNotMember: [PlaneProject] = []
    }

    /// The projects `PLANE_PROJECTS` names (identifiers or ids), or all of them, less those
    /// the key's user is not a member of.
    func resolveScope(_ projects: [PlaneProject]) throws -> Scope {
        let wanted = client.settings.projects
        var scope = Scope()
        func add(_ project: PlaneProject, named: Bool) {
            if project.isMember == false {
                guard !scope.notMember.contains(where: { $0.id == project.id }) else { return }
                scope.notMember.append(project)
                if named { scope.namedNotMember.append(project) }
            } else {
                scope.ids.insert(project.id)
            }
        }
        if wanted.isEmpty {
            for project in projects { add(project, named: false) }
            return scope
        }
        for token in wanted {
            if let match = projects.first(where: { $0.id == token || $0.identifier.caseInsensitiveCompare(token) == .orderedSame }) {
                add(match, named: true)
                continue
            }
            // A project pulled before and gone now is a delete, found below; anything else is a typo.
            let known = try mirror.read { db in
                try String.fetchOne(db, sql: """
                    SELECT plane_id FROM plane_records WHERE kind = 'project'
                    AND (plane_id = ? OR upper(json_extract(data, '$.identifier')) = upper(?))
                    """, arguments: [token, token])
            }
            guard known == nil else { continue }
            let available = projects.map { "\($0.identifier) (\($0.name))" }.joined(separator: ", ")
            throw ConfigurationError("PLANE_PROJECTS names `\(token)`, which is not a project the API key can see in workspace \(client.settings.workspaceSlug). Available: \(available.isEmpty ? "none" : available).")
        }
        return scope
    }

    /// Reports the projects left out for want of membership: a note for those the default
    /// scope found, an error of the project for those `PLANE_PROJECTS` names.
    private func noteNotMember(_ scope: Scope) throws {
        report.notMemberProjects = scope.notMember.map(\.identifier)
        for project in scope.notMember where !scope.namedNotMember.contains(where: { $0.id == project.id }) {
            try mirror.write { db in
                try event(db, level: .warn, type: "pull_project_not_member",
                          message: "Plane project \(project.identifier) (\(project.name)) left out: the API key's user is not a member of it",
                          metadata: ["project_id": .string(project.id)])
            }
        }
        for project in scope.namedNotMember {
            try recordProjectError(project, message: "PLANE_PROJECTS names \(project.identifier) (\(project.name)), but the API key's user is not a member of it, so Plane refuses its contents (403). Add the API user to the project in Plane to sync it, or take it out of PLANE_PROJECTS.")
        }
    }

    /// One project that could not be pulled: an error in the report and an event; the run goes on.
    private func recordProjectError(_ project: PlaneProject, message: String) throws {
        var stats = ModelStats()
        stats.errors = 1
        report.add("project", stats)
        report.projectErrors.append((project.identifier, message))
        try mirror.write { db in
            try event(db, level: .error, type: "pull_project_failed", message: message, metadata: ["project_id": .string(project.id)])
        }
    }

    private func applyProjects(_ projects: [PlaneProject], scope: Set<String>) throws -> ModelStats {
        let now = Timestamp.iso(Date())
        let wanted = client.settings.projects.map { $0.uppercased() }
        return try mirror.write { db in
            var stats = ModelStats()
            for project in projects where scope.contains(project.id) {
                count(try PlaneSnapshots.apply(db, kind: "project", id: project.id, projectID: project.id, json: project.raw, pulledAt: now),
                      into: &stats)
            }
            let remote = Set(projects.map(\.id))
            var gone: [String] = []
            for (id, _) in try PlaneSnapshots.live(db, kind: "project", projectID: nil) where !remote.contains(id) {
                let identifier = try PlaneSnapshots.data(db, kind: "project", id: id)?["identifier"]?.stringValue?.uppercased() ?? ""
                if wanted.isEmpty || wanted.contains(id.uppercased()) || wanted.contains(identifier) { gone.append(id) }
            }
            for id in try PlaneSnapshots.markDeleted(db, kind: "project", ids: gone, pulledAt: now) {
                stats.deleted += 1
                // Plane deletes a project's contents with it.
                try db.execute(sql: "UPDATE plane_records SET deleted = 1, pulled_at = ? WHERE project_id = ? AND deleted = 0",
                               arguments: [now, id])
                try event(db, type: "record_deleted", message: "Plane project \(id) was deleted", metadata: ["kind": "project", "plane_id": .string(id)])
            }
            return stats
        }
    }

    // MARK: members, states, labels

    private func pullWorkspaceMembers() async throws -> ModelStats {
        let members = try await client.workspaceMembers()
        return try applyWhole(kind: "member", projectID: nil, records: members.map { ($0.id, $0.raw) })
    }

    private func pullProjectMembers(_ project: PlaneProject) async throws -> ModelStats {
        let members = try await client.projectMembers(projectID: project.id)
        return try applyWhole(kind: "project_member", projectID: project.id, records: members.map { ("\(project.id)/\($0.id)", $0.raw) })
    }

    private func pullFlat(kind: String, project: PlaneProject, fetch: () async throws -> [(String, JSONValue)]) async throws -> ModelStats {
        try applyWhole(kind: kind, projectID: project.id, records: try await fetch())
    }

    /// A complete list, in one transaction: upserts, then tombstones for what is not in it
    /// (except `spared`: known to be there, only not in this list).
    private func applyWhole(kind: String, projectID: String?, records: [(String, JSONValue)], issueIDs: [String: [String]] = [:],
                            spared: Set<String> = []) throws -> ModelStats
    {
        let now = Timestamp.iso(Date())
        return try mirror.write { db in
            var stats = ModelStats()
            for (id, json) in records {
                count(try PlaneSnapshots.apply(db, kind: kind, id: id, projectID: projectID, json: json, issueIDs: issueIDs[id], pulledAt: now),
                      into: &stats)
            }
            let remote = Set(records.map(\.0))
            let vanished = try PlaneSnapshots.live(db, kind: kind, projectID: projectID).keys.filter { !remote.contains($0) && !spared.contains($0) }
            for id in try PlaneSnapshots.markDeleted(db, kind: kind, ids: vanished.sorted(), pulledAt: now) {
                stats.deleted += 1
                try event(db, type: "record_deleted", message: "Plane \(kind) \(id) was deleted",
                          metadata: ["kind": .string(kind), "plane_id": .string(id), "project_id": projectID.map(JSONValue.string) ?? .null])
            }
            return stats
        }
    }

    // MARK: cycles and modules

    private func pullContainers(kind: String, project: PlaneProject, full: Bool) async throws -> ModelStats {
        // Plane refuses cycle and module reads only through the project's settings; an empty
        // list is the answer for a project that has them off.
        func issueIDs(_ id: String) async throws -> [String] {
            kind == "cycle" ? try await client.cycleIssueIDs(projectID: project.id, cycleID: id, perPage: pageSize).sorted()
                : try await client.moduleIssueIDs(projectID: project.id, moduleID: id, perPage: pageSize).sorted()
        }
        let listed = kind == "cycle" ? try await client.cycles(projectID: project.id, perPage: pageSize).map { ($0.id, $0.raw) }
            : try await client.modules(projectID: project.id, perPage: pageSize).map { ($0.id, $0.raw) }
        var records: [(String, JSONValue)] = []
        var members: [String: [String]] = [:]
        for (id, raw) in listed {
            records.append((id, raw))
            members[id] = try await issueIDs(id)
        }
        // The lists leave archived cycles and modules out. One that left the list since the
        // last pull is looked for among the archived ones before it counts as deleted; one
        // already archived here is left as it was (listing the archived ones every run would
        // cost a request per project for nothing), except in a full pull, which reads and
        // stores every archived one.
        let listedIDs = Set(records.map(\.0))
        let (active, all) = try mirror.read { db in
            (Set(try PlaneSnapshots.live(db, kind: kind, projectID: project.id, includeArchived: false).keys),
             Set(try PlaneSnapshots.live(db, kind: kind, projectID: project.id).keys))
        }
        var spared = all.subtracting(active).subtracting(listedIDs)
        let missing = active.subtracting(listedIDs)
        if full || !missing.isEmpty {
            let archived = kind == "cycle" ? try await client.archivedCycles(projectID: project.id, perPage: pageSize).map { ($0.id, $0.raw) }
                : try await client.archivedModules(projectID: project.id, perPage: pageSize).map { ($0.id, $0.raw) }
            let archivedIDs = Set(archived.map(\.0))
            for (id, raw) in archived where full || missing.contains(id) {
                records.append((id, raw))
                members[id] = try await issueIDs(id)
            }
            // Now the whole archived list is known: an archived one missing from it is gone.
            spared.formIntersection(archivedIDs)
            // One in neither list may have been unarchived between the two reads: the detail
            // view shows archived and live ones alike, so it decides.
            for id in missing.subtracting(archivedIDs).sorted() {
                guard let raw = try await containerDetail(kind, project: project, id: id) else { continue }
                records.append((id, raw))
                members[id] = try await issueIDs(id)
            }
        }
        return try applyWhole(kind: kind, projectID: project.id, records: records, issueIDs: members, spared: spared)
    }

    /// A cycle or module by id, archived or not; nil when Plane answers 404 (deleted).
    private func containerDetail(_ kind: String, project: PlaneProject, id: String) async throws -> JSONValue? {
        do {
            return kind == "cycle" ? try await client.cycle(projectID: project.id, id: id).raw
                : try await client.module(projectID: project.id, id: id).raw
        } catch PlaneError.notFound {
            return nil
        }
    }

    // MARK: journal

    func count(_ change: PlaneSnapshots.Change, into stats: inout ModelStats) {
        switch change {
        case .created: stats.created += 1
        case .updated: stats.updated += 1
        case .unchanged: stats.unchanged += 1
        case .archived: stats.archived += 1
        }
    }

    func event(_ db: Database, level: EventLevel = .info, type: String, message: String, metadata: JSONValue = [:]) throws {
        try Mirror.appendEvent(db, runID: runID, level: level, category: Mirror.planeCategory, type: type, message: message,
                               system: "custom", component: "plane", metadata: metadata)
    }

    private func finishEntity(_ name: String, stats: ModelStats, seconds: Double) throws {
        let runID = self.runID
        try mirror.write { db in
            let now = Timestamp.iso(Date())
            try db.execute(sql: """
                INSERT INTO pull_cursors (source, model, last_run_at) VALUES ('plane', ?, ?)
                ON CONFLICT (source, model) DO UPDATE SET last_run_at = excluded.last_run_at
                """, arguments: [name, now])
            let millis = Int(seconds * 1000)
            try Mirror.appendSyncLog(db, runID: runID, sourceSystem: "plane", sourceID: name, operation: "pull", success: stats.errors == 0,
                                     error: stats.errors > 0 ? "\(stats.errors) record(s) failed" : nil, sourceData: stats.json,
                                     durationMs: millis)
            try event(db, level: stats.errors > 0 ? .warn : .info, type: "pull_model",
                      message: "pulled Plane \(name): \(stats.created) created, \(stats.updated) updated, \(stats.unchanged) unchanged, \(stats.archived) archived, \(stats.deleted) deleted, \(stats.errors) errors",
                      metadata: ["model": .string(name), "stats": stats.json])
        }
    }
}
