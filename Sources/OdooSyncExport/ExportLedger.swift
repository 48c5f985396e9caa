import Foundation
import GRDB
import OdooSyncCore
import OdooSyncMirror

/// The export's side of the mirror: what is owed, in batches, and the watermarks that say
/// what the target has. A watermark moves only after the batch it covers has committed in
/// the target, so a run killed at any instant re-sends at most that one batch, whose upserts
/// change nothing the second time.
public struct ExportLedger: Sendable {
    public let mirror: Mirror

    public init(mirror: Mirror) { self.mirror = mirror }

    static let changesWatermark = "export_changes"

    /// Rows of one batch: each row's values as text, in `ExportTable.columns + auxiliary` order.
    struct Batch: Sendable {
        var lastSeq: Int64
        var entries: Int
        var rows: [String: [[String?]]]
        var rowCount: Int { rows.values.reduce(0) { $0 + $1.count } }
    }

    static func watermark(_ db: Database, _ key: String) throws -> Int64 {
        try String.fetchOne(db, sql: "SELECT last_value FROM export_watermarks WHERE target = ?", arguments: [key])
            .flatMap { Int64($0) } ?? 0
    }

    func watermark(_ key: String) throws -> Int64 {
        try mirror.read { db in try ExportLedger.watermark(db, key) }
    }

    static func select(_ table: ExportTable) -> String {
        let values = (table.columns + table.auxiliary).map(\.mirror)
        let seq = table.insertOnly ? ", t.seq" : ""
        return "SELECT \(values.joined(separator: ", "))\(seq) FROM \(table.from)"
    }

    /// The next changed rows after `after`, as they are now (a row changed several times is
    /// sent once, in its latest state).
    func changeBatch(after: Int64, limit: Int) throws -> Batch? {
        try mirror.read { db in
            let entries = try Row.fetchAll(db, sql: "SELECT seq, tbl, row_id FROM export_changes WHERE seq > ? ORDER BY seq LIMIT ?",
                                           arguments: [after, limit])
            guard let last = entries.last else { return nil }
            var ids: [String: [String]] = [:]
            var seen = Set<String>()
            for entry in entries {
                let table: String = entry[1]
                let id: String = entry[2]
                if seen.insert(table + "\u{1F}" + id).inserted { ids[table, default: []].append(id) }
            }
            var rows: [String: [[String?]]] = [:]
            for table in ExportTable.changed {
                guard let list = ids[table.mirror] else { continue }
                let width = table.columns.count + table.auxiliary.count
                let json = JSONValue.array(list.map(JSONValue.string)).serialized
                rows[table.mirror] = try Row.fetchAll(db, sql: ExportLedger.select(table) + " WHERE t.id IN (SELECT value FROM json_each(?))",
                                                      arguments: [json]).map { ExportLedger.texts($0, width) }
            }
            return Batch(lastSeq: last[0], entries: entries.count, rows: rows)
        }
    }

    /// The next appended rows of `table` after its watermark.
    func appendedBatch(_ table: ExportTable, after: Int64, limit: Int) throws -> Batch? {
        try mirror.read { db in
            let width = table.columns.count + table.auxiliary.count
            var lastSeq: Int64 = after
            var rows: [[String?]] = []
            let cursor = try Row.fetchCursor(db, sql: ExportLedger.select(table) + " WHERE t.seq > ? ORDER BY t.seq LIMIT ?",
                                             arguments: [after, limit])
            while let row = try cursor.next() {
                rows.append(ExportLedger.texts(row, width))
                lastSeq = row[width]
            }
            guard !rows.isEmpty else { return nil }
            return Batch(lastSeq: lastSeq, entries: rows.count, rows: [table.mirror: rows])
        }
    }

    /// Every value as the text PostgreSQL will cast from.
    static func texts(_ row: Row, _ width: Int) -> [String?] {
        var out: [String?] = []
        out.reserveCapacity(width)
        for index in 0..<width {
            let value: DatabaseValue = row[index]
            switch value.storage {
            case .null: out.append(nil)
            case .int64(let i): out.append(String(i))
            case .double(let d): out.append(d.isFinite ? "\(d)" : nil)
            case .string(let s): out.append(s)
            case .blob(let data): out.append(String(decoding: data, as: UTF8.self))
            }
        }
        return out
    }

