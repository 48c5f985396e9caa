import Foundation
import GRDB
import Logging
import OdooSyncCore
import OdooSyncMirror
import PlaneClient

/// `odoosync pull plane`: snapshots the workspace's members and, for each project in scope,
/// its members, states, labels, issues, cycles and modules (with their issue ids) into
/// `plane_records`.
///
/// Plane has no "changed since" filter, so issues are read newest first
/// (`order_by=-updated_at`) down to the project's cursor less an overlap, each page in one
/// transaction with the pass's progress. Offset pages can shift while Plane is being edited,
/// and deletes leave no trace, so a listing of every issue's id and updated_at (`fields=`,
/// cheap) then finds what vanished (tombstoned, or archived when its external key still
/// finds it) and re-reads any issue whose updated_at the pass missed. The other entities are
/// small: read whole, written only where they changed.
public final class PlanePuller: @unchecked Sendable {
    let mirror: Mirror
    let client: PlaneClient
    let runID: String
    let logger: Logger
    let progress: ProgressReporter?
    let pageSize: Int
    let overlapSeconds: Int
    private var report: PlanePullReport

    public init(mirror: Mirror, client: PlaneClient, runID: String, logger: Logger, progress: ProgressReporter? = nil) throws {
        self.mirror = mirror
        self.client = client
        self.runID = runID
        self.logger = logger
        self.progress = progress
        pageSize = min(1000, max(1, Int(try mirror.setting("plane.page_size") ?? "") ?? 1000))
        overlapSeconds = max(0, Int(try mirror.setting("plane.overlap_seconds") ?? "") ?? 300)
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
        try await timed("project") { report.add("project", try applyProjects(remoteProjects, scope: scope)) }
        try await timed("member") { report.add("member", try await pullWorkspaceMembers()) }

        for project in remoteProjects where scope.contains(project.id) {
            if project.archivedAt != nil {
                // Plane lists none of an archived project's issues: leave its snapshot as it was.
                report.archivedProjects.append(project.identifier)
                continue
            }
            report.projects.append(project.identifier)
            do {
                try await timed("project_member") { report.add("project_member", try await pullProjectMembers(project)) }
                try await timed("state") {
                    report.add("state", try await pullFlat(kind: "state", project: project) {
                        try await self.client.states(projectID: project.id, perPage: self.pageSize).map { ($0.id, $0.raw) }
                    })
                }
                try await timed("label") {
                    report.add("label", try await pullFlat(kind: "label", project: project) {
                        try await self.client.labels(projectID: project.id, perPage: self.pageSize).map { ($0.id, $0.raw) }
                    })
                }
                try await timed("issue") { report.add("issue", try await pullIssues(project, full: full)) }
                try await timed("cycle") { report.add("cycle", try await pullContainers(kind: "cycle", project: project)) }
                try await timed("module") { report.add("module", try await pullContainers(kind: "module", project: project)) }
            } catch let error as PlaneError where error.exitStatus == .itemErrors {
                // This project could not be read (a 404 mid-pull, say); the others still can.
                var stats = ModelStats()
                stats.errors = 1
                report.add("project", stats)
                try mirror.write { db in
                    try event(db, level: .error, type: "pull_project_failed",
                              message: "Plane project \(project.identifier) could not be pulled: \(error)",
                              metadata: ["project_id": .string(project.id)])
                }
            }
        }

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

    // MARK: scope and projects

    /// Ids of the projects `PLANE_PROJECTS` names (identifiers or ids), or of all of them.
    private func resolveScope(_ projects: [PlaneProject]) throws -> Set<String> {
        let wanted = client.settings.projects
        if wanted.isEmpty { return Set(projects.map(\.id)) }
        var ids = Set<String>()
        for token in wanted {
            if let match = projects.first(where: { $0.id == token || $0.identifier.caseInsensitiveCompare(token) == .orderedSame }) {
                ids.insert(match.id)
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
        return ids
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

    /// A complete list, in one transaction: upserts, then tombstones for what is not in it.
    private func applyWhole(kind: String, projectID: String?, records: [(String, JSONValue)], issueIDs: [String: [String]] = [:]) throws
        -> ModelStats
    {
        let now = Timestamp.iso(Date())
        return try mirror.write { db in
            var stats = ModelStats()
            for (id, json) in records {
                count(try PlaneSnapshots.apply(db, kind: kind, id: id, projectID: projectID, json: json, issueIDs: issueIDs[id], pulledAt: now),
                      into: &stats)
            }
            let remote = Set(records.map(\.0))
            let vanished = try PlaneSnapshots.live(db, kind: kind, projectID: projectID).keys.filter { !remote.contains($0) }
            for id in try PlaneSnapshots.markDeleted(db, kind: kind, ids: vanished.sorted(), pulledAt: now) {
                stats.deleted += 1
                try event(db, type: "record_deleted", message: "Plane \(kind) \(id) was deleted",
                          metadata: ["kind": .string(kind), "plane_id": .string(id), "project_id": projectID.map(JSONValue.string) ?? .null])
            }
            return stats
        }
    }

    // MARK: cycles and modules

    private func pullContainers(kind: String, project: PlaneProject) async throws -> ModelStats {
        // Plane refuses cycle and module reads only through the project's settings; an empty
        // list is the answer for a project that has them off.
        var records: [(String, JSONValue)] = []
        var members: [String: [String]] = [:]
        if kind == "cycle" {
            for cycle in try await client.cycles(projectID: project.id, perPage: pageSize) {
                records.append((cycle.id, cycle.raw))
                members[cycle.id] = try await client.cycleIssueIDs(projectID: project.id, cycleID: cycle.id, perPage: pageSize).sorted()
            }
        } else {
            for module in try await client.modules(projectID: project.id, perPage: pageSize) {
                records.append((module.id, module.raw))
                members[module.id] = try await client.moduleIssueIDs(projectID: project.id, moduleID: module.id, perPage: pageSize).sorted()
            }
        }
        return try applyWhole(kind: kind, projectID: project.id, records: records, issueIDs: members)
    }

    // MARK: issues

    private struct IssueCursor {
        var updatedAt: String?
        var passNewest: String?
    }

    private func pullIssues(_ project: PlaneProject, full: Bool) async throws -> ModelStats {
        let model = "issue:\(project.id)"
        let path = "\(client.projectPath(project.id))issues/"
        let cursor = try mirror.read { db in
            try Row.fetchOne(db, sql: "SELECT write_date, full_since FROM pull_cursors WHERE source = 'plane' AND model = ?", arguments: [model])
                .map { IssueCursor(updatedAt: $0[0], passNewest: $0[1]) }
        }
        let incremental = !full && cursor?.updatedAt != nil
        let lowerBound = incremental ? cursor?.updatedAt.flatMap { PlaneTime.micros($0) }
            .map { PlaneTime.format(micros: $0 - Int64(overlapSeconds) * 1_000_000) } : nil
        var newest = cursor?.passNewest
        var stats = ModelStats()
        var seen = Set<String>()
        var done = 0
        let label = "issues \(project.identifier)"

        // 1. Newest first, down to the cursor. An incremental pass usually needs a few issues:
        // it starts with small pages and doubles them (offset = page index × per_page, so a
        // page of size o at index 1 continues exactly where o items end).
        var window = PageWindow(pageSize: pageSize, incremental: incremental)
        while true {
            let page = try await client.page(path, query: [("order_by", "-updated_at")], perPage: window.size, cursor: window.cursor)
            var reachedCursor = false
            let now = Timestamp.iso(Date())
            try mirror.write { db in
                var pageStats = ModelStats()
                for json in page.results {
                    guard let issue = try? PlaneIssue(json: json) else {
                        pageStats.errors += 1
                        continue
                    }
                    // Offset pages shift when an issue moves to the front mid-pass: skip repeats.
                    guard seen.insert(issue.id).inserted else { continue }
                    count(try PlaneSnapshots.apply(db, kind: "issue", id: issue.id, projectID: project.id, json: json, pulledAt: now),
                          into: &pageStats)
                    if let updated = issue.updatedAt {
                        if newest.map({ updated > $0 }) ?? true { newest = updated }
                        if let lowerBound, updated < lowerBound { reachedCursor = true }
                    }
                }
                // The pass's progress: an interrupted pass still remembers the newest change it saw.
                try db.execute(sql: """
                    INSERT INTO pull_cursors (source, model, full_since) VALUES ('plane', ?, ?)
                    ON CONFLICT (source, model) DO UPDATE SET full_since = excluded.full_since
                    """, arguments: [model, newest])
                if !page.results.isEmpty {
                    try event(db, level: .debug, type: "pull_page", message: "\(label): page of \(page.results.count) issues applied",
                              metadata: ["project_id": .string(project.id), "stats": pageStats.json])
                }
                stats.add(pageStats)
            }
            done += page.results.count
            progress?.progress(model: label, done: done, total: incremental ? nil : page.totalResults)
            guard !reachedCursor, page.hasNext else { break }
            window.advance()
        }
        progress?.finished(model: label)

        // 2. Every id with its updated_at: deletes, archives, and changes the pass missed.
        var remote: [String: String] = [:]
        var pageCursor: String? = nil
        while true {
            let page = try await client.page(path, query: [("fields", "id,updated_at")], perPage: pageSize, cursor: pageCursor)
            for item in page.results {
                guard let id = item["id"]?.stringValue else { continue }
                remote[id] = item["updated_at"]?.stringValue.flatMap(PlaneTime.normalize) ?? ""
            }
            guard page.hasNext, let next = page.nextCursor, next != pageCursor else { break }
            pageCursor = next
        }
        let local = try mirror.read { db in try PlaneSnapshots.live(db, kind: "issue", projectID: project.id) }
        let archivedLocally = try mirror.read { db in
            Set(try String.fetchAll(db, sql: "SELECT plane_id FROM plane_records WHERE kind = 'issue' AND project_id = ? AND deleted = 0 AND archived = 1",
                                    arguments: [project.id]))
        }
        let missed = remote.filter { id, updated in
            guard !seen.contains(id) else { return false }
            guard let stored = local[id] else { return true }
            return stored != updated || archivedLocally.contains(id)
        }.keys.sorted()
        var reread: [(String, JSONValue)] = []
        for id in missed {
            do {
                reread.append((id, try await client.issue(projectID: project.id, id: id).raw))
            } catch PlaneError.notFound {
                continue  // archived or deleted since the listing: the next pull sees it
            }
        }
        var vanished: [(id: String, archived: JSONValue?)] = []
        for id in local.keys.sorted() where remote[id] == nil && !archivedLocally.contains(id) {
            let key = try mirror.read { db in try PlaneSnapshots.data(db, kind: "issue", id: id) }.flatMap { data -> PlaneExternalKey? in
                guard let source = data["external_source"]?.stringValue, let externalID = data["external_id"]?.stringValue,
                      !source.isEmpty, !externalID.isEmpty else { return nil }
                return PlaneExternalKey(source: source, id: externalID)
            }
            // Plane hides archived and draft issues from every list and from the detail view;
            // only the external-key lookup still finds them.
            if let key, let found = try await client.lookupIssue(projectID: project.id, key: key), found.id == id {
                vanished.append((id, found.raw))
            } else {
                vanished.append((id, nil))
            }
        }

        // 3. One transaction: the re-read issues, the tombstones and the cursor.
        let finalCursor = [cursor?.updatedAt, newest].compactMap { $0 }.max()
        let now = Timestamp.iso(Date())
        try mirror.write { db in
            var tailStats = ModelStats()
            for (id, json) in reread {
                count(try PlaneSnapshots.apply(db, kind: "issue", id: id, projectID: project.id, json: json, pulledAt: now), into: &tailStats)
            }
            var deleted: [String] = []
            for (id, archived) in vanished {
                if let archived {
                    count(try PlaneSnapshots.apply(db, kind: "issue", id: id, projectID: project.id, json: archived, pulledAt: now),
                          into: &tailStats)
                } else {
                    deleted.append(id)
                }
            }
            for id in try PlaneSnapshots.markDeleted(db, kind: "issue", ids: deleted, pulledAt: now) {
                tailStats.deleted += 1
                try event(db, type: "record_deleted", message: "Plane issue \(id) (\(project.identifier)) was deleted",
                          metadata: ["kind": "issue", "plane_id": .string(id), "project_id": .string(project.id)])
            }
            try db.execute(sql: """
                INSERT INTO pull_cursors (source, model, write_date, full_since, last_run_at, last_full_at) VALUES ('plane', ?, ?, NULL, ?, ?)
                ON CONFLICT (source, model) DO UPDATE SET write_date = excluded.write_date, full_since = NULL,
                    last_run_at = excluded.last_run_at, last_full_at = coalesce(excluded.last_full_at, pull_cursors.last_full_at)
                """, arguments: [model, finalCursor, now, incremental ? nil : now])
            stats.add(tailStats)
        }
        return stats
    }

    /// The pages of a newest-first pass: fixed `pageSize` pages for a full pass; for an
    /// incremental one 100, 100, 200, 400, ... up to `pageSize`.
    struct PageWindow {
        private(set) var size: Int
        private(set) var index = 0
        private let cap: Int

        init(pageSize: Int, incremental: Bool) {
            cap = pageSize
            size = incremental ? min(100, pageSize) : pageSize
        }

        var cursor: String? { index == 0 ? nil : "\(size):\(index):0" }

        /// Moves past the page just read.
        mutating func advance() {
            let offset = (index + 1) * size
            if index == 1, offset <= cap {
                // Page 1 of size `offset` starts exactly where the items read so far end.
                size = offset
            } else {
                index += 1
            }
        }
    }

    // MARK: journal

    private func count(_ change: PlaneSnapshots.Change, into stats: inout ModelStats) {
        switch change {
        case .created: stats.created += 1
        case .updated: stats.updated += 1
        case .unchanged: stats.unchanged += 1
        case .archived: stats.archived += 1
        }
    }

    private func event(_ db: Database, level: EventLevel = .info, type: String, message: String, metadata: JSONValue = [:]) throws {
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
