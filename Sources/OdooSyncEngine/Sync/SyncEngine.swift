import Foundation
import GRDB
import Logging
import OdooClient
import PlaneClient
import OdooSyncCore
import OdooSyncMirror

/// What one entity type did in a sync run.
public struct EntityStats: Sendable, Equatable {
    public var created = 0
    public var updated = 0
    public var archived = 0
    /// Pairs brought back: the record whose loss ended the pair returned, and the other side
    /// was restored from it.
    public var restored = 0
    public var paired = 0
    public var conflicts = 0
    public var failed = 0
    public var queued = 0

    public init() {}

    public var json: JSONValue {
        ["created": .int(created), "updated": .int(updated), "archived": .int(archived), "restored": .int(restored), "paired": .int(paired),
         "conflicts": .int(conflicts), "failed": .int(failed), "queued": .int(queued)]
    }
}

public struct SyncReport: Sendable {
    public var entities: [String: EntityStats] = [:]
    /// The calls made (or, in a dry run, that would be made), described.
    public var calls: [String] = []
    /// A dry run's report lists its calls in `json`; a real run's counts them, each call being
    /// in `sync_log` already (a first sync's list ran to megabytes in `runs.metadata`).
    public var dryRun = false
    public var errors: [String] = []
    /// Detection and push, wall time less the time spent waiting for HTTP answers: everything
    /// the engine does itself (reading and writing the mirror, comparing, translating, building
    /// requests, parsing answers) and nothing it waits for.
    public var engineSeconds: Double = 0
    /// The time detection and push spent waiting for HTTP answers (several in flight count once).
    public var remoteSeconds: Double = 0
    /// CPU time the process used during detection and push (all threads, so the HTTP client's
    /// work during the waits too): what `engineSeconds` would be on an idle machine, less I/O waits.
    public var engineCPUSeconds: Double = 0
    /// The pulls that precede detection (`sync` only): wall time, and the part of it spent
    /// waiting for HTTP answers.
    public var pullSeconds: Double = 0
    public var pullRemoteSeconds: Double = 0
    public var itemsConsidered = 0
    /// Field values with no counterpart on the other side (a stage with no Plane state of that
    /// name), left unchanged there.
    public var unmappedFields = 0
    /// Queue items left for later because their side is not configured in this run.
    public var skippedForConnection = 0
    /// Seconds spent waiting out Plane's rate limit (pull and push).
    public var planeRateLimitWaitSeconds: Double = 0
    /// Plane projects the pull left out because the key's user is not a member of them.
    public var planeNotMemberProjects: [String] = []
    /// Plane projects the pull could not read (their messages are in `errors`).
    public var planePullFailed = 0

    public init() {}

    public var failed: Int { entities.values.reduce(0) { $0 + $1.failed } + planePullFailed }
    public var conflicts: Int { entities.values.reduce(0) { $0 + $1.conflicts } }
    public var written: Int { entities.values.reduce(0) { $0 + $1.created + $1.updated + $1.archived + $1.restored } }
    /// Pairs made or brought back so far: while a pass adds to it, the next may find more to do.
    public var pairsMade: Int { entities.values.reduce(0) { $0 + $1.created + $1.paired + $1.restored } }

    mutating func bump(_ entity: String, _ change: (inout EntityStats) -> Void) {
        var stats = entities[entity] ?? EntityStats()
        change(&stats)
        entities[entity] = stats
    }

    public var json: JSONValue {
        .object([
            ("entities", .object(SyncEntities.all.compactMap { key in entities[key].map { (key, $0.json) } })),
            ("written", .int(written)), ("conflicts", .int(conflicts)), ("failed", .int(failed)),
            ("items_considered", .int(itemsConsidered)), ("unmapped_fields", .int(unmappedFields)),
            ("engine_seconds", .double((engineSeconds * 1000).rounded() / 1000)),
            ("engine_cpu_seconds", .double((engineCPUSeconds * 1000).rounded() / 1000)),
            ("remote_seconds", .double((remoteSeconds * 1000).rounded() / 1000)),
            ("pull_seconds", .double((pullSeconds * 1000).rounded() / 1000)),
            ("pull_remote_seconds", .double((pullRemoteSeconds * 1000).rounded() / 1000)),
            ("plane_rate_limit_wait_seconds", .double((planeRateLimitWaitSeconds * 1000).rounded() / 1000)),
            ("plane_not_member_projects", .array(planeNotMemberProjects.map(JSONValue.string))),
            dryRun ? ("calls", .array(calls.map(JSONValue.string))) : ("calls_made", .int(calls.count)),
            ("errors", .array(errors.map(JSONValue.string))),
        ])
    }
}

