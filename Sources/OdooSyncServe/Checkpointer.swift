import Foundation
import GRDB
import Logging
import OdooSyncMirror
import ServiceLifecycle

/// Copies the write-ahead log into the mirror from a connection of its own, so that no
/// request waits for it.
///
/// SQLite's automatic checkpoint runs inside whichever commit crosses the threshold, and it
/// ends with an fsync of the database file: under a steady stream of deliveries that was a
/// 100–200 ms stall about once a second, every request behind it waiting. Here the serving
/// connection never checkpoints; this service does, every second, in PASSIVE mode, which
/// never blocks writers.
final class Checkpointer: Service, @unchecked Sendable {
    private let path: String
    private let busyTimeout: TimeInterval
    private let logger: Logger

    init(path: String, busyTimeout: TimeInterval, logger: Logger) {
        self.path = path
        self.busyTimeout = busyTimeout
        self.logger = logger
    }

    /// Turns automatic checkpoints off on the serving connection.
    static func disableAutomatic(on mirror: Mirror) throws {
        try mirror.db.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
    }

    func run() async throws {
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.label = "checkpointer"
        let queue = try DatabaseQueue(path: path, configuration: config)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                do {
                    // GRDB runs this on its own queue's thread: the fsync blocks no task.
                    _ = try await queue.writeWithoutTransaction { db in try db.checkpoint(.passive) }
                } catch {
                    self.logger.debug("checkpoint skipped", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
