import Foundation

/// Everything needed to talk to one Plane workspace. The API key stays in here and never
/// reaches `description`.
public struct PlaneSettings: Sendable, CustomStringConvertible {
    /// The server, without `/api/v1` (the client adds it).
    public var url: URL
    public var apiKey: String
    public var workspaceSlug: String
    /// `PLANE_PROJECTS`: project identifiers (`WEB`) or ids; empty means every project the key sees.
    public var projects: [String]
    public var timeout: TimeInterval
    public var maxAttempts: Int
    public var retryBase: TimeInterval
    /// How long one request may wait out Plane's rate limit before the run gives up.
    public var maxRateLimitWait: TimeInterval

    public init(url: URL, apiKey: String, workspaceSlug: String, projects: [String] = [], timeout: TimeInterval = 60,
                maxAttempts: Int = 5, retryBase: TimeInterval = 0.5, maxRateLimitWait: TimeInterval = 900) {
        self.url = url
        self.apiKey = apiKey
        self.workspaceSlug = workspaceSlug
        self.projects = projects
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.retryBase = retryBase
        self.maxRateLimitWait = maxRateLimitWait
    }

    public var description: String { "\(url.absoluteString) workspace \(workspaceSlug)" }

    public var secrets: [String] { apiKey.isEmpty ? [] : [apiKey] }

    /// The connection settings `resolve` requires: (environment variable, config key).
    static let connection = [("PLANE_API_URL", "plane.url"), ("PLANE_API_KEY", "plane.api_key"),
                             ("PLANE_WORKSPACE_SLUG", "plane.workspace_slug")]

    /// Whether any connection setting is given: a command for which Plane is optional treats
    /// none as "no Plane", and some as a connection that `resolve` must accept.
    public static func isGiven(environment: [String: String], file: ConfigFile) -> Bool {
        connection.contains { env, key in !(environment[env] ?? "").isEmpty || !(file[key] ?? "").isEmpty }
    }

    /// Builds the settings from the environment (which wins) and the config file's `[plane]`.
    public static func resolve(environment: [String: String], file: ConfigFile) throws -> PlaneSettings {
        func value(_ env: String, _ key: String) -> String? {
            if let v = environment[env], !v.isEmpty { return v }
            if let v = file[key], !v.isEmpty { return v }
            return nil
        }
        guard let urlText = value("PLANE_API_URL", "plane.url") else {
            throw ConfigurationError("No Plane URL is set. Set PLANE_API_URL (for example https://plane.example.com or https://api.plane.so) or `url` under [plane] in odoosync.toml.")
        }
        let url = try parseURL(urlText)
        guard let apiKey = value("PLANE_API_KEY", "plane.api_key") else {
            throw ConfigurationError("No Plane API key is set. Create one in Plane (Profile settings → Personal access tokens) and export it as PLANE_API_KEY, or set `api_key` under [plane] in a private odoosync.toml.")
        }
        guard let slug = value("PLANE_WORKSPACE_SLUG", "plane.workspace_slug") else {
            throw ConfigurationError("No Plane workspace is set. Set PLANE_WORKSPACE_SLUG to the workspace's slug (the part after the host in Plane's URLs, e.g. `acme` in https://plane.example.com/acme/).")
        }
        guard slug.range(of: "^[A-Za-z0-9][A-Za-z0-9_-]*$", options: .regularExpression) != nil else {
            throw ConfigurationError("PLANE_WORKSPACE_SLUG `\(slug)` is not a workspace slug: use the letters, digits, - and _ that appear in Plane's URLs.")
        }
        let projects = (value("PLANE_PROJECTS", "plane.projects") ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        func number(_ env: String?, _ key: String, default fallback: Double) throws -> Double {
            let text = env.flatMap { environment[$0].flatMap { $0.isEmpty ? nil : $0 } } ?? file[key]
            guard let text, !text.isEmpty else { return fallback }
            guard let n = Double(text), n >= 0 else {
                throw ConfigurationError("\(env ?? key) is `\(text)`; it must be a non-negative number.")
            }
            return n
        }
        return PlaneSettings(
            url: url, apiKey: apiKey, workspaceSlug: slug, projects: projects,
            timeout: try number("ODOOSYNC_TIMEOUT", "plane.timeout", default: 60),
            maxAttempts: max(1, Int(try number("ODOOSYNC_RETRIES", "plane.retries", default: 5))),
            retryBase: try number("ODOOSYNC_RETRY_BASE_MS", "plane.retry_base_ms", default: 500) / 1000,
            maxRateLimitWait: try number(nil, "plane.max_rate_limit_wait", default: 900))
    }

    /// Accepts the server with or without the `/api/v1` suffix users copy from Plane's docs.
    static func parseURL(_ text: String) throws -> URL {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        for suffix in ["/api/v1", "/api"] where trimmed.hasSuffix(suffix) {
            trimmed.removeLast(suffix.count)
        }
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty, let url = components.url
        else {
            throw ConfigurationError("PLANE_API_URL `\(trimmed)` is not a valid server URL. Use the form https://host[:port], for example https://plane.example.com.")
        }
        if components.user != nil || components.password != nil {
            throw ConfigurationError("PLANE_API_URL must not carry a user or password; Plane authenticates with PLANE_API_KEY.")
        }
        return url
    }
}
