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

/// A `sync_log` row for `Mirror.appendSyncLogs`.
public struct SyncLogEntry: Sendable {
    public var runID: String?
    public var sourceSystem: String
    public var sourceID: String
    public var targetID: String?
    public var operation: String
    public var success: Bool
    public var error: String?
    public var sourceJSON: String?
    public var targetJSON: String?
    public var durationMs: Int?
    public var mappingID: String?
    public var createdAt: String

    public init(runID: String?, sourceSystem: String, sourceID: String, targetID: String?, operation: String, success: Bool,
                error: String? = nil, sourceJSON: String?, targetJSON: String?, durationMs: Int?, mappingID: String?, createdAt: String) {
        self.runID = runID
        self.sourceSystem = sourceSystem
        self.sourceID = sourceID
        self.targetID = targetID
        self.operation = operation
        self.success = success
        self.error = error
        self.sourceJSON = sourceJSON
        self.targetJSON = targetJSON
        self.durationMs = durationMs
        self.mappingID = mappingID
        self.createdAt = createdAt
    }
}

/// An `events` row for `Mirror.appendEvents`.
public struct EventEntry: Sendable {
    public var runID: String?
    public var level: EventLevel
    public var category: String
    public var type: String
    public var message: String
    public var system: String
    public var component: String?
    public var metadataJSON: String
    public var durationMs: Double?
    public var timestamp: String

    public init(runID: String?, level: EventLevel = .info, category: String, type: String, message: String, system: String = "odoo",
                component: String? = nil, metadata: JSONValue = [:], durationMs: Double? = nil, timestamp: String) {
        self.runID = runID
        self.level = level
        self.category = category
        self.type = type
        self.message = message
        self.system = system
        self.component = component
        metadataJSON = metadata.serialized
        self.durationMs = durationMs
        self.timestamp = timestamp
    }
}

extension Mirror {
    /// Rows per INSERT of the bulk appends: one statement for many rows opens its cursors and
    /// builds its CHECK constraints' lookup tables once instead of once per row.
    static let journalChunk = 50

    /// Appends `sync_log` rows in the order given, inside the caller's transaction (which, as
    /// the only writer, owns the `seq` values it hands out).
    public static func appendSyncLogs(_ db: Database, _ entries: [SyncLogEntry]) throws {
        guard !entries.isEmpty else { return }
        var seq = try Int.fetchOne(db.cachedStatement(sql: "SELECT coalesce(max(seq), 0) FROM sync_log")) ?? 0
        try insertInChunks(db, entries, into: """
            sync_log (id, seq, mapping_id, run_id, source_system, source_id, target_id, operation, success,
                      error_message, source_data, target_data, duration_ms, created_at)
            """, row: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") { entry, row in
            seq += 1
            row.add(TimeOrderedID.make()); row.add(seq); row.add(entry.mappingID); row.add(entry.runID)
            row.add(entry.sourceSystem); row.add(entry.sourceID); row.add(entry.targetID); row.add(entry.operation)
            row.add(entry.success); row.add(entry.error); row.add(entry.sourceJSON); row.add(entry.targetJSON)
            row.add(entry.durationMs); row.add(entry.createdAt)
        }
    }

    /// Appends `events` rows in the order given, inside the caller's transaction.
    public static func appendEvents(_ db: Database, _ entries: [EventEntry]) throws {
        guard !entries.isEmpty else { return }
        var seq = try Int.fetchOne(db.cachedStatement(sql: "SELECT coalesce(max(seq), 0) FROM events")) ?? 0
        try insertInChunks(db, entries, into: """
            events (id, seq, run_id, level, category, event_type, message, system, component,
                    metadata, duration_ms, timestamp, created_at)
            """, row: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") { entry, row in
            seq += 1
            row.add(TimeOrderedID.make()); row.add(seq); row.add(entry.runID); row.add(entry.level.rawValue)
            row.add(entry.category); row.add(entry.type); row.add(entry.message); row.add(entry.system)
            row.add(entry.component); row.add(entry.metadataJSON); row.add(entry.durationMs); row.add(entry.timestamp)
            row.add(entry.timestamp)
        }
    }

    /// Inserts `items` `journalChunk` rows per statement, in order: `into` is the table and its
    /// column list, `row` one row's VALUES tuple, and `bind` adds one item's values in order.
    /// (A first sync writes tens of thousands of these rows: they are bound through SQLite's C
    /// API rather than as `StatementArguments`.)
    public static func insertInChunks<Item>(
        _ db: Database, _ items: some Collection<Item>, into table: String, row: String,
        bind: (Item, inout RowBinder) -> Void
    ) throws {
        var rest = items[...]
        while !rest.isEmpty {
            let chunk = rest.prefix(journalChunk)
            rest = rest.dropFirst(journalChunk)
            try FastStatement(db, "INSERT INTO \(table) VALUES \(Array(repeating: row, count: chunk.count).joined(separator: ", "))")
                .execute { binder in for item in chunk { bind(item, &binder) } }
        }
    }
}
