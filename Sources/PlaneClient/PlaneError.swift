import Foundation
import OdooSyncCore

/// One field's messages in a Plane serializer error (`{"priority": ["\"critical\" is not a valid choice."]}`).
public struct PlaneFieldError: Sendable, Equatable {
    public var field: String
    public var messages: [String]
    public init(field: String, messages: [String]) {
        self.field = field
        self.messages = messages
    }
}

/// What went wrong talking to Plane, one case per action the caller takes.
///
/// | case | Plane's answer | action |
/// |---|---|---|
/// | `missingAPIKey`, `invalidAPIKey` | 401, 403 `detail` | stop the run, exit 3 |
/// | `forbidden` | 403 permission | stop, exit 3: the key's user lacks access (inside one project, `pull plane` fails that project only, exit 1) |
/// | `rateLimited` | 429 for longer than allowed | stop, exit 3 (429s are otherwise waited out) |
/// | `server`, `unreachable`, `badResponse` | 5xx, dropped, truncated, not JSON | retried with backoff; exit 3 when retries run out |
/// | `redirected` | 3xx (never followed: a PATCH or POST would arrive without its body) | stop, exit 3; not retried |
/// | `notFound` | 404 | fail this item (the record is gone) |
/// | `invalid`, `rejected` | 400 field errors / `error` | fail this item: Plane refused the values |
/// | `conflict` | 409 (`id` of the existing record) | creates look the existing record up and return it |
/// | `duplicateExternalID` | lookup 500 twice (sent again once only): two records share a key | fail this item; a person must delete the duplicate |
/// | `methodNotAllowed` | 405 | fail this item (a client bug) |
public enum PlaneError: UserFacingError {
    case missingAPIKey(server: String)
    case invalidAPIKey(server: String)
    case forbidden(server: String, workspace: String, request: String, message: String)
    case rateLimited(server: String, waitedSeconds: Double)
    case server(server: String, status: Int, message: String, attempts: Int)
    case unreachable(server: String, detail: String, attempts: Int)
    case badResponse(server: String, detail: String, attempts: Int)
    case notFound(request: String, message: String)
    case invalid(request: String, errors: [PlaneFieldError])
    case rejected(request: String, status: Int, message: String, code: String?, existingID: String?)
    case conflict(request: String, message: String, existingID: String?)
    case duplicateExternalID(project: String, source: String, id: String)
    case methodNotAllowed(request: String)
    /// `location`: where the Location header points, without its query.
    case redirected(server: String, status: Int, location: String?)

    public var exitStatus: ExitStatus {
        switch self {
        case .missingAPIKey, .invalidAPIKey, .forbidden, .rateLimited, .server, .unreachable, .badResponse, .redirected:
            return .remote
        case .notFound, .invalid, .rejected, .conflict, .duplicateExternalID, .methodNotAllowed:
            return .itemErrors
        }
    }

    /// Plane refused the key's user this request (403 permission, not a bad key).
    public var isPermissionDenied: Bool {
        if case .forbidden = self { return true }
        return false
    }

    /// Worth sending the same request again.
    public var isTransient: Bool {
        switch self {
        case .server, .unreachable, .badResponse: return true
        default: return false
        }
    }

