import Foundation
import GRDB
import OdooSyncCore
import OdooSyncMirror
import PlaneClient

/// The mirror's copy of Plane records (`plane_records`): one row per record, the object as
/// Plane sent it with datetimes in UTC, a hash to tell changes, and tombstones.
enum PlaneSnapshots {
    enum Change { case created, updated, unchanged, archived }

    /// Plane renders datetimes in the API user's timezone; the snapshot keeps them in UTC so a
    /// timezone change is not mistaken for an edit of every record.
    static let datetimeKeys: Set<String> = ["created_at", "updated_at", "deleted_at", "completed_at", "archived_at"]

    /// Keys of a cycle that hold a day as a datetime in its project's timezone: 2026-11-16
    /// ends at 2026-11-16T23:59:00 there, which an API user elsewhere is shown as another day's
    /// time. (The cycle's own `timezone` field is not that zone: Plane leaves it at UTC.)
    static let zonedDayKeys: Set<String> = ["start_date", "end_date"]

    /// `json` as stored: datetimes in UTC, and with `dayZone` (a cycle's project's timezone)
    /// the cycle's days as the wall clock of that zone with its offset, whatever the API
    /// user's timezone, so that their first ten characters are the day the project means.
    static func normalized(_ json: JSONValue, dayZone: TimeZone? = nil) -> JSONValue {
        guard case .object(let pairs) = json else { return json }
        return .object(pairs.map { key, value in
            if datetimeKeys.contains(key), let text = value.stringValue, let utc = PlaneTime.normalize(text) { return (key, .string(utc)) }
            if let dayZone, zonedDayKeys.contains(key), let text = value.stringValue, let local = PlaneTime.render(text, in: dayZone) {
                return (key, .string(local))
            }
            return (key, value)
        })
    }

    /// The timezone of a project whose snapshot the mirror holds.
    static func projectZone(_ db: Database, projectID: String?) throws -> TimeZone? {
        guard let projectID else { return nil }
        let name = try String.fetchOne(db.cachedStatement(sql: """
            SELECT json_extract(data, '$.timezone') FROM plane_records WHERE kind = 'project' AND plane_id = ?
            """), arguments: [projectID])
        return name.flatMap(TimeZone.init(identifier:))
    }

    /// FNV-1a over the stored text: stable across runs, unlike Swift's seeded `Hasher`.
    static func hash(_ text: String, _ more: String?) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        for byte in (more ?? "").utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        return Int64(bitPattern: h)
    }

    /// Stores one pulled record; says what happened to its snapshot.
    static func apply(_ db: Database, kind: String, id: String, projectID: String?, json: JSONValue, issueIDs: [String]? = nil,
                      pulledAt: String) throws -> Change {
        let data = normalized(json, dayZone: kind == "cycle" ? try projectZone(db, projectID: projectID) : nil)
        let text = data.serialized
        let members = issueIDs.map { JSONValue.array($0.map(JSONValue.string)).serialized }
        let digest = hash(text, members)
        let archived = (data["archived_at"].map { $0 != .null } ?? false) || data["is_draft"]?.boolValue == true
        let updatedAt = data["updated_at"]?.stringValue
        let lookup = try db.cachedStatement(sql: "SELECT data_hash, deleted, archived FROM plane_records WHERE kind = ? AND plane_id = ?")
        let old = try Row.fetchOne(lookup, arguments: [kind, id])
        if let old, (old[0] as Int64) == digest, (old[1] as Int) == 0 { return .unchanged }
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO plane_records (kind, plane_id, project_id, updated_at, deleted, data, data_hash, pulled_at, issue_ids, archived)
            VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
            ON CONFLICT (kind, plane_id) DO UPDATE SET project_id = excluded.project_id, updated_at = excluded.updated_at,
                deleted = 0, data = excluded.data, data_hash = excluded.data_hash, pulled_at = excluded.pulled_at,
                issue_ids = excluded.issue_ids, archived = excluded.archived
            """)
        try upsert.execute(arguments: [kind, id, projectID, updatedAt, text, digest, pulledAt, members, archived])
        guard let old else { return archived ? .archived : .created }
        if archived && (old[2] as Int) == 0 { return .archived }
        return .updated
    }

    /// Tombstones: the record is gone from Plane. Returns the ids that were live.
    @discardableResult
    static func markDeleted(_ db: Database, kind: String, ids: [String], pulledAt: String) throws -> [String] {
        var gone: [String] = []
        let statement = try db.cachedStatement(sql: "UPDATE plane_records SET deleted = 1, pulled_at = ? WHERE kind = ? AND plane_id = ? AND deleted = 0")
        for id in ids {
            try statement.execute(arguments: [pulledAt, kind, id])
            if db.changesCount > 0 { gone.append(id) }
        }
        return gone
    }

    /// Live (not deleted) snapshots of a kind, optionally in one project: id → updated_at.
    static func live(_ db: Database, kind: String, projectID: String?, includeArchived: Bool = true) throws -> [String: String?] {
        var sql = "SELECT plane_id, updated_at FROM plane_records WHERE kind = ? AND deleted = 0"
        var arguments: StatementArguments = [kind]
        if let projectID {
            sql += " AND project_id = ?"
            arguments += [projectID]
        }
        if !includeArchived { sql += " AND archived = 0" }
        var out: [String: String?] = [:]
        for row in try Row.fetchAll(db, sql: sql, arguments: arguments) { out[row[0]] = row[1] as String? }
        return out
    }

    static func data(_ db: Database, kind: String, id: String) throws -> JSONValue? {
        try String.fetchOne(db, sql: "SELECT data FROM plane_records WHERE kind = ? AND plane_id = ?", arguments: [kind, id])
            .flatMap { try? JSONValue.parse($0) }
    }
}

/// What `pull plane` did, per entity.
public struct PlanePullReport: Sendable {
    public var runID: String
    public var entities: [(name: String, stats: ModelStats)] = []
    /// Identifiers of the projects pulled, and of archived ones whose contents were left as they were.
    public var projects: [String] = []
    public var archivedProjects: [String] = []
    /// Projects Plane lists (public ones) whose members do not include the key's user: left
    /// out, since Plane answers 403 inside them.
    public var notMemberProjects: [String] = []
    /// Projects that could not be pulled, with why; the other projects were.
    public var projectErrors: [(project: String, message: String)] = []
    public var seconds: Double = 0
    public var requests = 0
    public var retries = 0
    public var rateLimited = 0
    public var rateLimitWaitSeconds: Double = 0

    public var hasErrors: Bool { entities.contains { $0.stats.errors > 0 } }

    mutating func add(_ name: String, _ stats: ModelStats) {
        if let index = entities.firstIndex(where: { $0.name == name }) {
            entities[index].stats.add(stats)
        } else {
            entities.append((name, stats))
        }
    }

    public var json: JSONValue {
        .object([
            ("run_id", .string(runID)),
            ("source", "plane"),
            ("seconds", .double((seconds * 1000).rounded() / 1000)),
            ("requests", .int(requests)),
            ("retries", .int(retries)),
            ("rate_limited", .int(rateLimited)),
            ("rate_limit_wait_seconds", .double((rateLimitWaitSeconds * 1000).rounded() / 1000)),
            ("projects", .array(projects.map(JSONValue.string))),
            ("archived_projects", .array(archivedProjects.map(JSONValue.string))),
            ("not_member_projects", .array(notMemberProjects.map(JSONValue.string))),
            ("project_errors", .array(projectErrors.map { .object([("project", .string($0.project)), ("message", .string($0.message))]) })),
            ("entities", .object(entities.map { ($0.name, $0.stats.json) })),
        ])
    }
}
