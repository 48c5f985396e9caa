import Foundation
import GRDB
import OdooSyncCore

/// The maps and options kept in the mirror, which `odoosync config` shows and changes.
extension Mirror {
    public static let prioritySlugs = ["high", "medium", "low"]

    public func stageMap() throws -> StageMap {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT odoo_stage, stage FROM stage_map")
            return StageMap(entries: Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as String, $0[1] as String) }))
        }
    }

    public func priorityMap() throws -> [String: String] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT odoo_priority, priority FROM priority_map")
            return Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as String, $0[1] as String) })
        }
    }

    public func setStageMapping(odooStage: String, stage: String?) throws {
        let key = StageMap.normalize(odooStage)
        guard !key.isEmpty else { throw ConfigurationError("The Odoo stage name is empty.") }
        try write { db in
            if let stage {
                guard stage.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) != nil else {
                    throw ConfigurationError("`\(stage)` is not a pipeline stage slug: use lowercase letters, digits and _ (for example hot_enquiries).")
                }
                try db.execute(sql: "INSERT INTO stage_map (odoo_stage, stage) VALUES (?, ?) ON CONFLICT (odoo_stage) DO UPDATE SET stage = excluded.stage",
                               arguments: [key, stage])
            } else {
                try db.execute(sql: "DELETE FROM stage_map WHERE odoo_stage = ?", arguments: [key])
            }
        }
    }

    public func setPriorityMapping(odooPriority: String, priority: String) throws {
        guard ["0", "1", "2", "3"].contains(odooPriority) else {
            throw ConfigurationError("`\(odooPriority)` is not an Odoo lead priority; use 0, 1, 2 or 3 (the number of stars).")
        }
        guard Mirror.prioritySlugs.contains(priority) else {
            throw ConfigurationError("`\(priority)` is not a lead priority; use one of \(Mirror.prioritySlugs.joined(separator: ", ")).")
        }
        try write { db in
            try db.execute(sql: "UPDATE priority_map SET priority = ? WHERE odoo_priority = ?", arguments: [priority, odooPriority])
        }
    }

    public static let knownSettings: [String: String] = [
        "pull.overlap_seconds": "seconds re-read before the last cursor on each incremental pull (default 300)",
        "pull.page_size": "records per search_read page (default 1000, 1..10000)",
        "leads.company_id": "ERP company uuid written into leads.company_id (empty for none)",
        "sync.retry_base_seconds": "first retry delay of a failed sync queue item; it doubles per attempt (default 60)",
        "sync.max_attempts": "attempts before a sync queue item is marked failed (default 3)",
        "sync.on_delete": "what a delete on one side does to the other: archive (default) or ignore",
        "plane.page_size": "Plane records per list page (default 1000, Plane's maximum; 1..1000)",
        "plane.overlap_seconds": "seconds of Plane issue changes re-read before the last cursor (default 300)",
        "plane.listing_interval_seconds": "an incremental Plane pull lists every issue id at least this often, even when the counts match (default 21600; 0: every pull)",
        "report.stale_days": "days without a change after which `report` lists an open lead as stale (default 30)",
    ]

    public func setting(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key]) }
    }

    public func allSettings() throws -> [(String, String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT key, value FROM settings ORDER BY key").map { ($0[0], $0[1]) }
        }
    }

    public func setSetting(_ key: String, _ value: String) throws {
        guard let _ = Mirror.knownSettings[key] else {
            throw ConfigurationError("`\(key)` is not a setting. Known settings: \(Mirror.knownSettings.keys.sorted().joined(separator: ", ")).")
        }
        switch key {
        case "plane.page_size":
            guard let n = Int(value), (1...1000).contains(n) else { throw ConfigurationError("plane.page_size must be a whole number from 1 to 1000 (Plane refuses more).") }
        case "pull.overlap_seconds", "plane.overlap_seconds", "plane.listing_interval_seconds":
            guard let n = Int(value), n >= 0 else { throw ConfigurationError("\(key) must be a whole number of seconds ≥ 0.") }
        case "pull.page_size":
            guard let n = Int(value), (1...10_000).contains(n) else { throw ConfigurationError("pull.page_size must be a whole number from 1 to 10000.") }
        case "sync.retry_base_seconds":
            guard let n = Double(value), n >= 0 else { throw ConfigurationError("sync.retry_base_seconds must be a number of seconds ≥ 0.") }
        case "sync.max_attempts":
            guard let n = Int(value), n >= 1 else { throw ConfigurationError("sync.max_attempts must be a whole number ≥ 1.") }
        case "sync.on_delete":
            guard ["archive", "ignore"].contains(value) else {
                throw ConfigurationError("sync.on_delete must be one of: archive, ignore (got `\(value)`).")
            }
        case "report.stale_days":
            guard let n = Int(value), n >= 0 else { throw ConfigurationError("report.stale_days must be a whole number of days ≥ 0.") }
        default: break
        }
        try write { db in
            try db.execute(sql: "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           arguments: [key, value])
        }
    }
}
