import Foundation
import GRDB
import OdooSyncCore
import OdooSyncMirror
import PlaneClient

/// Change detection for one sync run, inside the detection transaction.
struct Detector {
    let engine: SyncEngine
    let db: Database
    let translation: Translation
    let archiveOnDelete: Bool
    var considered = 0
    private var queueWriter = SyncEngine.QueueWriter()
    /// Ids of the Plane projects left out of this run (`SyncScope.leftOutPlaneProjects`), set
    /// by the project pass: the pairs of what lives in them are not compared either.
    private var leftOutProjectIDs: Set<String> = []
    /// Ids of the Plane projects whose pair ended (archived or deleted on one side), set by the
    /// project pass. Their issue pairs are left as they were: Odoo archives a project's tasks
    /// with it, and Plane hides an archived project's issues, so neither is an issue's own change.
    private var endedProjectIDs: Set<String> = []

    init(engine: SyncEngine, db: Database, translation: Translation, archiveOnDelete: Bool) {
        self.engine = engine
        self.db = db
        self.translation = translation
        self.archiveOnDelete = archiveOnDelete
    }

    typealias Fields = [String: JSONValue]
    typealias PlaneRec = SyncEngine.PlaneRec
    typealias OdooRec = SyncEngine.OdooRec

    static let priorities = ["project:project.project": 30, "module:project.project": 20, "cycle:project.milestone": 20,
                             "issue:project.task": 10, "issue:sale.order": 5, "issue:account.move": 5]

    // MARK: projects

