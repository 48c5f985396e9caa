import Foundation
import GRDB
import Logging
import OdooClient
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror
import ServiceLifecycle

/// Processes stored deliveries in arrival order, each exactly once.
///
/// Odoo `crm.lead` deliveries are settled by a targeted pull of the named leads; the mark
/// "processed" is written in the pull's own transaction, so a kill -9 at any instant leaves
/// either both or neither. Everything else (Plane events, other Odoo models) is handed to the
/// `SyncTrigger` in one run per batch, and marked once that run returns; a run repeated after
/// a crash in between is harmless, because pull and push are idempotent. Pending lead edits are
/// pushed after a targeted pull. A failed batch is retried with backoff, then marked failed.
///
/// Its writes about deliveries outside a pull's transaction go through the intake's writer
/// (see `DeliveryIntake`).
final class DeliveryWorker: Service, @unchecked Sendable {
    private let mirror: Mirror
    private let intake: DeliveryIntake
    private let settings: ServeSettings
    private let trigger: any SyncTrigger
    private let client: OdooClient
    private let gate: RunGate
    private let alerts: AlertThrottle
    private let logger: Logger
    private let redact: @Sendable (String) -> String
    private let wakeup: Wakeup
    private let stopLock = NSLock()
    private var stopping = false

    /// Deliveries marked per transaction of bookkeeping: a slice rides in one of the intake's
    /// group commits, and adds a millisecond or two to it.
    static let bookkeepingSlice = 500

    init(mirror: Mirror, intake: DeliveryIntake, wakeup: Wakeup, settings: ServeSettings, trigger: any SyncTrigger,
         client: OdooClient, gate: RunGate, alerter: Alerter, logger: Logger, redact: @escaping @Sendable (String) -> String) {
        self.mirror = mirror
        self.intake = intake
        self.wakeup = wakeup
        self.settings = settings
        self.trigger = trigger
        self.client = client
        self.gate = gate
        self.alerts = AlertThrottle(alerter: alerter)
        self.logger = logger
        self.redact = redact
    }

    private var isStopping: Bool { stopLock.withLock { stopping } }

    /// When the last sync run and the last targeted pull ended (only the worker's task reads
    /// and writes them).
    private var lastSync = Date.distantPast
    private var lastLeadPull = Date.distantPast
    private var leadBacklog = false
    private func syncEnded() { lastSync = Date() }
    private func leadPullEnded() { lastLeadPull = Date() }

    func run() async throws {
        await withGracefulShutdownHandler {
            await loop()
        } onGracefulShutdown: { [self] in
            // The batch under way finishes; what is still stored waits for the next start.
            stopLock.withLock { stopping = true }
            wakeup.signal()
        }
    }

    private func loop() async {
        var lastPrune = Date.distantPast
        while !isStopping && !Task.isCancelled {
            if Date().timeIntervalSince(lastPrune) > 6 * 3600 {
                lastPrune = Date()
                await prune()
            }
            // Work is spaced: a burst of deliveries becomes a targeted pull every quarter
            // second and a sync run every few seconds, not one per commit, so deliveries naming the
            // same record are settled together and the intake keeps the CPU it needs. One run
            // settles every delivery stored before it starts, however many.
            let now = Date()
            // A backlog (the last batch was full) is already coalesced, so the next batch
            // follows shortly; the short pause leaves the intake its share of the CPU.
            let leadsReady = now >= lastLeadPull.addingTimeInterval(leadBacklog ? 0.05 : settings.leadInterval)
            let syncReady = now >= lastSync.addingTimeInterval(settings.syncInterval)
            let dueLeads: [StoredDelivery]
            let dueOthers: [StoredDelivery]
            let nextRetry: String?
            do {
                let limit = settings.batchLimit
                (dueLeads, dueOthers, nextRetry) = try await mirror.db.read { db in
                    let now = Timestamp.iso(Date())
                    let leads = try DeliveryStore.due(db, .odooLeads, now: now, limit: leadsReady ? limit : 1)
                    let others = try DeliveryStore.due(db, .others, now: now, limit: syncReady ? 50_000 : 1)
                    return (leads, others, leads.isEmpty && others.isEmpty ? try DeliveryStore.nextRetry(db) : nil)
                }
            } catch {
                logger.error("cannot read stored deliveries", metadata: ["error": "\(error)"])
                await wakeup.wait(seconds: 5)
                continue
            }
            if dueLeads.isEmpty && dueOthers.isEmpty {
                await wakeup.wait(seconds: Self.secondsUntil(nextRetry, atMost: 60))
                continue
            }
            let leads = leadsReady ? dueLeads : []
            if leadsReady { leadBacklog = dueLeads.count >= settings.batchLimit }
            let others = syncReady ? dueOthers : []
            if leads.isEmpty && others.isEmpty {
                var until = Date.distantFuture
                if !dueLeads.isEmpty { until = min(until, lastLeadPull.addingTimeInterval(leadBacklog ? 0.05 : settings.leadInterval)) }
                if !dueOthers.isEmpty { until = min(until, lastSync.addingTimeInterval(settings.syncInterval)) }
                await sleep(until: until)
                continue
            }
            do {
                try await gate.withRun(timeout: settings.busyTimeout) { [self, others] in
                    await process(leads: leads, others: others)
                }
            } catch {
                // Another odoosync process holds the mirror: not the deliveries' fault, so no
                // attempt is counted; look again shortly.
                logger.notice("deliveries wait for the mirror", metadata: ["error": "\(error)"])
                await wakeup.wait(seconds: 1)
            }
        }
    }

