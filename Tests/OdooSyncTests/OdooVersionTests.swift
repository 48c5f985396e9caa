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
