import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
@testable import OdooEmulator
import OdooSyncCore
@testable import PlaneEmulator
import Testing

/// A record archived (or deleted) on one side ends its pair and archives its counterpart; these
/// are the returns: the record unarchived in Plane or reactivated in Odoo brings the pair back,
/// restoring the counterpart from it, through the real binary against both emulators.
@Suite struct SyncRevivalTests {
    /// (status, ended_by, archived_other) of the pair of `mapping` found by its Odoo id.
    static func pairState(_ h: SyncHarness, entity: String, odoo: Int) throws -> (String, String?, Int)? {
        try h.query { db in
            try Row.fetchOne(db, sql: """
                SELECT m.status, p.ended_by, p.archived_other FROM sync_pairs p JOIN sync_mappings m ON m.id = p.mapping_id
                WHERE p.entity = ? AND p.odoo_id = ?
                """, arguments: [entity, odoo]).map { ($0[0], $0[1], $0[2]) }
        }
    }

    @Test func aRecordBackFromTheArchiveRestoresItsCounterpart() async throws {
        let h = try await SyncHarness.start()
        defer { Task { await h.stop() } }
        try await h.sync()
        let a = try h.somePair(3)
        let b = try h.somePair(4)
        // b's issue odoosync made from its task: archived, the external key still finds it. c's
        // was made in Plane: archived, it is gone from every list and view, a tombstone.
        #expect(h.planeIssue(b.plane)?["external_id"]?.stringValue == "project.task:\(b.odoo)")
        let c = try #require(try h.pairs("issue:project.task").first { (h.planeIssue($0.plane)?["external_id"] ?? .null) == .null })
        let stateBefore = try #require(h.planeIssue(a.plane)?["state"]?.stringValue)
        let issuesBefore = h.planeIssues().count
        let tasksBefore = try h.odooRecords("project.task").count

        // Archived in Odoo and in Plane: the other sides are archived and the pairs end.
        #expect(h.odoo.emulator.modify(model: "project.task", id: a.odoo, values: ["active": false]))
        #expect(h.plane.archiveIssue(id: b.plane))
        #expect(h.plane.archiveIssue(id: c.plane))
        let archived = try await h.sync()
        #expect(archived["entities"]?["issue:project.task"]?["archived"]?.intValue == 3, "\(archived)")
        #expect(try h.odooRecord("project.task", c.odoo)?["active"] as? Bool == false)
        let flags = try h.query { db in
            try Row.fetchAll(db, sql: "SELECT plane_id, deleted, archived FROM plane_records WHERE kind = 'issue' AND plane_id IN (?, ?)",
                             arguments: [b.plane, c.plane]).map { ($0[0] as String, $0[1] as Int, $0[2] as Int) }
        }
        #expect(flags.contains { $0 == (b.plane, 0, 1) } && flags.contains { $0 == (c.plane, 1, 0) }, "\(flags)")
        #expect(h.planeIssue(a.plane)?["state"]?.stringValue != stateBefore, "moved to the cancelled state")
        #expect(try h.odooRecord("project.task", b.odoo)?["active"] as? Bool == false)
        #expect(try SyncRevivalTests.pairState(h, entity: "issue:project.task", odoo: a.odoo).map { $0.0 == "archived" && $0.1 == "odoo" && $0.2 == 1 } == true)
        #expect(try SyncRevivalTests.pairState(h, entity: "issue:project.task", odoo: b.odoo).map { $0.0 == "archived" && $0.1 == "plane" && $0.2 == 1 } == true)

        // Back: the task reactivated (renamed while it was archived), the issue unarchived.
        #expect(h.odoo.emulator.modify(model: "project.task", id: a.odoo, values: ["active": true, "name": "Back from the archive"]))
        #expect(h.plane.archiveIssue(id: b.plane, archived: false))
        #expect(h.plane.archiveIssue(id: c.plane, archived: false))
        let planeWrites = h.plane.writes().count
        let back = try await h.sync()
        #expect(back["entities"]?["issue:project.task"]?["restored"]?.intValue == 3, "\(back)")
        #expect(try h.odooRecord("project.task", c.odoo)?["active"] as? Bool == true)
        #expect(back["failed"]?.intValue == 0)
        // The issue leaves the cancelled state for the one the task's stage names, and takes
        // the task's new name; the task is active again with the issue's values.
        let issueA = try #require(h.planeIssue(a.plane))
        #expect(issueA["state"]?.stringValue == stateBefore)
        #expect(issueA["name"]?.stringValue == "Back from the archive")
        let taskB = try #require(try h.odooRecord("project.task", b.odoo))
        #expect(taskB["active"] as? Bool == true)
        #expect(taskB["name"] as? String == h.planeIssue(b.plane)?["name"]?.stringValue)
        #expect(h.plane.writes().count > planeWrites)
        for pair in [a, b, c] {
            #expect(try SyncRevivalTests.pairState(h, entity: "issue:project.task", odoo: pair.odoo).map { $0.0 == "active" && $0.1 == nil } == true)
        }
        // Nothing made twice: the same records, paired as before.
        #expect(h.planeIssues().count == issuesBefore)
        #expect(try h.odooRecords("project.task").count == tasksBefore)
        #expect(try h.pairs("issue:project.task").contains { $0 == a } && h.pairs("issue:project.task").contains { $0 == b })
        let log = try h.query { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_log WHERE operation = 'restore' AND success") ?? 0
        }
        #expect(log == 3)

        // The restored pairs are settled, and live: a quiet run writes nothing, an edit travels.
        let quiet = try await h.sync()
        #expect(quiet["written"]?.intValue == 0, "\(quiet)")
        #expect(h.odoo.emulator.modify(model: "project.task", id: b.odoo, values: ["name": "Edited after the return"]))
        try await h.sync()
        #expect(h.planeIssue(b.plane)?["name"]?.stringValue == "Edited after the return")
    }

