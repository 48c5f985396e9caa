import Foundation
import GRDB
import Hummingbird
import Logging
import OdooSyncCore
import OdooSyncServe
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `odoosync serve` binary on a free loopback port, beside an Odoo emulator.
final class ServeProcess: @unchecked Sendable {
    static let planeSecret = "plane_wh_test_secret_0123456789abcdef"
    static let odooSecret = "odoo_wh_test_secret_fedcba9876543210"
    static let token = "serve-token-0123456789abcdef-XYZ"
    /// The secret the recorded Plane deliveries were signed with (reference/samples/README.md).
    static let sampleSecret = "plane_wh_harnesssecret0123456789abcdef"

    let running: CLI.Running
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    private init(running: CLI.Running, port: Int) {
        self.running = running
        self.port = port
    }

    static func defaultEnvironment(_ h: EmulatorHarness, extra: [String: String] = [:]) -> [String: String] {
        var env = h.environment(extra: ["PLANE_WEBHOOK_SECRET": planeSecret, "ODOO_WEBHOOK_SECRET": odooSecret,
                                        "ODOOSYNC_SERVE_TOKEN": token, "ODOOSYNC_SERVE_RETRY_SECONDS": "0.2",
                                        "ODOOSYNC_SERVE_SYNC_INTERVAL": "0.2"])
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Starts `odoosync serve --port 0` and waits for its "listening on" line.
    static func start(_ h: EmulatorHarness, environment: [String: String]? = nil, arguments: [String] = []) async throws -> ServeProcess {
        let env = environment ?? defaultEnvironment(h)
        let running = try CLI.start(["serve", "--port", "0"] + arguments, environment: env, in: h.directory)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOf: running.out, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return ServeProcess(running: running, port: port) }
            }
            if !running.process.isRunning {
                let result = await running.finish()
                throw HarnessError("serve exited with \(result.status) before listening: \(result.output)")
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        running.process.terminate()
        throw HarnessError("serve did not start listening within 60 s")
    }

    /// SIGTERM (or another signal), then the exit status and output.
    func stop(_ signal: Int32 = SIGTERM) async -> ProcessResult {
        if running.process.isRunning { kill(running.process.processIdentifier, signal) }
        return await running.finish()
    }

    func kill9() async -> ProcessResult {
        running.kill9()
        return await running.finish()
    }

    /// What serve has written to stderr so far (its request log).
    var stderrSoFar: String { (try? String(contentsOf: running.err, encoding: .utf8)) ?? "" }
}

// HarnessError is declared in SyncHarness.swift.

/// A plain HTTP client with room for hundreds of connections at once.
enum HTTP {
    static let session: URLSession = {
        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = 256
        config.timeoutIntervalForRequest = 120
        config.urlCache = nil
        return URLSession(configuration: config)
    }()

    struct Answer: Sendable {
        let status: Int
        let body: Data
        var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static func send(_ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil) async throws -> Answer {
        guard let target = URL(string: url) else { throw HarnessError("bad URL \(url)") }
        var request = URLRequest(url: target)
        request.httpMethod = method
        request.httpBody = body
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: request)
        return Answer(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }
}

/// Deliveries as the senders make them.
enum Deliveries {
    /// A Plane issue delivery in Plane's own byte layout (Python's json.dumps separators).
    static func plane(event: String = "issue", action: String = "updated", issueID: String = UUID().uuidString.lowercased(),
                      name: String = "Fix login redirect", padTo size: Int? = nil) -> Data {
        var text = "{\"event\": \"\(event)\", \"action\": \"\(action)\", \"webhook_id\": \"b70bac1b-ef3c-48c1-a9ee-2def22bedd42\", \"workspace_id\": \"9a883474-bde8-4922-aab6-c3638c93aed7\", \"data\": {\"id\": \"\(issueID)\", \"name\": \"\(name)\", \"priority\": \"high\", \"description_html\": \"<p>\(String(repeating: "x", count: 40))</p>\"}, \"activity\": {\"field\": \"name\", \"new_value\": \"\(name)\", \"old_value\": null}}"
        if let size, text.utf8.count < size {
            let pad = String(repeating: "p", count: size - text.utf8.count - 14)
            text.insert(contentsOf: ", \"pad\": \"\(pad)\"", at: text.index(before: text.endIndex))
        }
        return Data(text.utf8)
    }

    static func planeHeaders(_ body: Data, deliveryID: String, event: String = "issue", secret: String = ServeProcess.planeSecret) -> [String: String] {
        ["Content-Type": "application/json", "User-Agent": "Autopilot", "X-Plane-Delivery": deliveryID, "X-Plane-Event": event,
         "X-Plane-Signature": WebhookSignature.sign(body, secret: secret)]
    }

    static func odoo(deliveryID: String, model: String = "crm.lead", recordID: Int, event: String = "write") -> Data {
        Data("{\"id\": \"\(deliveryID)\", \"model\": \"\(model)\", \"record_id\": \(recordID), \"event\": \"\(event)\"}".utf8)
    }

    static func odooHeaders(_ body: Data, deliveryID: String, secret: String = ServeProcess.odooSecret) -> [String: String] {
        ["Content-Type": "application/json", "X-Odoo-Delivery": deliveryID, "X-Odoo-Signature": WebhookSignature.sign(body, secret: secret)]
    }

    /// The recorded deliveries from a real Plane server: (file name, headers, raw body).
    static func recordedPlane() throws -> [(name: String, headers: [String: String], body: Data)] {
        let folder = TestPaths.samples.deletingLastPathComponent().appendingPathComponent("plane/webhooks")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let json = try JSONValue.parse(Data(contentsOf: folder.appendingPathComponent(name)))
            guard let raw = json["raw_body"]?.stringValue, let headerPairs = json["headers"]?.objectValue else {
                throw HarnessError("\(name) has no raw_body or headers")
            }
            var headers: [String: String] = [:]
            for (key, value) in headerPairs where key.hasPrefix("X-Plane") || key == "Content-Type" || key == "User-Agent" {
                headers[key] = value.stringValue
            }
            return (name, headers, Data(raw.utf8))
        }
    }
}

/// Polls until `condition` holds; a bound for failure, not a performance assertion.
func waitUntil(_ what: String, timeout: TimeInterval = 60, _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        try await Task.sleep(nanoseconds: 100_000_000)
    }
    throw HarnessError("timed out waiting until \(what)")
}

/// A Slack-style incoming webhook on loopback that keeps what it is sent.
final class AlertReceiver: @unchecked Sendable {
    private let lock = NSLock()
    private var bodies: [Data] = []
    private var task: Task<Void, Never>?
    private(set) var port = 0
    let status: Int

    init(status: Int = 200) {
        self.status = status
    }

    /// A path shaped like Slack's, whose last part is the kind of token that must never be printed.
    static let secretPath = "/services/T000/B000/alertTOKEN0123456789abcdef"
    var url: String { "http://127.0.0.1:\(port)\(AlertReceiver.secretPath)" }

    var received: [JSONValue] { lock.withLock { bodies.compactMap { try? JSONValue.parse($0) } } }

    func start() async throws {
        let router = Router()
        router.post("/**") { [self] request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            lock.withLock { bodies.append(Data(body.readableBytesView)) }
            return Response(status: HTTPResponse.Status(code: status), body: ResponseBody(byteBuffer: ByteBuffer(string: "ok")))
        }
        (port, task) = try await LoopbackApp.start(router, name: "alert receiver")
    }

    func stop() async {
        task?.cancel()
        await task?.value
    }
}
