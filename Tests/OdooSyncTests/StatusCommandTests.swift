import Foundation
import GRDB
import Testing
@testable import OdooSyncCore

/// `odoosync status` through the real binary: its counts come from one pass over `leads` and
/// from indexes, and must equal what a plain query for each one says.
@Suite struct StatusCommandTests {
    @Test func everyCountMatchesAQueryOfItsOwn() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let db = dir.appendingPathComponent("m.sqlite").path
        #expect(try await CLI.run(["init", "--db", db]).status == 0)
        // Every stage, unmapped, archived and deleted leads, some archived and unmapped at once.
        try ReportCommandTests.fillWithLeads(db, count: 2_000)
        try await DatabaseQueue(path: db).write { db in
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
                INSERT INTO odoo_records (model, odoo_id, write_date, deleted, data, data_hash, pulled_at)
                SELECT CASE WHEN i % 3 = 0 THEN 'crm.lead' WHEN i % 3 = 1 THEN 'res.partner' ELSE 'crm.stage' END, i,
                       '2026-01-01 00:00:00', CASE WHEN i % 7 = 0 AND i % 3 != 2 THEN 1 ELSE 0 END, '{}', 0, 'now'
                FROM n
                """)
        }

        let run = try await CLI.run(["status", "--json", "--db", db])
        #expect(run.status == 0, "\(run.output)")
        let status = try JSONValue.parse(run.stdout)

        let expected = try await DatabaseQueue(path: db).read { db -> (leads: [String: Int], stages: [(String, Int)], snapshots: [(String, Int, Int)]) in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            let leads = [
                "total": try count("SELECT count(*) FROM leads"),
                "active": try count("SELECT count(*) FROM leads WHERE active = 1 AND deleted_at IS NULL"),
                "archived": try count("SELECT count(*) FROM leads WHERE active = 0 AND deleted_at IS NULL"),
                "deleted": try count("SELECT count(*) FROM leads WHERE deleted_at IS NOT NULL"),
                "unmapped_stage": try count("SELECT count(*) FROM leads WHERE stage IS NULL AND deleted_at IS NULL"),
            ]
            let stages = try Row.fetchAll(db, sql: """
                SELECT coalesce(stage, '(unmapped)'), count(*) FROM leads WHERE deleted_at IS NULL GROUP BY 1 ORDER BY 2 DESC, 1
                """).map { ($0[0] as String, $0[1] as Int) }
            let snapshots = try Row.fetchAll(db, sql: "SELECT model, count(*), sum(deleted) FROM odoo_records GROUP BY model ORDER BY model")
                .map { ($0[0] as String, $0[1] as Int, $0[2] as Int) }
            return (leads, stages, snapshots)
        }
        // The fill has some of each, so that every count is tested on something.
        #expect(expected.leads.values.allSatisfy { $0 > 0 }, "\(expected.leads)")
        #expect(expected.snapshots.contains { $0.2 > 0 } && expected.snapshots.contains { $0.2 == 0 })

        for (key, value) in expected.leads {
            #expect(status["leads"]?[key]?.intValue == value, "leads.\(key)")
        }
        let stages = try #require(status["leads_by_stage"]?.objectValue)
        #expect(Dictionary(uniqueKeysWithValues: stages.map { ($0.0, $0.1.intValue ?? -1) })
                == Dictionary(uniqueKeysWithValues: expected.stages))
        // The table on a terminal lists them most leads first, ties by name.
        let human = try await CLI.run(["status", "--db", db])
        let lines = human.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("stage ") })
        let table = lines[(header + 1)...].prefix(expected.stages.count).map { line in
            line.split(separator: " ").map(String.init)
        }
        #expect(table.map { $0.first ?? "" } == expected.stages.map(\.0), "in the order SQL sorts them")
        #expect(table.map { Int($0.last ?? "") ?? -1 } == expected.stages.map(\.1))
        let snapshots = try #require(status["snapshots"]?.objectValue)
        #expect(snapshots.map(\.0) == expected.snapshots.map(\.0))
        for (model, records, deleted) in expected.snapshots {
            #expect(status["snapshots"]?[model]?["records"]?.intValue == records, "\(model)")
            #expect(status["snapshots"]?[model]?["deleted"]?.intValue == deleted, "\(model)")
        }
    }
}
