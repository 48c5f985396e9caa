import Foundation
import OdooSyncCore

/// The database `export` writes to, read from `SUPABASE_DB_URL`: a libpq connection URI,
/// `postgresql://user:password@host:port/database?sslmode=require`.
///
/// The password stays in here: `description` and every error name the host, port, database
/// and user only.
public struct PostgresTarget: Sendable, CustomStringConvertible {
    /// libpq's `sslmode`, with libpq's meaning for each value.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"

        /// TLS or nothing: a server without it is refused.
        public var requiresTLS: Bool { self == .require || self == .verifyCA || self == .verifyFull }
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// A CA bundle for verify-ca / verify-full; the system's trust roots when nil.
    public var sslRootCert: String?
    public var connectTimeout: TimeInterval
    public var applicationName: String

    public init(host: String, port: Int = 5432, user: String, password: String?, database: String,
                sslMode: SSLMode = .prefer, sslRootCert: String? = nil, connectTimeout: TimeInterval = 10,
                applicationName: String = "odoosync") {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
        self.sslRootCert = sslRootCert
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
    }

    /// `host:port` as a person would type it (IPv6 in brackets).
    public var hostPort: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String { "\(hostPort)/\(database) as \(user)" }

    /// Parses a `postgresql://` (or `postgres://`) URI. Percent-escapes are decoded in the user,
    /// password and database; the query may carry `sslmode`, `sslrootcert`, `connect_timeout`
    /// and `application_name` (other libpq parameters are accepted and ignored).
    public static func parse(_ text: String, name: String = "SUPABASE_DB_URL") throws -> PostgresTarget {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        func invalid(_ reason: String) -> ConfigurationError {
            ConfigurationError("\(name) `\(redacted(trimmed))` is not a PostgreSQL connection URI: \(reason). Use the form postgresql://user:password@host:5432/postgres?sslmode=require (percent-encode special characters in the password).")
        }
        var rest: Substring
        if let r = trimmed.range(of: "://"), ["postgresql", "postgres"].contains(trimmed[..<r.lowerBound].lowercased()) {
            rest = trimmed[r.upperBound...]
        } else {
            throw invalid("it must start with postgresql://")
        }
        // The user info ends at the last "@" before the query: an unescaped "@" in a password is
        // common enough to allow.
        var user: String?
        var password: String?
        if let at = rest[..<(rest.firstIndex(of: "?") ?? rest.endIndex)].lastIndex(of: "@") {
            let info = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = info.firstIndex(of: ":") {
                user = try decode(info[..<colon], invalid: invalid)
                password = try decode(info[info.index(after: colon)...], invalid: invalid)
            } else {
                user = try decode(info, invalid: invalid)
            }
        }
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var databasePart: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            databasePart = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var host: String
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("the IPv6 address lacks its closing ]") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw invalid("unexpected text after the host") }
        } else if let colon = rest.firstIndex(of: ":") {
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        } else {
            host = String(rest)
        }
        host = try decode(Substring(host), invalid: invalid)
        guard !host.isEmpty else { throw invalid("it names no host") }
        guard !host.contains(",") else { throw invalid("several hosts are not supported; name one") }
        var port = 5432
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw invalid("the port must be a number from 1 to 65535") }
            port = p
        }
        guard let user, !user.isEmpty else { throw invalid("it names no user (postgresql://user:password@host/...)") }
        var target = PostgresTarget(host: host, port: port, user: user, password: password,
                                    database: databasePart.isEmpty ? user : try decode(databasePart, invalid: invalid))
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try decode(parts[0], invalid: invalid)
            let value = parts.count > 1 ? try decode(parts[1], invalid: invalid) : ""
            switch key {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw invalid("sslmode `\(value)` is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                target.sslMode = mode
            case "sslrootcert":
                target.sslRootCert = value.isEmpty ? nil : value
            case "connect_timeout":
                guard let seconds = Double(value), seconds > 0 else { throw invalid("connect_timeout must be a positive number of seconds") }
                target.connectTimeout = seconds
            case "application_name":
                if !value.isEmpty { target.applicationName = value }
            case "password":
                target.password = value
            case "user":
                target.user = value
            case "dbname":
                target.database = value
            default:
                break
            }
        }
        return target
    }

    private static func decode(_ text: Substring, invalid: (String) -> ConfigurationError) throws -> String {
        guard text.contains("%") else { return String(text) }
        guard let decoded = String(text).removingPercentEncoding else { throw invalid("a percent-escape is malformed") }
        return decoded
    }

    /// The URI with its password replaced by `***`, for messages.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url.lastIndex(of: "@"), scheme.upperBound < at else { return url }
        let info = url[scheme.upperBound..<at]
        guard let colon = info.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}
