/// What each published table is made of: where its rows come from in the mirror, which
/// target columns identify a row, and which are written. Column lists follow
/// reference/supabase-schema.md.
struct ExportTable: Sendable {
    enum Feed: Sendable {
        /// Rows that change in place, found through `export_changes`.
        case changes
        /// Append-only rows with their own `seq`, watermarked under `watermark`.
        case appended(watermark: String)
    }

    struct Column: Sendable {
        /// The target column.
        let name: String
        /// The mirror expression (over alias `t`) that yields its value as text.
        let mirror: String
        /// Written when the row is created, never changed afterwards (ids of rows matched on a
        /// natural key, creation times).
        var insertOnly = false
        /// A JSON object merged into what the target holds, so keys that other apps added survive.
        var mergeJSON = false
        /// A reference to another target row, checked or translated once per batch.
        var lookup: Lookup? = nil
    }

    /// References the target resolves differently from the mirror. Resolved with one query per
    /// batch rather than a subquery per row, which cost as much as the insert itself.
    enum Lookup: Sendable {
        /// The id of an `ops.runs` row, kept only when the target has that run: a run missing
        /// there (only possible when something wrote the mirror while export ran) leaves the
        /// reference empty rather than failing the batch on the foreign key.
        case existingRun
        /// The target's id for the mapping with the natural key held in these auxiliary
        /// columns: a mapping the target already had keeps its own id when export updates it.
        case mappingByKey(system: String, sourceID: String, sourceType: String)
    }

    let target: String
    /// The mirror table (its name in `export_changes.tbl`).
    let mirror: String
    /// The mirror FROM clause, the table aliased `t`.
    let from: String
    let feed: Feed
    /// Target columns a row is matched on.
    let key: [String]
    let columns: [Column]
    /// Values read with each row that no column stores directly (see `Lookup`).
    var auxiliary: [Column] = []
    /// Leads: rows not from this sync, or edited in Supabase since their last sync, are left alone.
    var guardsForeignEdits = false

    var schema: String { String(target.split(separator: ".")[0]) }
    var name: String { String(target.split(separator: ".")[1]) }
    var insertOnly: Bool { if case .appended = feed { return true } else { return false } }

    static func bool(_ expression: String) -> String { "CASE WHEN \(expression) THEN 'true' ELSE 'false' END" }
    static let companySetting = "(SELECT nullif(value, '') FROM settings WHERE key = 'leads.company_id')"

    static let runs = ExportTable(
        target: "ops.runs", mirror: "runs", from: "runs t", feed: .changes, key: ["id"],
        columns: [
            Column(name: "id", mirror: "t.id"), Column(name: "system", mirror: "t.system"),
            Column(name: "job_name", mirror: "t.job_name"), Column(name: "status", mirror: "t.status"),
            Column(name: "started_at", mirror: "t.started_at"), Column(name: "ended_at", mirror: "t.ended_at"),
            Column(name: "records_processed", mirror: "t.records_processed"),
            Column(name: "records_failed", mirror: "t.records_failed"), Column(name: "metadata", mirror: "t.metadata"),
        ])

    static let syncConfig = ExportTable(
        target: "plane.sync_config", mirror: "sync_config", from: "sync_config t", feed: .changes,
        key: ["plane_type", "odoo_model"],
        columns: [
            Column(name: "id", mirror: "t.id", insertOnly: true), Column(name: "plane_type", mirror: "t.plane_type"),
            Column(name: "odoo_model", mirror: "t.odoo_model"), Column(name: "enabled", mirror: bool("t.enabled")),
            Column(name: "direction", mirror: "t.direction"), Column(name: "field_mappings", mirror: "t.field_mappings"),
            Column(name: "conflict_resolution", mirror: "t.conflict_resolution"),
            Column(name: "created_at", mirror: "t.created_at", insertOnly: true), Column(name: "updated_at", mirror: "t.updated_at"),
        ])

    static let syncMappings = ExportTable(
        target: "plane.sync_mappings", mirror: "sync_mappings", from: "sync_mappings t", feed: .changes,
        key: ["source_system", "source_id", "source_type"],
        columns: [
            Column(name: "id", mirror: "t.id", insertOnly: true), Column(name: "source_system", mirror: "t.source_system"),
            Column(name: "source_id", mirror: "t.source_id"), Column(name: "source_type", mirror: "t.source_type"),
            Column(name: "target_id", mirror: "t.target_id"), Column(name: "target_type", mirror: "t.target_type"),
            Column(name: "last_synced_at", mirror: "t.last_synced_at"), Column(name: "sync_version", mirror: "t.sync_version"),
            Column(name: "sync_direction", mirror: "t.sync_direction"), Column(name: "status", mirror: "t.status"),
            Column(name: "last_error", mirror: "t.last_error"), Column(name: "error_count", mirror: "t.error_count"),
            Column(name: "created_at", mirror: "t.created_at", insertOnly: true), Column(name: "updated_at", mirror: "t.updated_at"),
        ])

    static let syncQueue = ExportTable(
        target: "plane.sync_queue", mirror: "sync_queue", from: "sync_queue t", feed: .changes, key: ["id"],
        columns: [
            "id", "source_system", "source_id", "source_type", "operation", "payload", "status", "priority", "attempts",
            "max_attempts", "last_attempt_at", "next_attempt_at", "last_error", "created_at", "completed_at", "worker_id",
            "lock_until",
        ].map { Column(name: $0, mirror: "t.\($0)") })

