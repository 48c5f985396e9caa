import ArgumentParser
import Foundation
import GRDB
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show or change the stage map, the priority map and settings.",
        subcommands: [ConfigShow.self, ConfigSet.self, ConfigPairProject.self], defaultSubcommand: ConfigShow.self)
}

struct ConfigShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the maps, the settings and the Odoo and Plane connections (secrets masked).")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror(create: false)
        let stageRows = try mirror.read { db in
            try Row.fetchAll(db, sql: "SELECT odoo_stage, stage FROM stage_map ORDER BY stage, odoo_stage").map { ($0[0] as String, $0[1] as String) }
        }
        let priorities = try mirror.priorityMap().sorted { $0.key > $1.key }
        let settings = try mirror.allSettings()
        let syncConfig = try mirror.read { db in
            try Row.fetchAll(db, sql: "SELECT plane_type, odoo_model, enabled, direction, conflict_resolution, field_mappings FROM sync_config ORDER BY plane_type")
        }
        func setting(_ env1: String, _ key: String) -> String? {
            env.environment[env1].flatMap { $0.isEmpty ? nil : $0 } ?? env.configFile[key]
        }
        let connection: JSONValue = [
            "url": setting("ODOO_URL", "odoo.url").map(JSONValue.string) ?? .null,
            "database": setting("ODOO_DATABASE", "odoo.database").map(JSONValue.string) ?? .null,
            "username": setting("ODOO_USERNAME", "odoo.username").map(JSONValue.string) ?? .null,
            "protocol": .string(setting("ODOO_PROTOCOL", "odoo.protocol") ?? "auto"),
            "api_key": .string(setting("ODOO_API_KEY", "odoo.api_key") == nil ? "not set" : "set (hidden)"),
            "password": .string(setting("ODOO_PASSWORD", "odoo.password") == nil ? "not set" : "set (hidden)"),
        ]
        let plane: JSONValue = [
            "url": setting("PLANE_API_URL", "plane.url").map(JSONValue.string) ?? .null,
            "workspace_slug": setting("PLANE_WORKSPACE_SLUG", "plane.workspace_slug").map(JSONValue.string) ?? .null,
            "projects": .string(setting("PLANE_PROJECTS", "plane.projects") ?? "all"),
            "api_key": .string(setting("PLANE_API_KEY", "plane.api_key") == nil ? "not set" : "set (hidden)"),
        ]
        let doc: JSONValue = [
            "odoo": connection,
            "plane": plane,
            "stage_map": .object(stageRows.map { ($0.0, .string($0.1)) }),
            "priority_map": .object(priorities.map { ($0.key, .string($0.value)) }),
            "settings": .object(settings.map { ($0.0, .string($0.1)) }),
            "state_map": .object(try mirror.read { db in
                try Row.fetchAll(db, sql: "SELECT plane_state, odoo_stage FROM state_map ORDER BY 1").map { ($0[0] as String, JSONValue.string($0[1])) }
            }),
            "sync_config": .array(syncConfig.map { r in
                ["plane_type": .string(r[0]), "odoo_model": .string(r[1]), "enabled": .bool(r[2]), "direction": .string(r[3]),
                 "conflict_resolution": .string(r[4]), "field_mappings": (try? JSONValue.parse(r[5] as String)) ?? .null]
            }),
        ]
        if json {
            Output.json(doc)
            return
        }
        Output.print("Odoo connection:")
        for (key, value) in connection.objectValue ?? [] { Output.print("  \(key): \(value.stringValue ?? "not set")") }
        Output.print("Plane connection:")
        for (key, value) in plane.objectValue ?? [] { Output.print("  \(key): \(value.stringValue ?? "not set")") }
        Output.print("\nStage map (Odoo stage name, matched case-insensitively → pipeline stage):")
        Output.print(Output.table(["odoo stage", "stage"], stageRows.map { [$0.0, $0.1] }))
        Output.print("\nPriority map (Odoo stars → priority):")
        Output.print(Output.table(["odoo", "priority"], priorities.map { [$0.key, $0.value] }))
        let stateRows = try mirror.read { db in
            try Row.fetchAll(db, sql: "SELECT plane_state, odoo_stage FROM state_map ORDER BY 1").map { [$0[0] as String, $0[1] as String] }
        }
        Output.print("\nPlane ↔ Odoo sync (odoosync config set sync <entity> <direction|strategy|enabled|field> <value>):")
        Output.print(Output.table(["entity", "enabled", "direction", "conflicts", "fields (plane=odoo)"], syncConfig.map { r in
            let fields = ((try? JSONValue.parse(r[5] as String))?.objectValue ?? []).map { "\($0.0)=\($0.1.stringValue ?? "")" }.joined(separator: " ")
            return ["\(r[0] as String):\(r[1] as String)", (r[2] as Bool) ? "yes" : "no", r[3] as String, r[4] as String, fields]
        }))
        Output.print("\nState map (Plane state → Odoo task stage; equal names need no row):")
        Output.print(Output.table(["plane state", "odoo stage"], stateRows))
        Output.print("\nSettings:")
        Output.print(Output.table(["key", "value", "meaning"], settings.map { [$0.0, $0.1, Mirror.knownSettings[$0.0] ?? ""] }))
    }
}

