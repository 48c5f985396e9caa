import PostgresNIO

/// What one batch did to one target table.
public struct TableStats: Sendable, Equatable {
    public var sent = 0
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    /// Leads edited in Supabase after their last sync: left as they are.
    public var skippedEdited = 0
    /// Rows with our key that another writer owns: left as they are.
    public var skippedForeign = 0
    /// Rows without a value for the key they would be matched on.
    public var skippedNoKey = 0
    /// Keys of the skipped rows (the first few hundred), for the report.
    public var skippedKeys: [String] = []

    public static func += (lhs: inout TableStats, rhs: TableStats) {
        lhs.sent += rhs.sent
        lhs.inserted += rhs.inserted
        lhs.updated += rhs.updated
        lhs.unchanged += rhs.unchanged
        lhs.skippedEdited += rhs.skippedEdited
        lhs.skippedForeign += rhs.skippedForeign
        lhs.skippedNoKey += rhs.skippedNoKey
        lhs.skippedKeys += rhs.skippedKeys.prefix(max(0, 200 - lhs.skippedKeys.count))
    }
}

/// The statements that upsert a batch into one target table, built once per run from the
/// columns and unique indexes the target really has.
///
/// Where the target has a unique index on the key (the plane.* and ops.* tables of the
/// reference do), one INSERT ... ON CONFLICT per batch, which changes only rows whose values
/// differ. Where it has none (ERP tables may lack the one export matches on), an UPDATE of the
/// rows whose key exists and whose values differ, then an INSERT of the keys that do not
/// exist, both in the batch's transaction. Every value is cast to the target column's own
/// type, integers by way of `numeric`, so that an integer column takes "3.0".
struct TableWriter: Sendable {
    let table: ExportTable
    /// Index into the mirror row of each value sent, in `unnest` order.
    let sent: [Int]
    /// Per sent value: how to resolve it in the target first, with the mirror indexes it needs.
    let lookups: [(lookup: ExportTable.Lookup, auxiliary: [Int])?]
    /// How many sent values, from the first, need nothing from the target.
    let plainCount: Int
    let keyIndexes: [Int]
    /// Per sent value: the labels of the enum the target column has, to map unknown values.
    let enumLabels: [Set<String>?]
    /// The target column of each sent value.
    let columnNames: [String]
    /// Whether batches may go in by COPY (see TableWriter+Copy.swift): the target has a unique
    /// index on the key, which turns a row sent twice into an error instead of a duplicate.
    let copies: Bool
    /// Positions (in `sent`) of integer columns, which COPY takes as "3" but not as "3.0".
    let integerPositions: [Int]
    /// INSERT ... ON CONFLICT, answering (inserted, updated).
    let upsertSQL: String?
    let updateSQL: String?
    let insertSQL: String?
    let classifySQL: String?

