import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased; repeated headers joined with ", ".
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var contentType: String { headers["content-type"] ?? "" }
    public var isJSON: Bool { contentType.contains("json") }
}

/// Why a request got no complete answer. All of these are worth a retry.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case timeout, connectionLost, cannotConnect, cannotResolveHost, other }
    public let kind: Kind
    public let detail: String
    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }
    public var description: String { detail }
}

/// HTTP behind one small protocol, so that unit tests may swap it; everything else goes over
/// real loopback HTTP.
public protocol HTTPTransport: Sendable {
    func post(_ url: URL, headers: [String: String], body: Data, timeout: TimeInterval) async throws -> HTTPResponse
    func get(_ url: URL, headers: [String: String], timeout: TimeInterval) async throws -> HTTPResponse
    /// Any method (REST APIs such as Plane's also PATCH and DELETE); `body` nil sends none.
    func send(_ method: String, _ url: URL, headers: [String: String], body: Data?, timeout: TimeInterval) async throws -> HTTPResponse
}

extension HTTPTransport {
    /// Transports written for Odoo's POST-only protocols still serve GET and POST.
    public func send(_ method: String, _ url: URL, headers: [String: String], body: Data?, timeout: TimeInterval) async throws -> HTTPResponse {
        switch method {
        case "GET": return try await get(url, headers: headers, timeout: timeout)
        case "POST": return try await post(url, headers: headers, body: body ?? Data(), timeout: timeout)
        default: throw TransportError(kind: .other, detail: "this transport cannot send \(method)")
        }
    }
}

/// URLSession (libcurl underneath on Linux) with cookies turned off: the session cookie is
/// handled by the client, so that nothing is stored outside the mirror.
///
/// Redirects are never followed: a 3xx answer is returned as it is, for the client to report.
/// Following one would send a POST again as a GET (301, 302) or without its body (307, 308 on
/// Linux), with the Authorization header still attached.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession

    public init() {
        let config = URLSessionConfiguration.ephemeral
        config.httpCookieStorage = nil
        config.httpShouldSetCookies = false
        config.urlCache = nil
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.httpMaximumConnectionsPerHost = 4
        session = URLSession(configuration: config, delegate: RedirectRefusal(), delegateQueue: nil)
    }

    deinit {
        // A session holds its delegate until it is invalidated.
        session.finishTasksAndInvalidate()
    }

    public func post(_ url: URL, headers: [String: String], body: Data, timeout: TimeInterval) async throws -> HTTPResponse {
        try await send("POST", url, headers: headers, body: body, timeout: timeout)
    }

    public func get(_ url: URL, headers: [String: String], timeout: TimeInterval) async throws -> HTTPResponse {
        try await send("GET", url, headers: headers, body: nil, timeout: timeout)
    }

    public func send(_ method: String, _ url: URL, headers: [String: String], body: Data?, timeout: TimeInterval) async throws -> HTTPResponse {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return try await perform(request)
    }

    private func perform(_ request: URLRequest) async throws -> HTTPResponse {
        // A cancelled caller sends nothing more; a request already sent runs to its answer (below).
        try Task.checkCancellation()
        let data: Data
        let response: URLResponse
        do {
            // In a task nobody cancels. On Linux, cancelling a task inside `URLSession.data(for:)`
            // can deadlock with that request finishing: the cancel waits for the session's queue
            // while it holds the task's lock, and the session's queue waits for that lock to hand
            // the answer over. A sync whose Odoo half failed while Plane requests were in flight
            // hung that way until killed. A cancelled caller now waits for its answer, or the
            // timeout, and sees the cancellation at its next request (above).
            let session = self.session
            (data, response) = try await Task.detached(priority: Task.currentPriority) {
                try await session.data(for: request)
            }.value
        } catch let error as URLError {
            throw TransportError(kind: URLSessionTransport.kind(of: error), detail: URLSessionTransport.describe(error))
        } catch {
            throw TransportError(kind: .other, detail: "\(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else {
            throw TransportError(kind: .other, detail: "the answer was not HTTP")
        }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            guard let name = (key as? String)?.lowercased(), let text = value as? String else { continue }
            headers[name] = headers[name].map { "\($0), \(text)" } ?? text
        }
        // A body shorter than its Content-Length means the connection broke mid-answer. With a
        // Content-Encoding the length counts the encoded bytes, and libcurl hands over the
        // decoded ones: the two cannot be compared (a small gzip answer is longer encoded).
        let encoding = headers["content-encoding"]?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        if encoding.isEmpty || encoding == "identity",
           let declared = headers["content-length"].flatMap({ Int($0) }), declared > data.count {
            throw TransportError(kind: .connectionLost, detail: "the answer was cut off after \(data.count) of \(declared) bytes")
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: data)
    }

    /// Answers every redirect with "do not follow", so that the 3xx answer itself comes back.
    private final class RedirectRefusal: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
            completionHandler(nil)
        }
    }

    static func kind(of error: URLError) -> TransportError.Kind {
        switch error.code {
        case .timedOut: return .timeout
        case .networkConnectionLost, .cannotParseResponse, .badServerResponse, .zeroByteResource, .unknown: return .connectionLost
        case .cannotConnectToHost, .notConnectedToInternet: return .cannotConnect
        case .cannotFindHost, .dnsLookupFailed: return .cannotResolveHost
        default: return .other
        }
    }

    static func describe(_ error: URLError) -> String {
        switch error.code {
        case .timedOut: return "the request timed out"
        case .networkConnectionLost: return "the connection was lost"
        case .cannotConnectToHost: return "the connection was refused"
        case .notConnectedToInternet: return "there is no network connection"
        case .cannotFindHost, .dnsLookupFailed: return "the host name could not be resolved"
        case .badServerResponse, .cannotParseResponse, .unknown: return "the server sent a broken answer"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            return "the TLS connection failed (certificate or protocol)"
        default: return "network error \(error.code.rawValue)"
        }
    }
}

