import Foundation
import Logging
import OdooClient
import OdooSyncCore
import OdooSyncMirror

/// Posts a short summary to a Slack-compatible incoming webhook when a run ends with errors.
///
/// An alert is a courtesy, never part of the run: whatever goes wrong here is logged (and kept
/// as an `events` row when a mirror is at hand) and swallowed. The URL is a secret (Slack's
/// carry their token in the path), so no message ever names it.
public struct Alerter: Sendable {
    public let url: URL?
    private let transport: any HTTPTransport
    private let logger: Logger
    private let redact: @Sendable (String) -> String
    private let timeout: TimeInterval
    private let host: String

    public init(url: URL?, logger: Logger, transport: any HTTPTransport = URLSessionTransport(), timeout: TimeInterval = 10,
                redact: @escaping @Sendable (String) -> String = { $0 }) {
        self.url = url
        self.transport = transport
        self.logger = logger
        self.timeout = timeout
        self.host = Alerter.hostName()
        let urlText = url?.absoluteString
        // The URL is scrubbed here as well as by the caller's redactor, so that no path can leak it.
        self.redact = { text in
            let scrubbed = redact(text)
            guard let urlText, !urlText.isEmpty else { return scrubbed }
            return scrubbed.replacingOccurrences(of: urlText, with: "***")
        }
    }

    /// gethostname(2) directly: Foundation's hostName may wait on a DNS lookup.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(cString: buffer)
    }

    /// The alert's text: what ran, how many errors, the first few of them.
    public func text(job: String, failed: Int, errors: [String]) -> String {
        var lines = ["odoosync on \(host): `\(job)` ended with \(failed) error\(failed == 1 ? "" : "s")."]
        for error in errors.prefix(5) {
            let line = error.replacingOccurrences(of: "\n", with: " ")
            lines.append("• " + (line.count > 300 ? String(line.prefix(299)) + "…" : line))
        }
        if errors.count > 5 { lines.append("…and \(errors.count - 5) more; see `odoosync status`.") }
        return redact(lines.joined(separator: "\n"))
    }

    /// Sends the alert when a URL is configured; returns whether it was delivered.
    @discardableResult
    public func runEndedWithErrors(job: String, failed: Int, errors: [String], mirror: Mirror?) async -> Bool {
        guard let url else { return false }
        let text = self.text(job: job, failed: max(failed, 1), errors: errors)
        let body = JSONValue.object([("text", .string(text))]).data
        let problem: String?
        do {
            let response = try await transport.post(url, headers: ["Content-Type": "application/json"], body: body, timeout: timeout)
            problem = (200..<300).contains(response.status) ? nil : "the alert webhook answered HTTP \(response.status)"
        } catch {
            problem = "the alert webhook could not be reached: \(redact("\(error)"))"
        }
        if let problem {
            logger.warning("alert not delivered", metadata: ["alert.job": "\(job)", "alert.problem": "\(problem)"])
            try? mirror?.appendEvent(runID: nil, level: .warn, type: "alert_failed",
                                     message: "The alert for `\(job)` was not delivered: \(problem). Check ODOOSYNC_ALERT_WEBHOOK_URL.",
                                     metadata: ["job": .string(job)])
            return false
        }
        logger.info("alert delivered", metadata: ["alert.job": "\(job)"])
        try? mirror?.appendEvent(runID: nil, level: .info, type: "alert_sent", message: "Alert posted for `\(job)` (\(failed) error(s)).",
                                 metadata: ["job": .string(job), "failed": .int(failed)])
        return true
    }
}
