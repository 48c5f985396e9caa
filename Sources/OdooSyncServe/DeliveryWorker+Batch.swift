import Foundation
import GRDB
import Logging
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror

/// One batch of deliveries: what settles them, and what becomes of each.
extension DeliveryWorker {
    /// What a batch did, for its `runs` row and the alert.
    struct BatchOutcome {
        var processed = 0
        var failedItems = 0
        var errors: [String] = []
        /// Deliveries left as they were because the server is stopping.
        var leftForNextStart = 0
    }

    /// One batch, one `runs` row.
    func process(leads: [StoredDelivery], others: [StoredDelivery]) async {
        let started = Date()
        let count = leads.count + others.count
        let runID: String
        do {
            runID = try mirror.startRun(job: "serve webhooks", metadata: ["deliveries": .int(count)])
        } catch {
            logger.error("cannot start a run", metadata: ["error": "\(error)"])
            return
        }
        var outcome = BatchOutcome()
        if !leads.isEmpty {
            defer { leadPullEnded() }
            await settleLeads(leads, runID: runID, into: &outcome)
        }
        if !others.isEmpty && outcome.leftForNextStart == 0 {
            defer { syncEnded() }
            await settleOthers(others, runID: runID, into: &outcome)
        }

        let millis = Int(Date().timeIntervalSince(started) * 1000)
        let status = outcome.leftForNextStart > 0 ? "cancelled" : outcome.errors.isEmpty ? "success" : "failed"
        try? mirror.finishRun(id: runID, status: status, processed: outcome.processed, failed: outcome.failedItems,
                              metadata: ["deliveries": .int(count), "processed": .int(outcome.processed), "ms": .int(millis),
                                         "left_for_next_start": .int(outcome.leftForNextStart),
                                         "errors": .array(outcome.errors.prefix(20).map(JSONValue.string))])
        if !outcome.errors.isEmpty {
            await alerts.alert(job: "serve webhooks", failed: outcome.failedItems, errors: outcome.errors, mirror: mirror)
        }
    }

    /// A targeted pull of the leads the deliveries name. Each delivery is marked in the pull's
    /// transaction: processed, or, when its lead could not be stored, a failed attempt.
    private func settleLeads(_ leads: [StoredDelivery], runID: String, into outcome: inout BatchOutcome) async {
        let ids = leads.compactMap { $0.recordID.flatMap(Int.init) }
        let retryBase = settings.retryBase, maxAttempts = settings.maxAttempts, redact = self.redact
        do {
            let puller = try OdooPuller(mirror: mirror, client: client, runID: runID, logger: logger)
            let report = try await puller.pullLeads(ids: ids) { db, report in
                let (settled, failed) = Self.settle(leads, failed: Self.failedLeads(report), redact: redact)
                try DeliveryStore.markProcessed(db, settled, runID: runID, how: "a targeted pull")
                _ = try DeliveryStore.markAttemptFailed(db, failed, runID: runID, retryBase: retryBase, maxAttempts: maxAttempts)
            }
            let (settled, failed) = Self.settle(leads, failed: Self.failedLeads(report), redact: redact)
            outcome.processed += settled.count
            let leadErrors = report.models.reduce(0) { $0 + $1.stats.errors }
            if leadErrors > 0 {
                outcome.failedItems += leadErrors
                outcome.errors.append("\(leadErrors) lead(s) of a targeted pull could not be stored")
            }
            logger.info("deliveries processed", metadata: ["count": "\(settled.count)", "how": "targeted pull",
                                                           "leads": "\(Set(ids).count)", "conflicts": "\(report.conflicts)"])
            if !failed.isEmpty {
                logger.warning("deliveries not processed", metadata: ["count": "\(failed.count)", "how": "targeted pull",
                                                                      "error": "\(failed[0].error)"])
            }
            let (pushFailed, pushErrors) = await pushPendingEdits(runID: runID)
            outcome.failedItems += pushFailed
            outcome.errors += pushErrors
        } catch {
            await batchFailed(leads, error: error, runID: runID, into: &outcome)
        }
    }

    /// One sync run for the batch, then the marks, on the intake's writer in slices: processed,
    /// or a failed attempt for a delivery whose record the run could not store.
    private func settleOthers(_ others: [StoredDelivery], runID: String, into outcome: inout BatchOutcome) async {
        do {
            let summary = try await trigger.sync(reason: .deliveries(others.map(\.reference)))
            // A pull may have turned automatic checkpoints back on for itself.
            try? Checkpointer.disableAutomatic(on: mirror)
            let (settled, failed) = Self.settle(others, failed: summary.failedRecords, unread: summary.unreadSources, redact: redact)
            for slice in Self.slices(settled) {
                try await intake.bookkeep { db in try DeliveryStore.markProcessed(db, slice, runID: runID, how: "a sync run") }
            }
            if !failed.isEmpty { try await recordFailedAttempts(failed, runID: runID) }
            outcome.processed += settled.count
            if summary.failed > 0 {
                outcome.failedItems += summary.failed
                outcome.errors += summary.errors.isEmpty ? ["the sync run had \(summary.failed) failed item(s)"] : summary.errors
            }
            logger.info("deliveries processed", metadata: ["count": "\(settled.count)", "how": "sync run",
                                                           "sync.failed": "\(summary.failed)"])
        } catch {
            await batchFailed(others, error: error, runID: runID, into: &outcome)
        }
    }