    static func quote(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    static func qualified(_ table: ExportTable) -> String { quote(table.schema) + "." + quote(table.name) }

    static let integerTypes: Set<String> = ["smallint", "integer", "bigint"]

    static func cast(_ expression: String, to type: String) -> String {
        integerTypes.contains(type) ? "(\(expression))::numeric::\(type)" : "(\(expression))::\(type)"
    }

    init(table: ExportTable, catalog: TargetCatalog) {
        self.table = table
        let present = catalog.tables[table.target] ?? [:]
        let mirrorColumns = table.columns + table.auxiliary
        // Columns resolved in the target go last, so that the others can be encoded before the
        // batch's transaction starts (see `prepare`).
        let stored = table.columns.filter { present[$0.name] != nil }
        let written = stored.filter { $0.lookup == nil } + stored.filter { $0.lookup != nil }
        sent = written.compactMap { column in mirrorColumns.firstIndex { $0.name == column.name } }
        keyIndexes = table.key.compactMap { key in mirrorColumns.firstIndex { $0.name == key } }
        lookups = written.map { column in
            guard let lookup = column.lookup else { return nil }
            guard case .mappingByKey(let system, let sourceID, let sourceType) = lookup else { return (lookup, []) }
            return (lookup, [system, sourceID, sourceType].compactMap { name in mirrorColumns.firstIndex { $0.name == name } })
        }
        plainCount = written.firstIndex { $0.lookup != nil } ?? written.count
        columnNames = written.map(\.name)
        integerPositions = written.indices.filter { TableWriter.integerTypes.contains(present[written[$0].name]?.type ?? "") }
        enumLabels = written.map { column in
            guard let labels = present[column.name]?.enumLabels, !labels.isEmpty else { return nil }
            return Set(labels)
        }
        let q = TableWriter.quote
        let target = TableWriter.qualified(table)
        let unnest = "unnest(" + written.indices.map { "$\($0 + 1)::text[]" }.joined(separator: ", ") + ") AS u("
            + written.map { q($0.name) }.joined(separator: ", ") + ")"

        func value(_ column: ExportTable.Column) -> String {
            let type = present[column.name]?.type ?? "text"
            return TableWriter.cast("u.\(q(column.name))", to: type)
        }
        func tuple(_ items: [String]) -> String { items.count == 1 ? items[0] : "(" + items.joined(separator: ", ") + ")" }
        let keyColumns = table.key.compactMap { key in written.first { $0.name == key } }
        let keyValues = tuple(keyColumns.map(value))

        let updatable = written.filter { !$0.insertOnly && !table.key.contains($0.name) }
        func newValue(_ column: ExportTable.Column, from source: String) -> String {
            guard column.mergeJSON else { return value(column) }
            let type = present[column.name]?.type ?? "jsonb"
            return "(coalesce(t.\(q(column.name))::jsonb, '{}'::jsonb) || (\(source).\(q(column.name)))::jsonb)::\(type)"
        }
        let columnList = written.map { q($0.name) }.joined(separator: ", ")
        let select = "SELECT \(written.map(value).joined(separator: ", ")) FROM \(unnest)"
        let unique = !table.guardsForeignEdits && catalog.uniqueKeys[table.target]?.contains(Set(table.key)) == true

        if unique {
            copies = true
            let conflict = "ON CONFLICT (\(keyColumns.map { q($0.name) }.joined(separator: ", ")))"
            if table.insertOnly || updatable.isEmpty {
                upsertSQL = """
                    WITH w AS (INSERT INTO \(target) AS t (\(columnList)) \(select) \(conflict) DO NOTHING RETURNING 1)
                    SELECT count(*), 0::bigint FROM w
                    """
            } else {
                let excluded = updatable.map { $0.mergeJSON ? newValue($0, from: "EXCLUDED") : "EXCLUDED.\(q($0.name))" }
                // xmax is 0 only on a row this statement inserted.
                upsertSQL = """
                    WITH w AS (INSERT INTO \(target) AS t (\(columnList)) \(select)
                    \(conflict) DO UPDATE SET \(zip(updatable, excluded).map { "\(q($0.name)) = \($1)" }.joined(separator: ", "))
                    WHERE \(tuple(updatable.map { "t.\(q($0.name))" })) IS DISTINCT FROM \(tuple(excluded))
                    RETURNING t.xmax = 0 AS inserted)
                    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM w
                    """
            }
            updateSQL = nil
            insertSQL = nil
        } else {
            copies = false
            upsertSQL = nil
            if table.insertOnly || updatable.isEmpty {
                updateSQL = nil
            } else {
                updateSQL = """
                    WITH w AS (UPDATE \(target) AS t SET \(updatable.map { "\(q($0.name)) = \(newValue($0, from: "u"))" }.joined(separator: ", "))
                    FROM \(unnest)
                    WHERE \(tuple(keyColumns.map { "t.\(q($0.name))" })) = \(keyValues)
                      AND \(tuple(updatable.map { "t.\(q($0.name))" })) IS DISTINCT FROM \(tuple(updatable.map { newValue($0, from: "u") }))
                    RETURNING 1)
                    SELECT count(*) FROM w
                    """
            }
            insertSQL = """
                WITH w AS (INSERT INTO \(target) (\(columnList)) \(select)
                WHERE NOT EXISTS (SELECT 1 FROM \(target) AS x WHERE \(tuple(keyColumns.map { "x.\(q($0.name))" })) = \(keyValues))
                RETURNING 1)
                SELECT count(*) FROM w
                """
        }

        if table.guardsForeignEdits, let key = keyColumns.first {
            let foreign = present["source"] != nil ? "x.source IS DISTINCT FROM '\(ExportTable.leadSource)'" : "false"
            let synced = "x.metadata::jsonb ->> 'synced_at'"
            let edited = present["updated_at"] != nil && present["metadata"] != nil
                ? "coalesce(x.updated_at > CASE WHEN \(synced) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}' THEN (\(synced))::timestamptz END, false)"
                : "false"
            // Locked until commit, so that an edit landing between this check and the update
            // waits for the batch instead of being overwritten.
            classifySQL = """
                SELECT s.k, bool_or(s.foreign_row), bool_or(s.edited) FROM (
                    SELECT x.\(q(key.name))::text AS k, \(foreign) AS foreign_row, \(edited) AS edited
                    FROM \(target) AS x WHERE x.\(q(key.name))::text = ANY($1::text[]) FOR UPDATE OF x) s
                GROUP BY s.k
                """
        } else {
            classifySQL = nil
        }
    }

    /// A batch for this table, made ready outside any transaction: rows without a key set
    /// aside, and the columns that need nothing from the target already encoded, as bind
    /// parameters or, where COPY can take the new rows, as COPY text.
    struct Prepared: Sendable {
        var rows: [[String?]]
        var plain: PostgresBindings?
        var copy: CopyLines?
        var skippedNoKey: Int
    }

    func prepare(_ input: [[String?]]) -> Prepared {
        let rows = input.filter { row in keyIndexes.allSatisfy { row[$0] != nil } }
        if copies, integerPositions.allSatisfy({ position in rows.allSatisfy { TableWriter.isInteger($0[sent[position]]) } }) {
            return Prepared(rows: rows, plain: nil, copy: copyLines(rows), skippedNoKey: input.count - rows.count)
        }
        return Prepared(rows: rows, plain: encode(rows, columns: 0..<plainCount), copy: nil, skippedNoKey: input.count - rows.count)
    }

    /// The value sent for `row` at `position`: a value the target's enum lacks (a system it
    /// does not list) becomes its catch-all.
    func value(_ row: [String?], at position: Int) -> String? {
        let value = row[sent[position]]
        guard let labels = enumLabels[position], let value, !labels.contains(value) else { return value }
        return labels.contains("custom") ? "custom" : nil
    }

    func encode(_ rows: [[String?]], columns: Range<Int>) -> PostgresBindings {
        var binds = PostgresBindings(capacity: sent.count)
        for position in columns {
            binds.append(TextArray(values: rows.map { value($0, at: position) }))
        }
        return binds
    }

    /// Upserts a prepared batch inside the caller's transaction.
    func write(_ prepared: Prepared, on connection: SupabaseConnection) async throws -> TableStats {
        var stats = TableStats()
        stats.skippedNoKey = prepared.skippedNoKey
        stats.sent = prepared.rows.count + prepared.skippedNoKey
        let during = "the rows for \(table.target)"
        if let copy = prepared.copy {
            return try await writeByCopy(prepared.rows, copy, stats, on: connection, during: during)
        }
        var rows = prepared.rows
        var binds = prepared.plain ?? encode(rows, columns: 0..<plainCount)
        if let classifySQL, let keyIndex = keyIndexes.first, !rows.isEmpty {
            var keys = PostgresBindings()
            keys.append(TextArray(values: rows.map { $0[keyIndex] }))
            var foreign = Set<String>()
            var edited = Set<String>()
            for row in try await connection.query(PostgresQuery(unsafeSQL: classifySQL, binds: keys), during: during) {
                let (key, isForeign, isEdited) = try row.decode((String, Bool, Bool).self)
                if isForeign { foreign.insert(key) } else if isEdited { edited.insert(key) }
            }
            if !foreign.isEmpty || !edited.isEmpty {
                rows.removeAll { row in
                    guard let key = row[keyIndex] else { return false }
                    if foreign.contains(key) {
                        stats.skippedForeign += 1
                    } else if edited.contains(key) {
                        stats.skippedEdited += 1
                    } else {
                        return false
                    }
                    if stats.skippedKeys.count < 200 { stats.skippedKeys.append(key) }
                    return true
                }
                binds = encode(rows, columns: 0..<plainCount)
            }
        }
        guard !rows.isEmpty else { return stats }
        try await appendLookups(rows, to: &binds, connection, during)
        if let upsertSQL {
            let result = try await connection.query(PostgresQuery(unsafeSQL: upsertSQL, binds: binds), during: during)
            (stats.inserted, stats.updated) = try result.first?.decode((Int, Int).self) ?? (0, 0)
        }
        if let updateSQL {
            stats.updated = try await count(updateSQL, binds, connection, during)
        }
        if let insertSQL {
            stats.inserted = try await count(insertSQL, binds, connection, during)
        }
        stats.unchanged = rows.count - stats.updated - stats.inserted
        return stats
    }

    func appendLookups(_ rows: [[String?]], to binds: inout PostgresBindings, _ connection: SupabaseConnection, _ during: String) async throws {
        for position in plainCount..<sent.count {
            guard let (lookup, auxiliary) = lookups[position] else { continue }
            binds.append(TextArray(values: try await resolve(lookup, rows, sent[position], auxiliary, connection, during)))
        }
    }

    /// The target's value for each row's reference, with one query for the whole batch.
    func resolve(_ lookup: ExportTable.Lookup, _ rows: [[String?]], _ index: Int, _ auxiliary: [Int],
                         _ connection: SupabaseConnection, _ during: String) async throws -> [String?] {
        switch lookup {
        case .existingRun:
            let wanted = Array(Set(rows.compactMap { $0[index] }))
            guard !wanted.isEmpty else { return rows.map { _ in nil } }
            var binds = PostgresBindings()
            binds.append(TextArray(values: wanted))
            var found = Set<String>()
            for row in try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT r.id::text FROM ops.runs r WHERE r.id = ANY($1::text[]::uuid[])
                """, binds: binds), during: during) {
                found.insert(try row.decode(String.self))
            }
            return rows.map { row in row[index].flatMap { found.contains($0) ? $0 : nil } }
        case .mappingByKey:
            guard auxiliary.count == 3 else { return rows.map { _ in nil } }
            func key(_ row: [String?]) -> [String]? {
                let parts = auxiliary.compactMap { row[$0] }
                return parts.count == 3 ? parts : nil
            }
            let wanted = Array(Set(rows.compactMap(key)))
            guard !wanted.isEmpty else { return rows.map { _ in nil } }
            var binds = PostgresBindings()
            for part in 0..<3 { binds.append(TextArray(values: wanted.map { $0[part] })) }
            var found: [[String]: String] = [:]
            for row in try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT u.s, u.i, u.t, m.id::text FROM unnest($1::text[], $2::text[], $3::text[]) AS u(s, i, t)
                JOIN plane.sync_mappings m ON m.source_system = u.s AND m.source_id = u.i AND m.source_type = u.t
                """, binds: binds), during: during) {
                let (system, sourceID, sourceType, id) = try row.decode((String, String, String, String).self)
                found[[system, sourceID, sourceType]] = id
            }
            return rows.map { row in key(row).flatMap { found[$0] } }
        }
    }

    func count(_ sql: String, _ binds: PostgresBindings, _ connection: SupabaseConnection, _ during: String) async throws -> Int {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), during: during)
        return try rows.first?.decode(Int.self) ?? 0
    }
}