    /// Records that the target holds everything up to `seq` under `key`. Sent change entries
    /// are dropped except the newest, which keeps SQLite from handing out a rowid at or below
    /// the watermark again.
    func advance(_ key: String, to seq: Int64) throws {
        try mirror.write { db in
            try db.execute(sql: """
                INSERT INTO export_watermarks (target, last_value, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (target) DO UPDATE SET last_value = excluded.last_value, updated_at = excluded.updated_at
                """, arguments: [key, String(seq), Timestamp.iso(Date())])
            if key == ExportLedger.changesWatermark {
                try db.execute(sql: "DELETE FROM export_changes WHERE seq < ?", arguments: [seq])
            }
        }
    }

    /// What the next export will send, per target table (rows changed several times count once).
    public func owed() throws -> [(table: String, rows: Int)] {
        try mirror.read { db in
            let changes = try ExportLedger.watermark(db, ExportLedger.changesWatermark)
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT tbl, count(DISTINCT row_id) FROM export_changes WHERE seq > ? GROUP BY tbl",
                                        arguments: [changes]) {
                counts[row[0]] = row[1]
            }
            // A table being filled (or whose fill was killed) owes every row, logged or not.
            let whole = try Mirror.tablesOwedWhole(db)
            var out: [(String, Int)] = []
            for table in ExportTable.all {
                switch table.feed {
                case .changes where whole.contains(table.mirror):
                    out.append((table.target, try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.mirror)") ?? 0))
                case .changes:
                    out.append((table.target, counts[table.mirror] ?? 0))
                case .appended(let key):
                    let mark = try ExportLedger.watermark(db, key)
                    out.append((table.target, try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.mirror) WHERE seq > ?", arguments: [mark]) ?? 0))
                }
            }
            return out
        }
    }

    /// `export --full`: owes the target every row again (for a new or rebuilt database).
    func oweEverything() throws {
        try mirror.write { db in
            for table in ExportTable.changed {
                try db.execute(sql: "INSERT INTO export_changes (tbl, row_id) SELECT ?, id FROM \(table.mirror) ORDER BY rowid",
                               arguments: [table.mirror])
            }
            for case .appended(let key) in ExportTable.appended.map(\.feed) {
                try db.execute(sql: "DELETE FROM export_watermarks WHERE target = ?", arguments: [key])
            }
        }
    }

    // MARK: - Export runs, for `status`

    func startRun(target: String) throws -> String {
        let id = TimeOrderedID.make()
        try mirror.write { db in
            try db.execute(sql: "INSERT INTO export_runs (id, started_at, target) VALUES (?, ?, ?)",
                           arguments: [id, Timestamp.iso(Date()), target])
        }
        return id
    }

    func finishRun(id: String, status: String, summary: JSONValue, error: String?) throws {
        try mirror.write { db in
            try db.execute(sql: "UPDATE export_runs SET ended_at = ?, status = ?, summary = ?, error = ? WHERE id = ?",
                           arguments: [Timestamp.iso(Date()), status, summary.serialized, error, id])
        }
    }

    /// The newest export attempt and the newest successful one.
    public func lastRuns() throws -> (last: JSONValue?, lastSuccess: JSONValue?) {
        try mirror.read { db in
            func describe(_ row: Row?) -> JSONValue? {
                guard let row else { return nil }
                return ["started_at": .string(row["started_at"]), "ended_at": (row["ended_at"] as String?).map(JSONValue.string) ?? .null,
                        "status": .string(row["status"]), "target": (row["target"] as String?).map(JSONValue.string) ?? .null,
                        "error": (row["error"] as String?).map(JSONValue.string) ?? .null]
            }
            return (describe(try Row.fetchOne(db, sql: "SELECT * FROM export_runs ORDER BY started_at DESC, id DESC LIMIT 1")),
                    describe(try Row.fetchOne(db, sql: "SELECT * FROM export_runs WHERE status = 'success' ORDER BY started_at DESC, id DESC LIMIT 1")))
        }
    }

    /// Where the last successful export went, to warn when the target changes.
    func lastSuccessfulTarget() throws -> String? {
        try mirror.read { db in
            try String.fetchOne(db, sql: "SELECT target FROM export_runs WHERE status = 'success' ORDER BY started_at DESC, id DESC LIMIT 1")
        }
    }
}
