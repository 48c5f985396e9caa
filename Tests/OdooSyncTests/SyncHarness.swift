import Foundation
import GRDB
@testable import OdooEmulator
import OdooSyncCore
@testable import PlaneEmulator

/// Both emulators on free loopback ports, one mirror, and the environment `odoosync sync` needs.
struct SyncHarness {
    let odoo: EmulatorHarness
    let plane: PlaneEmulator
    let planePort: Int

    static let planeFixtures = TestPaths.repoRoot.appendingPathComponent("fixtures/plane")

    /// `odooFixtures`: another copy of the Odoo fixtures (`editedOdooFixtures`), for a server
    /// set up differently; `configure` sets the emulator up (its version, say).
    static func start(rateLimit: Int? = nil, window: Int = 1, odooFixtures: URL = TestPaths.fixtures,
                      _ configure: (inout OdooEmulatorConfiguration) -> Void = { _ in }) async throws -> SyncHarness {
        let odoo = try await EmulatorHarness.start(fixtures: odooFixtures, configure)
        let plane = try PlaneEmulator(fixtures: planeFixtures)
        plane.setRateLimit(rateLimit, window: window)
        let port = try await plane.start()
        return SyncHarness(odoo: odoo, plane: plane, planePort: port)
    }

    /// A copy of the Odoo fixtures with `edit` applied to the JSON of each named file (a record
    /// array, or the `fields/` object).
    static func editedOdooFixtures(_ edits: [String: (EmulatorJSON) -> EmulatorJSON]) throws -> URL {
        let copy = try TestPaths.temporaryDirectory().appendingPathComponent("odoo")
        try FileManager.default.copyItem(at: TestPaths.fixtures, to: copy)
        for (file, edit) in edits {
            let url = copy.appendingPathComponent(file)
            try edit(try EmulatorJSON.parse(Data(contentsOf: url))).serializedData.write(to: url)
        }
        return copy
    }

    /// `record` with `key` set (added at the end when it is new).
    static func setting(_ key: String, _ value: EmulatorJSON, in record: EmulatorJSON) -> EmulatorJSON {
        guard case .object(var pairs) = record else { return record }
        if let index = pairs.firstIndex(where: { $0.0 == key }) { pairs[index].1 = value } else { pairs.append((key, value)) }
        return .object(pairs)
    }

    func stop() async {
        await odoo.stop()
        await plane.stop()
    }

    var directory: URL { odoo.directory }

    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = odoo.environment(extra: [
            "PLANE_API_URL": "http://127.0.0.1:\(planePort)", "PLANE_API_KEY": plane.apiKey,
            "PLANE_WORKSPACE_SLUG": plane.workspaceSlug, "PLANE_VISIBILITY_PROJECT": "WEB",
        ])
        for (k, v) in extra { env[k] = v }
        return env
    }

    func run(_ arguments: [String], _ extra: [String: String] = [:]) async throws -> ProcessResult {
        try await CLI.run(arguments, environment: environment(extra), in: directory)
    }

    /// `sync --json`; the report, or the failure with its output.
    @discardableResult
    func sync(_ extra: [String: String] = [:], expectStatus: Int32 = 0) async throws -> JSONValue {
        let result = try await run(["sync", "--json"], extra)
        guard result.status == expectStatus else {
            throw HarnessError("sync exited \(result.status), expected \(expectStatus): \(result.output)")
        }
        return (try? JSONValue.parse(result.stdout)) ?? .null
    }

    func query<T>(_ body: (Database) throws -> T) throws -> T { try odoo.query(body) }

    // MARK: the two sides, as their servers hold them

    /// Every live Plane issue of every project.
    func planeIssues() -> [JSONValue] {
        plane.projects().flatMap { plane.issues(projectID: $0.id) }
    }

    func planeIssue(_ id: String) -> JSONValue? { plane.issue(id: id) }

    /// Odoo records of a model in read form ([id, name] pairs for many2one).
    func odooRecords(_ model: String) throws -> [[String: Any]] {
        (try JSONSerialization.jsonObject(with: odoo.emulator.recordsJSON(model: model)) as? [[String: Any]]) ?? []
    }

    func odooRecord(_ model: String, _ id: Int) throws -> [String: Any]? {
        try odooRecords(model).first { $0["id"] as? Int == id }
    }

    /// (plane id, odoo id) of the live pairs of an entity.
    func pairs(_ entity: String) throws -> [(plane: String, odoo: Int)] {
        try query { db in
            try Row.fetchAll(db, sql: """
                SELECT p.plane_id, p.odoo_id FROM sync_pairs p JOIN sync_mappings m ON m.id = p.mapping_id
                WHERE p.entity = ? AND m.status = 'active' ORDER BY p.odoo_id
                """, arguments: [entity]).map { ($0[0], $0[1]) }
        }
    }

    /// A paired issue and task in a project that existed on both sides before the first sync.
    func somePair(_ index: Int = 0) throws -> (plane: String, odoo: Int) {
        let pairs = try pairs("issue:project.task")
        guard pairs.count > index else { throw HarnessError("only \(pairs.count) pairs") }
        return pairs[index]
    }

    static func many2oneID(_ value: Any?) -> Int? {
        if let id = value as? Int { return id }
        if let pair = value as? [Any] { return pair.first as? Int }
        return nil
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
