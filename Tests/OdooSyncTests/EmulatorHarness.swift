import Foundation
import GRDB
@testable import OdooEmulator

/// An emulator on a free loopback port for one test, and the environment the binary needs to
/// reach it.
struct EmulatorHarness {
    let emulator: OdooEmulator
    let port: Int
    let directory: URL

    static let apiKey = "demo-api-key"

    static func start(fixtures: URL = TestPaths.fixtures, _ configure: (inout OdooEmulatorConfiguration) -> Void = { _ in })
        async throws -> EmulatorHarness
    {
        var configuration = OdooEmulatorConfiguration()
        configure(&configuration)
        let emulator = try OdooEmulator(fixtures: fixtures, configuration: configuration)
        let port = try await emulator.start(host: "127.0.0.1", port: 0)
        return EmulatorHarness(emulator: emulator, port: port, directory: try TestPaths.temporaryDirectory())
    }

    var dbPath: String { directory.appendingPathComponent("odoosync.sqlite").path }

    func environment(protocol choice: String = "auto", apiKey: String? = EmulatorHarness.apiKey, password: String? = nil,
                     extra: [String: String] = [:]) -> [String: String] {
        var env = ["ODOO_URL": "http://127.0.0.1:\(port)", "ODOO_DATABASE": "odoosync_demo", "ODOO_USERNAME": "admin",
                   "ODOO_PROTOCOL": choice, "ODOOSYNC_DB": dbPath]
        if let apiKey { env["ODOO_API_KEY"] = apiKey }
        if let password { env["ODOO_PASSWORD"] = password }
        for (k, v) in extra { env[k] = v }
        return env
    }

    func run(_ arguments: [String], protocol choice: String = "auto", apiKey: String? = EmulatorHarness.apiKey,
             password: String? = nil, extra: [String: String] = [:]) async throws -> ProcessResult {
        try await CLI.run(arguments, environment: environment(protocol: choice, apiKey: apiKey, password: password, extra: extra),
                    in: directory)
    }

    func stop() async { await emulator.stop() }

    /// The mirror as a plain read-only connection, the way any SQLite tool would see it.
    func mirror() throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        return try DatabaseQueue(path: dbPath, configuration: config)
    }

    /// Reads the mirror synchronously (GRDB's async `read` would otherwise be picked in tests).
    func query<T>(_ body: (Database) throws -> T) throws -> T {
        try mirror().read(body)
    }

    /// The emulator's copy of one record, in read form.
    func emulatorRecord(_ model: String, _ id: Int) throws -> [String: Any]? {
        let rows = try JSONSerialization.jsonObject(with: emulator.recordsJSON(model: model)) as? [[String: Any]]
        return rows?.first { $0["id"] as? Int == id }
    }

    /// (odoo id, write_date, active) of every lead the emulator holds, archived ones included.
    func emulatorLeads() throws -> [Int: (String, Bool)] {
        let data = emulator.recordsJSON(model: "crm.lead")
        guard let rows = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { return [:] }
        var out: [Int: (String, Bool)] = [:]
        for row in rows {
            guard let id = row["id"] as? Int else { continue }
            out[id] = ((row["write_date"] as? String) ?? "", (row["active"] as? Bool) ?? true)
        }
        return out
    }

    /// (odoo id, write_date, active) of every lead snapshot in the mirror.
    func mirrorLeads() throws -> [Int: (String, Bool)] {
        try query { db in
            var out: [Int: (String, Bool)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT odoo_id, write_date, active FROM odoo_records WHERE model = 'crm.lead' AND deleted = 0") {
                out[row[0]] = (row[1], row[2])
            }
            return out
        }
    }
}
