import Foundation
import GRDB
import Testing
@testable import OdooEmulator
@testable import OdooSyncCore

/// The smaller commands, through the real binary.
@Suite(.serialized) struct CommandTests {
    @Test func helpAndUsageErrors() async throws {
        let help = try await CLI.run(["--help"])
        #expect(help.status == 0 && help.stdout.contains("SUBCOMMANDS") && help.stdout.contains("pull"), "\(help.output)")
        let sub = try await CLI.run(["help", "leads"])
        #expect(sub.status == 0 && sub.stdout.contains("odoosync leads"), "\(sub.output)")
        let typo = try await CLI.run(["pul"])
        #expect(typo.status == 2 && typo.stderr.contains("pul"), "\(typo.output)")
        let badSource = try await CLI.run(["pull", "plane2"])
        #expect(badSource.status == 2, "\(badSource.output)")
    }

    @Test func sqlResolvesSupabaseNamesAndStaysReadOnly() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let count = try await h.run(["sql", "select count(*) as n from public.leads where source = 'odoo_sync'", "--json"])
        #expect(count.status == 0, "\(count.output)")
        #expect(try JSONValue.parse(count.stdout).arrayValue?.first?["n"]?.intValue == (try h.emulatorLeads().count))
        let events = try await h.run(["sql", "select count(*) as n from ops.events e join ops.runs r on r.id = e.run_id", "--csv"])
        #expect(events.status == 0 && events.stdout.hasPrefix("n\n"), "\(events.output)")
        let views = try await h.run(["sql", "select * from plane.v_sync_stats"])
        #expect(views.status == 0, "\(views.output)")

