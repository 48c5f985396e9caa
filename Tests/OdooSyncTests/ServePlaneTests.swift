import Foundation
import GRDB
import Testing
import OdooSyncCore
import OdooSyncServe
import PlaneEmulator

/// `serve` with Plane configured, beside both emulators: a Plane delivery brings the change
/// across to Odoo through a sync run, and one that arrives while its project cannot be read is
/// kept and tried again rather than marked processed with the change left behind.
@Suite(.serialized) struct ServePlaneTests {
    @Test func aPlaneDeliveryWhoseProjectCannotBeReadWaitsAndThenCarriesTheChange() async throws {
        let h = try await SyncHarness.start()
        defer { Task { await h.stop() } }
        _ = try await h.sync()
        let pair = try h.somePair()
        let project = try #require(try h.query { db in
            try String.fetchOne(db, sql: "SELECT plane_project FROM sync_pairs WHERE plane_id = ?", arguments: [pair.plane])
        })
        var env = h.environment()
        for (key, value) in ServeProcess.defaultEnvironment(h.odoo) where env[key] == nil { env[key] = value }
        let serve = try await ServeProcess.start(h.odoo, environment: env)

        // Plane answers 403 inside the issue's project (its user taken out of it, say) while the
        // other projects read as usual.
        h.plane.setFaults(PlaneFaultPlan(rate: 1, kinds: [.httpError(status: 403)], pathContains: ["/projects/\(project)/"]))
        try h.plane.modifyIssue(id: pair.plane, fields: ["name": "Renamed in Plane, announced by webhook"])
        let id = UUID().uuidString.lowercased()
        let body = Deliveries.plane(issueID: pair.plane, name: "Renamed in Plane, announced by webhook")
        let answer = try await HTTP.send("POST", serve.base + "/webhooks/plane", headers: Deliveries.planeHeaders(body, deliveryID: id), body: body)
        #expect(answer.status == 200, "\(answer.text)")
        func delivery() throws -> (status: String, attempts: Int, error: String?)? {
            try h.query { db in
                try Row.fetchOne(db, sql: "SELECT status, attempts, last_error FROM webhook_deliveries WHERE delivery_id = ?", arguments: [id])
                    .map { ($0[0], $0[1], $0[2]) }
            }
        }
        try await waitUntil("the sync run for the delivery has been tried") {
            try delivery().map { $0.attempts >= 1 || $0.status != "received" } ?? false
        }
        let held = try #require(try delivery())
        #expect(held.status == "received", "not processed while its project could not be read: \(held)")
        #expect(held.error?.contains("could not read 1 project") == true, "\(held)")
        #expect(try h.odooRecord("project.task", pair.odoo)?["name"] as? String != "Renamed in Plane, announced by webhook")

        // The project reads again: the retry processes the delivery and the name reaches Odoo.
        h.plane.setFaults(.none)
        try await waitUntil("the delivery is processed on a retry") { try delivery()?.status == "processed" }
        #expect(try h.odooRecord("project.task", pair.odoo)?["name"] as? String == "Renamed in Plane, announced by webhook")
        #expect(await serve.stop().status == 0)
    }
}