    /// The record Plane says already exists (409s, a module's duplicate name).
    public var existingID: String? {
        switch self {
        case .conflict(_, _, let id): return id
        case .rejected(_, _, _, _, let id): return id
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case let .missingAPIKey(server):
            return "Plane at \(server) received no API key (401). Set PLANE_API_KEY to a Plane personal access token."
        case let .invalidAPIKey(server):
            return "Plane at \(server) does not accept the API key (403: not valid, inactive or expired). Create a new token in Plane (Profile settings → Personal access tokens) and set PLANE_API_KEY."
        case let .forbidden(server, workspace, request, message):
            return "Plane at \(server) refused \(request) (403: \(message)). Check that PLANE_WORKSPACE_SLUG `\(workspace)` is right and that the token's user is a member of the workspace and project (writes need the Member or Admin role)."
        case let .rateLimited(server, waited):
            return "Plane at \(server) kept answering 429 (rate limited) for \(Int(waited)) s. Wait a minute and run again; a Plane admin can raise API_KEY_RATE_LIMIT."
        case let .server(server, status, message, attempts):
            return "Plane at \(server) failed with HTTP \(status) (\(message)) \(attempts) time(s). Try again later; if it persists, check the Plane server's logs."
        case let .unreachable(server, detail, attempts):
            return "Cannot reach Plane at \(server): \(detail) (\(attempts) attempt(s)). Check PLANE_API_URL and your network connection; the mirror keeps what it has."
        case let .badResponse(server, detail, attempts):
            return "Plane at \(server) sent a broken answer (\(detail)) \(attempts) time(s). Check that PLANE_API_URL points at Plane's API and try again."
        case let .notFound(request, message):
            return "Plane has no such record for \(request) (404: \(message)). It was deleted or archived in Plane, or the id is wrong."
        case let .invalid(request, errors):
            let list = errors.map { "\($0.field): \($0.messages.joined(separator: " "))" }.joined(separator: "; ")
            return "Plane refused the values of \(request): \(list). Fix those fields and try again."
        case let .rejected(request, status, message, code, _):
            return "Plane refused \(request) (HTTP \(status)\(code.map { ", \($0)" } ?? ""): \(message))."
        case let .conflict(request, message, id):
            return "Plane refused \(request) as a duplicate (409: \(message)\(id.map { "; existing record \($0)" } ?? ""))."
        case let .duplicateExternalID(project, source, id):
            return "Plane holds two issues with external key \(source)/\(id) in project \(project) (its duplicate check is not atomic), so it cannot say which one is ours. Delete the extra issue in Plane, then run again."
        case let .methodNotAllowed(request):
            return "Plane does not allow \(request) (405). This is an odoosync bug: please report it."
        case let .redirected(server, status, location):
            let target = location.map { "to \($0)" } ?? "without a Location header"
            return "Plane at \(server) answered HTTP \(status), a redirect \(target). odoosync does not follow redirects (a write would arrive without its body): set PLANE_API_URL to the address Plane answers on, e.g. https://… instead of http://…."
        }
    }
}

extension PlaneError {
    /// Turns an error answer into its case. `request` names the call ("PATCH …/issues/<id>/").
    static func from(status: Int, body: Data, contentType: String, request: String, server: String, workspace: String,
                     attempts: Int, location: String? = nil) -> PlaneError {
        let json = contentType.contains("json") ? try? JSONValue.parse(body) : nil
        let detail = json?["detail"]?.stringValue
        let error = json?["error"]?.stringValue
        let message = error ?? detail ?? json?["error_message"]?.stringValue ?? htmlTitle(body) ?? "HTTP \(status)"
        switch status {
        case 300..<400:
            let shown = location.flatMap { $0.split(separator: "?", maxSplits: 1).first.map(String.init) }
            return .redirected(server: server, status: status, location: shown.map { String($0.prefix(200)) })
        case 401:
            return .missingAPIKey(server: server)
        case 403 where detail == "Given API token is not valid":
            return .invalidAPIKey(server: server)
        case 403:
            return .forbidden(server: server, workspace: workspace, request: request, message: message)
        case 404:
            return .notFound(request: request, message: message)
        case 405:
            return .methodNotAllowed(request: request)
        case 409:
            // Projects answer {"name": "The project name is already taken"}.
            let text = error ?? json?["name"]?.stringValue ?? json?["identifier"]?.stringValue ?? message
            return .conflict(request: request, message: text, existingID: json?["id"]?.stringValue)
        case 400..<500:
            if error != nil || detail != nil || json == nil {
                return .rejected(request: request, status: status, message: message, code: json?["code"]?.stringValue,
                                 existingID: json?["id"]?.stringValue)
            }
            var fields: [PlaneFieldError] = []
            for (field, value) in json?.objectValue ?? [] {
                let messages = value.arrayValue?.compactMap(\.stringValue) ?? value.stringValue.map { [$0] } ?? [value.serialized]
                fields.append(PlaneFieldError(field: field, messages: messages))
            }
            return .invalid(request: request, errors: fields)
        case 500..<600:
            return .server(server: server, status: status, message: message, attempts: attempts)
        default:
            return .badResponse(server: server, detail: "unexpected HTTP \(status)", attempts: attempts)
        }
    }

    static func htmlTitle(_ body: Data) -> String? {
        let text = String(decoding: body.prefix(2048), as: UTF8.self)
        guard let start = text.range(of: "<title>", options: .caseInsensitive),
              let end = text.range(of: "</title>", options: .caseInsensitive, range: start.upperBound..<text.endIndex)
        else { return nil }
        return String(text[start.upperBound..<end.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func withAttempts(_ attempts: Int) -> PlaneError {
        switch self {
        case let .server(server, status, message, _): return .server(server: server, status: status, message: message, attempts: attempts)
        case let .unreachable(server, detail, _): return .unreachable(server: server, detail: detail, attempts: attempts)
        case let .badResponse(server, detail, _): return .badResponse(server: server, detail: detail, attempts: attempts)
        default: return self
        }
    }
}
