import NIOCore
import PostgresNIO

/// New rows by COPY. An INSERT from `unnest` inserts row by row; COPY fills whole pages at a
/// time. A batch of rows the target does not hold yet (every batch of a first export, and the
/// events and log rows of later ones) goes in by COPY; a batch COPY cannot take goes through
/// INSERT ... ON CONFLICT, so a batch sent twice still changes nothing the second time.
extension TableWriter {
    /// The columns that need nothing from the target, in COPY's text format: one line per
    /// row, without its end, fields escaped and tab-separated.
    struct CopyLines: Sendable {
        var bytes: [UInt8] = []
        var ends: [Int] = []
    }

    func copyLines(_ rows: [[String?]]) -> CopyLines {
        var lines = CopyLines()
        lines.ends.reserveCapacity(rows.count)
        for row in rows {
            for position in 0..<plainCount {
                if position > 0 { lines.bytes.append(UInt8(ascii: "\t")) }
                TableWriter.appendCopyField(value(row, at: position), to: &lines.bytes)
            }
            lines.ends.append(lines.bytes.count)
        }
        return lines
    }

    /// COPY's text format: `\N` for NULL; backslash, tab, newline and carriage return escaped.
    static func appendCopyField(_ value: String?, to out: inout [UInt8]) {
        guard let value else {
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
            return
        }
        let utf8 = value.utf8
        guard utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0 }) else {
            out.append(contentsOf: utf8)
            return
        }
        for byte in utf8 {
            switch byte {
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0: continue  // PostgreSQL text cannot hold NUL
            default: out.append(byte)
            }
        }
    }

    static func isInteger(_ text: String?) -> Bool {
        guard let text else { return true }
        let digits = text.utf8.drop { $0 == UInt8(ascii: "-") }
        return !digits.isEmpty && digits.allSatisfy { (0x30...0x39).contains($0) }
    }

    /// COPY first, under a savepoint; when the target refuses it (a key it holds already, as
    /// after a run that died between its commit and its watermark, or a changed row), the
    /// savepoint is rolled back and the batch goes through INSERT ... ON CONFLICT instead.
    func writeByCopy(_ rows: [[String?]], _ lines: CopyLines, _ base: TableStats, on connection: SupabaseConnection,
                     during: String) async throws -> TableStats {
        var stats = base
        guard !rows.isEmpty else { return stats }
        try await connection.query("SAVEPOINT odoosync_copy", during: during)
        do {
            var resolved: [[String?]] = []
            for position in plainCount..<sent.count {
                guard let (lookup, auxiliary) = lookups[position] else { continue }
                resolved.append(try await resolve(lookup, rows, sent[position], auxiliary, connection, during))
            }
            var data = ByteBufferAllocator().buffer(capacity: lines.bytes.count + rows.count * (1 + 40 * resolved.count))
            var field: [UInt8] = []
            var start = 0
            for (index, end) in lines.ends.enumerated() {
                data.writeBytes(lines.bytes[start..<end])
                start = end
                for (column, values) in resolved.enumerated() {
                    if plainCount > 0 || column > 0 { data.writeInteger(UInt8(ascii: "\t")) }
                    field.removeAll(keepingCapacity: true)
                    TableWriter.appendCopyField(values[index], to: &field)
                    data.writeBytes(field)
                }
                data.writeInteger(UInt8(ascii: "\n"))
            }
            try await connection.copy(into: table.schema, table.name, columns: columnNames, data: data, during: during)
            try await connection.query("RELEASE SAVEPOINT odoosync_copy", during: during)
            stats.inserted = rows.count
            return stats
        } catch ExportError.server {
            try await connection.query("ROLLBACK TO SAVEPOINT odoosync_copy", during: during)
        }
        guard let upsertSQL else { return stats }
        var binds = encode(rows, columns: 0..<plainCount)
        try await appendLookups(rows, to: &binds, connection, during)
        let result = try await connection.query(PostgresQuery(unsafeSQL: upsertSQL, binds: binds), during: during)
        (stats.inserted, stats.updated) = try result.first?.decode((Int, Int).self) ?? (0, 0)
        stats.unchanged = rows.count - stats.inserted - stats.updated
        return stats
    }
}
