import Foundation
import GRDB
import OdooSyncCore

/// The pipeline side: funnel, totals, revenue by salesperson and by month, stale leads.
extension PipelineReport {
    /// One scan of the leads, grouped by every dimension the page uses; the funnel, the
    /// totals, the salespeople and the months are sums over these groups.
    mutating func loadPipeline(_ db: Database) throws {
        // Pipeline order is the stage map's: its rows were written in pipeline order, and a
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

        var funnel: [String?: Stage] = [:]
        var odooNames: [String?: Set<String>] = [:]
        var people: [String?: Salesperson] = [:]
        var months: [String?: CloseMonth] = [:]
        let cursor = try Row.fetchCursor(db, sql: """
            SELECT stage, odoo_stage, salesperson, substr(expected_close_date, 1, 7), active, deleted_at IS NULL,
                   coalesce(expected_close_date < ?, 0), count(*), total(expected_value),
                   total(expected_value * coalesce(probability, 0) / 100.0)
            FROM leads GROUP BY 1, 2, 3, 4, 5, 6, 7
            """, arguments: [today])
        while let row = try cursor.next() {
            let stage: String? = row[0], odooStage: String? = row[1], salesperson: String? = row[2], month: String? = row[3]
            let active: Bool = row[4], counted: Bool = row[5], overdue: Bool = row[6]
            let n: Int = row[7], revenue: Double = row[8], weighted: Double = row[9]
            totalLeads += n
            guard counted else {
                deletedLeads += n
                continue
            }
            if active { activeLeads += n } else { archivedLeads += n }
            var s = funnel[stage] ?? Stage(slug: stage, label: "", leads: 0, archived: 0, revenue: 0, weighted: 0, odooStages: [])
            s.leads += n
            s.archived += active ? 0 : n
            s.revenue += revenue
            s.weighted += weighted
            funnel[stage] = s
            if let odooStage { odooNames[stage, default: []].insert(odooStage) }

            let isOpen = active && stage != PipelineReport.wonSlug && stage != PipelineReport.lostSlug
            var p = people[salesperson] ?? Salesperson(name: salesperson, openLeads: 0, openRevenue: 0, weighted: 0, wonLeads: 0,
                                                       wonRevenue: 0, overdueLeads: 0)
            if stage == PipelineReport.wonSlug {
                p.wonLeads += n
                p.wonRevenue += revenue
            }
            if isOpen {
                p.openLeads += n
                p.openRevenue += revenue
                p.weighted += weighted
                p.overdueLeads += overdue ? n : 0
                openLeads += n
                openRevenue += revenue
                openWeighted += weighted
                var m = months[month] ?? CloseMonth(month: month, leads: 0, revenue: 0, overdueLeads: 0, overdueRevenue: 0)
                m.leads += n
                m.revenue += revenue
                if overdue {
                    m.overdueLeads += n
                    m.overdueRevenue += revenue
                    overdueLeads += n
                    overdueRevenue += revenue
                }
                months[month] = m
            }
            people[salesperson] = p
        }

        // Empty stages stay on the page: a gap in the pipeline is worth seeing.
        for slug in order.keys where funnel[slug] == nil {
            funnel[slug] = Stage(slug: slug, label: "", leads: 0, archived: 0, revenue: 0, weighted: 0, odooStages: [])
        }
        // Odoo's own spelling of each stage, for naming stages that no lead is in.
        var snapshotNames: [String: [String]] = [:]
        let map = StageMap(entries: try Dictionary(Row.fetchAll(db, sql: "SELECT odoo_stage, stage FROM stage_map").map { ($0[0], $0[1]) },
                                                   uniquingKeysWith: { a, _ in a }))
        for name in try String.fetchAll(db, sql: """
            SELECT json_extract(data, '$.name') FROM odoo_records
            WHERE model = 'crm.stage' AND deleted = 0 AND json_type(data, '$.name') = 'text' ORDER BY odoo_id
            """) {
            if let slug = map.slug(forOdooStage: name) { snapshotNames[slug, default: []].append(name) }
        }
        stages = funnel.values.map { stage in
            var s = stage
            s.odooStages = (odooNames[stage.slug] ?? []).sorted()
            let candidates = s.odooStages + (stage.slug.flatMap { snapshotNames[$0] } ?? [])
            s.label = PipelineReport.label(stage.slug, candidates, firstOdooStage)
            return s
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
        salespeople = people.values.sorted { a, b in
            if a.openRevenue != b.openRevenue { return a.openRevenue > b.openRevenue }
            if a.wonRevenue != b.wonRevenue { return a.wonRevenue > b.wonRevenue }
            return (a.name == nil ? 1 : 0, a.name ?? "") < (b.name == nil ? 1 : 0, b.name ?? "")
        }
        closeMonths = months.values.sorted { a, b in
            (a.month == nil ? 1 : 0, a.month ?? "") < (b.month == nil ? 1 : 0, b.month ?? "")
        }
        customers = try Int.fetchOne(db, sql: "SELECT count(*) FROM customers") ?? 0
        contacts = try Int.fetchOne(db, sql: "SELECT count(*) FROM contacts") ?? 0
    }

    /// One scan finds every stale lead with its last change, longest-untouched first; the
    /// totals count them all, and only the ones the table lists are read in full.
    mutating func loadStaleLeads(_ db: Database) throws {
        let arguments: StatementArguments = ["now": generatedAt, "days": options.staleDays]
        var listed: [Int64] = []
        let limit = max(0, options.staleLimit)
        let cursor = try Row.fetchCursor(db, sql: """
            WITH touched AS (
                SELECT l.rowid AS id, l.odoo_id, l.expected_value, \(Definition.lastChange) AS changed
                FROM leads l WHERE \(Definition.open)
            )
            SELECT id, expected_value FROM touched WHERE changed < julianday(:now) - :days ORDER BY changed, odoo_id
            """, arguments: arguments)
        while let row = try cursor.next() {
            staleCount += 1
            staleRevenue += row[1] as Double? ?? 0
            if listed.count < limit { listed.append(row[0]) }
        }
        guard !listed.isEmpty else { return }
        let ids = "[" + listed.map(String.init).joined(separator: ",") + "]"
        staleLeads = try Row.fetchAll(db, sql: """
            WITH touched AS (
                SELECT l.odoo_id, l.title, l.stage, l.salesperson, l.expected_value, l.expected_close_date,
                       \(Definition.lastChange) AS changed
                FROM leads l WHERE l.rowid IN (SELECT value FROM json_each(:ids))
            )
            SELECT odoo_id, title, stage, salesperson, expected_value, expected_close_date, date(changed),
                   CAST(julianday(:now) - changed AS INTEGER), coalesce(expected_close_date < :today, 0)
            FROM touched ORDER BY changed, odoo_id
            """, arguments: ["ids": ids, "now": generatedAt, "today": today]).map { row in
            StaleLead(odooID: row[0], title: row[1], stage: row[2], salesperson: row[3], revenue: row[4], deadline: row[5],
                      lastChange: row[6] ?? "", idleDays: row[7] ?? 0, overdue: row[8])
        }
    }
}
