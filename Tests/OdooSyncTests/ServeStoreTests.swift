import Foundation
import GRDB
import Testing
import OdooSyncCore
@testable import OdooSyncMirror
@testable import OdooSyncServe

/// What the worker writes about deliveries, on a mirror file without a server.
struct ServeStoreTests {
    static func incoming(_ id: String, source: WebhookSource = .plane, event: String = "issue", record: String? = nil) -> IncomingDelivery {
        IncomingDelivery(source: source, deliveryID: id, event: event, action: "updated", recordID: record ?? "r-\(id)",
                         body: Data("{\"id\": \"\(id)\", \"pad\": \"\(String(repeating: "p", count: 2000))\"}".utf8))
    }

    static func mirror() throws -> Mirror {
        try Mirror(path: TestPaths.temporaryDirectory().appendingPathComponent("m.sqlite").path)
    }

    static func due(_ mirror: Mirror) throws -> [StoredDelivery] {
        try mirror.read { db in try DeliveryStore.due(db, .others, now: "9999", limit: 1000) }
    }

    /// A mirror whose deliveries were stored with their bodies inline (migration 006) keeps
    /// every body once they move to a table of their own.
    @Test func bodiesStoredBeforeTheyMovedAreKept() throws {
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("old.sqlite").path
        let queue = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        for file in EmbeddedSchema.files where file.name < "007" {
            migrator.registerMigration(String(file.name.dropLast(4))) { db in try db.execute(sql: file.sql) }
        }
        try migrator.migrate(queue)
        let body = Data("{\"event\": \"issue\"}".utf8)
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO webhook_deliveries (source, delivery_id, event, action, body, status, received_at, record_id)
                VALUES ('plane', 'old-1', 'issue', 'updated', ?, 'received', '2026-01-01T00:00:00.000Z', 'x')
                """, arguments: [body])
        }
        try queue.close()

        let mirror = try Mirror(path: path)
        let (kept, columns) = try mirror.read { db in
            (try Data.fetchOne(db, sql: """
                SELECT body FROM webhook_delivery_bodies JOIN webhook_deliveries ON id = delivery WHERE delivery_id = 'old-1'
                """),
             try db.columns(in: "webhook_deliveries").map(\.name))
        }
        #expect(kept == body)
        #expect(!columns.contains("body"), "the row whose state changes no longer carries the body")
        #expect(try Self.due(mirror).map(\.deliveryID) == ["old-1"])
    }

    /// A processed delivery is forgotten with its body, a slice at a time; a received or
    /// failed one is kept.
    @Test func pruningForgetsProcessedDeliveriesAndTheirBodies() throws {
        let mirror = try Self.mirror()
        try mirror.write { db in
            for i in 0..<5 { _ = try DeliveryStore.store(db, Self.incoming("p\(i)"), now: "2026-01-01T00:00:00.000Z") }
        }
        let stored = try Self.due(mirror)
        try mirror.write { db in try DeliveryStore.markProcessed(db, Array(stored.prefix(4)), runID: nil, how: "a test") }
        let first = try mirror.write { db in try DeliveryStore.prune(db, receivedBefore: "2027", limit: 3) }
        let second = try mirror.write { db in try DeliveryStore.prune(db, receivedBefore: "2027", limit: 3) }
        #expect(first == 3 && second == 1)
        let (rows, bodies) = try mirror.read { db in
            (try String.fetchAll(db, sql: "SELECT delivery_id FROM webhook_deliveries"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_delivery_bodies"))
        }
        #expect(rows == ["p4"])
        #expect(bodies == 1)
    }

    /// Deliveries naming a record the run could not store are the failed ones, each with its
    /// record's reason; the rest are settled. Same id, other entity or source: not the same record.
    @Test func aDeliveryIsFailedOnlyWhenItsOwnRecordFailed() {
        func stored(_ id: Int64, _ source: WebhookSource, _ event: String, _ record: String) -> StoredDelivery {
            StoredDelivery(rowID: id, source: source, deliveryID: "d\(id)", event: event, action: "write", recordID: record, attempts: 0)
        }
        let deliveries = [stored(1, .odoo, "project.task", "7"), stored(2, .odoo, "project.task", "8"),
                          stored(3, .odoo, "crm.lead", "7"), stored(4, .plane, "issue", "7"), stored(5, .odoo, "project.task", "7")]
        let failed = [FailedRecord(source: .odoo, entity: "project.task", recordID: "7", reason: "project.task 7 could not be stored")]
        let (settled, attempts) = DeliveryWorker.settle(deliveries, failed: failed)
        #expect(settled.map(\.rowID) == [2, 3, 4])
        #expect(attempts.map(\.delivery.rowID) == [1, 5])
        #expect(attempts.allSatisfy { $0.error == "project.task 7 could not be stored" })
        #expect(DeliveryWorker.settle(deliveries, failed: []).settled == deliveries)
    }

    /// A failed attempt keeps the delivery pending with its own error and a later retry; the
    /// last allowed attempt makes it `failed`, the error still kept.
    @Test func failedAttemptsAreCountedUpToTheLimitWithTheirErrorsKept() throws {
        let mirror = try Self.mirror()
        try mirror.write { db in
            _ = try DeliveryStore.store(db, Self.incoming("a"), now: "2026-01-01T00:00:00.000Z")
            _ = try DeliveryStore.store(db, Self.incoming("b"), now: "2026-01-01T00:00:00.000Z")
        }
        for attempt in 1...3 {
            let pending = try mirror.read { db in try DeliveryStore.due(db, .others, now: "9999", limit: 10) }
            #expect(pending.count == 2, "attempt \(attempt)")
            let outcome = try mirror.write { db in
                try DeliveryStore.markAttemptFailed(db, pending.map { .init(delivery: $0, error: "error of \($0.deliveryID) #\(attempt)") },
                                                    runID: nil, retryBase: 30, maxAttempts: 3)
            }
            #expect(outcome.retrying == (attempt < 3 ? 2 : 0) && outcome.failed == (attempt < 3 ? 0 : 2))
            let waiting = try mirror.read { db in try DeliveryStore.due(db, .others, now: Timestamp.iso(Date()), limit: 10) }
            #expect(waiting.isEmpty, "a retry waits for its time")
        }
        let rows = try mirror.read { db in
            try Row.fetchAll(db, sql: "SELECT delivery_id, status, attempts, last_error FROM webhook_deliveries ORDER BY id")
        }
        #expect(rows.map { $0[1] as String } == ["failed", "failed"])
        #expect(rows.map { $0[2] as Int } == [3, 3])
        #expect(rows.map { $0[3] as String } == ["error of a #3", "error of b #3"])
    }
}
