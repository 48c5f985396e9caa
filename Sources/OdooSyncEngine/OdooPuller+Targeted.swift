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
    /// conflict rules as a full pull. An id Odoo no longer has becomes a tombstone; one a
    /// record rule hides from this user is kept as it was (`sortOutOfSight`).
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

        // Fewer records than asked for: which of the others are deleted, which only hidden.
        var outOfSight = OutOfSight()
        if let leadPage, leadPage.count < wanted.count {
            let listed = try await client.call(OdooCall(model: leadSpec.name, method: "search",
                                                        args: [("domain", .array(leadSpec.domain + [["id", "in", .array(wanted.map(JSONValue.int))]]))],
                                                        context: context))
            let visible = Set(listed.arrayValue?.compactMap(\.intValue) ?? [])
            outOfSight = try await sortOutOfSight(leadSpec.name, wanted.filter { !visible.contains($0) })
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
            if let leadPage {
                _ = try OdooPuller.apply(leadPage, applier: applier, db: db, stats: &leadStats) { db, view, change in
                    try projector.project(db, view, change: change)
                }
            }
            leadStats.deleted = try OdooPuller.tombstone(db, model: leadSpec.name, outOfSight, runID: runID)
            leadStats.hidden = try OdooPuller.recordHidden(db, model: leadSpec.name, found: outOfSight.hidden, checked: Set(wanted),
                                                           runID: runID)
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
}