struct ConfigSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change a map entry or a setting.",
        discussion: """
            odoosync config set stage "Hot Enquiries" hot_enquiries   map an Odoo stage (none removes the row)
            odoosync config set priority 1 low                        map an Odoo priority (0-3 stars)
            odoosync config set pull.overlap_seconds 600              change a setting
            odoosync config set sync issue:project.task strategy manual      latest_wins, plane_wins, odoo_wins, manual
            odoosync config set sync issue:project.task direction plane_to_odoo
            odoosync config set sync issue:project.task enabled false
            odoosync config set sync issue:project.task field target_date=date_deadline   (-target_date removes it)
            odoosync config set state "Todo" "To Do"                  map a Plane state to an Odoo task stage (none removes)
            Changing a map re-applies it to every mirrored lead that has no pending edit.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "stage, priority, or a setting name.") var key: String
    @Argument(help: "The value(s).") var values: [String] = []

    func run() throws {
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror()
        let lock = try env.lockMirror()
        defer { withExtendedLifetime(lock) {} }
        switch key {
        case "stage":
            guard values.count == 2 else {
                throw ValidationError("Usage: odoosync config set stage \"<Odoo stage name>\" <slug|none>")
            }
            try mirror.setStageMapping(odooStage: values[0], stage: values[1] == "none" ? nil : values[1])
            let count = try mirror.reprojectAllLeads()
            Output.print("Stage \"\(values[0])\" → \(values[1]); \(count) lead(s) re-mapped.")
        case "priority":
            guard values.count == 2 else { throw ValidationError("Usage: odoosync config set priority <0|1|2|3> <high|medium|low>") }
            try mirror.setPriorityMapping(odooPriority: values[0], priority: values[1])
            let count = try mirror.reprojectAllLeads()
            Output.print("Priority \(values[0]) → \(values[1]); \(count) lead(s) re-mapped.")
        case "sync":
            guard values.count == 3 else {
                throw ValidationError("Usage: odoosync config set sync <entity> <direction|strategy|enabled|field> <value>; entities: \(SyncEntities.all.joined(separator: ", ")).")
            }
            Output.print(try SyncEntities.set(mirror, entity: values[0], what: values[1], value: values[2]))
        case "state":
            guard values.count == 2 else { throw ValidationError("Usage: odoosync config set state \"<Plane state>\" \"<Odoo stage>|none\"") }
            try SyncEntities.setStateMapping(mirror, planeState: values[0], odooStage: values[1])
            Output.print("Plane state \"\(values[0])\" ↔ Odoo stage \"\(values[1])\".")
        default:
            guard values.count == 1 else { throw ValidationError("Usage: odoosync config set \(key) <value>") }
            try mirror.setSetting(key, values[0])
            Output.print("\(key) = \(values[0])")
        }
    }
}

struct ConfigPairProject: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pair-project", abstract: "Pair a Plane project with an Odoo project by hand (instead of by exact name).",
        discussion: "Both projects must be in the mirror: run `odoosync pull plane` and `odoosync pull odoo` first.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The Plane project: identifier (e.g. WEB), id or name.") var plane: String
    @Argument(help: "The Odoo project: id or exact name.") var odoo: String

    func run() throws {
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror(create: false)
        let lock = try env.lockMirror()
        defer { withExtendedLifetime(lock) {} }
        let pair = try SyncEngine.pairProjects(mirror: mirror, plane: plane, odoo: odoo)
        Output.print("Paired Plane project \(pair.plane) with Odoo project \(pair.odoo); `odoosync sync` keeps them in step.")
    }
}
