import Foundation
import Testing
@testable import OdooSyncCore
@testable import OdooSyncServe

/// The pieces of `serve` that need no socket: signatures, the delivery checks, settings.
struct ServeUnitTests {
    @Test func everyRecordedPlaneSignatureVerifiesAndNoTamperedBodyDoes() throws {
        let samples = try Deliveries.recordedPlane()
        #expect(samples.count >= 40)
        for (index, sample) in samples.enumerated() {
            let header = try #require(sample.headers["X-Plane-Signature"])
            #expect(WebhookSignature.sign(sample.body, secret: ServeProcess.sampleSecret) == header, "\(sample.name)")
            #expect(WebhookSignature.isValid(header, body: sample.body, secret: ServeProcess.sampleSecret), "\(sample.name)")
            #expect(WebhookSignature.isValid(header.uppercased(), body: sample.body, secret: ServeProcess.sampleSecret))
            #expect(!WebhookSignature.isValid(header, body: sample.body, secret: ServeProcess.sampleSecret + "x"))
            // One byte changed, at a different place in each sample.
            var tampered = sample.body
            let position = tampered.startIndex + (index * 37) % tampered.count
            tampered[position] ^= 0x01
            #expect(!WebhookSignature.isValid(header, body: tampered, secret: ServeProcess.sampleSecret), "\(sample.name) at \(position)")
            // The same payload re-serialised compactly is other bytes: it must not verify either.
            let compact = try JSONValue.parse(sample.body).data
            #expect(!WebhookSignature.isValid(header, body: compact, secret: ServeProcess.sampleSecret))
        }
        #expect(!WebhookSignature.isValid("not hex", body: Data(), secret: "s"))
        #expect(!WebhookSignature.isValid("abcd", body: Data(), secret: "s"), "a short signature is refused")
    }

    @Test func requestLogMilliseconds() {
        #expect(ServeResponder.milliseconds(.milliseconds(12) + .microseconds(345)) == "12.34")
        #expect(ServeResponder.milliseconds(.seconds(2) + .microseconds(50)) == "2000.05")
        #expect(ServeResponder.milliseconds(.microseconds(7)) == "0.00")
    }