    /// With `sync.on_delete ignore` the other side was never touched: the returning record
    /// just makes the pair live again, and what changed meanwhile is compared as usual.
    @Test func withOnDeleteIgnoreTheReturnMakesThePairLiveAgain() async throws {
        let h = try await SyncHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["config", "set", "sync.on_delete", "ignore"]).status == 0)
        try await h.sync()
        let a = try h.somePair(2)
        let stateBefore = h.planeIssue(a.plane)?["state"]?.stringValue
        #expect(h.odoo.emulator.modify(model: "project.task", id: a.odoo, values: ["active": false]))
        let ended = try await h.sync()
        #expect(ended["written"]?.intValue == 0, "\(ended)")
        #expect(h.planeIssue(a.plane)?["state"]?.stringValue == stateBefore, "left alone")
        #expect(try SyncRevivalTests.pairState(h, entity: "issue:project.task", odoo: a.odoo).map { $0.0 == "archived" && $0.1 == "odoo" && $0.2 == 0 } == true)

        #expect(h.odoo.emulator.modify(model: "project.task", id: a.odoo, values: ["active": true, "name": "Renamed while archived"]))
        let back = try await h.sync()
        #expect(back["entities"]?["issue:project.task"]?["updated"]?.intValue == 1, "\(back)")
        #expect(h.planeIssue(a.plane)?["name"]?.stringValue == "Renamed while archived")
        #expect(try SyncRevivalTests.pairState(h, entity: "issue:project.task", odoo: a.odoo).map { $0.0 == "active" && $0.1 == nil } == true)
        let events = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE event_type = 'pair_revived'") ?? 0 }
        #expect(events == 1)
    }

    /// A cycle's milestone is never archived, a module's sub-project is: back from Plane's
    /// archive, the cycle's pair is live again and the module's sub-project active again.
    @Test func aCycleAndAModuleBackFromTheArchiveBringTheirPairsBack() async throws {
        let h = try await SyncHarness.start()
        defer { Task { await h.stop() } }
        try await h.sync()
        let cycle = try #require(h.plane.cycles().first)
        let module = try #require(h.plane.modules().first)
        let milestone = try #require(try h.query { db in
            try Int.fetchOne(db, sql: "SELECT odoo_id FROM sync_pairs WHERE entity = 'cycle:project.milestone' AND plane_id = ?", arguments: [cycle.id])
        })
        let subProject = try #require(try h.query { db in
            try Int.fetchOne(db, sql: "SELECT odoo_id FROM sync_pairs WHERE entity = 'module:project.project' AND plane_id = ?", arguments: [module.id])
        })
        #expect(h.plane.archiveContainer(id: cycle.id))
        #expect(h.plane.archiveContainer(id: module.id))
        try await h.sync()
        #expect(try SyncRevivalTests.pairState(h, entity: "cycle:project.milestone", odoo: milestone).map { $0.0 == "archived" && $0.1 == "plane" && $0.2 == 0 } == true)
        #expect(try SyncRevivalTests.pairState(h, entity: "module:project.project", odoo: subProject).map { $0.0 == "archived" && $0.2 == 1 } == true)
        #expect(try h.odooRecord("project.project", subProject)?["active"] as? Bool == false)

        #expect(h.plane.archiveContainer(id: cycle.id, archived: false))
        #expect(h.plane.archiveContainer(id: module.id, archived: false))
        // Renamed once back (through Plane's API): the milestone follows the live pair.
        let base = "http://127.0.0.1:\(h.planePort)/api/v1/workspaces/\(h.plane.workspaceSlug)/projects/\(cycle.project)/"
        var request = URLRequest(url: try #require(URL(string: base + "cycles/\(cycle.id)/")))
        request.httpMethod = "PATCH"
        request.setValue(h.plane.apiKey, forHTTPHeaderField: "X-API-Key")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"name": "Sprint, unarchived"}"#.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)

        let back = try await h.sync()
        #expect(back["failed"]?.intValue == 0, "\(back)")
        #expect(back["entities"]?["module:project.project"]?["restored"]?.intValue == 1, "\(back)")
        #expect(try h.odooRecord("project.project", subProject)?["active"] as? Bool == true)
        #expect(try h.odooRecord("project.milestone", milestone)?["name"] as? String == "Sprint, unarchived")
        #expect(try SyncRevivalTests.pairState(h, entity: "cycle:project.milestone", odoo: milestone).map { $0.0 == "active" } == true)
        #expect(try SyncRevivalTests.pairState(h, entity: "module:project.project", odoo: subProject).map { $0.0 == "active" } == true)
        let quiet = try await h.sync()
        #expect(quiet["written"]?.intValue == 0, "\(quiet)")
    }
}