/// Splits a phase's wall time into waits for HTTP answers and the engine's own time, and
/// notes the CPU time the process used meanwhile.
struct PhaseClock {
    let clock: HTTPWaitClock
    let started = DispatchTime.now().uptimeNanoseconds
    let waitedBefore: Double
    let cpuBefore = PhaseClock.processCPUSeconds()

    init(_ clock: HTTPWaitClock) {
        self.clock = clock
        waitedBefore = clock.seconds
    }

    func charge(to report: inout SyncReport) {
        let wall = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let waited = clock.seconds - waitedBefore
        report.remoteSeconds += waited
        report.engineSeconds += max(0, wall - waited)
        report.engineCPUSeconds += max(0, PhaseClock.processCPUSeconds() - cpuBefore)
    }

    /// User and system CPU time of the whole process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// A queue item that could not be carried out; the item is retried later or marked failed.
public struct SyncItemError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The Plane <-> Odoo sync: change detection on the mirror's snapshots, the queue, and push.
///
/// Detection compares each side of each pair with what that side held at the last sync
/// (`sync_pairs`), field by field, in one vocabulary (`Translation`). A field changed on one side
/// is queued for the other; a field changed on both sides to different values goes through the
/// entity's strategy. Push carries out queue items: the remote write first, then, in one local
/// transaction, the item's completion, the mapping, the pair's new memory, `sync_log` and
/// `events`. Creates are idempotent on the remote (Odoo: `load` with an external identifier;
/// Plane: external_id/external_source), so a crash between the two only repeats a harmless write.
public final class SyncEngine: @unchecked Sendable {
    let mirror: Mirror
    let odoo: OdooClient?
    let plane: PlaneWriting?
    let runID: String
    let logger: Logger
    let scope: SyncScope
    let httpClock: HTTPWaitClock
    public internal(set) var report = SyncReport()
    var priorityKeys: [String]?
    /// Learnt with the priority keys (`odooPriorityKeys`).
    var taskDeadlineIsDate = false
    var taskClosingStates = false
    var odooTimeZone: TimeZone?
    private var fetchedStates: [String: [JSONValue]] = [:]
    /// Per push run: the maps and configs every item needs, read once instead of per item.
    var cachedTranslation: Translation?
    private var cachedConfigs: [String: EntityConfig]?

    func currentTranslation() throws -> Translation {
        if let cachedTranslation { return cachedTranslation }
        let fresh = try mirror.read { db in try self.translation(db) }
        cachedTranslation = fresh
        return fresh
    }

    public static let category = "plane-sync"
    static let externalSource = "odoo"

    /// `httpClock`: the clock of the transports `odoo` and `plane` send through, so that the
    /// report can tell the engine's own time from its waits for answers.
    public init(mirror: Mirror, odoo: OdooClient?, plane: PlaneWriting?, runID: String, scope: SyncScope, logger: Logger,
                httpClock: HTTPWaitClock = HTTPWaitClock()) {
        self.httpClock = httpClock
        self.mirror = mirror
        self.odoo = odoo
        self.plane = plane
        self.runID = runID
        self.scope = scope
        self.logger = logger
    }

    // MARK: - Snapshots

    struct PlaneRec {
        let id: String
        let project: String?
        let updatedAt: String?
        let deleted: Bool
        let data: JSONValue
    }

    struct OdooRec {
        let id: Int
        let writeDate: String?
        let active: Bool
        let deleted: Bool
        let data: JSONValue
    }

    struct Pair {
        let mappingID: String
        let planeID: String
        let planeProject: String?
        let odooID: Int
        var planeFields: [String: JSONValue]
        var odooFields: [String: JSONValue]
        let status: String
        /// For a pair that ended: the side whose record went ("plane", "odoo", "both"), and
        /// whether the sync archived the other side's record then.
        var endedBy: String? = nil
        var archivedOther = false
        /// "error" pairs still take changes: a fix made after a failure folds into the failed
        /// queue item, so `queue retry` sends the fix, not the value that failed.
        var isLive: Bool { status == "active" || status == "error" }
    }

    static func planeRecords(_ db: Database, kind: String) throws -> [PlaneRec] {
        try Row.fetchAll(db, sql: "SELECT plane_id, project_id, updated_at, deleted OR archived, data FROM plane_records WHERE kind = ? ORDER BY plane_id", arguments: [kind])
            .map(planeRec)
    }

