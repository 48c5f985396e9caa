import Foundation
import GRDB
import Testing
@testable import OdooEmulator
@testable import OdooSyncCore
import OdooSyncServe

/// What happens around a delivery's processing: kill -9, restart, SIGTERM, alerts.
@Suite(.serialized) struct ServeLifecycleTests {
    /// A delivery acknowledged just before kill -9 is processed after the restart, and only once.
    @Test func aDeliveryAcknowledgedBeforeKill9IsProcessedOnceAfterRestart() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let lead = try #require(try h.emulatorLeads().filter { $0.value.1 }.keys.sorted().first)
        try await Task.sleep(nanoseconds: 1_100_000_000)
        #expect(h.emulator.modify(model: "crm.lead", id: lead, values: ["probability": .double(64)]))
        // Odoo answers slowly, so the worker is still inside its pull when the kill lands.
        h.emulator.setFaults(FaultPlan(rate: 1, kinds: [.latency(milliseconds: 3000)]))
        let serve = try await ServeProcess.start(h)
        let requestsBefore = h.emulator.requestCount()
        let id = "kill9-\(UUID().uuidString)"
        let body = Deliveries.odoo(deliveryID: id, recordID: lead)
        let answer = try await HTTP.send("POST", serve.base + "/webhooks/odoo", headers: Deliveries.odooHeaders(body, deliveryID: id), body: body)
        #expect(answer.status == 200, "\(answer.text)")
        try await waitUntil("the worker has asked Odoo") { h.emulator.requestCount() > requestsBefore }
        let killed = await serve.kill9()
        #expect(killed.status != 0)

        let afterKill = try h.query { db in
            try Row.fetchOne(db, sql: "SELECT status, processed_at FROM webhook_deliveries WHERE delivery_id = ?", arguments: [id])
        }
        #expect(afterKill?[0] == "received", "acknowledged means stored, even though it was never processed")
        #expect(try h.query { db in try Double.fetchOne(db, sql: "SELECT probability FROM leads WHERE odoo_id = ?", arguments: [lead]) } != 64)