/// How long a run waited for HTTP answers: the time during which at least one request was in
/// flight (from sending it to holding its whole body), so concurrent requests count once.
/// What a run does besides waiting is its wall time less this.
public final class HTTPWaitClock: @unchecked Sendable {
    private let lock = NSLock()
    private var inFlight = 0
    private var busySince: UInt64 = 0
    private var total: UInt64 = 0

    public init() {}

    func begin() {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        if inFlight == 0 { busySince = now }
        inFlight += 1
        lock.unlock()
    }

    func end() {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        inFlight -= 1
        if inFlight == 0 { total += now &- busySince }
        lock.unlock()
    }

    /// Seconds waited so far, the current wait included.
    public var seconds: Double {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        defer { lock.unlock() }
        return Double(total + (inFlight > 0 ? now &- busySince : 0)) / 1e9
    }
}

/// A transport that reports each exchange's wait to a clock.
public struct MeasuredTransport: HTTPTransport {
    let base: any HTTPTransport
    public let clock: HTTPWaitClock

    public init(_ base: any HTTPTransport, clock: HTTPWaitClock) {
        self.base = base
        self.clock = clock
    }

    public func post(_ url: URL, headers: [String: String], body: Data, timeout: TimeInterval) async throws -> HTTPResponse {
        clock.begin()
        defer { clock.end() }
        return try await base.post(url, headers: headers, body: body, timeout: timeout)
    }

    public func get(_ url: URL, headers: [String: String], timeout: TimeInterval) async throws -> HTTPResponse {
        clock.begin()
        defer { clock.end() }
        return try await base.get(url, headers: headers, timeout: timeout)
    }

    public func send(_ method: String, _ url: URL, headers: [String: String], body: Data?, timeout: TimeInterval) async throws -> HTTPResponse {
        clock.begin()
        defer { clock.end() }
        return try await base.send(method, url, headers: headers, body: body, timeout: timeout)
    }
}
