import Foundation
import GRDB
import Logging
import PostgresNIO
import Testing
@testable import OdooSyncExport

/// The PostgreSQL the export tests write to: scripts/test starts a private cluster and passes
/// its address in ODOOSYNC_TEST_PG_URL (a role that may create databases and is a member of
/// anon, authenticated and service_role), as PostgresNIO's own integration tests do.
enum TestPostgres {
    static let environment = ProcessInfo.processInfo.environment
    static var url: String? { environment["ODOOSYNC_TEST_PG_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    /// scripts/test sets this, so that a missing server fails the suite instead of skipping it.
    static var required: Bool { environment["ODOOSYNC_REQUIRE_PG"] == "1" }
    /// Run the export tests when a server is given, or when scripts/test says one must be.
    static var enabled: Bool { url != nil || required }
    static let skipMessage: Comment = "ODOOSYNC_TEST_PG_URL is not set: run scripts/test, which starts a private PostgreSQL for these tests"
    /// The server log (log_statement = all), to check what export sent.
    static var log: String? { environment["ODOOSYNC_TEST_PG_LOG"] }
    /// A PgBouncer in transaction mode in front of the cluster, as Supabase's pooler on port 6543.
    static var bouncerPort: Int? { environment["ODOOSYNC_TEST_PGBOUNCER_PORT"].flatMap { Int($0) } }
    /// The CA certificate of the cluster's TLS (a self-signed one for localhost and 127.0.0.1).
    static var certificate: String? { environment["ODOOSYNC_TEST_PG_CA"] }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "ODOOSYNC_TEST_PG_URL is not set, but ODOOSYNC_REQUIRE_PG=1: scripts/test failed to start PostgreSQL" }
    }

    static func base() throws -> PostgresTarget {
        guard let url else { throw Missing() }
        return try PostgresTarget.parse(url)
    }
}

/// A database of its own for one test, dropped at the end.
struct TestDatabase: Sendable {
    let name: String
    let target: PostgresTarget

    static let logger = Logger(label: "odoosync-tests") { _ in SwiftLogNoOpLogHandler() }

    static func create() async throws -> TestDatabase {
        let base = try TestPostgres.base()
        let name = "odoosync_t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try await TestDatabase.run(base, ["CREATE DATABASE \(name)"])
        var target = base
        target.database = name
        return TestDatabase(name: name, target: target)
    }

    func drop() async {
        guard let base = try? TestPostgres.base() else { return }
        try? await TestDatabase.run(base, ["DROP DATABASE IF EXISTS \(name) WITH (FORCE)"])
    }

    /// The URL the binary gets: the test role, TLS off unless the test asks for it.
    func url(sslmode: String = "disable", user: String? = nil, password: String? = nil, host: String? = nil, port: Int? = nil) -> String {
        let pw = password ?? target.password ?? ""
        return "postgresql://\(user ?? target.user):\(pw)@\(host ?? target.host):\(port ?? target.port)/\(name)?sslmode=\(sslmode)"
    }

    func environment(_ mirror: String, sslmode: String = "disable") -> [String: String] {
        ["SUPABASE_DB_URL": url(sslmode: sslmode), "ODOOSYNC_DB": mirror]
    }

