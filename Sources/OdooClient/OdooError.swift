import Foundation
import OdooSyncCore

/// What went wrong talking to Odoo, one case per action the caller takes.
///
/// | case | action |
/// |---|---|
/// | `authenticationFailed`, `unknownDatabase`, `unreachable` | stop the run, exit 3 |
/// | `redirected` (any 3xx), `htmlPage` with a 2xx status (a login page, a proxy) | stop the run, exit 3; never retried |
/// | `sessionExpired` | log in again once, then retry the call |
/// | `htmlPage`, `badResponse` (5xx, truncated) | retried with backoff; exit 3 when retries run out |
/// | `unknownModel`, `unknownMethod`, `invalidField`, `invalidValue` | stop: the server lacks what we need (exit 1) |
/// | `accessDenied` (the model's access rights) | stop, exit 3: the user may not do this |
/// | `recordRuleDenied`, `validation`, `missingRecord`, `userError`, `server` | fail this item, go on with the others |
public enum OdooError: UserFacingError {
    case authenticationFailed(server: String, login: String, database: String, detail: String)
    case unknownDatabase(server: String, database: String)
    case sessionExpired
    case unknownModel(model: String, message: String)
    case unknownMethod(message: String)
    case invalidField(message: String)
    case invalidValue(message: String)
    case accessDenied(message: String)
    /// A record rule hides this one record from the user; other records of the model are fine.
    case recordRuleDenied(message: String)
    case validation(message: String)
    case missingRecord(message: String)
    case userError(message: String)
    case server(name: String, message: String)
    case htmlPage(server: String, status: Int, title: String, attempts: Int)
    case badResponse(server: String, detail: String, attempts: Int)
    case unreachable(server: String, detail: String, attempts: Int)
    case protocolUnavailable(server: String, detail: String)
    /// A 3xx answer, which is not followed. `location` is where the Location header points (no
    /// query), `suggestion` the ODOO_URL that target implies.
    case redirected(server: String, status: Int, location: String?, suggestion: String?)

    public var exitStatus: ExitStatus {
        switch self {
        case .authenticationFailed, .unknownDatabase, .unreachable, .htmlPage, .badResponse, .accessDenied,
             .protocolUnavailable, .sessionExpired, .redirected:
            return .remote
        default:
            return .itemErrors
        }
    }

    /// Worth another try with the same request.
    var isTransient: Bool {
        switch self {
        case .htmlPage(_, let status, _, _): return status >= 500 || status == 429 || status == 408
        case .badResponse, .unreachable: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case let .authenticationFailed(server, login, database, detail):
            return "Odoo at \(server) refused the login `\(login)` on database `\(database)` (\(detail)). Check ODOO_USERNAME and ODOO_API_KEY or ODOO_PASSWORD; an API key works only for the user who created it."
        case let .unknownDatabase(server, database):
            return "Odoo at \(server) has no database named `\(database)`. Check ODOO_DATABASE (the database name is shown on the Odoo login page's database selector)."
        case .sessionExpired:
            return "The Odoo session expired and logging in again did not help. Run the command again."
        case let .unknownModel(model, message):
            return "Odoo does not know the model `\(model)` (\(message)). Install the matching Odoo app (CRM for crm.lead) or check the model name."
        case let .unknownMethod(message):
            return "Odoo does not offer that method: \(message)."
        case let .invalidField(message):
            return "Odoo rejected a field name: \(message). This Odoo version may lack the field; check `odoosync config show`."
        case let .invalidValue(message):
            return "Odoo rejected a value: \(message)."
        case let .accessDenied(message):
            return "Odoo denied access: \(Self.firstLine(message)) Ask an Odoo administrator for the rights, or use another user."
        case let .recordRuleDenied(message):
            return "Odoo's record rules keep this record from the user: \(Self.recordRuleSummary(message)) The other records go on; ask an Odoo administrator to share this one, or leave it to a user who may see it."
        case let .validation(message):
            return "Odoo refused the change: \(Self.firstLine(message))"
        case let .missingRecord(message):
            return "The Odoo record no longer exists: \(Self.firstLine(message))"
        case let .userError(message):
            return "Odoo refused the request: \(Self.firstLine(message))"
        case let .server(name, message):
            return "Odoo reported \(name): \(Self.firstLine(message))"
        case let .htmlPage(server, status, title, _) where (200..<300).contains(status):
            return "Odoo at \(server) answered HTTP \(status) with an HTML page (\"\(title)\") instead of JSON: ODOO_URL points at a login page (single sign-on) or a proxy in front of Odoo, not at Odoo itself. Set ODOO_URL to the address Odoo answers on."
        case let .htmlPage(server, status, title, attempts):
            return "Odoo at \(server) answered HTTP \(status) with an HTML page (\"\(title)\") instead of JSON, \(attempts) time(s): a proxy or the server itself is failing, or ODOO_URL does not point at Odoo. Check ODOO_URL and try again later."
        case let .badResponse(server, detail, attempts):
            return "Odoo at \(server) sent a broken answer (\(detail)) \(attempts) time(s). Try again later; if it persists, check the server's logs."
        case let .unreachable(server, detail, attempts):
            return "Cannot reach Odoo at \(server): \(detail) (\(attempts) attempt(s)). Check ODOO_URL and your network connection; your local edits stay in the mirror."
        case let .protocolUnavailable(server, detail):
            return "Odoo at \(server) does not offer the chosen API: \(detail). Set ODOO_PROTOCOL=auto to let odoosync pick one."
        case let .redirected(server, status, location, suggestion):
            let target = location.map { "to \($0)" } ?? "without a Location header"
            let example = suggestion ?? "https://…"
            return "Odoo at \(server) answered HTTP \(status), a redirect \(target). odoosync does not follow redirects: the request would arrive without its body. Set ODOO_URL to the final address (e.g. \(example))."
        }
    }

