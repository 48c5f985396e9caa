import Foundation
import GRDB
import OdooSyncCore
import OdooSyncMirror

/// Queue items: what detection leaves for push, and how it writes them.
extension SyncEngine {
    struct QueueItem {
        var entity: String
        var operation: String          // create | update | archive
        var sourceSystem: String       // where the change came from
        var sourceType: String
        var sourceID: String
        var target: String             // plane | odoo
        var targetType: String
        var targetID: String?
        var mappingID: String?
        var planeProject: String?
        var odooProject: Int?
        var key: String?               // external id (Plane) or external identifier (Odoo)
        var fields: [String: JSONValue]
        var sourceValues: [String: JSONValue]
        var priority: Int
        /// An update that also brings the target back (reactivates the task, takes the issue out
        /// of its cancelled state): the record whose loss archived it has returned.
        var restore = false
        /// When it was queued (`sync_queue.created_at`); nil until it is.
        var queuedAt: String?

        /// The operation as `sync_log` names it.
        var journalOperation: String { restore ? "restore" : operation }

        var payload: JSONValue {
            var pairs: [(String, JSONValue)] = [
                ("entity", .string(entity)), ("target", .string(target)), ("target_type", .string(targetType)),
                ("target_id", targetID.map(JSONValue.string) ?? .null), ("mapping_id", mappingID.map(JSONValue.string) ?? .null),
                ("plane_project", planeProject.map(JSONValue.string) ?? .null), ("odoo_project", odooProject.map(JSONValue.int) ?? .null),
                ("key", key.map(JSONValue.string) ?? .null), ("fields", SyncEngine.fieldsJSON(fields)),
                ("source_values", SyncEngine.fieldsJSON(sourceValues)),
            ]
            if restore { pairs.append(("restore", true)) }
            return .object(pairs)
        }

        init(entity: String, operation: String, sourceSystem: String, sourceType: String, sourceID: String, target: String,
             targetType: String, targetID: String? = nil, mappingID: String? = nil, planeProject: String? = nil,
             odooProject: Int? = nil, key: String? = nil, fields: [String: JSONValue] = [:],
             sourceValues: [String: JSONValue] = [:], priority: Int) {
            self.entity = entity
            self.operation = operation
            self.sourceSystem = sourceSystem
            self.sourceType = sourceType
            self.sourceID = sourceID
            self.target = target
            self.targetType = targetType
            self.targetID = targetID
            self.mappingID = mappingID
            self.planeProject = planeProject
            self.odooProject = odooProject
            self.key = key
            self.fields = fields
            self.sourceValues = sourceValues
            self.priority = priority
        }

        init?(row: Row) {
            let payload = (try? JSONValue.parse(row["payload"] as String)) ?? .null
            guard let entity = payload["entity"]?.stringValue, let target = payload["target"]?.stringValue,
                  let targetType = payload["target_type"]?.stringValue else { return nil }
            self.entity = entity
            operation = row["operation"]
            sourceSystem = row["source_system"]
            sourceType = row["source_type"]
            sourceID = row["source_id"]
            self.target = target
            self.targetType = targetType
            targetID = payload["target_id"]?.stringValue
            mappingID = payload["mapping_id"]?.stringValue
            planeProject = payload["plane_project"]?.stringValue
            odooProject = payload["odoo_project"]?.intValue
            key = payload["key"]?.stringValue
            fields = SyncEngine.fieldsDict(object: payload["fields"])
            sourceValues = SyncEngine.fieldsDict(object: payload["source_values"])
            priority = row["priority"]
            restore = payload["restore"]?.boolValue == true
            queuedAt = row["created_at"]
        }
    }

    /// Writes queue items during one detection transaction. Open items (pending, processing or
    /// failed) are read once, not looked up per item: a first sync queues thousands.
    struct QueueWriter {
        private struct Open {
            let id: String
            var payload: JSONValue
            var operation: String
            /// Not written yet: its index in `unwritten`.
            var unwritten: Int?
        }

        private struct NewRow {
            let id: String
            let item: QueueItem
            var payload: JSONValue
            var operation: String
            let createdAt: String
        }

