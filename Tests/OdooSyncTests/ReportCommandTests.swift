import Foundation
import GRDB
import Testing
import OdooEmulator
@testable import OdooSyncCore

/// `odoosync report` through the real binary: the numbers, the settings, the errors, and what
/// the page must never contain.
@Suite(.serialized) struct ReportCommandTests {
    /// Open leads whose last change is more than `days` before `now`, counted independently of
    /// the report's own SQL.
    static func staleCount(_ path: String, now: String, days: Int) throws -> Int {
        var config = Configuration()
        config.readonly = true
        return try DatabaseQueue(path: path, configuration: config).read { db in
            let nowDay = try Double.fetchOne(db, sql: "SELECT julianday(?)", arguments: [now]) ?? 0
            var count = 0
            for row in try Row.fetchAll(db, sql: """
                SELECT json_extract(l.metadata, '$.odoo_write_date'), l.updated_at,
                       (SELECT updated_at FROM local_edits e WHERE e.lead_id = l.id AND e.status IN ('pending', 'conflict'))
                FROM leads l
                WHERE l.deleted_at IS NULL AND l.active = 1 AND coalesce(l.stage, '') NOT IN ('won', 'lost')
                """) {
                let odoo: String? = row[0], updated: String = row[1], edit: String? = row[2]
                var changed = try Double.fetchOne(db, sql: "SELECT julianday(?)", arguments: [odoo ?? updated]) ?? 0
                if let edit { changed = max(changed, try Double.fetchOne(db, sql: "SELECT julianday(?)", arguments: [edit]) ?? 0) }
                if changed < nowDay - Double(days) { count += 1 }
            }
            return count
        }
    }

