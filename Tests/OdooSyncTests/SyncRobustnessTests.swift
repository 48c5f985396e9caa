import Foundation
import GRDB
@testable import OdooEmulator
import OdooSyncCore
@testable import PlaneEmulator
import Testing

/// The sync under crashes, lost answers, the rate limit and random interleaved edits.
@Suite struct SyncRobustnessTests {
    /// No record is created twice on either side, and every live item in a paired project is in
    /// exactly one pair.
    static func checkNoDuplicates(_ h: SyncHarness, _ context: String) throws {
        let issues = h.planeIssues()
        var seenKeys: [String: Int] = [:]
        for issue in issues where issue["external_source"]?.stringValue == "odoo" {
            seenKeys[issue["external_id"]?.stringValue ?? "", default: 0] += 1
        }
        let repeated = seenKeys.filter { $0.value > 1 }
        #expect(repeated.isEmpty, "Plane issues created twice (\(context)): \(repeated)")

        let pairs = try h.pairs("issue:project.task")
        #expect(Set(pairs.map(\.plane)).count == pairs.count, "a Plane issue in two pairs (\(context))")
        #expect(Set(pairs.map(\.odoo)).count == pairs.count, "an Odoo task in two pairs (\(context))")
        // Odoo tasks made from Plane issues carry the issue in their name; count twins by name+project.
        let tasks = try h.odooRecords("project.task").filter { $0["active"] as? Bool == true }
        let pairedOdoo = Set(pairs.map(\.odoo))
        let pairedProjects = Set(try h.pairs("project:project.project").map(\.odoo))
        let strays = tasks.filter {
            pairedProjects.contains(SyncHarness.many2oneID($0["project_id"]) ?? -1) && !pairedOdoo.contains($0["id"] as? Int ?? -1)
        }
        #expect(strays.isEmpty, "Odoo tasks in paired projects left unpaired (twins?) (\(context)): \(strays.map { $0["id"] ?? "?" })")
        let pairedPlane = Set(pairs.map(\.plane))
        let planeProjects = Set(try h.pairs("project:project.project").map(\.plane))
        let planeStrays = issues.filter {
            planeProjects.contains($0["project"]?.stringValue ?? "") && ($0["archived_at"] ?? .null) == .null && $0["is_draft"]?.boolValue != true
                && !SyncRobustnessTests.isVisibility($0) && !pairedPlane.contains($0["id"]?.stringValue ?? "")
        }
        #expect(planeStrays.isEmpty, "Plane issues left unpaired (\(context)): \(planeStrays.map { $0["name"]?.stringValue ?? "?" })")
        let integrity = try h.query { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(integrity == "ok")
        let badJSON = try h.query { db in try MirrorJSON.invalid(db) }
        #expect(badJSON.isEmpty, "\(badJSON) (\(context))")
    }

    static func isVisibility(_ issue: JSONValue) -> Bool {
        let ext = issue["external_id"]?.stringValue ?? ""
        return issue["external_source"]?.stringValue == "odoo" && (ext.hasPrefix("sale.order:") || ext.hasPrefix("account.move:"))
    }

    /// One sync with 10% of the requests to each side faulted (seeded); its outcome is left to
    /// the runs after it.
    static func syncUnderFaults(_ h: SyncHarness, seed: UInt64) async throws {
        h.plane.setFaults(PlaneFaultPlan(rate: 0.1, kinds: [.serverError, .dropConnection, .dropAfterApply], seed: seed))
        h.odoo.emulator.setFaults(FaultPlan(rate: 0.1, kinds: [.serverError, .dropConnection, .dropAfterApply], seed: seed))
        // A request the faults leave unanswered waits out the timeout: 5 s here, not a minute.
        _ = try await h.run(["sync"], ["ODOOSYNC_RETRIES": "2", "ODOOSYNC_RETRY_BASE_MS": "10", "ODOOSYNC_TIMEOUT": "5"])
        h.plane.setFaults(.none)
        h.odoo.emulator.setFaults(.none)
    }

    /// Failed items retried at once, then `syncUntilQuiet`.
    static func retryAndSettle(_ h: SyncHarness) async throws {
        #expect(try await h.run(["config", "set", "sync.retry_base_seconds", "0"]).status == 0)
        _ = try await h.run(["queue", "retry", "--failed"])
        try await syncUntilQuiet(h)
    }

    /// Syncs until a run writes nothing and leaves nothing queued.
    static func syncUntilQuiet(_ h: SyncHarness, maxRuns: Int = 8) async throws {
        for _ in 0..<maxRuns {
            let result = try await h.run(["sync", "--json"], ["ODOOSYNC_RETRY_BASE_MS": "10"])
            let report = (try? JSONValue.parse(result.stdout)) ?? .null
            let queued = try h.query { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_queue WHERE status IN ('pending', 'processing', 'failed')")
            }
            if result.status == 0 && report["written"]?.intValue == 0 && queued == 0 { return }
        }
        throw HarnessError("the sync did not settle in \(maxRuns) runs")
    }

    @Test func lostAnswersToCreatesCreateNothingTwice() async throws {
        let h = try await SyncHarness.start()
        defer { Task { await h.stop() } }
        // The server applies a create and the answer is lost; the client gives up at once, so the
        // run ends with the create applied remotely and not recorded locally. Odoo first...
        h.odoo.emulator.setFaults(.once(.dropAfterApply, onlyPaths: ["/json/2/project.task/load"]))
        let first = try await h.run(["sync", "--json"], ["ODOOSYNC_RETRIES": "1"])
        #expect(first.status == 3, "the lost answer should stop the run: \(first.output)")
        #expect(h.odoo.emulator.writes().contains { $0.method == "load" && $0.applied }, "the Odoo fault fired")
        h.odoo.emulator.setFaults(.none)
        // ...then Plane.
        h.plane.setFaults(.once(.dropAfterApply, methods: ["POST"], pathContains: ["/issues/"]))
        let second = try await h.run(["sync", "--json"], ["ODOOSYNC_RETRIES": "1"])
        #expect(second.status == 3, "the lost answer should stop the run: \(second.output)")
        #expect(h.plane.writes().contains { $0.status == 0 && $0.applied }, "the Plane fault fired")
        h.plane.setFaults(.none)
        try await SyncRobustnessTests.syncUntilQuiet(h)
        try SyncRobustnessTests.checkNoDuplicates(h, "after a lost answer")
    }

    @Test func killedSyncsCreateNothingTwice() async throws {
        let h = try await SyncHarness.start()
        defer { Task { await h.stop() } }
        // Slow writes on both sides so that kills land between remote creates and their bookkeeping.
        h.plane.setFaults(PlaneFaultPlan(rate: 1, kinds: [.latency(milliseconds: 15)], methods: ["POST", "PATCH"]))
        h.odoo.emulator.setFaults(FaultPlan(rate: 1, kinds: [.latency(milliseconds: 15)], onlyPaths: ["/json/2/project.task/load", "/json/2/project.task/write"]))
        var rng = SplitMix64(seed: 7)
        var killed = 0
        for trial in 0..<6 {
            if trial == 3 {
                // Fresh changes on both sides between kills.
                for issue in h.planeIssues().prefix(5) {
                    try? h.plane.modifyIssue(id: issue["id"]?.stringValue ?? "", fields: ["name": .string("Trial \(trial) \(issue["sequence_id"]?.intValue ?? 0)")])
                }
            }
            let process = try CLI.start(["sync"], environment: h.environment(), in: h.directory)
            try await Task.sleep(nanoseconds: 200_000_000 + rng.next() % 1_200_000_000)
            process.kill9()
            if await process.finish().status != 0 { killed += 1 }
        }
        #expect(killed >= 3, "the kills should land while the sync runs")
        h.plane.setFaults(.none)
        h.odoo.emulator.setFaults(.none)
        try await SyncRobustnessTests.syncUntilQuiet(h)
        try SyncRobustnessTests.checkNoDuplicates(h, "after kill -9")
        let interrupted = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM runs WHERE status = 'running'") }
        #expect((interrupted ?? 0) >= 1, "killed runs stay visible as running")
    }

    @Test func moreItemsThanOneRateWindowAllowsAllArrive() async throws {
        // 40 requests per 3 s. A machine busy with the rest of the suite can send so slowly that
        // no window fills, so two of the answers are the throttle's 429 (with Retry-After) in
        // any case: the run must wait those out too, not fail.
        let h = try await SyncHarness.start(rateLimit: 40, window: 3)
        defer { Task { await h.stop() } }
        h.plane.setFaults(PlaneFaultPlan(rate: 0.1, kinds: [.rateLimited(retryAfter: 1)], seed: 5, maxFaults: 2))
        let report = try await h.sync()
        #expect(report["failed"]?.intValue == 0)
        #expect((report["plane_rate_limit_wait_seconds"]?.doubleValue ?? 0) > 0, "the run should have waited out the 429s: \(report)")
        #expect(h.plane.requestCount() > 80)
        try SyncRobustnessTests.checkNoDuplicates(h, "under the rate limit")
    }

    /// Seeded, reproducible: interleaved edits on both sides and injected faults, then sync until
    /// quiet; both sides agree under latest_wins, and nothing is lost or duplicated.
    @Test(arguments: [UInt64(11), 29])
    func randomEditsAndFaultsConverge(seed: UInt64) async throws {
        let h = try await SyncHarness.start()
        defer { Task { await h.stop() } }
        try await h.sync()
        var rng = SplitMix64(seed: seed)
        let priorities = ["urgent", "high", "medium", "low", "none"]
        var created: [String] = []
        for round in 0..<3 {
            let pairs = try h.pairs("issue:project.task")
            for step in 0..<12 {
                let pair = pairs[Int(rng.next() % UInt64(pairs.count))]
                switch rng.next() % 6 {
                case 0: try? h.plane.modifyIssue(id: pair.plane, fields: ["name": .string("P\(seed)-\(round)-\(step)")])
                case 1: try? h.plane.modifyIssue(id: pair.plane, fields: ["priority": .string(priorities[Int(rng.next() % 5)])])
                case 2: _ = h.odoo.emulator.modify(model: "project.task", id: pair.odoo, values: ["name": .string("O\(seed)-\(round)-\(step)")])
                case 3: _ = h.odoo.emulator.modify(model: "project.task", id: pair.odoo, values: ["priority": .string(String(rng.next() % 4))])
                case 4:
                    let project = try #require(h.plane.projectID(identifier: "MOB"))
                    let name = "New in Plane \(seed)-\(round)-\(step)"
                    _ = try h.plane.createIssue(projectID: project, fields: ["name": .string(name)])
                    created.append(name)
                default:
                    let project = try #require(try h.pairs("project:project.project").first?.odoo)
                    let name = "New in Odoo \(seed)-\(round)-\(step)"
                    _ = h.odoo.emulator.create(model: "project.task", values: ["name": .string(name), "project_id": .int(project)])
                    created.append(name)
                }
            }
            try await SyncRobustnessTests.syncUnderFaults(h, seed: seed &+ UInt64(round))
        }
        try await SyncRobustnessTests.retryAndSettle(h)
        try SyncRobustnessTests.checkNoDuplicates(h, "seed \(seed)")

        // Both sides agree on every pair.
        let tasks = Dictionary(try h.odooRecords("project.task").map { ($0["id"] as? Int ?? 0, $0) }, uniquingKeysWith: { a, _ in a })
        for pair in try h.pairs("issue:project.task") {
            let issue = try #require(h.planeIssue(pair.plane))
            let task = try #require(tasks[pair.odoo])
            #expect(issue["name"]?.stringValue == task["name"] as? String, "names differ for \(pair)")
            let wanted = ["urgent": "3", "high": "2", "medium": "1", "low": "0", "none": "0"][issue["priority"]?.stringValue ?? "none"]
            #expect(task["priority"] as? String == wanted, "priorities differ for \(pair): \(issue["priority"]?.stringValue ?? "") vs \(task["priority"] ?? "")")
        }
        // Every item made on one side exists once on the other.
        let planeNames = h.planeIssues().compactMap { $0["name"]?.stringValue }
        let odooNames = try h.odooRecords("project.task").compactMap { $0["name"] as? String }
        for name in created {
            let inPlane = planeNames.filter { $0 == name }.count
            let inOdoo = odooNames.filter { $0 == name }.count
            // A later rename may have replaced the name on both sides; never on one side only.
            #expect(inPlane == inOdoo && inPlane <= 1, "\(name): \(inPlane) in Plane, \(inOdoo) in Odoo")
        }
    }
}