    /// A record-rule message told in one sentence: "Sorry, Marc Demo (id=5) doesn't have 'read'
    /// access to: Lead (crm.lead)." (the lines that say who, what and which model).
    static func recordRuleSummary(_ message: String) -> String {
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let index = lines.firstIndex(where: { $0.contains("access to") || namesUserID($0) }) else { return firstLine(message) }
        var text = lines[index]
        if index + 1 < lines.count, lines[index + 1].hasPrefix("- ") { text += " " + lines[index + 1].dropFirst(2) }
        return text.hasSuffix(".") ? text : text + "."
    }

    /// Odoo 16-19 word a record-rule denial "Uh-oh! Looks like you have stumbled upon some
    /// top-secret records. … Sorry, <user> (id=<n>) doesn't have '<operation>' access to: …";
    /// a model's access rights say "You are not allowed to …" and name no user. Both are
    /// translated into the user's language, but translators keep the "(id=<n>)" placeholder,
    /// so a user id marks a record-rule denial in any language.
    static func isRecordRuleDenial(_ message: String) -> Bool {
        message.hasPrefix("Uh-oh! Looks like you have stumbled upon some top-secret records.")
            || (message.contains("doesn't have '") && message.contains("' access to"))
            || namesUserID(message)
    }

    /// True when `text` holds "(id=" followed by digits and ")".
    static func namesUserID(_ text: String) -> Bool {
        text.range(of: #"\(id=[0-9]+\)"#, options: .regularExpression) != nil
    }

    static func firstLine(_ text: String) -> String {
        let line = text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? text
        return line.hasSuffix(".") ? line : line + "."
    }

    /// Maps Odoo's exception (`error.data.name` in JSON-RPC, `name` in JSON-2) to a case.
    static func fromServer(name: String, message: String, model: String?, context: ErrorContext) -> OdooError {
        switch name {
        case "odoo.exceptions.AccessDenied", "werkzeug.exceptions.Unauthorized":
            return .authenticationFailed(server: context.server, login: context.login, database: context.database,
                                         detail: message.isEmpty ? "access denied" : message)
        case "odoo.http.SessionExpiredException":
            return .sessionExpired
        case "psycopg2.OperationalError" where message.contains("does not exist"):
            return .unknownDatabase(server: context.server, database: context.database)
        case "odoo.exceptions.AccessError" where message.contains("Database not found"):
            return .unknownDatabase(server: context.server, database: context.database)
        case "odoo.exceptions.AccessError" where isRecordRuleDenial(message):
            return .recordRuleDenied(message: message)
        case "odoo.exceptions.AccessError":
            return .accessDenied(message: message)
        case "odoo.exceptions.UserError" where message.hasPrefix("Object ") && message.hasSuffix("doesn't exist"):
            return .unknownModel(model: model ?? "?", message: message)
        case "werkzeug.exceptions.NotFound":
            if message.contains("method") { return .unknownMethod(message: message) }
            return .unknownModel(model: model ?? "?", message: message)
        case "builtins.AttributeError" where message.contains("does not exist"):
            return .unknownMethod(message: message)
        case "builtins.ValueError" where message.hasPrefix("Invalid field"):
            return .invalidField(message: message)
        case "builtins.ValueError", "builtins.TypeError", "werkzeug.exceptions.UnprocessableEntity":
            return .invalidValue(message: message)
        case "odoo.exceptions.ValidationError":
            return .validation(message: message)
        case "odoo.exceptions.MissingError":
            return .missingRecord(message: message)
        case "odoo.exceptions.UserError":
            return .userError(message: message)
        default:
            return .server(name: name, message: message)
        }
    }
}

struct ErrorContext: Sendable {
    var server: String
    var login: String
    var database: String
}
