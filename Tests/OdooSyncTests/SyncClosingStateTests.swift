import Foundation
import GRDB
import OdooSyncCore
import Testing

/// From Odoo 17 a task is done or cancelled by its `state` (reference §3), whatever column it
/// sits in, and moving a closed task's stage leaves it closed. The sync closes and reopens
/// tasks with their Plane issues' state groups, both ways; on 16 the stage alone says it.
@Suite(.serialized) struct SyncClosingStateTests {
    /// The id of `project`'s Plane state named `name`, and the group of a state id, from the mirror.
    static func planeState(_ h: SyncHarness, project: String, name: String) throws -> String {
        let id = try h.query { db in
            try String.fetchOne(db, sql: """
                SELECT plane_id FROM plane_records WHERE kind = 'state' AND json_extract(data, '$.name') = ?
                AND coalesce(project_id, json_extract(data, '$.project')) = ?
                """, arguments: [name, project])
        }
        guard let id else { throw HarnessError("no Plane state \(name) in \(project)") }
        return id
    }

    static func group(_ h: SyncHarness, ofIssue id: String) throws -> String? {
        guard let state = h.planeIssue(id)?["state"]?.stringValue else { return nil }
        return try h.query { db in
            try String.fetchOne(db, sql: "SELECT json_extract(data, '$.group') FROM plane_records WHERE kind = 'state' AND plane_id = ?", arguments: [state])
        }
    }

    /// A pair whose task is in progress, in a Plane project whose states the mirror has pulled.
    static func openPair(_ h: SyncHarness) throws -> (plane: String, odoo: Int, project: String) {
        for pair in try h.pairs("issue:project.task") {
            guard let project = h.planeIssue(pair.plane)?["project"]?.stringValue,
                  (try? planeState(h, project: project, name: "Done")) != nil,
                  let task = try h.odooRecord("project.task", pair.odoo) else { continue }
            let open = (task["state"] as? String).map { $0 == "01_in_progress" } ?? true
            if open, (task["stage_id"] as? [Any])?.last as? String == "In Progress" { return (pair.plane, pair.odoo, project) }
        }
        throw HarnessError("no pair with a task in progress")
    }

    static func stageName(_ task: [String: Any]?) -> String? { (task?["stage_id"] as? [Any])?.last as? String }

    @Test(arguments: ["19.0", "17.0", "16.0"])
    func anIssueDoneOrCancelledInPlaneClosesItsTaskAndReopeningOpensIt(_ version: String) async throws {
        let h = try await SyncHarness.start { $0.serverVersion = version }
        defer { Task { await h.stop() } }
        let before = Set(try h.odooRecords("project.task").compactMap { $0["id"] as? Int })
        try await h.sync()
        let closing = version != "16.0"
        // Issues already done or cancelled became closed tasks.
        var created: [String: Int] = [:]
        for pair in try h.pairs("issue:project.task") where !before.contains(pair.odoo) {
            guard let group = try SyncClosingStateTests.group(h, ofIssue: pair.plane), ["completed", "cancelled"].contains(group) else { continue }
            created[group, default: 0] += 1
            let state = try h.odooRecord("project.task", pair.odoo)?["state"] as? String
            #expect(state == (closing ? (group == "completed" ? "1_done" : "1_canceled") : nil), "\(pair) in \(group) on \(version)")
        }
        #expect(created["completed"] ?? 0 > 0 && created["cancelled"] ?? 0 > 0, "\(created)")
        let pair = try SyncClosingStateTests.openPair(h)

        for (name, stage, state) in [("Done", "Done", "1_done"), ("In Progress", "In Progress", "01_in_progress"),
                                     ("Cancelled", "Cancelled", "1_canceled")] {
            try h.plane.modifyIssue(id: pair.plane, fields: ["state": .string(try SyncClosingStateTests.planeState(h, project: pair.project, name: name))])
            let report = try await h.sync()
            #expect(report["failed"]?.intValue == 0, "\(report)")
            let task = try h.odooRecord("project.task", pair.odoo)
            #expect(SyncClosingStateTests.stageName(task) == stage, "\(name) on \(version)")
            if closing {
                #expect(task?["state"] as? String == state, "\(name) on \(version)")
            } else {
                #expect(task?["state"] == nil, "16 has no task state")
            }
            #expect(try await h.sync()["written"]?.intValue == 0, "the closing read back as written, after \(name) on \(version)")
        }
    }

    /// Closing a task in Odoo (its state, the column left as it was) closes the issue; setting it
    /// back in progress reopens it in the state its column names.
    @Test(arguments: ["19.0", "17.0"])
    func aTaskClosedInOdooWithoutMovingItsColumnClosesItsIssue(_ version: String) async throws {
        let h = try await SyncHarness.start { $0.serverVersion = version }
        defer { Task { await h.stop() } }
        try await h.sync()
        let pair = try SyncClosingStateTests.openPair(h)

        for (state, group) in [("1_done", "completed"), ("01_in_progress", "started"), ("1_canceled", "cancelled")] {
            #expect(h.odoo.emulator.modify(model: "project.task", id: pair.odoo, values: ["state": .string(state)]))
            let report = try await h.sync()
            #expect(report["failed"]?.intValue == 0, "\(report)")
            #expect(try SyncClosingStateTests.group(h, ofIssue: pair.plane) == group, "\(state) on \(version)")
            let task = try h.odooRecord("project.task", pair.odoo)
            #expect(SyncClosingStateTests.stageName(task) == "In Progress", "the column is Odoo's to keep")
            #expect(task?["state"] as? String == state)
            #expect(try await h.sync()["written"]?.intValue == 0, "after \(state) on \(version)")
        }
    }
}
