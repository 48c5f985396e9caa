import Foundation
import GRDB
import OdooClient
import OdooSyncCore
import OdooSyncMirror

/// `odoosync conflicts resolve <id> --keep local|odoo`.
public struct ConflictResolver: Sendable {
    let mirror: Mirror

    public init(mirror: Mirror) { self.mirror = mirror }

    public enum Keep: String, Sendable, CaseIterable { case local, odoo }

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
            }
            try db.execute(sql: "UPDATE conflicts SET status = 'resolved', resolution = ?, resolved_at = ? WHERE id = ?",
                           arguments: ["keep_\(keep.rawValue)", now, conflictID])
            try Mirror.appendEvent(db, runID: nil, type: "conflict_resolved",
                                   message: "conflict \(conflictID) resolved: kept \(keep.rawValue)",
                                   metadata: ["conflict_id": .int(conflictID), "keep": .string(keep.rawValue)])
        }
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
