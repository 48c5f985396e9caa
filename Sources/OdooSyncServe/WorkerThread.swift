import Foundation

/// A thread of its own for the delivery worker's tasks.
///
/// On the shared executor the worker's synchronous stretches (a pull's transaction, decoding a
/// page, reading thousands of stored deliveries) each held one of the cooperative pool's
/// threads, two on a two-core machine, and requests queued behind them for the length of the
/// stretch. Here the worker's code runs on this thread and its database calls are made
/// synchronously from it, so the pool stays with the requests, and the kernel's scheduler,
/// which preempts, shares the CPU between them.
///
/// The thread keeps the process's priority. At nice +5 it did no better at 2000 deliveries/s
/// (p99 medians of 22 runs each on a shared machine: 23 ms Plane and 20 ms Odoo, against 11
/// and 16 ms at nice 0) and had five runs over 100 ms against one. The likely reason: the
/// worker holds the write lock during a pull's transaction, and when other processes took the
/// CPU, a thread at +5 got a third of the share it gets at 0 (weights 335 and 1024) to finish
/// it, while acknowledgements waited for the lock.
final class WorkerThread: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    init(name: String) {
        let thread = Thread { [self] in
            // What `top -H` and perf show (set from the thread itself, or Linux keeps the name
            // it inherited from its creator).
            Thread.current.name = name
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
}
