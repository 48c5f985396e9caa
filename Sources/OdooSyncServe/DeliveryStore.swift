import Foundation
import GRDB
import OdooSyncCore
import OdooSyncMirror

/// A delivery as the mirror holds it, waiting for the worker.
public struct StoredDelivery: Sendable, Equatable {
    public let rowID: Int64
    public let source: WebhookSource
    public let deliveryID: String
    public let event: String
    public let action: String
    public let recordID: String?
    public let attempts: Int

    public var reference: DeliveryReference {
        DeliveryReference(source: source, deliveryID: deliveryID, entity: event, action: action, recordID: recordID)
    }

    /// An Odoo lead delivery: settled by a targeted pull of the lead alone.
    var isOdooLead: Bool { source == .odoo && event == "crm.lead" }
}

/// A rejected request, as its `events` row records it: who, why, never the body.
struct RejectionRecord: Sendable {
    let source: WebhookSource?
    let rejection: WebhookRejection
    let bodyBytes: Int
    let remote: String?
}

/// The SQL of `webhook_deliveries`, each function inside the caller's transaction.
enum DeliveryStore {
    enum Outcome: Sendable, Equatable { case stored, duplicate, recorded }

    /// Stores a verified delivery unless its id was seen before. The unique (source,
    /// delivery_id) index decides, so two copies racing in one batch are still stored once.
    /// The body goes to a table of its own, so the row whose state changes stays small.
    static func store(_ db: Database, _ delivery: IncomingDelivery, now: String) throws -> Outcome {
        try db.cachedStatement(sql: """
            INSERT INTO webhook_deliveries (source, delivery_id, event, action, record_id, status, received_at)
            VALUES (?, ?, ?, ?, ?, 'received', ?)
            ON CONFLICT (source, delivery_id) DO NOTHING
            """).execute(arguments: [delivery.source.rawValue, delivery.deliveryID, delivery.event, delivery.action,
                                     delivery.recordID, now])
        if db.changesCount == 1 {
            try db.cachedStatement(sql: "INSERT INTO webhook_delivery_bodies (delivery, body) VALUES (?, ?)")
                .execute(arguments: [db.lastInsertedRowID, delivery.body])
            return .stored
        }
        try Mirror.appendEvent(db, runID: nil, level: .info, category: delivery.source.category, type: "webhook_duplicate",
                               message: "\(delivery.source.rawValue) delivery \(delivery.deliveryID) was received before; acknowledged and ignored",
                               component: "serve",
                               metadata: ["source": .string(delivery.source.rawValue), "delivery_id": .string(delivery.deliveryID),
                                          "event": .string(delivery.event), "action": .string(delivery.action)])
        return .duplicate
    }

    static func recordRejection(_ db: Database, _ record: RejectionRecord) throws {
        let r = record.rejection
        let who = record.source.map { "\($0.rawValue) delivery" } ?? "request"
        var metadata: [(String, JSONValue)] = [
            ("status", .int(r.status)), ("reason", .string(r.reason)), ("body_bytes", .int(record.bodyBytes)),
        ]
        if let source = record.source { metadata.append(("source", .string(source.rawValue))) }
        if let id = r.deliveryID { metadata.append(("delivery_id", .string(String(id.prefix(200))))) }
        if let event = r.event { metadata.append(("event", .string(event))) }
        if let remote = record.remote { metadata.append(("remote", .string(remote))) }
        try Mirror.appendEvent(db, runID: nil, level: .warn, category: record.source?.category ?? Mirror.crmCategory,
                               type: "webhook_rejected", message: "Rejected a \(who) with \(r.status): \(r.message)",
                               component: "serve", metadata: .object(metadata))
    }

    /// Which deliveries the worker settles together: lead deliveries by a targeted pull, the
    /// rest by a sync run.
    enum Kind { case odooLeads, others }

    /// The oldest deliveries of a kind not yet processed whose next attempt is due, in arrival order.
    static func due(_ db: Database, _ kind: Kind, now: String, limit: Int) throws -> [StoredDelivery] {
        let filter = kind == .odooLeads ? "source = 'odoo' AND event = 'crm.lead'" : "NOT (source = 'odoo' AND event = 'crm.lead')"
        return try Row.fetchAll(db, sql: """
            SELECT id, source, delivery_id, event, action, attempts, record_id
            FROM webhook_deliveries
            WHERE status = 'received' AND (next_attempt_at IS NULL OR next_attempt_at <= ?) AND \(filter)
            ORDER BY id LIMIT ?
            """, arguments: [now, limit]).compactMap { row in
            guard let source = WebhookSource(rawValue: row[1]) else { return nil }
            return StoredDelivery(rowID: row[0], source: source, deliveryID: row[2], event: row[3] ?? "", action: row[4] ?? "",
                                  recordID: row[6], attempts: row[5])
        }
    }

    /// When the next retry is due, if any delivery waits for one.
    static func nextRetry(_ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM webhook_deliveries WHERE status = 'received'")
    }