    static func planeRec(_ row: Row) -> PlaneRec {
        PlaneRec(id: row[0], project: row[1], updatedAt: row[2], deleted: row[3], data: (try? JSONValue.parse(row[4] as String)) ?? .null)
    }

    static func odooRecords(_ db: Database, model: String) throws -> [OdooRec] {
        try Row.fetchAll(db, sql: "SELECT odoo_id, write_date, active, deleted, data FROM odoo_records WHERE model = ? ORDER BY odoo_id", arguments: [model])
            .map(odooRec)
    }

    static func odooRec(_ row: Row) -> OdooRec {
        OdooRec(id: row[0], writeDate: row[1], active: row[2], deleted: row[3], data: (try? JSONValue.parse(row[4] as String)) ?? .null)
    }

    static func pairs(_ db: Database, entity: String) throws -> [Pair] {
        try Row.fetchAll(db, sql: """
            SELECT p.mapping_id, p.plane_id, p.plane_project, p.odoo_id, p.plane_fields, p.odoo_fields, m.status, p.ended_by, p.archived_other
            FROM sync_pairs p JOIN sync_mappings m ON m.id = p.mapping_id WHERE p.entity = ?
            """, arguments: [entity]).map { row in
            Pair(mappingID: row[0], planeID: row[1], planeProject: row[2], odooID: row[3],
                 planeFields: fieldsDict(row[4]), odooFields: fieldsDict(row[5]), status: row[6], endedBy: row[7], archivedOther: row[8])
        }
    }

    static func fieldsDict(_ text: String?) -> [String: JSONValue] {
        fieldsDict(object: text.flatMap { try? JSONValue.parse($0) })
    }

    static func fieldsDict(object value: JSONValue?) -> [String: JSONValue] {
        Dictionary(value?.objectValue ?? [], uniquingKeysWith: { _, last in last })
    }