extension SyncRevivalTests {
    /// An Odoo project archived archives its Plane project; reactivated (and renamed while it
    /// was archived), it brings the Plane project out of the archive with the new name. And the
    /// other way: a Plane project unarchived reactivates its Odoo project. Odoo archives and
    /// reactivates a project's tasks with it; the issues in the project are left as they were
    /// throughout, and nothing is written once both sides are back.
    @Test func anArchivedProjectBackOnEitherSideBringsTheOtherBack() async throws {
        let h = try await SyncHarness.start()
        defer { Task { await h.stop() } }
        try await h.sync()
        let pair = try #require(try h.pairs("project:project.project").first { pair in
            (try? h.odooRecord("project.project", pair.odoo)?["name"] as? String) == "Plant Automation"
        })
        let taskPairs = try h.pairs("issue:project.task").filter { task in
            SyncHarness.many2oneID((try? h.odooRecord("project.task", task.odoo))?["project_id"]) == pair.odoo
        }
        #expect(taskPairs.count >= 10)
        func states() -> [String?] { taskPairs.map { h.planeIssue($0.plane)?["state"]?.stringValue } }
        let statesBefore = states()
        func planeProject() -> JSONValue? { h.plane.project(id: pair.plane) }
        func tasksActive() throws -> Set<Bool> {
            Set(try taskPairs.map { try h.odooRecord("project.task", $0.odoo)?["active"] as? Bool ?? false })
        }

        #expect(h.odoo.emulator.modify(model: "project.project", id: pair.odoo, values: ["active": false]))
        #expect(try tasksActive() == [false], "Odoo archives the project's tasks with it")
        let archived = try await h.sync()
        #expect(archived["entities"]?["issue:project.task"]?["archived"]?.intValue ?? 0 == 0, "\(archived)")
        #expect(planeProject()?["archived_at"].map { $0 != .null } == true)
        #expect(states() == statesBefore, "the issues are left as they were")
        #expect(try SyncRevivalTests.pairState(h, entity: "project:project.project", odoo: pair.odoo).map { $0.0 == "archived" && $0.1 == "odoo" && $0.2 == 1 } == true)

        #expect(h.odoo.emulator.modify(model: "project.project", id: pair.odoo, values: ["active": true, "name": "Plant Automation II"]))
        #expect(try tasksActive() == [true])
        let back = try await h.sync()
        #expect(back["entities"]?["project:project.project"]?["restored"]?.intValue == 1, "\(back)")
        #expect(planeProject()?["archived_at"] == .null)
        #expect(planeProject()?["name"]?.stringValue == "Plant Automation II")
        #expect(try SyncRevivalTests.pairState(h, entity: "project:project.project", odoo: pair.odoo).map { $0.0 == "active" && $0.1 == nil } == true)
        #expect(states() == statesBefore)
        let livePairs = try h.pairs("issue:project.task")
        #expect(taskPairs.allSatisfy { task in livePairs.contains { $0 == task } }, "the issue pairs stayed live")
        let quiet = try await h.sync()
        #expect(quiet["written"]?.intValue == 0, "\(quiet)")

        // The other way: archived in Plane, then unarchived there.
        func archive(_ method: String) async throws -> Int? {
            let url = "http://127.0.0.1:\(h.planePort)/api/v1/workspaces/\(h.plane.workspaceSlug)/projects/\(pair.plane)/archive/"
            var request = URLRequest(url: try #require(URL(string: url)))
            request.httpMethod = method
            request.setValue(h.plane.apiKey, forHTTPHeaderField: "X-API-Key")
            return (try await URLSession.shared.data(for: request).1 as? HTTPURLResponse)?.statusCode
        }
        #expect(try await archive("POST") == 204)
        try await h.sync()
        #expect(try h.odooRecord("project.project", pair.odoo)?["active"] as? Bool == false)
        #expect(try tasksActive() == [false])
        let frozen = try await h.sync()
        #expect(frozen["written"]?.intValue == 0, "the tasks Odoo archived with the project are not archived over to Plane: \(frozen)")
        #expect(states() == statesBefore)
        #expect(try await archive("DELETE") == 204)
        let again = try await h.sync()
        #expect(again["entities"]?["project:project.project"]?["restored"]?.intValue == 1, "\(again)")
        #expect(try h.odooRecord("project.project", pair.odoo)?["active"] as? Bool == true)
        #expect(try tasksActive() == [true])
        let settled = try await h.sync()
        #expect(settled["written"]?.intValue == 0, "\(settled)")
        #expect(states() == statesBefore)
    }
}

