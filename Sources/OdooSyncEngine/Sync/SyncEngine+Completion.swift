import Foundation
import GRDB
import OdooSyncCore
import OdooSyncMirror

/// A pushed item's completion: the mapping, the pair's memory, the snapshot, the queue item and
/// the journal, for a batch of items in one transaction; and a failed item's retry bookkeeping.
extension SyncEngine {
    func complete(queueID: String, item: QueueItem, result: Outcome, started: Date) throws {
        try complete(queueID: queueID, item: item, result: result, seconds: Date().timeIntervalSince(started))
    }

    /// `seconds`: how long the item's remote calls took (for a batch, the batch's).
    func complete(queueID: String, item: QueueItem, result: Outcome, seconds: Double) throws {
        completions.append((queueID, item, result, Int(seconds * 1000)))
        if completions.count >= SyncEngine.completionBatch || Date().timeIntervalSince(lastFlush) > 0.25 {
            try flushCompletions()
        }
    }

    func flushCompletions() throws {
        lastFlush = Date()
        guard !completions.isEmpty else { return }
        let batch = completions
        completions = []
        try mirror.write { db in
            var context = FlushContext()
            for done in batch {
                try completeOne(db, queueID: done.queueID, item: done.item, result: done.result, duration: done.duration, context: &context)
            }
            for start in stride(from: 0, to: context.completedQueueIDs.count, by: 500) {
                let ids = context.completedQueueIDs[start..<min(start + 500, context.completedQueueIDs.count)]
                try db.cachedStatement(sql: """
                    UPDATE sync_queue SET status = 'completed', completed_at = ?, last_attempt_at = ?, attempts = attempts + 1,
                           last_error = NULL, worker_id = NULL
                    WHERE id IN (SELECT value FROM json_each(?))
                    """).execute(arguments: [context.now, context.now, JSONValue.array(ids.map(JSONValue.string)).serialized])
            }
            try Mirror.appendSyncLogs(db, context.logs)
            try Mirror.appendEvents(db, context.events)
        }
        for done in batch {
            report.calls.append(contentsOf: done.result.calls)
            report.bump(done.item.entity) { stats in
                if done.result.created {
                    stats.created += 1
                } else if done.result.archived {
                    stats.archived += 1
                } else if done.item.restore {
                    stats.restored += 1
                } else {
                    stats.updated += 1
                }
            }
        }
    }

    /// What every completion of one flush shares: its time and the entities' directions.
    private struct FlushContext {
        let now = Timestamp.iso(Date())
        var directions: [String: String] = [:]
        /// Journal rows, appended together after the items (fewer statements, same rows), and
        /// the queue items to mark completed.
        var logs: [SyncLogEntry] = []
        var events: [EventEntry] = []
        var completedQueueIDs: [String] = []

        mutating func direction(_ db: Database, planeType: String, odooModel: String) throws -> String {
            let key = "\(planeType):\(odooModel)"
            if let known = directions[key] { return known }
            let found = try String.fetchOne(db.cachedStatement(sql: "SELECT direction FROM sync_config WHERE plane_type = ? AND odoo_model = ?"),
                                            arguments: [planeType, odooModel]) ?? "bidirectional"
            directions[key] = found
            return found
        }
    }

    /// Arguments: source is Plane, queued at, kind; source is Odoo, queued at, model. A source
    /// snapshot pulled again after the item was queued (an item left from an earlier run, sent
    /// after this run's pull) holds newer values than the item carried: that hash stays NULL, so
    /// the pair is compared again and the newer values travel too.
    private static let currentHashes = """
        (SELECT CASE WHEN ? AND pulled_at > ? THEN NULL ELSE data_hash END FROM plane_records WHERE kind = ? AND plane_id = sync_pairs.plane_id),
        (SELECT CASE WHEN ? AND pulled_at > ? THEN NULL ELSE data_hash END FROM odoo_records WHERE model = ? AND odoo_id = sync_pairs.odoo_id)
        """