    @Test func constantTimeEqualsIsEquality() {
        #expect(WebhookSignature.constantTimeEquals("token-abc", "token-abc"))
        #expect(!WebhookSignature.constantTimeEquals("token-abc", "token-abd"))
        #expect(!WebhookSignature.constantTimeEquals("token-abc", "token-ab"))
        #expect(!WebhookSignature.constantTimeEquals("", "x"))
    }

    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let source: WebhookSource
        let headers: [String: String]
        let body: String
        let status: Int?
        let reason: String?
    }

    static let planeBody = #"{"event": "issue", "action": "updated", "data": {"id": "e2"}}"#
    static let cases: [Case] = [
        Case(description: "plane ok", source: .plane, headers: ["X-Plane-Delivery": "d1", "X-Plane-Event": "issue"], body: planeBody,
             status: nil, reason: nil),
        Case(description: "plane event header disagrees", source: .plane, headers: ["X-Plane-Delivery": "d1", "X-Plane-Event": "cycle"],
             body: planeBody, status: 400, reason: "unknown_event"),
        Case(description: "plane unknown action", source: .plane, headers: ["X-Plane-Delivery": "d1"],
             body: #"{"event": "issue", "action": "archived", "data": {"id": "e2"}}"#, status: 400, reason: "unknown_event"),
        Case(description: "plane without data", source: .plane, headers: ["X-Plane-Delivery": "d1"],
             body: #"{"event": "issue", "action": "created"}"#, status: 400, reason: "bad_payload"),
        Case(description: "plane array body", source: .plane, headers: ["X-Plane-Delivery": "d1"], body: "[1]", status: 400,
             reason: "malformed_json"),
        Case(description: "odoo ok, id from the body", source: .odoo, headers: [:],
             body: #"{"id": "o1", "model": "project.task", "record_id": 7, "event": "create"}"#, status: nil, reason: nil),
        Case(description: "odoo ids disagree", source: .odoo, headers: ["X-Odoo-Delivery": "o2"],
             body: #"{"id": "o1", "model": "crm.lead", "record_id": 7, "event": "write"}"#, status: 400, reason: "bad_payload"),
        Case(description: "odoo record id as text", source: .odoo, headers: ["X-Odoo-Delivery": "o2"],
             body: #"{"model": "crm.lead", "record_id": "7", "event": "write"}"#, status: 400, reason: "bad_payload"),
        Case(description: "odoo record id 1", source: .odoo, headers: ["X-Odoo-Delivery": "o3"],
             body: #"{"model": "crm.lead", "record_id": 1, "event": "write"}"#, status: nil, reason: nil),
        Case(description: "odoo record id true", source: .odoo, headers: ["X-Odoo-Delivery": "o3"],
             body: #"{"model": "crm.lead", "record_id": true, "event": "write"}"#, status: 400, reason: "bad_payload"),
        Case(description: "odoo record id 4.5", source: .odoo, headers: ["X-Odoo-Delivery": "o3"],
             body: #"{"model": "crm.lead", "record_id": 4.5, "event": "write"}"#, status: 400, reason: "bad_payload"),
        Case(description: "odoo unknown event", source: .odoo, headers: ["X-Odoo-Delivery": "o2"],
             body: #"{"model": "crm.lead", "record_id": 7, "event": "archive"}"#, status: 400, reason: "unknown_event"),
        Case(description: "odoo without any delivery id", source: .odoo, headers: [:],
             body: #"{"model": "crm.lead", "record_id": 7, "event": "write"}"#, status: 400, reason: "missing_delivery_id"),
    ]

    @Test(arguments: cases) func deliveryChecks(_ c: Case) {
        let secret = "unit-secret"
        let body = Data(c.body.utf8)
        var headers = c.headers
        headers[c.source == .plane ? "X-Plane-Signature" : "X-Odoo-Signature"] = WebhookSignature.sign(body, secret: secret)
        let result = WebhookParser.parse(source: c.source, header: { headers[$0] }, body: body, secret: secret)
        switch result {
        case .success(let delivery):
            #expect(c.status == nil, "accepted, expected \(c.reason ?? "")")
            #expect(delivery.body == body)
        case .failure(let rejection):
            #expect(rejection.status == c.status, "\(rejection)")
            #expect(rejection.reason == c.reason, "\(rejection)")
        }
    }

    @Test func settingsRefuseAShortTokenAndABadAlertURLWithoutEchoingThem() throws {
        #expect(throws: ConfigurationError.self) {
            try ServeSettings.resolve(environment: ["ODOOSYNC_SERVE_TOKEN": "short"], file: ConfigFile(), host: nil, port: nil, busyTimeout: 1)
        }
        let file = try ConfigFile.parse("[plane]\nwebhook_secret = \"from-file-secret\"\n[serve]\nport = 9001\n")
        let settings = try ServeSettings.resolve(environment: ["PLANE_WEBHOOK_SECRET": "from-env-secret"], file: file, host: nil,
                                                 port: nil, busyTimeout: 1)
        #expect(settings.planeWebhookSecret == "from-env-secret", "the environment wins")
        #expect(settings.port == 9001)
        #expect(!settings.description.contains("secret"))
        let bad = "hooks.slack.com/services/T0/B0/secretTOKEN"
        do {
            _ = try ServeSettings.alertURL(environment: ["ODOOSYNC_ALERT_WEBHOOK_URL": bad], file: ConfigFile())
            Issue.record("a URL without a scheme was accepted")
        } catch {
            #expect(!"\(error)".contains("secretTOKEN"))
        }
        #expect(ConfigFile.secretKeys.isSuperset(of: ["plane.webhook_secret", "odoo.webhook_secret", "serve.token", "alerts.slack_webhook_url"]))
    }
}
