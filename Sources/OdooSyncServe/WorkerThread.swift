import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A thread of its own, at a lower scheduling priority, for the delivery worker's tasks.
///
/// On the shared executor the worker's synchronous stretches (a pull's transaction, decoding a
/// page, reading thousands of stored deliveries) each held one of the cooperative pool's
/// threads, two on a two-core machine, and requests queued behind them for the length of the
/// stretch. Here the worker's code runs on this thread and its database calls are made
/// synchronously from it, so the pool stays with the requests, and the kernel's scheduler,
/// which preempts, decides who runs when both want the CPU. The thread's nice value makes that
/// decision go to the requests.
final class WorkerThread: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    /// - Parameter niceness: added to the thread's nice value (Linux applies it to this thread
    ///   alone); 0 leaves the priority as it is.
    init(name: String, niceness: Int32) {
        let thread = Thread { [self] in
            // What `top -H` and perf show (set from the thread itself, or Linux keeps the name
            // it inherited from its creator).
            Thread.current.name = name
            if niceness != 0 { WorkerThread.lowerPriority(by: niceness) }
            runJobs()
        }
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func runJobs() -> Never {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }

    private static func lowerPriority(by niceness: Int32) {
        #if os(Linux)
        guard let tid = currentThreadID() else { return }
        errno = 0
        let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid)
        guard errno == 0 else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, min(19, current + niceness))
        #endif
    }

    /// The kernel's id of the calling thread, from /proc/thread-self ("<pid>/task/<tid>"):
    /// Glibc's gettid(2) wrapper is not visible to Swift.
    private static func currentThreadID() -> id_t? {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let link = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return link.split(separator: "/").last.flatMap { id_t($0) }
    }
}