extension SyncRevivalTests {
    /// A restore that fails for good leaves its pair ended, never in error: an error pair would
    /// be compared, its archived side taken for gone, and the record that came back archived
    /// again. The restore waits, failed, for `queue retry`.
    @Test func aRestoreThatFailsLeavesThePairEndedUntilItIsRetried() async throws {
        let h = try await SyncHarness.start()
        defer { Task { await h.stop() } }
        try await h.sync()
        let a = try h.somePair(5)
        let stateBefore = h.planeIssue(a.plane)?["state"]?.stringValue
        #expect(h.odoo.emulator.modify(model: "project.task", id: a.odoo, values: ["active": false]))
        try await h.sync()
        #expect(try await h.run(["config", "set", "sync.max_attempts", "1"]).status == 0)
        h.plane.setFaults(PlaneFaultPlan(rate: 1, kinds: [.refused(field: "state", message: "Not allowed here.")], methods: ["PATCH"],
                                         pathContains: ["/issues/\(a.plane)/"]))
        #expect(h.odoo.emulator.modify(model: "project.task", id: a.odoo, values: ["active": true]))
        let failed = try await h.sync(expectStatus: 1)
        #expect(failed["failed"]?.intValue == 1, "\(failed)")
        h.plane.setFaults(.none)
        #expect(try SyncRevivalTests.pairState(h, entity: "issue:project.task", odoo: a.odoo).map { $0.0 == "archived" && $0.1 == "odoo" } == true)
        let archivesOfA = { h.odoo.emulator.writes().filter { $0.method == "write" && $0.ids == [a.odoo] }.count }
        let before = archivesOfA()
        let waiting = try await h.sync()
        #expect(waiting["written"]?.intValue == 0, "\(waiting)")
        #expect(archivesOfA() == before, "the task that came back is not archived again")
        #expect(try h.odooRecord("project.task", a.odoo)?["active"] as? Bool == true)
        let log = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_log WHERE operation = 'restore' AND NOT success") ?? 0 }
        #expect(log == 1)

        #expect(try await h.run(["queue", "retry", "--failed"]).status == 0)
        let retried = try await h.sync()
        #expect(retried["entities"]?["issue:project.task"]?["restored"]?.intValue == 1, "\(retried)")
        #expect(h.planeIssue(a.plane)?["state"]?.stringValue == stateBefore)
        #expect(try SyncRevivalTests.pairState(h, entity: "issue:project.task", odoo: a.odoo).map { $0.0 == "active" } == true)
    }

