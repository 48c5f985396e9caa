import Foundation
import Logging
import OdooClient
import OdooSyncCore

/// One call to Plane's REST API, relative to `/api/v1/`.
public struct PlaneRequest: Sendable {
    public var method: String
    /// e.g. "workspaces/acme/projects/"; Plane needs the trailing slash.
    public var path: String
    public var query: [(String, String)]
    public var body: JSONValue?
    /// Sent again after a 5xx or a lost answer. False for creates that Plane cannot recognise
    /// when they arrive twice; those are made safe by the create methods themselves.
    public var retryable: Bool

    public init(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil, retryable: Bool = true) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.retryable = retryable
    }

    /// "PATCH workspaces/acme/projects/<id>/issues/<id>/": names the call in errors and logs.
    public var label: String { "\(method) \(path)" }
}

public struct PlaneResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data
    /// The decoded body; nil for an empty one (204).
    public var json: JSONValue?
}

/// Talks to one Plane workspace's REST API (`/api/v1/`) with `X-API-Key`: waits out the rate
/// limit, retries what is safe to retry, and turns error answers into `PlaneError`s.
public actor PlaneClient {
    public nonisolated let settings: PlaneSettings
    private let transport: any HTTPTransport
    private let logger: Logger
    private var gate = RateLimitGate()
    private var createsInFlight: [String: Task<Void, Never>] = [:]
    public private(set) var requestCount = 0
    public private(set) var retryCount = 0
    /// 429 answers received and time spent waiting for the rate limit (proactive waits included).
    public private(set) var rateLimitedCount = 0
    public private(set) var rateLimitWaitSeconds: Double = 0
    /// Until when (Unix seconds) the waits counted so far run.
    private var waitsCoverUntil: TimeInterval = 0

    public init(settings: PlaneSettings, transport: any HTTPTransport = URLSessionTransport(), logger: Logger) {
        self.settings = settings
        self.transport = transport
        self.logger = logger
    }

    nonisolated var server: String { settings.url.absoluteString }

    /// `workspaces/<slug>/`.
    public nonisolated var workspacePath: String { "workspaces/\(settings.workspaceSlug)/" }

    public nonisolated func projectPath(_ projectID: String) -> String { "\(workspacePath)projects/\(projectID)/" }

    /// The full URL of a request.
    public nonisolated func url(for request: PlaneRequest) -> URL {
        var text = settings.url.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        text += "/api/v1/" + request.path
        if !request.query.isEmpty {
            text += "?" + request.query.map { PlaneClient.escape($0.0) + "=" + PlaneClient.escape($0.1) }.joined(separator: "&")
        }
        return URL(string: text) ?? settings.url
    }

    /// The exact HTTP call a request becomes, for `--dry-run` output (the key is not part of it).
    public nonisolated func describe(_ request: PlaneRequest) -> String {
        var text = "\(request.method) \(url(for: request).absoluteString)"
        if let body = request.body { text += " " + body.serialized }
        return text
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters: Django reads `+` in a
    /// query as a space, so an external id such as "a+b" must travel as "a%2Bb".
    static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    // MARK: - Sending

    /// Sends a request until it gets a final answer: 429s are waited out (they do not count as
    /// attempts), 5xx and lost answers are sent again with backoff when the request is
    /// `retryable`, and every other error answer is thrown as its `PlaneError`.
    public func perform(_ request: PlaneRequest) async throws -> PlaneResponse {
        let url = url(for: request)
        var headers = ["X-API-Key": settings.apiKey, "Accept": "application/json"]
        var body: Data? = nil
        if let json = request.body {
            body = json.data
            headers["Content-Type"] = "application/json"
        }
        var attempt = 1
        var waited: Double = 0
        while true {
            let pause = gate.delay(now: Date().timeIntervalSince1970)
            if pause > 0 {
                try await waitForRateLimit(pause, waitedSoFar: &waited, reason: "no requests left in the window")
                gate.didWait()
            }
            requestCount += 1
            let number = gate.noteSent(at: Date().timeIntervalSince1970)
            let failure: PlaneError
            do {
                let response: HTTPResponse
                do {
                    response = try await transport.send(request.method, url, headers: headers, body: body, timeout: settings.timeout)
                } catch {
                    gate.noteFinished(number)
                    throw error
                }
                if response.status == 429 {
                    gate.noteFinished(number)
                    rateLimitedCount += 1
                    let retryAfter = response.headers["retry-after"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } ?? gate.window
                    // Retry-After is whole seconds, rounded down by the server.
                    try await waitForRateLimit(max(0, retryAfter) + 0.25, waitedSoFar: &waited, reason: "HTTP 429")
                    gate.didWait()
                    continue
                }
                gate.noteAnswer(number, headers: response.headers, now: Date().timeIntervalSince1970)
                if (200..<300).contains(response.status) {
                    return try decode(response, attempt: attempt)
                }
                // A DELETE whose first answer was lost finds the record gone on its retry: done.
                if response.status == 404 && request.method == "DELETE" && attempt > 1 {
                    return PlaneResponse(status: 204, headers: response.headers, body: Data(), json: nil)
                }
                failure = PlaneError.from(status: response.status, body: response.body, contentType: response.contentType,
                                          request: request.label, server: server, workspace: settings.workspaceSlug,
                                          attempts: attempt, location: response.headers["location"])
            } catch let error as TransportError {
                failure = error.kind == .connectionLost
                    ? .badResponse(server: server, detail: error.detail, attempts: attempt)
                    : .unreachable(server: server, detail: error.detail, attempts: attempt)
            } catch let error as PlaneError {
                failure = error.withAttempts(attempt)
            }
            guard failure.isTransient, request.retryable, attempt < settings.maxAttempts else { throw failure }
            try await backoff(attempt: attempt, reason: failure, request: request)
            attempt += 1
        }
    }

    private func decode(_ response: HTTPResponse, attempt: Int) throws -> PlaneResponse {
        guard !response.body.isEmpty else {
            return PlaneResponse(status: response.status, headers: response.headers, body: response.body, json: nil)
        }
        do {
            let json = try PlaneJSON.parse(response.body)
            return PlaneResponse(status: response.status, headers: response.headers, body: response.body, json: json)
        } catch {
            throw PlaneError.badResponse(server: server, detail: "the answer is not JSON (\(response.body.count) bytes)", attempts: attempt)
        }
    }

    func backoff(attempt: Int, reason: PlaneError, request: PlaneRequest) async throws {
        let delay = settings.retryBase * pow(2, Double(attempt - 1)) * Double.random(in: 0.5...1.0)
        logger.warning("retrying Plane request", metadata: ["plane.request": "\(request.label)", "attempt": "\(attempt)", "reason": "\(reason)"])
        retryCount += 1
        try await Task.sleep(nanoseconds: UInt64(min(delay, 30) * 1_000_000_000))
    }

    private func waitForRateLimit(_ seconds: Double, waitedSoFar: inout Double, reason: String) async throws {
        guard waitedSoFar + seconds <= settings.maxRateLimitWait else {
            throw PlaneError.rateLimited(server: server, waitedSeconds: waitedSoFar)
        }
        logger.info("waiting for Plane's rate limit", metadata: ["seconds": "\(String(format: "%.2f", seconds))", "reason": "\(reason)"])
        waitedSoFar += seconds
        // Requests side by side wait out the same window: count the time, not each wait.
        let start = Date().timeIntervalSince1970
        rateLimitWaitSeconds += max(0, start + seconds - max(start, waitsCoverUntil))
        waitsCoverUntil = max(waitsCoverUntil, start + seconds)
        try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
    }

    /// Sends the JSON object a request answers with.
    func object(_ request: PlaneRequest) async throws -> JSONValue {
        let response = try await perform(request)
        guard let json = response.json, json.objectValue != nil else {
            throw PlaneError.badResponse(server: server, detail: "\(request.label) did not answer with an object", attempts: 1)
        }
        return json
    }

    // MARK: - Creates with an external key

    /// Runs creates for one external key one at a time: Plane's duplicate check reads, then
    /// inserts, so two concurrent creates for one key can both succeed.
    func serializingCreates<T: Sendable>(key: String, _ body: () async throws -> T) async throws -> T {
        while let running = createsInFlight[key] {
            await running.value
        }
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        createsInFlight[key] = Task { for await _ in stream {} }
        defer {
            createsInFlight[key] = nil
            continuation.finish()
        }
        return try await body()
    }

    /// The create loop shared by every entity Plane checks `external_id` for:
    /// - 201: created;
    /// - 409 with the existing record's id, or an answer lost after Plane may have applied the
    ///   create: `lookup` finds the existing record, which is returned instead of a second one.
    /// - `lookupFirst`: look before the first POST too (for entities Plane does not check).
    func createIdempotently<T: Sendable>(
        key: String, request: PlaneRequest, lookupFirst: Bool = false, decode: (JSONValue) throws -> T,
        lookup: (_ existingID: String?) async throws -> T?
    ) async throws -> PlaneCreated<T> {
        try await serializingCreates(key: key) {
            if lookupFirst, let existing = try await lookup(nil) { return PlaneCreated(value: existing, created: false) }
            var attempt = 1
            var request = request
            request.retryable = false
            while true {
                do {
                    let json = try await object(request)
                    return PlaneCreated(value: try decode(json), created: true)
                } catch let error as PlaneError where error.existingID != nil || isConflict(error) {
                    if let existing = try await lookup(error.existingID) { return PlaneCreated(value: existing, created: false) }
                    throw error
                } catch let error as PlaneError where error.isTransient && attempt < settings.maxAttempts {
                    if let existing = try await lookup(nil) { return PlaneCreated(value: existing, created: false) }
                    try await backoff(attempt: attempt, reason: error, request: request)
                    attempt += 1
                }
            }
        }
    }

    private func isConflict(_ error: PlaneError) -> Bool {
        if case .conflict = error { return true }
        return false
    }

    // MARK: - Pagination

    /// One page of a paginated list. Plane's cursor is "per_page:page:is_prev", and the offset
    /// is computed from the `per_page` parameter, not from the cursor: both are always sent.
    public func page(_ path: String, query: [(String, String)] = [], perPage: Int = 1000, cursor: String? = nil) async throws -> PlanePage {
        var q = query + [("per_page", String(perPage))]
        if let cursor { q.append(("cursor", cursor)) }
        let request = PlaneRequest("GET", path, query: q)
        let json = try await object(request)
        guard let results = json["results"]?.arrayValue else {
            throw PlaneError.badResponse(server: server, detail: "\(request.label) is not a page of results", attempts: 1)
        }
        return PlanePage(results: results, nextCursor: json["next_cursor"]?.stringValue,
                         hasNext: json["next_page_results"]?.boolValue ?? false,
                         totalResults: json["total_results"]?.intValue ?? json["total_count"]?.intValue)
    }

    /// Walks a paginated list page by page; `body` returns false to stop early.
    public func forEachPage(_ path: String, query: [(String, String)] = [], perPage: Int = 1000,
                            _ body: (PlanePage) async throws -> Bool) async throws {
        var cursor: String? = nil
        while true {
            let page = try await page(path, query: query, perPage: perPage, cursor: cursor)
            guard try await body(page), page.hasNext, let next = page.nextCursor, next != cursor else { return }
            cursor = next
        }
    }

    /// Every element of a paginated list.
    public func listAll(_ path: String, query: [(String, String)] = [], perPage: Int = 1000) async throws -> [JSONValue] {
        var all: [JSONValue] = []
        try await forEachPage(path, query: query, perPage: perPage) { page in
            all += page.results
            return true
        }
        return all
    }

    /// A list Plane does not paginate (members): a plain JSON array.
    public func plainList(_ path: String) async throws -> [JSONValue] {
        let request = PlaneRequest("GET", path)
        let response = try await perform(request)
        guard let items = response.json?.arrayValue else {
            throw PlaneError.badResponse(server: server, detail: "\(request.label) did not answer with a list", attempts: 1)
        }
        return items
    }
}

/// One page of a Plane list.
public struct PlanePage: Sendable {
    public var results: [JSONValue]
    public var nextCursor: String?
    public var hasNext: Bool
    public var totalResults: Int?
}

/// The result of an idempotent create: `created` is false when Plane already had the record
/// (made by an earlier run, or by this call before its answer was lost).
public struct PlaneCreated<Value: Sendable>: Sendable {
    public var value: Value
    public var created: Bool
}
