import Foundation
import OdooSyncCore

/// What `serve` needs besides the Odoo connection: where to listen, the secrets that verify
/// deliveries and guard the status and sync endpoints, and how to retry. Secrets stay in here
/// and never reach `description`.
public struct ServeSettings: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var planeWebhookSecret: String?
    public var odooWebhookSecret: String?
    /// Bearer token for `GET /?action=status` and `POST /?action=sync`; both refuse every
    /// request when it is not set.
    public var token: String?
    /// Bodies over this are refused with 413 (1 MiB).
    public var maxBodyBytes: Int
    /// Seconds before the first retry of a delivery whose processing failed; doubles each time.
    public var retryBase: TimeInterval
    /// Attempts before a delivery is marked failed.
    public var maxAttempts: Int
    /// Lead deliveries the worker settles with one targeted pull.
    public var batchLimit: Int
    /// Seconds a sync request or a batch waits for another odoosync process's run.
    public var busyTimeout: TimeInterval
    /// Seconds between the end of one sync run for deliveries and the start of the next. A
    /// sync run reads both remotes, and Plane allows 60 requests a minute per key: runs every
    /// few seconds, each settling all the deliveries that arrived meanwhile, stay within it.
    public var syncInterval: TimeInterval
    /// Seconds between targeted pulls for lead deliveries (a burst about one lead is one pull).
    public var leadInterval: TimeInterval = 0.25
    /// Days a processed delivery is remembered (for de-duplication) before it is deleted.
    public var keepDays: Double
    /// Seconds SIGTERM or SIGINT waits for the requests and the batch in flight. Then the work
    /// still under way is cancelled, and a few seconds later the process exits regardless;
    /// deliveries not processed stay stored for the next start.
    public var shutdownSeconds: TimeInterval = 30
    /// Seconds a delivery that cannot be stored because another process holds the mirror's
    /// write lock is retried within its request before it is answered 503 (other failures are
    /// answered at once). Plane retries a request
    /// that timed out (after 30 s) but never one answered with an error status, so the default
    /// outlasts Plane's timeout: the delivery is either stored or sent again later.
    public var storeWaitSeconds: TimeInterval = 35

    public static let defaultPort = 8787

    public init(host: String = "127.0.0.1", port: Int = ServeSettings.defaultPort, planeWebhookSecret: String? = nil,
                odooWebhookSecret: String? = nil, token: String? = nil, maxBodyBytes: Int = 1 << 20, retryBase: TimeInterval = 30,
                maxAttempts: Int = 5, batchLimit: Int = 1000, busyTimeout: TimeInterval = 10, keepDays: Double = 30,
                syncInterval: TimeInterval = 5) {
        self.host = host
        self.port = port
        self.planeWebhookSecret = planeWebhookSecret
        self.odooWebhookSecret = odooWebhookSecret
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.retryBase = retryBase
        self.maxAttempts = maxAttempts
        self.batchLimit = batchLimit
        self.busyTimeout = busyTimeout
        self.keepDays = keepDays
        self.syncInterval = syncInterval
    }

    public var description: String {
        "http://\(host):\(port) (plane deliveries \(planeWebhookSecret == nil ? "off" : "on"), odoo deliveries \(odooWebhookSecret == nil ? "off" : "on"), status/sync \(token == nil ? "off" : "on"))"
    }

    /// The secret values, so that output paths can make sure none of them leaks.
    public var secrets: [String] { [planeWebhookSecret, odooWebhookSecret, token].compactMap { $0 } }

    /// Builds the settings from the environment (which wins) and the config file; `host` and
    /// `port` given on the command line win over both.
    public static func resolve(environment: [String: String], file: ConfigFile, host: String?, port: Int?,
                               busyTimeout: TimeInterval) throws -> ServeSettings {
        func value(_ env: String, _ keys: String...) -> String? {
            if let v = environment[env], !v.isEmpty { return v }
            for key in keys { if let v = file[key], !v.isEmpty { return v } }
            return nil
        }
        var settings = ServeSettings(busyTimeout: busyTimeout)
        settings.host = host ?? value("ODOOSYNC_SERVE_HOST", "serve.host") ?? settings.host
        if let port {
            settings.port = port
        } else if let text = value("ODOOSYNC_SERVE_PORT", "serve.port") {
            guard let n = Int(text), (0...65535).contains(n) else {
                throw ConfigurationError("The serve port is `\(text)`; it must be a number from 0 to 65535 (ODOOSYNC_SERVE_PORT or `port` under [serve]).")
            }
            settings.port = n
        }
        settings.planeWebhookSecret = value("PLANE_WEBHOOK_SECRET", "plane.webhook_secret", "serve.plane_webhook_secret")
        settings.odooWebhookSecret = value("ODOO_WEBHOOK_SECRET", "odoo.webhook_secret", "serve.odoo_webhook_secret")
        settings.token = value("ODOOSYNC_SERVE_TOKEN", "serve.token")
        if let token = settings.token, token.count < 16 {
            throw ConfigurationError("The serve token is \(token.count) characters long; use at least 16 random characters (for example `openssl rand -hex 32`) in ODOOSYNC_SERVE_TOKEN or `token` under [serve].")
        }
        func number(_ env: String, _ key: String, default fallback: Double, minimum: Double) throws -> Double {
            guard let text = value(env, key) else { return fallback }
            guard let n = Double(text), n >= minimum else {
                throw ConfigurationError("\(env) is `\(text)`; it must be a number of at least \(JSONValue.format(minimum)).")
            }
            return n
        }
        settings.retryBase = try number("ODOOSYNC_SERVE_RETRY_SECONDS", "serve.retry_seconds", default: 30, minimum: 0)
        settings.maxAttempts = Int(try number("ODOOSYNC_SERVE_ATTEMPTS", "serve.attempts", default: 5, minimum: 1))
        settings.syncInterval = try number("ODOOSYNC_SERVE_SYNC_INTERVAL", "serve.sync_interval", default: 5, minimum: 0)
        settings.keepDays = try number("ODOOSYNC_SERVE_KEEP_DAYS", "serve.keep_days", default: 30, minimum: 1)
        settings.shutdownSeconds = try number("ODOOSYNC_SERVE_SHUTDOWN_SECONDS", "serve.shutdown_seconds", default: 30, minimum: 0)
        settings.storeWaitSeconds = try number("ODOOSYNC_SERVE_STORE_WAIT_SECONDS", "serve.store_wait_seconds", default: 35, minimum: 0)
        return settings
    }

    /// The Slack-compatible incoming-webhook URL for alerts, if one is set. It is a secret.
    public static func alertURL(environment: [String: String], file: ConfigFile) throws -> URL? {
        let text = environment["ODOOSYNC_ALERT_WEBHOOK_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? file["alerts.slack_webhook_url"]
        guard let text, !text.isEmpty else { return nil }
        guard let components = URLComponents(string: text.trimmingCharacters(in: .whitespaces)),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty, let url = components.url
        else {
            // The value itself is never echoed: it carries the webhook's token.
            throw ConfigurationError("The alert webhook URL (ODOOSYNC_ALERT_WEBHOOK_URL or `slack_webhook_url` under [alerts]) is not an http(s) URL. Copy it again from the Slack app's Incoming Webhooks page.")
        }
        return url
    }
}
