import Foundation
import Logging
import OdooSyncCore

/// The external API actually in use for a connection.
public enum OdooAPI: String, Sendable {
    case json2, jsonrpc, session
}

/// Where a call's keyword arguments go: `args` are the method's parameters in order (sent
/// positionally over JSON-RPC and by name over JSON-2), `kwargs` are keyword-only.
public struct OdooCall: Sendable {
    public var model: String
    public var method: String
    public var ids: [Int]?
    public var args: [(String, JSONValue)]
    public var kwargs: [(String, JSONValue)]
    public var context: JSONValue?

    public init(model: String, method: String, ids: [Int]? = nil, args: [(String, JSONValue)] = [],
                kwargs: [(String, JSONValue)] = [], context: JSONValue? = nil) {
        self.model = model
        self.method = method
        self.ids = ids
        self.args = args
        self.kwargs = kwargs
        self.context = context
    }
}

/// Talks to one Odoo database over JSON-2, JSON-RPC or a web session, with retries.
public actor OdooClient {
    public nonisolated let settings: OdooSettings
    private let transport: any HTTPTransport
    private let logger: Logger
    public private(set) var api: OdooAPI?
    public private(set) var uid: Int?
    public private(set) var serverVersion: String?
    private var sessionCookie: String?
    /// The login in progress: concurrent calls that find no session wait for it instead of each
    /// logging in.
    private var loggingIn: Task<(api: OdooAPI, uid: Int), Error>?
    /// Counts logins, so that a call whose session expired can tell whether another call has
    /// already logged in again.
    private var loginGeneration = 0
    private var nextID = 1
    public private(set) var requestCount = 0
    public private(set) var retryCount = 0

    public init(settings: OdooSettings, transport: any HTTPTransport = URLSessionTransport(), logger: Logger) {
        self.settings = settings
        self.transport = transport
        self.logger = logger
    }

    var errorContext: ErrorContext {
        ErrorContext(server: settings.url.absoluteString, login: settings.username, database: settings.database)
    }

    // MARK: - Logging in

    /// Picks the API (for `auto`) and authenticates. Wrong credentials throw
    /// `authenticationFailed` at once: they are never retried.
    @discardableResult
    public func connect() async throws -> (api: OdooAPI, uid: Int) {
        if let api, let uid { return (api, uid) }
        if let loggingIn { return try await loggingIn.value }
        let login = Task { try await self.logIn() }
        loggingIn = login
        defer { loggingIn = nil }
        return try await login.value
    }

    private func logIn() async throws -> (api: OdooAPI, uid: Int) {
        switch settings.protocolChoice {
        case .json2:
            try await loginJSON2(required: true)
        case .jsonrpc:
            try await loginJSONRPC()
        case .session:
            try await loginSession()
        case .auto:
            if settings.apiKey != nil, try await loginJSON2(required: false) {
                break
            }
            do {
                try await loginJSONRPC()
            } catch OdooError.protocolUnavailable(_, _) where settings.password != nil {
                // Odoo 20 drops /jsonrpc; a password still opens a web session.
                try await loginSession()
            }
        }
        guard let api, let uid else { throw OdooError.badResponse(server: errorContext.server, detail: "no uid after login", attempts: 1) }
        loginGeneration += 1
        logger.info("connected to Odoo", metadata: ["odoo.api": "\(api.rawValue)", "odoo.uid": "\(uid)", "odoo.url": "\(settings.url.absoluteString)"])
        return (api, uid)
    }

    /// JSON-2 has no login call: `res.users.context_get` proves the key and tells the uid.
    /// Returns false (when not `required`) if the server has no JSON-2.
    @discardableResult
    private func loginJSON2(required: Bool) async throws -> Bool {
        let response = try await withRetries {
            try await self.send(url: self.json2URL(model: "res.users", method: "context_get"),
                                headers: self.json2Headers(), body: Data("{}".utf8))
        }
        if response.status == 200 {
            let value = try parseJSON(response.body)
            guard let uid = value["uid"]?.intValue else {
                throw OdooError.badResponse(server: errorContext.server, detail: "context_get did not return a uid", attempts: 1)
            }
            self.api = .json2
            self.uid = uid
            return true
        }
        if !response.isJSON, response.status == 404 {
            if OdooClient.htmlSaysNoDatabase(response.body) {
                throw OdooError.unknownDatabase(server: errorContext.server, database: settings.database)
            }
            if required {
                throw OdooError.protocolUnavailable(server: errorContext.server, detail: "POST /json/2 answered 404; JSON-2 needs Odoo 19 or later")
            }
            return false
        }
        throw json2Error(response, model: "res.users")
    }

    private func loginJSONRPC() async throws {
        guard let secret = settings.apiKey ?? settings.password else {
            throw ConfigurationError("Set ODOO_API_KEY or ODOO_PASSWORD.")
        }
        let result = try await rpc(path: "jsonrpc", params: [
            "service": "common", "method": "authenticate",
            "args": [.string(settings.database), .string(settings.username), .string(secret), [:]],
        ], model: nil)
        guard let uid = result.intValue, uid > 0 else {
            throw OdooError.authenticationFailed(server: errorContext.server, login: settings.username,
                                                 database: settings.database, detail: "wrong password or API key")
        }
        self.api = .jsonrpc
        self.uid = uid
    }

    private func loginSession() async throws {
        guard let password = settings.password else {
            throw ConfigurationError("The session API needs ODOO_PASSWORD: Odoo does not accept API keys for web sessions.")
        }
        let body = envelope(params: ["db": .string(settings.database), "login": .string(settings.username), "password": .string(password)])
        let response = try await withRetries {
            try await self.send(url: self.settings.url.appendingPathComponent("web/session/authenticate"),
                                headers: ["Content-Type": "application/json"], body: body)
        }
        let result = try rpcResult(response, model: nil)
        guard let uid = result["uid"]?.intValue else {
            throw OdooError.authenticationFailed(server: errorContext.server, login: settings.username,
                                                 database: settings.database, detail: "wrong password")
        }
        guard let cookie = OdooClient.sessionID(fromSetCookie: response.headers["set-cookie"] ?? "") else {
            throw OdooError.badResponse(server: errorContext.server, detail: "no session cookie after login", attempts: 1)
        }
        sessionCookie = cookie
        serverVersion = result["server_version"]?.stringValue
        self.api = .session
        self.uid = uid
    }

    // MARK: - Calls

    /// Calls a model method and returns its decoded result.
    public func call(_ call: OdooCall) async throws -> JSONValue {
        try await callRaw(call) { response, api in
            switch api {
            case .json2: return try self.parseJSON(response.body)
            case .jsonrpc, .session: return try self.rpcResult(response, model: call.model)
            }
        }
    }

    /// Calls a model method and hands the raw 200 answer to `accept`, inside the retry loop:
    /// if `accept` finds the body truncated (it throws `TruncatedBody`) the call is sent again.
    /// Error answers never reach `accept`, except JSON-RPC error envelopes, which `accept`
    /// reports with `OdooClient.rpcError(in:)`.
    public func callRaw<T: Sendable>(_ call: OdooCall, accept: @Sendable (HTTPResponse, OdooAPI) throws -> T) async throws -> T {
        try await connect()
        var triedRelogin = false
        while true {
            let generation = loginGeneration
            do {
                return try await withRetries {
                    let (url, headers, body) = try self.request(for: call)
                    let response = try await self.send(url: url, headers: headers, body: body)
                    try self.checkStatus(response, model: call.model)
                    guard let api = self.api else { throw OdooError.sessionExpired }
                    return try accept(response, api)
                }
            } catch OdooError.sessionExpired where !triedRelogin && (api == .session || api == nil) {
                // With several calls in flight, the first to see the expiry logs in again and
                // the others wait for that login (api is nil meanwhile) or find it done.
                triedRelogin = true
                if loginGeneration == generation {
                    api = nil
                    uid = nil
                    sessionCookie = nil
                }
                try await connect()
            }
        }
    }

    /// The exact HTTP request a call becomes, with secrets masked: what `push --dry-run` prints.
    public func describe(_ call: OdooCall) async throws -> String {
        try await connect()
        let (url, _, body) = try request(for: call)
        var text = String(decoding: body, as: UTF8.self)
        for secret in settings.secrets {
            text = text.replacingOccurrences(of: JSONValue.string(secret).serialized, with: "\"***\"")
        }
        return "POST \(url.absoluteString) \(text)"
    }

    // MARK: - Requests

    private func request(for call: OdooCall) throws -> (URL, [String: String], Data) {
        guard let api, let uid else { throw OdooError.sessionExpired }
        var kwargs = call.kwargs
        if let context = call.context { kwargs.append(("context", context)) }
        switch api {
        case .json2:
            var named: [(String, JSONValue)] = []
            if let ids = call.ids { named.append(("ids", .array(ids.map(JSONValue.int)))) }
            named += call.args + kwargs
            return (json2URL(model: call.model, method: call.method), json2Headers(), JSONValue.object(named).data)
        case .jsonrpc:
            guard let secret = settings.apiKey ?? settings.password else { throw OdooError.sessionExpired }
            var positional: [JSONValue] = []
            if let ids = call.ids { positional.append(.array(ids.map(JSONValue.int))) }
            positional += call.args.map(\.1)
            let params: JSONValue = [
                "service": "object", "method": "execute_kw",
                "args": [.string(settings.database), .int(uid), .string(secret), .string(call.model),
                         .string(call.method), .array(positional), .object(kwargs)],
            ]
            return (settings.url.appendingPathComponent("jsonrpc"), ["Content-Type": "application/json"], envelope(params: params))
        case .session:
            var positional: [JSONValue] = []
            if let ids = call.ids { positional.append(.array(ids.map(JSONValue.int))) }
            positional += call.args.map(\.1)
            let params: JSONValue = ["model": .string(call.model), "method": .string(call.method),
                                     "args": .array(positional), "kwargs": .object(kwargs)]
            var headers = ["Content-Type": "application/json"]
            if let sessionCookie { headers["Cookie"] = "session_id=\(sessionCookie)" }
            let url = settings.url.appendingPathComponent("web/dataset/call_kw/\(call.model)/\(call.method)")
            return (url, headers, envelope(params: params))
        }
    }

    private func json2URL(model: String, method: String) -> URL {
        settings.url.appendingPathComponent("json/2/\(model)/\(method)")
    }

    private func json2Headers() -> [String: String] {
        var headers = ["Content-Type": "application/json", "X-Odoo-Database": settings.database]
        if let key = settings.apiKey { headers["Authorization"] = "bearer \(key)" }
        return headers
    }

    private func envelope(params: JSONValue) -> Data {
        let id = nextID
        nextID += 1
        return JSONValue.object([("jsonrpc", "2.0"), ("method", "call"), ("params", params), ("id", .int(id))]).data
    }

    /// A JSON-RPC call at `path` (the `common` service, logins), returning its result.
    private func rpc(path: String, params: JSONValue, model: String?) async throws -> JSONValue {
        let body = envelope(params: params)
        let response = try await withRetries {
            try await self.send(url: self.settings.url.appendingPathComponent(path),
                                headers: ["Content-Type": "application/json"], body: body)
        }
        if response.status == 404 && !response.isJSON {
            throw OdooError.protocolUnavailable(server: errorContext.server, detail: "POST /\(path) answered 404")
        }
        try checkStatus(response, model: model)
        return try rpcResult(response, model: model)
    }

    /// One HTTP exchange. A non-JSON 5xx, 429 or 408 answer (a proxy's page, an overloaded
    /// server) is thrown here, inside the caller's retry loop, so that it is sent again. A
    /// redirect, and a 2xx answer that is an HTML page (a single sign-on login page, a proxy's),
    /// are thrown here too, as errors that are not retried: ODOO_URL is wrong, and sending again
    /// brings the same answer.
    private func send(url: URL, headers: [String: String], body: Data) async throws -> HTTPResponse {
        requestCount += 1
        let response = try await transport.post(url, headers: headers, body: body, timeout: settings.timeout)
        if (300..<400).contains(response.status) {
            throw redirectError(response, requested: url)
        }
        if (200..<300).contains(response.status), OdooClient.isHTMLPage(response) {
            throw htmlError(response)
        }
        if !response.isJSON && (response.status >= 500 || response.status == 429 || response.status == 408) {
            throw htmlError(response)
        }
        return response
    }

    // MARK: - Answers

    /// Non-200 answers become errors here; 200 answers pass.
    private func checkStatus(_ response: HTTPResponse, model: String?) throws {
        if response.status == 200 { return }
        if api == .json2 || response.headers["www-authenticate"] != nil {
            throw json2Error(response, model: model)
        }
        if !response.isJSON {
            throw htmlError(response)
        }
        throw OdooError.badResponse(server: errorContext.server, detail: "HTTP \(response.status)", attempts: 1)
    }

    private func json2Error(_ response: HTTPResponse, model: String?) -> OdooError {
        guard response.isJSON, let value = try? JSONValue.parse(response.body), let name = value["name"]?.stringValue else {
            if response.status == 404, OdooClient.htmlSaysNoDatabase(response.body) {
                return .unknownDatabase(server: errorContext.server, database: settings.database)
            }
            return htmlError(response)
        }
        return OdooError.fromServer(name: name, message: value["message"]?.stringValue ?? "", model: model, context: errorContext)
    }

    private func htmlError(_ response: HTTPResponse) -> OdooError {
        let text = String(decoding: response.body.prefix(4096), as: UTF8.self)
        return .htmlPage(server: errorContext.server, status: response.status, title: OdooClient.htmlTitle(text), attempts: 1)
    }

    /// A redirect as an error that names where it points (without its query) and the ODOO_URL
    /// that target implies: the request's path below ODOO_URL, found again at the end of the
    /// target's path, leaves the base (`https://host/odoo` for a target
    /// `https://host/odoo/jsonrpc`); otherwise the target's scheme, host and port.
    private func redirectError(_ response: HTTPResponse, requested url: URL) -> OdooError {
        let header = response.headers["location"]?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !header.isEmpty else {
            return .redirected(server: errorContext.server, status: response.status, location: nil, suggestion: nil)
        }
        guard let target = URL(string: header, relativeTo: url)?.absoluteURL,
              var shown = URLComponents(url: target, resolvingAgainstBaseURL: true), shown.host != nil else {
            let bare = header.split(separator: "?", maxSplits: 1).first.map(String.init) ?? header
            return .redirected(server: errorContext.server, status: response.status, location: String(bare.prefix(200)), suggestion: nil)
        }
        shown.query = nil
        shown.fragment = nil
        shown.user = nil
        shown.password = nil
        var base = shown
        let prefix = settings.url.path.hasSuffix("/") ? String(settings.url.path.dropLast()) : settings.url.path
        let below = url.path.hasPrefix(prefix) ? String(url.path.dropFirst(prefix.count)) : url.path
        base.path = !below.isEmpty && shown.path.hasSuffix(below) ? String(shown.path.dropLast(below.count)) : ""
        if base.path.hasSuffix("/") { base.path = String(base.path.dropLast()) }
        return .redirected(server: errorContext.server, status: response.status, location: shown.string, suggestion: base.string)
    }

    nonisolated func parseJSON(_ data: Data) throws -> JSONValue {
        do {
            return try JSONValue.parse(data)
        } catch {
            throw TruncatedBody(detail: "the JSON answer could not be parsed (\(data.count) bytes)")
        }
    }

    /// The `result` of a JSON-RPC envelope, or its `error` as a typed error. A method that
    /// returned None has no `result` key: that is null, not an error.
    nonisolated func rpcResult(_ response: HTTPResponse, model: String?) throws -> JSONValue {
        let value = try parseJSON(response.body)
        if let error = value["error"] { throw rpcError(error, model: model) }
        return value["result"] ?? .null
    }

    nonisolated func rpcError(_ error: JSONValue, model: String?) -> OdooError {
        let data = error["data"]
        let name = data?["name"]?.stringValue ?? ""
        let message = data?["message"]?.stringValue ?? error["message"]?.stringValue ?? ""
        return OdooError.fromServer(name: name, message: message, model: model,
                                    context: ErrorContext(server: settings.url.absoluteString, login: settings.username,
                                                          database: settings.database))
    }

    /// Decodes the JSON-RPC `error` object at `range` of a body (the record scanner finds it).
    public nonisolated func rpcError(in body: Data, range: Range<Int>, model: String?) -> OdooError {
        let slice = body.subdata(in: range)
        guard let value = try? JSONValue.parse(slice) else {
            return .badResponse(server: settings.url.absoluteString, detail: "unreadable error answer", attempts: 1)
        }
        return rpcError(value, model: model)
    }

    // MARK: - Retries

    /// Sends again on timeouts, dropped connections, truncated bodies and 5xx pages, with
    /// exponential backoff and jitter; never on authentication or other Odoo errors.
    private func withRetries<T: Sendable>(_ operation: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            let failure: OdooError
            do {
                return try await operation()
            } catch let error as TransportError {
                failure = error.kind == .cannotResolveHost
                    ? .unreachable(server: errorContext.server, detail: error.detail, attempts: attempt)
                    : (error.kind == .connectionLost
                        ? .badResponse(server: errorContext.server, detail: error.detail, attempts: attempt)
                        : .unreachable(server: errorContext.server, detail: error.detail, attempts: attempt))
            } catch let error as TruncatedBody {
                failure = .badResponse(server: errorContext.server, detail: error.detail, attempts: attempt)
            } catch let error as RecordScanError {
                failure = .badResponse(server: errorContext.server, detail: "the answer is not complete JSON (\(error.reason))", attempts: attempt)
            } catch let error as OdooError where error.isTransient {
                failure = error.withAttempts(attempt)
            }
            // A cancelled request (a server shutting down) failed because it was cancelled:
            // neither retried nor reported as a network error.
            try Task.checkCancellation()
            guard failure.isTransient, attempt < settings.maxAttempts else { throw failure }
            let delay = settings.retryBase * pow(2, Double(attempt - 1)) * Double.random(in: 0.5...1.0)
            logger.warning("retrying Odoo request", metadata: ["attempt": "\(attempt)", "reason": "\(failure)"])
            retryCount += 1
            attempt += 1
            try await Task.sleep(nanoseconds: UInt64(min(delay, 30) * 1_000_000_000))
        }
    }

    // MARK: - Small parsers

    static func sessionID(fromSetCookie header: String) -> String? {
        guard let range = header.range(of: "session_id=") else { return nil }
        let value = header[range.upperBound...].prefix { $0 != ";" && $0 != "," && $0 != " " }
        return value.isEmpty ? nil : String(value)
    }

    static func htmlTitle(_ html: String) -> String {
        for tag in ["<title>", "<h1>"] {
            if let start = html.range(of: tag, options: .caseInsensitive),
               let end = html.range(of: "</" + tag.dropFirst(), options: .caseInsensitive, range: start.upperBound..<html.endIndex) {
                return String(html[start.upperBound..<end.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        let text = html.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "empty body" : String(text.prefix(60))
    }

    /// An HTML page, told by its Content-Type or, for a page sent as another type or none, by
    /// its first character.
    static func isHTMLPage(_ response: HTTPResponse) -> Bool {
        if response.contentType.lowercased().contains("text/html") { return true }
        for byte in response.body.prefix(64) {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF: continue  // whitespace, a UTF-8 byte order mark
            default: return byte == UInt8(ascii: "<")
            }
        }
        return false
    }

    static func htmlSaysNoDatabase(_ body: Data) -> Bool {
        String(decoding: body.prefix(2048), as: UTF8.self).contains("No database is selected")
    }
}

/// A 200 answer whose body ended early or is not JSON: sent again by the retry loop.
public struct TruncatedBody: Error, Sendable {
    public let detail: String
    public init(detail: String) { self.detail = detail }
}

extension OdooError {
    func withAttempts(_ attempts: Int) -> OdooError {
        switch self {
        case let .htmlPage(server, status, title, _): return .htmlPage(server: server, status: status, title: title, attempts: attempts)
        case let .badResponse(server, detail, _): return .badResponse(server: server, detail: detail, attempts: attempts)
        case let .unreachable(server, detail, _): return .unreachable(server: server, detail: detail, attempts: attempts)
        default: return self
        }
    }
}