    private func completeOne(_ db: Database, queueID: String, item: QueueItem, result: Outcome, duration: Int,
                             context: inout FlushContext) throws {
        let now = context.now
        let parts = item.entity.split(separator: ":")
        let planeType = String(parts[0])
        let odooModel = String(parts[1])
        let planeKind = item.entity == "project:project.project" ? "project" : item.entity.hasPrefix("issue:") ? "issue" : planeType
        // The snapshot first: the pair's hashes below are read from it.
        if let snapshot = result.odooSnapshot {
            try SyncEngine.storeOdooSnapshot(db, model: item.targetType, snapshot, isNew: result.created, now: now)
        } else if let record = result.record, item.target == "plane" {
            try SyncEngine.storePlaneSnapshot(db, item: item, result: result, record: record, now: now)
        }
        // The pair settles against both snapshots as they now stand: the next comparison skips
        // it until one of them changes. Both are what the next pull reads when nothing else
        // changed them, so that pull leaves them, and this pair, alone. An archived pair is
        // never compared again.
        let hashes = result.archived ? "NULL, NULL" : SyncEngine.currentHashes
        let fromPlane = item.sourceSystem == "plane"
        let hashArguments: StatementArguments = result.archived ? []
            : [fromPlane, item.queuedAt, planeKind, !fromPlane, item.queuedAt, odooModel]
        var mappingID = item.mappingID
        var sourceJSON: String?
        var targetJSON: String?
        if result.created {
            // The mapping is born with the queue item's completion, in the same transaction.
            let planeID = item.target == "plane" ? result.targetID : item.sourceID
            let odooID = item.target == "odoo" ? result.targetID : item.sourceID
            // Two lookups, each on its unique index (an OR of the two would scan the table).
            // (A first sync completes thousands of creates: their statements go straight
            // through SQLite's C API, as the pull's do.)
            let lookup = try FastStatement(db, """
                SELECT mapping_id FROM sync_pairs WHERE entity = ?1 AND plane_id = ?2
                UNION ALL SELECT mapping_id FROM sync_pairs WHERE entity = ?1 AND odoo_id = ?3
                LIMIT 1
                """)
            lookup.bind(1, item.entity)
            lookup.bind(2, planeID)
            lookup.bind(3, Int(odooID) ?? -1)
            let existing = try lookup.step() ? lookup.columnText(0) : nil
            lookup.reset()
            if let existing {
                mappingID = existing
                if item.mappingID == nil {
                    try db.cachedStatement(sql: "UPDATE sync_pairs SET (plane_hash, odoo_hash) = (\(hashes)) WHERE mapping_id = ?")
                        .execute(arguments: hashArguments + [existing])
                }
            } else {
                let id = TimeOrderedID.make()
                mappingID = id
                let direction = try context.direction(db, planeType: planeType, odooModel: odooModel)
                let mapping = try FastStatement(db, """
                    INSERT INTO sync_mappings (id, source_system, source_id, source_type, target_id, target_type, last_synced_at,
                                               sync_version, sync_direction, status, created_at, updated_at)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, 'active', ?7, ?7)
                    """)
                mapping.bind(1, id)
                mapping.bind(2, item.sourceSystem)
                mapping.bind(3, item.sourceID)
                mapping.bind(4, item.sourceType)
                mapping.bind(5, result.targetID)
                mapping.bind(6, item.target == "plane" ? planeType : odooModel)
                mapping.bind(7, now)
                mapping.bind(8, direction)
                try mapping.step()
                mapping.reset()
                let source = SyncEngine.fieldsJSON(item.sourceValues).serialized
                let target = SyncEngine.fieldsJSON(result.targetFields).serialized
                sourceJSON = source
                targetJSON = target
                let pair = try FastStatement(db, """
                    INSERT INTO sync_pairs (mapping_id, entity, plane_id, plane_project, odoo_id, plane_fields, odoo_fields, plane_hash, odoo_hash)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,
                            (SELECT CASE WHEN ?10 AND pulled_at > ?11 THEN NULL ELSE data_hash END FROM plane_records WHERE kind = ?8 AND plane_id = ?3),
                            (SELECT CASE WHEN NOT ?10 AND pulled_at > ?11 THEN NULL ELSE data_hash END FROM odoo_records WHERE model = ?9 AND odoo_id = ?5))
                    """)
                pair.bind(1, id)
                pair.bind(2, item.entity)
                pair.bind(3, planeID)
                pair.bind(4, item.target == "plane" ? result.targetProject : item.planeProject)
                pair.bind(5, Int(odooID) ?? 0)
                pair.bind(6, item.target == "plane" ? target : source)
                pair.bind(7, item.target == "odoo" ? target : source)
                pair.bind(8, planeKind)
                pair.bind(9, odooModel)
                pair.bind(10, fromPlane ? 1 : 0)
                pair.bind(11, item.queuedAt)
                try pair.step()
                pair.reset()
            }
        }
        if let mappingID, !result.created || item.mappingID != nil {
            var pair = try Row.fetchOne(db.cachedStatement(sql: "SELECT plane_fields, odoo_fields FROM sync_pairs WHERE mapping_id = ?"), arguments: [mappingID])
                .map { (SyncEngine.fieldsDict($0[0]), SyncEngine.fieldsDict($0[1])) } ?? ([:], [:])
            if item.target == "odoo" {
                pair.1.merge(result.targetFields) { _, new in new }
                pair.0.merge(item.sourceValues) { _, new in new }
            } else {
                pair.0.merge(result.targetFields) { _, new in new }
                pair.1.merge(item.sourceValues) { _, new in new }
            }
            // An archive ends the pair: which side went, and whether the other was written (a
            // milestone is not), is what bringing it back needs (`Detector.revive`). A restore
            // makes it live again; any other write leaves an ended pair ended (an edit of the
            // archived record, sent while its restore waits, must not make the pair compared
            // before that record is back) and a live one live.
            try db.cachedStatement(sql: """
                UPDATE sync_pairs SET plane_fields = ?, odoo_fields = ?, (plane_hash, odoo_hash) = (\(hashes)),
                       ended_by = CASE WHEN ? THEN ? WHEN ? THEN NULL ELSE ended_by END,
                       archived_other = CASE WHEN ? THEN ? WHEN ? THEN 0 ELSE archived_other END
                WHERE mapping_id = ?
                """).execute(arguments: [SyncEngine.fieldsJSON(pair.0).serialized, SyncEngine.fieldsJSON(pair.1).serialized] + hashArguments
                    + [result.archived, result.archived ? item.sourceSystem : nil, item.restore,
                       result.archived, result.archived && !result.calls.isEmpty, item.restore, mappingID])
            try db.cachedStatement(sql: """
                UPDATE sync_mappings SET last_synced_at = ?, sync_version = sync_version + 1, updated_at = ?,
                       status = CASE WHEN ? THEN 'archived'
                                     WHEN (SELECT ended_by FROM sync_pairs WHERE mapping_id = ?) IS NOT NULL THEN status
                                     ELSE 'active' END,
                       last_error = NULL WHERE id = ?
                """).execute(arguments: [now, now, result.archived, mappingID, mappingID])
        }
        context.completedQueueIDs.append(queueID)
        let operation = result.created ? "create" : item.journalOperation
        context.logs.append(SyncLogEntry(runID: runID, sourceSystem: item.sourceSystem, sourceID: item.sourceID, targetID: result.targetID,
                                         operation: operation, success: true,
                                         sourceJSON: sourceJSON ?? SyncEngine.fieldsJSON(item.sourceValues).serialized,
                                         targetJSON: targetJSON ?? SyncEngine.fieldsJSON(result.targetFields).serialized,
                                         durationMs: duration, mappingID: mappingID, createdAt: now))
        context.events.append(EventEntry(
            runID: runID, level: .info, category: SyncEngine.category, type: "\(item.target)_\(operation)",
            message: "\(operation) \(item.targetType) \(result.targetID) in \(item.target == "odoo" ? "Odoo" : "Plane") from \(item.sourceSystem) \(item.sourceType) \(item.sourceID)",
            component: item.entity,
            metadata: ["entity": .string(item.entity), "queue_id": .string(queueID), "fields": .array(item.fields.keys.sorted().map(JSONValue.string))],
            durationMs: Double(duration), timestamp: now))
    }