        private var open: [String: [Open]]?
        private var unwritten: [NewRow] = []
        private var maxAttempts: Int?

        private static func key(_ system: String, _ type: String, _ id: String) -> String { "\(system)\u{1F}\(type)\u{1F}\(id)" }

        /// Queues an item, or folds it into the open item for the same source record and target.
        /// Returns false when nothing new was queued. New items reach the table at `finish`.
        mutating func enqueue(_ db: Database, _ item: QueueItem) throws -> Bool {
            if open == nil {
                var loaded: [String: [Open]] = [:]
                for row in try Row.fetchAll(db, sql: """
                    SELECT id, source_system, source_type, source_id, payload, operation FROM sync_queue
                    WHERE status IN ('pending', 'processing', 'failed') ORDER BY created_at, id
                    """) {
                    let payload = (try? JSONValue.parse(row[4] as String)) ?? .null
                    loaded[QueueWriter.key(row[1], row[2], row[3]), default: []].append(Open(id: row[0], payload: payload, operation: row[5]))
                }
                open = loaded
            }
            let key = QueueWriter.key(item.sourceSystem, item.sourceType, item.sourceID)
            for (index, existing) in (open?[key] ?? []).enumerated() {
                let payload = existing.payload
                guard payload["target"]?.stringValue == item.target, payload["entity"]?.stringValue == item.entity else { continue }
                var merged = item
                if existing.operation == "create" && item.operation == "update" { merged.operation = "create" }
                if payload["restore"]?.boolValue == true && merged.operation == "update" { merged.restore = true }
                var fields = fieldsDict(object: payload["fields"])
                var source = fieldsDict(object: payload["source_values"])
                fields.merge(item.fields) { _, new in new }
                source.merge(item.sourceValues) { _, new in new }
                merged.fields = fields
                merged.sourceValues = source
                let mergedPayload = merged.payload
                if mergedPayload == payload && merged.operation == existing.operation { return false }
                if let row = existing.unwritten {
                    unwritten[row].payload = mergedPayload
                    unwritten[row].operation = merged.operation
                } else {
                    try db.cachedStatement(sql: "UPDATE sync_queue SET payload = ?, operation = ? WHERE id = ?")
                        .execute(arguments: [mergedPayload.serialized, merged.operation, existing.id])
                }
                open?[key]?[index].payload = mergedPayload
                open?[key]?[index].operation = merged.operation
                return true
            }
            let id = TimeOrderedID.make()
            let payload = item.payload
            unwritten.append(NewRow(id: id, item: item, payload: payload, operation: item.operation, createdAt: Timestamp.iso(Date())))
            open?[key, default: []].append(Open(id: id, payload: payload, operation: item.operation, unwritten: unwritten.count - 1))
            return true
        }

        /// Writes the items queued since the last call, in the order they were queued, several
        /// rows per INSERT.
        mutating func finish(_ db: Database) throws {
            guard !unwritten.isEmpty else { return }
            if maxAttempts == nil {
                maxAttempts = Int(try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'sync.max_attempts'") ?? "") ?? 3
            }
            let maxAttempts = self.maxAttempts ?? 3
            try Mirror.insertInChunks(db, unwritten, into: """
                sync_queue (id, source_system, source_id, source_type, operation, payload, status, priority,
                            attempts, max_attempts, next_attempt_at, created_at)
                """, row: "(?, ?, ?, ?, ?, ?, 'pending', ?, 0, ?, ?, ?)") { new, row in
                row.add(new.id); row.add(new.item.sourceSystem); row.add(new.item.sourceID); row.add(new.item.sourceType)
                row.add(new.operation); row.add(new.payload.serialized); row.add(new.item.priority); row.add(maxAttempts)
                row.add(new.createdAt); row.add(new.createdAt)
            }
            for (key, items) in open ?? [:] where items.contains(where: { $0.unwritten != nil }) {
                open?[key] = items.map { Open(id: $0.id, payload: $0.payload, operation: $0.operation) }
            }
            unwritten = []
        }
    }
}
