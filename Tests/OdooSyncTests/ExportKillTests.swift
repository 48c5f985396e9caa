import Foundation
import GRDB
import Testing
@testable import OdooEmulator
@testable import OdooSyncCore

/// kill -9 at random points of an export, then a normal run: the target must end up exactly
/// as an undisturbed export of the same mirror left its own database.
@Suite(.serialized, .enabled(if: TestPostgres.enabled, TestPostgres.skipMessage))
struct ExportKillTests {
    /// Every published table with the columns that identify a row, and the columns that
    /// export does not decide: the two default config rows get their id and creation time
    /// from `--init-schema`, at whatever moment it ran, and keep them when export updates them.
    static let tables: [(name: String, key: String, excluding: [String])] = [
        ("ops.runs", "id", []), ("ops.events", "id", []), ("plane.sync_config", "plane_type, odoo_model", ["id", "created_at"]),
        ("plane.sync_mappings", "source_system, source_id, source_type", []), ("plane.sync_queue", "id", []),
        ("plane.sync_log", "id", []), ("public.customers", "id", []), ("public.contacts", "id", []),
        ("public.leads", "source_email_id", []),
    ]

    @Test func killedExportsConvergeOnTheCleanExport() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        h.emulator.generateLeads(count: 1000, seed: 11)
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        try MirrorFixtures.addPlaneSync(h.dbPath, mappings: 2000, queue: 200, logs: 1500, events: 2500)

        // The reference: a copy of the mirror, exported once without interruption.
        let cleanPath = h.directory.appendingPathComponent("clean.sqlite").path
        let copy = try DatabaseQueue(path: cleanPath)
        try h.mirror().backup(to: copy)
        try copy.close()
        let clean = try await TestDatabase.create()
        defer { Task { await clean.drop() } }
        let killed = try await TestDatabase.create()
        defer { Task { await killed.drop() } }
        let arguments = ["export", "--init-schema", "--batch-size", "250"]
        let started = Date()
        let reference = try await CLI.run(arguments, environment: clean.environment(cleanPath))
        #expect(reference.status == 0, "\(reference.output)")
        // Kills land within the first quarter of what a whole export takes on this machine; each
        // killed run leaves less for the next, so the later ones may finish.
        let whole = UInt64(Date().timeIntervalSince(started) * 1_000_000_000)

        var generator = SystemRandomNumberGenerator()
        var interrupted = 0
        for _ in 0..<6 {
            let running = try CLI.start(arguments, environment: killed.environment(h.dbPath), in: h.directory)
            try await Task.sleep(nanoseconds: UInt64.random(in: (whole / 20)...(whole / 4), using: &generator))
            running.kill9()
            let result = await running.finish()
            if result.status != 0 { interrupted += 1 }
        }
        #expect(interrupted >= 3, "exports should have been killed part-way")
        let final = try await CLI.run(arguments + ["--json"], environment: killed.environment(h.dbPath))
        #expect(final.status == 0, "\(final.output)")

        for table in Self.tables {
            let expected = try await clean.snapshot(table.name, excluding: table.excluding)
            let actual = try await killed.snapshot(table.name, excluding: table.excluding)
            #expect(!expected.isEmpty, "\(table.name) should hold rows")
            #expect(actual.count == expected.count, "\(table.name): \(actual.count) rows, the clean export has \(expected.count)")
            #expect(actual == expected, "\(table.name) differs from the clean export")
            #expect(try await killed.int("SELECT count(*) - count(DISTINCT (\(table.key))) FROM \(table.name)") == 0, "duplicates in \(table.name)")
        }
        let owed = try JSONValue.parse(try await CLI.run(["export", "--dry-run", "--json"], environment: ["ODOOSYNC_DB": h.dbPath]).stdout)
        #expect(owed["total"]?.intValue == 0)
    }

    @Test func aDroppedConnectionKeepsWhatCommittedAndTheNextRunSendsTheRest() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        _ = try await h.run(["init"])
        try MirrorFixtures.addPlaneSync(h.dbPath, mappings: 500, queue: 0, logs: 0, events: 8000)
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        let running = try CLI.start(["export", "--init-schema", "--batch-size", "25"], environment: db.environment(h.dbPath), in: h.directory)
        // Once some batches have committed, the server ends the session, as a restart or a
        // pooler would.
        var terminated = false
        for _ in 0..<2000 where !terminated {
            try await Task.sleep(nanoseconds: 10_000_000)
            guard (try? await db.int("SELECT count(*) FROM ops.events")) ?? 0 > 0 else { continue }
            let ended = try await db.strings("""
                SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE datname = '\(db.name)' AND application_name = 'odoosync'
                """)
            terminated = ended.contains("true")
        }
        let result = await running.finish()
        #expect(terminated, "the export should still have been running: \(result.output)")
        #expect(result.status == 3, "\(result.output)")
        #expect(result.stderr.contains("was lost during the export") && result.stderr.contains("Nothing was lost"), "\(result.stderr)")
        let sentBefore = try await db.int("SELECT count(*) FROM ops.events")
        #expect(sentBefore > 0 && sentBefore < 8000)

        let rest = try await CLI.run(["export", "--json"], environment: db.environment(h.dbPath))
        #expect(rest.status == 0, "\(rest.output)")
        #expect(try await db.int("SELECT count(*) FROM ops.events") == 8000)
        #expect(try await db.int("SELECT count(*) FROM plane.sync_mappings") == 500)
        #expect(try await db.int("SELECT count(*) - count(DISTINCT id) FROM ops.events") == 0)
        let owed = try JSONValue.parse(try await CLI.run(["export", "--dry-run", "--json"], environment: ["ODOOSYNC_DB": h.dbPath]).stdout)
        #expect(owed["total"]?.intValue == 0)
    }
}
