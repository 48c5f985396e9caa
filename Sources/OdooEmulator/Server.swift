import Foundation
import Hummingbird
import Logging

struct EmulatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// Thrown after the connection was closed on purpose; nothing more can be written.
struct ConnectionCut: Error {}

/// Routes every request by hand (the emulated server's URL space is small and fixed) and
/// applies the fault plan around it.
struct EmulatorResponder: HTTPResponder {
    typealias Context = EmulatorRequestContext
    let core: EmulatorCore

    func respond(to request: Request, context: EmulatorRequestContext) async throws -> Response {
        let path = request.uri.path
        core.enterRequest()
        defer { core.leaveRequest() }
        let fault = core.admitRequest(path: path)
        var request = request
        let body = try await request.collectBody(upTo: 512 << 20)
        var incoming = IncomingRequest(
            method: request.method.rawValue, path: path,
            headers: request.headers.map { ($0.name.canonicalName, $0.value) },
            body: Array(body.readableBytesView))

        switch fault {
        case .latency(let milliseconds)?:
            try await Task.sleep(for: .milliseconds(milliseconds))
        case .httpError(let status)?:
            return makeResponse(EmulatorResponder.faultPage(status: status))
        case .serverError?:
            return makeResponse(EmulatorResponder.faultPage(status: 502))
        case .dropConnection?:
            return EmulatorResponder.dropped()
        case .truncatedBody?:
            incoming.dryRunWrites = true
        default:
            break
        }

        let outgoing = core.route(incoming)

        switch fault {
        case .dropAfterApply?:
            return EmulatorResponder.dropped()
        case .truncatedBody?:
            return truncated(outgoing)
        default:
            return makeResponse(outgoing)
        }
    }

    static func faultPage(status: Int) -> OutgoingResponse {
        if status >= 502 {
            return OutgoingResponse(
                status: status, headers: [("Content-Type", "text/html"), ("Server", "nginx")],
                body: ByteBuffer(string: ErrorPages.nginx(status: status)))
        }
        return .werkzeugPage(status: status, description: ErrorPages.internalErrorDescription)
    }

    private func headers(_ outgoing: OutgoingResponse) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in outgoing.headers {
            if let fieldName = HTTPFields.Element.Name(name) { fields.append(HTTPFields.Element(name: fieldName, value: value)) }
        }
        return fields
    }

    private func status(_ code: Int) -> HTTPResponse.Status {
        HTTPResponse.Status(code: code)
    }

    private func makeResponse(_ outgoing: OutgoingResponse) -> Response {
        Response(status: status(outgoing.status), headers: headers(outgoing), body: ResponseBody(byteBuffer: outgoing.body))
    }

    /// The connection breaks before any of the answer's body arrives. (Closing the channel
    /// from inside the handler left libcurl clients waiting for their timeout instead.)
    static func dropped() -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        let body = ResponseBody(contentLength: 4096) { _ in
            throw ConnectionCut()
        }
        return Response(status: .ok, headers: fields, body: body)
    }

    /// Announces the full length, sends half, then fails the write, which closes the connection.
    private func truncated(_ outgoing: OutgoingResponse) -> Response {
        let full = outgoing.body
        let half = full.getSlice(at: full.readerIndex, length: full.readableBytes / 2) ?? ByteBuffer()
        let body = ResponseBody(contentLength: full.readableBytes) { writer in
            try await writer.write(half)
            // Let the partial body reach the socket before the connection is torn down.
            try await Task.sleep(for: .milliseconds(20))
            throw ConnectionCut()
        }
        return Response(status: status(outgoing.status), headers: headers(outgoing), body: body)
    }
}

extension EmulatorCore {
    func route(_ request: IncomingRequest) -> OutgoingResponse {
        let path = request.path
        switch path {
        case "/jsonrpc": return handleJSONRPC(request)
        case "/web/session/authenticate": return handleSessionAuthenticate(request)
        case "/web/session/get_session_info": return handleSessionInfo(request)
        case "/web/session/destroy": return handleSessionDestroy(request)
        case "/web/webclient/version_info": return handleVersionInfo(request)
        case "/web/version": return handleWebVersion()
        default:
            if path == "/web/dataset/call_kw" || path.hasPrefix("/web/dataset/call_kw/") { return handleCallKw(request) }
            if path == "/json/2" || path.hasPrefix("/json/2/") { return handleJSON2(request) }
            return .notFoundPage
        }
    }
}

/// The running server: its task, its port, and how to stop it.
final class ServerHandle: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, Never>?
    private var boundPort: Int?

    var port: Int? {
        lock.lock()
        defer { lock.unlock() }
        return boundPort
    }

    func start(core: EmulatorCore, host: String, port: Int) async throws -> Int {
        if let running = self.port { return running }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let failure = FailureBox()
        var logger = Logger(label: "odoo-emulator")
        logger.logLevel = .critical
        let app = Application(
            responder: EmulatorResponder(core: core),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "Werkzeug/2.2.2 Python/3.11.7"),
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
            core.baseURL = "http://\(host):\(bound)"
            return bound
        }
        lock.withLock { self.task = nil }
        throw failure.error ?? EmulatorSetupError("the emulator's HTTP server did not start")
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

private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?

    func set(_ error: any Error) {
        lock.lock()
        stored = error
        lock.unlock()
    }

    var error: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
