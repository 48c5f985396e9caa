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

    /// Reads the whole report inside the caller's transaction, so every number on the page
    /// describes the same instant.
    ///
    /// A 100,000-lead table is tens of megabytes that each scan decodes again, so the leads
    /// are read twice in all: once grouped by every dimension the page breaks them down by,
    /// once for the stale leads' last changes.
    public static func load(_ db: Database, options: Options) throws -> PipelineReport {
        var report = PipelineReport(options: options)
        report.schemaVersion = try String.fetchOne(db, sql: "SELECT max(identifier) FROM grdb_migrations") ?? ""
        try report.loadPipeline(db)
        try report.loadStaleLeads(db)
        try report.loadSyncHealth(db)
        try report.loadPlaneSide(db)
        return report
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
}
