import Foundation
import GRDB
import OdooSyncCore
import OdooSyncMirror

public enum SyncDirection: String, CaseIterable, Sendable {
    case planeToOdoo = "plane_to_odoo", odooToPlane = "odoo_to_plane", bidirectional
}

public enum ConflictStrategy: String, CaseIterable, Sendable {
    case latestWins = "latest_wins", planeWins = "plane_wins", odooWins = "odoo_wins", manual
}

/// One `sync_config` row: an entity type of the design's table and how it syncs.
public struct EntityConfig: Sendable {
    public let id: String
    public let planeType: String
    public let odooModel: String
    public var enabled: Bool
    public var direction: SyncDirection
    /// (Plane field, Odoo field), defaults first, then custom pairs.
    public var fieldMappings: [(plane: String, odoo: String)]
    public var strategy: ConflictStrategy

    public var key: String { "\(planeType):\(odooModel)" }
    var planeToOdoo: Bool { enabled && direction != .odooToPlane }
    var odooToPlane: Bool { enabled && direction != .planeToOdoo }
}

/// The entity types odoosync knows, and the fields each side can map.
public enum SyncEntities {
    public static let all = ["project:project.project", "issue:project.task", "cycle:project.milestone",
                             "module:project.project", "issue:sale.order", "issue:account.move"]

    /// Plane fields and Odoo fields a mapping of each entity may name: the ones the pulls bring.
    public static let fields: [String: (plane: [String], odoo: [String])] = [
        "issue:project.task": (["name", "description", "priority", "state", "start_date", "target_date"],
                               ["name", "description", "priority", "stage_id", "date_deadline", "allocated_hours"]),
        "project:project.project": (["name", "description"], ["name", "description", "date_start", "date"]),
        "cycle:project.milestone": (["name", "end_date", "start_date"], ["name", "deadline"]),
        "module:project.project": (["name", "description", "start_date", "target_date"], ["name", "description", "date_start", "date"]),
        "issue:sale.order": (["name"], ["name"]),
        "issue:account.move": (["name"], ["name"]),
    ]

    public static func load(_ db: Database) throws -> [String: EntityConfig] {
        var out: [String: EntityConfig] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, plane_type, odoo_model, enabled, direction, field_mappings, conflict_resolution FROM sync_config") {
            let mappings = (try? JSONValue.parse(row[5] as String))?.objectValue ?? []
            let config = EntityConfig(
                id: row[0], planeType: row[1], odooModel: row[2], enabled: row[3],
                direction: SyncDirection(rawValue: row[4]) ?? .bidirectional,
                fieldMappings: mappings.compactMap { pair in pair.1.stringValue.map { (pair.0, $0) } },
                strategy: ConflictStrategy(rawValue: row[6]) ?? .latestWins)
            out[config.key] = config
        }
        return out
    }

    /// `config set sync <entity> <what> <value>`, validated with the valid values named.
    public static func set(_ mirror: Mirror, entity: String, what: String, value: String) throws -> String {
        guard all.contains(entity) else {
            throw ConfigurationError("`\(entity)` is not an entity type. Valid: \(all.joined(separator: ", ")).")
        }
        let parts = entity.split(separator: ":").map(String.init)
        let (planeType, odooModel) = (parts[0], parts[1])
        return try mirror.write { db in
            guard let current = try load(db)[entity] else {
                throw ConfigurationError("The mirror has no sync_config row for \(entity); run `odoosync init` to add the defaults.")
            }
            let now = Timestamp.iso(Date())
            func update(_ column: String, _ newValue: DatabaseValueConvertible) throws {
                try db.execute(sql: "UPDATE sync_config SET \(column) = ?, updated_at = ? WHERE id = ?", arguments: [newValue, now, current.id])
            }
            switch what {
            case "direction":
                guard SyncDirection(rawValue: value) != nil else {
                    throw ConfigurationError("`\(value)` is not a direction. Valid: \(SyncDirection.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                try update("direction", value)
                return "\(entity) direction = \(value)"
            case "strategy", "conflict_resolution":
                guard ConflictStrategy(rawValue: value) != nil else {
                    throw ConfigurationError("`\(value)` is not a conflict strategy. Valid: \(ConflictStrategy.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                try update("conflict_resolution", value)
                return "\(entity) conflict_resolution = \(value)"
            case "enabled":
                guard let flag = ["true": true, "on": true, "1": true, "false": false, "off": false, "0": false][value.lowercased()] else {
                    throw ConfigurationError("`\(value)` is not a switch. Valid: true, false.")
                }
                try update("enabled", flag)
                return "\(entity) enabled = \(flag)"
            case "field":
                // "plane=odoo" adds or changes a pair; "-plane" removes it.
                let known = fields[entity] ?? ([], [])
                var pairs = current.fieldMappings
                if value.hasPrefix("-") {
                    let name = String(value.dropFirst())
                    guard pairs.contains(where: { $0.plane == name }) else {
                        throw ConfigurationError("\(entity) has no mapping for `\(name)`. Mapped: \(pairs.map(\.plane).joined(separator: ", ")).")
                    }
                    pairs.removeAll { $0.plane == name }
                } else {
                    let sides = value.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
                    guard sides.count == 2 else {
                        throw ConfigurationError("A field mapping is `<plane field>=<odoo field>` (or `-<plane field>` to remove one).")
                    }
                    guard known.plane.contains(sides[0]) else {
                        throw ConfigurationError("`\(sides[0])` is not a Plane field of \(planeType). Valid: \(known.plane.joined(separator: ", ")).")
                    }
                    guard known.odoo.contains(sides[1]) else {
                        throw ConfigurationError("`\(sides[1])` is not a field of \(odooModel). Valid: \(known.odoo.joined(separator: ", ")).")
                    }
                    if let index = pairs.firstIndex(where: { $0.plane == sides[0] }) {
                        pairs[index] = (sides[0], sides[1])
                    } else {
                        pairs.append((sides[0], sides[1]))
                    }
                }
                let json = JSONValue.object(pairs.map { ($0.plane, .string($0.odoo)) })
                try update("field_mappings", json.serialized)
                return "\(entity) field_mappings = \(json.serialized)"
            default:
                throw ConfigurationError("`\(what)` is not a sync setting. Valid: direction, strategy, enabled, field.")
            }
        }
    }

    /// `config set state "<Plane state>" "<Odoo stage>"`; `none` removes the row.
    public static func setStateMapping(_ mirror: Mirror, planeState: String, odooStage: String) throws {
        let plane = planeState.trimmingCharacters(in: .whitespaces).lowercased()
        guard !plane.isEmpty else { throw ConfigurationError("The Plane state name is empty.") }
        try mirror.write { db in
            if odooStage == "none" {
                try db.execute(sql: "DELETE FROM state_map WHERE plane_state = ?", arguments: [plane])
            } else {
                try db.execute(sql: "INSERT INTO state_map (plane_state, odoo_stage) VALUES (?, ?) ON CONFLICT (plane_state) DO UPDATE SET odoo_stage = excluded.odoo_stage",
                               arguments: [plane, odooStage.trimmingCharacters(in: .whitespaces).lowercased()])
            }
        }
    }
}
