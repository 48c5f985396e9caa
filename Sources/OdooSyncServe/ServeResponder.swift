import Foundation
import Hummingbird
import Logging
import OdooSyncCore
import OdooSyncMirror

public struct ServeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address, for the request log and rejection rows.
    public let remote: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remote = source.channel.remoteAddress?.ipAddress
    }
}

/// Routes by hand: the URL space is five fixed entries, two of them told apart by the query
/// string as the edge function was.
///
///     POST /webhooks/plane        POST /?source=plane
///     POST /webhooks/odoo         POST /?source=odoo
///     GET  /?action=status        POST /?action=sync       (bearer token)
///     GET  /healthz
struct ServeResponder: HTTPResponder {
    typealias Context = ServeRequestContext

    let settings: ServeSettings
    let intake: DeliveryIntake
    let gate: RunGate
    let trigger: any SyncTrigger
    let alerts: AlertThrottle
    let mirror: Mirror
    let statusDocument: @Sendable () async throws -> JSONValue
    let logger: Logger
    let redact: @Sendable (String) -> String

    /// What the request log says about a request beyond method, path and status.
    struct Note {
        var deliveryID: String?
        var outcome: String?
    }

    func respond(to request: Request, context: ServeRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        var note = Note()
        let response = await route(request, context: context, note: &note)
        let elapsed = ContinuousClock.now - started
        var metadata: Logger.Metadata = [
            "http.method": "\(request.method.rawValue)",
            "http.path": "\(Self.loggedPath(request))",
            "http.status": "\(response.status.code)",
            "http.ms": "\(Self.milliseconds(elapsed))",
        ]
        if let remote = context.remote { metadata["http.remote"] = "\(remote)" }
        if let id = note.deliveryID { metadata["webhook.delivery"] = "\(redact(String(id.prefix(80))))" }
        if let outcome = note.outcome { metadata["outcome"] = "\(outcome)" }
        logger.info("request", metadata: metadata)
        return response
    }

