import ArgumentParser
import Foundation
import GRDB
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror

struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "List, show and settle leads changed both locally and in Odoo.",
        subcommands: [ConflictsList.self, ConflictsShow.self, ConflictsResolve.self], defaultSubcommand: ConflictsList.self)
}

struct ConflictsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List open conflicts.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Include resolved conflicts.") var all = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror(create: false)
        let rows = try mirror.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.id, c.entity, c.odoo_id, l.title, c.local_data, c.base_write_date, c.remote_write_date, c.status,
                       c.resolution, c.created_at
                FROM conflicts c LEFT JOIN leads l ON l.id = c.entity_id
                \(all ? "" : "WHERE c.status = 'open'") ORDER BY c.id
                """)
        }
        if json {
            Output.json(.array(rows.map { row in
                .object(["id", "entity", "odoo_id", "title", "local_changes", "base_write_date", "remote_write_date", "status",
                         "resolution", "created_at"].enumerated().map { i, key in
                    (key, i == 4 ? ((try? JSONValue.parse(row[i] as String)) ?? .null) : SQLCommand.jsonValue(row[i] as DatabaseValue))
                })
            }))
            return
        }
        if rows.isEmpty {
            Output.print(all ? "No conflicts." : "No open conflicts.")
            return
        }
        Output.print(Output.table(["id", "record", "title", "local changes", "pulled at", "odoo changed at", "status"],
                                  rows.map { r in
                                      [SQLCommand.text(r[0]),
                                       SQLCommand.text(r[1]) == "lead" ? "odoo_crm_" + SQLCommand.text(r[2]) : SQLCommand.text(r[1]) + " " + SQLCommand.text(r[2]),
                                       Output.truncate(SQLCommand.text(r[3]), 30),
                                       SQLCommand.text(r[4]), SQLCommand.text(r[5]), SQLCommand.text(r[6]), SQLCommand.text(r[7])]
                                  }, rightAligned: [0]))
        Output.print("Settle one with `odoosync conflicts resolve <id> --keep local|odoo` (a lead) or `--keep plane|odoo` (a Plane sync item).")
    }
}

struct ConflictsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show both sides of a conflict.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The conflict id.") var id: Int

    func run() throws {
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror(create: false)
        guard let row = try mirror.read({ db in try Row.fetchOne(db, sql: "SELECT * FROM conflicts WHERE id = ?", arguments: [id]) }) else {
            throw ConflictResolver.ResolveError(description: "There is no conflict \(id). `odoosync conflicts` lists the open ones.")
        }
        var pairs: [(String, JSONValue)] = []
        for column in row.columnNames {
            let value: DatabaseValue = row[column]
            if column == "local_data" || column == "remote_data", let text = String.fromDatabaseValue(value) {
                pairs.append((column, (try? JSONValue.parse(text)) ?? .string(text)))
            } else {
                pairs.append((column, SQLCommand.jsonValue(value)))
            }
        }
        Output.json(.object(pairs))
    }
}

struct ConflictsResolve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Settle a conflict: for a lead, --keep local re-queues your edit over Odoo's and --keep odoo drops it; for a Plane <-> Odoo item, --keep plane or --keep odoo picks the side the next sync writes to the other.")

    enum Keep: String, ExpressibleByArgument, CaseIterable { case local, odoo, plane }

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The conflict id.") var id: Int
    @Option(help: "Which side wins: local or odoo (leads), plane or odoo (Plane sync).") var keep: Keep

    func run() throws {
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror(create: false)
        let lock = try env.lockMirror()
        defer { withExtendedLifetime(lock) {} }
        let entity = try mirror.read { db in try String.fetchOne(db, sql: "SELECT entity FROM conflicts WHERE id = ?", arguments: [id]) }
        try ConflictResolver(mirror: mirror).resolve(conflictID: id, keep: ConflictResolver.Keep(rawValue: keep.rawValue) ?? .odoo)
        if let entity, entity != "lead" {
            Output.print("Conflict \(id) resolved: \(keep == .plane ? "Plane" : "Odoo")'s values win; `odoosync sync` writes them to the other side.")
            return
        }
        Output.print(keep == .local
            ? "Conflict \(id) resolved: your edit is queued again; `odoosync push` writes it over Odoo's change."
            : "Conflict \(id) resolved: your edit was dropped and the lead shows Odoo's version.")
    }
}
