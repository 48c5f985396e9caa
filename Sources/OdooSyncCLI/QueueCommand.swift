import ArgumentParser
import Foundation
import GRDB
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror

struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "List, retry and cancel the Plane <-> Odoo sync queue.",
        subcommands: [QueueList.self, QueueRetry.self, QueueCancel.self], defaultSubcommand: QueueList.self)
}

struct QueueError: UserFacingError {
    let description: String
    var exitStatus: ExitStatus { .usage }
}

extension QueueCommand {
    /// A queue id, or a unique start or end of one. The ids are time-ordered, so items queued
    /// together share their start; the table shows their (random) last 12 characters.
    static func resolve(_ db: Database, _ given: String) throws -> String {
        let escaped = given.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        let matches = try String.fetchAll(db, sql: "SELECT id FROM sync_queue WHERE id LIKE ? || '%' ESCAPE '\\' OR id LIKE '%' || ? ESCAPE '\\' LIMIT 2",
                                          arguments: [escaped, escaped])
        guard !given.isEmpty, let first = matches.first else {
            throw QueueError(description: "There is no queue item \(given). `odoosync queue list --all` shows every item.")
        }
        guard matches.count == 1 else {
            throw QueueError(description: "\(given) matches several queue items; give more of the id.")
        }
        return first
    }
}

struct QueueList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List queue items (pending, processing and failed by default).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only items with this status: pending, processing, completed, failed, cancelled.") var status: String?
    @Flag(help: "Every item, completed and cancelled ones too.") var all = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let valid = ["pending", "processing", "completed", "failed", "cancelled"]
        if let status, !valid.contains(status) {
            throw QueueError(description: "`\(status)` is not a queue status. Valid: \(valid.joined(separator: ", ")).")
        }
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror(create: false)
        var filter = "WHERE status IN ('pending', 'processing', 'failed')"
        var arguments: StatementArguments = []
        if let status {
            filter = "WHERE status = ?"
            arguments = [status]
        } else if all {
            filter = ""
        }
        let rows = try mirror.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, json_extract(payload, '$.entity') AS entity, operation, source_system, source_type, source_id,
                       json_extract(payload, '$.target') AS target, json_extract(payload, '$.target_id') AS target_id, status,
                       attempts, max_attempts, next_attempt_at, last_error, created_at, completed_at, payload
                FROM sync_queue \(filter) ORDER BY priority DESC, created_at, id
                """, arguments: arguments)
        }
        if json {
            Output.json(.array(rows.map { row in
                .object(row.columnNames.map { column in
                    let value: DatabaseValue = row[column]
                    if column == "payload", let text = String.fromDatabaseValue(value) { return (column, (try? JSONValue.parse(text)) ?? .null) }
                    return (column, SQLCommand.jsonValue(value))
                })
            }))
            return
        }
        if rows.isEmpty {
            Output.print(status == nil && !all ? "The queue is empty: nothing waits to be pushed." : "No queue items.")
            return
        }
        Output.print(Output.table(
            ["id", "entity", "op", "from", "to", "status", "tries", "next attempt", "last error"],
            rows.map { r in
                [String(SQLCommand.text(r["id"]).suffix(12)), SQLCommand.text(r["entity"]), SQLCommand.text(r["operation"]),
                 "\(SQLCommand.text(r["source_system"])) \(Output.truncate(SQLCommand.text(r["source_id"]), 12))",
                 "\(SQLCommand.text(r["target"])) \(Output.truncate(SQLCommand.text(r["target_id"]), 12))",
                 SQLCommand.text(r["status"]), "\(SQLCommand.text(r["attempts"]))/\(SQLCommand.text(r["max_attempts"]))",
                 SQLCommand.text(r["next_attempt_at"]), Output.truncate(SQLCommand.text(r["last_error"]), 50)]
            }, rightAligned: []))
        if rows.contains(where: { ($0["status"] as String?) == "failed" }) {
            Output.print("Failed items wait for you: `odoosync queue retry <id>` (or --failed for all), or `odoosync queue cancel <id>`.")
        }
    }
}

struct QueueRetry: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry", abstract: "Bring failed (or waiting) items back for the next push, now.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Queue item ids (or unique prefixes).") var ids: [String] = []
    @Flag(help: "Every failed item.") var failed = false

    func run() throws {
        guard failed || !ids.isEmpty else { throw ValidationError("Name the items to retry, or pass --failed for every failed one.") }
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror(create: false)
        let lock = try env.lockMirror()
        defer { withExtendedLifetime(lock) {} }
        let count = try mirror.write { db -> Int in
            let now = Timestamp.iso(Date())
            var targets = try ids.map { try QueueCommand.resolve(db, $0) }
            if failed { targets += try String.fetchAll(db, sql: "SELECT id FROM sync_queue WHERE status = 'failed'") }
            for id in targets {
                let status = try String.fetchOne(db, sql: "SELECT status FROM sync_queue WHERE id = ?", arguments: [id]) ?? ""
                guard ["failed", "pending", "cancelled"].contains(status) else {
                    throw QueueError(description: "Queue item \(id.suffix(12)) is \(status); only failed, pending or cancelled items can be retried.")
                }
                try db.execute(sql: "UPDATE sync_queue SET status = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL WHERE id = ?",
                               arguments: [now, id])
                try Mirror.appendEvent(db, runID: nil, category: SyncEngine.category, type: "queue_retry",
                                       message: "queue item \(id) brought back by hand", metadata: ["queue_id": .string(id)])
            }
            return Set(targets).count
        }
        Output.print(count == 0 ? "No failed items." : "\(count) item(s) will be pushed by the next `odoosync push` or `odoosync sync`.")
    }
}

struct QueueCancel: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel pending or failed items; they are never pushed.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Queue item ids (or unique prefixes).") var ids: [String]

    func run() throws {
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror(create: false)
        let lock = try env.lockMirror()
        defer { withExtendedLifetime(lock) {} }
        try mirror.write { db in
            for given in ids {
                let id = try QueueCommand.resolve(db, given)
                let status = try String.fetchOne(db, sql: "SELECT status FROM sync_queue WHERE id = ?", arguments: [id]) ?? ""
                guard ["failed", "pending"].contains(status) else {
                    throw QueueError(description: "Queue item \(id.suffix(12)) is \(status); only pending or failed items can be cancelled.")
                }
                try db.execute(sql: "UPDATE sync_queue SET status = 'cancelled', completed_at = ? WHERE id = ?", arguments: [Timestamp.iso(Date()), id])
                try Mirror.appendEvent(db, runID: nil, category: SyncEngine.category, type: "queue_cancel",
                                       message: "queue item \(id) cancelled by hand", metadata: ["queue_id": .string(id)])
            }
        }
        Output.print("Cancelled \(ids.count) item(s).")
    }
}
