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
/// pushed after a targeted pull. A delivery whose record could not be stored, or whose whole
/// batch failed, is retried with backoff, then marked failed.
///
/// The worker runs on a `WorkerThread` of its own and makes its database calls synchronously
/// there; its writes about deliveries outside a pull's transaction go through the intake's
/// writer (see `DeliveryIntake`).
final class DeliveryWorker: Service, @unchecked Sendable {
    let mirror: Mirror
    let intake: DeliveryIntake
    let settings: ServeSettings
    let trigger: any SyncTrigger
    let client: OdooClient
    let gate: RunGate
    let alerts: AlertThrottle
    let logger: Logger
    let redact: @Sendable (String) -> String
    private let wakeup: Wakeup
    private let thread: WorkerThread
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
        thread = WorkerThread(name: "serve-worker")
    }

    var isStopping: Bool { stopLock.withLock { stopping } }

    /// When the last sync run and the last targeted pull ended (only the worker's task reads
    /// and writes them).
    private var lastSync = Date.distantPast
    private var lastLeadPull = Date.distantPast
    private var leadBacklog = false
    func syncEnded() { lastSync = Date() }
    func leadPullEnded() { lastLeadPull = Date() }

    func run() async throws {
        await withTaskExecutorPreference(thread) {
            await withGracefulShutdownHandler {
                await loop()
            } onGracefulShutdown: { [self] in
                // The batch under way finishes; what is still stored waits for the next start.
                stopLock.withLock { stopping = true }
                wakeup.signal()
            }
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
                (dueLeads, dueOthers, nextRetry) = try mirror.read { db in
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
