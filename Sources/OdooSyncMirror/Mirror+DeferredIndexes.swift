import Foundation
import GRDB

/// Bulk loads: an index whose keys arrive in random order costs more to keep up row by row
/// (a leaf page read and rewritten for most rows) than to build once, sorted, at the end. A
/// pull that fills an empty table drops such an index first and builds it again when it is done.
/// Its definition waits in `deferred_indexes` meanwhile, in the transaction that dropped it,
/// so a pull killed in between leaves the mirror correct (queries only run without the index)
/// and the next command that takes the run lock, or the next pull, builds it.
///
/// The same goes for the table's export log: its insert trigger, which adds a row to
/// `export_changes` per row inserted, cost 6-7% of a 100k-lead first pull. While the
/// table fills, the trigger waits in `deferred_indexes` too, with the statement that owes the
/// export every row of the table at once; both run together when the fill ends, or after a
/// killed pull, so no row inserted meanwhile goes unexported. (Those entries come after the
/// customers' and contacts' the rows point to, the order the export sends them in anyway.)
extension Mirror {
    /// Drops `indexes` (and with `exportLog`, the table's `<table>_export_insert` trigger) when
    /// `table` holds no row, remembering their definitions; returns the names it dropped. One
    /// already deferred or missing is left alone.
    @discardableResult
    public func deferIndexes(_ indexes: [String], exportLog: Bool = false, whileFilling table: String) throws -> [String] {
        try write { db in
            let empty = try Bool.fetchOne(db, sql: "SELECT NOT EXISTS (SELECT 1 FROM \(table.quotedDatabaseIdentifier))") ?? false
            guard empty else { return [] }
            var dropped: [String] = []
            for name in indexes {
                guard let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ? AND tbl_name = ?",
                                                    arguments: [name, table])
                else { continue }
                try db.execute(sql: "INSERT INTO deferred_indexes (name, sql) VALUES (?, ?)", arguments: [name, sql])
                try db.execute(sql: "DROP INDEX \(name.quotedDatabaseIdentifier)")
                dropped.append(name)
            }
            let trigger = Mirror.exportLogTrigger(table)
            if exportLog,
               let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ? AND tbl_name = ?",
                                             arguments: [trigger, table]) {
                let oweEveryRow = "INSERT INTO export_changes (tbl, row_id) SELECT '\(table.replacingOccurrences(of: "'", with: "''"))', id FROM \(table.quotedDatabaseIdentifier) ORDER BY rowid"
                // Two rows: the trigger is built if it is missing, the entries are owed in any case
                // (a migration may have built the trigger again meanwhile). Name order runs them so.
                try db.execute(sql: "INSERT INTO deferred_indexes (name, sql) VALUES (?, ?), (?, ?)",
                               arguments: [trigger, sql, Mirror.oweName(table), oweEveryRow])
                try db.execute(sql: "DROP TRIGGER \(trigger.quotedDatabaseIdentifier)")
                dropped.append(trigger)
            }
            return dropped
        }
    }

    /// The trigger that logs a table's inserts for the export (schema: `<table>_export_insert`).
    static func exportLogTrigger(_ table: String) -> String { "\(table)_export_insert" }
    /// The `deferred_indexes` row that owes the export every row of `table`; it sorts after the
    /// trigger's own row, so the trigger is back before the entries are written.
    static func oweName(_ table: String) -> String { exportLogTrigger(table) + oweSuffix }
    private static let oweSuffix = ":owe"

    /// The tables whose export log waits for their fill to end: every row of them is owed to
    /// the export, whatever `export_changes` says so far.
    public static func tablesOwedWhole(_ db: Database) throws -> Set<String> {
        let tables = try String.fetchAll(db, sql: "SELECT tbl_name FROM sqlite_schema WHERE type = 'table'")
        let waiting = Set(try String.fetchAll(db, sql: "SELECT name FROM deferred_indexes"))
        return Set(tables.filter { waiting.contains(oweName($0)) })
    }

    /// Builds every deferred index again, and puts back a deferred export log with the entries
    /// it owes, in one transaction; returns their names.
    @discardableResult
    public func restoreDeferredIndexes() throws -> [String] {
        // Almost always nothing: then no write transaction is opened.
        let pending = try read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM deferred_indexes)") } ?? false
        guard pending else { return [] }
        return try write { db in
            func exists(_ name: String) throws -> Bool {
                try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type IN ('index', 'trigger') AND name = ?)",
                                  arguments: [name]) ?? false
            }
            var built: [String] = []
            for row in try Row.fetchAll(db, sql: "SELECT name, sql FROM deferred_indexes ORDER BY name") {
                let name: String = row["name"]
                if name.hasSuffix(Mirror.oweSuffix) {
                    // Owed in any case, whoever built the trigger again.
                    try db.execute(sql: row["sql"])
                } else if try !exists(name) {
                    try db.execute(sql: row["sql"])
                    built.append(name)
                }
                try db.execute(sql: "DELETE FROM deferred_indexes WHERE name = ?", arguments: [name])
            }
            return built
        }
    }
}
