import Foundation

/// An in-process stand-in for an Odoo 19 server (or 16–18: `configuration.serverVersion`), speaking JSON-RPC (`/jsonrpc`), the web
/// session API (`/web/session/*`, `/web/dataset/call_kw`) and JSON-2 (`/json/2/...`) over
/// real HTTP, with the real server's value encodings, error bodies and statuses.
///
/// ```swift
/// let emulator = try OdooEmulator(fixtures: fixturesURL)
/// let port = try await emulator.start()
/// // ... point a client at emulator.baseURL ...
/// await emulator.stop()
/// ```
public final class OdooEmulator: Sendable {
    let core: EmulatorCore
    private let server = ServerHandle()

    /// Loads every model found in `fixtures` (`<model>.json` and `fields/<model>.json`).
    public init(fixtures: URL, configuration: OdooEmulatorConfiguration = .init()) throws {
        var state = try FixtureLoader.load(directory: fixtures, profile: VersionProfile(major: configuration.majorVersion))
        if configuration.generatedLeads > 0, var generator = LeadGenerator(state: state, seed: configuration.seed) {
            generator.generate(count: configuration.generatedLeads, into: &state)
        }
        core = EmulatorCore(state: state, configuration: configuration)
    }

    public var configuration: OdooEmulatorConfiguration { core.configuration }

    // MARK: server

    /// Starts serving on `host:port` (0 picks a free port) in a background task; returns the port.
    @discardableResult
    public func start(host: String = "127.0.0.1", port: Int = 0) async throws -> Int {
        try await server.start(core: core, host: host, port: port)
    }

    public func stop() async {
        await server.stop()
    }

    /// Suspends until the server stops (for `odoosync demo`).
    public func waitUntilStopped() async {
        await server.wait()
    }

    /// The bound port, while running.
    public var port: Int? { server.port }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: URL {
        URL(string: core.baseURL) ?? URL(fileURLWithPath: "/")
    }

    // MARK: faults and observation

    public func setFaults(_ plan: FaultPlan) {
        core.setFaults(plan)
    }

    /// Every write/create/unlink/archive call received over HTTP, in arrival order.
    public func writes() -> [RecordedWrite] {
        core.writes
    }

    public func requestCount() -> Int {
        core.requestCount
    }

    /// Ends every web session, as a server restart or a session timeout does.
    public func expireSessions() { core.closeAllSessions() }

    /// The most requests this emulator was answering at once since the last reset.
    public func peakConcurrentRequests() -> Int { core.peakInFlight }

    public func resetPeakConcurrentRequests() { core.resetPeakInFlight() }

    /// What the fault plan decided for each request it applied to, in arrival order (nil:
    /// served normally). Tests compare it across runs: a seed gives the same decisions.
    public func faultDecisions() -> [FaultKind?] {
        core.faultDecisions
    }

    /// Calls received of one model method (`crm.lead`, `search`).
    public func requestCount(model: String, method: String) -> Int {
        core.callCount(model: model, method: method)
    }

    /// How many records of `model` the emulator has sent (search_read and read rows).
    public func recordsServed(model: String) -> Int {
        core.servedCount(model: model)
    }

    /// Changes whether a user sees only the leads assigned to them, from the next request on,
    /// as an administrator editing the record rule would: no lead is written.
    public func setOwnLeadsOnly(uid: Int, _ value: Bool) { core.setOwnLeadsOnly(uid: uid, value) }

    /// Replaces the clock used for write_date and relative domain dates (nil: system clock).
    public func setClock(_ clock: (@Sendable () -> Date)?) {
        core.setClock(clock)
    }

    // MARK: direct data access (a colleague working in Odoo)

    /// Writes `values` to a record as another user would, bumping its write_date.
    /// Returns false when Odoo would have refused the write (see `applyEdit` for the reason).
    @discardableResult
    public func modify(model: String, id: Int, values: [String: EmulatorJSON]) -> Bool {
        (try? applyEdit(model: model, id: id, values: values)) != nil
    }

    /// Deletes a record (no tombstone, as in Odoo). Returns false if it did not exist.
    @discardableResult
    public func delete(model: String, id: Int) -> Bool {
        (try? applyDelete(model: model, id: id)) != nil
    }