    /// Sleeps until `deadline` or shutdown. New deliveries do not cut it short, and the sleep
    /// is not rearmed per delivery: under load that cost more than storing them.
    private func sleep(until deadline: Date) async {
        while !isStopping && !Task.isCancelled && deadline.timeIntervalSinceNow > 0 {
            try? await Task.sleep(nanoseconds: UInt64(min(0.2, deadline.timeIntervalSinceNow) * 1_000_000_000))
        }
    }

    /// Forgets old processed deliveries, a thousand per transaction on the intake's writer, so
    /// that a month's worth never holds the write lock in one go.
    private func prune() async {
        let cutoff = Timestamp.iso(Date().addingTimeInterval(-settings.keepDays * 86400))
        var removed = 0
        do {
            while !isStopping {
                let slice = RemovedCount()
                try await intake.bookkeep { db in slice.value = try DeliveryStore.prune(db, receivedBefore: cutoff, limit: 1000) }
                removed += slice.value
                if slice.value < 1000 { break }
            }
        } catch {
            logger.warning("cannot forget old deliveries", metadata: ["error": "\(error)"])
        }
        if removed > 0 { logger.info("old deliveries forgotten", metadata: ["count": "\(removed)"]) }
    }

    private final class RemovedCount: @unchecked Sendable {
        var value = 0
    }

    static func secondsUntil(_ iso: String?, atMost limit: TimeInterval) -> TimeInterval {
        guard let iso, let date = ISO8601DateFormatter.withFractions.date(from: iso) else { return limit }
        return min(limit, max(0.05, date.timeIntervalSinceNow))
    }

    /// One batch, one `runs` row.
    private func process(leads: [StoredDelivery], others: [StoredDelivery]) async {
        let started = Date()
        let batch = leads + others
        let runID: String
        do {
            runID = try mirror.startRun(job: "serve webhooks", metadata: ["deliveries": .int(batch.count)])
        } catch {
            logger.error("cannot start a run", metadata: ["error": "\(error)"])
            return
        }
        var processed = 0
        var errors: [String] = []
        var failedItems = 0

        if !leads.isEmpty {
            defer { leadPullEnded() }
            let ids = leads.compactMap { $0.recordID.flatMap(Int.init) }
            do {
                let puller = try OdooPuller(mirror: mirror, client: client, runID: runID, logger: logger)
                let report = try await puller.pullLeads(ids: ids) { db, _ in
                    try DeliveryStore.markProcessed(db, leads, runID: runID, how: "a targeted pull")
                }
                processed += leads.count
                let leadErrors = report.models.reduce(0) { $0 + $1.stats.errors }
                if leadErrors > 0 {
                    failedItems += leadErrors
                    errors.append("\(leadErrors) lead(s) of a targeted pull could not be stored")
                }
                logger.info("deliveries processed", metadata: ["count": "\(leads.count)", "how": "targeted pull",
                                                               "leads": "\(ids.count)", "conflicts": "\(report.conflicts)"])
                let (pushFailed, pushErrors) = await pushPendingEdits(runID: runID)
                failedItems += pushFailed
                errors += pushErrors
            } catch {
                errors.append(await failAttempt(leads, error: error, runID: runID))
                failedItems += leads.count
            }
        }

        if !others.isEmpty {
            defer { syncEnded() }
            do {
                let summary = try await trigger.sync(reason: .deliveries(others.map(\.reference)))
                // A pull may have turned automatic checkpoints back on for itself.
                try? Checkpointer.disableAutomatic(on: mirror)
                // The run's effects are already committed, so the marks may be split, and
                // each slice rides in one of the intake's commits.
                for start in stride(from: 0, to: others.count, by: Self.bookkeepingSlice) {
                    let slice = Array(others[start..<min(start + Self.bookkeepingSlice, others.count)])
                    try await intake.bookkeep { db in try DeliveryStore.markProcessed(db, slice, runID: runID, how: "a sync run") }
                }
                processed += others.count
                if summary.failed > 0 {
                    failedItems += summary.failed
                    errors += summary.errors.isEmpty ? ["the sync run had \(summary.failed) failed item(s)"] : summary.errors
                }
                logger.info("deliveries processed", metadata: ["count": "\(others.count)", "how": "sync run",
                                                               "sync.failed": "\(summary.failed)"])
            } catch {
                errors.append(await failAttempt(others, error: error, runID: runID))
                failedItems += others.count
            }
        }

        let millis = Int(Date().timeIntervalSince(started) * 1000)
        try? mirror.finishRun(id: runID, status: errors.isEmpty ? "success" : "failed", processed: processed, failed: failedItems,
                              metadata: ["deliveries": .int(batch.count), "processed": .int(processed), "ms": .int(millis),
                                         "errors": .array(errors.prefix(20).map(JSONValue.string))])
        if !errors.isEmpty {
            await alerts.alert(job: "serve webhooks", failed: failedItems, errors: errors, mirror: mirror)
        }
    }

