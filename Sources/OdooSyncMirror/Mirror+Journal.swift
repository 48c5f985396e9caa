import Foundation
import GRDB
import OdooSyncCore

public enum EventLevel: String, Sendable {
    case debug, info, warn, error, fatal
}

/// The run/event/sync_log journal: what every run leaves behind for `status` and for export.
extension Mirror {
    public static let crmCategory = "odoo-crm-sync"
    public static let planeCategory = "plane-sync"

    /// Starts an `ops.runs`-shaped row and returns its id.
    public func startRun(job: String, system: String = "odoo", metadata: JSONValue = [:]) throws -> String {
        let id = TimeOrderedID.make()
        try write { db in
            try db.execute(
                sql: "INSERT INTO runs (id, system, job_name, status, started_at, metadata) VALUES (?, ?, ?, 'running', ?, ?)",
                arguments: [id, system, job, Timestamp.iso(Date()), metadata.serialized])
        }
        return id
    }

    public func finishRun(id: String, status: String, processed: Int, failed: Int, metadata: JSONValue = [:]) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE runs SET status = ?, ended_at = ?, records_processed = ?, records_failed = ?, metadata = ?
                    WHERE id = ?
                    """,
                arguments: [status, Timestamp.iso(Date()), processed, failed, metadata.serialized, id])
        }
    }

    /// Appends an `ops.events`-shaped row inside the caller's transaction.
    public static func appendEvent(
        _ db: Database, runID: String?, level: EventLevel = .info, category: String = crmCategory,
        type: String, message: String, system: String = "odoo", component: String? = nil, metadata: JSONValue = [:],
        durationMs: Double? = nil
    ) throws {
        let now = Timestamp.iso(Date())
        // Cached: a sync writes one event per item, thousands per run.
        try db.cachedStatement(
            sql: """
                INSERT INTO events (id, seq, run_id, level, category, event_type, message, system, component,
                                    metadata, duration_ms, timestamp, created_at)
                VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM events), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [TimeOrderedID.make(), runID, level.rawValue, category, type, message, system, component,
                        metadata.serialized, durationMs, now, now])
    }

    /// Appends a `plane.sync_log`-shaped row inside the caller's transaction.
    public static func appendSyncLog(
        _ db: Database, runID: String?, sourceSystem: String = "odoo", sourceID: String, targetID: String? = nil,
        operation: String, success: Bool, error: String? = nil, sourceData: JSONValue? = nil,
        targetData: JSONValue? = nil, durationMs: Int? = nil, mappingID: String? = nil
    ) throws {
        try appendSyncLog(db, runID: runID, sourceSystem: sourceSystem, sourceID: sourceID, targetID: targetID, operation: operation,
                          success: success, error: error, sourceJSON: sourceData?.serialized, targetJSON: targetData?.serialized,
                          durationMs: durationMs, mappingID: mappingID)
    }

    /// `appendSyncLog` with the snapshots already serialised (a caller that stores the same
    /// JSON elsewhere too serialises it once).
    public static func appendSyncLog(
        _ db: Database, runID: String?, sourceSystem: String, sourceID: String, targetID: String?, operation: String,
        success: Bool, error: String? = nil, sourceJSON: String?, targetJSON: String?, durationMs: Int?, mappingID: String?,
        at now: String = Timestamp.iso(Date())
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO sync_log (id, seq, mapping_id, run_id, source_system, source_id, target_id, operation, success,
                                      error_message, source_data, target_data, duration_ms, created_at)
                VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM sync_log), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [TimeOrderedID.make(), mappingID, runID, sourceSystem, sourceID, targetID, operation, success,
                        error, sourceJSON, targetJSON, durationMs, now])
    }

    public func appendEvent(runID: String?, level: EventLevel = .info, category: String = crmCategory, type: String,
                            message: String, system: String = "odoo", component: String? = nil, metadata: JSONValue = [:]) throws {
        try write { db in
            try Mirror.appendEvent(db, runID: runID, level: level, category: category, type: type, message: message,
                                   system: system, component: component, metadata: metadata)
        }
    }
}
