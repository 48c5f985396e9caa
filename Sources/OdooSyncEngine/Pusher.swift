import Foundation
import GRDB
import Logging
import OdooClient
import OdooSyncCore
import OdooSyncMirror

public struct PushReport: Sendable {
    public var pushed = 0
    public var conflicts = 0
    public var failed = 0
    public var alreadyApplied = 0
    public var calls: [String] = []
    public var errors: [String] = []

    public var json: JSONValue {
        ["pushed": .int(pushed), "conflicts": .int(conflicts), "failed": .int(failed),
         "already_applied": .int(alreadyApplied), "calls": .array(calls.map(JSONValue.string)),
         "errors": .array(errors.map(JSONValue.string))]
    }
}

/// `odoosync push`: writes pending lead edits to Odoo, never over a colleague's change.
///
/// For each edit: read the lead's current write_date; if it moved since the edit's base, the
/// edit becomes a conflict (unless Odoo already holds exactly our values: a retry after a lost
/// answer); otherwise write, read the record back, and store it, the edit's completion and the
/// log in one transaction. Writing the same values twice is harmless, so a retry is safe.
/// Odoo has no conditional write, so a change that lands between that read and the write (one
/// round trip) is still overwritten; the read narrows the window, it cannot close it.
public final class Pusher: @unchecked Sendable {
    let mirror: Mirror
    let client: OdooClient
    let runID: String
    let logger: Logger

    public init(mirror: Mirror, client: OdooClient, runID: String, logger: Logger) {
        self.mirror = mirror
        self.client = client
        self.runID = runID
        self.logger = logger
    }

    struct PendingEdit {
        let id: Int
        let leadID: String
        let odooID: Int
        let changes: JSONValue
        let base: String?
    }

    public func push(dryRun: Bool) async throws -> PushReport {
        var report = PushReport()
        let edits = try mirror.read { db in
            try Row.fetchAll(db, sql: "SELECT id, lead_id, odoo_id, changes, base_write_date FROM local_edits WHERE status = 'pending' ORDER BY id")
                .map { row in
                    PendingEdit(id: row[0], leadID: row[1], odooID: row[2],
                                changes: (try? JSONValue.parse(row[3] as String)) ?? [:], base: row[4])
                }
        }
        guard !edits.isEmpty else { return report }
        let stages = try stageIDs()
        // One projection for the whole run: building it reads the maps and every partner
        // snapshot, work that need not be repeated per edit.
        let projector = try LeadProjector(mirror: mirror, runID: runID)
        let applier = PageApplier(spec: .lead)
        applier.participant = projector
        for edit in edits {
            do {
                try await pushOne(edit, stages: stages, dryRun: dryRun, readBack: (projector, applier), report: &report)
            } catch let error as OdooError where error.exitStatus != .remote {
                report.failed += 1
                report.errors.append("odoo_crm_\(edit.odooID): \(error)")
                try mirror.write { db in
                    try db.execute(sql: "UPDATE local_edits SET last_error = ?, updated_at = ? WHERE id = ?",
                                   arguments: [error.description, Timestamp.iso(Date()), edit.id])
                    try Mirror.appendSyncLog(db, runID: runID, sourceID: "odoo_crm_\(edit.odooID)", targetID: String(edit.odooID),
                                             operation: "update", success: false, error: error.description,
                                             sourceData: edit.changes)
                    try Mirror.appendEvent(db, runID: runID, level: .error, type: "push_failed",
                                           message: "push of lead odoo_crm_\(edit.odooID) failed: \(error)",
                                           metadata: ["odoo_id": .int(edit.odooID)])
                }
            }
        }
        return report
    }

    /// Slug -> Odoo stage ids from the pulled crm.stage snapshots, best first: several Odoo
    /// stages can map to one slug (three to `won`), and the one named like the slug ("Won")
    /// is what a user asking for `won` means; otherwise the earliest in the pipeline.
    func stageIDs() throws -> [String: [Int]] {
        let map = try mirror.stageMap()
        return try mirror.read { db in
            var out: [String: [Int]] = [:]
            let rows = try Row.fetchAll(db, sql: """
                SELECT odoo_id, json_extract(data, '$.name') FROM odoo_records
                WHERE model = 'crm.stage' AND deleted = 0
                ORDER BY json_extract(data, '$.sequence'), odoo_id
                """)
            for row in rows {
                let name: String = row[1] ?? ""
                guard let slug = map.slug(forOdooStage: name) else { continue }
                if StageMap.normalize(name) == slug.replacingOccurrences(of: "_", with: " ") {
                    out[slug, default: []].insert(row[0], at: 0)
                } else {
                    out[slug, default: []].append(row[0])
                }
            }
            return out
        }
    }

    static let readFields = ["write_date", "stage_id", "probability", "expected_revenue", "date_deadline"]

