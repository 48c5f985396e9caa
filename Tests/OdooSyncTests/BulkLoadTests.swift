import Foundation
import GRDB
import Testing
import OdooSyncCore
@testable import OdooEmulator
@testable import OdooSyncEngine
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

    /// Leads that share a contact, ASCII case variants of one email (one contact, as SQLite's
    /// lower() and the unique index see it), a non-ASCII case variant (two contacts), and
    /// contacts without email that differ only in case (two contacts).
    static func shareContacts(_ h: EmulatorHarness) throws {
        let leads = try #require(JSONSerialization.jsonObject(with: h.emulator.recordsJSON(model: "crm.lead")) as? [[String: Any]])
        let byPartner = Dictionary(grouping: leads.filter { ($0["partner_id"] as? [Any])?.first is Int }) {
            ($0["partner_id"] as? [Any])?.first as? Int ?? 0
        }
        let groups = byPartner.keys.sorted().compactMap { byPartner[$0] }.filter { $0.count >= 4 }.prefix(6)
        try #require(groups.count == 6)
        for (n, group) in groups.enumerated() {
            let ids = group.compactMap { $0["id"] as? Int }.sorted()
            let variants: [EmulatorJSON]
            switch n % 3 {
            case 0: variants = ["Shared.Buyer\(n)@Example.com", "shared.buyer\(n)@example.com", "SHARED.BUYER\(n)@EXAMPLE.COM",
                                "shared.buyer\(n)@example.com"].map(EmulatorJSON.string)
            case 1: variants = ["Ünal\(n)@example.com", "ünal\(n)@example.com", "Ünal\(n)@example.com", "ünal\(n)@example.com"].map(EmulatorJSON.string)
            default: variants = [.bool(false), .bool(false), .bool(false), .bool(false)]
            }
            for (k, id) in ids.prefix(4).enumerated() {
                var values: [String: EmulatorJSON] = ["email_from": variants[k], "phone": .string("+1 555 01\(n)\(k)")]
                if n % 3 == 2 { values["contact_name"] = .string(k % 2 == 0 ? "Ann Lee \(n)" : "ANN LEE \(n)") }
                #expect(h.emulator.modify(model: "crm.lead", id: id, values: values))
            }
        }
    }

    /// Contacts and each lead's contact, as values (ids differ between mirrors).
    static func contactsOf(_ h: EmulatorHarness) throws -> (contacts: [String], leads: [String]) {
        try h.query { db in
            let contacts = try String.fetchAll(db, sql: """
                SELECT coalesce(c.odoo_partner_id, c.name) || '|' || coalesce(ct.email, '-') || '|' || coalesce(ct.first_name, '-') || '|'
                       || coalesce(ct.last_name, '-') || '|' || coalesce(ct.phone, '-') || '|' || ct.is_primary
                FROM contacts ct JOIN customers c ON c.id = ct.customer_id WHERE ct.email IS NOT 'dummy@example.com' ORDER BY 1
                """)
            let leads = try String.fetchAll(db, sql: """
                SELECT l.odoo_id || '|' || coalesce(ct.email, '-') || '|' || coalesce(ct.first_name, '-') || '|' || coalesce(ct.last_name, '-')
                FROM leads l LEFT JOIN contacts ct ON ct.id = l.contact_id ORDER BY l.odoo_id
                """)
            return (contacts, leads)
        }
    }

    /// A first pull into an empty mirror knows every contact it made and looks none up; it must
    /// end with the contacts a pull that looks each one up makes.
    @Test func aFirstPullMakesTheContactsLookupsWouldFind() async throws {
        let fresh = try await EmulatorHarness.start { $0.generatedLeads = 1500 }
        defer { Task { await fresh.stop() } }
        let looked = try await EmulatorHarness.start { $0.generatedLeads = 1500 }
        defer { Task { await looked.stop() } }
        try Self.shareContacts(fresh)
        try Self.shareContacts(looked)
        // A contact already in the mirror makes the pull look every contact up.
        let mirror = try Mirror(path: looked.dbPath)
        try mirror.write { db in
            try db.execute(sql: """
                INSERT INTO customers (id, name, created_at, updated_at) VALUES ('c0', 'Someone else', 'now', 'now');
                INSERT INTO contacts (id, customer_id, email, created_at, updated_at) VALUES ('k0', 'c0', 'dummy@example.com', 'now', 'now');
                """)
        }
        try mirror.db.close()

        #expect(try await fresh.run(["pull", "odoo"]).status == 0)
        #expect(try await looked.run(["pull", "odoo"]).status == 0)
        let a = try Self.contactsOf(fresh), b = try Self.contactsOf(looked)
        #expect(a.leads.count > 1500)
        #expect(a.contacts == b.contacts)
        #expect(a.leads == b.leads)
        // The variants landed as the comment on shareContacts says.
        let shared = try fresh.query { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM contacts WHERE lower(email) = 'shared.buyer0@example.com'"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM contacts WHERE email LIKE '%nal1@example.com'"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM contacts WHERE email IS NULL AND lower(first_name) = 'ann'"
                                   + " AND lower(last_name) = 'lee 2'"))
        }
        #expect(shared.0 == 1)
        #expect(shared.1 == 2)
        #expect(shared.2 == 2)
    }

    /// A contact the mirror already holds is found and reused, not made again.
    @Test func aPullReusesAContactTheMirrorAlreadyHolds() async throws {
        let h = try await EmulatorHarness.start { $0.generatedLeads = 500 }
        defer { Task { await h.stop() } }
        try Self.shareContacts(h)
        let leads = try #require(JSONSerialization.jsonObject(with: h.emulator.recordsJSON(model: "crm.lead")) as? [[String: Any]])
        let lead = try #require(leads.first { ($0["email_from"] as? String) == "Shared.Buyer0@Example.com" })
        let partner = try #require((lead["partner_id"] as? [Any])?.first as? Int)
        let partnerRecord = try #require(try h.emulatorRecord("res.partner", partner))
        let commercial = (partnerRecord["commercial_partner_id"] as? [Any])?.first as? Int ?? partner
        let mirror = try Mirror(path: h.dbPath)
        try mirror.write { db in
            try db.execute(sql: "INSERT INTO customers (id, name, odoo_partner_id, created_at, updated_at) VALUES ('c0', 'Acme', ?, 'now', 'now')",
                           arguments: [commercial])
            try db.execute(sql: """
                INSERT INTO contacts (id, customer_id, email, is_primary, created_at, updated_at)
                VALUES ('k0', 'c0', 'shared.buyer0@EXAMPLE.com', 1, 'now', 'now')
                """)
        }
        try mirror.db.close()
        let pull = try await h.run(["pull", "odoo"])
        #expect(pull.status == 0, "\(pull.output)")
        let found = try h.query { db in
            try String.fetchAll(db, sql: "SELECT id FROM contacts WHERE lower(email) = 'shared.buyer0@example.com'")
        }
        #expect(found == ["k0"])
        let linked = try h.query { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE contact_id = 'k0'")
        }
        #expect(linked == 4)
    }

    /// The next command that takes the run lock builds a deferred index, even one that then
    /// fails to reach Odoo.
    @Test func aCommandUnderTheRunLockBuildsADeferredIndexFirst() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["init"]).status == 0)
        let mirror = try Mirror(path: h.dbPath)
        #expect(try mirror.deferIndexes(["leads_customer"], whileFilling: "leads") == ["leads_customer"])
        try mirror.db.close()
        let unreachable = try await h.run(["pull", "odoo"], extra: ["ODOO_URL": "http://127.0.0.1:9", "ODOOSYNC_RETRIES": "0"])
        #expect(unreachable.status == 3, "\(unreachable.output)")
        let after = try h.query { db in try Self.customerIndex(db) }
        #expect(after.root != nil && after.deferred == 0)
    }

    static func write(_ h: EmulatorHarness, _ sql: String) throws {
        let db = try DatabaseQueue(path: h.dbPath)
        try db.write { db in try db.execute(sql: sql) }
        try db.close()
    }

    static func exportLog(_ db: Database) throws -> (trigger: Bool, owed: Int, leads: Int) {
        let trigger = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND name = 'leads_export_insert')") ?? false
        let owed = try Int.fetchOne(db, sql: "SELECT count(DISTINCT row_id) FROM export_changes WHERE tbl = 'leads'") ?? -1
        let leads = try Int.fetchOne(db, sql: "SELECT count(*) FROM leads") ?? -1
        return (trigger, owed, leads)
    }

    /// The first pull writes the leads' export log in one statement at its end, and puts the
    /// trigger back for every lead after.
    @Test func aFirstPullOwesTheExportEveryLeadAndKeepsLoggingAfter() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let pull = try await h.run(["pull", "odoo"])
        #expect(pull.status == 0, "\(pull.output)")
        let after = try h.query { db in try Self.exportLog(db) }
        #expect(after.trigger)
        #expect(after.leads > 300)
        #expect(after.owed == after.leads)
        #expect(try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM deferred_indexes") } == 0)
        try h.query { db in
            // One statement owed them all: one unbroken run of entries, where a trigger per lead
            // interleaves them with the contacts made along the way.
            let longestRun = try Int.fetchOne(db, sql: """
                SELECT max(n) FROM (SELECT count(*) AS n FROM (
                    SELECT seq - row_number() OVER (ORDER BY seq) AS run FROM export_changes WHERE tbl = 'leads') GROUP BY run)
                """)
            #expect(longestRun == after.leads)
            // And after the customers and contacts they point to, the order the target needs.
            for parent in ["customer", "contact"] {
                let early = try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM leads l JOIN export_changes e ON e.tbl = 'leads' AND e.row_id = l.id
                    WHERE l.\(parent)_id IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM export_changes p WHERE p.tbl = '\(parent)s' AND p.row_id = l.\(parent)_id AND p.seq < e.seq)
                    """)
                #expect(early == 0, "\(parent)s")
            }
        }
        let status = try await h.run(["status", "--json"])
        #expect(try JSONValue.parse(status.stdout)["export"]?["owed"]?["public.leads"]?.intValue == after.leads, "\(status.output)")

        try Self.write(h, "INSERT INTO leads (id, title, created_at, updated_at) VALUES ('later', 'typed in later', 'now', 'now')")
        #expect(try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM export_changes WHERE tbl = 'leads' AND row_id = 'later'") } == 1)
    }

    /// A pull killed while the log waited: the next command under the run lock owes the export
    /// the leads that pull committed, and logs inserts again.
    @Test func leadsAKilledFirstPullCommittedAreOwedByTheNextCommand() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        try await Self.killedFirstPull(h)
        let unreachable = try await h.run(["pull", "odoo"], extra: ["ODOO_URL": "http://127.0.0.1:9", "ODOOSYNC_RETRIES": "0"])
        #expect(unreachable.status == 3, "\(unreachable.output)")
        #expect(try h.query { db in try Self.exportLog(db) } == (true, 3, 3))
        #expect(try h.query { db in try Self.customerIndex(db) }.deferred == 0)
        try Self.write(h, "INSERT INTO leads (id, title, created_at, updated_at) VALUES ('k4', 'later', 'now', 'now')")
        #expect(try h.query { db in try Self.exportLog(db) } == (true, 4, 4))
    }

    /// `export` takes the run lock too, so it owes those leads before it reads what is owed.
    @Test func anExportAfterAKilledFirstPullOwesItsLeadsFirst() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        try await Self.killedFirstPull(h)
        // Before anything puts the log back, what is owed already counts the leads.
        let dry = try await h.run(["export", "--dry-run", "--json"])
        #expect(try JSONValue.parse(dry.stdout)["owed"]?["public.leads"]?.intValue == 3, "\(dry.output)")
        let export = try await h.run(["export"], extra: ["SUPABASE_DB_URL": "postgresql://postgres@127.0.0.1:9/postgres"])
        #expect(export.status == 3, "\(export.output)")
        #expect(try h.query { db in try Self.exportLog(db) } == (true, 3, 3))
        #expect(try h.query { db in try Self.customerIndex(db) }.deferred == 0)
    }

    /// A trigger built again meanwhile (by a migration, say) is kept, and the leads are owed all the same.
    @Test func theLeadsAreOwedEvenWhenTheTriggerIsBackAlready() throws {
        let dir = try TestPaths.temporaryDirectory()
        let mirror = try Mirror(path: dir.appendingPathComponent("m.sqlite").path)
        let definition = try mirror.read { db in try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE name = 'leads_export_insert'") }
        #expect(try mirror.deferIndexes([], exportLog: true, whileFilling: "leads") == ["leads_export_insert"])
        try mirror.write { db in
            try db.execute(sql: "INSERT INTO leads (id, title, created_at, updated_at) VALUES ('a', 'one', 'now', 'now'), ('b', 'two', 'now', 'now')")
            try db.execute(sql: try #require(definition))
        }
        #expect(try mirror.restoreDeferredIndexes() == [])
        #expect(try mirror.read { db in try Self.exportLog(db) } == (true, 2, 2))
        #expect(try mirror.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM deferred_indexes") } == 0)
    }

    /// What a first pull killed while it filled the leads leaves: leads its pages committed,
    /// no export log of them, the index and the log's trigger waiting in `deferred_indexes`.
    static func killedFirstPull(_ h: EmulatorHarness) async throws {
        #expect(try await h.run(["init"]).status == 0)
        let mirror = try Mirror(path: h.dbPath)
        #expect(try mirror.deferIndexes(["leads_customer"], exportLog: true, whileFilling: "leads") == ["leads_customer", "leads_export_insert"])
        // What a killed pull's committed pages leave behind: leads, and no log of them.
        try mirror.write { db in
            for n in 1...3 {
                try db.execute(sql: "INSERT INTO leads (id, title, created_at, updated_at) VALUES (?, 'committed', 'now', 'now')", arguments: ["k\(n)"])
            }
        }
        #expect(try mirror.read { db in try Self.exportLog(db) } == (false, 0, 3))
        #expect(try mirror.deferIndexes(["leads_customer"], exportLog: true, whileFilling: "leads") == [], "the table has rows now")
        try mirror.db.close()
    }

    /// The shortcut ends as soon as anything but the projector's own connection writes.
    @Test func anotherConnectionsWriteEndsTheContactShortcut() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("m.sqlite").path
        let mirror = try Mirror(path: path)
        let projector = try LeadProjector(mirror: mirror, runID: nil)
        #expect(!projector.looksUpContacts)
        try mirror.write { db in try projector.beginAttempt(db) }
        #expect(!projector.looksUpContacts, "its own connection's reads and writes keep it")
        let other = try DatabaseQueue(path: path)
        try other.write { db in
            // Not even a contact: a fold elsewhere moves contacts without adding any.
            try db.execute(sql: "INSERT INTO customers (id, name, created_at, updated_at) VALUES ('c0', 'Acme', 'now', 'now')")
        }
        try other.close()
        try mirror.write { db in try projector.beginAttempt(db) }
        #expect(projector.looksUpContacts)

        try mirror.write { db in
            try db.execute(sql: "INSERT INTO contacts (id, customer_id, email, created_at, updated_at) VALUES ('k0', 'c0', 'a@acme.test', 'now', 'now')")
        }
        let second = try LeadProjector(mirror: mirror, runID: nil)
        #expect(second.looksUpContacts, "a mirror that holds contacts is looked up from the start")
        let folded = try LeadProjector(mirror: try Mirror(path: dir.appendingPathComponent("n.sqlite").path), runID: nil)
        folded.contactsChangedElsewhere()
        #expect(folded.looksUpContacts)
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
