import PostgresNIO

/// What the target database holds that export cares about: the tables' columns with their
/// exact types, the schemas, enum types, views and roles.
struct TargetCatalog: Sendable {
    struct ColumnInfo: Sendable {
        let name: String
        /// `format_type` with pg_catalog as the only schema on the path, so every user type
        /// comes schema-qualified and casts to it work under any search_path; without the
        /// length or precision, so that a value too long fails on assignment instead of being
        /// cut short by an explicit cast.
        let type: String
        let enumLabels: [String]
    }

    var tables: [String: [String: ColumnInfo]] = [:]
    /// Column sets each table has a unique index on (its primary key included).
    var uniqueKeys: [String: [Set<String>]] = [:]
    var schemas: Set<String> = []
    var types: Set<String> = []
    var views: Set<String> = []
    var roles: Set<String> = []
    var serverVersion = 0

    func hasTable(_ qualified: String) -> Bool { tables[qualified] != nil }

    static func read(_ connection: SupabaseConnection) async throws -> TargetCatalog {
        let tableNames = ExportTable.all.map(\.target)
        return try await connection.transaction(during: "reading the target's catalog") { conn in
            var catalog = TargetCatalog()
            for row in try await conn.query("""
                SELECT n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, NULL),
                       coalesce((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
                                 WHERE e.enumtypid = a.atttypid), ARRAY[]::text[])
                FROM pg_attribute a
                JOIN pg_class c ON c.oid = a.attrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
                  AND n.nspname || '.' || c.relname = ANY(\(tableNames))
                """, during: "reading the target's columns") {
                let (table, column, type, labels) = try row.decode((String, String, String, [String]).self)
                catalog.tables[table, default: [:]][column] = ColumnInfo(name: column, type: type, enumLabels: labels)
            }
            for row in try await conn.query("""
                SELECT n.nspname || '.' || c.relname, array_agg(a.attname::text ORDER BY k.ord)
                FROM pg_index i
                JOIN pg_class c ON c.oid = i.indrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                WHERE i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
                  AND n.nspname || '.' || c.relname = ANY(\(tableNames))
                GROUP BY i.indexrelid, n.nspname, c.relname
                """, during: "reading the target's unique indexes") {
                let (table, columns) = try row.decode((String, [String]).self)
                catalog.uniqueKeys[table, default: []].append(Set(columns))
            }
            for row in try await conn.query("SELECT nspname::text FROM pg_namespace WHERE nspname IN ('plane', 'ops')", during: "reading the target's schemas") {
                catalog.schemas.insert(try row.decode(String.self))
            }
            for row in try await conn.query("""
                SELECT n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = 'ops' AND t.typname IN ('event_level', 'system_type', 'run_status')
                """, during: "reading the target's types") {
                catalog.types.insert(try row.decode(String.self))
            }
            for row in try await conn.query("""
                SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('v', 'm') AND n.nspname = 'plane'
                """, during: "reading the target's views") {
                catalog.views.insert(try row.decode(String.self))
            }
            for row in try await conn.query("SELECT rolname::text FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role')", during: "reading the target's roles") {
                catalog.roles.insert(try row.decode(String.self))
            }
            if let row = try await conn.query("SELECT current_setting('server_version_num')::int", during: "reading the server version").first {
                catalog.serverVersion = try row.decode(Int.self)
            }
            return catalog
        }
    }

    /// Target columns of `table` that the reference lists but the target lacks.
    func missingColumns(_ table: ExportTable) -> [String] {
        guard let present = tables[table.target] else { return [] }
        return table.columns.map(\.name).filter { present[$0] == nil }
    }
}
