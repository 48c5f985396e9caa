import Foundation
import GRDB
import Logging
import OdooClient
import OdooSyncCore
import OdooSyncMirror

/// `odoosync pull odoo`: brings crm.stage, res.users, crm.lead and the res.partner records
/// that leads point to into the mirror.
///
/// Paging is a keyset on (write_date, id) with `>=` semantics. Odoo compares datetimes in
/// whole seconds but orders by the stored microseconds (reference/odoo-api.md §5), so within one
/// second `id` order is not the server's order. The pull therefore alternates two queries:
///   B: `write_date >= S` ordered by `write_date, id`: everything from second S on;
///   A: `S <= write_date < S+1s and id > last` ordered by `id`: finishes second S exactly.
/// After a B page ending in second Y, everything before Y is complete, and A re-reads Y by id
/// (re-read records are recognised as unchanged). Each page, its cursor and its events are one
/// transaction; a run killed at any instant resumes from the stored cursor.
public final class OdooPuller: @unchecked Sendable {
    let mirror: Mirror
    let client: OdooClient
    let logger: Logger
    let progress: ProgressReporter?
    let pageSize: Int
    let overlapSeconds: Int
    let runID: String
    let context = OdooPuller.readContext
    /// Archived records too: an archive is a change the mirror must see.
    static let readContext: JSONValue = ["active_test": false]

    public init(mirror: Mirror, client: OdooClient, runID: String, logger: Logger, progress: ProgressReporter? = nil) throws {
        self.mirror = mirror
        self.client = client
        self.runID = runID
        self.logger = logger
        self.progress = progress
        pageSize = Int(try mirror.setting("pull.page_size") ?? "") ?? 1000
        overlapSeconds = Int(try mirror.setting("pull.overlap_seconds") ?? "") ?? 300
    }

    public func pull(full: Bool, projects: Bool = true) async throws -> PullReport {
        let started = Date()
        try OdooPuller.spaceOutCheckpoints(mirror)
        // An index a killed pull left deferred is built before anything else reads the mirror.
        try mirror.restoreDeferredIndexes()
        var report = PullReport(runID: runID)
        let connection = try await client.connect()
        report.api = connection.api.rawValue

        // The project side shares nothing with the CRM models but the connection: its round
        // trips (a page and an id listing per model, a dozen models) go beside the lead pass
        // instead of after it: about 7% of an incremental pull's wall time.
        async let projectSide = projects ? self.projectSideReport(full: full) : nil
        let projector = try LeadProjector(mirror: mirror, runID: runID)
        // Nothing projects stages and users (a lead carries its stage's and salesperson's
        // names), so the two are read side by side: a few round trips each.
        async let stageStats = pullModel(.stage, full: full, restrictTo: nil) { _, _, _ in .stored }
        async let userStats = pullModel(.users, full: full, restrictTo: nil) { _, _, _ in .stored }
        report.models.append((ModelSpec.stage.name, try await stageStats))
        report.models.append((ModelSpec.users.name, try await userStats))
        // Partners come with the lead pages that first point to them; afterwards the partner
        // pass reads those that changed.
        let partnerLinker = PartnerLinker(runID: runID, projector: projector)
        let partnerApplier = PageApplier(spec: .partner)
        let knownPartners = try mirror.read { db in
            try Set(Int.fetchAll(db, sql: "SELECT odoo_id FROM odoo_records WHERE model = 'res.partner' AND deleted = 0"))
        }
        let partners = Companion(spec: .partner, applier: partnerApplier, referenceField: LeadFields.partner, known: knownPartners) {
            db, view, change in try partnerLinker.link(db, view, change: change)
        }
        // A first pull fills an empty leads table. The customer index takes its keys in random
        // order (a few hundred customers interleaved page after page), so it is built once,
        // sorted, when the leads are in: about a seventh of a 100k-lead pull's CPU time. The
        // export log is written then too, in one statement instead of a trigger per lead.
        try mirror.deferIndexes(["leads_customer"], exportLog: true, whileFilling: "leads")
        var leadStats: ModelStats
        do {
            leadStats = try await pullModel(.lead, full: full, restrictTo: nil, participant: projector, preparer: projector.preparer,
                                            companion: partners) {
                db, view, change in try projector.project(db, view, change: change)
            }
        } catch {
            // Best effort: the next pull builds what this one could not.
            _ = try? mirror.restoreDeferredIndexes()
            throw error
        }
        try mirror.restoreDeferredIndexes()
        if !leadStats.backInSight.isEmpty {
            // Unchanged since they were hidden, so the incremental pass did not read them; what
            // they hold now (a new salesman, say) comes with a read by id.
            let again = try await pullLeads(ids: leadStats.backInSight)
            for (name, stats) in again.models where name == ModelSpec.lead.name {
                leadStats.updated += stats.updated + stats.created
                leadStats.unchanged += stats.unchanged
                leadStats.errors += stats.errors
                leadStats.failures += stats.failures
            }
        }
        report.models.append((ModelSpec.lead.name, leadStats))

        let referenced = try mirror.read { db in
            try Int.fetchAll(db, sql: "SELECT DISTINCT odoo_partner_id FROM leads WHERE odoo_partner_id IS NOT NULL ORDER BY 1")
        }
        var partnerStats = try await pullModel(.partner, full: full, restrictTo: referenced, applier: partnerApplier) {
            db, view, change in try partnerLinker.link(db, view, change: change)
        }
        partnerStats.add(partners.stats)
        report.models.append((ModelSpec.partner.name, partnerStats))
        if let side = try await projectSide {
            report.models += side.models
            report.skippedModels += side.skippedModels
        }

        report.unmappedStages = projector.unmappedStages.sorted()
        report.conflicts = projector.conflicts
        report.seconds = Date().timeIntervalSince(started)
        report.requests = await client.requestCount
        report.retries = await client.retryCount
        return report
    }

