import Foundation
import Hummingbird
import Logging
import OdooClient
import OdooSyncCore
import OdooSyncMirror
import ServiceLifecycle

/// `odoosync serve`: the HTTP receiver and its delivery worker, run as one service group.
///
/// SIGTERM and SIGINT shut it down gracefully, in order: the server stops accepting and
/// finishes the requests in flight (each acknowledged delivery is already committed), then
/// the worker finishes its batch, all within `shutdownSeconds` (see `ShutdownDeadline`).
/// Deliveries stored but not yet processed wait in the mirror for the next start.
public struct ServeServer: Sendable {
    public let settings: ServeSettings
    public let mirror: Mirror
    public let odoo: OdooSettings
    public let trigger: any SyncTrigger
    public let alerter: Alerter
    public let statusDocument: @Sendable () async throws -> JSONValue
    public let logger: Logger
    public let redact: @Sendable (String) -> String

    public init(settings: ServeSettings, mirror: Mirror, odoo: OdooSettings, trigger: any SyncTrigger, alerter: Alerter,
                statusDocument: @escaping @Sendable () async throws -> JSONValue, logger: Logger,
                redact: @escaping @Sendable (String) -> String) {
        self.settings = settings
        self.mirror = mirror
        self.odoo = odoo
        self.trigger = trigger
        self.alerter = alerter
        self.statusDocument = statusDocument
        self.logger = logger
        self.redact = redact
    }

    /// Runs until SIGTERM or SIGINT. `listening` is called with the bound port (useful with
    /// port 0) once connections are accepted.
    public func run(listening: @escaping @Sendable (Int) async -> Void) async throws {
        try Checkpointer.disableAutomatic(on: mirror)
        let checkpointer = Checkpointer(path: mirror.path, busyTimeout: mirror.busyTimeout, logger: logger)
        let gate = try RunGate(path: mirror.path)
        let client = OdooClient(settings: odoo, logger: logger)
        let wakeup = Wakeup()
        let intake = try DeliveryIntake(mirror: mirror) { wakeup.signal() }
        let worker = DeliveryWorker(mirror: mirror, intake: intake, wakeup: wakeup, settings: settings, trigger: trigger,
                                    client: client, gate: gate, alerter: alerter, logger: logger, redact: redact)
        let responder = ServeResponder(settings: settings, intake: intake, gate: gate, trigger: trigger,
                                       alerts: AlertThrottle(alerter: alerter), mirror: mirror, statusDocument: statusDocument,
                                       logger: logger, redact: redact)
        // Hummingbird's own chatter (connection errors and the like) only at warning and above.
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let port = settings.port
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: port), serverName: "odoosync",
                                                    backlog: 1024),
            onServerRunning: { channel in await listening(channel.localAddress?.port ?? port) },
            logger: serverLogger)
        let deadline = ShutdownDeadline(seconds: settings.shutdownSeconds, logger: logger)
        // Shutdown runs in reverse order: the deadline is armed, the server stops, then the
        // worker, then the checkpoints.
        var configuration = ServiceGroupConfiguration(
            services: [checkpointer, worker, app, deadline], gracefulShutdownSignals: [.sigterm, .sigint], logger: serverLogger)
        configuration.maximumGracefulShutdownDuration = .milliseconds(Int64(settings.shutdownSeconds * 1000))
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch is CancellationError where deadline.hasBegun {
            // The shutdown's time ran out and the work under way was cancelled, as it should be.
        }
    }
}
