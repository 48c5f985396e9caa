import Foundation
import GRDB
import OdooSyncEngine
import Testing
@testable import OdooSyncCore
@testable import OdooSyncExport
@testable import OdooSyncMirror

/// SUPABASE_DB_URL as libpq reads it.
@Suite struct ExportURLTests {
    typealias Case = (url: String, host: String, port: Int, user: String, password: String?, database: String, mode: PostgresTarget.SSLMode)

    static let cases: [Case] = [
        ("postgresql://postgres:s3cret@db.abc.supabase.co:5432/postgres?sslmode=require",
         "db.abc.supabase.co", 5432, "postgres", "s3cret", "postgres", PostgresTarget.SSLMode.require),
        ("postgres://postgres.abcdefgh:p%40ss%2Fw0rd@aws-0-eu-west-1.pooler.supabase.com:6543/postgres",
         "aws-0-eu-west-1.pooler.supabase.com", 6543, "postgres.abcdefgh", "p@ss/w0rd", "postgres", .prefer),
        ("postgresql://me:pa@ss@localhost/erp?sslmode=disable&application_name=x@y", "localhost", 5432, "me", "pa@ss", "erp", .disable),
        ("postgresql://me@[::1]:6000", "::1", 6000, "me", nil, "me", .prefer),
        ("postgresql://u:p@h/d?sslmode=verify-full&connect_timeout=3", "h", 5432, "u", "p", "d", .verifyFull),
    ]

    @Test(arguments: ExportURLTests.cases.indices)
    func parses(_ index: Int) throws {
        let c = ExportURLTests.cases[index]
        let target = try PostgresTarget.parse(c.url)
        #expect(target.host == c.host)
        #expect(target.port == c.port)
        #expect(target.user == c.user)
        #expect(target.password == c.password)
        #expect(target.database == c.database)
        #expect(target.sslMode == c.mode)
        if let password = c.password { #expect(!target.description.contains(password)) }
    }

    @Test(arguments: [
        ("mysql://u:hunter22@h/d", "must start with postgresql://"),
        ("postgresql://u:hunter22@/d", "names no host"),
        ("postgresql://u:hunter22@h:99999/d", "port"),
        ("postgresql://u:hunter22@h/d?sslmode=always", "sslmode `always`"),
        ("postgresql://:hunter22@h/d", "names no user"),
        ("postgresql://u:hunter22@h1,h2/d", "several hosts"),
    ])
    func refuses(_ url: String, reason: String) throws {
        let error = #expect(throws: ConfigurationError.self) { try PostgresTarget.parse(url) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("hunter22") == false, "the password must not be echoed")
        #expect(error?.exitStatus == .usage)
    }

    @Test func redactsThePassword() {
        #expect(PostgresTarget.redacted("postgresql://u:p%40ss@h:5432/d") == "postgresql://u:***@h:5432/d")
        #expect(PostgresTarget.redacted("postgresql://u@h/d") == "postgresql://u@h/d")
    }
}

/// What the mirror records for the export, without a database to export to.
@Suite struct ExportLedgerTests {
    static func owed(_ mirror: Mirror) throws -> [String: Int] {
        Dictionary(uniqueKeysWithValues: try ExportLedger(mirror: mirror).owed().map { ($0.table, $0.rows) })
    }

    @Test func everyInsertAndUpdateIsOwedOnceUntilExported() throws {
        let dir = try TestPaths.temporaryDirectory()
        let mirror = try Mirror(path: dir.appendingPathComponent("m.sqlite").path)
        #expect(try Self.owed(mirror)["plane.sync_config"] == SyncEntities.all.count, "a new mirror owes its default config")
        try MirrorFixtures.addPlaneSync(mirror.path, mappings: 4, queue: 2, logs: 3, events: 5)
        var owed = try Self.owed(mirror)
        #expect(owed["plane.sync_mappings"] == 4 && owed["plane.sync_queue"] == 2 && owed["ops.runs"] == 1)
        #expect(owed["plane.sync_log"] == 3 && owed["ops.events"] == 5)

        let ledger = ExportLedger(mirror: mirror)
        let batch = try #require(try ledger.changeBatch(after: 0, limit: 1000))
        #expect(batch.rows["sync_mappings"]?.count == 4)
        try ledger.advance(ExportLedger.changesWatermark, to: batch.lastSeq)
        owed = try Self.owed(mirror)
        #expect(owed["plane.sync_mappings"] == 0 && owed["plane.sync_config"] == 0 && owed["ops.events"] == 5)

        // Changed twice since: owed once, in its latest state.
        try mirror.write { db in
            try db.execute(sql: "UPDATE sync_mappings SET sync_version = 7 WHERE id = ?", arguments: [MirrorFixtures.uuid(1, 0)])
            try db.execute(sql: "UPDATE sync_mappings SET sync_version = 8 WHERE id = ?", arguments: [MirrorFixtures.uuid(1, 0)])
        }
        #expect(try Self.owed(mirror)["plane.sync_mappings"] == 1)
        let next = try #require(try ledger.changeBatch(after: batch.lastSeq, limit: 1000))
        let versionIndex = ExportTable.syncMappings.columns.firstIndex { $0.name == "sync_version" } ?? -1
        #expect(next.rows["sync_mappings"]?.map { $0[versionIndex] } == ["8"])
        // Sent entries are pruned, but the newest stays so that rowids never go back under the watermark.
        try ledger.advance(ExportLedger.changesWatermark, to: next.lastSeq)
        #expect(try mirror.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM export_changes") } == 1)
        try mirror.write { db in try db.execute(sql: "UPDATE sync_queue SET status = 'completed'") }
        #expect(try Self.owed(mirror)["plane.sync_queue"] == 2)
    }

    @Test func aMirrorFromBeforeTheExportOwesEverythingItHolds() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("old.sqlite").path
        let queue = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        // A file as the migrations before the export's left it; opening it applies the rest, in order.
        for file in EmbeddedSchema.files where file.name < "005" {
            migrator.registerMigration(String(file.name.dropLast(4))) { db in try db.execute(sql: file.sql) }
        }
        try migrator.migrate(queue)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO customers (id, name, created_at, updated_at) VALUES ('c1', 'Acme', 'now', 'now')")
            try db.execute(sql: "INSERT INTO leads (id, title, customer_id, created_at, updated_at) VALUES ('l1', 'kept', 'c1', 'now', 'now')")
        }
        try queue.close()
        let mirror = try Mirror(path: path)
        let owed = try Self.owed(mirror)
        #expect(owed["public.leads"] == 1 && owed["public.customers"] == 1 && owed["plane.sync_config"] == SyncEntities.all.count)
        // Customers come before the leads that point to them.
        let order = try mirror.read { db in try String.fetchAll(db, sql: "SELECT tbl FROM export_changes ORDER BY seq") }
        #expect(order.firstIndex(of: "customers") ?? 99 < order.firstIndex(of: "leads") ?? -1)
    }
}
