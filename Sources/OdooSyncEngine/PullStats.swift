import OdooSyncCore

/// What a pull did to one model's records.
public struct ModelStats: Sendable, Equatable {
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    public var skipped = 0
    public var archived = 0
    public var deleted = 0
    /// Live in the mirror but out of this user's sight: a record rule hides them (not deleted).
    public var hidden = 0
    public var errors = 0
    /// The records behind `errors` that have an id, and why each failed: a webhook delivery
    /// naming one of them is not settled, and is tried again.
    public var failures: [RecordFailure] = []
    /// Records known hidden that the deletion check found listed again without their having
    /// been read (a rule changed, not the record): read again by id after the model.
    var backInSight: [Int] = []

    public init() {}

    public var json: JSONValue {
        ["created": .int(created), "updated": .int(updated), "unchanged": .int(unchanged), "skipped": .int(skipped),
         "archived": .int(archived), "deleted": .int(deleted), "hidden": .int(hidden),
         "errors": .int(errors)]
    }

    mutating func add(_ other: ModelStats) {
        created += other.created
        updated += other.updated
        unchanged += other.unchanged
        skipped += other.skipped
        archived += other.archived
        deleted += other.deleted
        hidden += other.hidden
        errors += other.errors
        failures += other.failures
    }
}

/// A record a pull could not store.
public struct RecordFailure: Sendable, Equatable {
    public let id: Int
    public let reason: String

    public init(id: Int, reason: String) {
        self.id = id
        self.reason = reason
    }
}

public struct PullReport: Sendable {
    public var runID: String
    public var models: [(name: String, stats: ModelStats)] = []
    public var unmappedStages: [String] = []
    /// Models the server does not have (module not installed), left out of the pull.
    public var skippedModels: [String] = []
    public var conflicts = 0
    public var seconds: Double = 0
    public var api: String = ""
    public var requests = 0
    public var retries = 0

    public var hasErrors: Bool { models.contains { $0.stats.errors > 0 } }

    public var json: JSONValue {
        .object([
            ("run_id", .string(runID)),
            ("api", .string(api)),
            ("seconds", .double((seconds * 1000).rounded() / 1000)),
            ("requests", .int(requests)),
            ("retries", .int(retries)),
            ("models", .object(models.map { ($0.name, $0.stats.json) })),
            ("unmapped_stages", .array(unmappedStages.map(JSONValue.string))),
            ("skipped_models", .array(skippedModels.map(JSONValue.string))),
            ("conflicts", .int(conflicts)),
        ])
    }
}

/// Reports progress of long runs (a line on stderr when it is a terminal).
public protocol ProgressReporter: Sendable {
    func progress(model: String, done: Int, total: Int?)
    func finished(model: String)
}

/// What a one-line progress display shows while a pull reads several models at once (stages
/// beside users, partners beside the project side): every model still being read, in the order
/// it started, with its count. A model drops out when it finishes; the others stay.
public struct ProgressLine: Sendable, Equatable {
    private struct Model: Sendable, Equatable {
        let name: String
        var done: Int
        var total: Int?
    }

    private var models: [Model] = []

    public init() {}

    public mutating func update(model: String, done: Int, total: Int?) {
        if let index = models.firstIndex(where: { $0.name == model }) {
            models[index].done = done
            models[index].total = total
        } else {
            models.append(Model(name: model, done: done, total: total))
        }
    }

    public mutating func finish(model: String) {
        models.removeAll { $0.name == model }
    }

    /// "crm.lead: 4000/100335 records · res.partner: 88 records"; empty when nothing is read.
    public var text: String {
        models.map { model in
            model.total.map { "\(model.name): \(model.done)/\($0) records" } ?? "\(model.name): \(model.done) records"
        }.joined(separator: " · ")
    }
}