    /// The deliveries settled, and those naming a record that failed, each with its reason
    /// (kept in the mirror and perhaps alerted, so scrubbed first).
    static func settle(_ deliveries: [StoredDelivery], failed records: [FailedRecord], unread: [WebhookSource: String] = [:],
                       redact: (String) -> String = { $0 }) -> (settled: [StoredDelivery], failed: [DeliveryStore.FailedAttempt]) {
        guard !records.isEmpty || !unread.isEmpty else { return (deliveries, []) }
        var reasons: [RecordKey: String] = [:]
        for record in records {
            reasons[RecordKey(source: record.source, entity: record.entity, recordID: record.recordID)] = record.reason
        }
        var settled: [StoredDelivery] = []
        var failed: [DeliveryStore.FailedAttempt] = []
        for delivery in deliveries {
            let key = RecordKey(source: delivery.source, entity: delivery.event, recordID: delivery.recordID)
            if let reason = reasons[key] ?? unread[delivery.source] {
                failed.append(DeliveryStore.FailedAttempt(delivery: delivery, error: redact(reason)))
            } else {
                settled.append(delivery)
            }
        }
        return (settled, failed)
    }

    private struct RecordKey: Hashable {
        let source: WebhookSource
        let entity: String
        let recordID: String?
    }

    private static func failedLeads(_ report: PullReport) -> [FailedRecord] {
        report.models.filter { $0.name == "crm.lead" }.flatMap(\.stats.failures).map {
            FailedRecord(source: .odoo, entity: "crm.lead", recordID: String($0.id), reason: $0.reason)
        }
    }

    /// Pushes lead edits made offline, if there are any; a webhook run is also a sync run.
    private func pushPendingEdits(runID: String) async -> (failed: Int, errors: [String]) {
        do {
            let pending = try mirror.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM local_edits WHERE status = 'pending'") ?? 0
            }
            guard pending > 0 else { return (0, []) }
            let report = try await Pusher(mirror: mirror, client: client, runID: runID, logger: logger).push(dryRun: false)
            return (report.failed, report.errors)
        } catch {
            let message = redact("push after the targeted pull failed: \(error)")
            logger.error("push failed", metadata: ["error": "\(error)"])
            return (1, [message])
        }
    }

    /// A batch that could not be settled at all. When the server is stopping (a shutdown that
    /// ran out of time cancels the work under way), the deliveries are left exactly as they
    /// were for the next start, no attempt counted; otherwise each one's attempt is counted.
    private func batchFailed(_ deliveries: [StoredDelivery], error: Error, runID: String, into outcome: inout BatchOutcome) async {
        if isStopping || Task.isCancelled {
            outcome.leftForNextStart += deliveries.count
            logger.warning("deliveries left stored for the next start", metadata: ["count": "\(deliveries.count)",
                                                                                   "reason": "the server is stopping"])
            return
        }
        // The error is kept in the mirror and may be alerted: secrets are scrubbed first.
        let message = redact("\(error)")
        outcome.failedItems += deliveries.count
        outcome.errors.append("\(deliveries.count) webhook deliveries not processed: \(message)")
        do {
            try await recordFailedAttempts(deliveries.map { DeliveryStore.FailedAttempt(delivery: $0, error: message) }, runID: runID,
                                           batchError: message)
        } catch {
            logger.error("cannot record a failed attempt", metadata: ["error": "\(error)"])
        }
    }

    /// Counts a failed attempt for each delivery, in slices on the intake's writer; a batch
    /// that failed as a whole also leaves one event saying why.
    private func recordFailedAttempts(_ attempts: [DeliveryStore.FailedAttempt], runID: String, batchError: String? = nil) async throws {
        let retryBase = settings.retryBase, maxAttempts = settings.maxAttempts
        for slice in Self.slices(attempts) {
            try await intake.bookkeep { db in
                _ = try DeliveryStore.markAttemptFailed(db, slice, runID: runID, retryBase: retryBase, maxAttempts: maxAttempts)
            }
        }
        let givenUp = attempts.filter { $0.delivery.attempts + 1 >= maxAttempts }.count
        let retrying = attempts.count - givenUp
        if let batchError {
            let first = attempts[0].delivery
            try await intake.bookkeep { db in
                try Mirror.appendEvent(db, runID: runID, level: .error, category: first.source.category, type: "webhook_processing_failed",
                                       message: "Processing \(attempts.count) webhook deliveries failed: \(batchError)",
                                       component: "serve",
                                       metadata: ["deliveries": .int(attempts.count), "retrying": .int(retrying), "failed": .int(givenUp)])
            }
        }
        logger.warning("deliveries not processed", metadata: ["count": "\(attempts.count)", "retrying": "\(retrying)",
                                                              "given_up": "\(givenUp)", "error": "\(attempts[0].error)"])
    }

    /// `items` in slices of `bookkeepingSlice`, one per bookkeeping transaction.
    static func slices<T>(_ items: [T]) -> [[T]] {
        stride(from: 0, to: items.count, by: bookkeepingSlice).map { Array(items[$0..<min($0 + bookkeepingSlice, items.count)]) }
    }
}
