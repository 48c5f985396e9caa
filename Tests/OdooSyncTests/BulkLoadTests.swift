import Foundation
import GRDB
import Testing
@testable import OdooSyncMirror

/// A first pull builds the leads' customer index once, at its end, instead of row by row.
@Suite struct BulkLoadTests {
    static func customerIndex(_ db: Database) throws -> (root: Int?, deferred: Int, planUsesIt: Bool) {
        let root = try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_schema WHERE type = 'index' AND name = 'leads_customer'")
        let deferred = try Int.fetchOne(db, sql: "SELECT count(*) FROM deferred_indexes") ?? -1
        let detail = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT id FROM leads WHERE customer_id = 'x'").map { $0["detail"] as String }
        return (root, deferred, detail.contains { $0.contains("leads_customer") })
    }

    @Test func aFirstPullBuildsTheCustomerIndexAfterTheLeads() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["init"]).status == 0)
        let before = try h.query { db in try Self.customerIndex(db) }
        let pages = try h.query { db in try Int.fetchOne(db, sql: "PRAGMA page_count") } ?? 0
        #expect(before.root != nil && before.planUsesIt)

        let pull = try await h.run(["pull", "odoo"])
        #expect(pull.status == 0, "\(pull.output)")
        let after = try h.query { db in try Self.customerIndex(db) }
        // An index's root page never moves while the index lives: a new one past the pages the
        // empty mirror had means it was dropped and built again after the leads went in.
        #expect(after.root != nil && after.root! > pages, "root \(String(describing: after.root)), empty mirror had \(pages) pages")
        #expect(after.deferred == 0)
        #expect(after.planUsesIt)
        let linked = try h.query { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM leads INDEXED BY leads_customer WHERE customer_id IS NOT NULL")
        }
        #expect(linked == (try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE customer_id IS NOT NULL") }))
        #expect(linked ?? 0 > 0)

        // Later pulls find leads in the table and leave the index where it is.
        let second = try await h.run(["pull", "odoo", "--full"])
        #expect(second.status == 0, "\(second.output)")
        #expect(try h.query { db in try Self.customerIndex(db) }.root == after.root)
    }

    @Test func anIndexAKilledPullLeftDeferredIsBuiltByTheNextPull() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["init"]).status == 0)
        // What a pull killed between dropping the index and building it leaves behind.
        let mirror = try Mirror(path: h.dbPath)
        #expect(try mirror.deferIndexes(["leads_customer"], whileFilling: "leads") == ["leads_customer"])
        #expect(try mirror.read { db in try Self.customerIndex(db) }.root == nil)
        #expect(try mirror.read { db in try Self.customerIndex(db) }.deferred == 1)
        // A second call finds nothing left to drop and keeps the definition it saved.
        #expect(try mirror.deferIndexes(["leads_customer"], whileFilling: "leads") == [])
        #expect(try mirror.read { db in try Self.customerIndex(db) }.deferred == 1)
        try mirror.db.close()

        let pull = try await h.run(["pull", "odoo"])
        #expect(pull.status == 0, "\(pull.output)")
        let after = try h.query { db in try Self.customerIndex(db) }
        #expect(after.root != nil && after.deferred == 0 && after.planUsesIt)
        #expect(try h.query { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") } == "ok")
    }

    @Test func aTableWithRowsKeepsItsIndexes() throws {
        let dir = try TestPaths.temporaryDirectory()
        let mirror = try Mirror(path: dir.appendingPathComponent("m.sqlite").path)
        try mirror.write { db in
            try db.execute(sql: "INSERT INTO leads (id, title, created_at, updated_at) VALUES ('x', 'kept', 'now', 'now')")
        }
        #expect(try mirror.deferIndexes(["leads_customer"], whileFilling: "leads") == [])
        #expect(try mirror.read { db in try Self.customerIndex(db) }.root != nil)
        #expect(try mirror.restoreDeferredIndexes() == [])
    }
}
