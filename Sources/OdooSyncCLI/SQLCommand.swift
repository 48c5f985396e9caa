import ArgumentParser
import Foundation
import GRDB
import OdooSyncCore
import OdooSyncMirror

struct SQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql", abstract: "Run a read-only SQL query on the mirror.",
        discussion: "The Supabase names resolve too: plane.sync_mappings, plane.v_active_syncs, ops.events, ops.runs, public.leads, ...")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The query.") var query: String
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV.") var csv = false

    /// Maps the edge-function setup's schema-qualified names onto the mirror's tables.
    static func rewrite(_ query: String) -> String {
        query.replacingOccurrences(of: #"\b(plane|ops|public)\.([A-Za-z_][A-Za-z0-9_]*)"#, with: "$2", options: .regularExpression)
    }

    func run() throws {
        let env = try AppEnvironment(global)
        guard FileManager.default.fileExists(atPath: env.databasePath) else { throw MirrorError.missing(path: env.databasePath) }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(env.busyTimeout)
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: env.databasePath, configuration: config)
        } catch {
            throw Mirror.translate(error, path: env.databasePath, busyTimeout: env.busyTimeout)
        }
        let (columns, rows): ([String], [[DatabaseValue]])
        do {
            (columns, rows) = try queue.read { db in
                let statement = try db.makeStatement(sql: SQLCommand.rewrite(query))
                let fetched = try Row.fetchAll(statement)
                return (statement.columnNames, fetched.map { row in (0..<row.count).map { row[$0] as DatabaseValue } })
            }
        } catch let error as DatabaseError {
            if error.resultCode == .SQLITE_READONLY {
                throw SQLError(description: "The mirror is read-only here: `odoosync sql` runs queries, not changes. Use `leads edit` to change a lead.")
            }
            if error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_BUSY {
                throw Mirror.translate(error, path: env.databasePath, busyTimeout: env.busyTimeout)
            }
            throw SQLError(description: "The query failed: \(error.message ?? "\(error.resultCode)").")
        }
        if json {
            Output.json(.array(rows.map { row in .object(zip(columns, row.map(SQLCommand.jsonValue)).map { ($0, $1) }) }))
        } else if csv {
            Output.print(Output.csv(columns, rows.map { $0.map(SQLCommand.text) }))
        } else {
            Output.print(Output.table(columns, rows.map { $0.map { Output.truncate(SQLCommand.text($0), 60) } }))
            Output.print("(\(rows.count) row\(rows.count == 1 ? "" : "s"))")
        }
    }

    struct SQLError: UserFacingError {
        let description: String
        var exitStatus: ExitStatus { .usage }
    }

    static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return ""
        case .int64(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .string(let s): return s
        case .blob(let b): return "<\(b.count) bytes>"
        }
    }

    static func jsonValue(_ value: DatabaseValue) -> JSONValue {
        switch value.storage {
        case .null: return .null
        case .int64(let i): return .int(Int(i))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .blob(let b): return .string(b.base64EncodedString())
        }
    }
}
