import Foundation
import OdooSyncCore

/// Updates of distinct records go out a few at a time: each answer costs a round trip that the
/// engine would otherwise only wait through. Creates stay one request at a time (Plane's
/// external-id check is not atomic, and Odoo's go in one `load` anyway).
extension SyncEngine {
    /// Requests in flight at once. Real servers serve this many from one client without
    /// complaint (Odoo's workers, Plane's gunicorn); Plane's rate limit still applies to each.
    static let writeConcurrency = 4
    /// Consecutive issue updates taken together; their completions are journaled in order.
    static let parallelGroupSize = 64

    /// The due items with each priority's items of one side, entity and model together (in
    /// queue order otherwise), so that Odoo's form whole batches and issue updates whole groups
    /// instead of alternating one by one. Nothing within a priority depends on another item of
    /// it (what does, such as a project's pair, has a higher priority), and one record's items
    /// keep their order.
    static func grouped(_ due: [(queueID: String, item: QueueItem)]) -> [(queueID: String, item: QueueItem)] {
        due.enumerated().sorted { a, b in
            let (x, y) = (a.element.item, b.element.item)
            if x.priority != y.priority { return x.priority > y.priority }
            if (x.target, x.entity, x.targetType) != (y.target, y.entity, y.targetType) {
                return (x.target, x.entity, x.targetType) < (y.target, y.entity, y.targetType)
            }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// Whether `item` may go out beside other issue updates of the same run.
    static func goesInParallel(_ item: QueueItem) -> Bool {
        item.target == "plane" && item.operation == "update" && item.entity.hasPrefix("issue:")
            && item.planeProject != nil && item.targetID != nil
    }

    /// Runs `body` for each job, at most `limit` at once, and gives the answers in job order.
    /// Once an answer's error `stops` the run, no further job starts: those answers are nil.
    static func inParallel<Job: Sendable, Answer: Sendable>(
        _ jobs: [Job], limit: Int, stops: @escaping @Sendable (Error) -> Bool,
        _ body: @escaping @Sendable (Job) async throws -> Answer
    ) async -> [Result<Answer, Error>?] {
        var answers = [Result<Answer, Error>?](repeating: nil, count: jobs.count)
        await withTaskGroup(of: (Int, Result<Answer, Error>).self) { group in
            var next = 0
            var running = 0
            var stopped = false
            while true {
                while !stopped, running < max(1, limit), next < jobs.count {
                    let index = next, job = jobs[index]
                    next += 1
                    running += 1
                    group.addTask {
                        do { return (index, .success(try await body(job))) } catch { return (index, .failure(error)) }
                    }
                }
                guard let (index, answer) = await group.next() else { break }
                running -= 1
                answers[index] = answer
                if case .failure(let error) = answer, stops(error) { stopped = true }
            }
        }
        return answers
    }

    /// Carries out a group of Plane issue updates (distinct issues), a few requests at a time.
    /// What went through is recorded even when the run stops; items not sent stay pending.
    func pushIssueUpdates(_ group: [(queueID: String, item: QueueItem)]) async throws {
        let plane = try requirePlane()
        let started = Date()
        var plans: [(queueID: String, update: IssueUpdate)] = []
        for (queueID, item) in group {
            do {
                plans.append((queueID, try await planIssueUpdate(item)))
            } catch where SyncEngine.stopsTheRun(error) {
                try flushCompletions()
                throw error
            } catch {
                try flushCompletions()
                try fail(queueID: queueID, item: item, error: error, started: started)
            }
        }
        let answers: [Result<JSONValue, Error>?] = await SyncEngine.inParallel(
            plans.map(\.update), limit: SyncEngine.writeConcurrency, stops: SyncEngine.stopsTheRun
        ) { update in
            try await plane.updateIssue(projectID: update.project, issueID: update.issueID, fields: JSONValue.object(update.values))
        }
        var stop: Error?
        for (plan, answer) in zip(plans, answers) {
            switch answer {
            case nil:
                continue
            case .success(let json)?:
                do {
                    try complete(queueID: plan.queueID, item: plan.update.item, result: try finishIssueUpdate(plan.update, answer: json),
                                 started: started)
                } catch where !SyncEngine.stopsTheRun(error) {
                    try flushCompletions()
                    try fail(queueID: plan.queueID, item: plan.update.item, error: error, started: started)
                }
            case .failure(let error)?:
                if SyncEngine.stopsTheRun(error) {
                    stop = stop ?? error
                } else {
                    try flushCompletions()
                    try fail(queueID: plan.queueID, item: plan.update.item, error: error, started: started)
                }
            }
        }
        if let stop {
            try flushCompletions()
            throw stop
        }
    }
}
