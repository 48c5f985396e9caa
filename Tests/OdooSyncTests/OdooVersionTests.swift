import Foundation
import GRDB
import Logging
import OdooClient
@testable import OdooEmulator
import OdooSyncCore
@testable import OdooSyncEngine
import OdooSyncMirror
import Testing

/// What differs between Odoo 16, 17, 18 and 19 in the models the Plane sync reads and writes.
@Suite struct OdooVersionTests {
    static func translation(priorityKeys: [String]) -> Translation {
        var translation = Translation(stateMap: [:], planeStates: [:], odooStages: [:])
        translation.taskPriorityKeys = priorityKeys
        return translation
    }

    static let priorityOnly: [(plane: String, odoo: String)] = [("priority", "priority")]

    /// Plane priority -> the key written, on Odoo 16–18 (two keys) and 19 (four).
    @Test(arguments: [
        (["0", "1"], "urgent", "1"), (["0", "1"], "high", "1"), (["0", "1"], "medium", "0"), (["0", "1"], "low", "0"),
        (["0", "1"], "none", "0"),
        (["0", "1", "2", "3"], "urgent", "3"), (["0", "1", "2", "3"], "high", "2"), (["0", "1", "2", "3"], "medium", "1"),
        (["0", "1", "2", "3"], "low", "0"), (["0", "1", "2", "3"], "none", "0"),
    ])
    func planePriorityIsWrittenAsAKeyTheTaskModelHas(_ keys: [String], _ plane: String, _ expected: String) {
        let values = Self.translation(priorityKeys: keys).odooValues(["priority": .string(plane)], mappings: Self.priorityOnly).values
        #expect(values.first?.1 == .string(expected), "\(plane) on \(keys)")
    }

    /// Odoo key -> the Plane priority read; a two-key model's star is "high", as its label says.
    @Test(arguments: [
        (["0", "1"], "1", "high"), (["0", "1"], "0", "low"),
        (["0", "1", "2", "3"], "3", "urgent"), (["0", "1", "2", "3"], "2", "high"), (["0", "1", "2", "3"], "1", "medium"),
        (["0", "1", "2", "3"], "0", "low"),
    ])
    func odooPriorityIsReadByWhatItsKeyMeans(_ keys: [String], _ odoo: String, _ expected: String) {
        let canonical = Self.translation(priorityKeys: keys).odooCanonical(["priority": .string(odoo)], mappings: Self.priorityOnly)
        #expect(canonical["priority"] == .string(expected), "\(odoo) on \(keys)")
    }

    /// The emulator answers as the version it is told to be, for the fields odoosync uses.
    @Test func emulatorDescribesTheModelsOfEachVersion() async throws {
        for version in ["16.0", "17.0", "18.0", "19.0"] {
            let h = try await EmulatorHarness.start { $0.serverVersion = version }
            defer { Task { await h.stop() } }
            let settings = OdooSettings(url: try #require(URL(string: "http://127.0.0.1:\(h.port)")), database: "odoosync_demo",
                                        username: "admin", apiKey: EmulatorHarness.apiKey)
            let odoo = OdooClient(settings: settings, logger: Logger(label: "test"))
            let task = try await odoo.call(OdooCall(model: "project.task", method: "fields_get", kwargs: [("attributes", ["type", "selection"])]))
            let order = try await odoo.call(OdooCall(model: "sale.order", method: "fields_get", kwargs: [("attributes", ["type", "selection"])]))
            let priorities = task["priority"]?["selection"]?.arrayValue?.compactMap { $0.arrayValue?.first?.stringValue }
            let orderStates = order["state"]?["selection"]?.arrayValue?.compactMap { $0.arrayValue?.first?.stringValue } ?? []
            let major = Int(version.prefix(2)) ?? 19
            #expect(priorities == (major < 19 ? ["0", "1"] : ["0", "1", "2", "3"]), "\(version)")
            #expect((task["state"] != nil) == (major >= 17), "\(version)")
            #expect((task["allocated_hours"] != nil) == (major >= 17), "\(version)")
            #expect((task["kanban_state"] != nil) == (major < 17), "\(version)")
            #expect(task["date_deadline"]?["type"]?.stringValue == (major < 17 ? "date" : "datetime"), "\(version)")
            #expect(orderStates.contains("done") == (major < 17), "\(version)")
            #expect((order["locked"] != nil) == (major >= 17), "\(version)")
            let rows = try await odoo.call(OdooCall(model: "project.task", method: "search_read", args: [("domain", [])],
                                                    kwargs: [("fields", ["priority", "date_deadline"])], context: ["active_test": false]))
            let stored = Set(rows.arrayValue?.compactMap { $0["priority"]?.stringValue } ?? [])
            #expect(stored.isSubset(of: Set(priorities ?? [])) && !stored.isEmpty, "\(version): \(stored.sorted())")
            if major < 17 {
                #expect(rows.arrayValue?.allSatisfy { ($0["date_deadline"]?.stringValue?.count ?? 10) == 10 } == true, "\(version)")
            }
        }
    }

