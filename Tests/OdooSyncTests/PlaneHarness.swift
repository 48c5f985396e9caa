import Foundation
import GRDB
import Logging
import OdooSyncCore
import PlaneClient
import PlaneEmulator

/// A Plane emulator on a free loopback port for one test, a client for it, and the
/// environment the binary needs to reach it.
struct PlaneHarness {
    let plane: PlaneEmulator
    let port: Int
    let directory: URL

    static let fixtures = TestPaths.repoRoot.appendingPathComponent("fixtures/plane")
    static let samples = TestPaths.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/samples/plane")

    /// Rate limiting is off unless a test turns it on: most tests are about something else.
    static func start(_ configure: (inout PlaneEmulatorConfiguration) -> Void = { _ in }) async throws -> PlaneHarness {
        var configuration = PlaneEmulatorConfiguration(rateLimit: nil)
        configure(&configuration)
        let plane = try PlaneEmulator(fixtures: fixtures, configuration: configuration)
        let port = try await plane.start(host: "127.0.0.1", port: 0)
        return PlaneHarness(plane: plane, port: port, directory: try TestPaths.temporaryDirectory())
    }

    var url: URL { URL(string: "http://127.0.0.1:\(port)") ?? plane.baseURL }

    func settings(apiKey: String? = nil, slug: String? = nil, maxAttempts: Int = 5) -> PlaneSettings {
        PlaneSettings(url: url, apiKey: apiKey ?? plane.apiKey, workspaceSlug: slug ?? plane.workspaceSlug, timeout: 20,
                      maxAttempts: maxAttempts, retryBase: 0.01, maxRateLimitWait: 120)
    }

    func client(apiKey: String? = nil, slug: String? = nil, maxAttempts: Int = 5) -> PlaneClient {
        var logger = Logger(label: "plane-test")
        logger.logLevel = .critical
        return PlaneClient(settings: settings(apiKey: apiKey, slug: slug, maxAttempts: maxAttempts), logger: logger)
    }

    var web: String { plane.projectID(identifier: "WEB") ?? "" }
    var mob: String { plane.projectID(identifier: "MOB") ?? "" }

    var dbPath: String { directory.appendingPathComponent("odoosync.sqlite").path }

    func environment(extra: [String: String] = [:]) -> [String: String] {
        var env = ["PLANE_API_URL": url.absoluteString, "PLANE_API_KEY": plane.apiKey, "PLANE_WORKSPACE_SLUG": plane.workspaceSlug,
                   "ODOOSYNC_DB": dbPath]
        for (k, v) in extra { env[k] = v }
        return env
    }

    func run(_ arguments: [String], extra: [String: String] = [:]) async throws -> ProcessResult {
        try await CLI.run(arguments, environment: environment(extra: extra), in: directory)
    }

    func stop() async { await plane.stop() }

    func query<T>(_ body: (Database) throws -> T) throws -> T {
        var config = Configuration()
        config.readonly = true
        return try DatabaseQueue(path: dbPath, configuration: config).read(body)
    }

    /// Live issue snapshots of a project: plane id → data.
    func mirrorIssues(project: String? = nil) throws -> [String: JSONValue] {
        try query { db in
            var sql = "SELECT plane_id, data FROM plane_records WHERE kind = 'issue' AND deleted = 0"
            var arguments: StatementArguments = []
            if let project {
                sql += " AND project_id = ?"
                arguments = [project]
            }
            var out: [String: JSONValue] = [:]
            for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
                out[row[0]] = try JSONValue.parse(row[1] as String)
            }
            return out
        }
    }
}
