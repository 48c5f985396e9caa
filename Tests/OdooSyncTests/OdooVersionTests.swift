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
}