    /// Pairs Plane and Odoo projects; returns plane project id -> odoo project id for the pairs
    /// that are active (the scope of every other entity).
    mutating func projects(_ config: EntityConfig?) throws -> [String: Int] {
        let entity = "project:project.project"
        let modules = Set(try Int.fetchAll(db, sql: "SELECT odoo_id FROM sync_pairs WHERE entity = 'module:project.project'"))
        let planeAll = try SyncEngine.planeRecords(db, kind: "project")
        let odooAll = try SyncEngine.odooRecords(db, model: "project.project").filter { !modules.contains($0.id) }
        var pairs = try SyncEngine.pairs(db, entity: entity)
        // Projects the key's user may not enter are out of every entity's scope: their pairs
        // wait, and their Odoo counterparts (paired, or named alike) are neither paired nor
        // created again in Plane.
        let leftOut = planeAll.filter(isLeftOut)
        let leftOutIDs = Set(leftOut.map(\.id))
        leftOutProjectIDs = leftOutIDs
        let leftOutNames = Set(leftOut.compactMap { $0.data["name"]?.stringValue })
        let leftOutOdoo = Set(pairs.filter { leftOutIDs.contains($0.planeID) }.map(\.odooID))
        let planeIn = planeAll.filter { !$0.deleted && inPlaneScope($0) && !leftOutIDs.contains($0.id) }
        let odooIn = odooAll.filter {
            !$0.deleted && $0.active && inOdooScope($0) && !leftOutOdoo.contains($0.id) && !leftOutNames.contains($0.data["name"]?.stringValue ?? "")
        }
        pairs.removeAll { leftOutIDs.contains($0.planeID) }
        var result: [String: Int] = [:]
        guard let config, config.enabled else {
            for pair in pairs where pair.isLive { result[pair.planeID] = pair.odooID }
            return result
        }
        let mappings = config.fieldMappings
        let planeByID = Dictionary(planeAll.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let odooByID = Dictionary(odooAll.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var pairedPlane = Set(pairs.map(\.planeID))
        var pairedOdoo = Set(pairs.map(\.odooID))

        // Projects back from an archive: the one that went is live again, the other is still
        // there (archived, if the sync archived it; Plane's archived projects count as gone
        // in `planeAll`, so its own tombstones are asked for apart).
        let planeDeleted = Set(try String.fetchAll(db, sql: "SELECT plane_id FROM plane_records WHERE kind = 'project' AND deleted = 1"))
        var reactivated = false
        for pair in pairs where !pair.isLive {
            guard let endedBy = pair.endedBy, let p = planeByID[pair.planeID], let o = odooByID[pair.odooID],
                  !o.deleted, !planeDeleted.contains(p.id) else { continue }
            // The record that went is back; the other is live too unless the sync archived it.
            guard endedBy == "plane" ? !p.deleted && (pair.archivedOther || o.active) : o.active && (pair.archivedOther || !p.deleted) else { continue }
            if try revive(entity: entity, config: config, pair: pair,
                          plane: translation.planeCanonical(p.data, mappings: mappings, plainDescription: true), planeTime: p.updatedAt,
                          odoo: translation.odooCanonical(o.data, mappings: mappings, plainDescription: true), odooTime: o.writeDate) {
                reactivated = true
            }
        }
        if reactivated {
            pairs = try SyncEngine.pairs(db, entity: entity)
            pairs.removeAll { leftOutIDs.contains($0.planeID) }
        }

        endedProjectIDs = Set(pairs.filter { !$0.isLive }.map(\.planeID))
        for pair in pairs where pair.isLive {
            considered += 1
            let p = planeByID[pair.planeID]
            let o = odooByID[pair.odooID]
            if try handleDeletes(entity: entity, config: config, pair: pair, plane: p, odoo: o, planeGone: p?.deleted == true,
                                 odooGone: o.map { $0.deleted || !$0.active } ?? false) {
                endedProjectIDs.insert(pair.planeID)  // ends with this run's push
                continue
            }
            result[pair.planeID] = pair.odooID
            guard let p, let o else { continue }
            try reconcile(entity: entity, config: config, pair: pair,
                          plane: translation.planeCanonical(p.data, mappings: mappings, plainDescription: true), planeTime: p.updatedAt,
                          odoo: translation.odooCanonical(o.data, mappings: mappings, plainDescription: true), odooTime: o.writeDate)
        }
        // First sync: same name pairs; the rest is created on the other side.
        var odooByName: [String: OdooRec] = [:]
        for o in odooIn where !pairedOdoo.contains(o.id) {
            let name = o.data["name"]?.stringValue ?? ""
            if odooByName[name] == nil { odooByName[name] = o }
        }
        for p in planeIn where !pairedPlane.contains(p.id) {
            considered += 1
            let name = p.data["name"]?.stringValue ?? ""
            if let o = odooByName[name] {
                odooByName[name] = nil
                let pair = try makePair(entity: entity, config: config, plane: p, odoo: o, mappings: mappings, plain: true)
                pairs.append(pair)
                pairedPlane.insert(p.id)
                pairedOdoo.insert(o.id)
                result[p.id] = o.id
                engine.bump(entity) { $0.paired += 1 }
            } else if config.planeToOdoo {
                try queue(SyncEngine.QueueItem(
                    entity: entity, operation: "create", sourceSystem: "plane", sourceType: "project", sourceID: p.id,
                    target: "odoo", targetType: "project.project", key: Detector.xmlID("plane_project", p.id),
                    fields: translation.planeCanonical(p.data, mappings: mappings, plainDescription: true),
                    sourceValues: translation.planeCanonical(p.data, mappings: mappings, plainDescription: true),
                    priority: Detector.priorities[entity] ?? 0))
            }
        }
        if config.odooToPlane {
            for o in odooIn where !pairedOdoo.contains(o.id) {
                considered += 1
                let values = translation.odooCanonical(o.data, mappings: mappings, plainDescription: true)
                try queue(SyncEngine.QueueItem(
                    entity: entity, operation: "create", sourceSystem: "odoo", sourceType: "project.project", sourceID: String(o.id),
                    target: "plane", targetType: "project", key: "project.project:\(o.id)", fields: values, sourceValues: values,
                    priority: Detector.priorities[entity] ?? 0))
            }
        }
        return result
    }

    // MARK: issues <-> tasks

    mutating func issues(_ config: EntityConfig?, projectPairs: [String: Int]) throws {
        let entity = "issue:project.task"
        guard let config, config.enabled else { return }
        let mappings = config.fieldMappings
        let fresh = try refreshFingerprint(entity, config: config)
        let odooToPlaneProject = Dictionary(projectPairs.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
        // "id" keeps json_extract answering an array even for a single mapped field.
        let planeKeys = Array(Set(mappings.flatMap { $0.plane == "description" ? ["description_html", "description"] : [$0.plane] } + ["id"])).sorted()
        // A closed task reads by its state and project too (`Translation.odooState`).
        let closing = translation.taskClosingStates && mappings.contains { $0.odoo == "stage_id" } ? ["state", "project_id"] : []
        let odooKeys = Array(Set(mappings.map(\.odoo) + ["id"] + closing)).sorted()
        try rebaselineOdooReading(entity, mappings: mappings, odooKeys: odooKeys)
        try reviveIssues(entity, config: config, projectPairs: projectPairs, planeKeys: planeKeys, odooKeys: odooKeys)

        // One query brings the pairs to compare with just their mapped fields; SQLite leaves out
        // the pairs whose two snapshots are unchanged since their last comparison, from the
        // indexes alone (migration 011), reading rows only for the pairs it brings. (A snapshot
        // odoosync wrote after its own write has hash 0 until the next pull re-reads it; the pair
        // was settled against that very record, so it too is skipped until then.)
        considered += try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_pairs WHERE entity = ?", arguments: [entity]) ?? 0
        // fetchAll, not a cursor: the loop writes to the tables it reads.
        let rows = try Row.fetchAll(db, sql: """
            SELECT p.mapping_id, p.plane_id, p.plane_project, p.odoo_id, p.plane_fields, p.odoo_fields, m.status,
                   pr.data_hash, orr.data_hash,
                   pr.plane_id IS NOT NULL, coalesce(pr.deleted OR pr.archived, 0), pr.updated_at, json_extract(pr.data, \(Loader.paths(planeKeys))),
                   orr.odoo_id IS NOT NULL, orr.write_date, orr.active, orr.deleted, json_extract(orr.data, \(Loader.paths(odooKeys)))
            FROM sync_pairs p INDEXED BY sync_pairs_compare JOIN sync_mappings m ON m.id = p.mapping_id
            LEFT JOIN plane_records pr INDEXED BY plane_records_state ON pr.kind = 'issue' AND pr.plane_id = p.plane_id
            LEFT JOIN odoo_records orr INDEXED BY odoo_records_state ON orr.model = 'project.task' AND orr.odoo_id = p.odoo_id
            WHERE p.entity = ? AND m.status IN ('active', 'error')
              AND coalesce(p.plane_project, '') NOT IN (SELECT value FROM json_each(?))
              AND (? OR pr.data_hash IS NULL OR orr.data_hash IS NULL
                   OR p.plane_hash IS NOT pr.data_hash OR p.odoo_hash IS NOT orr.data_hash
                   OR pr.deleted OR pr.archived OR orr.deleted OR NOT orr.active)
            ORDER BY p.odoo_id
            """, arguments: [entity, JSONValue.array(leftOutProjectIDs.union(endedProjectIDs).sorted().map(JSONValue.string)).serialized, fresh])
        var seen: [(String, Int64?, Int64?)] = []
        for row in rows {
            let planeID: String = row[1]
            let odooID: Int = row[3]
            let planeProject: String? = row[2]
            let p: PlaneRec? = (row[9] as Bool)
                ? PlaneRec(id: planeID, project: planeProject, updatedAt: row[11], deleted: row[10], data: Loader.object(planeKeys, row[12]))
                : nil
            let o: OdooRec? = (row[13] as Bool)
                ? OdooRec(id: odooID, writeDate: row[14], active: row[15], deleted: row[16], data: Loader.object(odooKeys, row[17]))
                : nil
            let planeNow = p.map { translation.planeCanonical($0.data, mappings: mappings) }
            let odooNow = o.map { translation.odooCanonical($0.data, mappings: mappings) }
            // Most snapshots that moved did so in fields no mapping names: the memory is stored in
            // the same serialisation, so equal text means nothing to do, without parsing it.
            if let planeNow, let odooNow, p?.deleted == false, o?.deleted == false, o?.active == true,
               SyncEngine.fieldsJSON(planeNow).serialized == (row[4] as String?),
               SyncEngine.fieldsJSON(odooNow).serialized == (row[5] as String?) {
                seen.append((row[0], row[7], row[8]))
                continue
            }
            let pair = SyncEngine.Pair(mappingID: row[0], planeID: planeID, planeProject: planeProject, odooID: odooID,
                                       planeFields: SyncEngine.fieldsDict(row[4]), odooFields: SyncEngine.fieldsDict(row[5]), status: row[6])
            if try handleDeletes(entity: entity, config: config, pair: pair, plane: p, odoo: o, planeGone: p?.deleted == true,
                                 odooGone: o.map { $0.deleted || !$0.active } ?? false) { continue }
            guard let p, let o, let planeNow, let odooNow else { continue }
            if try reconcile(entity: entity, config: config, pair: pair, plane: planeNow, planeTime: p.updatedAt,
                             odoo: odooNow, odooTime: o.writeDate) {
                seen.append((pair.mappingID, row[7], row[8]))
            }
        }
        let markSeen = try db.cachedStatement(sql: "UPDATE sync_pairs SET plane_hash = ?, odoo_hash = ? WHERE mapping_id = ?")
        for (mappingID, planeHash, odooHash) in seen { try markSeen.execute(arguments: [planeHash, odooHash, mappingID]) }

        // Unpaired records, found by SQL so that paired ones are never parsed.
        var pairedOdoo = Set<Int>()
        let planeProjects = JSONValue.array(projectPairs.keys.sorted().map(JSONValue.string)).serialized
        let newPlaneKeys = Array(Set(planeKeys + ["external_source", "external_id", "project"])).sorted()
        let unpairedPlane = try Row.fetchAll(db, sql: """
            SELECT plane_id, project_id, updated_at, json_extract(data, \(Loader.paths(newPlaneKeys))) FROM plane_records pr INDEXED BY plane_records_state
            WHERE kind = 'issue' AND deleted = 0 AND archived = 0 AND project_id IN (SELECT value FROM json_each(?))
              AND NOT EXISTS (SELECT 1 FROM sync_pairs sp WHERE sp.entity = ? AND sp.plane_id = pr.plane_id)
            ORDER BY plane_id
            """, arguments: [planeProjects, entity]).map { row in
            PlaneRec(id: row[0], project: row[1], updatedAt: row[2], deleted: false, data: Loader.object(newPlaneKeys, row[3]))
        }
        let odooProjects = JSONValue.array(projectPairs.values.sorted().map(JSONValue.int)).serialized
        let newOdooKeys = Array(Set(odooKeys + ["project_id"])).sorted()
        let unpairedOdoo = try Row.fetchAll(db, sql: """
            SELECT odoo_id, write_date, active, deleted, json_extract(data, \(Loader.paths(newOdooKeys))) FROM odoo_records r INDEXED BY odoo_records_state
            WHERE model = 'project.task' AND deleted = 0 AND active = 1
              -- the pair check first: a paired task's JSON is not parsed (CASE fixes the order)
              AND CASE WHEN EXISTS (SELECT 1 FROM sync_pairs sp WHERE sp.entity = ? AND sp.odoo_id = r.odoo_id) THEN 0
                       ELSE json_extract(data, '$.project_id[0]') IN (SELECT value FROM json_each(?)) END
            ORDER BY odoo_id
            """, arguments: [entity, odooProjects]).map { row in
            OdooRec(id: row[0], writeDate: row[1], active: row[2], deleted: row[3], data: Loader.object(newOdooKeys, row[4]))
        }
        let unpairedOdooByID = Dictionary(unpairedOdoo.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        // Issues we created from tasks carry the task in their external id: a crash before our
        // bookkeeping left them unpaired; pair them instead of creating a twin.
        for p in unpairedPlane where !Detector.isVisibilityIssue(p.data) {
            guard let project = p.project ?? p.data["project"]?.stringValue, let odooProject = projectPairs[project] else { continue }
            considered += 1
            if p.data["external_source"]?.stringValue == SyncEngine.externalSource,
               let ext = p.data["external_id"]?.stringValue, ext.hasPrefix("project.task:"),
               let taskID = Int(ext.dropFirst("project.task:".count)), let o = unpairedOdooByID[taskID], !pairedOdoo.contains(taskID) {
                _ = try makePair(entity: entity, config: config, plane: p, odoo: o, mappings: mappings, plain: false)
                pairedOdoo.insert(taskID)
                engine.bump(entity) { $0.paired += 1 }
                continue
            }
            guard config.planeToOdoo else { continue }
            let values = translation.planeCanonical(p.data, mappings: mappings)
            try queue(SyncEngine.QueueItem(
                entity: entity, operation: "create", sourceSystem: "plane", sourceType: "issue", sourceID: p.id, target: "odoo",
                targetType: "project.task", planeProject: project, odooProject: odooProject,
                key: Detector.xmlID("plane_issue", p.id), fields: values, sourceValues: values, priority: Detector.priorities[entity] ?? 0))
        }
        guard config.odooToPlane else { return }
        for o in unpairedOdoo where !pairedOdoo.contains(o.id) {
            guard let project = o.data["project_id"]?.many2one?.id, let planeProject = odooToPlaneProject[project] else { continue }
            considered += 1
            let values = translation.odooCanonical(o.data, mappings: mappings)
            try queue(SyncEngine.QueueItem(
                entity: entity, operation: "create", sourceSystem: "odoo", sourceType: "project.task", sourceID: String(o.id), target: "plane",
                targetType: "issue", planeProject: planeProject, odooProject: project, key: "project.task:\(o.id)", fields: values,
                sourceValues: values, priority: Detector.priorities[entity] ?? 0))
        }
    }

    /// The ended issue pairs whose record is back, found from the partial index of ended pairs
    /// (migration 012), so that a run with none reads nothing for them. Both records must be
    /// there (the other side's may be archived: the sync archived it) and the issue's project
    /// paired and in scope. Runs before the comparison, which then takes the pairs made live.
    private mutating func reviveIssues(_ entity: String, config: EntityConfig, projectPairs: [String: Int],
                                       planeKeys: [String], odooKeys: [String]) throws {
        let mappings = config.fieldMappings
        let rows = try Row.fetchAll(db, sql: """
            SELECT p.mapping_id, p.plane_id, p.plane_project, p.odoo_id, p.plane_fields, p.odoo_fields, m.status, p.ended_by, p.archived_other,
                   json_extract(pr.data, \(Loader.paths(planeKeys))), json_extract(orr.data, \(Loader.paths(odooKeys))),
                   pr.updated_at, orr.write_date
            FROM sync_pairs p INDEXED BY sync_pairs_ended
            JOIN sync_mappings m ON m.id = p.mapping_id
            JOIN plane_records pr ON pr.kind = 'issue' AND pr.plane_id = p.plane_id
            JOIN odoo_records orr ON orr.model = 'project.task' AND orr.odoo_id = p.odoo_id
            WHERE p.entity = ? AND p.ended_by IS NOT NULL AND m.status = 'archived'
              AND pr.deleted = 0 AND pr.archived = 0 AND orr.deleted = 0
              -- the record that went is back: a task active again, or an issue live again, while
              -- the other is live too unless the sync archived it
              AND (orr.active = 1 OR (p.ended_by = 'plane' AND p.archived_other = 1))
              AND p.plane_project IN (SELECT value FROM json_each(?))
            ORDER BY p.odoo_id
            """, arguments: [entity, JSONValue.array(projectPairs.keys.sorted().map(JSONValue.string)).serialized])
        for row in rows {
            let pair = SyncEngine.Pair(mappingID: row[0], planeID: row[1], planeProject: row[2], odooID: row[3],
                                       planeFields: SyncEngine.fieldsDict(row[4]), odooFields: SyncEngine.fieldsDict(row[5]), status: row[6],
                                       endedBy: row[7], archivedOther: row[8])
            try revive(entity: entity, config: config, pair: pair,
                       plane: translation.planeCanonical(Loader.object(planeKeys, row[9]), mappings: mappings), planeTime: row[11],
                       odoo: translation.odooCanonical(Loader.object(odooKeys, row[10]), mappings: mappings), odooTime: row[12])
        }
    }

    /// What reading a task depends on besides the mappings: the server's priority keys, the
    /// Odoo user's time zone, the deadline's type and whether tasks close by state. When it
    /// changes (odoosync or the server upgraded, the user's time zone changed), each pair whose
    /// task did not change since it was last compared has its memory of the task read again
    /// the new way: the new reading of an unchanged task is not an edit made in Odoo, and must
    /// not be written over Plane (a deadline moved a day, a medium issue raised to high).
    /// A mirror that has pairs but no reading stored is one that an earlier odoosync synced.
    func rebaselineOdooReading(_ entity: String, mappings: [(plane: String, odoo: String)], odooKeys: [String]) throws {
        let reading = [translation.taskPriorityKeys.joined(separator: ","), translation.odooTimeZone.identifier,
                       translation.odooDatetimeFields.sorted().joined(separator: ","), "closing=\(translation.taskClosingStates)"]
            .joined(separator: "|")
        guard try storeFingerprint(reading, for: "reading:\(entity)") else { return }
        let rows = try Row.fetchAll(db, sql: """
            SELECT p.mapping_id, json_extract(orr.data, \(Loader.paths(odooKeys))), p.odoo_fields FROM sync_pairs p
            JOIN odoo_records orr ON orr.model = 'project.task' AND orr.odoo_id = p.odoo_id
            WHERE p.entity = ? AND p.odoo_hash IS orr.data_hash AND orr.deleted = 0
            """, arguments: [entity])
        let update = try db.cachedStatement(sql: "UPDATE sync_pairs SET odoo_fields = ? WHERE mapping_id = ?")
        var changed = 0
        for row in rows {
            let now = SyncEngine.fieldsJSON(translation.odooCanonical(Loader.object(odooKeys, row[1]), mappings: mappings)).serialized
            if now != (row[2] as String?) {
                try update.execute(arguments: [now, row[0] as String])
                changed += 1
            }
        }
        guard changed > 0 else { return }
        try Mirror.appendEvent(db, runID: engine.runID, level: .info, category: SyncEngine.category, type: "reading_changed",
                               message: "Odoo tasks are read differently now (\(reading)); the memory of \(changed) unchanged task(s) was read again the new way, so none of them counts as edited in Odoo")
    }

    // MARK: skipping what did not change

    /// json_extract paths and answers for the mapped fields of a record.
    enum Loader {
        static func paths(_ keys: [String]) -> String {
            // Keys are field names from the entity's validated mappings: letters, digits and _.
            keys.map { "'$.\($0.filter { $0.isLetter || $0.isNumber || $0 == "_" })'" }.joined(separator: ", ")
        }

        /// json_extract with several paths answers a JSON array; with one, the bare value.
        static func object(_ keys: [String], _ value: DatabaseValue) -> JSONValue {
            let values: [JSONValue]
            if keys.count == 1 {
                switch value.storage {
                case .string(let text): values = [(try? JSONValue.parse(text)) ?? .string(text)]
                case .int64(let n): values = [.int(Int(n))]
                case .double(let d): values = [.double(d)]
                default: values = [.null]
                }
            } else if let text = String.fromDatabaseValue(value), let array = (try? JSONValue.parse(text))?.arrayValue {
                values = array
            } else {
                values = []
            }
            return .object(zip(keys, values + Array(repeating: JSONValue.null, count: max(0, keys.count - values.count))).map { ($0, $1) })
        }
    }

    /// True when the entity's maps changed since its last comparison (then every pair is compared).
    func refreshFingerprint(_ entity: String, config: EntityConfig) throws -> Bool {
        var parts = config.fieldMappings.map { "\($0.plane)=\($0.odoo)" }
        parts.append("\(config.direction.rawValue)/\(config.strategy.rawValue)/\(archiveOnDelete)")
        parts += translation.stateMap.sorted { $0.key < $1.key }.map { "\($0.key)>\($0.value)" }
        parts += translation.odooStages.keys.sorted()
        return try storeFingerprint(parts.joined(separator: "|"), for: entity)
    }

    /// Stores `fingerprint` under `key`; true when it differs from the one stored before.
    func storeFingerprint(_ fingerprint: String, for key: String) throws -> Bool {
        let stored = try String.fetchOne(db, sql: "SELECT fingerprint FROM sync_fingerprints WHERE entity = ?", arguments: [key])
        guard stored != fingerprint else { return false }
        try db.execute(sql: "INSERT INTO sync_fingerprints (entity, fingerprint) VALUES (?, ?) ON CONFLICT (entity) DO UPDATE SET fingerprint = excluded.fingerprint",
                       arguments: [key, fingerprint])
        return true
    }

    // MARK: cycles and modules (Plane -> Odoo)

    mutating func cycles(_ config: EntityConfig?, projectPairs: [String: Int]) throws {
        try oneWayFromPlane(config, kind: "cycle", entity: "cycle:project.milestone", model: "project.milestone", projectPairs: projectPairs)
    }

    mutating func modules(_ config: EntityConfig?, projectPairs: [String: Int]) throws {
        try oneWayFromPlane(config, kind: "module", entity: "module:project.project", model: "project.project", projectPairs: projectPairs)
    }

    private mutating func oneWayFromPlane(_ config: EntityConfig?, kind: String, entity: String, model: String, projectPairs: [String: Int]) throws {
        guard let config, config.planeToOdoo else { return }
        let mappings = config.fieldMappings
        let planeAll = try SyncEngine.planeRecords(db, kind: kind)
        let planeByID = Dictionary(planeAll.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var pairs = try SyncEngine.pairs(db, entity: entity)
        // A cycle or module back from the archive (or from a delete the pull recorded) brings its pair back.
        var reactivated = false
        let odooThere = Dictionary(try Row.fetchAll(db, sql: "SELECT odoo_id, active FROM odoo_records WHERE model = ? AND deleted = 0",
                                                    arguments: [model]).map { ($0[0] as Int, $0[1] as Bool) },
                                   uniquingKeysWith: { a, _ in a })
        for pair in pairs where !pair.isLive && pair.endedBy == "plane" {
            // Back in Plane, while the milestone or sub-project is still in Odoo (and active,
            // unless the sync archived it).
            guard let p = planeByID[pair.planeID], !p.deleted, let active = odooThere[pair.odooID], active || pair.archivedOther,
                  let project = p.project ?? p.data["project"]?.stringValue, projectPairs[project] != nil else { continue }
            if try revive(entity: entity, config: config, pair: pair, plane: translation.planeCanonical(p.data, mappings: mappings),
                          planeTime: p.updatedAt, odoo: [:], odooTime: nil) {
                reactivated = true
            }
        }
        if reactivated { pairs = try SyncEngine.pairs(db, entity: entity) }
        let paired = Set(pairs.map(\.planeID))
        for pair in pairs where pair.isLive {
            considered += 1
            let p = planeByID[pair.planeID]
            if p?.deleted == true {
                if archiveOnDelete {
                    try queue(SyncEngine.QueueItem(entity: entity, operation: "archive", sourceSystem: "plane", sourceType: kind, sourceID: pair.planeID,
                                                   target: "odoo", targetType: model, targetID: String(pair.odooID), mappingID: pair.mappingID,
                                                   planeProject: pair.planeProject, priority: Detector.priorities[entity] ?? 0))
                }
                continue
            }
            guard let p else { continue }
            let now = translation.planeCanonical(p.data, mappings: mappings)
            let changed = now.filter { pair.planeFields[$0.key] != $0.value }
            if !changed.isEmpty {
                try queue(SyncEngine.QueueItem(entity: entity, operation: "update", sourceSystem: "plane", sourceType: kind, sourceID: p.id,
                                               target: "odoo", targetType: model, targetID: String(pair.odooID), mappingID: pair.mappingID,
                                               planeProject: pair.planeProject, fields: changed, sourceValues: changed,
                                               priority: Detector.priorities[entity] ?? 0))
            }
        }
        for p in planeAll where !p.deleted && !paired.contains(p.id) {
            guard let project = p.project ?? p.data["project"]?.stringValue, let odooProject = projectPairs[project] else { continue }
            considered += 1
            let values = translation.planeCanonical(p.data, mappings: mappings)
            try queue(SyncEngine.QueueItem(entity: entity, operation: "create", sourceSystem: "plane", sourceType: kind, sourceID: p.id,
                                           target: "odoo", targetType: model, planeProject: project, odooProject: odooProject,
                                           key: Detector.xmlID("plane_\(kind)", p.id), fields: values, sourceValues: values,
                                           priority: Detector.priorities[entity] ?? 0))
        }
    }

    // MARK: visibility issues (Odoo -> Plane)

    /// Each pulled currency's decimal places.
    static func currencyDecimals(_ db: Database) throws -> [Int: Int] {
        var out: [Int: Int] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT odoo_id, json_extract(data, '$.decimal_places') FROM odoo_records
            WHERE model = 'res.currency' AND deleted = 0 AND json_type(data, '$.decimal_places') = 'integer'
            """) {
            out[row[0]] = row[1] as Int
        }
        return out
    }

    mutating func visibility(_ config: EntityConfig?, model: String) throws {
        let entity = "issue:\(model)"
        guard let config, config.odooToPlane, let wanted = engine.scope.visibilityProject else { return }
        let projects = try SyncEngine.planeRecords(db, kind: "project").filter { !$0.deleted }
        guard let target = projects.first(where: { $0.id == wanted || $0.data["identifier"]?.stringValue?.uppercased() == wanted.uppercased()
            || $0.data["name"]?.stringValue == wanted }) else {
            try Mirror.appendEvent(db, runID: engine.runID, level: .warn, category: SyncEngine.category, type: "visibility_project_missing",
                                   message: "PLANE_VISIBILITY_PROJECT \(wanted) is not a Plane project the mirror knows; run `odoosync pull plane` or fix the setting")
            return
        }
        let issues = try SyncEngine.planeRecords(db, kind: "issue").filter { !$0.deleted && ($0.project ?? $0.data["project"]?.stringValue) == target.id }
        var byExternal: [String: PlaneRec] = [:]
        for issue in issues where issue.data["external_source"]?.stringValue == SyncEngine.externalSource {
            if let ext = issue.data["external_id"]?.stringValue { byExternal[ext] = issue }
        }
        let pairs = try SyncEngine.pairs(db, entity: entity)
        let paired = Set(pairs.map(\.odooID))
        let records = try SyncEngine.odooRecords(db, model: model)
        let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let priority = Detector.priorities[entity] ?? 0
        let decimals = try Detector.currencyDecimals(db)
        for pair in pairs where pair.isLive {
            considered += 1
            guard let o = byID[pair.odooID] else { continue }
            if o.deleted {
                if archiveOnDelete {
                    try queue(SyncEngine.QueueItem(entity: entity, operation: "archive", sourceSystem: "odoo", sourceType: model, sourceID: String(o.id),
                                                   target: "plane", targetType: "issue", targetID: pair.planeID, mappingID: pair.mappingID,
                                                   planeProject: pair.planeProject, priority: priority))
                }
                continue
            }
            let now = Visibility.canonical(model: model, record: o.data, decimals: decimals)
            let changed = now.filter { pair.odooFields[$0.key] != $0.value }
            if !changed.isEmpty {
                try queue(SyncEngine.QueueItem(entity: entity, operation: "update", sourceSystem: "odoo", sourceType: model, sourceID: String(o.id),
                                               target: "plane", targetType: "issue", targetID: pair.planeID, mappingID: pair.mappingID,
                                               planeProject: pair.planeProject, fields: changed, sourceValues: changed, priority: priority))
            }
        }
        for o in records where !o.deleted && !paired.contains(o.id) {
            considered += 1
            let values = Visibility.canonical(model: model, record: o.data, decimals: decimals)
            let key = "\(model):\(o.id)"
            if let existing = byExternal[key] {
                // Created before a crash cut off our bookkeeping.
                let planeFields = translation.planeCanonical(existing.data, mappings: SyncEngine.visibilityMappings)
                try insertPair(entity: entity, sourceSystem: "odoo", sourceType: model, sourceID: String(o.id), targetID: existing.id,
                               targetType: "issue", planeID: existing.id, planeProject: target.id, odooID: o.id,
                               planeFields: planeFields, odooFields: values, direction: config.direction.rawValue)
                engine.bump(entity) { $0.paired += 1 }
                continue
            }
            try queue(SyncEngine.QueueItem(entity: entity, operation: "create", sourceSystem: "odoo", sourceType: model, sourceID: String(o.id),
                                           target: "plane", targetType: "issue", planeProject: target.id, key: key, fields: values,
                                           sourceValues: values, priority: priority))
        }
    }

    // MARK: shared

    /// A pair whose record is gone on one side: archive the other side (or just end the pair).
    /// Returns true when the pair is done with.
    private mutating func handleDeletes(entity: String, config: EntityConfig, pair: SyncEngine.Pair, plane: PlaneRec?, odoo: OdooRec?,
                                        planeGone: Bool, odooGone: Bool) throws -> Bool {
        guard planeGone || odooGone else { return false }
        let parts = entity.split(separator: ":").map(String.init)
        let priority = Detector.priorities[entity] ?? 0
        if planeGone && odooGone {
            try endPair(pair, endedBy: "both")
            return true
        }
        if planeGone {
            if archiveOnDelete && config.planeToOdoo {
                try queue(SyncEngine.QueueItem(entity: entity, operation: "archive", sourceSystem: "plane", sourceType: parts[0], sourceID: pair.planeID,
                                               target: "odoo", targetType: parts[1], targetID: String(pair.odooID), mappingID: pair.mappingID,
                                               planeProject: pair.planeProject, priority: priority))
            } else {
                try endPair(pair, endedBy: "plane")
            }
        } else {
            if archiveOnDelete && config.odooToPlane {
                try queue(SyncEngine.QueueItem(entity: entity, operation: "archive", sourceSystem: "odoo", sourceType: parts[1], sourceID: String(pair.odooID),
                                               target: "plane", targetType: parts[0], targetID: pair.planeID, mappingID: pair.mappingID,
                                               planeProject: pair.planeProject, priority: priority))
            } else {
                try endPair(pair, endedBy: "odoo")
            }
        }
        return true
    }

    /// Ends a pair without touching either side; `endedBy`: the side whose record went.
    private func endPair(_ pair: SyncEngine.Pair, endedBy: String) throws {
        try db.execute(sql: "UPDATE sync_mappings SET status = 'archived', updated_at = ? WHERE id = ?", arguments: [Timestamp.iso(Date()), pair.mappingID])
        try db.execute(sql: "UPDATE sync_pairs SET ended_by = ?, archived_other = 0 WHERE mapping_id = ?", arguments: [endedBy, pair.mappingID])
    }

    /// A pair that ended because one side's record went, whose record is back (unarchived in
    /// Plane, reactivated in Odoo), and whose other record is still there. Returns whether the
    /// pair is live again now.
    ///
    /// When the sync had left the other side alone, the pair is simply live again and is compared
    /// like any other. When the sync had archived it, the two are compared against the pair's
    /// memory first (the sync's own archive, the issue moved to its cancelled state, is no edit
    /// made in Plane): what changed on one side travels, a field changed on both goes by the
    /// entity's strategy, as for any pair. Then a restore brings the other record back (`active`
    /// again, the issue back in the state it had, the Plane project out of the archive), folded
    /// with that comparison's update; the pair is live once it completes.
    @discardableResult
    private mutating func revive(entity: String, config: EntityConfig, pair: SyncEngine.Pair, plane: Fields, planeTime: String?,
                                 odoo: Fields, odooTime: String?) throws -> Bool {
        guard let endedBy = pair.endedBy, endedBy == "plane" || endedBy == "odoo" else { return false }
        considered += 1
        let fromPlane = endedBy == "plane"
        if !pair.archivedOther {
            let now = Timestamp.iso(Date())
            try db.execute(sql: "UPDATE sync_mappings SET status = 'active', updated_at = ? WHERE id = ?", arguments: [now, pair.mappingID])
            try db.execute(sql: "UPDATE sync_pairs SET ended_by = NULL, plane_hash = NULL, odoo_hash = NULL WHERE mapping_id = ?", arguments: [pair.mappingID])
            try Mirror.appendEvent(db, runID: engine.runID, level: .info, category: SyncEngine.category, type: "pair_revived",
                                   message: "\(entity) \(pair.mappingID): the \(fromPlane ? "Plane" : "Odoo") record is back; the pair is live again",
                                   component: entity, metadata: ["mapping_id": .string(pair.mappingID)])
            return true
        }
        guard fromPlane ? config.planeToOdoo : config.odooToPlane else { return false }
        let parts = entity.split(separator: ":").map(String.init)
        var restoring: Fields = [:]
        var sourceValues: Fields = [:]
        var planeSide = plane
        if !fromPlane && parts[0] == "issue", let remembered = pair.planeFields["state"] {
            // The cancelled state is the sync's doing: compared as remembered, and left for the
            // state the issue had (the task's stage, unchanged, is what the pair remembers of
            // the task), unless the stage moved meanwhile: the comparison then sends the state
            // the new stage names.
            planeSide["state"] = remembered
            if odoo["state"] == pair.odooFields["state"] {
                restoring["state"] = remembered
                sourceValues["state"] = odoo["state"]
            }
        }
        if parts[0] == "cycle" || parts[0] == "module" {
            // One way from Plane: Plane's values, as they now are.
            restoring = plane.filter { pair.planeFields[$0.key] != $0.value }
            sourceValues = restoring
        } else {
            try reconcile(entity: entity, config: config, pair: pair, plane: planeSide, planeTime: planeTime, odoo: odoo, odooTime: odooTime)
        }
        var item = SyncEngine.QueueItem(entity: entity, operation: "update", sourceSystem: endedBy, sourceType: fromPlane ? parts[0] : parts[1],
                                        sourceID: fromPlane ? pair.planeID : String(pair.odooID), target: fromPlane ? "odoo" : "plane",
                                        targetType: fromPlane ? parts[1] : parts[0], targetID: fromPlane ? String(pair.odooID) : pair.planeID,
                                        mappingID: pair.mappingID, planeProject: pair.planeProject, fields: restoring, sourceValues: sourceValues,
                                        priority: Detector.priorities[entity] ?? 0)
        item.restore = true
        try queue(item)
        return false
    }

    /// Field-by-field three-way comparison of a pair; queues the winners' values.
    @discardableResult
    private mutating func reconcile(entity: String, config: EntityConfig, pair: SyncEngine.Pair, plane: Fields, planeTime: String?,
                                    odoo: Fields, odooTime: String?) throws -> Bool {
        let open = try Int.fetchOne(db, sql: "SELECT id FROM conflicts WHERE entity = ? AND entity_id = ? AND status = 'open'",
                                    arguments: [entity, pair.mappingID])
        if open != nil { return false }  // waits for `conflicts resolve`
        let planeChanged = Set(plane.keys.filter { pair.planeFields[$0] != plane[$0] })
        let odooChanged = Set(odoo.keys.filter { pair.odooFields[$0] != odoo[$0] })
        guard !planeChanged.isEmpty || !odooChanged.isEmpty else { return true }
        var toOdoo: Fields = [:]
        var toPlane: Fields = [:]
        var clashes: [String] = []
        for key in planeChanged.union(odooChanged).sorted() {
            let p = plane[key] ?? .null
            let o = odoo[key] ?? .null
            // Values that say the same to the other side (a priority the task holds coarser)
            // need no write, and must not overwrite the finer one.
            let same = translation.sameMeaning(key, p, o)
            if planeChanged.contains(key) && odooChanged.contains(key) {
                if same { continue }  // both made the same change
                clashes.append(key)
            } else if planeChanged.contains(key) {
                if !same { toOdoo[key] = p }
            } else if !same {
                toPlane[key] = o
            }
        }
        if !clashes.isEmpty {
            var winner = config.strategy
            if winner == .latestWins {
                let planeDate = planeTime.flatMap(PlaneTime.date) ?? .distantPast
                let odooDate = odooTime.flatMap(Timestamp.parseOdoo) ?? .distantPast
                winner = odooDate > planeDate ? .odooWins : .planeWins
            }
            switch winner {
            case .manual:
                try openConflict(entity: entity, pair: pair, plane: plane.filter { clashes.contains($0.key) },
                                 odoo: odoo.filter { clashes.contains($0.key) }, planeTime: planeTime, odooTime: odooTime)
                return false
            case .planeWins:
                for key in clashes { toOdoo[key] = plane[key] ?? .null }
            default:
                for key in clashes { toPlane[key] = odoo[key] ?? .null }
            }
            engine.bump(entity) { $0.conflicts += 1 }
            try Mirror.appendEvent(db, runID: engine.runID, level: .info, category: SyncEngine.category, type: "conflict_resolved",
                                   message: "\(entity) \(pair.mappingID): \(clashes.joined(separator: ", ")) changed on both sides; \(config.strategy.rawValue) kept \(winner == .planeWins ? "Plane" : "Odoo")'s",
                                   component: entity, metadata: ["mapping_id": .string(pair.mappingID), "fields": .array(clashes.map(JSONValue.string))])
        }
        let parts = entity.split(separator: ":").map(String.init)
        let priority = Detector.priorities[entity] ?? 0
        // A side whose change does not travel (one-way entity) is remembered as seen.
        var absorbPlane = planeChanged.filter { toOdoo[$0] == nil }
        var absorbOdoo = odooChanged.filter { toPlane[$0] == nil }
        if !toOdoo.isEmpty && !config.planeToOdoo { absorbPlane.formUnion(toOdoo.keys); toOdoo = [:] }
        if !toPlane.isEmpty && !config.odooToPlane { absorbOdoo.formUnion(toPlane.keys); toPlane = [:] }
        if !toOdoo.isEmpty {
            try queue(SyncEngine.QueueItem(entity: entity, operation: "update", sourceSystem: "plane", sourceType: parts[0], sourceID: pair.planeID,
                                           target: "odoo", targetType: parts[1], targetID: String(pair.odooID), mappingID: pair.mappingID,
                                           planeProject: pair.planeProject, fields: toOdoo,
                                           sourceValues: plane.filter { toOdoo[$0.key] != nil }, priority: priority))
        }
        if !toPlane.isEmpty {
            try queue(SyncEngine.QueueItem(entity: entity, operation: "update", sourceSystem: "odoo", sourceType: parts[1], sourceID: String(pair.odooID),
                                           target: "plane", targetType: parts[0], targetID: pair.planeID, mappingID: pair.mappingID,
                                           planeProject: pair.planeProject, fields: toPlane,
                                           sourceValues: odoo.filter { toPlane[$0.key] != nil }, priority: priority))
        }
        // Fields that ended equal on both sides, or whose change does not travel, are now the
        // memory; the others change memory when their queue item completes.
        if !absorbPlane.isEmpty || !absorbOdoo.isEmpty {
            var planeMemory = pair.planeFields
            var odooMemory = pair.odooFields
            for key in absorbPlane where toPlane[key] == nil { planeMemory[key] = plane[key] ?? .null }
            for key in absorbOdoo where toOdoo[key] == nil { odooMemory[key] = odoo[key] ?? .null }
            try db.execute(sql: "UPDATE sync_pairs SET plane_fields = ?, odoo_fields = ? WHERE mapping_id = ?",
                           arguments: [SyncEngine.fieldsJSON(planeMemory).serialized, SyncEngine.fieldsJSON(odooMemory).serialized, pair.mappingID])
        }
        return true
    }

    private mutating func openConflict(entity: String, pair: SyncEngine.Pair, plane: Fields, odoo: Fields, planeTime: String?, odooTime: String?) throws {
        try db.execute(sql: """
            INSERT INTO conflicts (entity, entity_id, odoo_model, odoo_id, local_data, remote_data, base_write_date, remote_write_date, status, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)
            """, arguments: [entity, pair.mappingID, String(entity.split(separator: ":")[1]), pair.odooID,
                             JSONValue.object([("plane", SyncEngine.fieldsJSON(plane)), ("plane_id", .string(pair.planeID)), ("updated_at", planeTime.map(JSONValue.string) ?? .null)]).serialized,
                             JSONValue.object([("odoo", SyncEngine.fieldsJSON(odoo)), ("odoo_id", .int(pair.odooID)), ("write_date", odooTime.map(JSONValue.string) ?? .null)]).serialized,
                             nil, odooTime, Timestamp.iso(Date())])
        engine.bump(entity) { $0.conflicts += 1 }
        try Mirror.appendEvent(db, runID: engine.runID, level: .warn, category: SyncEngine.category, type: "conflict_opened",
                               message: "\(entity): \(plane.keys.sorted().joined(separator: ", ")) changed in both Plane and Odoo; settle it with `odoosync conflicts resolve`",
                               component: entity, metadata: ["mapping_id": .string(pair.mappingID)])
    }

    private mutating func makePair(entity: String, config: EntityConfig, plane: PlaneRec, odoo: OdooRec, mappings: [(plane: String, odoo: String)],
                                   plain: Bool) throws -> SyncEngine.Pair {
        let planeFields = translation.planeCanonical(plane.data, mappings: mappings, plainDescription: plain)
        let odooFields = translation.odooCanonical(odoo.data, mappings: mappings, plainDescription: plain)
        let parts = entity.split(separator: ":").map(String.init)
        let planeProject = parts[0] == "project" ? plane.id : (plane.project ?? plane.data["project"]?.stringValue)
        let id = try insertPair(entity: entity, sourceSystem: "plane", sourceType: parts[0], sourceID: plane.id, targetID: String(odoo.id),
                                targetType: parts[1], planeID: plane.id, planeProject: planeProject, odooID: odoo.id,
                                planeFields: planeFields, odooFields: odooFields, direction: config.direction.rawValue)
        return SyncEngine.Pair(mappingID: id, planeID: plane.id, planeProject: planeProject, odooID: odoo.id,
                               planeFields: planeFields, odooFields: odooFields, status: "active")
    }

    @discardableResult
    private func insertPair(entity: String, sourceSystem: String, sourceType: String, sourceID: String, targetID: String, targetType: String,
                            planeID: String, planeProject: String?, odooID: Int, planeFields: Fields, odooFields: Fields,
                            direction: String) throws -> String {
        let id = TimeOrderedID.make()
        let now = Timestamp.iso(Date())
        try db.execute(sql: """
            INSERT INTO sync_mappings (id, source_system, source_id, source_type, target_id, target_type, last_synced_at, sync_version,
                                       sync_direction, status, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, 'active', ?, ?)
            """, arguments: [id, sourceSystem, sourceID, sourceType, targetID, targetType, now, direction, now, now])
        try db.execute(sql: """
            INSERT INTO sync_pairs (mapping_id, entity, plane_id, plane_project, odoo_id, plane_fields, odoo_fields)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [id, entity, planeID, planeProject, odooID, SyncEngine.fieldsJSON(planeFields).serialized,
                             SyncEngine.fieldsJSON(odooFields).serialized])
        try Mirror.appendSyncLog(db, runID: engine.runID, sourceSystem: sourceSystem, sourceID: sourceID, targetID: targetID, operation: "update",
                                 success: true, sourceData: SyncEngine.fieldsJSON(sourceSystem == "plane" ? planeFields : odooFields),
                                 targetData: SyncEngine.fieldsJSON(sourceSystem == "plane" ? odooFields : planeFields), durationMs: 0)
        try Mirror.appendEvent(db, runID: engine.runID, level: .info, category: SyncEngine.category, type: "paired",
                               message: "paired Plane \(entity.split(separator: ":")[0]) \(planeID) with Odoo \(entity.split(separator: ":")[1]) \(odooID)",
                               component: entity, metadata: ["mapping_id": .string(id)])
        return id
    }

    /// Writes what was queued; the last step of detection.
    mutating func finish() throws {
        try queueWriter.finish(db)
    }

    private mutating func queue(_ item: SyncEngine.QueueItem) throws {
        if try queueWriter.enqueue(db, item) {
            engine.bump(item.entity) { $0.queued += 1 }
        }
    }

    private func inPlaneScope(_ record: PlaneRec) -> Bool {
        guard let wanted = engine.scope.planeProjects else { return true }
        return Detector.names(record, among: wanted)
    }

    private func isLeftOut(_ record: PlaneRec) -> Bool {
        Detector.names(record, among: engine.scope.leftOutPlaneProjects)
    }

    /// Whether `tokens` (Plane project ids or identifiers, as settings give them) name the
    /// project `record`.
    private static func names(_ record: PlaneRec, among tokens: [String]) -> Bool {
        guard !tokens.isEmpty else { return false }
        let identifier = record.data["identifier"]?.stringValue?.uppercased()
        return tokens.contains { $0 == record.id || $0.uppercased() == identifier }
    }

    private func inOdooScope(_ record: OdooRec) -> Bool {
        guard let wanted = engine.scope.odooProjects else { return true }
        let name = record.data["name"]?.stringValue
        return wanted.contains { $0 == String(record.id) || $0 == name }
    }

    static func isVisibilityIssue(_ data: JSONValue) -> Bool {
        guard data["external_source"]?.stringValue == SyncEngine.externalSource, let ext = data["external_id"]?.stringValue else { return false }
        return ext.hasPrefix("sale.order:") || ext.hasPrefix("account.move:")
    }

    /// An Odoo external identifier for a Plane record: "odoosync.<prefix>_<uuid hex>".
    static func xmlID(_ prefix: String, _ planeID: String) -> String {
        // Plane ids are ASCII uuids: their letters and digits, byte by byte (this runs for every
        // record a first sync creates); anything else goes the Unicode way.
        guard planeID.utf8.allSatisfy({ $0 < 0x80 }) else {
            return "odoosync.\(prefix)_\(planeID.lowercased().filter { $0.isLetter || $0.isNumber })"
        }
        var kept: [UInt8] = []
        kept.reserveCapacity(planeID.utf8.count)
        for byte in planeID.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"): kept.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): kept.append(byte + 32)
            default: continue
            }
        }
        return "odoosync.\(prefix)_" + String(decoding: kept, as: UTF8.self)
    }
}

extension SyncEngine {
    func bump(_ entity: String, _ change: (inout EntityStats) -> Void) {
        report.bump(entity, change)
    }
}