    /// Fewer, larger WAL checkpoints for the rest of the process (the setting is the writer
    /// connection's): a page rewritten by several commits is copied into the database once, and
    /// each checkpoint's two fsyncs (tens of ms on a laptop's disk) are paid once, at close,
    /// instead of every 4 MB of WAL.
    public static func spaceOutCheckpoints(_ mirror: Mirror) throws {
        try mirror.write { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384") }
    }

    /// `sync`'s Odoo half: the project-side models only, with the checkpoints spaced out as for
    /// `pull` (the sync's own writes, queue, pairs and journal, go to the same connection after it).
    public func pullProjects(full: Bool) async throws -> PullReport {
        let started = Date()
        try OdooPuller.spaceOutCheckpoints(mirror)
        var report = PullReport(runID: runID)
        let connection = try await client.connect()
        report.api = connection.api.rawValue
        try await pullProjectSide(full: full, into: &report)
        report.seconds = Date().timeIntervalSince(started)
        report.requests = await client.requestCount
        report.retries = await client.retryCount
        return report
    }

    private func projectSideReport(full: Bool) async throws -> PullReport {
        var side = PullReport(runID: runID)
        try await pullProjectSide(full: full, into: &side)
        return side
    }

    /// The project-side models, as snapshots for the Plane sync. A model the server does not
    /// have (its module is not installed) is skipped and named in `skippedModels`.
    ///
    /// Nothing projects these records, so the models are read side by side, a few at a time:
    /// an incremental pass is mostly round trips (a page and an id listing per model), which
    /// on a distant server cost more than anything the mirror does.
    func pullProjectSide(full: Bool, into report: inout PullReport) async throws {
        let specs = ModelSpec.projectSide
        var results = [ModelStats?](repeating: nil, count: specs.count)
        try await withThrowingTaskGroup(of: (Int, ModelStats?).self) { group in
            func start(_ index: Int) {
                group.addTask { [self] in
                    let spec = specs[index]
                    do {
                        let stats = try await OdooPuller.withServerFields(spec, client: client, narrowing: { wide, narrow in
                            logger.notice("\(spec.name): this Odoo has no \(Set(wide.fields).subtracting(narrow.fields).sorted().joined(separator: ", ")); pulled without")
                        }) { spec in
                            try await pullModel(spec, full: full, restrictTo: nil) { _, _, _ in .stored }
                        }
                        return (index, stats)
                    } catch OdooError.unknownModel {
                        return (index, nil)
                    } catch OdooError.invalidField(let message) {
                        logger.warning("\(spec.name) skipped: \(message)")
                        return (index, nil)
                    }
                }
            }
            var next = 0
            while next < min(OdooPuller.modelConcurrency, specs.count) { start(next); next += 1 }
            while let (index, stats) = try await group.next() {
                results[index] = stats
                if next < specs.count { start(next); next += 1 }
            }
        }
        for (spec, stats) in zip(specs, results) {
            if let stats { report.models.append((spec.name, stats)) } else { report.skippedModels.append(spec.name) }
        }
    }

    /// Runs `body` with `spec` as this server has it. Odoo 16 lacks a few fields of 17+
    /// (project.task's `state` and `allocated_hours`): when the server calls a field invalid,
    /// the spec is narrowed to what `fields_get` lists (once per process and model; `narrowing`
    /// hears of it) and `body` runs again, so the snapshots go without those fields.
    static func withServerFields<T>(_ spec: ModelSpec, client: OdooClient, narrowing: (ModelSpec, ModelSpec) -> Void = { _, _ in },
                                    _ body: (ModelSpec) async throws -> T) async throws -> T {
        let known = serverFields.spec(for: spec, server: ServerFields.key(client))
        do {
            return try await body(known)
        } catch OdooError.invalidField(let message) {
            guard let narrow = try await narrowed(known, client: client) else { throw OdooError.invalidField(message: message) }
            narrowing(known, narrow)
            return try await body(narrow)
        }
    }

    /// `spec` less the fields this server's model lacks (asked with `fields_get`); nil when it
    /// lacks none of them, or one the mirror cannot do without.
    private static func narrowed(_ spec: ModelSpec, client: OdooClient) async throws -> ModelSpec? {
        let answer = try await client.call(OdooCall(model: spec.name, method: "fields_get", kwargs: [("attributes", ["type"])]))
        guard let described = answer.objectValue else { return nil }
        let present = Set(described.map(\.0)).union(["id"])
        let kept = spec.fields.filter(present.contains)
        guard kept.count < spec.fields.count, kept.contains("write_date"), !spec.hasActive || kept.contains("active") else { return nil }
        let narrowed = ModelSpec(name: spec.name, fields: kept, hasActive: spec.hasActive, domain: spec.domain)
        serverFields.remember(narrowed, server: ServerFields.key(client))
        return narrowed
    }

    /// The narrowed specs of each server this process talks to, so that each model is
    /// narrowed once per server, database and user (fields_get leaves out the fields of groups
    /// the user is not in): an Odoo 16 answer must not narrow what another server is asked.
    private static let serverFields = ServerFields()

    /// A narrowing is kept for `lifetime` seconds, then the full field list is tried again:
    /// `serve` runs for weeks, and a server upgraded from 16 to 17 meanwhile has the fields.
    final class ServerFields: @unchecked Sendable {
        private let lock = NSLock()
        private var narrowed: [String: (spec: ModelSpec, at: Date)] = [:]
        private let now: @Sendable () -> Date
        let lifetime: TimeInterval

        init(lifetime: TimeInterval = 3600, now: @escaping @Sendable () -> Date = Date.init) {
            self.lifetime = lifetime
            self.now = now
        }

        static func key(_ client: OdooClient) -> String {
            "\(client.settings.url.absoluteString)|\(client.settings.database)|\(client.settings.username)"
        }

        func spec(for spec: ModelSpec, server: String) -> ModelSpec {
            let time = now()
            return lock.withLock {
                guard let entry = narrowed[server + "|" + spec.name], time.timeIntervalSince(entry.at) < lifetime else { return spec }
                return entry.spec
            }
        }

        func remember(_ spec: ModelSpec, server: String) {
            let time = now()
            lock.withLock { narrowed[server + "|" + spec.name] = (spec, time) }
        }
    }

    /// How many project-side models are read at once: as many requests as the sync engine
    /// keeps in flight, which a server with a handful of workers serves without queueing.
    static let modelConcurrency = 4

    /// What a record handler did with a record whose snapshot changed.
    enum Outcome { case stored, skipped, failed }

    enum Change { case created, updated, archived }

    /// Pulls one model page by page and detects deletions; `handle` projects each created or
    /// changed record inside the page's transaction.
    func pullModel(
        _ spec: ModelSpec, full: Bool, restrictTo ids: [Int]?, participant: PageParticipant? = nil,
        preparer: LeadPreparer? = nil, companion: Companion? = nil, applier given: PageApplier? = nil,
        handle: @escaping @Sendable (Database, borrowing RecordView, Change) throws -> Outcome
    ) async throws -> ModelStats {
        let modelStarted = Date()
        var stats = ModelStats()
        if let ids, ids.isEmpty {
            try finishModel(spec, stats: stats, started: modelStarted)
            return stats
        }
        let cursor = try loadCursor(spec.name)
        let applier = given ?? PageApplier(spec: spec)
        applier.participant = participant
        applier.preparer = preparer
        var restriction: [JSONValue] = spec.domain
        if let ids { restriction.append(["id", "in", .array(ids.map(JSONValue.int))]) }

        // A first or --full pull reads by id: inserts then land in id order, which keeps every
        // id-keyed index append-only (by write_date they would touch a random page each).
        // A killed full pass resumes at its last committed id.
        var lowerBound: String? = nil
        var didFullPass = false
        if full || cursor?.writeDate == nil || cursor?.fullLastID != nil {
            let since: String?
            if let resumed = cursor, resumed.fullLastID != nil {
                since = resumed.fullSince
            } else {
                since = try await latestWriteDate(spec, restriction: restriction)
                try mirror.write { db in try OdooPuller.storeFullPass(db, model: spec.name, lastID: 0, since: since) }
            }
            let total = try await count(spec, restriction: restriction, since: nil)
            applier.newAbove = try mirror.read { db in
                try Int.fetchOne(db, sql: "SELECT coalesce(max(odoo_id), 0) FROM odoo_records WHERE model = ?", arguments: [spec.name])
            }
            defer { applier.newAbove = nil }
            var done = 0
            // The next page's query needs only this page's last id, so it is fetched while this
            // page is written: the server's work and ours overlap.
            let referenceField = companion?.referenceField
            let scanner = applier.scanner
            let preparer = applier.preparer
            let filter = restriction
            let size = pageSize
            func request(after id: Int) -> Task<RawPage, Error> {
                Task { [self, filter, spec, scanner, referenceField, size, preparer] in
                    try await download(spec, scanner: scanner, domain: filter + [["id", ">", .int(id)]], order: "id asc",
                                       limit: size, referenceField: referenceField, preparer: preparer)
                }
            }
            var next = request(after: cursor?.fullLastID ?? 0)
            while true {
                let raw = try await next.value
                let lastInPage = raw.lastID
                let more = raw.count == pageSize && lastInPage != nil
                if more, let lastInPage { next = request(after: lastInPage) }
                let page = try await applyPage(raw, spec: spec, applier: applier, stats: &stats, cursorAfter: nil,
                                               fullPassSince: since, companion: companion, handle: handle)
                done += page.count
                progress?.progress(model: spec.name, done: min(done, total ?? done), total: total)
                guard more else { break }
            }
            try mirror.write { db in try OdooPuller.finishFullPass(db, model: spec.name, since: since) }
            didFullPass = true
            lowerBound = since.flatMap { Timestamp.odoo($0, plusSeconds: -overlapSeconds) }
            if since == nil {
                // The model was empty when the pass began; nothing more to catch up on.
                progress?.finished(model: spec.name)
                (stats.deleted, stats.hidden, stats.backInSight) = try await detectDeletions(spec, restrictTo: ids, thorough: true, started: modelStarted)
                try finishModel(spec, stats: stats, started: modelStarted, full: true)
                return stats
            }
        } else if let stored = cursor?.writeDate {
            lowerBound = Timestamp.odoo(stored, plusSeconds: -overlapSeconds) ?? stored
        }

        // Records never seen before are read regardless of write_date (partners newly referenced).
        if let ids, !didFullPass {
            let known = try mirror.read { db in
                try Set(Int.fetchAll(db, sql: "SELECT odoo_id FROM odoo_records WHERE model = ?", arguments: [spec.name]))
            }
            let fresh = ids.filter { !known.contains($0) }
            for chunk in stride(from: 0, to: fresh.count, by: pageSize).map({ Array(fresh[$0..<min($0 + pageSize, fresh.count)]) }) {
                _ = try await fetchPage(spec, applier: applier, domain: [["id", "in", .array(chunk.map(JSONValue.int))]], order: "id asc",
                                        limit: nil, stats: &stats, cursorAfter: nil, handle: handle)
            }
        }

        let total = try await count(spec, restriction: restriction, since: lowerBound)
        var done = 0
        var second: String? = nil  // phase A's second when set
        var lastID = 0
        // The records of phase A's second that the B page already brought: A reads the rest of
        // the second only. When one write touched a whole page of records (a bulk edit, an
        // import), they share their second, and A would otherwise read them all a second time.
        var seenInSecond: [Int] = []
        while true {
            if let s = second {
                guard let next = Timestamp.odoo(s, plusSeconds: 1) else { break }
                var domain: [JSONValue] = restriction + [["write_date", ">=", .string(s)], ["write_date", "<", .string(next)],
                                                         ["id", ">", .int(lastID)]]
                let skip = seenInSecond.filter { $0 > lastID }
                if !skip.isEmpty { domain.append(["id", "not in", .array(skip.map(JSONValue.int))]) }
                let page = try await fetchPage(spec, applier: applier, domain: domain, order: "id asc", limit: pageSize, stats: &stats,
                                               cursorAfter: { _ in s }, companion: companion, handle: handle)
                done += page.count
                progress?.progress(model: spec.name, done: min(done, total ?? done), total: total)
                if page.count == pageSize, let last = page.last {
                    lastID = last.id
                } else {
                    second = nil
                    lowerBound = next
                }
            } else {
                var domain = restriction
                if let lowerBound { domain.append(["write_date", ">=", .string(lowerBound)]) }
                let page = try await fetchPage(spec, applier: applier, domain: domain, order: "write_date asc, id asc", limit: pageSize,
                                               stats: &stats, cursorAfter: { last in last.writeDate }, companion: companion,
                                               handle: handle)
                done += page.count
                progress?.progress(model: spec.name, done: min(done, total ?? done), total: total)
                guard page.count == pageSize, let last = page.last else { break }
                // Records without a write_date cannot be paged by it; Odoo always sets one.
                guard !last.writeDate.isEmpty else { break }
                second = last.writeDate
                seenInSecond = page.compactMap { $0.writeDate == last.writeDate ? $0.id : nil }
                lastID = 0
            }
        }
        progress?.finished(model: spec.name)

        (stats.deleted, stats.hidden, stats.backInSight) = try await detectDeletions(spec, restrictTo: ids, thorough: didFullPass, started: modelStarted)
        try finishModel(spec, stats: stats, started: modelStarted, full: didFullPass)
        return stats
    }

    /// The newest write_date of the model now: where incremental pulls continue after a full pass.
    private func latestWriteDate(_ spec: ModelSpec, restriction: [JSONValue]) async throws -> String? {
        let value = try await client.call(OdooCall(model: spec.name, method: "search_read", args: [("domain", .array(restriction))],
                                                   kwargs: [("fields", ["write_date"]), ("order", "write_date desc, id desc"), ("limit", 1)],
                                                   context: context))
        return value.arrayValue?.first?["write_date"]?.stringValue
    }

    static func storeFullPass(_ db: Database, model: String, lastID: Int, since: String?) throws {
        try db.execute(sql: """
            INSERT INTO pull_cursors (source, model, full_last_id, full_since) VALUES ('odoo', ?, ?, ?)
            ON CONFLICT (source, model) DO UPDATE SET full_last_id = excluded.full_last_id, full_since = excluded.full_since
            """, arguments: [model, lastID, since])
    }

    static func finishFullPass(_ db: Database, model: String, since: String?) throws {
        try db.execute(sql: "UPDATE pull_cursors SET full_last_id = NULL, full_since = NULL WHERE source = 'odoo' AND model = ?",
                       arguments: [model])
        if let since { try storeCursor(db, model: model, writeDate: since) }
    }

    struct PageRecord { let id: Int; let writeDate: String }

    /// A downloaded page, already checked to be complete JSON.
    struct RawPage: Sendable {
        let body: Data
        let api: OdooAPI
        /// Ids of the companion model the records point to (partners of leads).
        let references: [Int]
        let count: Int
        let lastID: Int?
        /// The page's rows as `leads` wants them, when it is a crm.lead page prepared on download.
        var leads: LeadBatch? = nil
    }

    /// Records of another model that a page's records point to, fetched with the page and
    /// applied first in its transaction: leads' partners, so that each lead's customer is
    /// right the first time it is written.
    final class Companion: @unchecked Sendable {
        let spec: ModelSpec
        let applier: PageApplier
        let referenceField: Int
        let handle: @Sendable (Database, borrowing RecordView, Change) throws -> Outcome
        var known: Set<Int>
        var stats = ModelStats()

        init(spec: ModelSpec, applier: PageApplier, referenceField: Int, known: Set<Int>,
             handle: @escaping @Sendable (Database, borrowing RecordView, Change) throws -> Outcome) {
            self.spec = spec
            self.applier = applier
            self.referenceField = referenceField
            self.known = known
            self.handle = handle
        }
    }

    /// Fetches a page and scans it once without writing: a truncated body fails here, inside
    /// the client's retry loop, before any transaction starts.
    func download(_ spec: ModelSpec, scanner: RecordScanner, domain: [JSONValue], order: String, limit: Int?,
                  referenceField: Int?, preparer: LeadPreparer? = nil) async throws -> RawPage {
        try await OdooPuller.download(client: client, spec, scanner: scanner, domain: domain, order: order, limit: limit,
                                      referenceField: referenceField, preparer: preparer)
    }

    /// `download` for callers without a puller: the sync's read-back of what it wrote asks
    /// exactly as a pull does, so that the snapshot it stores is the one the next pull reads.
    ///
    /// With a `preparer` (crm.lead pages), the rows are also prepared here, off the thread that
    /// writes the mirror.
    static func download(client: OdooClient, _ spec: ModelSpec, scanner: RecordScanner, domain: [JSONValue], order: String,
                         limit: Int?, referenceField: Int?, preparer: LeadPreparer? = nil) async throws -> RawPage {
        let context = readContext
        var kwargs: [(String, JSONValue)] = [("fields", .array(spec.fields.map(JSONValue.string))), ("order", .string(order))]
        if let limit { kwargs.append(("limit", .int(limit))) }
        let call = OdooCall(model: spec.name, method: "search_read", args: [("domain", .array(domain))], kwargs: kwargs,
                            context: context)
        return try await client.callRaw(call) { response, api in
            var references: [Int] = []
            var count = 0
            var lastID: Int? = nil
            let idIndex = scanner.fields.firstIndex(of: "id") ?? 0
            var leads = LeadBatch.Builder(capacity: preparer == nil ? 0 : limit ?? 0)
            let outcome = try response.body.withUnsafeBytes { body in
                try scanner.scan(body, envelope: api == .json2 ? .json2 : .jsonRPC) { view in
                    count += 1
                    lastID = view.int(idIndex)
                    if let field = referenceField, let id = view.many2oneID(field) { references.append(id) }
                    preparer?.add(view, to: &leads)
                }
            }
            switch outcome {
            case .records: break
            case .error(let range): throw client.rpcError(in: response.body, range: range, model: spec.name)
            case .otherResult:
                throw OdooError.badResponse(server: client.settings.url.absoluteString,
                                            detail: "search_read on \(spec.name) did not return a list", attempts: 1)
            }
            return RawPage(body: response.body, api: api, references: references, count: count, lastID: lastID,
                           leads: preparer == nil ? nil : leads.finish())
        }
    }

    /// Applies a downloaded page inside the caller's transaction.
    static func apply(
        _ page: RawPage, applier: PageApplier, db: Database, stats: inout ModelStats,
        handle: (Database, borrowing RecordView, Change) throws -> Outcome
    ) throws -> [PageRecord] {
        var records: [PageRecord] = []
        applier.participant?.using(page.leads)
        defer { applier.participant?.using(nil) }
        _ = try page.body.withUnsafeBytes { body in
            try applier.scanner.scan(body, envelope: page.api == .json2 ? .json2 : .jsonRPC) { view in
                records.append(try applier.apply(db, view, stats: &stats, handle: handle))
            }
        }
        return records
    }

    /// Fetches one page (and the companion records it points to) and applies them, with the
    /// cursor and events, in one transaction.
    private func fetchPage(
        _ spec: ModelSpec, applier: PageApplier, domain: [JSONValue], order: String, limit: Int?, stats: inout ModelStats,
        cursorAfter: (@Sendable (PageRecord) -> String)?, fullPassSince: String? = nil, companion: Companion? = nil,
        handle: @escaping @Sendable (Database, borrowing RecordView, Change) throws -> Outcome
    ) async throws -> [PageRecord] {
        let page = try await download(spec, scanner: applier.scanner, domain: domain, order: order, limit: limit,
                                      referenceField: companion?.referenceField, preparer: applier.preparer)
        return try await applyPage(page, spec: spec, applier: applier, stats: &stats, cursorAfter: cursorAfter,
                                   fullPassSince: fullPassSince, companion: companion, handle: handle)
    }

    /// Applies a downloaded page, after fetching the companion records it points to, with the
    /// cursor and events, in one transaction.
    private func applyPage(
        _ page: RawPage, spec: ModelSpec, applier: PageApplier, stats: inout ModelStats,
        cursorAfter: (@Sendable (PageRecord) -> String)?, fullPassSince: String?, companion: Companion?,
        handle: @escaping @Sendable (Database, borrowing RecordView, Change) throws -> Outcome
    ) async throws -> [PageRecord] {
        var companionPage: RawPage? = nil
        if let companion {
            let missing = Set(page.references).subtracting(companion.known).sorted()
            if !missing.isEmpty {
                companionPage = try await download(companion.spec, scanner: companion.applier.scanner,
                                                   domain: [["id", "in", .array(missing.map(JSONValue.int))]],
                                                   order: "id asc", limit: nil, referenceField: nil)
            }
        }
        let runID = self.runID
        let (pageStats, companionStats, records) = try mirror.write { db -> (ModelStats, ModelStats, [PageRecord]) in
            var companionStats = ModelStats()
            if let companion, let companionPage {
                try companion.applier.beginAttempt(db)
                _ = try OdooPuller.apply(companionPage, applier: companion.applier, db: db, stats: &companionStats,
                                         handle: companion.handle)
            }
            try applier.beginAttempt(db)
            var pageStats = ModelStats()
            let records = try OdooPuller.apply(page, applier: applier, db: db, stats: &pageStats, handle: handle)
            if let cursorAfter, let last = records.last {
                try OdooPuller.storeCursor(db, model: spec.name, writeDate: cursorAfter(last))
            }
            if let since = fullPassSince, let last = records.last {
                try OdooPuller.storeFullPass(db, model: spec.name, lastID: last.id, since: since)
            }
            if !records.isEmpty {
                try Mirror.appendEvent(db, runID: runID, level: .debug, type: "pull_page",
                                       message: "\(spec.name): page of \(records.count) records applied",
                                       metadata: ["model": .string(spec.name), "stats": pageStats.json])
            }
            return (pageStats, companionStats, records)
        }
        if let companion, companionPage != nil {
            companion.applier.commit()
            companion.known.formUnion(page.references)
            companion.stats.add(companionStats)
        }
        applier.commit()
        stats.add(pageStats)
        return records
    }

    private func count(_ spec: ModelSpec, restriction: [JSONValue], since: String?) async throws -> Int? {
        guard progress != nil else { return nil }
        var domain = restriction
        if let since { domain.append(["write_date", ">=", .string(since)]) }
        let value = try await client.call(OdooCall(model: spec.name, method: "search_count", args: [("domain", .array(domain))],
                                                   context: context))
        return value.intValue
    }

    /// Deletes leave no trace in Odoo: compare the ids the server still has with ours. The ids
    /// are walked in bounded slices so a model of any size never holds its whole id list (the
    /// full list of 100k leads, decoded, cost more memory than the rest of the pull). An id the
    /// server no longer lists is read by id before it becomes a tombstone: a record rule may
    /// only hide it (`sortOutOfSight`). Returns (tombstoned, hidden from this user).
    ///
    /// An incremental pull first compares counts: Odoo's ids only grow, so when the server has
    /// as many records up to the mirror's largest id as the mirror has live ones (less the ones
    /// known hidden), nothing was deleted, and one `search_count` replaces a walk over every id
    /// (six requests for 100k leads). A hidden record this pull has just read again (started)
    /// is back in sight and no longer allowed for. A full pull always walks.
    private func detectDeletions(_ spec: ModelSpec, restrictTo ids: [Int]?, thorough: Bool,
                                 started: Date) async throws -> (deleted: Int, hidden: Int, back: [Int]) {
        let slice = pageSize * 20
        var gone = 0
        var hidden: [Int] = []
        var listedAgain: [Int] = []
        let runID = self.runID
        let since = Timestamp.iso(started)
        let known = try mirror.read { db in
            let known = try OdooPuller.hiddenIDs(db, model: spec.name)
            guard !known.isEmpty else { return known }
            let back = try Set(Int.fetchAll(db, sql: """
                SELECT odoo_id FROM odoo_records WHERE model = ? AND odoo_id IN (SELECT value FROM json_each(?)) AND pulled_at >= ?
                """, arguments: [spec.name, JSONValue.array(known.map(JSONValue.int)).serialized, since]))
            return known.filter { !back.contains($0) }
        }
        if ids == nil, !thorough, try await nothingDeleted(spec, walkLongerThan: slice, hidden: known) {
            return (0, try mirror.write { db in try OdooPuller.recordHidden(db, model: spec.name, found: known, checked: nil, runID: runID) }, [])
        }
        // An incremental walk takes the known hidden as still hidden: sorting them again would
        // cost a few reads each on every pull. A full pull sorts them again, and so finds one
        // deleted while hidden.
        let stillHidden = thorough ? Set<Int>() : Set(known)

        if let ids {
            let sorted = ids.sorted()
            for start in stride(from: 0, to: sorted.count, by: slice) {
                let chunk = Array(sorted[start..<min(start + slice, sorted.count)])
                let remote = try await searchIDs(spec, domain: [["id", "in", .array(chunk.map(JSONValue.int))]], limit: nil)
                let found = try await markGone(spec, candidates: .listed(chunk), remote: Set(remote), stillHidden: stillHidden)
                gone += found.deleted
                hidden += found.hidden
                listedAgain += found.listed
            }
            let count = try mirror.write { db in
                try OdooPuller.recordHidden(db, model: spec.name, found: hidden, checked: Set(ids), runID: runID)
            }
            return (gone, count, listedAgain)
        }
        var after = 0
        while true {
            let remote = try await searchIDs(spec, domain: [["id", ">", .int(after)]], limit: slice)
            // A full slice ends at its last id; a short one is the end, so everything above is ours to check.
            let upper = remote.count == slice ? remote.last : nil
            let found = try await markGone(spec, candidates: .range(after: after, through: upper), remote: Set(remote), stillHidden: stillHidden)
            gone += found.deleted
            hidden += found.hidden
            listedAgain += found.listed
            guard let upper else { break }
            after = upper
        }
        let count = try mirror.write { db in try OdooPuller.recordHidden(db, model: spec.name, found: hidden, checked: nil, runID: runID) }
        return (gone, count, listedAgain)
    }

    /// True when the counts prove no deletion; false when they differ or when the walk would
    /// take one request anyway (a model of at most `walkLongerThan` live records). `hidden`
    /// records are live here and not counted by the server, as long as they stay hidden: one
    /// back in sight without a write (the rule changed, not the record) would make up for a
    /// deletion in the count, so the counts prove nothing until the walk has seen it.
    private func nothingDeleted(_ spec: ModelSpec, walkLongerThan slice: Int, hidden: [Int]) async throws -> Bool {
        let name = spec.name
        // From the id index and the tombstones' index: a plain count of live rows would read
        // every row of the model.
        let local = try mirror.read { db -> (live: Int, largest: Int?) in
            let all = try Int.fetchOne(db, sql: "SELECT count(*) FROM odoo_records WHERE model = ?", arguments: [name]) ?? 0
            let dead = try Int.fetchOne(db, sql: "SELECT count(*) FROM odoo_records WHERE model = ? AND deleted = 1", arguments: [name]) ?? 0
            let largest = try Int.fetchOne(db, sql: "SELECT odoo_id FROM odoo_records WHERE model = ? AND deleted = 0 ORDER BY odoo_id DESC LIMIT 1",
                                           arguments: [name])
            return (all - dead, largest)
        }
        guard let largest = local.largest, local.live > slice else { return false }
        let value = try await client.call(OdooCall(model: name, method: "search_count",
                                                   args: [("domain", .array(spec.domain + [["id", "<=", .int(largest)]]))],
                                                   context: context))
        guard value.intValue == local.live - hidden.count else { return false }
        guard !hidden.isEmpty else { return true }
        let visible = try await client.call(OdooCall(model: name, method: "search_count",
                                                     args: [("domain", .array(spec.domain + [["id", "in", .array(hidden.map(JSONValue.int))]]))],
                                                     context: context))
        return visible.intValue == 0
    }

    private enum Candidates {
        case listed([Int])
        case range(after: Int, through: Int?)
    }

    private func searchIDs(_ spec: ModelSpec, domain: [JSONValue], limit: Int?) async throws -> [Int] {
        var kwargs: [(String, JSONValue)] = [("order", "id asc")]
        if let limit { kwargs.append(("limit", .int(limit))) }
        let value = try await client.call(OdooCall(model: spec.name, method: "search", args: [("domain", .array(spec.domain + domain))],
                                                   kwargs: kwargs, context: context))
        guard let list = value.arrayValue else {
            throw OdooError.badResponse(server: client.settings.url.absoluteString, detail: "search did not return ids", attempts: 1)
        }
        return list.compactMap(\.intValue)
    }

    /// Tombstones the mirror's live records among `candidates` that Odoo deleted, in one
    /// transaction, and returns them with the ones a record rule hides (kept as they are).
    /// `stillHidden`: ids taken as hidden without a read when unlisted. Returns, besides the
    /// deleted and the hidden, the `stillHidden` ids the search listed: back in sight.
    private func markGone(_ spec: ModelSpec, candidates: Candidates, remote: Set<Int>,
                          stillHidden: Set<Int>) async throws -> (deleted: Int, hidden: [Int], listed: [Int]) {
        // Live ids as the id index less the tombstones: `deleted = 0` alone reads every row.
        var sql = """
            SELECT odoo_id FROM odoo_records WHERE model = ?1
              AND odoo_id NOT IN (SELECT odoo_id FROM odoo_records WHERE model = ?1 AND deleted = 1)
            """
        var arguments: StatementArguments = [spec.name]
        switch candidates {
        case .listed(let ids):
            sql += " AND odoo_id IN (SELECT value FROM json_each(?))"
            arguments += [JSONValue.array(ids.map(JSONValue.int)).serialized]
        case .range(let after, let through):
            sql += " AND odoo_id > ?"
            arguments += [after]
            if let through {
                sql += " AND odoo_id <= ?"
                arguments += [through]
            }
        }
        let local = try mirror.read { db in try Int.fetchAll(db, sql: sql, arguments: arguments) }
        let listed = stillHidden.isEmpty ? [] : local.filter { remote.contains($0) && stillHidden.contains($0) }
        let unlisted = local.filter { !remote.contains($0) }
        let assumed = unlisted.filter(stillHidden.contains)
        let unknown = unlisted.filter { !stillHidden.contains($0) }
        guard !unknown.isEmpty else { return (0, assumed, listed) }
        let sorted = try await sortOutOfSight(spec.name, unknown)
        let runID = self.runID
        let deleted = try mirror.write { db in try OdooPuller.tombstone(db, model: spec.name, sorted, runID: runID) }
        return (deleted, assumed + sorted.hidden, listed)
    }

    private func finishModel(_ spec: ModelSpec, stats: ModelStats, started: Date, full: Bool = false) throws {
        let runID = self.runID
        try mirror.write { db in
            let now = Timestamp.iso(Date())
            try db.execute(sql: """
                INSERT INTO pull_cursors (source, model, last_run_at, last_full_at) VALUES ('odoo', ?, ?, ?)
                ON CONFLICT (source, model) DO UPDATE SET last_run_at = excluded.last_run_at,
                    last_full_at = coalesce(excluded.last_full_at, pull_cursors.last_full_at)
                """, arguments: [spec.name, now, full ? now : nil])
            let millis = Int(Date().timeIntervalSince(started) * 1000)
            try Mirror.appendSyncLog(db, runID: runID, sourceID: spec.name, operation: "pull", success: stats.errors == 0,
                                     error: stats.errors > 0 ? "\(stats.errors) record(s) failed" : nil,
                                     sourceData: stats.json, durationMs: millis)
            try Mirror.appendEvent(db, runID: runID, level: stats.errors > 0 ? .warn : .info, type: "pull_model",
                                   message: "pulled \(spec.name): \(stats.created) created, \(stats.updated) updated, \(stats.unchanged) unchanged, \(stats.skipped) skipped, \(stats.archived) archived, \(stats.deleted) deleted, \(stats.errors) errors",
                                   metadata: ["model": .string(spec.name), "stats": stats.json], durationMs: Double(millis))
        }
    }

    struct Cursor { var writeDate: String?; var fullLastID: Int?; var fullSince: String? }

    private func loadCursor(_ model: String) throws -> Cursor? {
        try mirror.read { db in
            try Row.fetchOne(db, sql: "SELECT write_date, full_last_id, full_since FROM pull_cursors WHERE source = 'odoo' AND model = ?",
                             arguments: [model]).map { row in Cursor(writeDate: row[0], fullLastID: row[1], fullSince: row[2]) }
        }
    }

    /// Every record written before `writeDate` is in the mirror. The cursor only moves forward:
    /// an overlap re-read must not move it back.
    static func storeCursor(_ db: Database, model: String, writeDate: String) throws {
        try db.execute(sql: """
            INSERT INTO pull_cursors (source, model, write_date) VALUES ('odoo', ?, ?)
            ON CONFLICT (source, model) DO UPDATE SET write_date = excluded.write_date
            WHERE pull_cursors.write_date IS NULL OR excluded.write_date > pull_cursors.write_date
            """, arguments: [model, writeDate])
    }
}