    /// What was edited on both sides while the pair was ended goes by the entity's strategy, as
    /// for any pair: under `manual`, a conflict, and neither name is written over; the restore
    /// still brings the issue back out of its cancelled state.
    @Test func editsMadeWhileThePairWasEndedGoByTheStrategy() async throws {
        let h = try await SyncHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["config", "set", "sync", "issue:project.task", "strategy", "manual"]).status == 0)
        try await h.sync()
        let a = try h.somePair(6)
        let stateBefore = h.planeIssue(a.plane)?["state"]?.stringValue
        #expect(h.odoo.emulator.modify(model: "project.task", id: a.odoo, values: ["active": false]))
        try await h.sync()
        try h.plane.modifyIssue(id: a.plane, fields: ["name": "Plane's name", "priority": "urgent"])
        #expect(h.odoo.emulator.modify(model: "project.task", id: a.odoo, values: ["active": true, "name": "Odoo's name"]))
        let back = try await h.sync()
        #expect(back["conflicts"]?.intValue == 1, "\(back)")
        #expect(back["entities"]?["issue:project.task"]?["restored"]?.intValue == 1, "\(back)")
        let issue = try #require(h.planeIssue(a.plane))
        #expect(issue["name"]?.stringValue == "Plane's name")
        #expect(issue["state"]?.stringValue == stateBefore, "out of the cancelled state")
        #expect(try h.odooRecord("project.task", a.odoo)?["name"] as? String == "Odoo's name")
        // The priority changed in Plane only: it travels.
        #expect(try h.odooRecord("project.task", a.odoo)?["priority"] as? String != "0")
    }
}

