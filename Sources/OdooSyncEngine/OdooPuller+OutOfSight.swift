import Foundation
import GRDB
import OdooClient
import OdooSyncCore
import OdooSyncMirror

/// Records a search stops returning. Odoo keeps no trace of a delete, but a search also skips,
/// without a word, every record a record rule hides from the user (reference: "Record rules
/// filter search results silently"): a lead reassigned to a salesman whose leads this user may
/// not see vanishes from the search exactly as a deleted one does. A read by id tells them
/// apart, and only the deleted become tombstones.
extension OdooPuller {
    struct OutOfSight: Equatable {
        /// Odoo no longer has them.
        var deleted: [Int] = []
        /// A record rule keeps them from this user; they still exist.
        var hidden: [Int] = []
        /// Readable, but outside the model's pulled domain now (an invoice turned into a
        /// vendor bill, say).
        var outOfScope: [Int] = []
    }

    /// Sorts `ids` that a search of `model` no longer returns. `read` by id leaves a deleted
    /// id out of its answer (`[]` for a missing record, no error) and refuses the whole call
    /// with a record-rule AccessError when any id is hidden, so a refused set is halved until
    /// each hidden id stands alone: a few hidden records among many deleted cost a few reads.
    func sortOutOfSight(_ model: String, _ ids: [Int]) async throws -> OutOfSight {
        guard !ids.isEmpty else { return OutOfSight() }
        do {
            // A stored column, not just `id`: Odoo answers `id` alone from the ids it is given,
            // without the query that leaves deleted records out and applies the record rules.
            let answer = try await client.call(OdooCall(model: model, method: "read", ids: ids, args: [("fields", ["write_date"])], context: context))
            let readable = Set(answer.arrayValue?.compactMap { $0["id"]?.intValue } ?? [])
            return OutOfSight(deleted: ids.filter { !readable.contains($0) }, outOfScope: ids.filter { readable.contains($0) })
        } catch OdooError.recordRuleDenied {
            guard ids.count > 1 else { return OutOfSight(hidden: ids) }
            let half = ids.count / 2
            let first = try await sortOutOfSight(model, Array(ids[..<half]))
            let second = try await sortOutOfSight(model, Array(ids[half...]))
            return OutOfSight(deleted: first.deleted + second.deleted, hidden: first.hidden + second.hidden,
                              outOfScope: first.outOfScope + second.outOfScope)
        }
    }

    /// Marks the live records among `ids` gone from Odoo, each with an event saying why; for
    /// crm.lead the projected lead too. Returns how many were live.
    static func tombstone(_ db: Database, model: String, ids: [Int], runID: String, reason: String = "was deleted in Odoo") throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let live = try Int.fetchAll(db, sql: """
            SELECT odoo_id FROM odoo_records WHERE model = ? AND deleted = 0 AND odoo_id IN (SELECT value FROM json_each(?))
            """, arguments: [model, JSONValue.array(ids.map(JSONValue.int)).serialized])
        let now = Timestamp.iso(Date())
        for id in live {
            try db.execute(sql: "UPDATE odoo_records SET deleted = 1, pulled_at = ? WHERE model = ? AND odoo_id = ?",
                           arguments: [now, model, id])
            if model == ModelSpec.lead.name {
                try db.execute(sql: "UPDATE leads SET deleted_at = ?, updated_at = ? WHERE odoo_id = ? AND deleted_at IS NULL",
                               arguments: [now, now, id])
            }
            try Mirror.appendEvent(db, runID: runID, level: .info, type: "record_deleted", message: "\(model) \(id) \(reason)",
                                   metadata: ["model": .string(model), "odoo_id": .int(id)])
        }
        return live.count
    }

    /// Tombstones what `sortOutOfSight` found gone: the deleted, and the readable ones outside
    /// the pulled domain, each with its reason. Returns how many were live.
    static func tombstone(_ db: Database, model: String, _ gone: OutOfSight, runID: String) throws -> Int {
        try tombstone(db, model: model, ids: gone.deleted, runID: runID)
            + tombstone(db, model: model, ids: gone.outOfScope, runID: runID, reason: "no longer matches what odoosync pulls of it")
    }

    /// The ids of `model` the last check found hidden.
    static func hiddenIDs(_ db: Database, model: String) throws -> [Int] {
        let text = try String.fetchOne(db, sql: "SELECT hidden_ids FROM pull_cursors WHERE source = 'odoo' AND model = ?", arguments: [model])
        return text.flatMap { try? JSONValue.parse($0).arrayValue?.compactMap(\.intValue) } ?? []
    }

    /// Stores what a check found hidden: `found` among `checked` (nil: every id was checked),
    /// the earlier list elsewhere. A record newly out of sight gets one warning event; one that
    /// stays hidden gets none on later pulls. Returns how many are hidden now.
    static func recordHidden(_ db: Database, model: String, found: [Int], checked: Set<Int>?, runID: String) throws -> Int {
        let before = try hiddenIDs(db, model: model)
        let kept = checked.map { checked in before.filter { !checked.contains($0) } } ?? []
        let now = Set(kept + found).sorted()
        guard now != before.sorted() else { return now.count }
        for id in found where !before.contains(id) {
            try Mirror.appendEvent(db, runID: runID, level: .warn, type: "record_hidden",
                                   message: "\(model) \(id) is no longer visible to this Odoo user: a record rule hides it (it may have been reassigned). The mirror keeps it as last pulled and does not mark it deleted; a user who may see it can pull it.",
                                   metadata: ["model": .string(model), "odoo_id": .int(id)])
        }
        try db.execute(sql: """
            INSERT INTO pull_cursors (source, model, hidden_ids) VALUES ('odoo', ?, ?)
            ON CONFLICT (source, model) DO UPDATE SET hidden_ids = excluded.hidden_ids
            """, arguments: [model, JSONValue.array(now.map(JSONValue.int)).serialized])
        return now.count
    }
}
