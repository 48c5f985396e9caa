import Foundation
import Logging
import OdooSyncCore
import OdooSyncServe

/// The settings only `serve` and alerting read, each secret registered with the redactor as
/// soon as it is known.
extension AppEnvironment {
    func serveSettings(host: String?, port: Int?) throws -> ServeSettings {
        let settings = try ServeSettings.resolve(environment: environment, file: configFile, host: host, port: port,
                                                 busyTimeout: busyTimeout)
        for secret in settings.secrets { Redactor.shared.register(secret) }
        return settings
    }

    /// The alerter for runs that end with errors; a malformed URL is a configuration error.
    func alerter() throws -> Alerter {
        for raw in [environment["ODOOSYNC_ALERT_WEBHOOK_URL"], configFile["alerts.slack_webhook_url"]] {
            if let raw, !raw.isEmpty { Redactor.shared.register(raw.trimmingCharacters(in: .whitespaces)) }
        }
        let url = try ServeSettings.alertURL(environment: environment, file: configFile)
        if let url { Redactor.shared.register(url.absoluteString) }
        return Alerter(url: url, logger: logger, redact: { Redactor.shared.redact($0) })
    }

    /// For commands whose work must not depend on alerting: a bad URL is a warning, and no alert.
    func alerterIfUsable() -> Alerter? {
        do {
            return try alerter()
        } catch {
            Output.printError("warning: no alert will be sent: \(error)")
            return nil
        }
    }
}

/// A log line per message on stderr, passed through the redactor: request logs of a
/// long-running server are where a secret would otherwise slip out.
struct RedactingLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        let rendered = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let line = "\(Timestamp.iso(Date())) \(event.level) \(event.message)\(rendered.isEmpty ? "" : " " + rendered)"
        Output.printError(line)
    }
}
