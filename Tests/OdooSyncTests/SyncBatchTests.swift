import Foundation
import GRDB
import Logging
import OdooClient
@testable import OdooEmulator
import OdooSyncCore
@testable import OdooSyncEngine
import OdooSyncMirror
import Testing

/// Odoo creates go in batched loads, and what a batch wrote is read back as the pull reads it.
@Suite struct SyncBatchTests {
    /// Three tasks queued for one load; Odoo refuses the one without a name (a required field).
    @Test func aRowOdooRefusesFailsAloneWhileTheOthersAreCreatedOnceAndReadBackAsThePullReadsThem() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let mirror = try Mirror(path: h.dbPath)
        let runID = try mirror.startRun(job: "test", system: "custom")
        let settings = OdooSettings(url: try #require(URL(string: "http://127.0.0.1:\(h.port)")), database: "odoosync_demo",
                                    username: "admin", apiKey: EmulatorHarness.apiKey)
        let odoo = OdooClient(settings: settings, logger: Logger(label: "test"))
        let names = ["Batch A", "", "Batch C"]
        try mirror.write { db in
            var queue = SyncEngine.QueueWriter()
            for (index, name) in names.enumerated() {
                let fields: [String: JSONValue] = ["name": .string(name)]
                _ = try queue.enqueue(db, SyncEngine.QueueItem(
                    entity: "issue:project.task", operation: "create", sourceSystem: "plane", sourceType: "issue", sourceID: "issue-\(index)",
                    target: "odoo", targetType: "project.task", planeProject: "p", odooProject: 2, key: "odoosync.test_issue_\(index)",
                    fields: fields, sourceValues: fields, priority: 10))
            }
            try queue.finish(db)
        }
        let engine = SyncEngine(mirror: mirror, odoo: odoo, plane: nil, runID: runID, scope: SyncScope(), logger: Logger(label: "test"))
        try await engine.push(dryRun: false)

        #expect(engine.report.entities["issue:project.task"]?.created == 2)
        let tasks = try JSONSerialization.jsonObject(with: h.emulator.recordsJSON(model: "project.task")) as? [[String: Any]] ?? []
        for name in ["Batch A", "Batch C"] {
            #expect(tasks.filter { $0["name"] as? String == name }.count == 1, "\(name) created once")
        }
        let refused = try mirror.read { db in
            try Row.fetchOne(db, sql: "SELECT status, attempts, last_error FROM sync_queue WHERE source_id = 'issue-1'")
        }
        #expect(refused?["status"] as String? == "pending", "retried later")
        #expect(refused?["attempts"] as Int? == 1)
        #expect((refused?["last_error"] as String?)?.isEmpty == false)
        let pairs = try mirror.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_pairs") }
        #expect(pairs == 2)

        // The snapshots stored after the read-back are what a pull reads: it finds them unchanged.
        let puller = try OdooPuller(mirror: mirror, client: odoo, runID: runID, logger: Logger(label: "test"))
        let pulled = try await puller.pullProjects(full: false)
        let taskStats = try #require(pulled.models.first { $0.0 == "project.task" }?.1)
        #expect(taskStats.unchanged == 2, "\(taskStats)")
        let stale = try mirror.read { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM sync_pairs p JOIN odoo_records o ON o.model = 'project.task' AND o.odoo_id = p.odoo_id
                WHERE p.odoo_hash IS NOT o.data_hash
                """)
        }
        #expect(stale == 0, "the pairs stay settled after the pull")
    }

    /// Calls in flight when the web session expires: one of them logs in again, the others wait
    /// for that login instead of failing (push sends four writes at once).
    @Test func concurrentCallsSurviveOneSessionExpiry() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let settings = OdooSettings(url: try #require(URL(string: "http://127.0.0.1:\(h.port)")), database: "odoosync_demo",
                                    username: "admin", password: "admin", protocolChoice: .session, retryBase: 0.01)
        let odoo = OdooClient(settings: settings, logger: Logger(label: "test"))
        try await odoo.connect()
        h.emulator.expireSessions()
        // Slow answers, so that every call is sent before the first expiry comes back.
        h.emulator.setFaults(FaultPlan(rate: 1, kinds: [.latency(milliseconds: 100)], onlyPaths: ["/web/dataset/call_kw"]))
        let answers: [Result<JSONValue, Error>?] = await SyncEngine.inParallel(Array(1...8), limit: 4, stops: { _ in false }) { id in
            try await odoo.call(OdooCall(model: "crm.stage", method: "search_read", args: [("domain", [["id", "=", .int(id)]])],
                                         kwargs: [("fields", ["name"])]))
        }
        for (index, answer) in answers.enumerated() {
            switch answer {
            case .success(let rows)?: #expect(rows.arrayValue?.first?["id"]?.intValue == index + 1)
            case .failure(let error)?: Issue.record("call \(index + 1) failed: \(error)")
            case nil: Issue.record("call \(index + 1) was not sent")
            }
        }
        #expect(await odoo.api == .session)
    }

    /// Detection queues changes of both sides interleaved; push takes each priority's items of
    /// one side and model together (so Odoo's form one batch), in queue order within the group.
    @Test func dueItemsAreGroupedBySideWithinAPriorityKeepingEachRecordsOrder() {
        func item(_ target: String, _ id: String, priority: Int = 10, operation: String = "update") -> (queueID: String, item: SyncEngine.QueueItem) {
            (queueID: "\(target)-\(id)-\(operation)", item: SyncEngine.QueueItem(
                entity: "issue:project.task", operation: operation, sourceSystem: target == "odoo" ? "plane" : "odoo",
                sourceType: "x", sourceID: id, target: target, targetType: target == "odoo" ? "project.task" : "issue", targetID: id,
                fields: [:], sourceValues: [:], priority: priority))
        }
        let due = [item("odoo", "1"), item("plane", "a"), item("odoo", "2"), item("plane", "b"), item("odoo", "1", operation: "archive"),
                   item("plane", "p", priority: 30), item("odoo", "3")]
        let order = SyncEngine.grouped(due).map(\.queueID)
        #expect(order == ["plane-p-update", "odoo-1-update", "odoo-2-update", "odoo-1-archive", "odoo-3-update", "plane-a-update", "plane-b-update"])
    }

    @Test func loadRowsShareTheirColumnsAndLeadWithTheExternalIdentifier() {
        let call = SyncEngine.loadCall(model: "project.task", rows: [
            ("odoosync.a", [("name", "A"), ("stage_id", 3), ("description", false)]),
            ("odoosync.b", [("name", "B"), ("stage_id", 4), ("description", "<p>x</p>")]),
        ])
        #expect(SyncEngine.describe(call)
                == #"odoo project.task.load fields=["id","name","stage_id/.id","description"] data=[["odoosync.a","A","3",""],["odoosync.b","B","4","<p>x</p>"]]"#)
    }
}
