import Foundation
import GRDB
import OdooSyncCore

/// The report's queries. Each definition is a SQL fragment the page quotes in its
/// "How these numbers are computed" section, so that anyone can check a number with
/// `odoosync sql`.
extension PipelineReport {
    public enum Definition {
        /// A lead counts while it has not vanished from Odoo (as in `odoosync status`).
        public static let counted = "deleted_at IS NULL"
        /// The open pipeline: counted, not archived, neither won nor lost.
        public static let open = "deleted_at IS NULL AND active = 1 AND (stage IS NULL OR stage NOT IN ('won', 'lost'))"
        /// When a lead last changed: its Odoo write_date, or a local edit not yet pushed when
        /// that is later. A pull rewrites `updated_at` without anything having changed, so
        /// `updated_at` only counts for leads that never came from Odoo.
        public static let lastChange = """
            max(coalesce(julianday(json_extract(l.metadata, '$.odoo_write_date')), julianday(l.updated_at)), \
            coalesce((SELECT julianday(e.updated_at) FROM local_edits e WHERE e.lead_id = l.id AND e.status IN ('pending', 'conflict')), 0))
            """
    }

    /// A stage's name on the page: the Odoo stage its first map row names (as the leads spell
    /// it), else an Odoo stage spelled like the slug, else the slug in words.
    static func label(_ slug: String?, _ odooNames: [String], _ firstOdooStage: [String: String]) -> String {
        guard let slug else { return "Unmapped Odoo stage" }
        if slug == wonSlug { return "Won" }
        if slug == lostSlug { return "Lost" }
        let spelled = slug.replacingOccurrences(of: "_", with: " ")
        if let first = firstOdooStage[slug], let name = odooNames.first(where: { StageMap.normalize($0) == first }) {
            return name
        }
        if let name = odooNames.first(where: { StageMap.normalize($0) == spelled }) { return name }
        return HTMLText.humanize(slug)
    }

    /// Reads the whole report inside the caller's transaction.
    public static func load(_ db: Database, options: Options) throws -> PipelineReport {
        let generatedAt = Timestamp.iso(options.now)
        let today = String(generatedAt.prefix(10))
        func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
            try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
        }
        let open = Definition.open