    /// Writes `count` leads straight into a mirror: every stage, a few unmapped, archived and
    /// deleted ones, deadlines over three years, and a dozen salespeople.
    static func fillWithLeads(_ path: String, count: Int) throws {
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                INSERT INTO leads (id, title, stage, source, source_email_id, priority, expected_close_date, probability,
                                   expected_value, metadata, created_at, updated_at, odoo_id, odoo_stage, salesperson,
                                   active, deleted_at)
                SELECT printf('00000000-0000-4000-8000-%012d', i), 'Generated lead ' || i,
                       CASE WHEN i % 97 = 0 THEN NULL
                            ELSE json_extract('["new","telephonic_enquiries","qualified","rfi","hot_enquiries","quotation_bids","shop_drawing","won","lost"]',
                                              '$[' || (i % 9) || ']') END,
                       'odoo_sync', 'odoo_crm_' || i, 'low',
                       CASE WHEN i % 5 = 0 THEN NULL ELSE date('2025-06-01', '+' || (i % 1100) || ' days') END,
                       (i % 10) * 10, (i % 1000) * 123.45,
                       json_object('odoo_id', i, 'odoo_write_date', datetime('2026-11-20 12:00:00', '-' || (i % 500) || ' days')),
                       '2025-01-01T00:00:00.000Z', '2026-11-20T12:00:00.000Z', i,
                       CASE WHEN i % 97 = 0 THEN 'Site Visit' ELSE 'Stage ' || (i % 9) END,
                       CASE WHEN i % 13 = 0 THEN NULL ELSE 'Salesperson ' || (i % 12) END,
                       CASE WHEN i % 50 = 0 THEN 0 ELSE 1 END,
                       CASE WHEN i % 333 = 0 THEN '2026-11-01T00:00:00.000Z' END
                FROM n
                """, arguments: [count])
        }
    }

    static func appendErrorEvent(_ path: String, message: String) throws {
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: """
                INSERT INTO events (id, seq, level, category, event_type, message, timestamp, created_at)
                VALUES ('e-report-test', (SELECT coalesce(max(seq), 0) + 1 FROM events), 'error', 'odoo-crm-sync', 'run_failed',
                        ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                """, arguments: [message])
        }
    }

    static func page(_ path: URL) throws -> String { try String(contentsOf: path, encoding: .utf8) }

    @Test func theNumbersAreTheOnesStatusAndSQLGive() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        #expect(try await h.run(["leads", "edit", "3", "--probability", "55"]).status == 0)
        let out = h.directory.appendingPathComponent("r.html")
        let report = try await h.run(["report", "--out", out.path, "--json"])
        #expect(report.status == 0, "\(report.output)")
        let summary = try JSONValue.parse(report.stdout)
        #expect(summary["path"]?.stringValue == out.path)
        let html = try Self.page(out)
        #expect(summary["bytes"]?.intValue == html.utf8.count)

        let status = try JSONValue.parse(try await h.run(["status", "--json"]).stdout)
        #expect(summary["leads"]?.intValue == (status["leads"]?["active"]?.intValue ?? 0) + (status["leads"]?["archived"]?.intValue ?? 0))
        #expect(ReportDOM.elements(html, marker: "data-open-conflicts=").first?["data-open-conflicts"]
                == status["open_conflicts"]?.intValue.map(String.init))
        let edits = ReportDOM.elements(html, marker: "data-count=").filter { $0["data-status"] == "pending" }
        #expect(edits.contains { $0["data-count"] == "1" }, "the pending edit is counted")
        let runs = ReportDOM.elements(html, marker: "data-job=").compactMap { $0["data-job"] }
        #expect(runs == (status["last_runs"]?.objectValue ?? []).map(\.0))

        // Revenue by salesperson equals what `odoosync sql` gives.
        let sql = try await h.run(["sql", "--json", """
            select coalesce(salesperson, '') as who, count(*) as n, total(expected_value) as revenue from public.leads
            where deleted_at is null and active = 1 and (stage is null or stage not in ('won', 'lost')) group by salesperson
            """])
        #expect(sql.status == 0, "\(sql.output)")
        let people = ReportDOM.elements(html, marker: "data-salesperson=")
        let rows = try #require(try JSONValue.parse(sql.stdout).arrayValue)
        #expect(!rows.isEmpty)
        for row in rows {
            let who = row["who"]?.stringValue ?? "?"
            let shown = people.first { $0["data-salesperson"] == who }
            #expect(shown?["data-open-leads"] == row["n"]?.intValue.map(String.init), "\(who)")
            #expect(abs((Double(shown?["data-open-revenue"] ?? "") ?? -1) - (row["revenue"]?.doubleValue ?? 0)) < 0.006, "\(who)")
        }

        // Overdue: open leads past their deadline, by the same rule in SQL.
        let today = try #require(ReportDOM.root(html)["data-today"])
        let overdue = try h.query { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM leads WHERE deleted_at IS NULL AND active = 1 AND coalesce(stage, '') NOT IN ('won', 'lost')
                AND expected_close_date < ?
                """, arguments: [today])
        }
        #expect(summary["overdue_leads"]?.intValue == overdue)
        #expect(ReportDOM.elements(html, marker: "data-kpi=").first { $0["data-kpi"] == "overdue" }?["data-value"] == overdue.map(String.init))
    }

    @Test func staleDaysComeFromTheSettingOrTheFlag() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let out = h.directory.appendingPathComponent("r.html")
        #expect(try await h.run(["config", "set", "report.stale_days", "400"]).status == 0)
        #expect(try await h.run(["report", "--out", out.path, "--stale-limit", "5000"]).status == 0)
        var html = try Self.page(out)
        var root = ReportDOM.root(html)
        #expect(root["data-stale-days"] == "400")
        let at400 = try Self.staleCount(h.dbPath, now: root["data-generated-at"] ?? "", days: 400)
        #expect(ReportDOM.elements(html, marker: "data-stale-count=").first?["data-stale-count"] == String(at400))
        #expect(ReportDOM.elements(html, marker: "data-idle-days=").allSatisfy { Int($0["data-idle-days"] ?? "") ?? 0 >= 400 })

        // The flag wins over the setting.
        #expect(try await h.run(["report", "--out", out.path, "--stale-days", "10", "--stale-limit", "5000"]).status == 0)
        html = try Self.page(out)
        root = ReportDOM.root(html)
        #expect(root["data-stale-days"] == "10")
        let at10 = try Self.staleCount(h.dbPath, now: root["data-generated-at"] ?? "", days: 10)
        #expect(at10 > at400)
        let listed = ReportDOM.elements(html, marker: "data-idle-days=").compactMap { $0["data-odoo-id"] }
        #expect(listed.count == at10)

        // A lead edited here and not pushed yet has changed: it leaves the stale list.
        let first = try #require(listed.first)
        #expect(try await h.run(["leads", "edit", first, "--probability", "35"]).status == 0)
        #expect(try await h.run(["report", "--out", out.path, "--stale-days", "10", "--stale-limit", "5000"]).status == 0)
        let after = ReportDOM.elements(try Self.page(out), marker: "data-idle-days=").compactMap { $0["data-odoo-id"] }
        #expect(after.count == at10 - 1 && !after.contains(first))

        let bad = try await h.run(["config", "set", "report.stale_days", "soon"])
        #expect(bad.status == 2 && bad.stderr.contains("report.stale_days"), "\(bad.output)")
    }

    @Test func thePageIsSelfContainedEscapedAndHoldsNoSecret() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let hostile = "<script>alert(\"x\")</script> & <img src=https://example.com/x.png>"
        #expect(h.emulator.modify(model: "crm.lead", id: 1, values: ["name": .string(hostile)]))
        let secret = "s3cret-report-key-\(UUID().uuidString.prefix(8))"
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        // A message copied from a remote error that happens to hold the key.
        try Self.appendErrorEvent(h.dbPath, message: "login failed with key \(secret)")
        let out = h.directory.appendingPathComponent("r.html")
        let report = try await h.run(["report", "--out", out.path, "--stale-days", "0", "--stale-limit", "100000"],
                                     extra: ["ODOO_API_KEY": secret])
        #expect(report.status == 0, "\(report.output)")
        let html = try Self.page(out)
        #expect(!html.contains(secret))
        #expect(html.contains("login failed with key ***"))
        #expect(!html.contains("<script>alert"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=https://example.com/x.png&gt;"))
        // Nothing is fetched: one inline script, no external stylesheet, image, font or frame.
        #expect(html.components(separatedBy: "<script").count == 2)
        for reference in ["<link", "<img", "<iframe", "@import", "url(", "src=\"", "href=\"http"] {
            #expect(!html.contains(reference), "\(reference)")
        }
        // The errors chart counts the error event of today.
        #expect(ReportDOM.elements(html, marker: "data-errors=").first?["data-errors"].flatMap { Int($0) } ?? 0 >= 1)
    }

    /// Plane ↔ Odoo sync state as the sync engine leaves it: mappings from both sides, queue
    /// items, a failed operation, an open conflict.
    static func fillSyncState(_ path: String) throws {
        try DatabaseQueue(path: path).write { db in
            let now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
            try db.execute(sql: """
                INSERT INTO sync_mappings (id, source_system, source_id, source_type, target_id, target_type, last_synced_at,
                                           status, created_at, updated_at) VALUES
                    ('m1', 'plane', 'p-1', 'issue', '11', 'project.task', \(now), 'active', \(now), \(now)),
                    ('m2', 'plane', 'p-2', 'issue', '12', 'project.task', \(now), 'error', \(now), \(now)),
                    ('m3', 'odoo', '13', 'project.task', 'p-3', 'issue', \(now), 'active', \(now), \(now)),
                    ('m4', 'plane', 'c-1', 'cycle', '5', 'project.milestone', \(now), 'active', \(now), \(now));
                INSERT INTO sync_queue (id, source_system, source_id, source_type, operation, status, created_at) VALUES
                    ('q1', 'plane', 'p-4', 'issue', 'create', 'pending', \(now)),
                    ('q2', 'plane', 'p-5', 'issue', 'update', 'pending', \(now)),
                    ('q3', 'odoo', '14', 'project.task', 'update', 'failed', \(now));
                INSERT INTO sync_log (id, seq, mapping_id, source_system, source_id, target_id, operation, success,
                                      error_message, duration_ms, created_at) VALUES
                    ('l1', 1, 'm1', 'plane', 'p-1', '11', 'create', 1, NULL, 40, \(now)),
                    ('l2', 2, 'm2', 'plane', 'p-2', '12', 'update', 0, 'Odoo refused the write: stage 9 does not exist', 55, \(now));
                INSERT INTO conflicts (entity, entity_id, local_data, remote_data, status, created_at) VALUES
                    ('issue', 'p-2', '{}', '{}', 'open', \(now)),
                    ('issue', 'p-1', '{}', '{}', 'resolved', \(now));
                """)
        }
    }

    @Test func planeMappingsQueueAndErrorsAreCounted() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let db = dir.appendingPathComponent("m.sqlite").path
        #expect(try await CLI.run(["init", "--db", db]).status == 0)
        try Self.fillSyncState(db)
        #expect(try await CLI.run(["config", "set", "sync", "issue:sale.order", "enabled", "false", "--db", db]).status == 0)
        let out = dir.appendingPathComponent("r.html")
        let report = try await CLI.run(["report", "--db", db, "--out", out.path])
        #expect(report.status == 0, "\(report.output)")
        let html = try Self.page(out)

        let pairs = Dictionary(ReportDOM.elements(html, marker: "data-pair=").map { ($0["data-pair"] ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(pairs["issue/project.task"]?["data-mappings"] == "3")
        #expect(pairs["issue/project.task"]?["data-active"] == "2")
        #expect(pairs["issue/project.task"]?["data-errors"] == "1")
        #expect(pairs["project/project.project"]?["data-mappings"] == "0")
        #expect(pairs["cycle/project.milestone"]?["data-mappings"] == "1")
        #expect(html.contains("<span class=\"badge\">disabled</span>"))
        // Every entity type of the design has its sync_config row; one switched off shows as such.
        #expect(!html.contains("not configured"))
        #expect(ReportDOM.elements(html, marker: "data-mappings=").first?["data-mappings"] == "4")

        let status = try JSONValue.parse(try await CLI.run(["status", "--json", "--db", db]).stdout)
        let queue = ReportDOM.elements(html, marker: "data-count=")
        for (state, count) in status["queue"]?.objectValue ?? [] {
            #expect(queue.contains { $0["data-status"] == state && $0["data-count"] == count.intValue.map(String.init) }, "\(state)")
        }
        #expect(queue.contains { $0["data-status"] == "completed" && $0["data-count"] == "0" })
        #expect(ReportDOM.elements(html, marker: "data-open-conflicts=").first?["data-open-conflicts"] == "1")
        #expect(status["open_conflicts"]?.intValue == 1)
        #expect(ReportDOM.elements(html, marker: "data-errors=").first?["data-errors"] == "1")
        #expect(html.contains("Odoo refused the write: stage 9 does not exist"))
        #expect(html.contains("id=\"errors-chart\"") && html.contains("id=\"activity-chart\""))
    }

    @Test func errorsSayWhatToDo() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let db = dir.appendingPathComponent("m.sqlite").path
        let missing = try await CLI.run(["report", "--db", db, "--out", dir.appendingPathComponent("r.html").path])
        #expect(missing.status == 4 && missing.stderr.contains("odoosync init"), "\(missing.output)")

        #expect(try await CLI.run(["init", "--db", db]).status == 0)
        let noFolder = try await CLI.run(["report", "--db", db, "--out", dir.appendingPathComponent("nope/r.html").path])
        #expect(noFolder.status == 2 && noFolder.stderr.contains("Cannot write the report")
                && noFolder.stderr.contains("does not exist") && noFolder.stderr.contains("--out"),
                "\(noFolder.output)")
        let folder = try await CLI.run(["report", "--db", db, "--out", dir.path])
        #expect(folder.status == 2 && folder.stderr.contains("is a folder"), "\(folder.output)")
        let negative = try await CLI.run(["report", "--db", db, "--stale-days", "-1"])
        #expect(negative.status == 2 && negative.stderr.contains("--stale-days"), "\(negative.output)")
    }
}