    /// Creates a record as another user would; returns its id, or 0 if Odoo would refuse it.
    @discardableResult
    public func create(model: String, values: [String: EmulatorJSON]) -> Int {
        (try? applyCreate(model: model, values: values)) ?? 0
    }

    /// Throwing form of `modify`: the error names the Odoo exception.
    public func applyEdit(model: String, id: Int, values: [String: EmulatorJSON]) throws {
        try colleagueTransaction { tx, state in
            try tx.write(&state, model: model, ids: [id], vals: .object(values.sorted { $0.key < $1.key }))
        }
    }

    public func applyDelete(model: String, id: Int) throws {
        try colleagueTransaction { tx, state in try tx.unlink(&state, model: model, ids: [id]) }
    }

    public func applyCreate(model: String, values: [String: EmulatorJSON]) throws -> Int {
        try colleagueTransaction { tx, state in
            try tx.create(&state, model: model, valsList: [.object(values.sorted { $0.key < $1.key })]).first ?? 0
        }
    }

    /// Archives or unarchives a record the way `action_archive` does.
    public func setActive(model: String, id: Int, active: Bool) throws {
        try colleagueTransaction { tx, state in try tx.setActive(&state, model: model, ids: [id], active: active) }
    }

    private func colleagueTransaction<R>(_ body: (Transaction, inout StoreState) throws -> R) throws -> R {
        let admin = core.configuration.users.first(where: \.isAdmin) ?? EmulatorUser.admin
        var colleague = admin
        colleague.readOnlyModels = []
        let caller = core.caller(for: colleague)
        let now = core.nowMicros()
        let referenced = core.referencedModels
        do {
            return try core.mutate { state in
                let stamp = max(now, state.lastTransactionMicros + 1)
                state.lastTransactionMicros = stamp
                return try body(Transaction(caller: caller, stamp: stamp, referencedModels: referenced), &state)
            }
        } catch let error as OdooError {
            throw OdooEmulatorError(name: error.name, message: error.message)
        }
    }

    /// All records of a model, archived ones included, in `read` form, by ascending id.
    public func recordsJSON(model: String) -> Data {
        let state = core.snapshot()
        guard let table = state.tables[model] else { return Data("[]".utf8) }
        let records = table.idsAscending.compactMap(table.record(id:))
        var renderer = RowRenderer(table: table, state: state, fields: table.schema.fields)
        var out = JSONBytes()
        out.raw("[")
        for (n, record) in records.enumerated() {
            if n > 0 { out.raw(", ") }
            out.raw(renderer.render(record))
        }
        out.raw("]")
        return Data(out.bytes)
    }

    /// The stored write_date of a record with microseconds ("YYYY-MM-DD HH:MM:SS.ffffff").
    public func preciseWriteDate(model: String, id: Int) -> String? {
        let state = core.snapshot()
        guard let table = state.tables[model], let record = table.record(id: id) else { return nil }
        let micros = table.writeDateMicros(record)
        return micros == .min ? nil : TimeUtil.formatDateTimeMicros(micros)
    }

    public func recordCount(model: String) -> Int {
        core.snapshot().tables[model]?.count ?? 0
    }

    // MARK: volume

    /// Adds `count` synthetic leads (reproducible for a given seed and fixture set).
    public func generateLeads(count: Int, seed: UInt64) {
        core.mutate { state in
            guard var generator = LeadGenerator(state: state, seed: seed) else { return }
            generator.generate(count: count, into: &state)
        }
    }

    /// Edits that fraction of all leads (revenue, priority, sometimes the stage), each with
    /// its own current write_date. Returns the ids touched.
    @discardableResult
    public func touchRandomLeads(fraction: Double, seed: UInt64) -> [Int] {
        let now = core.nowMicros()
        return core.mutate { state in
            guard var generator = LeadGenerator(state: state, seed: seed) else { return [] }
            return generator.touch(fraction: fraction, now: now, state: &state)
        }
    }
}

/// Why a direct data change was refused: the Odoo exception the server would have raised.
public struct OdooEmulatorError: Error, CustomStringConvertible, Sendable {
    public let name: String
    public let message: String
    public var description: String { "\(name): \(message)" }
}
