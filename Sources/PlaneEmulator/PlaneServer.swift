import Foundation
import Hummingbird
import Logging
import OdooSyncCore

struct PlaneRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// Thrown from a response body on purpose: the connection closes mid-answer.
struct PlaneConnectionCut: Error {}

/// Turns HTTP requests into `PlaneCore` calls, applying the fault plan around them and
/// recording every write.
struct PlaneResponder: HTTPResponder {
    typealias Context = PlaneRequestContext
    let core: PlaneCore

    func respond(to request: Request, context: PlaneRequestContext) async throws -> Response {
        let method = request.method.rawValue
        let path = request.uri.path
        core.enterRequest()
        defer { core.leaveRequest() }
        let fault = core.admit(method: method, path: path, query: request.uri.query)
        core.callRequestHook(method: method, path: path, query: request.uri.query)
        var request = request
        let bytes = try await request.collectBody(upTo: 64 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        let incoming = PlaneHTTPRequest(method: method, path: path, query: PlaneResponder.parseQuery(request.uri.query ?? ""),
                                        headers: headers, body: Array(bytes.readableBytesView))
        let isWrite = method != "GET" && method != "HEAD"
        func record(_ status: Int, applied: Bool) {
            guard isWrite else { return }
            let query = request.uri.query.map { "?" + $0 } ?? ""
            core.record(PlaneRecordedWrite(method: method, path: path + query, body: Data(incoming.body), status: status,
                                           applied: applied, time: Date()))
        }

        switch fault {
        case .latency(let milliseconds)?:
            try await Task.sleep(for: .milliseconds(milliseconds))
        case .httpError(let status)?:
            record(status, applied: false)
            return PlaneResponder.faultPage(status: status)
        case .proxyPage(let status)?:
            record(status, applied: false)
            return PlaneResponder.proxyPage(status: status)
        case .serverError?:
            record(502, applied: false)
            return PlaneResponder.faultPage(status: 502)
        case .rateLimited(let retryAfter)?:
            record(429, applied: false)
            return makeResponse(PlaneHTTPReply(status: 429, json: ["error_code": 5900, "error_message": "RATE_LIMIT_EXCEEDED"],
                                               headers: [("Retry-After", String(retryAfter))]))
        case .refused(let field, let message)?:
            record(400, applied: false)
            return makeResponse(.json(400, .object([(field, .array([.string(message)]))])))
        case .dropConnection?:
            record(0, applied: false)
            return PlaneResponder.dropped()
        default:
            break
        }

        let reply = core.handle(incoming)
        if case .dropAfterApply? = fault {
            record(0, applied: (200..<300).contains(reply.status))
            return PlaneResponder.dropped()
        }
        record(reply.status, applied: (200..<300).contains(reply.status))
        return makeResponse(reply)
    }

    /// Splits a raw query string, decoding percent escapes and `+` as Django does.
    static func parseQuery(_ query: String) -> [(String, String)] {
        func decode(_ text: Substring) -> String {
            String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
        }
        return query.split(separator: "&").map { pair in
            guard let eq = pair.firstIndex(of: "=") else { return (decode(pair), "") }
            return (decode(pair[..<eq]), decode(pair[pair.index(after: eq)...]))
        }
    }

    /// Plane's own 500 is JSON; 502-504 come from the proxy in front of it as HTML.
    static func faultPage(status: Int) -> Response {
        if status == 500 {
            return makeResponseStatic(PlaneHTTPReply.somethingWentWrong)
        }
        return proxyPage(status: status)
    }

    static func proxyPage(status: Int) -> Response {
        let title = status == 502 ? "502 Bad Gateway" : status == 503 ? "503 Service Temporarily Unavailable"
            : status == 500 ? "500 Internal Server Error" : "\(status) Error"
        let html = "<html>\r\n<head><title>\(title)</title></head>\r\n<body>\r\n<center><h1>\(title)</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        return makeResponseStatic(PlaneHTTPReply(status: status, json: nil, headers: [("Content-Type", "text/html")], html: html))
    }

    private func makeResponse(_ reply: PlaneHTTPReply) -> Response { PlaneResponder.makeResponseStatic(reply) }

    static func makeResponseStatic(_ reply: PlaneHTTPReply) -> Response {
        var fields = HTTPFields()
        var body = ByteBuffer()
        if let json = reply.json {
            fields[.contentType] = "application/json"
            body = ByteBuffer(string: json.serialized)
        } else if let html = reply.html {
            body = ByteBuffer(string: html)
        }
        for (name, value) in reply.headers + [("X-Frame-Options", "DENY"), ("Vary", "Accept-Encoding, Cookie, origin")] {
            if let fieldName = HTTPFields.Element.Name(name) { fields[fieldName] = value }
        }
        return Response(status: HTTPResponse.Status(code: reply.status), headers: fields, body: ResponseBody(byteBuffer: body))
    }

    /// The connection breaks before any of the body arrives (a handler that closed the
    /// channel itself left libcurl waiting for its timeout).
    static func dropped() -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        return Response(status: .ok, headers: fields, body: ResponseBody(contentLength: 4096) { _ in throw PlaneConnectionCut() })
    }
}

/// The running server: its task, its port, and how to stop it.
final class PlaneServerHandle: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, Never>?
    private var boundPort: Int?

    var port: Int? { lock.withLock { boundPort } }

    func start(core: PlaneCore, host: String, port: Int) async throws -> Int {
        if let running = self.port { return running }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let failure = PlaneFailureBox()
        var logger = Logger(label: "plane-emulator")
        logger.logLevel = .critical
        let app = Application(
            responder: PlaneResponder(core: core),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "gunicorn"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? port)
                continuation.finish()
            },
            logger: logger)
        let task = Task {
            do {
                try await app.run()
            } catch {
                failure.set(error)
            }
            continuation.finish()
        }
        lock.withLock { self.task = task }
        for await bound in ports {
            lock.withLock { boundPort = bound }
            return bound
        }
        lock.withLock { self.task = nil }
        throw failure.error ?? PlaneEmulatorError(status: 0, body: "the Plane emulator's HTTP server did not start")
    }

    func stop() async {
        let task = lock.withLock {
            let task = self.task
            self.task = nil
            boundPort = nil
            return task
        }
        task?.cancel()
        await task?.value
    }

    func wait() async {
        let task = lock.withLock { self.task }
        await task?.value
    }
}

private final class PlaneFailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    func set(_ error: any Error) { lock.withLock { stored = error } }
    var error: (any Error)? { lock.withLock { stored } }
}
