import ArgumentParser
import Foundation
import Logging
import OdooClient
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror
import PlaneClient

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The mirror file.", discussion: "Default: $ODOOSYNC_DB, else ./odoosync.sqlite.", valueName: "path"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("The settings file (default ./odoosync.toml when present).", valueName: "path"))
    var config: String?

    @Flag(name: .shortAndLong, help: "Log what happens (to stderr).")
    var verbose = false
}

/// The one place that reads the environment and the config file, opens the mirror and builds
/// the clients.
struct AppEnvironment {
    let dbOption: String?
    let environment: [String: String]
    let configFile: ConfigFile
    let logger: Logger

    init(_ options: GlobalOptions, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try self.init(db: options.db, config: options.config, verbose: options.verbose, environment: environment)
    }

    init(db: String?, config: String?, verbose: Bool, environment: [String: String]) throws {
        self.dbOption = db
        self.environment = environment
        if let path = config ?? environment["ODOOSYNC_CONFIG"] {
            configFile = try ConfigFile.load(path: path)
        } else if FileManager.default.fileExists(atPath: "odoosync.toml") {
            configFile = try ConfigFile.load(path: "odoosync.toml")
        } else {
            configFile = ConfigFile()
        }
        let level: Logger.Level = verbose ? .info : Logger.Level(rawValue: environment["ODOOSYNC_LOG_LEVEL"] ?? "") ?? .warning
        var logger = Logger(label: "odoosync") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        logger.logLevel = level
        self.logger = logger
        for secret in [environment["ODOO_API_KEY"], environment["ODOO_PASSWORD"], configFile["odoo.api_key"], configFile["odoo.password"],
                       environment["PLANE_API_KEY"], configFile["plane.api_key"],
                       environment["SUPABASE_DB_URL"], configFile["supabase.db_url"]] {
            if let secret { Redactor.shared.register(secret) }
        }
    }

    var databasePath: String {
        dbOption ?? environment["ODOOSYNC_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "odoosync.sqlite"
    }

    var busyTimeout: TimeInterval {
        environment["ODOOSYNC_BUSY_TIMEOUT"].flatMap(Double.init) ?? 10
    }

    /// Opens the mirror; `create` false for commands that only read.
    func openMirror(create: Bool = true) throws -> Mirror {
        try Mirror(path: databasePath, create: create, busyTimeout: busyTimeout)
    }

    /// Takes the run lock: two commands that change the mirror never interleave. With the lock
    /// held no pull can be filling the mirror, so an index a killed pull left deferred is built
    /// first (`Mirror.restoreDeferredIndexes`), whichever command comes next.
    func lockMirror(restoring mirror: Mirror? = nil) throws -> RunLock {
        let lock = try RunLock(path: databasePath, timeout: busyTimeout)
        try mirror?.restoreDeferredIndexes()
        return lock
    }

    /// What a command that talks to Odoo and changes the mirror needs, in the order that
    /// reports problems best: settings first (exit 2), then the mirror (exit 4).
    func prepareRemoteRun() throws -> (settings: OdooSettings, mirror: Mirror, lock: RunLock) {
        let settings = try odooSettings()
        let mirror = try openMirror()
        return (settings, mirror, try lockMirror(restoring: mirror))
    }

    /// Runs `body` as one `runs` row: success or failure, with an event when it fails.
    /// `system` is an ops.system_type value (Plane has none: its runs are "custom").
    func recordRun<T>(
        mirror: Mirror, job: String, system: String = "odoo", category: String = Mirror.crmCategory,
        _ body: (String) async throws -> (result: T, processed: Int, failed: Int, metadata: JSONValue)
    ) async throws -> T {
        let runID = try mirror.startRun(job: job, system: system)
        do {
            let outcome = try await body(runID)
            try mirror.finishRun(id: runID, status: outcome.failed > 0 ? "failed" : "success", processed: outcome.processed,
                                 failed: outcome.failed, metadata: outcome.metadata)
            return outcome.result
        } catch {
            let message = Redactor.shared.redact("\(error)")
            try? mirror.appendEvent(runID: runID, level: .error, category: category, type: "run_failed",
                                    message: "\(job) failed: \(message)", system: system)
            try? mirror.finishRun(id: runID, status: "failed", processed: 0, failed: 0, metadata: ["error": .string(message)])
            throw error
        }
    }

    func odooSettings() throws -> OdooSettings {
        try OdooSettings.resolve(environment: environment, file: configFile)
    }

    func odooClient() throws -> OdooClient {
        OdooClient(settings: try odooSettings(), logger: logger)
    }

    func planeSettings() throws -> PlaneSettings {
        try PlaneSettings.resolve(environment: environment, file: configFile)
    }

    /// What a command that talks to Plane and changes the mirror needs: settings (exit 2),
    /// then the mirror (exit 4), then the run lock.
    func preparePlaneRun() throws -> (settings: PlaneSettings, mirror: Mirror, lock: RunLock) {
        let settings = try planeSettings()
        let mirror = try openMirror()
        return (settings, mirror, try lockMirror(restoring: mirror))
    }

    func planeClient(_ settings: PlaneSettings, transport: any HTTPTransport = URLSessionTransport()) -> PlaneClient {
        PlaneClient(settings: settings, transport: transport, logger: logger)
    }
}

/// Masks secrets in anything printed, as a last line of defence.
final class Redactor: @unchecked Sendable {
    static let shared = Redactor()
    private let lock = NSLock()
    private var secrets: Set<String> = []

    func register(_ secret: String) {
        guard secret.count >= 4 else { return }
        lock.lock()
        secrets.insert(secret)
        lock.unlock()
    }

    func redact(_ text: String) -> String {
        lock.lock()
        let all = secrets
        lock.unlock()
        var out = text
        for secret in all where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: "***")
        }
        return out
    }
}
