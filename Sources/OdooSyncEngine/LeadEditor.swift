import Foundation
import GRDB
import OdooSyncCore
import OdooSyncMirror

/// The fields a lead edit may change, in the ERP's terms.
public struct LeadChanges: Sendable, Equatable {
    public var stage: String?
    public var probability: Double?
    public var expectedValue: Double?
    /// `.some(nil)` clears the deadline.
    public var expectedCloseDate: String??

    public init(stage: String? = nil, probability: Double? = nil, expectedValue: Double? = nil, expectedCloseDate: String?? = nil) {
        self.stage = stage
        self.probability = probability
        self.expectedValue = expectedValue
        self.expectedCloseDate = expectedCloseDate
    }

    public var isEmpty: Bool { stage == nil && probability == nil && expectedValue == nil && expectedCloseDate == nil }

    var pairs: [(String, JSONValue)] {
        var out: [(String, JSONValue)] = []
        if let stage { out.append(("stage", .string(stage))) }
        if let probability { out.append(("probability", .double(probability))) }
        if let expectedValue { out.append(("expected_value", .double(expectedValue))) }
        if let date = expectedCloseDate { out.append(("expected_close_date", date.map(JSONValue.string) ?? .null)) }
        return out
    }
}

/// Local, offline work on leads: edits recorded in the mirror for `push`.
public struct LeadEditor: Sendable {
    let mirror: Mirror

    public init(mirror: Mirror) { self.mirror = mirror }

    public struct EditError: UserFacingError {
        public let description: String
        public init(description: String) { self.description = description }
        public var exitStatus: ExitStatus { .usage }
    }

    /// Finds a lead by its local uuid, its Odoo id, or "odoo_crm_<id>".
    public static func findLead(_ db: Database, _ reference: String) throws -> Row? {
        let ref = reference.trimmingCharacters(in: .whitespaces)
        if let odooID = Int(ref) ?? (ref.hasPrefix("odoo_crm_") ? Int(ref.dropFirst(9)) : nil) {
            return try Row.fetchOne(db, sql: "SELECT * FROM leads WHERE odoo_id = ?", arguments: [odooID])
        }
        return try Row.fetchOne(db, sql: "SELECT * FROM leads WHERE id = ?", arguments: [ref.lowercased()])
    }

    /// Records an edit: the lead row changes at once (so offline views show it) and the change
    /// waits in `local_edits`, merged with any earlier unpushed edit, until `push`.
    @discardableResult
    public func edit(_ reference: String, _ changes: LeadChanges) throws -> (leadID: String, odooID: Int) {
        guard !changes.isEmpty else {
            throw EditError(description: "Nothing to change: give at least one of --stage, --probability, --revenue, --deadline.")
        }
        if let p = changes.probability, !(0...100).contains(p) {
            throw EditError(description: "--probability must be between 0 and 100, got \(JSONValue.format(p)).")
        }
        if let v = changes.expectedValue, v < 0 || !v.isFinite {
            throw EditError(description: "--revenue must be a positive amount, got \(v).")
        }
        if case .some(.some(let date)) = changes.expectedCloseDate, !Timestamp.isDate(date) {
            throw EditError(description: "--deadline must be a date like 2026-12-31 (or `none` to clear it), got `\(date)`.")
        }
        let stageSlugs = try mirror.stageMap().slugs
        if let stage = changes.stage, !stageSlugs.contains(stage) {
            throw EditError(description: "`\(stage)` is not a pipeline stage. Known stages: \(stageSlugs.sorted().joined(separator: ", ")).")
        }
        return try mirror.write { db in
            guard let lead = try LeadEditor.findLead(db, reference) else {
                throw EditError(description: "No lead `\(reference)` in the mirror. Use its id, its Odoo id or odoo_crm_<id> (see `odoosync leads`).")
            }
            let leadID: String = lead["id"]
            guard let odooID: Int = lead["odoo_id"] else {
                throw EditError(description: "Lead `\(reference)` did not come from Odoo, so there is nothing to push it to.")
            }
            if lead["deleted_at"] as String? != nil {
                throw EditError(description: "Lead `\(reference)` was deleted in Odoo; it cannot be edited.")
            }
            let now = Timestamp.iso(Date())
            var sets: [String] = []
            var args: StatementArguments = []
            if let stage = changes.stage { sets.append("stage = ?"); args += [stage] }
            if let p = changes.probability { sets.append("probability = ?"); args += [p] }
            if let v = changes.expectedValue { sets.append("expected_value = ?"); args += [v] }
            if let d = changes.expectedCloseDate { sets.append("expected_close_date = ?"); args += [d] }
            args += [now, leadID]
            try db.execute(sql: "UPDATE leads SET \(sets.joined(separator: ", ")), updated_at = ? WHERE id = ?", arguments: args)

            if let open = try Row.fetchOne(db, sql: "SELECT id, changes FROM local_edits WHERE lead_id = ? AND status IN ('pending', 'conflict')",
                                           arguments: [leadID]) {
                var merged = (try? JSONValue.parse(open["changes"] as String))?.objectValue ?? []
                for (key, value) in changes.pairs {
                    merged.removeAll { $0.0 == key }
                    merged.append((key, value))
                }
                try db.execute(sql: "UPDATE local_edits SET changes = ?, updated_at = ? WHERE id = ?",
                               arguments: [JSONValue.object(merged).serialized, now, open["id"] as Int])
            } else {
                let base = try String.fetchOne(db, sql: "SELECT write_date FROM odoo_records WHERE model = 'crm.lead' AND odoo_id = ?",
                                               arguments: [odooID])
                try db.execute(sql: """
                    INSERT INTO local_edits (lead_id, odoo_id, changes, base_write_date, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [leadID, odooID, JSONValue.object(changes.pairs).serialized, base, now, now])
            }
            try Mirror.appendEvent(db, runID: nil, type: "lead_edited", message: "lead odoo_crm_\(odooID) edited locally",
                                   metadata: ["odoo_id": .int(odooID), "changes": .object(changes.pairs)])
            return (leadID, odooID)
        }
    }
}
