import ArgumentParser
import Foundation
import Logging
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror
import OdooSyncServe

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Receive Plane and Odoo webhooks, process them into the mirror, and answer status and sync requests.",
        discussion: """
            POST /webhooks/plane and /webhooks/odoo (or /?source=plane|odoo) take signed deliveries \
            (PLANE_WEBHOOK_SECRET, ODOO_WEBHOOK_SECRET); GET /?action=status and POST /?action=sync need \
            `Authorization: Bearer $ODOOSYNC_SERVE_TOKEN`. Each accepted delivery is committed to the mirror \
            before it is acknowledged, then processed once; with the Plane connection set (PLANE_API_URL, \
            PLANE_API_KEY, PLANE_WORKSPACE_SLUG) each sync run is also `odoosync sync`. SIGTERM or Ctrl-C stops it gracefully, giving the \
            work in flight ODOOSYNC_SERVE_SHUTDOWN_SECONDS (default 30); what is cut short is processed at the next start.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Address to listen on (default 127.0.0.1, or [serve] host).")
    var host: String?

    @Option(help: "Port to listen on (default 8787, or [serve] port; 0 picks a free one).")
    var port: Int?

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535.") }
        if let host, host.isEmpty { throw ValidationError("--host must not be empty.") }
    }

    func run() async throws {
        let env = try AppEnvironment(global)
        let settings = try env.serveSettings(host: host, port: port)
        let odoo = try env.odooSettings()
        let alerter = try env.alerter()
        if settings.planeWebhookSecret == nil && settings.odooWebhookSecret == nil {
            throw ConfigurationError("serve has no webhook secret, so it would refuse every delivery. Set PLANE_WEBHOOK_SECRET (the secret of the Plane webhook) and/or ODOO_WEBHOOK_SECRET, or `webhook_secret` under [plane] / [odoo] in odoosync.toml.")
        }
        let plane = try ServeCommand.planeSettings(env)
        let mirror = try env.openMirror()
        let logger = ServeCommand.logger(env)
        let trigger = PullPushSyncTrigger(env: env, settings: odoo, plane: plane, mirror: mirror)
        let server = ServeServer(
            settings: settings, mirror: mirror, odoo: odoo, trigger: trigger, alerter: alerter,
            statusDocument: { try StatusCommand.document(mirror) }, logger: logger, redact: { Redactor.shared.redact($0) })
        let listening = ListeningFlag()
        do {
            try await server.run { bound in
                listening.set()
                Output.print("odoosync serve listening on http://\(settings.host):\(bound)")
                for (source, secret) in [("Plane", settings.planeWebhookSecret), ("Odoo", settings.odooWebhookSecret)] where secret == nil {
                    Output.printError("warning: \(source) deliveries will be refused (401): no \(source.uppercased())_WEBHOOK_SECRET is set.")
                }
                if plane == nil, settings.planeWebhookSecret != nil {
                    Output.printError("warning: Plane deliveries will be stored but bring nothing across: no Plane connection is set (PLANE_API_URL, PLANE_API_KEY, PLANE_WORKSPACE_SLUG), so sync runs leave Plane out.")
                }
                if settings.token == nil {
                    Output.printError("warning: the status and sync endpoints are off: no ODOOSYNC_SERVE_TOKEN is set.")
                }
            }
        } catch {
            guard listening.isSet else { throw ServeStartError(host: settings.host, port: settings.port, detail: "\(error)") }
            throw error
        }
        Output.printError("odoosync serve stopped")
    }

    /// The Plane connection sync runs use, checked before the server listens: a setting given but
    /// wrong (a typo in the URL, a key without a workspace) stops serve with the fix, instead of
    /// every later run quietly leaving Plane out. No Plane setting at all means an Odoo-only server.
    static func planeSettings(_ env: AppEnvironment) throws -> PlaneSettings? {
        guard PlaneSettings.isGiven(environment: env.environment, file: env.configFile) else { return nil }
        return try env.planeSettings()
    }

    /// Request logs at info unless ODOOSYNC_LOG_LEVEL says otherwise: a server's log is its record.
    static func logger(_ env: AppEnvironment) -> Logger {
        let level = Logger.Level(rawValue: env.environment["ODOOSYNC_LOG_LEVEL"] ?? "") ?? .info
        var logger = Logger(label: "odoosync.serve") { label in RedactingLogHandler(label: label, logLevel: level) }
        logger.logLevel = level
        return logger
    }
}

/// What "one sync run" means for `serve`: the Odoo pull (CRM and project side) and the lead
/// push, then, when Plane is configured, the Plane ↔ Odoo sync (`odoosync sync`).
struct PullPushSyncTrigger: SyncTrigger {
    let env: AppEnvironment
    let settings: OdooSettings
    let plane: PlaneSettings?
    let mirror: Mirror

    func sync(reason: SyncReason) async throws -> SyncSummary {
        let pull = try await PullCommand.pull(env: env, settings: settings, mirror: mirror, full: false, progress: nil)
        let push = try await PushCommand.push(env: env, settings: settings, mirror: mirror, dryRun: false)
        var errors: [String] = []
        var failedRecords: [FailedRecord] = []
        for (model, stats) in pull.models where stats.errors > 0 {
            errors.append("pull: \(stats.errors) \(model) record(s) could not be stored")
            failedRecords += stats.failures.map { FailedRecord(source: .odoo, entity: model, recordID: String($0.id), reason: $0.reason) }
        }
        errors += push.errors.map { "push: \($0)" }
        let pullFailed = pull.models.reduce(0) { $0 + $1.stats.errors }
        let pulled = pull.models.reduce(0) { $0 + $1.stats.created + $1.stats.updated + $1.stats.archived + $1.stats.deleted }
        var details: [(String, JSONValue)] = [("reason", .string(reason.description)), ("pull", pull.json), ("push", push.json)]
        var processed = pulled + push.pushed
        var failed = pullFailed + push.failed
        var unread: [WebhookSource: String] = [:]
        // With Plane configured, one sync run also carries the Plane <-> Odoo side across.
        if let plane {
            let sync = try await SyncCommand.sync(env: env, odooSettings: settings, planeSettings: plane, mirror: mirror, full: false)
            processed += sync.written
            failed += sync.failed
            errors += sync.errors.map { "sync: \($0)" }
            details.append(("plane_sync", sync.json))
            // A project the Plane pull could not read may hold what a delivery announced.
            if sync.planePullFailed > 0 {
                unread[.plane] = "the Plane pull could not read \(sync.planePullFailed) project(s): \(sync.errors.first ?? "see the sync run's events")"
            }
        }
        return SyncSummary(processed: processed, failed: failed, errors: errors, details: .object(details), failedRecords: failedRecords,
                           unreadSources: unread)
    }
}

/// The server could not start listening (address in use, no permission, unknown host).
struct ServeStartError: UserFacingError {
    let host: String
    let port: Int
    let detail: String
    var exitStatus: ExitStatus { .usage }
    var description: String {
        "Cannot listen on \(host):\(port): \(detail). Choose another --port or --host, or stop whatever holds that address."
    }
}

private final class ListeningFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
