import Foundation
import OdooSyncCore
import OdooSyncMirror

/// One run at a time against the mirror: the worker's batches and `POST /?action=sync` wait
/// for each other here, and for other odoosync processes (a `pull` in a terminal) through the
/// same `flock` on the mirror file that `RunLock` takes, tried without blocking a thread.
///
/// The file is opened once and stays open for the life of the process. Closing a descriptor
/// of the database file drops every POSIX lock the process holds on it, SQLite's included
/// (sqlite.org/howtocorrupt.html §2.2): taking and releasing `RunLock` per batch did exactly
/// that a few times a second, and a `sqlite3` opened meanwhile by another process saw no
/// other user, checkpointed and deleted the write-ahead log under the running server.
final class RunGate: Sendable {
    private let path: String
    private let fd: Int32
    private let mutex = AsyncMutex()

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MirrorError.missing(path: path) }
    }

    /// Runs `body` holding both locks. Waits up to `timeout` seconds for another process's run
    /// to end, then throws `MirrorError.busy`.
    func withRun<T: Sendable>(timeout: TimeInterval, _ body: @Sendable () async throws -> T) async throws -> T {
        await mutex.lock()
        do {
            try await acquireFileLock(timeout: timeout)
        } catch {
            await mutex.unlock()
            throw error
        }
        do {
            let result = try await body()
            flock(fd, LOCK_UN)
            await mutex.unlock()
            return result
        } catch {
            flock(fd, LOCK_UN)
            await mutex.unlock()
            throw error
        }
    }

    private func acquireFileLock(timeout: TimeInterval) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard Date() < deadline else { throw MirrorError.busy(path: path, waitedSeconds: timeout) }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }
}

/// A first-come, first-served lock for async code: waiting suspends the task, not a thread.
actor AsyncMutex {
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func lock() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func unlock() {
        if waiters.isEmpty {
            held = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// Wakes a sleeping loop early. A signal sent while nobody waits is kept for the next wait.
final class Wakeup: @unchecked Sendable {
    private let lock = NSLock()
    private var pending = false
    private var waiter: CheckedContinuation<Void, Never>?

    func signal() {
        let w: CheckedContinuation<Void, Never>? = lock.withLock {
            if let w = waiter {
                waiter = nil
                return w
            }
            pending = true
            return nil
        }
        w?.resume()
    }

    /// Returns at the next signal or after `seconds`, whichever comes first.
    func wait(seconds: TimeInterval) async {
        let timer = Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
            self?.signal()
        }
        // A cancelled task (the service group tearing down after a failure) stops waiting at once.
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = lock.withLock {
                    if pending || Task.isCancelled {
                        pending = false
                        return true
                    }
                    waiter = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            signal()
        }
        timer.cancel()
        lock.withLock { pending = false }
    }
}
