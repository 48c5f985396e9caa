/// The Supabase database as the existing setup made it: the ops schema, migration
/// 20260131002000_plane_sync_schema.sql (plane.*, its views and policies) and the ERP's own
/// public tables, written here from reference/supabase-schema.md. Unlike what
/// `--init-schema` creates, the ERP's leads table has a column export does not know
/// (`assigned_to`) and lacks one it would write (`notes`), and nothing in it is unique on
/// `source_email_id`.
enum ExportReferenceSchema {
    static let statements: [String] = [
        "CREATE SCHEMA ops",
        "CREATE TYPE ops.event_level AS ENUM ('debug', 'info', 'warn', 'error', 'fatal')",
        "CREATE TYPE ops.system_type AS ENUM ('odoo', 'vercel', 'mcp', 'n8n', 'github', 'supabase', 'slack', 'mailgun', 'custom')",
        "CREATE TYPE ops.run_status AS ENUM ('pending', 'running', 'success', 'failed', 'cancelled', 'timeout', 'retrying')",
        """
        CREATE TABLE ops.runs (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            system ops.system_type NOT NULL,
            job_name text NOT NULL,
            status ops.run_status NOT NULL DEFAULT 'pending',
            started_at timestamptz NOT NULL DEFAULT now(),
            ended_at timestamptz,
            records_processed integer DEFAULT 0,
            records_failed integer DEFAULT 0,
            metadata jsonb DEFAULT '{}',
            error_message text,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        """
        CREATE TABLE ops.events (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            run_id uuid REFERENCES ops.runs (id),
            level ops.event_level NOT NULL DEFAULT 'info',
            category text,
            event_type text,
            message text NOT NULL,
            system ops.system_type,
            component text,
            function_name text,
            file_path text,
            line_number integer,
            metadata jsonb DEFAULT '{}',
            context jsonb DEFAULT '{}',
            duration_ms double precision,
            "timestamp" timestamptz NOT NULL DEFAULT now(),
            trace_id text,
            span_id text,
            parent_span_id text,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE SCHEMA plane",
        """
        CREATE TABLE plane.sync_mappings (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            source_system text NOT NULL CHECK (source_system IN ('plane', 'odoo')),
            source_id text NOT NULL,
            source_type text NOT NULL,
            target_id text NOT NULL,
            target_type text NOT NULL,
            last_synced_at timestamptz NOT NULL DEFAULT now(),
            sync_version integer NOT NULL DEFAULT 1,
            sync_direction text NOT NULL DEFAULT 'bidirectional' CHECK (sync_direction IN ('plane_to_odoo', 'odoo_to_plane', 'bidirectional')),
            status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'error', 'archived')),
            last_error text,
            error_count integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (source_system, source_id, source_type)
        )
        """,
        """
        CREATE TABLE plane.sync_queue (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            source_system text CHECK (source_system IN ('plane', 'odoo')),
            source_id text,
            source_type text,
            operation text CHECK (operation IN ('create', 'update', 'delete', 'archive')),
            payload jsonb NOT NULL DEFAULT '{}',
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
            priority integer NOT NULL DEFAULT 0,
            attempts integer NOT NULL DEFAULT 0,
            max_attempts integer NOT NULL DEFAULT 3,
            last_attempt_at timestamptz,
            next_attempt_at timestamptz DEFAULT now(),
            last_error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            completed_at timestamptz,
            worker_id text,
            lock_until timestamptz
        )
        """,
        """
        CREATE TABLE plane.sync_config (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            plane_type text NOT NULL,
            odoo_model text NOT NULL,
            enabled boolean NOT NULL DEFAULT true,
            direction text NOT NULL DEFAULT 'bidirectional' CHECK (direction IN ('plane_to_odoo', 'odoo_to_plane', 'bidirectional')),
            field_mappings jsonb NOT NULL DEFAULT '{}',
            conflict_resolution text NOT NULL DEFAULT 'latest_wins' CHECK (conflict_resolution IN ('latest_wins', 'plane_wins', 'odoo_wins', 'manual')),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (plane_type, odoo_model)
        )
        """,
        """
        CREATE TABLE plane.sync_log (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            mapping_id uuid REFERENCES plane.sync_mappings (id) ON DELETE SET NULL,
            source_system text NOT NULL,
            source_id text NOT NULL,
            target_id text,
            operation text NOT NULL,
            success boolean NOT NULL,
            error_message text,
            source_data jsonb,
            target_data jsonb,
            duration_ms integer,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        """
        INSERT INTO plane.sync_config (plane_type, odoo_model, field_mappings) VALUES
            ('issue', 'project.task', '{"name":"name","description":"description","priority":"priority","state":"stage_id"}'),
            ('project', 'project.project', '{"name":"name","description":"description"}')
        """,
        """
        CREATE VIEW plane.v_active_syncs AS
        SELECT m.*, c.enabled AS config_enabled, c.direction AS config_direction
        FROM plane.sync_mappings m
        LEFT JOIN plane.sync_config c ON (m.source_system = 'plane' AND c.plane_type = m.source_type AND c.odoo_model = m.target_type)
                                      OR (m.source_system = 'odoo' AND c.odoo_model = m.source_type AND c.plane_type = m.target_type)
        WHERE m.status = 'active'
        """,
        """
        CREATE VIEW plane.v_pending_queue AS
        SELECT q.*, m.target_id, m.target_type FROM plane.sync_queue q
        LEFT JOIN plane.sync_mappings m ON m.source_system = q.source_system AND m.source_id = q.source_id AND m.source_type = q.source_type
        WHERE q.status = 'pending' ORDER BY q.priority DESC, q.next_attempt_at
        """,
        """
        CREATE VIEW plane.v_sync_stats AS
        SELECT source_system, source_type, count(*) AS total_mappings, count(*) FILTER (WHERE status = 'active') AS active_count,
               count(*) FILTER (WHERE status = 'error') AS error_count, max(last_synced_at) AS last_sync, avg(sync_version) AS avg_version
        FROM plane.sync_mappings GROUP BY source_system, source_type
        """,
        "ALTER TABLE plane.sync_mappings ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE plane.sync_queue ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE plane.sync_config ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE plane.sync_log ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY service_all ON plane.sync_mappings FOR ALL TO service_role USING (true) WITH CHECK (true)",
        "CREATE POLICY service_all ON plane.sync_queue FOR ALL TO service_role USING (true) WITH CHECK (true)",
        "CREATE POLICY service_all ON plane.sync_config FOR ALL TO service_role USING (true) WITH CHECK (true)",
        "CREATE POLICY service_all ON plane.sync_log FOR ALL TO service_role USING (true) WITH CHECK (true)",
        "CREATE POLICY auth_read ON plane.sync_mappings FOR SELECT TO authenticated USING (true)",
        "CREATE POLICY auth_read ON plane.sync_config FOR SELECT TO authenticated USING (true)",
        "CREATE POLICY auth_read ON plane.sync_log FOR SELECT TO authenticated USING (true)",
        "GRANT USAGE ON SCHEMA plane, ops TO authenticated, service_role",
        "GRANT ALL ON ALL TABLES IN SCHEMA plane TO service_role",
        "GRANT SELECT ON ALL TABLES IN SCHEMA plane TO authenticated",
        "CREATE TABLE public.customers (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL, company_id uuid, status text DEFAULT 'active')",
        """
        CREATE TABLE public.contacts (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            customer_id uuid REFERENCES public.customers (id) ON DELETE CASCADE,
            company_id uuid, first_name text, last_name text, email text, phone text, is_primary boolean DEFAULT false
        )
        """,
        """
        CREATE TABLE public.leads (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            title text NOT NULL,
            description text,
            stage text DEFAULT 'new',
            source text,
            source_email_id text,
            priority text CHECK (priority IN ('high', 'medium', 'low')),
            expected_close_date timestamptz,
            probability numeric,
            expected_value numeric,
            customer_id uuid REFERENCES public.customers (id),
            metadata jsonb DEFAULT '{}',
            company_id uuid,
            assigned_to uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """,
    ]
}
