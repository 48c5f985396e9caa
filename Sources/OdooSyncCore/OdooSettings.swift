import Foundation

/// Which of Odoo's three external APIs to use.
public enum OdooProtocolChoice: String, Sendable, CaseIterable {
    /// JSON-2 when the server has it (Odoo 19+) and an API key is set, else JSON-RPC.
    case auto
    case json2
    case jsonrpc
    case session
}

/// Everything needed to talk to one Odoo database. Secrets stay in here and never reach
/// `description`.
public struct OdooSettings: Sendable, CustomStringConvertible {
    public var url: URL
    public var database: String
    public var username: String
    public var apiKey: String?
    public var password: String?
    public var protocolChoice: OdooProtocolChoice
    public var timeout: TimeInterval
    public var maxAttempts: Int
    public var retryBase: TimeInterval

    public init(url: URL, database: String, username: String, apiKey: String? = nil, password: String? = nil,
                protocolChoice: OdooProtocolChoice = .auto, timeout: TimeInterval = 60, maxAttempts: Int = 5,
                retryBase: TimeInterval = 0.5) {
        self.url = url
        self.database = database
        self.username = username
        self.apiKey = apiKey
        self.password = password
        self.protocolChoice = protocolChoice
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.retryBase = retryBase
    }

    public var description: String {
        "\(url.absoluteString) database \(database) as \(username)"
    }

    /// The secret values, so that output paths can make sure none of them leaks.
    public var secrets: [String] { [apiKey, password].compactMap { $0 }.filter { !$0.isEmpty } }

    /// Builds the settings from the environment (which wins) and the config file.
    public static func resolve(environment: [String: String], file: ConfigFile) throws -> OdooSettings {
        func value(_ env: String, _ key: String) -> String? {
            if let v = environment[env], !v.isEmpty { return v }
            if let v = file[key], !v.isEmpty { return v }
            return nil
        }
        guard let urlText = value("ODOO_URL", "odoo.url") else {
            throw ConfigurationError("No Odoo URL is set. Set ODOO_URL (for example https://mycompany.odoo.com) or `url` under [odoo] in odoosync.toml.")
        }
        let url = try parseServerURL(urlText, name: "ODOO_URL")
        guard let database = value("ODOO_DATABASE", "odoo.database") else {
            throw ConfigurationError("No Odoo database is set. Set ODOO_DATABASE or `database` under [odoo] in odoosync.toml.")
        }
        guard let username = value("ODOO_USERNAME", "odoo.username") else {
            throw ConfigurationError("No Odoo login is set. Set ODOO_USERNAME or `username` under [odoo] in odoosync.toml.")
        }
        let apiKey = value("ODOO_API_KEY", "odoo.api_key")
        let password = value("ODOO_PASSWORD", "odoo.password")
        if apiKey == nil && password == nil {
            throw ConfigurationError("Neither ODOO_API_KEY nor ODOO_PASSWORD is set. Create an API key in Odoo (Preferences → Account Security) and export it as ODOO_API_KEY.")
        }
        let protocolText = value("ODOO_PROTOCOL", "odoo.protocol") ?? "auto"
        guard let choice = OdooProtocolChoice(rawValue: protocolText.lowercased()) else {
            throw ConfigurationError("ODOO_PROTOCOL is `\(protocolText)`; it must be one of \(OdooProtocolChoice.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        if choice == .session && password == nil {
            throw ConfigurationError("ODOO_PROTOCOL=session needs ODOO_PASSWORD: Odoo's session login does not accept API keys.")
        }
        if choice == .json2 && apiKey == nil {
            throw ConfigurationError("ODOO_PROTOCOL=json2 needs ODOO_API_KEY: JSON-2 authenticates with a bearer API key only.")
        }
        func number(_ env: String, _ key: String, default fallback: Double) throws -> Double {
            guard let text = value(env, key) else { return fallback }
            guard let n = Double(text), n >= 0 else {
                throw ConfigurationError("\(env) is `\(text)`; it must be a non-negative number.")
            }
            return n
        }
        return OdooSettings(
            url: url, database: database, username: username, apiKey: apiKey, password: password,
            protocolChoice: choice,
            timeout: try number("ODOOSYNC_TIMEOUT", "odoo.timeout", default: 60),
            maxAttempts: max(1, Int(try number("ODOOSYNC_RETRIES", "odoo.retries", default: 5))),
            retryBase: try number("ODOOSYNC_RETRY_BASE_MS", "odoo.retry_base_ms", default: 500) / 1000)
    }

    /// Checks a server URL and says exactly what is wrong with it.
    public static func parseServerURL(_ text: String, name: String) throws -> URL {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
              let url = components.url
        else {
            throw ConfigurationError("\(name) `\(redactingUserInfo(trimmed))` is not a valid server URL. Use the form https://host[:port], for example https://mycompany.odoo.com.")
        }
        if components.user != nil || components.password != nil {
            throw ConfigurationError("\(name) must not carry a user or password; set them with ODOO_USERNAME and ODOO_API_KEY instead.")
        }
        return url
    }

    private static func redactingUserInfo(_ text: String) -> String {
        guard let at = text.firstIndex(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound < at else { return text }
        return text[..<scheme.upperBound] + "***" + text[at...]
    }
}
