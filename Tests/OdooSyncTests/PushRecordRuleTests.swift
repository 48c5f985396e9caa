import Foundation
import GRDB
import Testing
@testable import OdooEmulator
@testable import OdooSyncCore

/// A record rule that hides one lead from the user fails that lead's edit alone; the real
/// binary against the emulator, whose salesman rule raises Odoo's own AccessError.
@Suite(.serialized) struct PushRecordRuleTests {
    /// The salesman rule: leads of this user or of nobody. May write leads, unlike `.demo`.
    static let salesman = EmulatorUser(login: "demo", uid: 5, password: "demo", apiKey: "demo-user-key", isAdmin: false,
                                       ownLeadsOnly: true)

    @Test func aLeadARecordRuleHidesFailsAloneAndTheOtherEditGoes() async throws {
        let h = try await EmulatorHarness.start { $0.users = [.admin, Self.salesman] }
        defer { Task { await h.stop() } }
        let active = try h.emulatorLeads().filter { $0.value.1 }.keys.sorted()
        let hidden = try #require(active.first)
        let mine = try #require(active.dropFirst().first)
        #expect(h.emulator.modify(model: "crm.lead", id: hidden, values: ["user_id": 8]))
        #expect(h.emulator.modify(model: "crm.lead", id: mine, values: ["user_id": 5]))
        // The admin pulls everything; the salesman then pushes two edits, the hidden lead's
        // first, so that a denial stopping the run would keep the other edit from going.
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        #expect(try await h.run(["leads", "edit", String(hidden), "--probability", "41"]).status == 0)
        #expect(try await h.run(["leads", "edit", String(mine), "--probability", "42"]).status == 0)

        let push = try await h.run(["push", "--json"], apiKey: Self.salesman.apiKey, extra: ["ODOO_USERNAME": Self.salesman.login])
        #expect(push.status == 1, "\(push.output)")
        let report = try JSONValue.parse(push.stdout)
        #expect(report["pushed"]?.intValue == 1 && report["failed"]?.intValue == 1, "\(push.stdout)")
        let errors = report["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("odoo_crm_\(hidden): Odoo's record rules keep this record from the user") == true, "\(errors)")
        #expect(errors.first?.contains("doesn't have 'read' access to: Lead (crm.lead).") == true, "\(errors)")

        let writes = h.emulator.writes().filter { $0.model == "crm.lead" && $0.method == "write" }
        #expect(writes.map(\.ids) == [[mine]])
        #expect(try h.emulatorRecord("crm.lead", mine)?["probability"] as? Double == 42)
        let edits = try h.query { db in
            try Row.fetchAll(db, sql: "SELECT odoo_id, status, last_error FROM local_edits ORDER BY id")
                .map { (odooID: $0[0] as Int, status: $0[1] as String, error: $0[2] as String?) }
        }
        #expect(edits.map(\.odooID) == [hidden, mine])
        #expect(edits.map(\.status) == ["pending", "pushed"])
        #expect(edits.first?.error?.contains("record rules") == true)
    }
}
