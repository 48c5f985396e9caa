import Foundation
import GRDB

/// The sync side: runs, queue, conflicts, errors over time, Plane ↔ Odoo mappings.
extension PipelineReport {
    mutating func loadSyncHealth(_ db: Database) throws {
        // The same "last run of each job" as `odoosync status`.
        let runColumns = "job_name, status, started_at, ended_at, records_processed, records_failed"
        func run(_ row: Row) -> Run {
            Run(job: row[0], status: row[1], startedAt: row[2], endedAt: row[3], processed: row[4], failed: row[5])
        }
        lastRuns = try Row.fetchAll(db, sql: """
            SELECT \(runColumns) FROM runs r
            WHERE started_at = (SELECT max(started_at) FROM runs WHERE job_name = r.job_name) ORDER BY job_name
            """).map(run)
        func latest(_ prefix: String) throws -> Run? {
            try Row.fetchOne(db, sql: "SELECT \(runColumns) FROM runs WHERE job_name LIKE ? ORDER BY started_at DESC LIMIT 1",
                             arguments: [prefix + "%"]).map(run)
        }
        lastPull = try latest("pull")
        lastPush = try latest("push")
        lastExport = try latest("export")
        lastExportWatermark = try String.fetchOne(db, sql: "SELECT max(updated_at) FROM export_watermarks")

        queue = try Row.fetchAll(db, sql: "SELECT status, count(*) FROM sync_queue GROUP BY status ORDER BY status").map { ($0[0], $0[1]) }
        localEdits = try Row.fetchAll(db, sql: "SELECT status, count(*) FROM local_edits GROUP BY status ORDER BY status").map { ($0[0], $0[1]) }
        openConflicts = try Int.fetchOne(db, sql: "SELECT count(*) FROM conflicts WHERE status = 'open'") ?? 0
        conflicts = try Row.fetchAll(db, sql: """
            SELECT entity, entity_id, odoo_id, created_at FROM conflicts WHERE status = 'open' ORDER BY created_at DESC, id DESC LIMIT 10
            """).map { Conflict(entity: $0[0], entityID: $0[1], odooID: $0[2], createdAt: $0[3]) }
        recentActivity = try Row.fetchAll(db, sql: """
            SELECT timestamp, level, event_type, message FROM events WHERE level != 'debug' ORDER BY seq DESC LIMIT 10
            """).map { Event(timestamp: $0[0], level: $0[1], type: $0[2], message: $0[3]) }

        // Errors and sync operations per UTC day, over the last `historyDays` days.
        let days = try historyDays(db)
        let since = days.first ?? today
        var errorEvents: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT substr(timestamp, 1, 10), count(*) FROM events
            WHERE level IN ('error', 'fatal') AND timestamp >= ? GROUP BY 1
            """, arguments: [since]) {
            errorEvents[row[0]] = row[1]
        }
        var operations: [String: (ok: Int, failed: Int)] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT substr(created_at, 1, 10), coalesce(sum(success = 1), 0), coalesce(sum(success = 0), 0) FROM sync_log
            WHERE created_at >= ? GROUP BY 1
            """, arguments: [since]) {
            operations[row[0]] = (row[1], row[2])
        }
        errorDays = days.map { ErrorDay(day: $0, errorEvents: errorEvents[$0] ?? 0, failedSyncs: operations[$0]?.failed ?? 0) }
        activityDays = days.map { ActivityDay(day: $0, succeeded: operations[$0]?.ok ?? 0, failed: operations[$0]?.failed ?? 0) }
    }

    /// "YYYY-MM-DD" of each of the last `historyDays` days, today last.
    private func historyDays(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: """
            WITH RECURSIVE d(day) AS (SELECT date(:today, :offset) UNION ALL SELECT date(day, '+1 day') FROM d WHERE day < :today)
            SELECT day FROM d
            """, arguments: ["today": today, "offset": "-\(max(1, options.historyDays) - 1) days"])
    }

    mutating func loadPlaneSide(_ db: Database) throws {
        for row in try Row.fetchAll(db, sql: "SELECT plane_type, odoo_model, enabled, direction, conflict_resolution FROM sync_config ORDER BY plane_type, odoo_model") {
            entityPairs.append(EntityPair(planeType: row[0], odooModel: row[1], configured: true, enabled: row[2], direction: row[3],
                                          strategy: row[4], mappings: 0, active: 0, errors: 0, lastSyncedAt: nil))
        }
        // A mapping's Plane side is its source or its target, depending on which system it
        // started from.
        for row in try Row.fetchAll(db, sql: """
            SELECT CASE source_system WHEN 'plane' THEN source_type ELSE target_type END,
                   CASE source_system WHEN 'plane' THEN target_type ELSE source_type END,
                   count(*), coalesce(sum(status = 'active'), 0), coalesce(sum(status = 'error'), 0), max(last_synced_at)
            FROM sync_mappings GROUP BY 1, 2 ORDER BY 1, 2
            """) {
            let plane: String = row[0], odoo: String = row[1]
            if let i = entityPairs.firstIndex(where: { $0.planeType == plane && $0.odooModel == odoo }) {
                entityPairs[i].mappings = row[2]
                entityPairs[i].active = row[3]
                entityPairs[i].errors = row[4]
                entityPairs[i].lastSyncedAt = row[5]
            } else {
                entityPairs.append(EntityPair(planeType: plane, odooModel: odoo, configured: false, enabled: false, direction: nil,
                                              strategy: nil, mappings: row[2], active: row[3], errors: row[4], lastSyncedAt: row[5]))
            }
        }
        planeRecords = try Row.fetchAll(db, sql: "SELECT kind, count(*) FROM plane_records WHERE deleted = 0 GROUP BY kind ORDER BY kind")
            .map { ($0[0], $0[1]) }
        recentOperations = try Row.fetchAll(db, sql: """
            SELECT created_at, source_system, source_id, target_id, operation, success, duration_ms, error_message
            FROM sync_log ORDER BY seq DESC LIMIT 15
            """).map { SyncOperation(createdAt: $0[0], sourceSystem: $0[1], sourceID: $0[2], targetID: $0[3], operation: $0[4],
                                     success: $0[5], durationMs: $0[6], error: $0[7]) }
    }
}
