import Foundation
import Hummingbird
import Logging

/// A loopback HTTP server whose every answer the test writes, and which keeps what it was sent:
/// for what stands between odoosync and Odoo and the emulator does not play (a redirect, a
/// gzip-encoding proxy, a single sign-on login page).
final class CannedServer: @unchecked Sendable {
    struct Received: Sendable {
        let method: String
        let path: String
        /// Names lowercased.
        let headers: [String: String]
        let body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct Answer: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        static func json(_ text: String, headers: [(String, String)] = []) -> Answer {
            Answer(status: 200, headers: [("Content-Type", "application/json")] + headers, body: Array(text.utf8))
        }
    }

    /// Answers a request; the second argument is the server's own `http://127.0.0.1:<port>`.
    typealias Responder = @Sendable (Received, String) -> Answer

    private let lock = NSLock()
    private var log: [Received] = []
    private var task: Task<Void, Never>?
    private let responder: Responder
    private(set) var port = 0

    init(_ responder: @escaping Responder) {
        self.responder = responder
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var received: [Received] { lock.withLock { log } }

    static func start(_ responder: @escaping Responder) async throws -> CannedServer {
        let server = CannedServer(responder)
        try await server.start()
        return server
    }

    private func start() async throws {
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { [self] request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            let received = Received(method: request.method.rawValue, path: request.uri.path, headers: headers,
                                    body: Data(body.readableBytesView))
            lock.withLock { log.append(received) }
            let answer = responder(received, baseURL)
            var fields = HTTPFields()
            for (name, value) in answer.headers {
                if let fieldName = HTTPFields.Element.Name(name) { fields.append(HTTPFields.Element(name: fieldName, value: value)) }
            }
            return Response(status: .init(code: answer.status), headers: fields,
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        router.post("/**", use: handler)
        router.get("/**", use: handler)
        (port, task) = try await LoopbackApp.start(router, name: "canned server")
    }

    func stop() async {
        task?.cancel()
        await task?.value
    }
}

/// A Hummingbird app on a free loopback port, for the test servers that stand in for what is
/// neither Odoo nor Plane; stopped by cancelling its task.
enum LoopbackApp {
    static func start(_ router: Router<BasicRequestContext>, name: String) async throws -> (port: Int, task: Task<Void, Never>) {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: name)
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  continuation.yield(channel.localAddress?.port ?? 0)
                                  continuation.finish()
                              }, logger: logger)
        let task = Task<Void, Never> { try? await app.run() }
        for await bound in ports { return (bound, task) }
        task.cancel()
        throw HarnessError("the \(name) did not start")
    }
}

/// gzip without a compressor: one stored deflate block. Like gzip on a small answer, the encoded
/// form is longer than the text.
enum StoredGzip {
    static func encode(_ text: String) -> [UInt8] {
        let data = Array(text.utf8)
        precondition(data.count < 65_535, "one stored block holds at most 65535 bytes")
        let length = UInt16(data.count)
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        out += [1, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
        out += data
        out += littleEndian(crc32(data)) + littleEndian(UInt32(data.count))
        return out
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
