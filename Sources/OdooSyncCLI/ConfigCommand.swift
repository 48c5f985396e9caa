import ArgumentParser
import Foundation
import GRDB
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show or change the stage map, the priority map and settings.",
        subcommands: [ConfigShow.self, ConfigSet.self], defaultSubcommand: ConfigShow.self)
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
        default:
            guard values.count == 1 else { throw ValidationError("Usage: odoosync config set \(key) <value>") }
            try mirror.setSetting(key, values[0])
            Output.print("\(key) = \(values[0])")
        }
    }
}