extension SyncRevivalTests {
    /// Seeded, reproducible: renames on both sides interleaved with archives and returns on both
    /// sides and injected faults, then sync until quiet. Every pair then stands as the rules
    /// say: both records live, the pair live, the two agree and the issue is in the state it
    /// began in; the task archived, the issue cancelled; the issue archived, the task archived.
    /// (An issue is archived only while its task is active and it is not cancelled, and a task
    /// changes only while its issue is not archived: an issue archived by hand while its pair is
    /// ended stays so, as does its task, and Plane's API cannot unarchive an issue.)
    @Test(arguments: [UInt64(2), 5, 17])
    func randomArchivesAndReturnsConverge(seed: UInt64) async throws {
        let h = try await SyncHarness.start()
        defer { Task { await h.stop() } }
        try await h.sync()
        try await h.sync()  // pulls the states of the projects the first one made in Plane
        var rng = SplitMix64(seed: seed)
        let pairs = Array(try h.pairs("issue:project.task").prefix(12))
        let issuesBefore = h.planeIssues().count
        // Nothing here moves a state: each issue whose pair is live in the end is in the state it began with.
        let statesBefore = Dictionary(pairs.map { ($0.plane, h.planeIssue($0.plane)?["state"]) }, uniquingKeysWith: { a, _ in a })
        let tasksBefore = try h.odooRecords("project.task").count
        let groups = try h.query { db in
            try Dictionary(Row.fetchAll(db, sql: "SELECT plane_id, json_extract(data, '$.group') FROM plane_records WHERE kind = 'state'")
                .map { ($0[0] as String, $0[1] as String? ?? "") }, uniquingKeysWith: { a, _ in a })
        }
        func cancelled(_ plane: String) -> Bool { groups[h.planeIssue(plane)?["state"]?.stringValue ?? ""] == "cancelled" }
        func taskActive(_ odoo: Int) throws -> Bool { try h.odooRecord("project.task", odoo)?["active"] as? Bool ?? false }
        func issueArchived(_ plane: String) -> Bool { (h.planeIssue(plane)?["archived_at"] ?? .null) != .null }
        for round in 0..<4 {
            for step in 0..<10 {
                let pair = pairs[Int(rng.next() % UInt64(pairs.count))]
                let archived = issueArchived(pair.plane)
                let active = try taskActive(pair.odoo)
                switch rng.next() % 4 {
                case 0 where !archived:
                    try h.plane.modifyIssue(id: pair.plane, fields: ["name": .string("P\(seed)-\(round)-\(step)")])
                case 1 where !archived:
                    _ = h.odoo.emulator.modify(model: "project.task", id: pair.odoo, values: ["name": .string("O\(seed)-\(round)-\(step)")])
                case 2 where !archived:
                    _ = h.odoo.emulator.modify(model: "project.task", id: pair.odoo, values: ["active": .bool(!active)])
                case 3 where archived || (active && !cancelled(pair.plane)):
                    _ = h.plane.archiveIssue(id: pair.plane, archived: !archived)
                default:
                    continue
                }
            }
            try await SyncRobustnessTests.syncUnderFaults(h, seed: seed &+ UInt64(round))
        }
        try await SyncRobustnessTests.retryAndSettle(h)
        // Nothing was made: the same issues and tasks, each in one pair at most.
        let tasksAfter = try h.odooRecords("project.task").count
        #expect(h.planeIssues().count == issuesBefore && tasksAfter == tasksBefore)
        let everyPair = try h.query { db in try Row.fetchAll(db, sql: "SELECT plane_id, odoo_id FROM sync_pairs WHERE entity = 'issue:project.task'") }
        #expect(Set(everyPair.map { $0[0] as String }).count == everyPair.count && Set(everyPair.map { $0[1] as Int }).count == everyPair.count)
        #expect(try h.query { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") } == "ok")

        let restores = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_log WHERE operation = 'restore' AND success") ?? 0 }
        #expect(restores > 0, "the seed brought records back")
        for pair in pairs {
            let issue = try #require(h.planeIssue(pair.plane))
            let task = try #require(try h.odooRecord("project.task", pair.odoo))
            let group = groups[issue["state"]?.stringValue ?? ""]
            let status = try SyncRevivalTests.pairState(h, entity: "issue:project.task", odoo: pair.odoo)?.0
            if issueArchived(pair.plane) {
                #expect(task["active"] as? Bool == false, "\(pair): issue archived, task active")
                #expect(status == "archived", "\(pair)")
            } else if task["active"] as? Bool == false {
                #expect(group == "cancelled", "\(pair): task archived, issue in \(group ?? "?")")
                #expect(status == "archived", "\(pair)")
            } else {
                #expect(status == "active", "\(pair): both live, pair \(status ?? "?")")
                #expect(issue["state"] == statesBefore[pair.plane], "\(pair): both live, the issue is not back in its state")
                #expect(issue["name"]?.stringValue == task["name"] as? String, "\(pair): names differ")
            }
        }
    }
}
