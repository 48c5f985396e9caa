import PostgresNIO

/// `export --init-schema`: creates, in one transaction, whatever part of the Supabase setup
/// (reference/supabase-schema.md) the target lacks. Each object is created only when it is
/// missing, and RLS, policies and grants only on the tables created here: what exists is
/// never dropped, altered or re-granted.
enum SchemaInitializer {
    struct Object: Sendable {
        let name: String
        let exists: @Sendable (TargetCatalog) -> Bool
        let sql: @Sendable (TargetCatalog) -> [String]
        /// Tables this object reads, which must have the reference's columns.
        var reads: [String] = []
        var needsRoles = false
    }

    /// Creates what is missing; returns the names of the objects created and the views left
    /// out because a table they read lacks columns.
    static func run(_ connection: SupabaseConnection, catalog: TargetCatalog) async throws -> (created: [String], skipped: [String]) {
        var todo: [Object] = []
        var skipped: [String] = []
        for object in objects where !object.exists(catalog) {
            let lacking = object.reads.filter { table in
                guard let spec = ExportTable.all.first(where: { $0.target == table }) else { return false }
                return catalog.hasTable(table) && !catalog.missingColumns(spec).isEmpty
            }
            if lacking.isEmpty { todo.append(object) } else { skipped.append("\(object.name) (\(lacking.joined(separator: ", ")) lacks columns it reads)") }
        }
        guard !todo.isEmpty else { return ([], skipped) }
        if todo.contains(where: \.needsRoles) {
            let missing = ["authenticated", "service_role"].filter { !catalog.roles.contains($0) }
            if !missing.isEmpty { throw ExportError.rolesMissing(target: connection.target.description, roles: missing) }
        }
        try await connection.transaction(during: "creating the target schema") { conn in
            for object in todo {
                for statement in object.sql(catalog) {
                    try await conn.query(PostgresQuery(unsafeSQL: statement), during: "creating \(object.name)")
                }
            }
        }
        return (todo.map(\.name), skipped)
    }

    static func rls(_ table: String, authenticatedReads: Bool) -> [String] {
        var sql = [
            "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
            "CREATE POLICY \"service_role full access\" ON \(table) FOR ALL TO service_role USING (true) WITH CHECK (true)",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON \(table) TO service_role",
        ]
        if authenticatedReads {
            sql.append("CREATE POLICY \"authenticated read\" ON \(table) FOR SELECT TO authenticated USING (true)")
            sql.append("GRANT SELECT ON \(table) TO authenticated")
        }
        return sql
    }

    /// `security_invoker` (PostgreSQL 15+) makes a view apply the caller's grants and RLS, so
    /// a view cannot show `authenticated` what the table it reads hides.
    static func view(_ name: String, _ body: String, _ catalog: TargetCatalog) -> [String] {
        let options = catalog.serverVersion >= 150000 ? " WITH (security_invoker = true)" : ""
        return ["CREATE VIEW \(name)\(options) AS \(body)", "GRANT SELECT ON \(name) TO authenticated, service_role"]
    }