    private func pushOne(_ edit: PendingEdit, stages: [String: [Int]], dryRun: Bool,
                         readBack: (LeadProjector, PageApplier), report: inout PushReport) async throws {
        let read = OdooCall(model: "crm.lead", method: "read", ids: [edit.odooID],
                            args: [("fields", .array(Pusher.readFields.map(JSONValue.string)))], context: ["active_test": false])
        let current = try await client.call(read).arrayValue?.first
        guard let current else {
            try openConflict(edit, remote: "{}", remoteWriteDate: nil, report: &report, reason: "the lead was deleted in Odoo")
            return
        }
        let vals = try values(for: edit, current: current, stages: stages)
        let remoteWriteDate = current["write_date"]?.stringValue
        let write = OdooCall(model: "crm.lead", method: "write", ids: [edit.odooID], args: [("vals", .object(vals))])
        if dryRun {
            report.calls.append(try await client.describe(read))
            if !vals.isEmpty { report.calls.append(try await client.describe(write)) }
            return
        }
        if remoteWriteDate != edit.base {
            if vals.isEmpty {
                // Odoo already holds our values: an earlier push wrote them and its answer was lost.
                report.alreadyApplied += 1
                try await complete(edit, wrote: false, readBack: readBack)
                report.pushed += 1
                return
            }
            try openConflict(edit, remote: current.serialized, remoteWriteDate: remoteWriteDate, report: &report,
                             reason: "the lead changed in Odoo since it was pulled")
            return
        }
        if !vals.isEmpty {
            let started = Date()
            _ = try await client.call(write)
            logger.info("pushed lead", metadata: ["odoo.id": "\(edit.odooID)", "ms": "\(Int(Date().timeIntervalSince(started) * 1000))"])
        }
        try await complete(edit, wrote: !vals.isEmpty, sent: .object(vals), readBack: readBack)
        report.pushed += 1
    }

    /// The vals that make Odoo hold the edit; fields already equal are left out.
    func values(for edit: PendingEdit, current: JSONValue, stages: [String: [Int]]) throws -> [(String, JSONValue)] {
        var vals: [(String, JSONValue)] = []
        if let slug = edit.changes["stage"]?.stringValue {
            let currentStage = current["stage_id"]?.many2one?.id
            guard let candidates = stages[slug], let first = candidates.first else {
                throw OdooError.validation(message: "No Odoo stage maps to the pipeline stage `\(slug)`; add one with `odoosync config set stage <odoo stage> \(slug)` and pull again")
            }
            if currentStage.map({ !candidates.contains($0) }) ?? true { vals.append(("stage_id", .int(first))) }
        }
        if let p = edit.changes["probability"]?.doubleValue, current["probability"]?.doubleValue != p {
            vals.append(("probability", .double(p)))
        }
        if let v = edit.changes["expected_value"]?.doubleValue, current["expected_revenue"]?.doubleValue != v {
            vals.append(("expected_revenue", .double(v)))
        }
        if let d = edit.changes["expected_close_date"] {
            let wanted: JSONValue = d.stringValue.map(JSONValue.string) ?? .bool(false)
            let have: JSONValue = current["date_deadline"].flatMap { $0.isFalsy ? nil : $0 } ?? .bool(false)
            if wanted != have { vals.append(("date_deadline", wanted)) }
        }
        return vals
    }

    /// Reads the lead back and stores it, with the edit marked pushed, in one transaction.
    private func complete(_ edit: PendingEdit, wrote: Bool, sent: JSONValue = [:],
                          readBack: (projector: LeadProjector, applier: PageApplier)) async throws {
        let spec = ModelSpec.lead
        let call = OdooCall(model: spec.name, method: "search_read", args: [("domain", [["id", "=", .int(edit.odooID)]])],
                            kwargs: [("fields", .array(spec.fields.map(JSONValue.string)))], context: ["active_test": false])
        let mirror = self.mirror
        let runID = self.runID
        let client = self.client
        let (projector, applier) = readBack
        projector.forget(odooID: edit.odooID)
        try await client.callRaw(call) { response, api in
            try mirror.write { db in
                try applier.beginAttempt(db)
                let now = Timestamp.iso(Date())
                try db.execute(sql: "UPDATE local_edits SET status = 'pushed', pushed_at = ?, updated_at = ?, last_error = NULL WHERE id = ?",
                               arguments: [now, now, edit.id])
                var stats = ModelStats()
                let outcome = try response.body.withUnsafeBytes { body in
                    try applier.scanner.scan(body, envelope: api == .json2 ? .json2 : .jsonRPC) { view in
                        _ = try applier.apply(db, view, stats: &stats) { db, view, change in
                            try projector.project(db, view, change: change)
                        }
                    }
                }
                if case .error(let range) = outcome { throw client.rpcError(in: response.body, range: range, model: spec.name) }
                try Mirror.appendSyncLog(db, runID: runID, sourceID: "odoo_crm_\(edit.odooID)", targetID: String(edit.odooID),
                                         operation: "update", success: true, sourceData: edit.changes, targetData: sent)
                try Mirror.appendEvent(db, runID: runID, type: "lead_pushed",
                                       message: wrote ? "lead odoo_crm_\(edit.odooID) written to Odoo" : "lead odoo_crm_\(edit.odooID) already held the edit in Odoo",
                                       metadata: ["odoo_id": .int(edit.odooID), "vals": sent])
            }
        }
        applier.commit()
    }

    private func openConflict(_ edit: PendingEdit, remote: String, remoteWriteDate: String?, report: inout PushReport, reason: String) throws {
        let runID = self.runID
        try mirror.write { db in
            try Conflicts.open(db, leadID: edit.leadID, editID: edit.id, odooID: edit.odooID, localChanges: edit.changes.serialized,
                               remoteData: remote, baseWriteDate: edit.base, remoteWriteDate: remoteWriteDate, runID: runID)
            try Mirror.appendSyncLog(db, runID: runID, sourceID: "odoo_crm_\(edit.odooID)", targetID: String(edit.odooID),
                                     operation: "update", success: false, error: "conflict: \(reason)", sourceData: edit.changes)
        }
        report.conflicts += 1
    }
}