        h.emulator.setFaults(.none)
        let restarted = try await ServeProcess.start(h)
        try await waitUntil("the stored delivery is processed after the restart") {
            try h.query { db in try String.fetchOne(db, sql: "SELECT status FROM webhook_deliveries WHERE delivery_id = ?", arguments: [id]) } == "processed"
        }
        #expect(try h.query { db in try Double.fetchOne(db, sql: "SELECT probability FROM leads WHERE odoo_id = ?", arguments: [lead]) } == 64)
        // A later delivery is processed after it (arrival order), and the first is not processed again.
        let next = "after-\(UUID().uuidString)"
        let nextBody = Deliveries.odoo(deliveryID: next, recordID: lead)
        #expect(try await HTTP.send("POST", restarted.base + "/webhooks/odoo", headers: Deliveries.odooHeaders(nextBody, deliveryID: next), body: nextBody).status == 200)
        try await waitUntil("the next delivery is processed") {
            try h.query { db in try String.fetchOne(db, sql: "SELECT status FROM webhook_deliveries WHERE delivery_id = ?", arguments: [next]) } == "processed"
        }
        let stopped = await restarted.stop()
        #expect(stopped.status == 0, "\(stopped.output)")
        let processedMarks = try h.query { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM events, json_each(events.metadata, '$.delivery_ids') AS d
                WHERE event_type = 'webhook_processed' AND d.value = ?
                """, arguments: [id])
        }
        #expect(processedMarks == 1)
    }

    /// SIGTERM while a sync request is in flight: the request completes, then serve exits 0 and
    /// accepts nothing more.
    @Test func sigtermFinishesTheRequestInFlightThenExitsZero() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let serve = try await ServeProcess.start(h)
        h.emulator.setFaults(FaultPlan(rate: 1, kinds: [.latency(milliseconds: 300)]))
        let before = h.emulator.requestCount()
        let inFlight = Task {
            try await HTTP.send("POST", serve.base + "/?action=sync", headers: ["Authorization": "Bearer \(ServeProcess.token)"])
        }
        try await waitUntil("the sync has reached Odoo") { h.emulator.requestCount() > before }
        kill(serve.running.process.processIdentifier, SIGTERM)
        let answer = try await inFlight.value
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.json["ok"] == .bool(true), "\(answer.text)")
        let stopped = await serve.running.finish()
        #expect(stopped.status == 0, "\(stopped.output)")
        await #expect(throws: (any Error).self) {
            _ = try await HTTP.send("GET", serve.base + "/healthz")
        }
        let run = try h.query { db in
            try String.fetchOne(db, sql: "SELECT status FROM runs WHERE job_name = 'push odoo' ORDER BY started_at DESC LIMIT 1")
        }
        #expect(run == "success", "the sync's push ran to its end")
    }

    /// SIGTERM while the worker waits on an Odoo that does not answer: serve still exits, 0,
    /// within its shutdown time, says so, and leaves the delivery stored, no attempt counted;
    /// the next start processes it.
    @Test func sigtermWhileTheWorkerHangsExitsWithinTheShutdownTime() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let lead = try #require(try h.emulatorLeads().filter { $0.value.1 }.keys.sorted().first)
        h.emulator.setFaults(FaultPlan(rate: 1, kinds: [.latency(milliseconds: 600_000)]))
        let env = ServeProcess.defaultEnvironment(h, extra: ["ODOOSYNC_SERVE_SHUTDOWN_SECONDS": "1"])
        let serve = try await ServeProcess.start(h, environment: env)
        let before = h.emulator.requestCount()
        let id = "hung-\(UUID().uuidString)"
        let body = Deliveries.odoo(deliveryID: id, recordID: lead)
        #expect(try await HTTP.send("POST", serve.base + "/webhooks/odoo", headers: Deliveries.odooHeaders(body, deliveryID: id), body: body).status == 200)
        try await waitUntil("the worker is waiting on Odoo") { h.emulator.requestCount() > before }

        // A bound for failure: without a deadline serve waits on Odoo for its 60 s timeout, five times.
        let (stopped, seconds) = await Self.terminate(serve.running, killAfter: 30)
        #expect(seconds < 15, "serve took \(Int(seconds)) s to stop")
        #expect(stopped.status == 0, "\(stopped.output)")
        #expect(stopped.stderr.contains("took longer than 1 s"), "\(stopped.stderr)")
        let row = try h.query { db in
            try Row.fetchOne(db, sql: "SELECT status, attempts FROM webhook_deliveries WHERE delivery_id = ?", arguments: [id])
        }
        #expect(row?[0] == "received", "left stored for the next start")
        #expect(row?[1] == 0, "a shutdown is not the delivery's failed attempt")

        h.emulator.setFaults(.none)
        let restarted = try await ServeProcess.start(h)
        try await waitUntil("the delivery is processed after the restart") {
            try h.query { db in try String.fetchOne(db, sql: "SELECT status FROM webhook_deliveries WHERE delivery_id = ?", arguments: [id]) } == "processed"
        }
        #expect(await restarted.stop().status == 0)
    }

    /// Work that ignores cancellation (here a request waiting for a write lock another process
    /// holds, with a two-minute busy timeout) does not keep serve alive either: it exits 0 a
    /// few seconds after its shutdown time and says why; the request was never acknowledged.
    @Test func sigtermWithARequestThatCannotBeCancelledStillExits() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let env = ServeProcess.defaultEnvironment(h, extra: ["ODOOSYNC_SERVE_SHUTDOWN_SECONDS": "1", "ODOOSYNC_BUSY_TIMEOUT": "120"])
        let serve = try await ServeProcess.start(h, environment: env)
        // Another process's write transaction, held longer than serve's shutdown may take.
        let holder = try DatabaseQueue(path: h.dbPath)
        let locked = DispatchSemaphore(value: 0)
        let released = DispatchSemaphore(value: 0)
        Thread {
            _ = try? holder.write { db in
                try db.execute(sql: "INSERT INTO settings (key, value) VALUES ('test.lock', 'held')")
                locked.signal()
                Thread.sleep(forTimeInterval: 12)
                throw CancellationError()  // rolled back
            }
            released.signal()
        }.start()
        locked.wait()
        let id = "stuck-\(UUID().uuidString)"
        let body = Deliveries.plane()
        let base = serve.base
        let inFlight = Task {
            try await HTTP.send("POST", base + "/webhooks/plane", headers: Deliveries.planeHeaders(body, deliveryID: id), body: body)
        }
        try await Task.sleep(nanoseconds: 500_000_000)
        let (stopped, seconds) = await Self.terminate(serve.running, killAfter: 60)
        #expect(seconds < 10, "serve took \(Int(seconds)) s to stop")
        #expect(stopped.status == 0, "\(stopped.output)")
        #expect(stopped.stderr.contains("exiting 6 s after the stop signal"), "\(stopped.stderr)")
        #expect((try? await inFlight.value)?.status != 200, "not stored, so not acknowledged")
        await withCheckedContinuation { c in DispatchQueue.global().async { released.wait(); c.resume() } }
        #expect(try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries") } == 0)
    }

    /// A lead whose projection fails in a targeted pull: its delivery stays pending with the
    /// error and is tried again (and processed once the lead can be stored), up to the attempt
    /// limit, after which it is failed with the error kept; the other lead of the same batch is
    /// processed at once.
    @Test func aDeliveryWhoseLeadCannotBeStoredStaysPendingAndIsRetried() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let leads = try h.emulatorLeads().filter { $0.value.1 }.keys.sorted()
        let (healthy, healing, broken) = (leads[0], leads[1], leads[2])
        for (lead, probability) in [(healthy, 11.0), (healing, 22.0), (broken, 33.0)] {
            #expect(h.emulator.modify(model: "crm.lead", id: lead, values: ["probability": .double(probability)]))
        }
        // The mirror refuses to store two of the leads, as a constraint would.
        let writable = try DatabaseQueue(path: h.dbPath)
        try await writable.write { db in
            for lead in [healing, broken] {
                for when in ["INSERT", "UPDATE"] {
                    try db.execute(sql: """
                        CREATE TRIGGER refuse_\(lead)_\(when.lowercased()) BEFORE \(when) ON leads WHEN NEW.odoo_id = \(lead)
                        BEGIN SELECT RAISE(ABORT, 'lead \(lead) refused by the test'); END
                        """)
                }
            }
        }
        let env = ServeProcess.defaultEnvironment(h, extra: ["ODOOSYNC_SERVE_ATTEMPTS": "3"])
        let serve = try await ServeProcess.start(h, environment: env)
        var ids: [Int: String] = [:]
        for lead in [healthy, healing, broken] {
            let id = "lead-\(lead)-\(UUID().uuidString)"
            ids[lead] = id
            let body = Deliveries.odoo(deliveryID: id, recordID: lead)
            #expect(try await HTTP.send("POST", serve.base + "/webhooks/odoo", headers: Deliveries.odooHeaders(body, deliveryID: id), body: body).status == 200)
        }
        func delivery(_ lead: Int) throws -> (status: String, attempts: Int, error: String?) {
            let row = try h.query { db in
                try Row.fetchOne(db, sql: "SELECT status, attempts, last_error FROM webhook_deliveries WHERE delivery_id = ?",
                                 arguments: [ids[lead]])
            }
            return (row?[0] ?? "", row?[1] ?? -1, row?[2])
        }
        try await waitUntil("each lead has had its first attempt") {
            try [healthy, healing, broken].allSatisfy { lead in
                let d = try delivery(lead)
                return d.status != "received" || d.attempts >= 1
            }
        }
        #expect(try delivery(healthy).status == "processed")
        let first = try delivery(healing)
        #expect(first.status == "received", "not processed: its lead is not in the mirror")
        #expect(first.attempts >= 1)
        #expect(first.error?.contains("lead \(healing) refused by the test") == true, "\(first)")

        try await writable.write { db in
            for when in ["insert", "update"] { try db.execute(sql: "DROP TRIGGER refuse_\(healing)_\(when)") }
        }
        try await waitUntil("the healed lead's delivery is processed on a retry") { try delivery(healing).status == "processed" }
        #expect(try h.query { db in try Double.fetchOne(db, sql: "SELECT probability FROM leads WHERE odoo_id = ?", arguments: [healing]) } == 22)
        try await waitUntil("the broken lead's delivery is given up after three attempts") { try delivery(broken).status == "failed" }
        let given = try delivery(broken)
        #expect(given.attempts == 3)
        #expect(given.error?.contains("lead \(broken) refused by the test") == true, "\(given)")
        #expect(await serve.stop().status == 0)
        try writable.close()
    }

    @Test func aFailingPushPostsAnAlertAndACleanOneDoesNot() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let receiver = AlertReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        let alertEnv = ["ODOOSYNC_ALERT_WEBHOOK_URL": receiver.url]
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let leads = try h.emulatorLeads().filter { $0.value.1 }.keys.sorted()

        // Clean: one edit pushed, no alert.
        #expect(try await h.run(["leads", "edit", String(leads[0]), "--probability", "33"]).status == 0)
        let clean = try await h.run(["push"], extra: alertEnv)
        #expect(clean.status == 0, "\(clean.output)")
        #expect(receiver.received.isEmpty)

        // Failing: a pipeline stage no Odoo stage maps to cannot be pushed.
        #expect(try await h.run(["config", "set", "stage", "Nowhere Stage", "nowhere"]).status == 0)
        #expect(try await h.run(["leads", "edit", String(leads[1]), "--stage", "nowhere"]).status == 0)
        let failing = try await h.run(["push"], extra: alertEnv)
        #expect(failing.status == 1, "\(failing.output)")
        #expect(receiver.received.count == 1)
        let text = receiver.received.first?["text"]?.stringValue ?? ""
        #expect(text.contains("push") && text.contains("1 error"), "\(text)")
        #expect(text.contains("odoo_crm_\(leads[1])"), "\(text)")
        #expect(!failing.output.contains(AlertReceiver.secretPath))
        let events = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE event_type = 'alert_sent'") }
        #expect(events == 1)
    }

    /// serve alerts when processing fails; an alert that cannot be delivered fails nothing.
    @Test func serveAlertsWhenProcessingFailsAndAnUndeliverableAlertFailsNothing() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let receiver = AlertReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        // Odoo is down: processing cannot succeed.
        var env = ServeProcess.defaultEnvironment(h, extra: ["ODOOSYNC_ALERT_WEBHOOK_URL": receiver.url, "ODOOSYNC_RETRIES": "1"])
        env["ODOO_URL"] = "http://127.0.0.1:9"
        let serve = try await ServeProcess.start(h, environment: env)
        let id = UUID().uuidString
        let body = Deliveries.plane()
        #expect(try await HTTP.send("POST", serve.base + "/webhooks/plane", headers: Deliveries.planeHeaders(body, deliveryID: id), body: body).status == 200)
        try await waitUntil("an alert arrives") { !receiver.received.isEmpty }
        let text = receiver.received.first?["text"]?.stringValue ?? ""
        #expect(text.contains("serve webhooks"), "\(text)")
        #expect(await serve.stop().status == 0)
        let attempts = try h.query { db in
            try Row.fetchOne(db, sql: "SELECT status, attempts, last_error FROM webhook_deliveries WHERE delivery_id = ?", arguments: [id])
        }
        #expect((attempts?[1] as Int? ?? 0) >= 1, "the failed attempt is counted for a retry")

        // The alert receiver is gone: serve keeps receiving, and says the alert was not delivered.
        await receiver.stop()
        let again = try await ServeProcess.start(h, environment: env)
        let second = UUID().uuidString
        #expect(try await HTTP.send("POST", again.base + "/webhooks/plane", headers: Deliveries.planeHeaders(body, deliveryID: second), body: body).status == 200)
        try await waitUntil("the failed alert is recorded") {
            try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE event_type = 'alert_failed'") ?? 0 } > 0
        }
        let health = try await HTTP.send("GET", again.base + "/healthz")
        #expect(health.status == 200)
        let stopped = await again.stop()
        #expect(stopped.status == 0, "\(stopped.output)")
        #expect(!stopped.output.contains(AlertReceiver.secretPath))
        #expect(stopped.stderr.contains("alert not delivered"))
    }

    /// Another process (here: this test) opening and closing the mirror while serve runs must
    /// not take the write-ahead log away from it: serve's batches once dropped SQLite's file
    /// locks by closing a descriptor of the mirror, and the next outside connection to close
    /// then deleted the log under the server, losing acknowledged deliveries.
    @Test func anotherProcessOpeningTheMirrorLosesNothing() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let lead = try #require(try h.emulatorLeads().keys.sorted().first)
        let serve = try await ServeProcess.start(h)
        // Deliveries keep coming (and batches keep being processed) while a read-write
        // connection, as sqlite3 or any viewer opens, is opened and closed again and again.
        let base = serve.base
        let sender = Task { () -> [String] in
            var ids: [String] = []
            for _ in 0..<300 {
                let id = UUID().uuidString
                let body = Deliveries.odoo(deliveryID: id, recordID: lead)
                let answer = try await HTTP.send("POST", base + "/webhooks/odoo", headers: Deliveries.odooHeaders(body, deliveryID: id), body: body)
                if answer.status == 200 { ids.append(id) }
                try await Task.sleep(nanoseconds: 5_000_000)
            }
            return ids
        }
        var outsideReads = 0
        while outsideReads < 2000 {
            let outside = try DatabaseQueue(path: h.dbPath)
            _ = try await outside.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries") }
            outsideReads += 1
            try await Task.sleep(nanoseconds: 2_000_000)
            if outsideReads % 50 == 0, try h.query({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries") }) ?? 0 >= 300 { break }
        }
        let ids = try await sender.value
        #expect(ids.count == 300)
        try await waitUntil("everything is processed") {
            try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE status = 'received'") } == 0
        }
        let stopped = await serve.stop()
        #expect(stopped.status == 0, "\(stopped.output)")
        let (integrity, stored) = try h.query { db in
            (try String.fetchOne(db, sql: "PRAGMA integrity_check"),
             try Set(String.fetchAll(db, sql: "SELECT delivery_id FROM webhook_deliveries")))
        }
        #expect(integrity == "ok")
        #expect(stored == Set(ids), "every acknowledged delivery is still there")
    }

    /// A delivery that arrives while another process holds the mirror's write lock longer than
    /// the busy timeout is kept waiting, not refused: Plane never retries an error answer, so a
    /// 503 would lose it. Once the lock goes, it is stored and acknowledged. A failure that is
    /// not a lock is answered 503 at once, and so is a locked mirror with no wait allowed
    /// (ODOOSYNC_SERVE_STORE_WAIT_SECONDS=0).
    @Test func aDeliveryArrivingWhileTheMirrorIsLockedIsStoredOnceTheLockGoes() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let lead = try #require(try h.emulatorLeads().keys.sorted().first)

        // serve writes too (its worker, its checkpoints): the test's own connections wait their turn.
        let patient: Configuration = {
            var configuration = Configuration()
            configuration.busyMode = .timeout(30)
            return configuration
        }()
        /// Holds a write transaction on the mirror from another connection until `body` ends.
        func holdingTheLock(_ body: () async throws -> Void) async throws {
            let holder = try DatabaseQueue(path: h.dbPath, configuration: patient)
            let locked = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                try? holder.writeWithoutTransaction { db in
                    try db.execute(sql: "BEGIN IMMEDIATE")
                    locked.signal()
                    release.wait()
                    try db.execute(sql: "COMMIT")
                }
                done.signal()
            }
            locked.wait()
            defer {
                release.signal()
                done.wait()
            }
            try await body()
        }
        func send(_ serve: ServeProcess) async throws -> (status: Int, outcome: String?, seconds: TimeInterval, id: String) {
            let id = UUID().uuidString
            let body = Deliveries.odoo(deliveryID: id, recordID: lead)
            let started = Date()
            let answer = try await HTTP.send("POST", serve.base + "/webhooks/odoo", headers: Deliveries.odooHeaders(body, deliveryID: id), body: body)
            return (answer.status, answer.json["status"]?.stringValue ?? answer.json["reason"]?.stringValue, Date().timeIntervalSince(started), id)
        }
        func stored(_ id: String) throws -> Bool {
            try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE delivery_id = ?", arguments: [id]) } == 1
        }

        let waiting = try await ServeProcess.start(h, environment: ServeProcess.defaultEnvironment(h, extra: ["ODOOSYNC_BUSY_TIMEOUT": "0.5"]))
        var sending: Task<(status: Int, outcome: String?, seconds: TimeInterval, id: String), Error>?
        try await holdingTheLock {
            sending = Task { try await send(waiting) }
            // Six busy timeouts: every store attempt meanwhile fails.
            try await Task.sleep(nanoseconds: 3_000_000_000)
            #expect(waiting.stderrSoFar.contains("cannot store a delivery yet"), "the store was tried and refused while locked")
        }
        let kept = try await #require(sending).value
        #expect(kept.status == 200 && kept.outcome == "stored", "\(kept)")
        #expect(kept.seconds >= 2.5, "answered only after the lock went (\(kept.seconds) s)")
        #expect(try stored(kept.id))
        // A failure a wait would not cure (here a constraint refusing the row) is answered at
        // once: holding every delivery past Plane's timeout would get the webhook switched off.
        let writable = try DatabaseQueue(path: h.dbPath, configuration: patient)
        try await writable.write { db in
            try db.execute(sql: "CREATE TRIGGER refuse_deliveries BEFORE INSERT ON webhook_deliveries BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        }
        let refusedAtOnce = try await send(waiting)
        try await writable.write { db in try db.execute(sql: "DROP TRIGGER refuse_deliveries") }
        #expect(refusedAtOnce.status == 503 && refusedAtOnce.seconds < 10, "\(refusedAtOnce)")
        #expect(await waiting.stop().status == 0)

        let refusing = try await ServeProcess.start(h, environment: ServeProcess.defaultEnvironment(h, extra: [
            "ODOOSYNC_BUSY_TIMEOUT": "0.5", "ODOOSYNC_SERVE_STORE_WAIT_SECONDS": "0"]))
        try await holdingTheLock {
            let refused = try await send(refusing)
            #expect(refused.status == 503 && refused.outcome == "store_failed", "\(refused)")
            #expect(try !stored(refused.id))
        }
        #expect(await refusing.stop().status == 0)
    }

    /// SIGTERM, then the process's exit and how long it took from the signal; a process still
    /// running `killAfter` seconds later is killed, so that a failure cannot hang the run.
    private static func terminate(_ running: CLI.Running, killAfter: TimeInterval) async -> (ProcessResult, TimeInterval) {
        let signalled = Date()
        kill(running.process.processIdentifier, SIGTERM)
        let stopped = await running.finish(timeout: killAfter)
        return (stopped, Date().timeIntervalSince(signalled))
    }
}