    /// Marks deliveries processed inside the transaction that holds their effects: either both
    /// are in the mirror or neither is. One `webhook_processed` event per source and up to 1000
    /// deliveries names them all (`metadata.delivery_ids`): an event per delivery would flood
    /// `ops.events` under a burst, and the delivery rows already say when each was processed.
    static func markProcessed(_ db: Database, _ deliveries: [StoredDelivery], runID: String?, how: String) throws {
        let now = Timestamp.iso(Date())
        let update = try db.cachedStatement(sql: """
            UPDATE webhook_deliveries SET status = 'processed', processed_at = ?, last_error = NULL, next_attempt_at = NULL
            WHERE id = ? AND status = 'received'
            """)
        var marked: [WebhookSource: [StoredDelivery]] = [:]
        for delivery in deliveries {
            try update.execute(arguments: [now, delivery.rowID])
            // A delivery settled meanwhile (by a sync run that covered it) is not counted twice.
            if db.changesCount == 1 { marked[delivery.source, default: []].append(delivery) }
        }
        for source in WebhookSource.allCases {
            guard let all = marked[source] else { continue }
            for start in stride(from: 0, to: all.count, by: 1000) {
                let chunk = all[start..<min(start + 1000, all.count)]
                var events: [String: Int] = [:]
                for delivery in chunk { events["\(delivery.event) \(delivery.action)", default: 0] += 1 }
                let summary = events.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                try Mirror.appendEvent(db, runID: runID, level: .info, category: source.category, type: "webhook_processed",
                                       message: "\(chunk.count) \(source.rawValue) deliveries processed by \(how): \(summary)",
                                       component: "serve",
                                       metadata: .object([("source", .string(source.rawValue)), ("count", .int(chunk.count)),
                                                          ("delivery_ids", .array(chunk.map { .string($0.deliveryID) }))]))
            }
        }
    }

    /// Forgets up to `limit` processed deliveries received before `cutoff` (their bodies go
    /// with them). A delivery id must be remembered only as long as its sender may repeat it
    /// (Plane retries for a few hours), and bodies add up; failed deliveries are kept for
    /// whoever investigates them. Returns how many were forgotten: fewer than `limit` means
    /// none is left.
    static func prune(_ db: Database, receivedBefore cutoff: String, limit: Int) throws -> Int {
        try db.execute(sql: """
            DELETE FROM webhook_deliveries WHERE id IN (
                SELECT id FROM webhook_deliveries WHERE status = 'processed' AND received_at < ? ORDER BY id LIMIT ?)
            """, arguments: [cutoff, limit])
        return db.changesCount
    }

    /// A failed attempt at one delivery, and why.
    struct FailedAttempt: Sendable {
        let delivery: StoredDelivery
        let error: String
    }

    /// Failed attempts: each delivery waits `base × 2^attempts` and is retried, up to
    /// `maxAttempts`, after which it is `failed`. Its error is kept either way.
    static func markAttemptFailed(_ db: Database, _ attempts: [FailedAttempt], runID: String?,
                                  retryBase: TimeInterval, maxAttempts: Int) throws -> (retrying: Int, failed: Int) {
        var retrying = 0, failed = 0
        let now = Date()
        for item in attempts {
            let delivery = item.delivery, error = item.error
            let attempts = delivery.attempts + 1
            if attempts >= maxAttempts {
                try db.execute(sql: """
                    UPDATE webhook_deliveries SET status = 'failed', attempts = ?, last_error = ?, next_attempt_at = NULL
                    WHERE id = ? AND status = 'received'
                    """, arguments: [attempts, error, delivery.rowID])
                failed += 1
                try Mirror.appendEvent(db, runID: runID, level: .error, category: delivery.source.category, type: "webhook_failed",
                                       message: "\(delivery.source.rawValue) delivery \(delivery.deliveryID) failed \(attempts) times and is given up: \(error)",
                                       component: "serve",
                                       metadata: ["source": .string(delivery.source.rawValue), "delivery_id": .string(delivery.deliveryID),
                                                  "attempts": .int(attempts)])
            } else {
                let wait = retryBase * pow(2, Double(attempts - 1))
                try db.execute(sql: """
                    UPDATE webhook_deliveries SET attempts = ?, last_error = ?, next_attempt_at = ?
                    WHERE id = ? AND status = 'received'
                    """, arguments: [attempts, error, Timestamp.iso(now.addingTimeInterval(wait)), delivery.rowID])
                retrying += 1
            }
        }
        return (retrying, failed)
    }
}

/// What the status document shows about webhooks.
public enum WebhookDeliveries {
    /// Counts by source and status, for the status document.
    public static func counts(_ db: Database) throws -> JSONValue {
        var bySource: [(String, JSONValue)] = []
        for source in WebhookSource.allCases {
            var statuses: [(String, JSONValue)] = []
            for row in try Row.fetchAll(db, sql: "SELECT status, count(*) FROM webhook_deliveries WHERE source = ? GROUP BY status ORDER BY status",
                                        arguments: [source.rawValue]) {
                statuses.append((row[0], .int(row[1])))
            }
            bySource.append((source.rawValue, .object(statuses)))
        }
        return .object(bySource)
    }
}
