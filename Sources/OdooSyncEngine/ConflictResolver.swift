import Foundation
import GRDB
import OdooClient
import OdooSyncCore
import OdooSyncMirror

/// `odoosync conflicts resolve <id> --keep local|odoo`.
public struct ConflictResolver: Sendable {
    let mirror: Mirror

    public init(mirror: Mirror) { self.mirror = mirror }

    public enum Keep: String, Sendable, CaseIterable { case local, odoo, plane }

    public struct ResolveError: UserFacingError {
        public let description: String
        public init(description: String) { self.description = description }
        public var exitStatus: ExitStatus { .usage }
    }

    /// `local`: the edit goes back to the push queue, now based on Odoo's latest version, so
    /// the next push overwrites Odoo's change. `odoo`: the edit is dropped and the lead shows
    /// Odoo's version again.
    public func resolve(conflictID: Int, keep: Keep) throws {
        try mirror.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM conflicts WHERE id = ?", arguments: [conflictID]) else {
                throw ResolveError(description: "There is no conflict \(conflictID). `odoosync conflicts` lists the open ones.")
            }
            guard (row["status"] as String) == "open" else {
                throw ResolveError(description: "Conflict \(conflictID) was already resolved (\(row["resolution"] as String? ?? "")).")
            }
            let now = Timestamp.iso(Date())
            let entity: String = row["entity"]
            if entity != "lead" {
                try resolveSync(db, row: row, keep: keep)
            } else {
            guard keep != .plane else {
                throw ResolveError(description: "Conflict \(conflictID) is about a lead: keep `local` (your edit) or `odoo`.")
            }
            let editID: Int? = row["edit_id"]
            let odooID: Int? = row["odoo_id"]
            switch keep {
            case .local:
                let latest = try String.fetchOne(db, sql: "SELECT write_date FROM odoo_records WHERE model = 'crm.lead' AND odoo_id = ?",
                                                 arguments: [odooID])
                try db.execute(sql: "UPDATE local_edits SET status = 'pending', base_write_date = ?, updated_at = ? WHERE id = ?",
                               arguments: [row["remote_write_date"] as String? ?? latest, now, editID])
            case .odoo:
                try db.execute(sql: "UPDATE local_edits SET status = 'discarded', updated_at = ? WHERE id = ?", arguments: [now, editID])
                if let odooID { try ConflictResolver.reprojectLead(db, odooID: odooID) }
            case .plane: break
            }
            }
            try db.execute(sql: "UPDATE conflicts SET status = 'resolved', resolution = ?, resolved_at = ? WHERE id = ?",
                           arguments: ["keep_\(keep.rawValue)", now, conflictID])
            try Mirror.appendEvent(db, runID: nil, type: "conflict_resolved",
                                   message: "conflict \(conflictID) resolved: kept \(keep.rawValue)",
                                   metadata: ["conflict_id": .int(conflictID), "keep": .string(keep.rawValue)])
        }
    }

    /// A Plane <-> Odoo conflict: the winner's side stays "changed" in the pair's memory and the
    /// loser's is marked as seen, so the next `odoosync sync` writes the winner over the loser.
    private func resolveSync(_ db: Database, row: Row, keep: Keep) throws {
        let id: Int = row["id"]
        guard keep != .local else {
            throw ResolveError(description: "Conflict \(id) is between Plane and Odoo: keep `plane` or `odoo`.")
        }
        let mappingID: String = row["entity_id"]
        let plane = (try? JSONValue.parse(row["local_data"] as String))?["plane"]?.objectValue ?? []
        let odoo = (try? JSONValue.parse(row["remote_data"] as String))?["odoo"]?.objectValue ?? []
        guard let memory = try Row.fetchOne(db, sql: "SELECT plane_fields, odoo_fields FROM sync_pairs WHERE mapping_id = ?", arguments: [mappingID]) else {
            throw ResolveError(description: "Conflict \(id) points to a mapping that no longer exists; nothing to resolve.")
        }
        var planeMemory = SyncEngine.fieldsDict(memory[0])
        var odooMemory = SyncEngine.fieldsDict(memory[1])
        if keep == .plane {
            for (key, value) in odoo { odooMemory[key] = value }
        } else {
            for (key, value) in plane { planeMemory[key] = value }
        }
        try db.execute(sql: "UPDATE sync_pairs SET plane_fields = ?, odoo_fields = ?, plane_hash = NULL, odoo_hash = NULL WHERE mapping_id = ?",
                       arguments: [SyncEngine.fieldsJSON(planeMemory).serialized, SyncEngine.fieldsJSON(odooMemory).serialized, mappingID])
    }

    /// Rebuilds a lead row from its stored Odoo snapshot (after dropping a local edit, or when
    /// the stage or priority map changed).
    static func reprojectLead(_ db: Database, odooID: Int) throws {
        guard let data = try String.fetchOne(db, sql: "SELECT data FROM odoo_records WHERE model = 'crm.lead' AND odoo_id = ?",
                                             arguments: [odooID]) else { return }
        try reproject(db, snapshots: [data])
    }

    static func reproject(_ db: Database, snapshots: [String]) throws {
        guard !snapshots.isEmpty else { return }
        let projector = try LeadProjector(db: db, runID: nil)
        let scanner = RecordScanner(fields: LeadFields.all)
        let body = Array(("[" + snapshots.joined(separator: ",") + "]").utf8)
        _ = try scanner.scan(body, envelope: .json2) { view in
            _ = try projector.project(db, view, change: .updated)
        }
    }
}

extension Mirror {
    /// Re-applies the stage and priority maps to every lead without an open local edit.
    public func reprojectAllLeads() throws -> Int {
        try write { db in
            let rows = try String.fetchAll(db, sql: """
                SELECT r.data FROM odoo_records r WHERE r.model = 'crm.lead' AND r.deleted = 0
                """)
            try ConflictResolver.reproject(db, snapshots: rows)
            return rows.count
        }
    }
}