    static let syncLog = ExportTable(
        target: "plane.sync_log", mirror: "sync_log",
        from: "sync_log t LEFT JOIN sync_mappings m ON m.id = t.mapping_id", feed: .appended(watermark: "plane.sync_log"),
        key: ["id"],
        columns: [
            Column(name: "id", mirror: "t.id"),
            Column(name: "mapping_id", mirror: "t.mapping_id",
                   lookup: .mappingByKey(system: "mapping_system", sourceID: "mapping_source_id", sourceType: "mapping_source_type")),
            Column(name: "source_system", mirror: "t.source_system"), Column(name: "source_id", mirror: "t.source_id"),
            Column(name: "target_id", mirror: "t.target_id"), Column(name: "operation", mirror: "t.operation"),
            Column(name: "success", mirror: bool("t.success")), Column(name: "error_message", mirror: "t.error_message"),
            Column(name: "source_data", mirror: "t.source_data"), Column(name: "target_data", mirror: "t.target_data"),
            Column(name: "duration_ms", mirror: "t.duration_ms"), Column(name: "created_at", mirror: "t.created_at"),
        ],
        auxiliary: [
            Column(name: "mapping_system", mirror: "m.source_system"), Column(name: "mapping_source_id", mirror: "m.source_id"),
            Column(name: "mapping_source_type", mirror: "m.source_type"),
        ])

    static let events = ExportTable(
        target: "ops.events", mirror: "events", from: "events t", feed: .appended(watermark: "ops.events"), key: ["id"],
        columns: [
            Column(name: "id", mirror: "t.id"),
            Column(name: "run_id", mirror: "t.run_id", lookup: .existingRun),
            Column(name: "level", mirror: "t.level"), Column(name: "category", mirror: "t.category"),
            Column(name: "event_type", mirror: "t.event_type"), Column(name: "message", mirror: "t.message"),
            Column(name: "system", mirror: "t.system"), Column(name: "component", mirror: "t.component"),
            Column(name: "function_name", mirror: "t.function_name"), Column(name: "metadata", mirror: "t.metadata"),
            Column(name: "context", mirror: "t.context"), Column(name: "duration_ms", mirror: "t.duration_ms"),
            Column(name: "timestamp", mirror: "t.timestamp"), Column(name: "created_at", mirror: "t.created_at"),
        ])

    static let customers = ExportTable(
        target: "public.customers", mirror: "customers", from: "customers t", feed: .changes, key: ["id"],
        columns: [
            Column(name: "id", mirror: "t.id"), Column(name: "name", mirror: "t.name"),
            Column(name: "company_id", mirror: "coalesce(t.company_id, \(companySetting))"), Column(name: "status", mirror: "t.status"),
        ])

    static let contacts = ExportTable(
        target: "public.contacts", mirror: "contacts", from: "contacts t", feed: .changes, key: ["id"],
        columns: [
            Column(name: "id", mirror: "t.id"), Column(name: "customer_id", mirror: "t.customer_id"),
            Column(name: "company_id", mirror: "coalesce(t.company_id, \(companySetting))"),
            Column(name: "first_name", mirror: "t.first_name"), Column(name: "last_name", mirror: "t.last_name"),
            Column(name: "email", mirror: "t.email"), Column(name: "phone", mirror: "t.phone"),
            Column(name: "is_primary", mirror: bool("t.is_primary")),
        ])

    /// `metadata.synced_at` is the mirror row's `updated_at`, and so is the target's
    /// `updated_at` once written: a target row whose `updated_at` is later than its
    /// `synced_at` was edited in Supabase after the sync wrote it.
    static let leads = ExportTable(
        target: "public.leads", mirror: "leads", from: "leads t", feed: .changes, key: ["source_email_id"],
        columns: [
            Column(name: "id", mirror: "t.id", insertOnly: true), Column(name: "title", mirror: "t.title"),
            Column(name: "description", mirror: "t.description"), Column(name: "stage", mirror: "t.stage"),
            Column(name: "source", mirror: "t.source"), Column(name: "source_email_id", mirror: "t.source_email_id"),
            Column(name: "priority", mirror: "t.priority"), Column(name: "expected_close_date", mirror: "t.expected_close_date"),
            Column(name: "probability", mirror: "t.probability"), Column(name: "expected_value", mirror: "t.expected_value"),
            Column(name: "customer_id", mirror: "t.customer_id"), Column(name: "notes", mirror: "t.notes"),
            Column(name: "metadata", mirror: """
                json_set(t.metadata, '$.synced_at', t.updated_at, '$.odoo_active', json(\(bool("t.active"))), \
                '$.odoo_deleted_at', t.deleted_at, '$.odoo_tag_ids', json(t.tags))
                """, mergeJSON: true),
            Column(name: "company_id", mirror: "coalesce(t.company_id, \(companySetting))"),
            Column(name: "created_at", mirror: "t.created_at", insertOnly: true), Column(name: "updated_at", mirror: "t.updated_at"),
        ],
        guardsForeignEdits: true)

    /// In the order a batch applies them: what others point to comes first.
    static let changed: [ExportTable] = [runs, syncConfig, syncMappings, syncQueue, customers, contacts, leads]
    static let appended: [ExportTable] = [syncLog, events]
    static let all: [ExportTable] = changed + appended

    /// What a lead's source must be for export to treat a matching target row as its own.
    static let leadSource = "odoo_sync"
}
