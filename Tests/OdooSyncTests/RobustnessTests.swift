import Foundation
import GRDB
import Testing
@testable import OdooEmulator
@testable import OdooSyncCore

/// Crashes, faults, bad input and secrets: through the real binary.
@Suite(.serialized) struct RobustnessTests {
    /// Leads table as comparable values (ignoring odoosync's own timestamps and uuids).
    static func leadRows(_ queue: DatabaseQueue) throws -> [String] {
        try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT l.odoo_id, l.title, l.stage, l.probability, l.expected_value, l.priority, l.expected_close_date, l.active,
                       l.salesperson, c.name, ct.email, json_remove(l.metadata, '$.synced_at')
                FROM leads l LEFT JOIN customers c ON c.id = l.customer_id LEFT JOIN contacts ct ON ct.id = l.contact_id
                ORDER BY l.odoo_id
                """).map { "\($0)" }
        }
    }

    @Test func killedPullsConvergeWithoutDuplicates() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        h.emulator.generateLeads(count: 4000, seed: 7)
        // Small pages and some latency make each pull long enough to be killed part-way.
        _ = try await h.run(["init"])
        _ = try await h.run(["config", "set", "pull.page_size", "200"])
        h.emulator.setFaults(FaultPlan(rate: 1, kinds: [.latency(milliseconds: 40)], seed: 1))
        var generator = SystemRandomNumberGenerator()
        var killed = 0
        for trial in 0..<10 {
            let running = try CLI.start(["pull", "odoo"], environment: h.environment(), in: h.directory)
            try await Task.sleep(nanoseconds: UInt64.random(in: 100_000_000...900_000_000, using: &generator))
            running.kill9()
            let result = await running.finish()
            if result.status != 0 { killed += 1 }
            if trial == 4 {
                // Meanwhile Odoo moves on: changes and a deletion must not be lost either.
                for id in try h.emulatorLeads().keys.sorted().prefix(5) {
                    h.emulator.modify(model: "crm.lead", id: id, values: ["probability": .double(Double(trial))])
                }
                if let last = try h.emulatorLeads().keys.max() { h.emulator.delete(model: "crm.lead", id: last) }
            }
        }
        // Early trials die inside the first full pass; once it is done, later pulls are short
        // incremental ones that may finish before the kill.
        #expect(killed >= 3, "trials should have been killed mid-run")
        h.emulator.setFaults(FaultPlan(rate: 0, kinds: [], seed: 1))
        let final = try await h.run(["pull", "odoo"])
        #expect(final.status == 0, "\(final.output)")

        let remote = try h.emulatorLeads()
        let local = try h.mirrorLeads()
        #expect(local.count == remote.count)
        for (id, value) in remote {
            #expect(local[id]?.0 == value.0 && local[id]?.1 == value.1, "lead \(id)")
        }
        let check = try h.query { db in
            (try String.fetchOne(db, sql: "PRAGMA integrity_check"),
             try Int.fetchOne(db, sql: "SELECT count(*) - count(DISTINCT odoo_id) FROM leads"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE deleted_at IS NULL"))
        }
        #expect(check.0 == "ok")
        #expect(check.1 == 0)
        #expect(check.2 == remote.count)
        // A trial killed while the first pull had the customer index deferred left it for the
        // next pull, which built it: nothing stays deferred and every JSON column holds JSON.
        let schema = try h.query { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'leads_customer'"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM deferred_indexes"),
             try MirrorJSON.invalid(db))
        }
        #expect(schema.0 == 1)
        #expect(schema.1 == 0)
        #expect(schema.2.isEmpty, "\(schema.2)")
        // Nothing was exported yet, so every lead is owed to the export: those the first pass's
        // killed trials committed while its log waited too.
        let log = try h.query { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name = 'leads_export_insert'"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE id NOT IN (SELECT row_id FROM export_changes WHERE tbl = 'leads')"))
        }
        #expect(log.0 == 1)
        #expect(log.1 == 0)
    }

    @Test func faultyServerConvergesToTheCleanMirror() async throws {
        let clean = try await EmulatorHarness.start()
        defer { Task { await clean.stop() } }
        #expect(try await clean.run(["pull", "odoo"]).status == 0)

        let faulty = try await EmulatorHarness.start { config in
            config.faults = FaultPlan(rate: 0.2, kinds: [.serverError, .dropConnection, .truncatedBody], seed: 42)
        }
        defer { Task { await faulty.stop() } }
        let result = try await faulty.run(["pull", "odoo", "--json"], extra: ["ODOOSYNC_RETRIES": "12", "ODOOSYNC_RETRY_BASE_MS": "5"])
        #expect(result.status == 0, "\(result.output)")
        #expect((try JSONValue.parse(result.stdout)["retries"]?.intValue ?? 0) > 0, "faults should have been injected and retried")
        #expect(try Self.leadRows(faulty.mirror()) == Self.leadRows(clean.mirror()))
    }

    @Test func aReadableConfigFileWithASecretIsRefused() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("odoosync.toml").path
        try "[odoo]\nurl = \"http://127.0.0.1:1\"\ndatabase = \"d\"\nusername = \"u\"\napi_key = \"sekrit-0123456789\"\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        let result = try await CLI.run(["pull", "odoo", "--db", dir.appendingPathComponent("m.sqlite").path], in: dir)
        #expect(result.status == 2, "\(result.output)")
        #expect(result.stderr.contains("chmod 600"))
        #expect(!result.output.contains("sekrit-0123456789"))
    }

    @Test(arguments: ["not-a-url", "ftp://odoo.example.com", "http://"])
    func aMalformedURLIsRefused(_ url: String) async throws {
        let dir = try TestPaths.temporaryDirectory()
        let result = try await CLI.run(["pull", "odoo", "--db", dir.appendingPathComponent("m.sqlite").path],
                                 environment: ["ODOO_URL": url, "ODOO_DATABASE": "d", "ODOO_USERNAME": "u", "ODOO_API_KEY": "k"])
        #expect(result.status == 2, "\(result.output)")
        #expect(result.stderr.contains("is not a valid server URL"))
    }

    @Test func anUnreachableServerExits3() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let result = try await CLI.run(["pull", "odoo", "--db", dir.appendingPathComponent("m.sqlite").path],
                                 environment: ["ODOO_URL": "http://127.0.0.1:9", "ODOO_DATABASE": "d", "ODOO_USERNAME": "u",
                                               "ODOO_API_KEY": "k", "ODOOSYNC_RETRIES": "2"])
        #expect(result.status == 3, "\(result.output)")
        #expect(result.stderr.contains("Cannot reach Odoo at http://127.0.0.1:9"))
    }

    @Test func aFileThatIsNotSQLiteIsRefused() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("leads.csv").path
        try String(repeating: "id,name\n1,Acme\n", count: 300).write(toFile: path, atomically: true, encoding: .utf8)
        for args in [["status"], ["leads"], ["init"]] {
            let result = try await CLI.run(args + ["--db", path])
            #expect(result.status == 4, "\(args): \(result.output)")
            #expect(result.stderr.contains("is not a SQLite database"))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("id,name"), "the file must be left untouched")
    }

    @Test func aBusyMirrorWaitsThenExits4() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("m.sqlite").path
        #expect(try await CLI.run(["init", "--db", path]).status == 0)
        // Another writer holds the file.
        var holderConfig = Configuration()
        holderConfig.allowsUnsafeTransactions = true
        let holder = try DatabaseQueue(path: path, configuration: holderConfig)
        try holder.inDatabase { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
        let started = Date()
        let result = try await CLI.run(["config", "set", "pull.overlap_seconds", "60", "--db", path], environment: ["ODOOSYNC_BUSY_TIMEOUT": "1"])
        #expect(result.status == 4, "\(result.output)")
        #expect(result.stderr.contains("is busy"))
        #expect(Date().timeIntervalSince(started) >= 1)
        try holder.inDatabase { db in try db.execute(sql: "ROLLBACK") }
        let integrity = try holder.inDatabase { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(integrity == "ok")
        #expect(try await CLI.run(["config", "set", "pull.overlap_seconds", "60", "--db", path]).status == 0)
    }

    @Test func secretsNeverLeak() async throws {
        let secret = "sk-odoosync-TEST-9f8e7d6c5b4a"
        let h = try await EmulatorHarness.start { config in
            config.users = config.users.map { user in
                var u = user
                if u.login == "admin" { u.apiKey = "sk-odoosync-TEST-9f8e7d6c5b4a" }
                return u
            }
        }
        defer { Task { await h.stop() } }
        var outputs: [String] = []
        for args in [["pull", "odoo", "-v"], ["leads", "edit", "1", "--probability", "55"], ["push", "--dry-run", "-v"],
                     ["push", "-v"], ["status", "--json"], ["config", "show"]] {
            let result = try await h.run(args, apiKey: secret, extra: ["ODOOSYNC_LOG_LEVEL": "trace"])
            outputs.append(result.output)
        }
        let wrong = try await h.run(["pull", "odoo"], apiKey: secret + "x")
        outputs.append(wrong.output)
        for output in outputs { #expect(!output.contains(secret)) }
        for suffix in ["", "-wal"] {
            if let bytes = FileManager.default.contents(atPath: h.dbPath + suffix) {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "secret found in the mirror\(suffix)")
            }
        }
    }

    @Test func theStockOdooRPCClientWorksAgainstTheEmulator() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let running = try CLI.start(["python3", TestPaths.repoRoot.appendingPathComponent("scripts/odoorpc-check.py").path,
                                     "--host", "127.0.0.1", "--port", String(h.port), "--db", "odoosync_demo",
                                     "--login", "admin", "--password", "admin"],
                                    executable: "/usr/bin/env")
        let result = await running.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let doc = try JSONValue.parse(result.stdout)
        #expect(doc["uid"]?.intValue == 2)
        #expect(doc["leads"]?.arrayValue?.count == 5)
        #expect(doc["count"]?.intValue == (try h.emulatorLeads().values.filter { $0.1 }.count))
    }
}
