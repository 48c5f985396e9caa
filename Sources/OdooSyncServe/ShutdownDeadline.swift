import Foundation
import Logging
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Bounds a graceful shutdown. The service group gives the requests and the batch in flight
/// `seconds` and then cancels them (`maximumGracefulShutdownDuration`); work that ignores
/// cancellation (a call to a server that never answers) must not keep the process alive
/// either, so `hardMargin` seconds later it exits regardless.
///
/// Exiting then is as safe as a kill -9, which serve is built to survive: a delivery is
/// acknowledged only once stored, and marked processed in the transaction that did its work,
/// so whatever was cut short is still stored and is processed at the next start.
///
/// It is the group's last service, so the first to hear of the shutdown (the group stops its
/// services in reverse order).
final class ShutdownDeadline: Service, @unchecked Sendable {
    let seconds: TimeInterval
    let hardMargin: TimeInterval
    private let logger: Logger
    private let lock = NSLock()
    private var begun = false

    init(seconds: TimeInterval, hardMargin: TimeInterval = 5, logger: Logger) {
        self.seconds = seconds
        self.hardMargin = hardMargin
        self.logger = logger
    }

    /// Whether a shutdown has begun (a cancellation after it is the deadline's, not a failure).
    var hasBegun: Bool { lock.withLock { begun } }

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the group is ending for another reason
        }
        lock.withLock { begun = true }
        logger.notice("stopping: no new connections; the requests and the batch in flight have \(Self.format(seconds)) s to finish")
        let (seconds, margin, logger) = (self.seconds, hardMargin, self.logger)
        // A thread rather than a task: it must fire however busy or stuck the tasks are.
        let timer = Thread {
            Thread.sleep(forTimeInterval: seconds)
            logger.warning("the shutdown took longer than \(Self.format(seconds)) s: the work still under way is cancelled; deliveries not processed stay stored for the next start")
            Thread.sleep(forTimeInterval: margin)
            logger.error("exiting \(Self.format(seconds + margin)) s after the stop signal with work unfinished; deliveries not processed stay stored and are processed at the next start")
            _exit(0)
        }
        timer.start()
    }

    /// "30", "2.5".
    static func format(_ seconds: TimeInterval) -> String {
        seconds == seconds.rounded() && abs(seconds) < 1e9 ? String(Int(seconds)) : String(seconds)
    }
}