    /// "12.34": two decimals without String(format:), which costs more than it should per request.
    static func milliseconds(_ duration: Duration) -> String {
        let hundredths = duration.components.seconds * 100_000 + duration.components.attoseconds / 10_000_000_000_000
        let whole = hundredths / 100, fraction = hundredths % 100
        return "\(whole)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    /// The path and only the query keys this server knows: a token pasted into a query string
    /// by mistake is not logged.
    static func loggedPath(_ request: Request) -> String {
        let uri = request.uri
        let params = uri.queryParameters
        var known: [String] = []
        for key in ["source", "action"] {
            if let value = params[Substring(key)] { known.append("\(key)=\(value.prefix(20))") }
        }
        return known.isEmpty ? uri.path : uri.path + "?" + known.joined(separator: "&")
    }

    private func route(_ request: Request, context: ServeRequestContext, note: inout Note) async -> Response {
        let path = request.uri.path
        let params = request.uri.queryParameters
        switch path {
        case "/webhooks/plane", "/webhooks/plane/":
            return await onlyPost(request) { await webhook(.plane, request, context: context, note: &note) }
        case "/webhooks/odoo", "/webhooks/odoo/":
            return await onlyPost(request) { await webhook(.odoo, request, context: context, note: &note) }
        case "/healthz":
            return Self.json(200, ["ok": true])
        case "/", "":
            let source = params["source"].map(String.init)
            let action = params["action"].map(String.init)
            switch (source, action) {
            case (let source?, nil):
                guard let source = WebhookSource(rawValue: source) else {
                    return Self.error(400, "unknown_source", "`source` must be plane or odoo")
                }
                return await onlyPost(request) { await webhook(source, request, context: context, note: &note) }
            case (nil, "status"?):
                guard request.method == .get else { return Self.methodNotAllowed("GET") }
                return await authorized(request, context: context, note: &note) { await status() }
            case (nil, "sync"?):
                guard request.method == .post else { return Self.methodNotAllowed("POST") }
                return await authorized(request, context: context, note: &note) { await sync() }
            case (nil, let action?):
                return Self.error(400, "unknown_action", "unknown action `\(action.prefix(40))`: use status or sync")
            case (nil, nil):
                return Self.error(404, "not_found", "nothing here: deliveries go to /webhooks/plane or /webhooks/odoo")
            case (_?, _?):
                return Self.error(400, "ambiguous", "give either `source` or `action`, not both")
            }
        default:
            return Self.error(404, "not_found", "no route \(path.prefix(80))")
        }
    }

    private func onlyPost(_ request: Request, _ body: () async -> Response) async -> Response {
        guard request.method == .post else { return Self.methodNotAllowed("POST") }
        return await body()
    }

    // MARK: webhooks

    private func webhook(_ source: WebhookSource, _ request: Request, context: ServeRequestContext, note: inout Note) async -> Response {
        let deliveryHeader = source == .plane ? WebhookParser.planeDeliveryHeader : WebhookParser.odooDeliveryHeader
        note.deliveryID = Self.header(request, deliveryHeader)
        let limit = settings.maxBodyBytes
        // A declared length over the limit is refused before a byte of the body is read.
        if let declared = Self.header(request, "Content-Length").flatMap(Int.init), declared > limit {
            return await reject(source, WebhookRejection(413, "too_large", "the body is \(declared) bytes; the limit is \(limit)",
                                                         deliveryID: note.deliveryID), bytes: declared, context: context, note: &note)
        }
        var body = ByteBuffer()
        do {
            for try await chunk in request.body {
                guard body.readableBytes + chunk.readableBytes <= limit else {
                    return await reject(source, WebhookRejection(413, "too_large", "the body is over the limit of \(limit) bytes",
                                                                 deliveryID: note.deliveryID),
                                        bytes: body.readableBytes + chunk.readableBytes, context: context, note: &note)
                }
                var chunk = chunk
                body.writeBuffer(&chunk)
            }
        } catch {
            note.outcome = "body_error"
            return Self.error(400, "bad_body", "the request body could not be read")
        }
        let bytes = Data(body.readableBytesView)
        let parsed = WebhookParser.parse(source: source, header: { Self.header(request, $0) }, body: bytes,
                                         secret: source == .plane ? settings.planeWebhookSecret : settings.odooWebhookSecret)
        switch parsed {
        case .failure(let rejection):
            return await reject(source, rejection, bytes: bytes.count, context: context, note: &note)
        case .success(let delivery):
            note.deliveryID = delivery.deliveryID
            do {
                let outcome = try await store(delivery)
                note.outcome = outcome == .duplicate ? "duplicate" : "stored"
                return Self.json(200, .object([("ok", true), ("delivery_id", .string(delivery.deliveryID)),
                                               ("status", .string(outcome == .duplicate ? "duplicate" : "stored"))]))
            } catch {
                // Not stored, so not acknowledged: after a wait on a locked mirror, Plane has given
                // up waiting and will send it again; another sender learns it may try again.
                note.outcome = "store_failed"
                logger.error("cannot store a delivery", metadata: ["error": "\(redact("\(error)"))"])
                return Self.error(503, "store_failed", "the delivery could not be stored; try again later")
            }
        }
    }

    /// Stores a delivery, trying again for `storeWaitSeconds` while another process holds the
    /// mirror's write lock: such a lock usually passes, and an error answer would lose a Plane
    /// delivery for good (Plane retries a timeout, never an error status). Other failures (disk
    /// full, a read-only or damaged file) would not pass in seconds, and holding every delivery
    /// past Plane's timeout would end with Plane switching the webhook off: they are answered
    /// at once. A wait cut short by shutdown is not answered at all: the connection closes with
    /// the process, which Plane also retries.
    private func store(_ delivery: IncomingDelivery) async throws -> DeliveryStore.Outcome {
        let started = Date()
        var pause: TimeInterval = 0.25
        while true {
            do {
                return try await intake.submit(.delivery(delivery))
            } catch let failure {
                guard case MirrorError.busy = failure else { throw failure }
                let left = settings.storeWaitSeconds - Date().timeIntervalSince(started)
                guard left > 0 else { throw failure }
                logger.warning("cannot store a delivery yet; trying again", metadata: [
                    "delivery_id": "\(delivery.deliveryID)", "error": "\(redact("\(failure)"))"])
                // Not cancellable: shutdown ends this request by ending the process.
                await Self.pause(min(pause, left))
                pause = min(pause * 2, 2)
            }
        }
    }

    private static func pause(_ seconds: TimeInterval) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { done.resume() }
        }
    }

    private func reject(_ source: WebhookSource?, _ rejection: WebhookRejection, bytes: Int, context: ServeRequestContext,
                        note: inout Note) async -> Response {
        note.outcome = rejection.reason
        do {
            _ = try await intake.submit(.rejection(RejectionRecord(source: source, rejection: rejection, bodyBytes: bytes,
                                                                   remote: context.remote)))
        } catch {
            logger.error("cannot record a rejection", metadata: ["error": "\(redact("\(error)"))"])
        }
        var response = Self.error(rejection.status, rejection.reason, rejection.message)
        if rejection.status == 413 { response.headers[.connection] = "close" }
        return response
    }

    // MARK: status and sync

    private func authorized(_ request: Request, context: ServeRequestContext, note: inout Note,
                            _ body: () async -> Response) async -> Response {
        let rejection: WebhookRejection?
        if let token = settings.token {
            let given = Self.header(request, "Authorization") ?? ""
            let prefix = "bearer "
            if given.count > prefix.count, given.lowercased().hasPrefix(prefix),
               WebhookSignature.constantTimeEquals(String(given.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces), token) {
                rejection = nil
            } else {
                rejection = WebhookRejection(401, given.isEmpty ? "missing_token" : "bad_token",
                                             given.isEmpty ? "send `Authorization: Bearer <token>`" : "the bearer token is wrong")
            }
        } else {
            rejection = WebhookRejection(401, "no_token", "the status and sync endpoints are off: set ODOOSYNC_SERVE_TOKEN on the receiver")
        }
        if let rejection {
            var response = await reject(nil, rejection, bytes: 0, context: context, note: &note)
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return await body()
    }

    private func status() async -> Response {
        do {
            return Self.json(200, try await statusDocument())
        } catch {
            return Self.error(503, "status_failed", redact("\(error)"))
        }
    }

    private func sync() async -> Response {
        do {
            let summary = try await gate.withRun(timeout: settings.busyTimeout) { [trigger, mirror] in
                defer { try? Checkpointer.disableAutomatic(on: mirror) }
                return try await trigger.sync(reason: .manual)
            }
            if summary.failed > 0 {
                await alerts.alert(job: "serve sync", failed: summary.failed, errors: summary.errors, mirror: mirror)
            }
            return Self.json(200, .object([
                ("ok", .bool(summary.failed == 0)), ("processed", .int(summary.processed)), ("failed", .int(summary.failed)),
                ("errors", .array(summary.errors.map { .string(redact($0)) })), ("details", summary.details),
            ]))
        } catch {
            let message = redact("\(error)")
            await alerts.alert(job: "serve sync", failed: 1, errors: [message], mirror: mirror)
            if case MirrorError.busy = error { return Self.error(409, "busy", message) }
            if let error = error as? any UserFacingError, error.exitStatus == .remote { return Self.error(502, "remote", message) }
            return Self.error(500, "sync_failed", message)
        }
    }

    // MARK: answers

    static func header(_ request: Request, _ name: String) -> String? {
        guard let field = HTTPFields.Element.Name(name) else { return nil }
        return request.headers[field]
    }

    static func json(_ status: Int, _ value: JSONValue) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        return Response(status: HTTPResponse.Status(code: status), headers: fields,
                        body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized + "\n")))
    }

    static func error(_ status: Int, _ reason: String, _ message: String) -> Response {
        json(status, .object([("ok", false), ("error", .string(message)), ("reason", .string(reason))]))
    }

    static func methodNotAllowed(_ allowed: String) -> Response {
        var response = error(405, "method_not_allowed", "use \(allowed)")
        response.headers[.allow] = allowed
        return response
    }
}
