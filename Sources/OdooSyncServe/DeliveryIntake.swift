import Foundation
import GRDB
import OdooSyncCore
import OdooSyncMirror

/// Where every request's write goes: one writer that commits whatever has queued up while the
/// previous commit ran, as one transaction (a group commit).
///
/// A request is answered only after the transaction holding its row has committed, so an
/// acknowledged delivery survives a kill -9 at any later instant. Funnelling 200 concurrent
/// requests into a few transactions on one connection means none of them ever meets
/// SQLITE_BUSY from a sibling, and the commit cost is shared.
///
/// The worker's bookkeeping of deliveries (marking a sync run's thousands processed) comes
/// through here too, in slices. Done on the worker's own connection, those were back-to-back
/// transactions, and SQLite gives the write lock to whoever asks first once it is free: the
/// intake, retrying every millisecond, lost that race to each next slice and waited 100 ms and
/// more for the lot. Queued here, a slice simply rides in the next group commit.
final class DeliveryIntake: @unchecked Sendable {
    enum Item: Sendable {
        case delivery(IncomingDelivery)
        case rejection(RejectionRecord)
        /// Writes about deliveries already stored; run in a savepoint of their own, so that a
        /// failure there fails only this item, not the requests committed with it.
        case bookkeeping(@Sendable (Database) throws -> Void)
    }

    private struct Job {
        let item: Item
        let continuation: CheckedContinuation<DeliveryStore.Outcome, Error>
    }

    private let path: String
    private let busyTimeout: TimeInterval
    private let connection: DatabaseQueue
    private let stored: @Sendable () -> Void
    private let lock = NSLock()
    private var queue: [Job] = []
    private var draining = false

    /// - Parameter stored: called after a commit that stored at least one new delivery (to
    ///   wake the worker).
    ///
    /// The intake has a connection of its own: on the mirror's shared one, every request
    /// queued behind the worker's reads and its pulls' CPU work, and a steady stream of
    /// deliveries saw stalls of a few hundred milliseconds. Now it waits only for the write
    /// lock, which the worker holds for one short transaction at a time, and it retries every
    /// millisecond rather than on SQLite's stepped back-off (up to 100 ms between tries).
    init(mirror: Mirror, stored: @escaping @Sendable () -> Void) throws {
        path = mirror.path
        busyTimeout = mirror.busyTimeout
        self.stored = stored
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.journalMode = .wal
        config.label = "intake"
        let attempts = Int(max(1, mirror.busyTimeout * 1000))
        config.busyMode = .callback { tries in
            usleep(1000)
            return tries < attempts
        }
        config.prepareDatabase { db in
            // Checkpoints are the Checkpointer's job (see there); commits stay appends.
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0")
        }
        do {
            connection = try DatabaseQueue(path: mirror.path, configuration: config)
        } catch {
            throw Mirror.translate(error, path: mirror.path, busyTimeout: mirror.busyTimeout)
        }
    }

    /// Commits the item and returns what became of it.
    func submit(_ item: Item) async throws -> DeliveryStore.Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let startDrain = lock.withLock {
                queue.append(Job(item: item, continuation: continuation))
                if draining { return false }
                draining = true
                return true
            }
            if startDrain {
                Task { await self.drain() }
            }
        }
    }

    /// Runs `body` in the next group commit (see `Item.bookkeeping`).
    func bookkeep(_ body: @escaping @Sendable (Database) throws -> Void) async throws {
        _ = try await submit(.bookkeeping(body))
    }

    private func drain() async {
        while true {
            let batch: [Job] = lock.withLock {
                let taken = queue
                queue.removeAll(keepingCapacity: true)
                if taken.isEmpty { draining = false }
                return taken
            }
            if batch.isEmpty { return }
            let items = batch.map(\.item)
            do {
                let outcomes = try await connection.write { db in
                    let now = Timestamp.iso(Date())
                    return try items.map { item -> Result<DeliveryStore.Outcome, Error> in
                        switch item {
                        case .delivery(let delivery):
                            return .success(try DeliveryStore.store(db, delivery, now: now))
                        case .rejection(let record):
                            try DeliveryStore.recordRejection(db, record)
                            return .success(.recorded)
                        case .bookkeeping(let body):
                            do {
                                try db.inSavepoint {
                                    try body(db)
                                    return .commit
                                }
                                return .success(.recorded)
                            } catch {
                                return .failure(error)
                            }
                        }
                    }
                }
                var storedAny = false
                for (job, outcome) in zip(batch, outcomes) {
                    if case .success(.stored) = outcome { storedAny = true }
                    job.continuation.resume(with: outcome.mapError { Mirror.translate($0, path: path, busyTimeout: busyTimeout) })
                }
                if storedAny { stored() }
            } catch {
                let translated = Mirror.translate(error, path: path, busyTimeout: busyTimeout)
                for job in batch { job.continuation.resume(throwing: translated) }
            }
        }
    }
}