        // Funnel, in the stage map's order: its rows were written in pipeline order, and a
        // stage added later with `config set stage` comes after them.
        var order: [String: Int] = [:]
        var firstOdooStage: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT stage, odoo_stage FROM stage_map ORDER BY rowid") {
            let slug: String = row[0]
            if order[slug] == nil {
                order[slug] = order.count
                firstOdooStage[slug] = row[1]
            }
        }
        var odooNames: [String: [String]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT DISTINCT coalesce(stage, ''), odoo_stage FROM leads
            WHERE \(Definition.counted) AND odoo_stage IS NOT NULL ORDER BY 1, 2
            """) {
            odooNames[row[0], default: []].append(row[1])
        }
        var stages: [Stage] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT stage, count(*), coalesce(sum(active = 0), 0), total(expected_value),
                   total(expected_value * coalesce(probability, 0) / 100.0)
            FROM leads WHERE \(Definition.counted) GROUP BY stage
            """) {
            let slug: String? = row[0]
            let names = odooNames[slug ?? ""] ?? []
            stages.append(Stage(slug: slug, label: label(slug, names, firstOdooStage), leads: row[1], archived: row[2],
                                revenue: row[3], weighted: row[4], odooStages: names))
        }
        // Empty stages stay on the page: a gap in the pipeline is worth seeing.
        for slug in order.keys where !stages.contains(where: { $0.slug == slug }) {
            stages.append(Stage(slug: slug, label: label(slug, [], firstOdooStage), leads: 0, archived: 0, revenue: 0, weighted: 0,
                                odooStages: []))
        }
        func rank(_ stage: Stage) -> (Int, Int, String) {
            let group: Int
            switch stage.kind {
            case .open: group = 0
            case .won: group = 1
            case .lost: group = 2
            case .unmapped: group = 3
            }
            return (group, stage.slug.flatMap { order[$0] } ?? Int.max, stage.slug ?? "")
        }
        stages.sort { rank($0) < rank($1) }

        let totals = try Row.fetchOne(db, sql: """
            SELECT count(*), coalesce(sum(active = 1 AND deleted_at IS NULL), 0),
                   coalesce(sum(active = 0 AND deleted_at IS NULL), 0), coalesce(sum(deleted_at IS NOT NULL), 0) FROM leads
            """)
        let openTotals = try Row.fetchOne(db, sql: """
            SELECT count(*), total(expected_value), total(expected_value * coalesce(probability, 0) / 100.0),
                   coalesce(sum(expected_close_date < :today), 0),
                   total(CASE WHEN expected_close_date < :today THEN expected_value END)
            FROM leads WHERE \(open)
            """, arguments: ["today": today])

        var salespeople: [Salesperson] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT salesperson,
                   coalesce(sum(\(open)), 0), total(CASE WHEN \(open) THEN expected_value END),
                   total(CASE WHEN \(open) THEN expected_value * coalesce(probability, 0) / 100.0 END),
                   coalesce(sum(stage = 'won'), 0), total(CASE WHEN stage = 'won' THEN expected_value END),
                   coalesce(sum(\(open) AND expected_close_date < :today), 0)
            FROM leads WHERE \(Definition.counted) GROUP BY salesperson
            ORDER BY 3 DESC, 6 DESC, salesperson IS NULL, salesperson
            """, arguments: ["today": today]) {
            salespeople.append(Salesperson(name: row[0], openLeads: row[1], openRevenue: row[2], weighted: row[3],
                                           wonLeads: row[4], wonRevenue: row[5], overdueLeads: row[6]))
        }

        var months: [CloseMonth] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT substr(expected_close_date, 1, 7) AS month, count(*), total(expected_value),
                   coalesce(sum(expected_close_date < :today), 0), total(CASE WHEN expected_close_date < :today THEN expected_value END)
            FROM leads WHERE \(open) GROUP BY month ORDER BY month IS NULL, month
            """, arguments: ["today": today]) {
            months.append(CloseMonth(month: row[0], leads: row[1], revenue: row[2], overdueLeads: row[3], overdueRevenue: row[4]))
        }

        // Stale leads: one pass computes every open lead's last change; the totals count them
        // all, the table lists the longest-untouched.
        let staleArguments: StatementArguments = ["now": generatedAt, "days": options.staleDays, "today": today,
                                                  "limit": max(0, options.staleLimit)]
        let staleCTE = """
            WITH touched AS (
                SELECT l.odoo_id, l.title, l.stage, l.salesperson, l.expected_value, l.expected_close_date,
                       \(Definition.lastChange) AS changed
                FROM leads l WHERE \(open)
            )
            """
        let staleTotals = try Row.fetchOne(db, sql: staleCTE + """
            SELECT count(*), total(expected_value) FROM touched WHERE changed < julianday(:now) - :days
            """, arguments: staleArguments)
        var staleLeads: [StaleLead] = []
        for row in try Row.fetchAll(db, sql: staleCTE + """
            SELECT odoo_id, title, stage, salesperson, expected_value, expected_close_date,
                   date(changed), CAST(julianday(:now) - changed AS INTEGER), coalesce(expected_close_date < :today, 0)
            FROM touched WHERE changed < julianday(:now) - :days
            ORDER BY changed, odoo_id LIMIT :limit
            """, arguments: staleArguments) {
            staleLeads.append(StaleLead(odooID: row[0], title: row[1], stage: row[2], salesperson: row[3], revenue: row[4],
                                        deadline: row[5], lastChange: row[6] ?? "", idleDays: row[7] ?? 0,
                                        overdue: row[8]))
        }

        // The same "last run of each job" as `odoosync status`.
        let runColumns = "job_name, status, started_at, ended_at, records_processed, records_failed"
        func run(_ row: Row) -> Run {
            Run(job: row[0], status: row[1], startedAt: row[2], endedAt: row[3], processed: row[4], failed: row[5])
        }
        let lastRuns = try Row.fetchAll(db, sql: """
            SELECT \(runColumns) FROM runs r
            WHERE started_at = (SELECT max(started_at) FROM runs WHERE job_name = r.job_name) ORDER BY job_name
            """).map(run)
        func latest(_ prefix: String) throws -> Run? {
            try Row.fetchOne(db, sql: "SELECT \(runColumns) FROM runs WHERE job_name LIKE ? ORDER BY started_at DESC LIMIT 1",
                             arguments: [prefix + "%"]).map(run)
        }

        let since = try String.fetchOne(db, sql: "SELECT date(:today, :offset)",
                                        arguments: ["today": today, "offset": "-\(max(1, options.historyDays) - 1) days"]) ?? today
        var errorsByDay: [String: ErrorDay] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT substr(timestamp, 1, 10), count(*) FROM events
            WHERE level IN ('error', 'fatal') AND substr(timestamp, 1, 10) >= ? GROUP BY 1
            """, arguments: [since]) {
            let day: String = row[0]
            errorsByDay[day, default: ErrorDay(day: day, errorEvents: 0, failedSyncs: 0)].errorEvents = row[1]
        }
        var activityByDay: [String: ActivityDay] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT substr(created_at, 1, 10), coalesce(sum(success = 1), 0), coalesce(sum(success = 0), 0) FROM sync_log
            WHERE substr(created_at, 1, 10) >= ? GROUP BY 1
            """, arguments: [since]) {
            let day: String = row[0]
            errorsByDay[day, default: ErrorDay(day: day, errorEvents: 0, failedSyncs: 0)].failedSyncs = row[2]
            activityByDay[day] = ActivityDay(day: day, succeeded: row[1], failed: row[2])
        }
        let days = try String.fetchAll(db, sql: """
            WITH RECURSIVE d(day) AS (SELECT ? UNION ALL SELECT date(day, '+1 day') FROM d WHERE day < ?) SELECT day FROM d
            """, arguments: [since, today])

        // Mapped pairs: a mapping's Plane side is its source or its target, depending on
        // which system it started from.
        var pairs: [EntityPair] = []
        for row in try Row.fetchAll(db, sql: "SELECT plane_type, odoo_model, enabled, direction, conflict_resolution FROM sync_config ORDER BY plane_type, odoo_model") {
            pairs.append(EntityPair(planeType: row[0], odooModel: row[1], configured: true, enabled: row[2], direction: row[3],
                                    strategy: row[4], mappings: 0, active: 0, errors: 0, lastSyncedAt: nil))
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT CASE source_system WHEN 'plane' THEN source_type ELSE target_type END,
                   CASE source_system WHEN 'plane' THEN target_type ELSE source_type END,
                   count(*), coalesce(sum(status = 'active'), 0), coalesce(sum(status = 'error'), 0), max(last_synced_at)
            FROM sync_mappings GROUP BY 1, 2 ORDER BY 1, 2
            """) {
            let plane: String = row[0], odoo: String = row[1]
            if let i = pairs.firstIndex(where: { $0.planeType == plane && $0.odooModel == odoo }) {
                pairs[i].mappings = row[2]
                pairs[i].active = row[3]
                pairs[i].errors = row[4]
                pairs[i].lastSyncedAt = row[5]
            } else {
                pairs.append(EntityPair(planeType: plane, odooModel: odoo, configured: false, enabled: false, direction: nil,
                                        strategy: nil, mappings: row[2], active: row[3], errors: row[4], lastSyncedAt: row[5]))
            }
        }

        return PipelineReport(
            options: options,
            generatedAt: generatedAt,
            today: today,
            schemaVersion: try String.fetchOne(db, sql: "SELECT max(identifier) FROM grdb_migrations") ?? "",
            stages: stages,
            totalLeads: totals?[0] ?? 0,
            activeLeads: totals?[1] ?? 0,
            archivedLeads: totals?[2] ?? 0,
            deletedLeads: totals?[3] ?? 0,
            customers: try count("SELECT count(*) FROM customers"),
            contacts: try count("SELECT count(*) FROM contacts"),
            openLeads: openTotals?[0] ?? 0,
            openRevenue: openTotals?[1] ?? 0,
            openWeighted: openTotals?[2] ?? 0,
            overdueLeads: openTotals?[3] ?? 0,
            overdueRevenue: openTotals?[4] ?? 0,
            salespeople: salespeople,
            closeMonths: months,
            staleCount: staleTotals?[0] ?? 0,
            staleRevenue: staleTotals?[1] ?? 0,
            staleLeads: staleLeads,
            lastRuns: lastRuns,
            lastPull: try latest("pull"),
            lastPush: try latest("push"),
            lastExport: try latest("export"),
            lastExportWatermark: try String.fetchOne(db, sql: "SELECT max(updated_at) FROM export_watermarks"),
            queue: try Row.fetchAll(db, sql: "SELECT status, count(*) FROM sync_queue GROUP BY status ORDER BY status").map { ($0[0], $0[1]) },
            localEdits: try Row.fetchAll(db, sql: "SELECT status, count(*) FROM local_edits GROUP BY status ORDER BY status").map { ($0[0], $0[1]) },
            openConflicts: try count("SELECT count(*) FROM conflicts WHERE status = 'open'"),
            conflicts: try Row.fetchAll(db, sql: """
                SELECT entity, entity_id, odoo_id, created_at FROM conflicts WHERE status = 'open' ORDER BY created_at DESC, id DESC LIMIT 10
                """).map { Conflict(entity: $0[0], entityID: $0[1], odooID: $0[2], createdAt: $0[3]) },
            errorDays: days.map { errorsByDay[$0] ?? ErrorDay(day: $0, errorEvents: 0, failedSyncs: 0) },
            recentActivity: try Row.fetchAll(db, sql: """
                SELECT timestamp, level, event_type, message FROM events WHERE level != 'debug' ORDER BY seq DESC LIMIT 10
                """).map { Event(timestamp: $0[0], level: $0[1], type: $0[2], message: $0[3]) },
            entityPairs: pairs,
            planeRecords: try Row.fetchAll(db, sql: "SELECT kind, count(*) FROM plane_records WHERE deleted = 0 GROUP BY kind ORDER BY kind").map { ($0[0], $0[1]) },
            activityDays: days.map { activityByDay[$0] ?? ActivityDay(day: $0, succeeded: 0, failed: 0) },
            recentOperations: try Row.fetchAll(db, sql: """
                SELECT created_at, source_system, source_id, target_id, operation, success, duration_ms, error_message
                FROM sync_log ORDER BY seq DESC LIMIT 15
                """).map { SyncOperation(createdAt: $0[0], sourceSystem: $0[1], sourceID: $0[2], targetID: $0[3], operation: $0[4],
                                         success: $0[5], durationMs: $0[6], error: $0[7]) }
        )
    }
}
