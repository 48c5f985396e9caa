import Foundation
import GRDB
import Testing
@testable import OdooEmulator
@testable import OdooSyncCore

/// The user story end to end: the real binary against the emulator over loopback HTTP.
@Suite(.serialized) struct CycleTests {
    @Test func pullEditPushRepull() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }

        let pull = try await h.run(["pull", "odoo", "--json"])
        #expect(pull.status == 0, "\(pull.output)")
        let report = try JSONValue.parse(pull.stdout)
        let remote = try h.emulatorLeads()
        #expect(report["models"]?["crm.lead"]?["created"]?.intValue == remote.count)
        #expect(report["models"]?["crm.stage"]?["created"]?.intValue == 20)
        #expect(try h.mirrorLeads().count == remote.count)

        // Leads projection: one row per crm.lead, keyed as the ERP keys them.
        let (leadCount, distinct, archived, unmapped) = try h.query { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM leads") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(DISTINCT source_email_id) FROM leads WHERE source_email_id = 'odoo_crm_' || odoo_id") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE active = 0") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE stage IS NULL") ?? 0)
        }
        #expect(leadCount == remote.count)
        #expect(distinct == remote.count)
        #expect(archived == remote.values.filter { !$0.1 }.count)
        #expect(unmapped == 0)

        // Edit a lead offline, by its source_email_id.
        let target = try #require(remote.keys.sorted().first { remote[$0]?.1 == true })
        let edit = try await h.run(["leads", "edit", "odoo_crm_\(target)", "--stage", "won", "--probability", "100", "--revenue", "125000",
                              "--deadline", "2026-12-31"])
        #expect(edit.status == 0, "\(edit.output)")

        let dry = try await h.run(["push", "--dry-run"])
        #expect(dry.status == 0, "\(dry.output)")
        #expect(dry.stdout.contains("/json/2/crm.lead/write"))
        #expect(dry.stdout.contains("\"expected_revenue\":125000.0"))
        #expect(!dry.stdout.contains(EmulatorHarness.apiKey))
        #expect(h.emulator.writes().isEmpty, "--dry-run must not write")

        let push = try await h.run(["push", "--json"])
        #expect(push.status == 0, "\(push.output)")
        #expect(try JSONValue.parse(push.stdout)["pushed"]?.intValue == 1)
        let writes = h.emulator.writes().filter { $0.method == "write" && $0.model == "crm.lead" }
        #expect(writes.count == 1)
        #expect(writes.first?.ids == [target])

        // What Odoo now holds: the won stage, our numbers.
        let lead = try #require(try h.emulatorRecord("crm.lead", target))
        #expect((lead["stage_id"] as? [Any])?.last as? String == "Won")
        #expect(lead["expected_revenue"] as? Double == 125000)
        #expect(lead["date_deadline"] as? String == "2026-12-31")

        // Re-pull: the pushed lead comes back as it is, nothing else moved.
        let repull = try await h.run(["pull", "odoo", "--json"])
        #expect(repull.status == 0, "\(repull.output)")
        let again = try JSONValue.parse(repull.stdout)
        #expect(again["models"]?["crm.lead"]?["created"]?.intValue == 0)
        #expect(again["models"]?["crm.lead"]?["updated"]?.intValue == 0)
        let row = try h.query { db in
            try Row.fetchOne(db, sql: "SELECT stage, probability, expected_value, expected_close_date FROM leads WHERE odoo_id = ?", arguments: [target])
        }
        #expect(row?[0] == "won")
        #expect(row?[1] == 100.0)
        #expect(row?[2] == 125000.0)
        #expect(row?[3] == "2026-12-31")
        let pending = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM local_edits WHERE status = 'pending'") }
        #expect(pending == 0)

        let status = try await h.run(["status", "--json"])
        #expect(status.status == 0)
        #expect(try JSONValue.parse(status.stdout)["leads"]?["total"]?.intValue == remote.count)
        let journal = try h.query { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0, try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_log") ?? 0)
        }
        #expect(journal.0 > 0 && journal.1 > 0)
        let json = try h.query { db in (try MirrorJSON.invalid(db), try MirrorJSON.checked(db)) }
        #expect(json.0.isEmpty, "\(json.0)")
        #expect(json.1 > remote.count * 2)
    }

    @Test func aColleaguesChangeBecomesAConflict() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let target = try #require(try h.emulatorLeads().filter { $0.value.1 }.keys.sorted().first)

        #expect(try await h.run(["leads", "edit", String(target), "--probability", "35"]).status == 0)
        // A colleague changes the same lead in Odoo meanwhile.
        try await Task.sleep(nanoseconds: 1_100_000_000)
        h.emulator.modify(model: "crm.lead", id: target, values: ["probability": .double(80)])

        let push = try await h.run(["push", "--json"])
        #expect(push.status == 0, "\(push.output)")
        #expect(try JSONValue.parse(push.stdout)["conflicts"]?.intValue == 1)
        #expect(h.emulator.writes().filter { $0.method == "write" }.isEmpty, "the colleague's change must not be overwritten")

        let list = try await h.run(["conflicts", "--json"])
        let conflicts = try #require(try JSONValue.parse(list.stdout).arrayValue)
        #expect(conflicts.count == 1)
        let conflictID = try #require(conflicts.first?["id"]?.intValue)

        // A pull keeps the local edit (skipped), and the conflict stays open.
        let pull = try await h.run(["pull", "odoo", "--json"])
        #expect(try JSONValue.parse(pull.stdout)["models"]?["crm.lead"]?["skipped"]?.intValue == 1)
        let local = try h.query { db in try Double.fetchOne(db, sql: "SELECT probability FROM leads WHERE odoo_id = ?", arguments: [target]) }
        #expect(local == 35)

        // Keep ours: the next push writes over Odoo's change.
        #expect(try await h.run(["conflicts", "resolve", String(conflictID), "--keep", "local"]).status == 0)
        let second = try await h.run(["push", "--json"])
        #expect(try JSONValue.parse(second.stdout)["pushed"]?.intValue == 1, "\(second.output)")
        let record = try #require(try h.emulatorRecord("crm.lead", target))
        #expect(record["probability"] as? Double == 35)
    }

    /// The write reaches Odoo but its answer is lost: the retry must neither fail nor see our own
    /// write as a colleague's change.
    @Test(arguments: ["json2", "jsonrpc"])
    func aLostAnswerToAWriteIsRetriedSafely(_ choice: String) async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"], protocol: choice).status == 0)
        let target = try #require(try h.emulatorLeads().filter { $0.value.1 }.keys.sorted().dropFirst(5).first)
        #expect(try await h.run(["leads", "edit", String(target), "--revenue", "77000"], protocol: choice).status == 0)
        let path = choice == "json2" ? "/json/2/crm.lead/write" : "/jsonrpc"
        // jsonrpc: the login, the read and then the write are requests 1-3 on /jsonrpc.
        h.emulator.setFaults(.once(.dropAfterApply, afterRequests: choice == "json2" ? 0 : 2, onlyPaths: [path]))
        let push = try await h.run(["push", "--json"], protocol: choice)
        #expect(push.status == 0, "\(push.output)")
        let report = try JSONValue.parse(push.stdout)
        #expect(report["pushed"]?.intValue == 1)
        #expect(report["conflicts"]?.intValue == 0)
        let writes = h.emulator.writes().filter { $0.method == "write" && $0.ids == [target] }
        #expect(writes.count == 2, "the first write was applied, its answer lost, and it was sent again")
        #expect(try h.emulatorRecord("crm.lead", target)?["expected_revenue"] as? Double == 77000)
        let open = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM conflicts") }
        #expect(open == 0)
    }

    /// A push that dies after Odoo applied its write (here: the answer is lost and no retry is
    /// allowed) leaves the edit pending; the next push finds Odoo already holds it.
    @Test func aPushThatDiedAfterTheWriteIsCompletedNextTime() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let target = try #require(try h.emulatorLeads().filter { $0.value.1 }.keys.sorted().dropFirst(7).first)
        #expect(try await h.run(["leads", "edit", String(target), "--probability", "66"]).status == 0)
        h.emulator.setFaults(.once(.dropAfterApply, onlyPaths: ["/json/2/crm.lead/write"]))
        let first = try await h.run(["push"], extra: ["ODOOSYNC_RETRIES": "1"])
        #expect(first.status == 3, "\(first.output)")
        #expect(try h.emulatorRecord("crm.lead", target)?["probability"] as? Double == 66)
        let pending = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM local_edits WHERE status = 'pending'") }
        #expect(pending == 1)

        let second = try await h.run(["push", "--json"])
        #expect(second.status == 0, "\(second.output)")
        let report = try JSONValue.parse(second.stdout)
        #expect(report["pushed"]?.intValue == 1 && report["already_applied"]?.intValue == 1 && report["conflicts"]?.intValue == 0)
        #expect(h.emulator.writes().filter { $0.method == "write" }.count == 1, "nothing is written twice")
    }

    /// `leads edit` does not wait for a running pull; the pull must still leave that edit alone.
    @Test func anEditMadeDuringAPullIsNotOverwritten() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        h.emulator.generateLeads(count: 3000, seed: 3)
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        #expect(try await h.run(["config", "set", "pull.page_size", "100"]).status == 0)
        // Odoo changes many leads; the target last, so the next pull reaches it last.
        let ids = try h.emulatorLeads().filter { $0.value.1 }.keys.sorted()
        let target = try #require(ids.last)
        try await Task.sleep(nanoseconds: 1_100_000_000)
        for id in ids.prefix(2000) { h.emulator.modify(model: "crm.lead", id: id, values: ["color": 3]) }
        h.emulator.modify(model: "crm.lead", id: target, values: ["probability": 91.0])
        h.emulator.setFaults(FaultPlan(rate: 1, kinds: [.latency(milliseconds: 40)], seed: 1))

        let pull = try CLI.start(["pull", "odoo"], environment: h.environment(), in: h.directory)
        try await Task.sleep(nanoseconds: 400_000_000)
        let edit = try await h.run(["leads", "edit", String(target), "--probability", "13"])
        #expect(edit.status == 0, "\(edit.output)")
        let result = await pull.finish()
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("changed both here and in Odoo"), "the pull should have reached the lead after the edit: \(result.stdout)")

        let local = try h.query { db in try Double.fetchOne(db, sql: "SELECT probability FROM leads WHERE odoo_id = ?", arguments: [target]) }
        #expect(local == 13)
        let conflicts = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM conflicts WHERE status = 'open'") }
        #expect(conflicts == 1)
    }

    /// Deletion detection walks the ids in slices (20 pages' worth); deletes on either side of
    /// a slice boundary, and after the last full slice, must all be found. When the counts say
    /// nothing was deleted, the walk is skipped.
    @Test func deletesAreFoundAcrossIDSlices() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["config", "set", "pull.page_size", "5"]).status == 0)  // slices of 100 ids
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let searchesBefore = h.emulator.requestCount(model: "crm.lead", method: "search")
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        #expect(h.emulator.requestCount(model: "crm.lead", method: "search") == searchesBefore,
                "an unchanged re-pull should not walk the ids")
        let ids = try h.emulatorLeads().keys.sorted()
        try #require(ids.count > 250)
        let doomed = [ids[0], ids[99], ids[100], ids[101], ids[199], ids[ids.count - 1]]
        for id in doomed { #expect(h.emulator.delete(model: "crm.lead", id: id)) }

        let pull = try await h.run(["pull", "odoo", "--json"])
        #expect(pull.status == 0, "\(pull.output)")
        let leads = try JSONValue.parse(pull.stdout)["models"]?["crm.lead"]
        #expect(leads?["deleted"]?.intValue == doomed.count, "\(pull.stdout)")
        #expect(Set(try h.mirrorLeads().keys) == Set(try h.emulatorLeads().keys))
        let marked = try h.query { db in
            try Int.fetchAll(db, sql: "SELECT odoo_id FROM leads WHERE deleted_at IS NOT NULL ORDER BY odoo_id")
        }
        #expect(marked == doomed.sorted())

        // The tombstones count as gone: the next incremental pull's counts agree without a walk,
        // and a full pull, which always walks, finds nothing new to mark.
        let searchesAfter = h.emulator.requestCount(model: "crm.lead", method: "search")
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        #expect(h.emulator.requestCount(model: "crm.lead", method: "search") == searchesAfter,
                "deleted leads must not count as live ones")
        let full = try await h.run(["pull", "odoo", "--full", "--json"])
        #expect(full.status == 0, "\(full.output)")
        #expect(try JSONValue.parse(full.stdout)["models"]?["crm.lead"]?["deleted"]?.intValue == 0, "\(full.stdout)")
        #expect(h.emulator.requestCount(model: "crm.lead", method: "search") > searchesAfter)
        let events = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE event_type = 'record_deleted'") }
        #expect(events == doomed.count)
    }

    /// One write that touched more leads than a page holds gives them all one write_date
    /// second. The pull finishes that second by id, leaving out the records the page already
    /// brought: every changed lead is read once, besides the overlap window's own records.
    @Test func aBulkWriteIsReadOnce() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        #expect(try await h.run(["config", "set", "pull.page_size", "100"]).status == 0)
        let ids = try h.emulatorLeads().keys.sorted()
        try #require(ids.count > 250)
        let changed = Array(ids.prefix(250))
        // Records the overlap window re-reads anyway: within 300 s of the cursor, not changed now.
        let overlap = try h.query { db in
            try Int.fetchAll(db, sql: """
                SELECT odoo_id FROM odoo_records WHERE model = 'crm.lead'
                  AND write_date >= datetime((SELECT write_date FROM pull_cursors WHERE source = 'odoo' AND model = 'crm.lead'), '-300 seconds')
                """)
        }
        let expectedUnchanged = Set(overlap).subtracting(changed).count
        let stamp = Date()
        h.emulator.setClock { stamp }
        for id in changed { #expect(h.emulator.modify(model: "crm.lead", id: id, values: ["probability": .double(17)])) }
        h.emulator.setClock(nil)

        let servedBefore = h.emulator.recordsServed(model: "crm.lead")
        let pull = try await h.run(["pull", "odoo", "--json"])
        #expect(pull.status == 0, "\(pull.output)")
        let leads = try JSONValue.parse(pull.stdout)["models"]?["crm.lead"]
        #expect(leads?["updated"]?.intValue == changed.count, "\(pull.stdout)")
        #expect(leads?["unchanged"]?.intValue == expectedUnchanged, "\(pull.stdout)")
        #expect(h.emulator.recordsServed(model: "crm.lead") - servedBefore == changed.count + expectedUnchanged,
                "every changed lead once, and the overlap's own records")
        let stale = try h.query { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE odoo_id IN (\(changed.map(String.init).joined(separator: ","))) AND probability IS NOT 17")
        }
        #expect(stale == 0)
    }

    /// Odoo 16's project.task has neither `state` nor `allocated_hours` (both came with 17).
    /// The pull asks `fields_get` what the model has and reads its tasks without those two,
    /// instead of leaving the model out.
    @Test func tasksWithoutSeventeensFieldsArePulledWithout() async throws {
        let fixtures = try TestPaths.temporaryDirectory().appendingPathComponent("odoo")
        try FileManager.default.copyItem(at: TestPaths.fixtures, to: fixtures)
        let missing: Set<String> = ["state", "allocated_hours"]
        for file in ["project.task.json", "fields/project.task.json"] {
            let url = fixtures.appendingPathComponent(file)
            let stripped: EmulatorJSON
            switch try EmulatorJSON.parse(Data(contentsOf: url)) {
            case .array(let records):
                stripped = .array(records.map { record in
                    guard case .object(let pairs) = record else { return record }
                    return .object(pairs.filter { !missing.contains($0.0) })
                })
            case .object(let pairs):
                stripped = .object(pairs.filter { !missing.contains($0.0) })
            default:
                Issue.record("unexpected fixture shape in \(file)")
                return
            }
            try stripped.serializedData.write(to: url)
        }
        let h = try await EmulatorHarness.start(fixtures: fixtures) { $0.serverVersion = "16.0" }
        defer { Task { await h.stop() } }
        let tasks = h.emulator.recordCount(model: "project.task")
        try #require(tasks > 0)
        let pull = try await h.run(["pull", "odoo", "--json"])
        #expect(pull.status == 0, "\(pull.output)")
        let report = try JSONValue.parse(pull.stdout)
        #expect(report["skipped_models"]?.arrayValue?.contains("project.task") == false, "\(pull.stdout)")
        #expect(report["models"]?["project.task"]?["created"]?.intValue == tasks, "\(pull.stdout)")
        let snapshot = try #require(try h.query { db in
            try String.fetchOne(db, sql: "SELECT data FROM odoo_records WHERE model = 'project.task' ORDER BY odoo_id LIMIT 1")
        })
        let keys = Set(try JSONValue.parse(snapshot).objectValue?.map(\.0) ?? [])
        #expect(keys.contains("name") && keys.contains("stage_id") && keys.isDisjoint(with: missing), "\(keys.sorted())")
        #expect(h.emulator.requestCount(model: "project.task", method: "fields_get") == 1)
    }

    @Test func keepOdooDropsTheLocalEdit() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let target = try #require(try h.emulatorLeads().filter { $0.value.1 }.keys.sorted().dropFirst(3).first)
        #expect(try await h.run(["leads", "edit", String(target), "--stage", "lost"]).status == 0)
        try await Task.sleep(nanoseconds: 1_100_000_000)
        h.emulator.modify(model: "crm.lead", id: target, values: ["probability": .double(12)])
        // Here the pull finds the conflict before any push.
        let pull = try await h.run(["pull", "odoo", "--json"])
        #expect(try JSONValue.parse(pull.stdout)["conflicts"]?.intValue == 1, "\(pull.output)")
        let id = try #require(try JSONValue.parse(try await h.run(["conflicts", "--json"]).stdout).arrayValue?.first?["id"]?.intValue)
        #expect(try await h.run(["conflicts", "resolve", String(id), "--keep", "odoo"]).status == 0)
        let row = try h.query { db in try Row.fetchOne(db, sql: "SELECT probability, stage FROM leads WHERE odoo_id = ?", arguments: [target]) }
        #expect(row?[0] == 12.0)
        #expect(row?[1] != "lost")
        let push = try await h.run(["push"])
        #expect(push.stdout.contains("Nothing to push"))
    }

    @Test(arguments: [("json2", true, false), ("jsonrpc", true, false), ("jsonrpc", false, true), ("session", false, true), ("auto", true, false)])
    func everyWayIn(_ choice: String, _ useKey: Bool, _ usePassword: Bool) async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let result = try await h.run(["pull", "odoo", "--json"], protocol: choice, apiKey: useKey ? EmulatorHarness.apiKey : nil,
                               password: usePassword ? "admin" : nil)
        #expect(result.status == 0, "\(choice): \(result.output)")
        let report = try JSONValue.parse(result.stdout)
        #expect(report["api"]?.stringValue == (choice == "auto" ? "json2" : choice))
        #expect(report["models"]?["crm.lead"]?["created"]?.intValue == (try h.emulatorLeads().count))
    }

    @Test func autoFallsBackToJSONRPCBeforeOdoo19() async throws {
        let h = try await EmulatorHarness.start { $0.serverVersion = "17.0" }
        defer { Task { await h.stop() } }
        let auto = try await h.run(["pull", "odoo", "--json"])
        #expect(auto.status == 0, "\(auto.output)")
        #expect(try JSONValue.parse(auto.stdout)["api"]?.stringValue == "jsonrpc")
        let forced = try await h.run(["pull", "odoo"], protocol: "json2")
        #expect(forced.status == 3 && forced.stderr.contains("JSON-2 needs Odoo 19"), "\(forced.output)")
    }

    @Test(arguments: ["json2", "jsonrpc", "session"])
    func wrongCredentialsExit3AndWriteNothing(_ choice: String) async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let result = try await h.run(["pull", "odoo"], protocol: choice, apiKey: choice == "session" ? nil : "wrong-key-0000",
                               password: choice == "session" ? "wrong-password" : nil)
        #expect(result.status == 3, "\(result.output)")
        #expect(result.stderr.contains("refused the login"), "\(result.stderr)")
        #expect(!result.output.contains("wrong-key-0000") && !result.output.contains("wrong-password"))
        let leads = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM leads") }
        #expect(leads == 0)
    }

    @Test func unknownDatabaseIsNamed() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        for choice in ["json2", "jsonrpc"] {
            let result = try await h.run(["pull", "odoo"], protocol: choice, extra: ["ODOO_DATABASE": "nodb"])
            #expect(result.status == 3, "\(choice): \(result.output)")
            #expect(result.stderr.contains("no database named `nodb`"), "\(choice): \(result.stderr)")
        }
    }
}
