import OdooSyncCore

/// Why a sync runs: someone asked for it (`POST /?action=sync`), or stored webhook deliveries
/// that a targeted pull cannot settle on its own (Plane events, Odoo models other than leads).
public enum SyncReason: Sendable, CustomStringConvertible {
    case manual
    case deliveries([DeliveryReference])

    public var description: String {
        switch self {
        case .manual: return "requested through the sync endpoint"
        case .deliveries(let refs): return "\(refs.count) webhook deliveries"
        }
    }
}

/// What a delivery names, enough for a sync engine to narrow its work if it can.
public struct DeliveryReference: Sendable, Equatable {
    public let source: WebhookSource
    public let deliveryID: String
    /// Plane: project, issue, cycle, module, issue_comment. Odoo: the model, e.g. project.task.
    public let entity: String
    /// Plane: created / updated / deleted. Odoo: create / write / unlink.
    public let action: String
    /// Plane: the record's uuid. Odoo: the record id as text.
    public let recordID: String?
}

/// A record a sync run could not bring into the mirror, named the way deliveries name records.
public struct FailedRecord: Sendable, Equatable {
    public let source: WebhookSource
    /// As `DeliveryReference.entity`: the Plane event or the Odoo model.
    public let entity: String
    public let recordID: String
    /// Why, for the delivery's `last_error` (no secrets).
    public let reason: String

    public init(source: WebhookSource, entity: String, recordID: String, reason: String) {
        self.source = source
        self.entity = entity
        self.recordID = recordID
        self.reason = reason
    }
}

/// The outcome of one sync run, as the sync endpoint answers it and alerts summarise it.
public struct SyncSummary: Sendable {
    /// Records or items the run handled.
    public var processed: Int
    /// Items that failed; a run with failures is alerted.
    public var failed: Int
    /// One short line per failure, for the alert (no secrets, no row data beyond ids).
    public var errors: [String]
    /// The full stats, answered by `POST /?action=sync`.
    public var details: JSONValue
    /// The records among the failures: a delivery naming one is not marked processed but
    /// counted as a failed attempt and retried. Failures that are not about a record a
    /// delivery names (a local edit that could not be pushed, a sync queue item) have retries
    /// of their own and do not hold deliveries back.
    public var failedRecords: [FailedRecord]
    /// Sources the run could not read in full (a Plane project that answered 403 or 404 while
    /// the others were pulled), each with why: a delivery from one of them may name what the run
    /// missed, so it is counted as a failed attempt and retried like a failed record's.
    public var unreadSources: [WebhookSource: String]

    public init(processed: Int, failed: Int, errors: [String] = [], details: JSONValue = [:], failedRecords: [FailedRecord] = [],
                unreadSources: [WebhookSource: String] = [:]) {
        self.processed = processed
        self.failed = failed
        self.errors = errors
        self.details = details
        self.failedRecords = failedRecords
        self.unreadSources = unreadSources
    }
}

/// The seam between `serve` and whatever "one sync run" means.
///
/// The command line plugs in the Odoo pull + push it has today; the Plane ↔ Odoo engine
/// replaces it by conforming here. `serve` calls it with the run lock held, never twice at
/// once, and treats a thrown error as a failed run (alerted, the deliveries retried later).
public protocol SyncTrigger: Sendable {
    func sync(reason: SyncReason) async throws -> SyncSummary
}

/// A trigger made from a closure, so the command line need not declare a type for it.
public struct ClosureSyncTrigger: SyncTrigger {
    private let body: @Sendable (SyncReason) async throws -> SyncSummary

    public init(_ body: @escaping @Sendable (SyncReason) async throws -> SyncSummary) {
        self.body = body
    }

    public func sync(reason: SyncReason) async throws -> SyncSummary {
        try await body(reason)
    }
}