        let write = try await h.run(["sql", "delete from leads"])
        #expect(write.status == 2)
        #expect(write.stderr.contains("read-only"))
        let left = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM leads") }
        #expect(left == (try h.emulatorLeads().count))
        let bad = try await h.run(["sql", "select nope from leads"])
        #expect(bad.status == 2 && bad.stderr.contains("no such column"), "\(bad.output)")
    }

    @Test func anUnmappedStageIsReportedAndMappedLater() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        // Someone renames a stage in Odoo to a name the map does not know.
        #expect(h.emulator.modify(model: "crm.stage", id: 9, values: ["name": "Site Visit"]))
        let pull = try await h.run(["pull", "odoo"])
        #expect(pull.status == 0, "\(pull.output)")
        #expect(pull.stdout.contains("Unmapped Odoo stage \"Site Visit\""))
        let unmapped = try h.query { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE stage IS NULL AND odoo_stage = 'Site Visit'") ?? 0
        }
        #expect(unmapped > 0)
        let newStage = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE stage = 'new'") ?? 0 }

        let set = try await h.run(["config", "set", "stage", "Site Visit", "hot_enquiries"])
        #expect(set.status == 0, "\(set.output)")
        let after = try h.query { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE stage IS NULL") ?? -1,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE odoo_stage = 'Site Visit' AND stage = 'hot_enquiries'") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE stage = 'new'") ?? 0)
        }
        #expect(after.0 == 0)
        #expect(after.1 == unmapped)
        #expect(after.2 == newStage, "an unmapped stage is never filed as new")
    }

    @Test func configRefusesWhatItDoesNotKnow() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let db = dir.appendingPathComponent("m.sqlite").path
        let unknown = try await CLI.run(["config", "set", "pull.overlap", "5", "--db", db])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("pull.overlap_seconds"), "lists the valid settings: \(unknown.stderr)")
        let priority = try await CLI.run(["config", "set", "priority", "2", "urgent", "--db", db])
        #expect(priority.status == 2 && priority.stderr.contains("high, medium, low"), "\(priority.output)")
        let slug = try await CLI.run(["config", "set", "stage", "Site Visit", "Hot Enquiries", "--db", db])
        #expect(slug.status == 2 && slug.stderr.contains("slug"), "\(slug.output)")
        let ok = try await CLI.run(["config", "set", "priority", "1", "low", "--db", db])
        #expect(ok.status == 0)
        let show = try await CLI.run(["config", "show", "--json", "--db", db])
        #expect(try JSONValue.parse(show.stdout)["priority_map"]?["1"]?.stringValue == "low")
    }

    /// `odoosync sql ... | head -1`: the reader goes away; odoosync ends quietly with status 0
    /// (not killed by SIGPIPE, not trapped in FileHandle.write).
    @Test func aClosedPipeEndsOutputQuietly() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let script = "\"$0\" sql 'select * from leads' --db \"$1\" | head -1 > /dev/null; echo \"status=${PIPESTATUS[0]}\""
        let result = try await CLI.run(["-c", script, TestPaths.binary, h.dbPath], executable: "/bin/bash")
        #expect(result.stdout.contains("status=0"), "\(result.output)")
        #expect(!result.stderr.contains("Fatal error"), "\(result.stderr)")
    }

    @Test func leadsListFiltersAndExports() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let won = try await h.run(["leads", "--stage", "won", "--limit", "0", "--json"])
        let rows = try #require(try JSONValue.parse(won.stdout).arrayValue)
        let expected = try h.query { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE stage = 'won' AND active = 1 AND deleted_at IS NULL")
        }
        #expect(rows.count == expected)
        #expect(rows.allSatisfy { $0["stage"]?.stringValue == "won" })
        let csv = try await h.run(["leads", "--stage", "won", "--limit", "0", "--csv"])
        #expect(csv.stdout.split(separator: "\n").count == (expected ?? 0) + 1)
        #expect(csv.stdout.hasPrefix("id,odoo_id,title,stage"))
        let show = try await h.run(["leads", "show", "odoo_crm_1", "--json"])
        #expect(try JSONValue.parse(show.stdout)["source_email_id"]?.stringValue == "odoo_crm_1", "\(show.output)")
        let missing = try await h.run(["leads", "show", "odoo_crm_999999"])
        #expect(missing.status == 2 && missing.stderr.contains("No lead"))
        let badEdit = try await h.run(["leads", "edit", "1", "--stage", "maybe"])
        #expect(badEdit.status == 2 && badEdit.stderr.contains("Known stages"))
        let badDate = try await h.run(["leads", "edit", "1", "--deadline", "31/12/2026"])
        #expect(badDate.status == 2 && badDate.stderr.contains("2026-12-31"))
    }

    @Test func demoRunsTheWholeCycle() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let result = try await CLI.run(["demo", "--db", dir.appendingPathComponent("demo.sqlite").path], in: TestPaths.repoRoot)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("Pushed 1 edit(s) to Odoo, 0 conflict(s), 0 failed."))
        #expect(result.stdout.contains("/json/2/crm.lead/write"))
        #expect(result.stdout.contains("Pending lead edits: 0."))
    }

    @Test func theStandaloneEmulatorServesAPull() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let port = 20000 + Int.random(in: 0..<20000)
        let server = try CLI.start(["emulator", "odoo", "--port", String(port), "--generate-leads", "500"], in: TestPaths.repoRoot)
        defer { server.process.terminate() }
        var ready = false
        for _ in 0..<100 where !ready {
            try await Task.sleep(nanoseconds: 100_000_000)
            ready = ((try? String(contentsOf: server.out, encoding: .utf8)) ?? "").contains("listening")
        }
        #expect(ready)
        let banner = (try? String(contentsOf: server.out, encoding: .utf8)) ?? ""
        #expect(banner.contains("demo-api-key") && banner.contains("odoosync_demo"))
        let pull = try await CLI.run(["pull", "odoo", "--json", "--db", dir.appendingPathComponent("m.sqlite").path],
                                     environment: ["ODOO_URL": "http://127.0.0.1:\(port)", "ODOO_DATABASE": "odoosync_demo",
                                                   "ODOO_USERNAME": "admin", "ODOO_PASSWORD": "admin", "ODOO_PROTOCOL": "jsonrpc"])
        #expect(pull.status == 0, "\(pull.output)")
        #expect((try JSONValue.parse(pull.stdout)["models"]?["crm.lead"]?["created"]?.intValue ?? 0) >= 800)
        server.process.terminate()
        _ = await server.finish()
    }
}