    static let objects: [Object] = [
        Object(name: "schema plane", exists: { $0.schemas.contains("plane") }, sql: { _ in
            ["CREATE SCHEMA plane", "GRANT USAGE ON SCHEMA plane TO authenticated, service_role"]
        }, needsRoles: true),
        Object(name: "schema ops", exists: { $0.schemas.contains("ops") }, sql: { _ in
            ["CREATE SCHEMA ops", "GRANT USAGE ON SCHEMA ops TO authenticated, service_role"]
        }, needsRoles: true),
        Object(name: "type ops.event_level", exists: { $0.types.contains("ops.event_level") }, sql: { _ in
            ["CREATE TYPE ops.event_level AS ENUM ('debug', 'info', 'warn', 'error', 'fatal')"]
        }),
        Object(name: "type ops.system_type", exists: { $0.types.contains("ops.system_type") }, sql: { _ in
            ["CREATE TYPE ops.system_type AS ENUM ('odoo', 'vercel', 'mcp', 'n8n', 'github', 'supabase', 'slack', 'mailgun', 'custom')"]
        }),
        Object(name: "type ops.run_status", exists: { $0.types.contains("ops.run_status") }, sql: { _ in
            ["CREATE TYPE ops.run_status AS ENUM ('pending', 'running', 'success', 'failed', 'cancelled', 'timeout', 'retrying')"]
        }),
        Object(name: "table ops.runs", exists: { $0.hasTable("ops.runs") }, sql: { _ in
            ["""
            CREATE TABLE ops.runs (
                id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                system            ops.system_type NOT NULL DEFAULT 'custom',
                job_name          text NOT NULL,
                status            ops.run_status NOT NULL DEFAULT 'pending',
                started_at        timestamptz NOT NULL DEFAULT now(),
                ended_at          timestamptz,
                records_processed integer NOT NULL DEFAULT 0,
                records_failed    integer NOT NULL DEFAULT 0,
                metadata          jsonb NOT NULL DEFAULT '{}'
            )
            """,
             "CREATE INDEX runs_job_started_idx ON ops.runs (job_name, started_at DESC)",
             "GRANT SELECT, INSERT, UPDATE, DELETE ON ops.runs TO service_role"]
        }, needsRoles: true),
        // Append-only: the service role may add events, not change them.
        Object(name: "table ops.events", exists: { $0.hasTable("ops.events") }, sql: { _ in
            ["""
            CREATE TABLE ops.events (
                id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                run_id         uuid REFERENCES ops.runs (id),
                level          ops.event_level NOT NULL DEFAULT 'info',
                category       text,
                event_type     text,
                message        text NOT NULL,
                system         ops.system_type,
                component      text,
                function_name  text,
                file_path      text,
                line_number    integer,
                metadata       jsonb DEFAULT '{}',
                context        jsonb DEFAULT '{}',
                duration_ms    double precision,
                "timestamp"    timestamptz NOT NULL DEFAULT now(),
                trace_id       text,
                span_id        text,
                parent_span_id text,
                created_at     timestamptz NOT NULL DEFAULT now()
            )
            """,
             "CREATE INDEX events_run_id_idx ON ops.events (run_id)",
             "CREATE INDEX events_timestamp_idx ON ops.events (\"timestamp\" DESC)",
             "CREATE INDEX events_category_idx ON ops.events (category, \"timestamp\" DESC)",
             "GRANT SELECT, INSERT ON ops.events TO service_role"]
        }, needsRoles: true),
        Object(name: "table plane.sync_config", exists: { $0.hasTable("plane.sync_config") }, sql: { _ in
            ["""
            CREATE TABLE plane.sync_config (
                id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                plane_type          text NOT NULL,
                odoo_model          text NOT NULL,
                enabled             boolean NOT NULL DEFAULT true,
                direction           text NOT NULL DEFAULT 'bidirectional'
                                    CHECK (direction IN ('plane_to_odoo', 'odoo_to_plane', 'bidirectional')),
                field_mappings      jsonb NOT NULL DEFAULT '{}',
                conflict_resolution text NOT NULL DEFAULT 'latest_wins'
                                    CHECK (conflict_resolution IN ('latest_wins', 'plane_wins', 'odoo_wins', 'manual')),
                created_at          timestamptz NOT NULL DEFAULT now(),
                updated_at          timestamptz NOT NULL DEFAULT now(),
                UNIQUE (plane_type, odoo_model)
            )
            """,
             """
             INSERT INTO plane.sync_config (plane_type, odoo_model, field_mappings) VALUES
                 ('issue', 'project.task', '{"name":"name","description":"description","priority":"priority","state":"stage_id"}'),
                 ('project', 'project.project', '{"name":"name","description":"description"}')
             """] + rls("plane.sync_config", authenticatedReads: true)
        }, needsRoles: true),
        Object(name: "table plane.sync_mappings", exists: { $0.hasTable("plane.sync_mappings") }, sql: { _ in
            ["""
            CREATE TABLE plane.sync_mappings (
                id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                source_system  text NOT NULL CHECK (source_system IN ('plane', 'odoo')),
                source_id      text NOT NULL,
                source_type    text NOT NULL,
                target_id      text NOT NULL,
                target_type    text NOT NULL,
                last_synced_at timestamptz NOT NULL DEFAULT now(),
                sync_version   integer NOT NULL DEFAULT 1,
                sync_direction text NOT NULL DEFAULT 'bidirectional'
                               CHECK (sync_direction IN ('plane_to_odoo', 'odoo_to_plane', 'bidirectional')),
                status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'error', 'archived')),
                last_error     text,
                error_count    integer NOT NULL DEFAULT 0,
                created_at     timestamptz NOT NULL DEFAULT now(),
                updated_at     timestamptz NOT NULL DEFAULT now(),
                UNIQUE (source_system, source_id, source_type)
            )
            """,
             "CREATE INDEX sync_mappings_target_idx ON plane.sync_mappings (target_type, target_id)",
             "CREATE INDEX sync_mappings_status_idx ON plane.sync_mappings (status)"] + rls("plane.sync_mappings", authenticatedReads: true)
        }, needsRoles: true),
        Object(name: "table plane.sync_queue", exists: { $0.hasTable("plane.sync_queue") }, sql: { _ in
            ["""
            CREATE TABLE plane.sync_queue (
                id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                source_system   text CHECK (source_system IN ('plane', 'odoo')),
                source_id       text,
                source_type     text,
                operation       text CHECK (operation IN ('create', 'update', 'delete', 'archive')),
                payload         jsonb NOT NULL DEFAULT '{}',
                status          text NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
                priority        integer NOT NULL DEFAULT 0,
                attempts        integer NOT NULL DEFAULT 0,
                max_attempts    integer NOT NULL DEFAULT 3,
                last_attempt_at timestamptz,
                next_attempt_at timestamptz DEFAULT now(),
                last_error      text,
                created_at      timestamptz NOT NULL DEFAULT now(),
                completed_at    timestamptz,
                worker_id       text,
                lock_until      timestamptz
            )
            """,
             "CREATE INDEX sync_queue_pending_idx ON plane.sync_queue (status, priority DESC, next_attempt_at)"]
                + rls("plane.sync_queue", authenticatedReads: false)
        }, needsRoles: true),
        Object(name: "table plane.sync_log", exists: { $0.hasTable("plane.sync_log") }, sql: { _ in
            ["""
            CREATE TABLE plane.sync_log (
                id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                mapping_id    uuid REFERENCES plane.sync_mappings (id) ON DELETE SET NULL,
                source_system text NOT NULL,
                source_id     text NOT NULL,
                target_id     text,
                operation     text NOT NULL,
                success       boolean NOT NULL,
                error_message text,
                source_data   jsonb,
                target_data   jsonb,
                duration_ms   integer,
                created_at    timestamptz NOT NULL DEFAULT now()
            )
            """,
             "CREATE INDEX sync_log_mapping_idx ON plane.sync_log (mapping_id)",
             "CREATE INDEX sync_log_created_idx ON plane.sync_log (created_at DESC)"] + rls("plane.sync_log", authenticatedReads: true)
        }, needsRoles: true),
        Object(name: "view plane.v_active_syncs", exists: { $0.views.contains("plane.v_active_syncs") }, sql: { catalog in
            view("plane.v_active_syncs", """
                SELECT m.*, c.enabled AS config_enabled, c.direction AS config_direction
                FROM plane.sync_mappings m
                LEFT JOIN plane.sync_config c
                       ON (m.source_system = 'plane' AND c.plane_type = m.source_type AND c.odoo_model = m.target_type)
                       OR (m.source_system = 'odoo' AND c.odoo_model = m.source_type AND c.plane_type = m.target_type)
                WHERE m.status = 'active'
                """, catalog)
        }, reads: ["plane.sync_mappings", "plane.sync_config"], needsRoles: true),
        Object(name: "view plane.v_pending_queue", exists: { $0.views.contains("plane.v_pending_queue") }, sql: { catalog in
            view("plane.v_pending_queue", """
                SELECT q.*, m.target_id, m.target_type
                FROM plane.sync_queue q
                LEFT JOIN plane.sync_mappings m
                       ON m.source_system = q.source_system AND m.source_id = q.source_id AND m.source_type = q.source_type
                WHERE q.status = 'pending'
                ORDER BY q.priority DESC, q.next_attempt_at
                """, catalog)
        }, reads: ["plane.sync_queue", "plane.sync_mappings"], needsRoles: true),
        Object(name: "view plane.v_sync_stats", exists: { $0.views.contains("plane.v_sync_stats") }, sql: { catalog in
            view("plane.v_sync_stats", """
                SELECT source_system, source_type,
                       count(*) AS total_mappings,
                       count(*) FILTER (WHERE status = 'active') AS active_count,
                       count(*) FILTER (WHERE status = 'error') AS error_count,
                       max(last_synced_at) AS last_sync,
                       avg(sync_version) AS avg_version
                FROM plane.sync_mappings
                GROUP BY source_system, source_type
                """, catalog)
        }, reads: ["plane.sync_mappings"], needsRoles: true),
        Object(name: "table public.customers", exists: { $0.hasTable("public.customers") }, sql: { _ in
            ["""
            CREATE TABLE public.customers (
                id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                name       text NOT NULL,
                company_id uuid,
                status     text DEFAULT 'active'
            )
            """,
             "GRANT SELECT, INSERT, UPDATE, DELETE ON public.customers TO service_role"]
        }, needsRoles: true),
        Object(name: "table public.contacts", exists: { $0.hasTable("public.contacts") }, sql: { catalog in
            // Only a customers table created in the same run is known to have a key to point at.
            let reference = !catalog.hasTable("public.customers")
            return ["""
            CREATE TABLE public.contacts (
                id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                customer_id uuid\(reference ? " REFERENCES public.customers (id) ON DELETE CASCADE" : ""),
                company_id  uuid,
                first_name  text,
                last_name   text,
                email       text,
                phone       text,
                is_primary  boolean DEFAULT false
            )
            """,
                    "CREATE INDEX contacts_customer_idx ON public.contacts (customer_id)",
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON public.contacts TO service_role"]
        }, needsRoles: true),
        Object(name: "table public.leads", exists: { $0.hasTable("public.leads") }, sql: { catalog in
            // Only a customers table created in the same run is known to have a key to point at.
            let reference = !catalog.hasTable("public.customers")
            return ["""
            CREATE TABLE public.leads (
                id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                title               text,
                description         text,
                stage               text,
                source              text,
                source_email_id     text,
                priority            text CHECK (priority IN ('high', 'medium', 'low')),
                expected_close_date timestamptz,
                probability         numeric,
                expected_value      numeric,
                customer_id         uuid\(reference ? " REFERENCES public.customers (id) ON DELETE SET NULL" : ""),
                notes               text,
                metadata            jsonb DEFAULT '{}',
                company_id          uuid,
                created_at          timestamptz NOT NULL DEFAULT now(),
                updated_at          timestamptz NOT NULL DEFAULT now()
            )
            """,
                    // What export matches leads on, and what the ERP deduplicates by.
                    "CREATE INDEX leads_source_email_id_idx ON public.leads (source_email_id)",
                    "CREATE INDEX leads_customer_idx ON public.leads (customer_id)",
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON public.leads TO service_role"]
        }, needsRoles: true),
    ]
}