    static func fieldsJSON(_ fields: [String: JSONValue]) -> JSONValue {
        .object(fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    func translation(_ db: Database) throws -> Translation {
        let map = Dictionary(try Row.fetchAll(db, sql: "SELECT plane_state, odoo_stage FROM state_map").map { ($0[0] as String, $0[1] as String) },
                             uniquingKeysWith: { a, _ in a })
        var states: [String: (name: String, group: String, project: String?)] = [:]
        for record in try SyncEngine.planeRecords(db, kind: "state") where !record.deleted {
            states[record.id] = ((record.data["name"]?.stringValue ?? "").lowercased(), record.data["group"]?.stringValue ?? "",
                                 record.project ?? record.data["project"]?.stringValue)
        }
        for (project, list) in fetchedStates {
            for state in list {
                guard let id = state["id"]?.stringValue, states[id] == nil else { continue }
                states[id] = ((state["name"]?.stringValue ?? "").lowercased(), state["group"]?.stringValue ?? "", project)
            }
        }
        var stages: [String: [Translation.OdooStage]] = [:]
        var projectsWithStages: Set<Int> = []
        // odooRecords is in id order: each name's stages too.
        for record in try SyncEngine.odooRecords(db, model: "project.task.type") where !record.deleted && record.active {
            let name = (record.data["name"]?.stringValue ?? "").lowercased()
            let projects = record.data["project_ids"]?.arrayValue.map { Set($0.compactMap(\.intValue)) }
            projectsWithStages.formUnion(projects ?? [])
            stages[name, default: []].append(Translation.OdooStage(id: record.id, projects: projects))
        }
        var translation = Translation(stateMap: map, planeStates: states, odooStages: stages, odooProjectsWithStages: projectsWithStages)
        if let priorityKeys { translation.taskPriorityKeys = priorityKeys }
        if taskDeadlineIsDate { translation.odooDatetimeFields.remove("date_deadline") }
        translation.taskClosingStates = taskClosingStates
        if taskClosingStates {
            for row in try Row.fetchAll(db, sql: "SELECT odoo_id, plane_id FROM sync_pairs WHERE entity = 'project:project.project'") {
                translation.planeProjectOfOdoo[row[0]] = row[1] as String
            }
        }
        if let odooTimeZone { translation.odooTimeZone = odooTimeZone }
        return translation
    }

    // MARK: - Detection

    /// Compares every pair and every unpaired record in scope with the last sync and queues what
    /// must be written; opens conflicts for the manual strategy. One transaction.
    public func detect() async throws {
        let phase = PhaseClock(httpClock)
        defer { phase.charge(to: &report) }
        // A task's priority reads by what its key means on this server, so the keys come first.
        if odoo != nil { _ = try await odooPriorityKeysIfAny() }
        try mirror.write { db in
            let configs = try SyncEntities.load(db)
            let translation = try translation(db)
            let onDelete = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'sync.on_delete'") ?? "archive"
            var detector = Detector(engine: self, db: db, translation: translation, archiveOnDelete: onDelete == "archive")
            let projectPairs = try detector.projects(configs["project:project.project"])
            try detector.modules(configs["module:project.project"], projectPairs: projectPairs)
            try detector.cycles(configs["cycle:project.milestone"], projectPairs: projectPairs)
            try detector.issues(configs["issue:project.task"], projectPairs: projectPairs)
            for model in ["sale.order", "account.move"] {
                try detector.visibility(configs["issue:\(model)"], model: model)
            }
            try detector.finish()
            report.itemsConsidered += detector.considered
        }
    }

    // MARK: - Push

    /// Carries out the due queue items, highest priority first. With `dryRun`, prints the calls
    /// and changes nothing, here or remotely.
    public func push(dryRun: Bool) async throws {
        let phase = PhaseClock(httpClock)
        defer { phase.charge(to: &report) }
        cachedTranslation = nil
        cachedConfigs = nil
        report.dryRun = dryRun
        if !dryRun {
            // One process holds the run lock, so an item left "processing" was cut off by a crash.
            try mirror.write { db in
                try db.cachedStatement(sql: "UPDATE sync_queue SET status = 'pending', worker_id = NULL, lock_until = NULL WHERE status = 'processing'").execute()
            }
        }
        let now = Timestamp.iso(Date())
        let due: [(queueID: String, item: QueueItem)] = SyncEngine.grouped(try mirror.read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM sync_queue WHERE status = 'pending' AND (? OR next_attempt_at IS NULL OR next_attempt_at <= ?)
                ORDER BY priority DESC, created_at, id
                """), arguments: [dryRun, now]).compactMap { row in QueueItem(row: row).map { (row["id"], $0) } }
        })
        if dryRun {
            // The exact calls hold the priority keys and deadlines this server takes (reads only).
            if odoo != nil, due.contains(where: { $0.item.target == "odoo" && $0.item.targetType == "project.task" }) {
                _ = try await odooPriorityKeysIfAny()
            }
            try describe(due.map(\.item))
            return
        }
        var previousPriority: Int?
        var index = 0
        while index < due.count {
            let (queueID, item) = due[index]
            index += 1
            // An earlier item of this run may have created what this one needs (a project's pair).
            if item.priority != previousPriority { try flushCompletions() }
            previousPriority = item.priority
            guard let ready = try prepare(item) else { continue }
            if (ready.target == "plane" && plane == nil) || (ready.target == "odoo" && odoo == nil) {
                report.skippedForConnection += 1
                continue
            }
            if SyncEngine.goesInOdooBatch(ready) {
                // The following items of the same priority for the same model go with it: one
                // load for the creates, one read-back for all.
                var batch = [(queueID, ready)]
                // Its updates go out side by side: a second change of one record waits for the next batch.
                var targets = Set([ready.targetID].compactMap { $0 })
                while index < due.count, batch.count < SyncEngine.odooBatchSize {
                    let (nextID, next) = due[index]
                    guard SyncEngine.joinsOdooBatch(next, of: ready, targets: targets) else { break }
                    index += 1
                    if let target = next.targetID { targets.insert(target) }
                    if let prepared = try prepare(next) { batch.append((nextID, prepared)) }
                }
                try await pushOdooBatch(batch)
                continue
            }
            if SyncEngine.goesInParallel(ready), let first = ready.targetID {
                // The following updates of other issues go with it, a few requests at a time.
                var group = [(queueID, ready)]
                var targets: Set<String> = [first]
                while index < due.count, group.count < SyncEngine.parallelGroupSize {
                    let (nextID, next) = due[index]
                    guard next.priority == ready.priority, SyncEngine.goesInParallel(next), let target = next.targetID,
                          !targets.contains(target) else { break }
                    index += 1
                    guard let prepared = try prepare(next) else { continue }
                    targets.insert(target)
                    group.append((nextID, prepared))
                }
                try await pushIssueUpdates(group)
                continue
            }
            let started = Date()
            do {
                let result = try await perform(ready)
                try complete(queueID: queueID, item: ready, result: result, started: started)
            } catch let error as UserFacingError where error.exitStatus == .remote || error.exitStatus == .mirror {
                // The remote is down or refuses us: the item is not at fault. Leave it for the next run,
                // after recording what did go through.
                try flushCompletions()
                throw error
            } catch {
                try flushCompletions()
                try fail(queueID: queueID, item: ready, error: error, started: started)
            }
        }
        try flushCompletions()
    }

    /// Fills in what the item needs from pairs made since it was queued; nil when it cannot run yet.
    func prepare(_ item: QueueItem) throws -> QueueItem? {
        var item = item
        if item.operation == "create", item.entity == "issue:project.task" || item.entity == "cycle:project.milestone" || item.entity == "module:project.project" {
            if item.target == "odoo", item.odooProject == nil, let planeProject = item.planeProject {
                item.odooProject = try mirror.read { db in
                    try Int.fetchOne(db.cachedStatement(sql: "SELECT odoo_id FROM sync_pairs WHERE entity = 'project:project.project' AND plane_id = ?"), arguments: [planeProject])
                }
                if item.odooProject == nil { return nil }
            }
        }
        return item
    }

    struct Outcome {
        var targetID: String
        /// The target's canonical values after the write, for the written keys.
        var targetFields: [String: JSONValue]
        var targetProject: String?
        var created: Bool
        var archived: Bool
        var calls: [String]
        /// The target record as its server now holds it, kept as the mirror's snapshot so a
        /// record made by this run is known to the mirror before the next pull (and its deletion
        /// is noticed even if it never was pulled).
        var record: JSONValue? = nil
        /// For an Odoo target: the record as the pull reads it, stored as its snapshot.
        var odooSnapshot: OdooSnapshot? = nil
    }

    func perform(_ item: QueueItem) async throws -> Outcome {
        if item.target == "odoo" {
            return try await performOdooArchive(item)
        }
        return try await performPlane(item)
    }

    // MARK: Plane side

    func requirePlane() throws -> PlaneWriting {
        guard let plane else { throw SyncItemError("Plane is not configured (PLANE_API_URL, PLANE_API_KEY, PLANE_WORKSPACE_SLUG).") }
        return plane
    }

    private func statesFor(project: String?) async throws -> Translation {
        var translation = try currentTranslation()
        if let project, !translation.planeStates.values.contains(where: { $0.project == project }), fetchedStates[project] == nil {
            fetchedStates[project] = try await requirePlane().states(projectID: project)
            cachedTranslation = nil
            translation = try currentTranslation()
        }
        return translation
    }

    private func performPlane(_ item: QueueItem) async throws -> Outcome {
        let plane = try requirePlane()
        let project = item.planeProject
        let translation = try await statesFor(project: project)
        let plain = item.entity == "project:project.project"
        let (values, skipped) = translation.planeValues(item.fields, project: project, plainDescription: plain, issue: item.entity.hasPrefix("issue:"))
        if !skipped.isEmpty {
            logger.info("\(item.entity) \(item.sourceID): no Plane value for \(skipped.joined(separator: ", ")); left unchanged")
            report.unmappedFields += skipped.count
        }
        let mappings = try configMappings(item.entity)
        var call = ""
        let answer: JSONValue
        var created = false
        switch (item.entity, item.operation) {
        case ("project:project.project", "create"):
            let name = item.fields["name"]?.stringValue ?? "Project"
            // The mirror knows only the projects in scope, and identifiers are unique in the
            // whole workspace: a project outside PLANE_PROJECTS, or one the key's user is not
            // in, may hold the one chosen. Plane answers 409 for a taken name or identifier
            // alike (after the client found no project with this key), so the next few
            // identifiers are tried before the item fails; a taken name fails all of them.
            var tried: Set<String> = []
            var result: JSONValue?
            while result == nil {
                let identifier = try identifier(for: name, avoiding: tried)
                tried.insert(identifier)
                let body = values + [("identifier", .string(identifier))]
                call = "plane POST projects/ \(JSONValue.object(body).serialized)"
                do {
                    result = try await plane.createProject(fields: .object(body), externalID: item.key ?? "", externalSource: SyncEngine.externalSource)
                } catch PlaneError.conflict(let request, let message, nil) where tried.count < SyncEngine.projectIdentifierTries {
                    logger.info("\(request): \(message); trying another identifier than \(identifier)")
                }
            }
            answer = result ?? [:]
            created = true
        case ("project:project.project", "archive"):
            guard let id = item.targetID else { throw SyncItemError("archive without a target id") }
            try await plane.archiveProject(projectID: id)
            return Outcome(targetID: id, targetFields: [:], created: false, archived: true, calls: ["plane POST projects/\(id)/archive/"])
        case ("project:project.project", _):
            guard let id = item.targetID else { throw SyncItemError("update without a target id") }
            call = "plane PATCH projects/\(id)/ \(JSONValue.object(values).serialized)"
            if item.restore {
                // Plane refuses to change an archived project: out of the archive first (a
                // project already out answers the same, so a retry is harmless).
                try await plane.unarchiveProject(projectID: id)
                call = "plane DELETE projects/\(id)/archive/; " + call
            }
            answer = try await plane.updateProject(projectID: id, fields: .object(values))
        case (_, "create"):
            guard let project, let key = item.key else { throw SyncItemError("create without a project or an external id") }
            call = "plane POST projects/\(project)/issues/ \(JSONValue.object(values + [("external_source", .string(SyncEngine.externalSource)), ("external_id", .string(key))]).serialized)"
            answer = try await plane.createIssue(projectID: project, fields: .object(values), externalID: key, externalSource: SyncEngine.externalSource)
            created = true
        case (_, "archive"):
            guard let project, let id = item.targetID else { throw SyncItemError("archive without a target") }
            guard let cancelled = translation.cancelledState(project: project) else {
                throw SyncItemError("the Plane project has no state in the cancelled group to archive the issue into")
            }
            let body: JSONValue = ["state": .string(cancelled)]
            _ = try await plane.updateIssue(projectID: project, issueID: id, fields: body)
            return Outcome(targetID: id, targetFields: [:], targetProject: project, created: false, archived: true,
                           calls: ["plane PATCH projects/\(project)/issues/\(id)/ \(body.serialized)"])
        default:
            let update = try planIssueUpdate(item, values: values)
            return try finishIssueUpdate(update, answer: try await plane.updateIssue(projectID: update.project, issueID: update.issueID,
                                                                                      fields: .object(update.values)))
        }
        guard let id = answer["id"]?.stringValue ?? item.targetID else { throw SyncItemError("Plane answered without an id") }
        let canonical = translation.planeCanonical(answer, mappings: item.entity.hasPrefix("issue:") && item.entity != "issue:project.task"
                                                    ? SyncEngine.visibilityMappings : mappings, plainDescription: plain)
        let written = created ? canonical : canonical.filter { item.fields.keys.contains($0.key) }
        return Outcome(targetID: id, targetFields: written, targetProject: item.entity == "project:project.project" ? id : project,
                       created: created, archived: false, calls: [call], record: answer["id"] != nil ? answer : nil)
    }

    /// An issue update worked out before its request, so that several can be in flight at once.
    struct IssueUpdate: Sendable {
        let item: QueueItem
        let project: String
        let issueID: String
        let values: [(String, JSONValue)]
        let call: String
    }

    func planIssueUpdate(_ item: QueueItem, values: [(String, JSONValue)]) throws -> IssueUpdate {
        guard let project = item.planeProject, let id = item.targetID else { throw SyncItemError("update without a target") }
        return IssueUpdate(item: item, project: project, issueID: id, values: values,
                           call: "plane PATCH projects/\(project)/issues/\(id)/ \(JSONValue.object(values).serialized)")
    }

    /// Plans the update of `item`, translating its values (the project's states fetched first if
    /// the mirror has none).
    func planIssueUpdate(_ item: QueueItem) async throws -> IssueUpdate {
        let translation = try await statesFor(project: item.planeProject)
        let (values, skipped) = translation.planeValues(item.fields, project: item.planeProject, plainDescription: false, issue: true)
        if !skipped.isEmpty {
            logger.info("\(item.entity) \(item.sourceID): no Plane value for \(skipped.joined(separator: ", ")); left unchanged")
            report.unmappedFields += skipped.count
        }
        return try planIssueUpdate(item, values: values)
    }

    func finishIssueUpdate(_ update: IssueUpdate, answer: JSONValue) throws -> Outcome {
        let item = update.item
        let translation = try currentTranslation()
        let mappings = try configMappings(item.entity)
        let canonical = translation.planeCanonical(answer, mappings: item.entity != "issue:project.task" ? SyncEngine.visibilityMappings : mappings,
                                                   plainDescription: false)
        return Outcome(targetID: answer["id"]?.stringValue ?? update.issueID, targetFields: canonical.filter { item.fields.keys.contains($0.key) },
                       targetProject: update.project, created: false, archived: false, calls: [update.call],
                       record: answer["id"] != nil ? answer : nil)
    }

    static let visibilityMappings: [(plane: String, odoo: String)] = [("name", "name"), ("description", "description")]

    func configMappings(_ entity: String) throws -> [(plane: String, odoo: String)] {
        if entity == "issue:sale.order" || entity == "issue:account.move" { return SyncEngine.visibilityMappings }
        if cachedConfigs == nil { cachedConfigs = try mirror.read { db in try SyncEntities.load(db) } }
        return cachedConfigs?[entity]?.fieldMappings ?? []
    }

    /// How many identifiers a project create tries when Plane says one is taken.
    static let projectIdentifierTries = 5

    /// A Plane project identifier from a name: initials, upper-cased, unique in the workspace.
    /// `avoiding`: identifiers Plane refused already.
    func identifier(for name: String, avoiding refused: Set<String> = []) throws -> String {
        let taken = try mirror.read { db in
            Set(try String.fetchAll(db.cachedStatement(sql: "SELECT upper(json_extract(data, '$.identifier')) FROM plane_records WHERE kind = 'project' AND json_extract(data, '$.identifier') IS NOT NULL")))
        }.union(refused)
        let words = name.uppercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        var base = words.count > 1 ? String(words.compactMap(\.first).prefix(5)) : String((words.first ?? "PRJ").prefix(4))
        base = String(base.unicodeScalars.filter { $0.isASCII && CharacterSet.alphanumerics.contains($0) }.map(Character.init))
        if base.count < 2 { base = "PRJ" }
        var candidate = base
        var n = 2
        while taken.contains(candidate) {
            candidate = "\(base)\(n)"
            n += 1
        }
        return candidate
    }

    // MARK: Completion

    /// Completed items wait here until the next flush: one local transaction per batch instead of
    /// per item. A crash loses at most the batch's bookkeeping, never data: the items are still
    /// pending and their remote writes are idempotent, so the next run finds what they made.
    var completions: [(queueID: String, item: QueueItem, result: Outcome, duration: Int)] = []
    var lastFlush = Date()
    static let completionBatch = 256

    /// The calls the due items would make, for `push --dry-run`, batched as push batches them.
    func describe(_ items: [QueueItem]) throws {
        var index = 0
        while index < items.count {
            let item = items[index]
            index += 1
            guard SyncEngine.goesInOdooBatch(item) else {
                report.calls.append(contentsOf: try describe(item))
                continue
            }
            var batch = [item]
            var targets = Set([item.targetID].compactMap { $0 })
            while index < items.count, batch.count < SyncEngine.odooBatchSize, SyncEngine.joinsOdooBatch(items[index], of: item, targets: targets) {
                if let target = items[index].targetID { targets.insert(target) }
                batch.append(items[index])
                index += 1
            }
            var groups: [[String]: [(xmlID: String, values: [(String, JSONValue)])]] = [:]
            var order: [[String]] = []
            for create in batch where create.operation == "create" {
                let values = try dryRunOdooValues(create)
                let columns = SyncEngine.loadRow(values).columns
                if groups[columns] == nil { order.append(columns) }
                groups[columns, default: []].append((create.key ?? "", values))
            }
            for columns in order {
                report.calls.append(SyncEngine.describe(SyncEngine.loadCall(model: item.targetType, rows: groups[columns] ?? [])))
            }
            for update in batch where update.operation != "create" {
                report.calls.append(contentsOf: try describe(update))
            }
        }
    }

    /// What push would send for the item, worked out by the code push uses, so that a dry run
    /// never shows a different call than the real one.
    private func dryRunOdooValues(_ item: QueueItem) throws -> [(String, JSONValue)] {
        try odooValues(item, translation: try currentTranslation()).values
    }

    /// The calls an item would make on its own, for `push --dry-run`.
    func describe(_ item: QueueItem) throws -> [String] {
        let translation = try currentTranslation()
        if item.target == "odoo" {
            let values = try dryRunOdooValues(item)
            switch item.operation {
            case "create":
                return [SyncEngine.describe(SyncEngine.loadCall(model: item.targetType, rows: [(item.key ?? "", values)]))]
            case "archive":
                return [SyncEngine.describe(OdooCall(model: item.targetType, method: "write", ids: [Int(item.targetID ?? "") ?? 0], args: [("vals", ["active": false])]))]
            default:
                return [SyncEngine.describe(OdooCall(model: item.targetType, method: "write", ids: [Int(item.targetID ?? "") ?? 0], args: [("vals", .object(values))]))]
            }
        }
        let values = translation.planeValues(item.fields, project: item.planeProject, plainDescription: item.entity == "project:project.project",
                                             issue: item.entity.hasPrefix("issue:")).values
        let body = JSONValue.object(values).serialized
        switch (item.entity, item.operation) {
        case ("project:project.project", "create"): return ["plane POST projects/ \(body)"]
        case ("project:project.project", "archive"): return ["plane POST projects/\(item.targetID ?? "?")/archive/"]
        case ("project:project.project", _):
            let patch = "plane PATCH projects/\(item.targetID ?? "?")/ \(body)"
            return item.restore ? ["plane DELETE projects/\(item.targetID ?? "?")/archive/", patch] : [patch]
        case (_, "create"):
            let withKey = JSONValue.object(values + [("external_source", .string(SyncEngine.externalSource)), ("external_id", .string(item.key ?? ""))])
            return ["plane POST projects/\(item.planeProject ?? "?")/issues/ \(withKey.serialized)"]
        case (_, "archive"):
            return ["plane PATCH projects/\(item.planeProject ?? "?")/issues/\(item.targetID ?? "?")/ {\"state\":\"\(translation.cancelledState(project: item.planeProject) ?? "?")\"}"]
        default: return ["plane PATCH projects/\(item.planeProject ?? "?")/issues/\(item.targetID ?? "?")/ \(body)"]
        }
    }
}

extension SyncEngine {
    public struct PairError: UserFacingError {
        public let description: String
        public var exitStatus: ExitStatus { .usage }
    }

    /// `config pair-project <plane> <odoo>`: pairs two projects by hand (before or instead of
    /// the name match of the first sync). Both must be in the mirror (pulled) and unpaired.
    public static func pairProjects(mirror: Mirror, plane given: String, odoo wanted: String) throws -> (plane: String, odoo: Int) {
        try mirror.write { db in
            let entity = "project:project.project"
            let planeAll = try planeRecords(db, kind: "project").filter { !$0.deleted }
            guard let p = planeAll.first(where: { $0.id == given || $0.data["identifier"]?.stringValue?.uppercased() == given.uppercased() })
                ?? planeAll.first(where: { $0.data["name"]?.stringValue == given }) else {
                throw PairError(description: "No Plane project \(given) in the mirror (identifier, id or name). Known: \(planeAll.compactMap { $0.data["identifier"]?.stringValue }.sorted().joined(separator: ", ")). Run `odoosync pull plane` first if it is new.")
            }
            let odooAll = try odooRecords(db, model: "project.project").filter { !$0.deleted }
            guard let o = odooAll.first(where: { String($0.id) == wanted }) ?? odooAll.first(where: { $0.data["name"]?.stringValue == wanted }) else {
                throw PairError(description: "No Odoo project \(wanted) in the mirror (id or exact name). Run `odoosync pull odoo` first if it is new.")
            }
            if try Int.fetchOne(db, sql: "SELECT 1 FROM sync_pairs WHERE entity = ? AND (plane_id = ? OR odoo_id = ?)", arguments: [entity, p.id, o.id]) != nil {
                throw PairError(description: "One of the two projects is already paired; `odoosync sql \"select * from sync_pairs where entity = '\(entity)'\"` shows the pairs.")
            }
            let configs = try SyncEntities.load(db)
            let mappings = configs[entity]?.fieldMappings ?? [("name", "name"), ("description", "description")]
            let translation = Translation(stateMap: [:], planeStates: [:], odooStages: [:])
            let planeFields = translation.planeCanonical(p.data, mappings: mappings, plainDescription: true)
            let odooFields = translation.odooCanonical(o.data, mappings: mappings, plainDescription: true)
            let id = TimeOrderedID.make()
            let now = Timestamp.iso(Date())
            try db.execute(sql: """
                INSERT INTO sync_mappings (id, source_system, source_id, source_type, target_id, target_type, last_synced_at, sync_version,
                                           sync_direction, status, created_at, updated_at)
                VALUES (?, 'plane', ?, 'project', ?, 'project.project', ?, 1, ?, 'active', ?, ?)
                """, arguments: [id, p.id, String(o.id), now, configs[entity]?.direction.rawValue ?? "bidirectional", now, now])
            try db.execute(sql: """
                INSERT INTO sync_pairs (mapping_id, entity, plane_id, plane_project, odoo_id, plane_fields, odoo_fields)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, entity, p.id, p.id, o.id, fieldsJSON(planeFields).serialized, fieldsJSON(odooFields).serialized])
            try Mirror.appendEvent(db, runID: nil, category: category, type: "paired",
                                   message: "Plane project \(p.data["name"]?.stringValue ?? p.id) paired by hand with Odoo project \(o.id)",
                                   component: entity, metadata: ["mapping_id": .string(id)])
            return (p.data["name"]?.stringValue ?? p.id, o.id)
        }
    }
}
