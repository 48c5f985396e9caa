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

    public init(processed: Int, failed: Int, errors: [String] = [], details: JSONValue = [:]) {
        self.processed = processed
        self.failed = failed
        self.errors = errors
        self.details = details
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