    static func storePlaneSnapshot(_ db: Database, item: QueueItem, result: Outcome, record: JSONValue, now: String) throws {
        let kind = item.entity == "project:project.project" ? "project" : "issue"
        _ = try PlaneSnapshots.apply(db, kind: kind, id: result.targetID, projectID: kind == "project" ? result.targetID : result.targetProject,
                                     json: record, pulledAt: now)
    }

    /// The read-back stored as the pull stores a record: same text, same hash.
    /// `isNew`: the record was just created, so an INSERT is tried first (a crash's leftover
    /// may already have a snapshot from a pull: then it is updated).
    static func storeOdooSnapshot(_ db: Database, model: String, _ snapshot: OdooSnapshot, isNew: Bool, now: String) throws {
        // A plain INSERT or UPDATE, the other only when the first found nothing to do: an upsert
        // would make SQLite keep a statement journal for every row.
        func insert() throws {
            let insert = try FastStatement(db, """
                INSERT OR IGNORE INTO odoo_records (model, odoo_id, write_date, active, deleted, data, data_hash, pulled_at)
                VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7)
                """)
            insert.bind(1, model)
            insert.bind(2, snapshot.id)
            insert.bind(3, snapshot.writeDate)
            insert.bind(4, snapshot.active ? 1 : 0)
            insert.bind(5, snapshot.text)
            insert.bind(6, snapshot.hash)
            insert.bind(7, now)
            try insert.step()
            insert.reset()
        }
        func update() throws {
            try db.cachedStatement(sql: """
                UPDATE odoo_records SET write_date = ?, active = ?, deleted = 0, data = ?, data_hash = ?, pulled_at = ?
                WHERE model = ? AND odoo_id = ?
                """).execute(arguments: [snapshot.writeDate, snapshot.active, snapshot.text, snapshot.hash, now, model, snapshot.id])
        }
        if isNew {
            try insert()
            if db.changesCount == 0 { try update() }
        } else {
            try update()
            if db.changesCount == 0 { try insert() }
        }
    }