    static func connect(_ target: PostgresTarget) async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: target.host, port: target.port, username: target.user, password: target.password,
            database: target.database, tls: .disable)
        configuration.options.additionalStartupParameters = [("TimeZone", "UTC")]
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    }

    static func run(_ target: PostgresTarget, _ statements: [String]) async throws {
        let connection = try await connect(target)
        do {
            for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect() }
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    /// Runs statements one after the other on one connection (so `SET ROLE` carries over).
    func execute(_ statements: [String]) async throws {
        try await TestDatabase.run(target, statements)
    }

    /// The first column of each row, as text.
    func strings(_ sql: String) async throws -> [String?] {
        let connection = try await TestDatabase.connect(target)
        do {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger).collect()
            try await connection.close()
            return try rows.map { try $0.decode(String?.self) }
        } catch {
            try? await connection.close()
            throw error
        }
    }

    func int(_ sql: String) async throws -> Int {
        Int(try await strings("SELECT (\(sql))::text").first.flatMap { $0 } ?? "") ?? -1
    }

    /// A whole table as sorted JSON rows, minus `excluding` columns: what "the same target"
    /// means when two exports are compared.
    func snapshot(_ table: String, excluding: [String] = []) async throws -> [String] {
        let drop = excluding.map { " - '\($0)'" }.joined()
        return try await strings("SELECT (to_jsonb(t)\(drop))::text FROM \(table) t ORDER BY 1").compactMap { $0 }
    }

    /// The first column of the first row of `sql` run as `role`; nil when it fails.
    func value(as role: String, _ sql: String) async -> String? {
        guard let connection = try? await TestDatabase.connect(target) else { return nil }
        defer { Task { try? await connection.close() } }
        do {
            for statement in ["BEGIN", "SET LOCAL ROLE \(role)"] {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: TestDatabase.logger).collect()
            }
            let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT (\(sql))::text"), logger: TestDatabase.logger).collect()
            try await connection.query("ROLLBACK", logger: TestDatabase.logger).collect()
            return try rows.first?.decode(String?.self) ?? nil
        } catch {
            return nil
        }
    }

    /// Whether `statement` fails when run as `role` (after SET ROLE).
    func fails(as role: String, _ statement: String) async -> Bool {
        do {
            try await execute(["BEGIN", "SET LOCAL ROLE \(role)", statement, "ROLLBACK"])
            return false
        } catch {
            return true
        }
    }
}

/// Rows the Plane sync would leave in the mirror (it is another part of odoosync): mappings,
/// queue items, sync log rows and events, written the way its code writes them.
enum MirrorFixtures {
    static func addPlaneSync(_ path: String, mappings: Int, queue: Int = 0, logs: Int = 0, events: Int = 0) throws {
        let queueDB = try DatabaseQueue(path: path)
        try queueDB.write { db in
            let now = "2026-11-20T09:30:00.000Z"
            for i in 0..<mappings {
                try db.execute(sql: """
                    INSERT INTO sync_mappings (id, source_system, source_id, source_type, target_id, target_type, last_synced_at,
                                               sync_version, sync_direction, status, error_count, created_at, updated_at)
                    VALUES (?, 'plane', ?, 'issue', ?, 'project.task', ?, ?, 'bidirectional', ?, 0, ?, ?)
                    """, arguments: [uuid(1, i), "8c2f1e0a-\(String(format: "%04x", i))-4c1b-9a4e-5d7c3b2a1f00", String(1000 + i), now,
                                     1 + i % 3, i % 10 == 0 ? "error" : "active", now, now])
            }
            for i in 0..<queue {
                try db.execute(sql: """
                    INSERT INTO sync_queue (id, source_system, source_id, source_type, operation, payload, status, priority,
                                            attempts, next_attempt_at, created_at)
                    VALUES (?, 'odoo', ?, 'project.task', 'update', ?, 'pending', ?, 0, ?, ?)
                    """, arguments: [uuid(2, i), String(2000 + i), "{\"name\":\"Task \(i)\"}", i % 3, now, now])
            }
            let runID = uuid(3, 0)
            try db.execute(sql: "INSERT INTO runs (id, system, job_name, status, started_at, ended_at) VALUES (?, 'odoo', 'sync plane', 'success', ?, ?)",
                           arguments: [runID, now, now])
            for i in 0..<logs {
                try db.execute(sql: """
                    INSERT INTO sync_log (id, seq, mapping_id, run_id, source_system, source_id, target_id, operation, success,
                                          source_data, duration_ms, created_at)
                    VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM sync_log), ?, ?, 'plane', ?, ?, 'update', 1, '{"name":"x"}', 12, ?)
                    """, arguments: [uuid(4, i), mappings > 0 ? uuid(1, i % mappings) : nil, runID, "issue-\(i)", String(1000 + i), now])
            }
            for i in 0..<events {
                try db.execute(sql: """
                    INSERT INTO events (id, seq, run_id, level, category, event_type, message, system, metadata, timestamp, created_at)
                    VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM events), ?, ?, 'plane-sync', 'issue_synced', ?, 'odoo', ?, ?, ?)
                    """, arguments: [uuid(5, i), runID, i % 7 == 0 ? "warn" : "info", "issue \(i) synced", "{\"i\":\(i)}", now, now])
            }
        }
        try queueDB.close()
    }

    /// Deterministic uuids, so that two mirrors built alike hold the same ids.
    static func uuid(_ kind: Int, _ i: Int) -> String {
        String(format: "%08x-%04x-4000-8000-%012x", i, kind, i)
    }
}