    /// Pushes lead edits made offline, if there are any; a webhook run is also a sync run.
    private func pushPendingEdits(runID: String) async -> (failed: Int, errors: [String]) {
        do {
            let pending = try await mirror.db.read { db in
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

    /// Counts a failed attempt for each delivery, in slices on the intake's writer, and
    /// returns the line for the alert.
    private func failAttempt(_ deliveries: [StoredDelivery], error: Error, runID: String) async -> String {
        // The error is kept in the mirror and may be alerted: secrets are scrubbed first.
        let message = redact("\(error)")
        let retryBase = settings.retryBase
        let maxAttempts = settings.maxAttempts
        let totals = AttemptTotals()
        do {
            for start in stride(from: 0, to: deliveries.count, by: Self.bookkeepingSlice) {
                let slice = Array(deliveries[start..<min(start + Self.bookkeepingSlice, deliveries.count)])
                try await intake.bookkeep { db in
                    let (retrying, failed) = try DeliveryStore.markAttemptFailed(db, slice, error: message, runID: runID,
                                                                                retryBase: retryBase, maxAttempts: maxAttempts)
                    totals.add(retrying: retrying, failed: failed)
                }
            }
            let (retrying, failed) = totals.value
            try await intake.bookkeep { db in
                try Mirror.appendEvent(db, runID: runID, level: .error, category: deliveries[0].source.category,
                                       type: "webhook_processing_failed",
                                       message: "Processing \(deliveries.count) webhook deliveries failed: \(message)",
                                       component: "serve",
                                       metadata: ["deliveries": .int(deliveries.count), "retrying": .int(retrying), "failed": .int(failed)])
            }
            logger.warning("deliveries not processed", metadata: ["count": "\(deliveries.count)", "retrying": "\(retrying)",
                                                                  "given_up": "\(failed)", "error": "\(message)"])
        } catch {
            logger.error("cannot record a failed attempt", metadata: ["error": "\(error)"])
        }
        return "\(deliveries.count) webhook deliveries not processed: \(message)"
    }

    private final class AttemptTotals: @unchecked Sendable {
        private let lock = NSLock()
        private var retrying = 0, failed = 0
        func add(retrying: Int, failed: Int) {
            lock.withLock {
                self.retrying += retrying
                self.failed += failed
            }
        }
        var value: (Int, Int) { lock.withLock { (retrying, failed) } }
    }
}

/// The same failure alerted once per quarter hour, not once per retry.
actor AlertThrottle {
    private let alerter: Alerter
    private var lastText: String?
    private var lastSent = Date.distantPast
    private let quietPeriod: TimeInterval = 900

    init(alerter: Alerter) {
        self.alerter = alerter
    }

    func alert(job: String, failed: Int, errors: [String], mirror: Mirror) async {
        let key = errors.first ?? job
        if key == lastText && Date().timeIntervalSince(lastSent) < quietPeriod { return }
        lastText = key
        lastSent = Date()
        await alerter.runEndedWithErrors(job: job, failed: failed, errors: errors, mirror: mirror)
    }
}

extension ISO8601DateFormatter {
    /// Parses the timestamps odoosync writes ("2026-11-21T10:00:00.123Z").
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}