    func fail(queueID: String, item: QueueItem, error: Error, started: Date) throws {
        let message = String(describing: error)
        let duration = Int(Date().timeIntervalSince(started) * 1000)
        var gaveUp = false
        try mirror.write { db in
            let base = Double(try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'sync.retry_base_seconds'") ?? "") ?? 60
            let row = try Row.fetchOne(db, sql: "SELECT attempts, max_attempts FROM sync_queue WHERE id = ?", arguments: [queueID])
            let attempts = (row?[0] as Int? ?? 0) + 1
            let maxAttempts = row?[1] as Int? ?? 3
            gaveUp = attempts >= maxAttempts
            let next = Timestamp.iso(Date().addingTimeInterval(base * pow(2, Double(attempts - 1))))
            try db.execute(sql: """
                UPDATE sync_queue SET attempts = ?, status = ?, last_error = ?, next_attempt_at = ?, last_attempt_at = ?, worker_id = NULL WHERE id = ?
                """, arguments: [attempts, gaveUp ? "failed" : "pending", message, next, Timestamp.iso(Date()), queueID])
            if let mappingID = item.mappingID {
                // A restore that gave up leaves its pair ended, not in error: an 'error' pair is
                // compared, and its archived side would be taken for gone and archive the other again.
                try db.execute(sql: "UPDATE sync_mappings SET last_error = ?, error_count = error_count + 1, status = CASE WHEN ? THEN 'error' ELSE status END, updated_at = ? WHERE id = ?",
                               arguments: [message, gaveUp && !item.restore, Timestamp.iso(Date()), mappingID])
            }
            try Mirror.appendSyncLog(db, runID: runID, sourceSystem: item.sourceSystem, sourceID: item.sourceID, targetID: item.targetID,
                                     operation: item.journalOperation, success: false, error: message,
                                     sourceData: SyncEngine.fieldsJSON(item.sourceValues), durationMs: duration)
            try Mirror.appendEvent(db, runID: runID, level: gaveUp ? .error : .warn, category: SyncEngine.category,
                                   type: gaveUp ? "queue_item_failed" : "queue_item_retry",
                                   message: "\(item.operation) of \(item.sourceSystem) \(item.sourceType) \(item.sourceID) in \(item.target == "odoo" ? "Odoo" : "Plane") failed (attempt \(attempts) of \(maxAttempts)): \(message)",
                                   component: item.entity, metadata: ["queue_id": .string(queueID), "attempts": .int(attempts)])
        }
        report.errors.append("\(item.entity) \(item.sourceID): \(message)")
        if gaveUp { report.bump(item.entity) { $0.failed += 1 } }
    }
}