    /// Before Odoo 19 a starred task reads as "high" in Plane, and a Plane "medium" does not
    /// star the task; every write the sync makes is one the version accepts.
    @Test(arguments: ["17.0", "16.0"])
    func prioritiesCrossBothWaysOnATwoKeyServer(_ version: String) async throws {
        let h = try await SyncHarness.start { $0.serverVersion = version }
        defer { Task { await h.stop() } }
        let first = try await h.sync()
        #expect(first["failed"]?.intValue == 0, "\(first)")
        // Refused items are retried later, not failed: the first run must have none at all.
        #expect(first["errors"]?.arrayValue?.isEmpty == true, "\(first["errors"] ?? .null)")
        let a = try h.somePair(0)
        let b = try h.somePair(1)
        #expect(h.odoo.emulator.modify(model: "project.task", id: a.odoo, values: ["priority": "0"]))
        try await h.sync()
        try h.plane.modifyIssue(id: b.plane, fields: ["priority": "medium"])
        #expect(h.odoo.emulator.modify(model: "project.task", id: a.odoo, values: ["priority": "1"]))

        let report = try await h.sync()
        #expect(report["failed"]?.intValue == 0, "\(report)")
        #expect(h.planeIssue(a.plane)?["priority"]?.stringValue == "high")
        #expect(try h.odooRecord("project.task", b.odoo)?["priority"] as? String == "0")
        #expect(try await h.sync()["written"]?.intValue == 0)
    }

