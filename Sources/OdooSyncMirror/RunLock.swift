import Foundation
import OdooSyncCore

/// Keeps two odoosync runs that change the mirror from interleaving (two pulls would race on
/// cursors). An advisory `flock` on the mirror file itself: SQLite's own locks are POSIX
/// record locks, which `flock` does not touch, and the kernel drops the lock when the process
/// dies, so a kill -9 never leaves it stuck.
///
/// The descriptor stays open for the life of the process. Closing any descriptor of a file
/// drops every POSIX lock the process holds on it, SQLite's included; another process's
/// connection could then believe it was the last one and checkpoint and delete the write-ahead
/// log under ours.
public final class RunLock: Sendable {
    private let fd: Int32
    private let key: String

    private static let descriptors = Descriptors()

    public init(path: String, timeout: TimeInterval) throws {
        guard let (fd, key) = RunLock.descriptors.descriptor(for: path) else { throw MirrorError.missing(path: path) }
        let deadline = Date().addingTimeInterval(timeout)
        // The shared descriptor's flock cannot exclude another holder in this same process, so
        // the process keeps its own tally first.
        while true {
            if RunLock.descriptors.claim(key) {
                if flock(fd, LOCK_EX | LOCK_NB) == 0 { break }
                RunLock.descriptors.release(key)
            }
            if Date() >= deadline {
                throw MirrorError.busy(path: path, waitedSeconds: timeout)
            }
            usleep(50_000)
        }
        self.fd = fd
        self.key = key
    }

    deinit {
        flock(fd, LOCK_UN)
        RunLock.descriptors.release(key)
    }

    /// One descriptor per mirror path, opened once and never closed, and which paths a
    /// RunLock of this process holds.
    private final class Descriptors: @unchecked Sendable {
        private let lock = NSLock()
        private var open: [String: Int32] = [:]
        private var held: Set<String> = []

        func descriptor(for path: String) -> (Int32, String)? {
            let key = URL(fileURLWithPath: path).standardizedFileURL.path
            return lock.withLock {
                if let fd = self.open[key] { return (fd, key) }
                let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { return nil }
                self.open[key] = fd
                return (fd, key)
            }
        }

        /// False when another RunLock of this process holds the path.
        func claim(_ key: String) -> Bool {
            lock.withLock { held.insert(key).inserted }
        }

        func release(_ key: String) {
            _ = lock.withLock { held.remove(key) }
        }
    }
}
