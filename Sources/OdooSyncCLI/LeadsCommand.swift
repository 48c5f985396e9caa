import ArgumentParser
import Foundation
import GRDB
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror

struct LeadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leads", abstract: "List, show and edit mirrored leads (offline).",
        subcommands: [LeadsList.self, LeadsShow.self, LeadsEdit.self], defaultSubcommand: LeadsList.self)
}

struct LeadsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List leads, newest change first.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Only leads in this pipeline stage (slug, e.g. qualified).") var stage: String?
    @Option(help: "Only leads of this salesperson (part of the name).") var salesperson: String?
    @Option(name: [.long, .customLong("text")], help: "Only leads whose title, customer, contact or email contains this.") var search: String?
    @Flag(help: "Include archived leads and leads deleted in Odoo.") var all = false
    @Option(help: "At most this many leads (0 for all).") var limit = 50
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV.") var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("Choose one of --json and --csv.") }
        if limit < 0 { throw ValidationError("--limit must be 0 or more.") }
    }

    static let columns = ["id", "odoo_id", "title", "stage", "probability", "expected_value", "expected_close_date",
                          "priority", "salesperson", "customer", "email", "active", "pending_edit"]

    func run() throws {
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror(create: false)
        var conditions: [String] = []
        var args: StatementArguments = []
        if !all { conditions.append("l.active = 1 AND l.deleted_at IS NULL") }
        if let stage { conditions.append("l.stage = ?"); args += [stage] }
        if let salesperson { conditions.append("l.salesperson LIKE ?"); args += ["%\(salesperson)%"] }
        if let search {
            conditions.append("(l.title LIKE ?1 OR c.name LIKE ?1 OR ct.email LIKE ?1 OR json_extract(l.metadata, '$.odoo_contact') LIKE ?1)"
                .replacingOccurrences(of: "?1", with: "?"))
            for _ in 0..<4 { args += ["%\(search)%"] }
        }
        let sql = """
            SELECT l.id, l.odoo_id, l.title, coalesce(l.stage, ''), l.probability, l.expected_value, l.expected_close_date,
                   l.priority, l.salesperson, c.name, ct.email, l.active,
                   EXISTS (SELECT 1 FROM local_edits e WHERE e.lead_id = l.id AND e.status IN ('pending', 'conflict'))
            FROM leads l LEFT JOIN customers c ON c.id = l.customer_id LEFT JOIN contacts ct ON ct.id = l.contact_id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY json_extract(l.metadata, '$.odoo_write_date') DESC, l.odoo_id DESC
            \(limit > 0 ? "LIMIT \(limit)" : "")
            """
        let rows = try mirror.read { db in try Row.fetchAll(db, sql: sql, arguments: args) }
        if json {
            Output.json(.array(rows.map { row in
                .object(LeadsList.columns.enumerated().map { i, name in (name, SQLCommand.jsonValue(row[i] as DatabaseValue)) })
            }))
            return
        }
        let cells = rows.map { row in (0..<LeadsList.columns.count).map { SQLCommand.text(row[$0] as DatabaseValue) } }
        if csv {
            Output.print(Output.csv(LeadsList.columns, cells))
            return
        }
        if rows.isEmpty {
            Output.print("No leads match. (`odoosync pull odoo` fills the mirror; --all includes archived leads.)")
            return
        }
        Output.print(Output.table(
            ["odoo id", "title", "stage", "prob.", "revenue", "deadline", "salesperson", "customer", ""],
            cells.map { c in
                [c[1], Output.truncate(c[2], 40), c[3], c[4], c[5], c[6], Output.truncate(c[8], 20), Output.truncate(c[9], 24),
                 c[12] == "1" ? "edited" : (c[11] == "0" ? "archived" : "")]
            }, rightAligned: [0, 3, 4]))
    }
}

struct LeadsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one lead with its pending edit and Odoo snapshot.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The lead: its local id, its Odoo id, or odoo_crm_<id>.") var lead: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror(create: false)
        let doc: JSONValue = try mirror.read { db in
            guard let row = try LeadEditor.findLead(db, lead) else {
                throw LeadEditor.EditError(description: "No lead `\(lead)` in the mirror. Use its id, its Odoo id or odoo_crm_<id>.")
            }
            var pairs: [(String, JSONValue)] = []
            for column in row.columnNames {
                let value: DatabaseValue = row[column]
                if column == "metadata" || column == "tags", let text = String.fromDatabaseValue(value) {
                    pairs.append((column, (try? JSONValue.parse(text)) ?? .string(text)))
                } else {
                    pairs.append((column, SQLCommand.jsonValue(value)))
                }
            }
            if let customerID: String = row["customer_id"],
               let name = try String.fetchOne(db, sql: "SELECT name FROM customers WHERE id = ?", arguments: [customerID]) {
                pairs.append(("customer", .string(name)))
            }
            if let edit = try Row.fetchOne(db, sql: "SELECT changes, status, base_write_date FROM local_edits WHERE lead_id = ? AND status IN ('pending','conflict')",
                                           arguments: [row["id"] as String]) {
                pairs.append(("pending_edit", ["changes": (try? JSONValue.parse(edit[0] as String)) ?? .null,
                                               "status": .string(edit[1]), "base_write_date": (edit[2] as String?).map(JSONValue.string) ?? .null]))
            }
            return .object(pairs)
        }
        if json {
            Output.json(doc)
            return
        }
        for (key, value) in doc.objectValue ?? [] {
            let text: String
            switch value {
            case .string(let s): text = s
            case .null: text = "—"
            default: text = value.serialized
            }
            Output.print("\(key.padding(toLength: 20, withPad: " ", startingAt: 0)) \(text)")
        }
    }
}

struct LeadsEdit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit", abstract: "Edit a lead offline; `odoosync push` sends the change to Odoo.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The lead: its local id, its Odoo id, or odoo_crm_<id>.") var lead: String
    @Option(help: "New pipeline stage (slug, e.g. quotation_bids).") var stage: String?
    @Option(help: "New probability, 0 to 100.") var probability: Double?
    @Option(help: "New expected revenue.") var revenue: Double?
    @Option(help: "New deadline (YYYY-MM-DD), or `none` to clear it.") var deadline: String?

    func run() throws {
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror(create: false)
        let changes = LeadChanges(stage: stage, probability: probability, expectedValue: revenue,
                                  expectedCloseDate: deadline.map { $0.lowercased() == "none" ? nil : $0 })
        let result = try LeadEditor(mirror: mirror).edit(lead, changes)
        Output.print("Lead odoo_crm_\(result.odooID) edited locally; `odoosync push` sends it to Odoo.")
    }
}