    /// One process pulling from an Odoo 16 and then from a 19 (serve's tests, a script with
    /// two servers): 16's missing fields are left out of 16's pulls only.
    @Test func aFieldOneServerLacksIsStillReadFromAnother() async throws {
        func pulledTaskHasState(_ version: String) async throws -> Bool {
            let h = try await EmulatorHarness.start { $0.serverVersion = version }
            defer { Task { await h.stop() } }
            let mirror = try Mirror(path: h.dbPath)
            let settings = OdooSettings(url: try #require(URL(string: "http://127.0.0.1:\(h.port)")), database: "odoosync_demo",
                                        username: "admin", apiKey: EmulatorHarness.apiKey)
            let puller = try OdooPuller(mirror: mirror, client: OdooClient(settings: settings, logger: Logger(label: "test")),
                                        runID: try mirror.startRun(job: "test", system: "custom"), logger: Logger(label: "test"))
            _ = try await puller.pullProjects(full: true)
            let withState = try mirror.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM odoo_records WHERE model = 'project.task' AND json_type(data, '$.state') IS NOT NULL") ?? 0
            }
            return withState > 0
        }
        #expect(try await pulledTaskHasState("16.0") == false)
        #expect(try await pulledTaskHasState("19.0") == true)
    }

    /// A narrowing lasts an hour: `serve` then asks for the full field list again, so a server
    /// upgraded from 16 to 17 while it runs has its tasks' `state` read.
    @Test func aNarrowedModelIsTriedWholeAgainAfterAnHour() {
        final class Clock: @unchecked Sendable {
            let lock = NSLock()
            var time = Date(timeIntervalSince1970: 1_800_000_000)
            func advance(_ seconds: TimeInterval) { lock.withLock { time += seconds } }
            var now: Date { lock.withLock { time } }
        }
        let clock = Clock()
        let cache = OdooPuller.ServerFields(lifetime: 3600, now: { clock.now })
        let wide = ModelSpec.task
        let narrow = ModelSpec(name: wide.name, fields: wide.fields.filter { $0 != "state" }, hasActive: wide.hasActive, domain: wide.domain)
        cache.remember(narrow, server: "a")
        #expect(cache.spec(for: wide, server: "a").fields == narrow.fields)
        #expect(cache.spec(for: wide, server: "b").fields == wide.fields)
        clock.advance(3599)
        #expect(cache.spec(for: wide, server: "a").fields == narrow.fields)
        clock.advance(2)
        #expect(cache.spec(for: wide, server: "a").fields == wide.fields, "tried whole again")
    }

    /// A mirror an earlier odoosync synced remembers tasks as it read them: on Odoo 17 it read
    /// the starred key "1" as medium, where it now reads high. That new reading of a task nobody
    /// touched is not an edit in Odoo: a Plane rename of the pair goes to Odoo, and the issue
    /// keeps its priority.
    @Test func aTaskReadDifferentlyAfterAnUpgradeIsNotAnEdit() async throws {
        let h = try await SyncHarness.start { $0.serverVersion = "17.0" }
        defer { Task { await h.stop() } }
        try await h.sync()
        let pair = try #require(try h.pairs("issue:project.task").first { pair in
            (try? h.odooRecord("project.task", pair.odoo)?["priority"] as? String) == "1"
        })
        try h.plane.modifyIssue(id: pair.plane, fields: ["priority": "medium", "name": "Renamed after the upgrade"])
        try Mirror(path: h.odoo.dbPath).write { db in
            try db.execute(sql: """
                UPDATE sync_pairs SET odoo_fields = json_set(odoo_fields, '$.priority', 'medium'),
                    plane_fields = json_set(plane_fields, '$.priority', 'medium')
                WHERE entity = 'issue:project.task' AND plane_id = ?
                """, arguments: [pair.plane])
            try db.execute(sql: "DELETE FROM sync_fingerprints WHERE entity LIKE 'reading:%'")
        }
        let report = try await h.sync()
        #expect(report["failed"]?.intValue == 0, "\(report)")
        #expect(h.planeIssue(pair.plane)?["priority"]?.stringValue == "medium", "not raised by a new reading")
        let task = try h.odooRecord("project.task", pair.odoo)
        #expect(task?["name"] as? String == "Renamed after the upgrade")
        #expect(task?["priority"] as? String == "1")
        #expect(try await h.sync()["written"]?.intValue == 0)
    }

    /// `push --dry-run` prints the value a real push would send on this server.
    @Test func dryRunShowsThePriorityKeyOfTheServer() async throws {
        let h = try await EmulatorHarness.start { $0.serverVersion = "17.0" }
        defer { Task { await h.stop() } }
        let mirror = try Mirror(path: h.dbPath)
        let settings = OdooSettings(url: try #require(URL(string: "http://127.0.0.1:\(h.port)")), database: "odoosync_demo",
                                    username: "admin", apiKey: EmulatorHarness.apiKey)
        let odoo = OdooClient(settings: settings, logger: Logger(label: "test"))
        let fields: [String: JSONValue] = ["name": "Urgent thing", "priority": "urgent"]
        let key = "odoosync.test_issue_urgent"
        try mirror.write { db in
            var queue = SyncEngine.QueueWriter()
            _ = try queue.enqueue(db, SyncEngine.QueueItem(
                entity: "issue:project.task", operation: "create", sourceSystem: "plane", sourceType: "issue", sourceID: "issue-urgent",
                target: "odoo", targetType: "project.task", planeProject: "p", odooProject: 2, key: key,
                fields: fields, sourceValues: fields, priority: 10))
            try queue.finish(db)
        }
        let engine = SyncEngine(mirror: mirror, odoo: odoo, plane: nil, runID: "", scope: SyncScope(), logger: Logger(label: "test"))
        try await engine.push(dryRun: true)
        let expected = SyncEngine.describe(SyncEngine.loadCall(model: "project.task", rows: [
            (key, [("name", "Urgent thing"), ("priority", "1"), ("project_id", .int(2))]),
        ]))
        #expect(engine.report.calls == [expected])
        #expect(h.emulator.writes().isEmpty)
    }

    static let order: JSONValue = [
        "id": 12, "name": "S00012", "state": "done", "partner_id": [7, "Acme"], "amount_total": 12500.0, "currency_id": [125, "AED"],
    ]

    /// Titles of what has no number yet, of credit notes and of Odoo 16's locked orders.
    @Test(arguments: [
        ("account.move", ["id": 7, "name": "/", "move_type": "out_invoice", "state": "draft", "partner_id": [3, "Acme"],
                          "amount_total": 100.0, "currency_id": [2, "EUR"]] as JSONValue,
         "Invoice (draft #7) · Acme · 100.00 EUR · Draft"),
        ("account.move", ["id": 8, "name": false, "move_type": "out_refund", "state": "draft", "partner_id": [3, "Acme"],
                          "amount_total": 40.5, "currency_id": [1, "USD"]] as JSONValue,
         "Credit note (draft #8) · Acme · 40.50 USD · Draft"),
        ("account.move", ["id": 9, "name": "RINV/2026/00002", "move_type": "out_refund", "state": "posted", "partner_id": [3, "Acme"],
                          "amount_total": 40.5, "currency_id": [1, "USD"], "payment_state": "paid"] as JSONValue,
         "Credit note RINV/2026/00002 · Acme · 40.50 USD · Posted, paid"),
        ("sale.order", OdooVersionTests.order, "Sales order S00012 · Acme · 12,500.00 AED · Locked"),
    ])
    func visibilityTitlesAreReadable(_ model: String, _ record: JSONValue, _ title: String) {
        #expect(Visibility.canonical(model: model, record: record)["name"] == .string(title))
    }

    @Test(arguments: [
        (1234567.4, 0, "1,234,567"), (1234.5678, 3, "1,234.568"), (-0.25, 3, "-0.250"), (999.995, 2, "1,000.00"),
        (12500.0, 2, "12,500.00"), (-0.001, 2, "0.00"), (0.5, 0, "1"),
    ])
    func amountsShowTheirCurrencysDecimals(_ value: Double, _ decimals: Int, _ shown: String) {
        #expect(Visibility.money(value, decimals: decimals) == shown)
    }

    /// Odoo 16 locks a confirmed order with a state of its own; its issue says so.
    @Test func aLockedOrderOnOdoo16SaysLocked() async throws {
        let h = try await SyncHarness.start { $0.serverVersion = "16.0" }
        defer { Task { await h.stop() } }
        let order = try #require(try h.odooRecords("sale.order").first { $0["state"] as? String == "sale" })
        let id = try #require(order["id"] as? Int)
        #expect(h.odoo.emulator.modify(model: "sale.order", id: id, values: ["state": "done"]))
        let report = try await h.sync()
        #expect(report["failed"]?.intValue == 0, "\(report)")
        let web = try #require(h.plane.projectID(identifier: "WEB"))
        let issue = try #require(h.plane.issues(projectID: web).first { $0["external_id"]?.stringValue == "sale.order:\(id)" })
        #expect(issue["name"]?.stringValue?.hasSuffix(" · Locked") == true, "\(issue["name"] ?? .null)")
    }
}
