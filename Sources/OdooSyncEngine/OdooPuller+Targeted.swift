import Foundation
import GRDB
import OdooClient
import OdooSyncCore
import OdooSyncMirror

/// A pull of named leads only: what a webhook saying "lead 42 changed" needs, without a
/// pass over the whole model.
extension OdooPuller {
    /// Pulls the crm.lead records `ids` (archived ones too) and the partners they point to that
    /// the mirror lacks, and stores them with the same projection, change detection and
    /// conflict rules as a full pull. An id Odoo no longer has becomes a tombstone.
    ///
    /// Everything, and whatever `alsoInTransaction` writes, is one transaction: a caller
    /// that marks its work done there has it done exactly once, however the process dies.
    /// Cursors are not moved: the next incremental pull still reads everything it would have.
    public func pullLeads(
        ids: [Int], alsoInTransaction: @escaping @Sendable (Database, PullReport) throws -> Void = { _, _ in }
    ) async throws -> PullReport {
        let started = Date()
        var report = PullReport(runID: runID)
        let connection = try await client.connect()
        report.api = connection.api.rawValue
        let wanted = Array(Set(ids)).sorted()

        let leadSpec = ModelSpec.lead
        let partnerSpec = ModelSpec.partner
        let projector = try LeadProjector(mirror: mirror, runID: runID)
        let applier = PageApplier(spec: leadSpec)
        applier.participant = projector
        let partnerApplier = PageApplier(spec: partnerSpec)
        let linker = PartnerLinker(runID: runID, projector: projector)

        var leadPage: RawPage? = nil
        var partnerPage: RawPage? = nil
        if !wanted.isEmpty {
            let page = try await download(leadSpec, scanner: applier.scanner, domain: [["id", "in", .array(wanted.map(JSONValue.int))]],
                                          order: "id asc", limit: nil, referenceField: LeadFields.partner,
                                          preparer: projector.preparer)
            leadPage = page
            let referenced = Array(Set(page.references)).sorted()
            if !referenced.isEmpty {
                let known = try mirror.read { db in
                    try Set(Int.fetchAll(db, sql: """
                        SELECT odoo_id FROM odoo_records WHERE model = 'res.partner' AND deleted = 0
                        AND odoo_id IN (SELECT value FROM json_each(?))
                        """, arguments: [JSONValue.array(referenced.map(JSONValue.int)).serialized]))
                }
                let missing = referenced.filter { !known.contains($0) }
                if !missing.isEmpty {
                    partnerPage = try await download(partnerSpec, scanner: partnerApplier.scanner,
                                                     domain: [["id", "in", .array(missing.map(JSONValue.int))]],
                                                     order: "id asc", limit: nil, referenceField: nil)
                }
            }
        }

        let runID = self.runID
        let partial = report
        let (leadStats, partnerStats) = try mirror.write { db -> (ModelStats, ModelStats) in
            var partnerStats = ModelStats()
            if let partnerPage {
                try partnerApplier.beginAttempt(db)
                _ = try OdooPuller.apply(partnerPage, applier: partnerApplier, db: db, stats: &partnerStats) { db, view, change in
                    try linker.link(db, view, change: change)
                }
            }
            try applier.beginAttempt(db)
            var leadStats = ModelStats()
            var returned = Set<Int>()
            if let leadPage {
                let records = try OdooPuller.apply(leadPage, applier: applier, db: db, stats: &leadStats) { db, view, change in
                    try projector.project(db, view, change: change)
                }
                returned = Set(records.map(\.id))
            }
            leadStats.deleted = try OdooPuller.tombstoneLeads(db, wanted.filter { !returned.contains($0) }, runID: runID)
            var done = partial
            done.models = [(leadSpec.name, leadStats), (partnerSpec.name, partnerStats)]
            try Mirror.appendEvent(db, runID: runID, level: .info, type: "pull_targeted",
                                   message: "pulled \(wanted.count) named lead(s): \(leadStats.created) created, \(leadStats.updated) updated, \(leadStats.unchanged) unchanged, \(leadStats.skipped) skipped, \(leadStats.archived) archived, \(leadStats.deleted) deleted, \(leadStats.errors) errors",
                                   metadata: ["model": .string(leadSpec.name), "ids": .array(wanted.prefix(50).map(JSONValue.int)),
                                              "stats": leadStats.json])
            try alsoInTransaction(db, done)
            return (leadStats, partnerStats)
        }
        partnerApplier.commit()
        applier.commit()

        report.models = [(leadSpec.name, leadStats), (partnerSpec.name, partnerStats)]
        report.unmappedStages = projector.unmappedStages.sorted()
        report.conflicts = projector.conflicts
        report.seconds = Date().timeIntervalSince(started)
        report.requests = await client.requestCount
        report.retries = await client.retryCount
        return report
    }

    /// Marks the live leads among `ids` deleted in Odoo (deletes leave no trace there, so a
    /// named lead that does not come back is gone).
    static func tombstoneLeads(_ db: Database, _ ids: [Int], runID: String) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let model = ModelSpec.lead.name
        let live = try Int.fetchAll(db, sql: """
            SELECT odoo_id FROM odoo_records WHERE model = ? AND deleted = 0 AND odoo_id IN (SELECT value FROM json_each(?))
            """, arguments: [model, JSONValue.array(ids.map(JSONValue.int)).serialized])
        let now = Timestamp.iso(Date())
        for id in live {
            try db.execute(sql: "UPDATE odoo_records SET deleted = 1, pulled_at = ? WHERE model = ? AND odoo_id = ?",
                           arguments: [now, model, id])
            try db.execute(sql: "UPDATE leads SET deleted_at = ?, updated_at = ? WHERE odoo_id = ? AND deleted_at IS NULL",
                           arguments: [now, now, id])
            try Mirror.appendEvent(db, runID: runID, level: .info, type: "record_deleted",
                                   message: "\(model) \(id) was deleted in Odoo",
                                   metadata: ["model": .string(model), "odoo_id": .int(id)])
        }
        return live.count
    }
}
