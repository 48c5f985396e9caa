import Foundation
import GRDB
import OdooSyncEngine
import Testing
@testable import OdooEmulator
@testable import OdooSyncCore

/// `odoosync export` against a real PostgreSQL, through the real binary.
@Suite(.serialized, .enabled(if: TestPostgres.enabled, TestPostgres.skipMessage))
struct ExportTests {
    /// A mirror pulled from the emulator, plus what the Plane sync would have written.
    static func mirror(mappings: Int = 30, queue: Int = 5, logs: Int = 40, events: Int = 25) async throws -> EmulatorHarness {
        let h = try await EmulatorHarness.start()
        let pull = try await h.run(["pull", "odoo"])
        #expect(pull.status == 0, "\(pull.output)")
        try MirrorFixtures.addPlaneSync(h.dbPath, mappings: mappings, queue: queue, logs: logs, events: events)
        return h
    }

    static func count(_ h: EmulatorHarness, _ table: String) throws -> Int {
        try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? -1 }
    }

    static func json(_ result: ProcessResult) throws -> JSONValue {
        try JSONValue.parse(result.stdout)
    }

    static let awkward = "tab\there\nnew line, back\\slash, \\N, \"quotes\", 'apostrophe', émoji 🚀"

    @Test func initSchemaThenExportIntoAnEmptyDatabase() async throws {
        let h = try await Self.mirror()
        defer { Task { await h.stop() } }
        // Text that COPY's format and SQL quoting must both carry unchanged.
        let queue = try DatabaseQueue(path: h.dbPath)
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO events (id, seq, level, category, event_type, message, metadata, timestamp, created_at)
                VALUES ('00000000-0000-4000-8000-00000000abcd', (SELECT max(seq) + 1 FROM events), 'info', 'plane-sync', 'note', ?, ?, 'now', '2026-11-20T09:30:00.000Z')
                """, arguments: [Self.awkward, JSONValue.object([("text", .string(Self.awkward))]).serialized])
            try db.execute(sql: "UPDATE events SET timestamp = created_at WHERE timestamp = 'now'")
        }
        try queue.close()
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        let env = db.environment(h.dbPath)
        let mirrorCounts: [(String, String)] = [
            ("ops.runs", "runs"), ("plane.sync_config", "sync_config"), ("plane.sync_mappings", "sync_mappings"),
            ("plane.sync_queue", "sync_queue"), ("plane.sync_log", "sync_log"), ("ops.events", "events"),
            ("public.customers", "customers"), ("public.contacts", "contacts"), ("public.leads", "leads"),
        ]

        // Before: the dry run and status say what is owed, table by table, without connecting.
        let dry = try await CLI.run(["export", "--dry-run", "--json"], environment: ["ODOOSYNC_DB": h.dbPath])
        #expect(dry.status == 0, "\(dry.output)")
        let owed = try Self.json(dry)["owed"]
        for (target, local) in mirrorCounts {
            #expect(owed?[target]?.intValue == (try Self.count(h, local)), "\(target)")
        }
        let status = try await h.run(["status", "--json"])
        #expect(try Self.json(status)["export"]?["owed_total"]?.intValue == (try Self.json(dry)["total"]?.intValue))

        let result = try await CLI.run(["export", "--init-schema", "--json"], environment: env)
        #expect(result.status == 0, "\(result.output)")
        let report = try Self.json(result)
        #expect(report["created"]?.arrayValue?.count == 17, "\(report["created"] ?? .null)")
        #expect(report["missing_columns"]?.objectValue?.isEmpty == true)
        for (target, local) in mirrorCounts {
            let expected = try Self.count(h, local)
            #expect(try await db.int("SELECT count(*) FROM \(target)") == expected, "\(target)")
            if target != "plane.sync_config" {  // --init-schema seeds the two default config rows
                #expect(report["tables"]?[target]?["inserted"]?.intValue == expected, "\(target)")
            }
        }

        // Values land as the reference types: one lead, field by field.
        let local = try h.query { db in
            try Row.fetchOne(db, sql: "SELECT * FROM leads WHERE probability > 0 AND expected_close_date IS NOT NULL ORDER BY odoo_id LIMIT 1")
        }
        let lead = try #require(local)
        let key: String = lead["source_email_id"]
        let text = try await db.strings("SELECT to_jsonb(l)::text FROM public.leads l WHERE source_email_id = '\(key)'")
        #expect(text.count == 1)
        let remote = try JSONValue.parse(text.first.flatMap { $0 } ?? "null")
        #expect(remote["id"]?.stringValue == lead["id"])
        #expect(remote["title"]?.stringValue == lead["title"])
        #expect(remote["stage"]?.stringValue == lead["stage"])
        #expect(remote["source"]?.stringValue == "odoo_sync")
        #expect(remote["priority"]?.stringValue == lead["priority"])
        #expect(remote["expected_close_date"]?.stringValue == (lead["expected_close_date"] as String) + "T00:00:00+00:00")
        #expect(remote["probability"]?.doubleValue == lead["probability"])
        #expect(remote["expected_value"]?.doubleValue == lead["expected_value"])
        #expect(remote["customer_id"]?.stringValue == lead["customer_id"])
        #expect(remote["metadata"]?["odoo_id"]?.intValue == lead["odoo_id"])
        #expect(remote["metadata"]?["synced_at"]?.stringValue == lead["updated_at"])
        #expect(try await db.strings("SELECT to_char(updated_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM public.leads WHERE source_email_id = '\(key)'")
                == [lead["updated_at"] as String?])
        #expect(try await db.strings("SELECT message FROM ops.events WHERE id = '00000000-0000-4000-8000-00000000abcd'") == [Self.awkward])
        #expect(try await db.strings("SELECT metadata->>'text' FROM ops.events WHERE id = '00000000-0000-4000-8000-00000000abcd'") == [Self.awkward])
        // The sync log points at the target's mappings (the pull's own rows have none); events at their runs.
        #expect(try await db.int("SELECT count(*) FROM plane.sync_log WHERE mapping_id IS NULL")
                == (try Self.count(h, "sync_log WHERE mapping_id IS NULL")))
        #expect(try await db.int("SELECT count(*) FROM plane.sync_log WHERE mapping_id IS NOT NULL") == 40)
        #expect(try await db.int("SELECT count(*) FROM ops.events WHERE run_id IS NULL") == (try Self.count(h, "events WHERE run_id IS NULL")))
        #expect(try await db.int("SELECT count(*) FROM plane.v_active_syncs") == (try Self.count(h, "sync_mappings WHERE status = 'active'")))

        // Nothing is owed afterwards, and a second run sends nothing.
        let again = try await CLI.run(["export", "--json"], environment: env)
        #expect(again.status == 0, "\(again.output)")
        #expect(try Self.json(again)["rows_sent"]?.intValue == 0)
        let after = try await h.run(["status", "--json"])
        #expect(try Self.json(after)["export"]?["owed_total"]?.intValue == 0)
        #expect(try Self.json(after)["export"]?["last_export"]?["status"]?.stringValue == "success")

        // A lead that changes in Odoo is pulled and then exported alone.
        let odooID: Int = lead["odoo_id"]
        #expect(h.emulator.modify(model: "crm.lead", id: odooID, values: ["probability": .double(55)]))
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let update = try await CLI.run(["export", "--json"], environment: env)
        #expect(update.status == 0, "\(update.output)")
        let leads = try Self.json(update)["tables"]?["public.leads"]
        #expect(leads?["sent"]?.intValue == 1 && leads?["updated"]?.intValue == 1, "\(update.stdout)")
        #expect(try await db.strings("SELECT probability::text FROM public.leads WHERE source_email_id = '\(key)'") == ["55.0"])

        // --full sends every row again, and finds nothing to change.
        let full = try await CLI.run(["export", "--full", "--json"], environment: env)
        #expect(full.status == 0, "\(full.output)")
        let fullReport = try Self.json(full)
        let total = try mirrorCounts.reduce(0) { $0 + (try Self.count(h, $1.1)) }
        #expect(fullReport["rows_sent"]?.intValue == total)
        for (target, _) in mirrorCounts {
            let stats = fullReport["tables"]?[target]
            #expect(stats?["inserted"]?.intValue == 0 && stats?["updated"]?.intValue == 0, "\(target): \(stats ?? .null)")
        }
    }

    @Test func theExistingSchemaKeepsItsOwnRowsAndLeadsEditedInSupabase() async throws {
        let h = try await Self.mirror()
        defer { Task { await h.stop() } }
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        try await db.execute(ExportReferenceSchema.statements)
        let keys = try h.query { db in try String.fetchAll(db, sql: "SELECT source_email_id FROM leads ORDER BY odoo_id LIMIT 3") }
        let (foreignKey, editedKey, adoptedKey) = (keys[0], keys[1], keys[2])
        // What the database already holds: rows of other writers, and leads with our keys.
        try await db.execute([
            "INSERT INTO ops.runs (id, system, job_name, status) VALUES ('11111111-1111-4111-8111-111111111111', 'n8n', 'nightly import', 'success')",
            "INSERT INTO ops.events (id, run_id, level, category, message, system) VALUES ('22222222-2222-4222-8222-222222222222', '11111111-1111-4111-8111-111111111111', 'info', 'import', 'imported 3 rows', 'n8n')",
            "INSERT INTO plane.sync_mappings (id, source_system, source_id, source_type, target_id, target_type) VALUES ('33333333-3333-4333-8333-333333333333', 'odoo', '77', 'project.task', 'issue-77', 'issue')",
            "INSERT INTO plane.sync_log (mapping_id, source_system, source_id, operation, success) VALUES ('33333333-3333-4333-8333-333333333333', 'odoo', '77', 'create', true)",
            "INSERT INTO plane.sync_queue (source_system, source_id, source_type, operation) VALUES ('odoo', '77', 'project.task', 'update')",
            "INSERT INTO public.customers (id, name) VALUES ('44444444-4444-4444-8444-444444444444', 'Walk-in Customer')",
            "INSERT INTO public.contacts (customer_id, first_name, email) VALUES ('44444444-4444-4444-8444-444444444444', 'Ana', 'ana@example.com')",
            "INSERT INTO public.leads (title, source, source_email_id, customer_id) VALUES ('Website enquiry', 'website', 'msg-991@mail.example', '44444444-4444-4444-8444-444444444444')",
            // Our key, another source: not ours.
            "INSERT INTO public.leads (title, source, source_email_id) VALUES ('Typed in by hand', 'manual', '\(foreignKey)')",
            // Synced on 2026-01-01, edited in Supabase on 2026-02-01: left alone.
            "INSERT INTO public.leads (title, source, source_email_id, metadata, updated_at) VALUES ('Edited in the ERP', 'odoo_sync', '\(editedKey)', '{\"synced_at\": \"2026-01-01T00:00:00.000Z\"}', '2026-02-01T00:00:00Z')",
            // Written by the earlier edge-function sync and not edited since: adopted and updated in place.
            "INSERT INTO public.leads (id, title, source, source_email_id, metadata, updated_at, assigned_to) VALUES ('55555555-5555-4555-8555-555555555555', 'Old title', 'odoo_sync', '\(adoptedKey)', '{\"synced_at\": \"2026-01-01T00:00:00.000Z\", \"erp_note\": \"call back\"}', '2026-01-01T00:00:00Z', '66666666-6666-4666-8666-666666666666')",
        ])
        let others = [
            ("ops.runs", "job_name = 'nightly import'"), ("ops.events", "category = 'import'"), ("plane.sync_mappings", "source_id = '77'"),
            ("plane.sync_log", "source_id = '77'"), ("plane.sync_queue", "source_id = '77'"), ("public.customers", "name = 'Walk-in Customer'"),
            ("public.contacts", "email = 'ana@example.com'"),
            ("public.leads", "source_email_id IN ('msg-991@mail.example', '\(foreignKey)', '\(editedKey)')"),
        ]
        func snapshotOthers() async throws -> [String] {
            var out: [String] = []
            for (table, filter) in others { out += try await db.strings("SELECT to_jsonb(t)::text FROM \(table) t WHERE \(filter) ORDER BY 1").compactMap { $0 } }
            return out
        }
        let before = try await snapshotOthers()

        let result = try await CLI.run(["export", "--json"], environment: db.environment(h.dbPath))
        #expect(result.status == 0, "\(result.output)")
        let report = try Self.json(result)
        #expect(report["missing_columns"]?["public.leads"] == ["notes"], "\(result.stdout)")
        let leads = report["tables"]?["public.leads"]
        #expect(leads?["skipped_edited"]?.intValue == 1 && leads?["skipped_foreign"]?.intValue == 1, "\(result.stdout)")
        #expect(Set(leads?["skipped_keys"]?.arrayValue?.compactMap(\.stringValue) ?? []) == [foreignKey, editedKey])
        #expect(try await snapshotOthers() == before, "rows that are not ours must stay exactly as they were")

        // The adopted lead keeps its id, the ERP's column and metadata key, and takes the mirror's values.
        let local = try #require(try h.query { db in try Row.fetchOne(db, sql: "SELECT title, updated_at FROM leads WHERE source_email_id = ?", arguments: [adoptedKey]) })
        let adopted = try await db.strings("""
            SELECT concat_ws('|', id, title, assigned_to, metadata->>'erp_note', metadata->>'synced_at') FROM public.leads WHERE source_email_id = '\(adoptedKey)'
            """)
        #expect(adopted == ["55555555-5555-4555-8555-555555555555|\(local["title"] as String)|66666666-6666-4666-8666-666666666666|call back|\(local["updated_at"] as String)"])
        // Every other mirrored lead arrived once; the config rows were matched on their key.
        let mirrored = try Self.count(h, "leads")
        #expect(try await db.int("SELECT count(*) FROM public.leads") == mirrored + 1)
        #expect(try await db.int("SELECT count(*) - count(DISTINCT source_email_id) FROM public.leads") == 0)
        // The mirror's rows (one per entity type) matched on their key: no duplicate.
        #expect(try await db.int("SELECT count(*) FROM plane.sync_config") == SyncEntities.all.count)
        #expect(try await db.int("SELECT count(*) FROM plane.sync_mappings") == 31)

        // The edited lead changes in the mirror later: still not overwritten, counted again.
        _ = try await h.run(["leads", "edit", editedKey, "--probability", "90"])
        let later = try await CLI.run(["export", "--json"], environment: db.environment(h.dbPath))
        #expect(later.status == 0, "\(later.output)")
        #expect(try Self.json(later)["tables"]?["public.leads"]?["skipped_edited"]?.intValue == 1, "\(later.stdout)")
        #expect(try await db.strings("SELECT title FROM public.leads WHERE source_email_id = '\(editedKey)'") == ["Edited in the ERP"])
        #expect(try await snapshotOthers() == before)
    }

    @Test func rowLevelSecurityLetsAuthenticatedReadAndServiceRoleWrite() async throws {
        let h = try await Self.mirror(mappings: 5, queue: 3, logs: 5, events: 0)
        defer { Task { await h.stop() } }
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        let result = try await CLI.run(["export", "--init-schema"], environment: db.environment(h.dbPath))
        #expect(result.status == 0, "\(result.output)")

        for table in ["plane.sync_mappings", "plane.sync_config", "plane.sync_log"] {
            let seen = await db.value(as: "authenticated", "SELECT count(*) FROM \(table)")
            #expect(seen.flatMap { Int($0) } ?? 0 > 0, "authenticated reads \(table)")
        }
        let active = try Self.count(h, "sync_mappings WHERE status = 'active'")
        #expect(await db.value(as: "authenticated", "SELECT count(*) FROM plane.v_active_syncs") == String(active))
        #expect(await db.value(as: "authenticated", "SELECT count(*) FROM plane.sync_queue") == nil, "the queue is not for authenticated")
        let writes = [
            "INSERT INTO plane.sync_mappings (source_system, source_id, source_type, target_id, target_type) VALUES ('plane', 'x', 'issue', '1', 'project.task')",
            "UPDATE plane.sync_config SET enabled = false",
            "DELETE FROM plane.sync_log",
            "INSERT INTO plane.sync_queue (source_system, operation) VALUES ('plane', 'create')",
        ]
        for statement in writes {
            #expect(await db.fails(as: "authenticated", statement), "authenticated: \(statement)")
            #expect(!(await db.fails(as: "service_role", statement)), "service_role: \(statement)")
        }
        for table in ["plane.sync_mappings", "plane.sync_config", "plane.sync_log", "plane.sync_queue"] {
            #expect(await db.value(as: "service_role", "SELECT count(*) FROM \(table)").flatMap { Int($0) } ?? 0 > 0, "service_role reads \(table)")
        }
        #expect(await db.value(as: "service_role", "SELECT count(*) FROM plane.v_pending_queue") == "3")
        // What authenticated could not do did not happen.
        #expect(try await db.int("SELECT count(*) FROM plane.sync_config WHERE NOT enabled") == 0)
    }

    @Test func unreachableRefusedOrMissingSchemaFailCleanlyAndLoseNothing() async throws {
        let h = try await Self.mirror(mappings: 3, queue: 1, logs: 2, events: 2)
        defer { Task { await h.stop() } }
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        let password = try #require(db.target.password)
        func owed() async throws -> JSONValue? {
            try Self.json(try await CLI.run(["export", "--dry-run", "--json"], environment: ["ODOOSYNC_DB": h.dbPath]))["owed"]
        }
        let owedBefore = try await owed()

        let unset = try await CLI.run(["export"], environment: ["ODOOSYNC_DB": h.dbPath])
        #expect(unset.status == 2 && unset.stderr.contains("No Supabase database is set"), "\(unset.output)")

        // Nothing listens on this port.
        let closed = try Self.closedPort()
        let unreachable = try await CLI.run(["export"], environment: ["ODOOSYNC_DB": h.dbPath, "SUPABASE_DB_URL": db.url(port: closed)])
        #expect(unreachable.status == 3, "\(unreachable.output)")
        #expect(unreachable.stderr.contains("Cannot reach the Supabase database at 127.0.0.1:\(closed)/\(db.name)"))
        #expect(unreachable.stderr.contains("connection refused"), "\(unreachable.stderr)")

        let wrong = try await CLI.run(["export"], environment: ["ODOOSYNC_DB": h.dbPath, "SUPABASE_DB_URL": db.url(password: "not-the-password-4711")])
        #expect(wrong.status == 3, "\(wrong.output)")
        #expect(wrong.stderr.contains("refused the connection") && wrong.stderr.contains("password authentication failed"), "\(wrong.stderr)")
        #expect(!wrong.output.contains("not-the-password-4711"))

        let noSchema = try await CLI.run(["export"], environment: db.environment(h.dbPath))
        #expect(noSchema.status == 2, "\(noSchema.output)")
        #expect(noSchema.stderr.contains("lacks ops.runs") && noSchema.stderr.contains("--init-schema"), "\(noSchema.stderr)")
        #expect(try await db.int("SELECT count(*) FROM pg_namespace WHERE nspname IN ('plane', 'ops')") == 0, "nothing half written")
        #expect(try await db.int("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0)

        let tls = try await CLI.run(["export", "--init-schema", "--json"], environment: db.environment(h.dbPath, sslmode: "verify-full"))
        #expect(tls.status == 3, "\(tls.output)")
        #expect(tls.stderr.contains("TLS certificate is not trusted"), "\(tls.stderr)")

        for failure in [unreachable, wrong, noSchema, tls] { #expect(!failure.output.contains(password)) }
        #expect(try await owed() == owedBefore, "failed exports must leave everything owed")
        let status = try Self.json(try await h.run(["status", "--json"]))
        #expect(status["export"]?["last_export"]?["status"]?.stringValue == "failed")

        // With TLS verified against the cluster's certificate, the next run sends everything.
        var env = db.environment(h.dbPath)
        if let ca = TestPostgres.certificate {
            env["SUPABASE_DB_URL"] = db.url(sslmode: "verify-full") + "&sslrootcert=\(ca)"
        }
        let ok = try await CLI.run(["export", "--init-schema", "--json"], environment: env)
        #expect(ok.status == 0, "\(ok.output)")
        #expect(try Self.json(ok)["tls"]?.boolValue == (TestPostgres.certificate != nil))
        #expect(try Self.json(ok)["rows_sent"]?.intValue == owedBefore?.objectValue?.reduce(0) { $0 + ($1.1.intValue ?? 0) })
        #expect(!ok.output.contains(password))

        // Secrets stay out of the mirror too.
        for suffix in ["", "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: h.dbPath + suffix))) ?? Data()
            #expect(bytes.range(of: Data(password.utf8)) == nil, "password in \(h.dbPath + suffix)")
        }
    }

    @Test func everyStatementIsUnnamedSoTransactionPoolersWork() async throws {
        let logPath = try #require(TestPostgres.log, "scripts/test passes the server log in ODOOSYNC_TEST_PG_LOG")
        let h = try await Self.mirror(mappings: 10, queue: 2, logs: 5, events: 5)
        defer { Task { await h.stop() } }
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        let result = try await CLI.run(["export", "--init-schema", "--batch-size", "50"], environment: db.environment(h.dbPath))
        #expect(result.status == 0, "\(result.output)")
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        let ours = log.split(separator: "\n").filter { $0.contains("db=\(db.name) app=odoosync ") }
        let executes = ours.filter { $0.contains("LOG:  execute ") }
        #expect(executes.count > 20, "log_statement = all should show the export's statements")
        #expect(executes.allSatisfy { $0.contains("execute <unnamed>") }, "\(executes.filter { !$0.contains("<unnamed>") }.prefix(3))")
        #expect(!ours.contains { $0.localizedCaseInsensitiveContains("PREPARE ") || $0.contains("LOG:  statement: SET ") })
    }

    @Test(.enabled(if: TestPostgres.bouncerPort != nil || TestPostgres.required, "ODOOSYNC_TEST_PGBOUNCER_PORT is not set"))
    func exportsThroughATransactionModePooler() async throws {
        let port = try #require(TestPostgres.bouncerPort, "scripts/test starts PgBouncer and passes its port")
        let h = try await Self.mirror(mappings: 200, queue: 10, logs: 300, events: 300)
        defer { Task { await h.stop() } }
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        // Small batches: many transactions, each free to land on another server connection.
        let env = ["ODOOSYNC_DB": h.dbPath, "SUPABASE_DB_URL": db.url(port: port)]
        let result = try await CLI.run(["export", "--init-schema", "--batch-size", "40", "--json"], environment: env)
        #expect(result.status == 0, "\(result.output)")
        #expect(try await db.int("SELECT count(*) FROM plane.sync_mappings") == 200)
        #expect(try await db.int("SELECT count(*) FROM ops.events") == (try Self.count(h, "events")))
        #expect(try await db.int("SELECT count(*) FROM public.leads") == (try Self.count(h, "leads")))
        let again = try await CLI.run(["export", "--json"], environment: env)
        #expect(again.status == 0, "\(again.output)")
        #expect(try Self.json(again)["rows_sent"]?.intValue == 0)
    }

    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
