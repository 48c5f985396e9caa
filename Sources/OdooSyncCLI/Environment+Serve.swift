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
        let line = "\(RedactingLogHandler.timestamp()) \(event.level) \(event.message)\(rendered.isEmpty ? "" : " " + rendered)"
        Output.printError(line)
    }

    /// The same text as `Timestamp.iso(Date())`, built without String(format:), which showed
    /// up in profiles of a server logging thousands of requests a second.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
