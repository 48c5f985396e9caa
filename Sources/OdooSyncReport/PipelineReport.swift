import Foundation
import OdooSyncCore

/// Everything the HTML report shows, read from the mirror in one transaction so that every
/// number on the page describes the same instant.
///
/// The definitions are the ones `odoosync status --json` uses (a lead counts while it has not
/// vanished from Odoo: `deleted_at IS NULL`), so the funnel equals `leads_by_stage`.
public struct PipelineReport: Sendable {
    public struct Options: Sendable {
        /// An open lead is stale when its last change is older than this many days.
        public var staleDays: Int
        /// How many stale leads the table lists (the longest-untouched first); the totals
        /// always count them all.
        public var staleLimit: Int
        /// How many days the error and activity charts cover, ending today.
        public var historyDays: Int
        public var now: Date

        public init(staleDays: Int = 30, staleLimit: Int = 200, historyDays: Int = 30, now: Date = Date()) {
            self.staleDays = staleDays
            self.staleLimit = staleLimit
            self.historyDays = historyDays
            self.now = now
        }
    }

    /// One pipeline stage slug (nil: leads whose Odoo stage the stage map does not know).
    public struct Stage: Sendable, Equatable {
        public var slug: String?
        /// What the page calls it: the Odoo stage name it stands for when there is one.
        public var label: String
        public var leads: Int
        public var archived: Int
        public var revenue: Double
        public var weighted: Double
        /// The Odoo stage names its leads carry.
        public var odooStages: [String]

        public var kind: Kind {
            switch slug {
            case PipelineReport.wonSlug: return .won
            case PipelineReport.lostSlug: return .lost
            case nil: return .unmapped
            default: return .open
            }
        }

        public enum Kind: Sendable { case open, won, lost, unmapped }
    }

    public struct Salesperson: Sendable, Equatable {
        public var name: String?
        public var openLeads: Int
        public var openRevenue: Double
        public var weighted: Double
        public var wonLeads: Int
        public var wonRevenue: Double
        public var overdueLeads: Int
    }

    /// Open leads by the month of their expected close date ("YYYY-MM"; nil: no date).
    public struct CloseMonth: Sendable, Equatable {
        public var month: String?
        public var leads: Int
        public var revenue: Double
        public var overdueLeads: Int
        public var overdueRevenue: Double
    }

    public struct StaleLead: Sendable, Equatable {
        public var odooID: Int?
        public var title: String
        public var stage: String?
        public var salesperson: String?
        public var revenue: Double?
        public var deadline: String?
        /// "YYYY-MM-DD" of the last change, UTC.
        public var lastChange: String
        public var idleDays: Int
        public var overdue: Bool
    }

    public struct Run: Sendable, Equatable {
        public var job: String
        public var status: String
        public var startedAt: String
        public var endedAt: String?
        public var processed: Int
        public var failed: Int
    }

    public struct Conflict: Sendable, Equatable {
        public var entity: String
        public var entityID: String
        public var odooID: Int?
        public var createdAt: String
    }

    /// Errors of one day ("YYYY-MM-DD"): error and fatal events, and failed sync operations.
    public struct ErrorDay: Sendable, Equatable {
        public var day: String
        public var errorEvents: Int
        public var failedSyncs: Int
        public var total: Int { errorEvents + failedSyncs }
    }

    public struct Event: Sendable, Equatable {
        public var timestamp: String
        public var level: String
        public var type: String?
        public var message: String
    }

    /// One Plane ↔ Odoo entity pairing: its sync_config row (when there is one) and the
    /// mappings between the two.
    public struct EntityPair: Sendable, Equatable {
        public var planeType: String
        public var odooModel: String
        public var configured: Bool
        public var enabled: Bool
        public var direction: String?
        public var strategy: String?
        public var mappings: Int
        public var active: Int
        public var errors: Int
        public var lastSyncedAt: String?
    }

    public struct SyncOperation: Sendable, Equatable {
        public var createdAt: String
        public var sourceSystem: String
        public var sourceID: String
        public var targetID: String?
        public var operation: String
        public var success: Bool
        public var durationMs: Int?
        public var error: String?
    }

    /// Sync operations of one day, ok and failed.
    public struct ActivityDay: Sendable, Equatable {
        public var day: String
        public var succeeded: Int
        public var failed: Int
    }

    public static let wonSlug = "won"
    public static let lostSlug = "lost"

    public var options: Options
    /// ISO-8601 UTC time the report was read.
    public var generatedAt: String
    /// "YYYY-MM-DD", UTC: deadlines before it are overdue.
    public var today: String
    public var schemaVersion = ""

    /// Every stage that has leads or is in the stage map, in pipeline order; won and lost
    /// last, then leads with an unmapped stage.
    public var stages: [Stage] = []
    public var totalLeads = 0
    public var activeLeads = 0
    public var archivedLeads = 0
    public var deletedLeads = 0
    public var customers = 0
    public var contacts = 0

    public var openLeads = 0
    public var openRevenue = 0.0
    public var openWeighted = 0.0
    public var overdueLeads = 0
    public var overdueRevenue = 0.0

    public var salespeople: [Salesperson] = []
    public var closeMonths: [CloseMonth] = []

    public var staleCount = 0
    public var staleRevenue = 0.0
    public var staleLeads: [StaleLead] = []

    public var lastRuns: [Run] = []
    public var lastPull: Run?
    public var lastPush: Run?
    public var lastExport: Run?
    /// When export last moved a watermark, for exports that left no run row.
    public var lastExportWatermark: String?
    public var queue: [(status: String, count: Int)] = []
    public var localEdits: [(status: String, count: Int)] = []
    public var openConflicts = 0
    public var conflicts: [Conflict] = []
    public var errorDays: [ErrorDay] = []
    public var recentActivity: [Event] = []

    public var entityPairs: [EntityPair] = []
    public var planeRecords: [(kind: String, count: Int)] = []
    public var activityDays: [ActivityDay] = []
    public var recentOperations: [SyncOperation] = []

    public init(options: Options) {
        self.options = options
        generatedAt = Timestamp.iso(options.now)
        today = String(generatedAt.prefix(10))
    }

    public var won: Stage? { stages.first { $0.kind == .won } }
    public var lost: Stage? { stages.first { $0.kind == .lost } }
    public var openStages: [Stage] { stages.filter { $0.kind == .open } }
    public var unmapped: Stage? { stages.first { $0.kind == .unmapped } }

    /// Won among closed leads (won + lost), by count; nil before anything closed.
    public var winRate: Double? {
        let w = won?.leads ?? 0, l = lost?.leads ?? 0
        return w + l == 0 ? nil : Double(w) / Double(w + l)
    }
}
