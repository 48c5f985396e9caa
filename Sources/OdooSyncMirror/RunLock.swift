import Foundation
import OdooSyncCore

/// Keeps two odoosync runs that change the mirror from interleaving (two pulls would race on
/// cursors). An advisory `flock` on the mirror file itself: SQLite's own locks are POSIX
/// record locks, which `flock` does not touch, and the kernel drops the lock when the process
/// dies, so a kill -9 never leaves it stuck.
public final class RunLock: Sendable {
    private let fd: Int32

    public init(path: String, timeout: TimeInterval) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw MirrorError.missing(path: path) }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if Date() >= deadline {
                close(fd)
                throw MirrorError.busy(path: path, waitedSeconds: timeout)
            }
            usleep(50_000)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
