import Foundation
import OdooSyncCore

public enum WebhookSource: String, Sendable, CaseIterable {
    case plane, odoo

    /// The `events.category` of work about this source, as the Supabase setup names them.
    var category: String { self == .plane ? "plane-sync" : "odoo-crm-sync" }
}

/// A delivery that passed every check and may be stored.
public struct IncomingDelivery: Sendable {
    public let source: WebhookSource
    public let deliveryID: String
    /// Plane: the `event` (issue, project, ...). Odoo: the model (crm.lead, ...).
    public let event: String
    /// Plane: created / updated / deleted. Odoo: create / write / unlink.
    public let action: String
    /// Plane: the record's uuid (`data.id`). Odoo: `record_id`.
    public let recordID: String?
    /// The raw bytes the signature was checked over, stored as received.
    public let body: Data
}

/// Why a delivery was turned away: the HTTP status, a stable reason code for the `events`
/// row, and a sentence for the sender. Nothing here comes from the body except ids.
public struct WebhookRejection: Error, Sendable, Equatable {
    public let status: Int
    public let reason: String
    public let message: String
    public var deliveryID: String?
    public var event: String?

    init(_ status: Int, _ reason: String, _ message: String, deliveryID: String? = nil, event: String? = nil) {
        self.status = status
        self.reason = reason
        self.message = message
        self.deliveryID = deliveryID
        self.event = event
    }
}

/// Checks a delivery in the order that spends least on a forged one: size (done while the body
/// streams in), signature over the raw bytes, then JSON and the event's shape.
public enum WebhookParser {
    /// The events Plane's webhook task can send (plane-api.md §9; `cycle_issue` and
    /// `module_issue` are in its mapping although nothing dispatches them today).
    public static let planeEvents: Set<String> = ["project", "issue", "cycle", "module", "issue_comment", "cycle_issue", "module_issue"]
    public static let planeActions: Set<String> = ["created", "updated", "deleted"]
    /// The Odoo models odoosync pulls; a delivery about another model is refused.
    public static let odooModels: Set<String> = [
        "crm.lead", "crm.stage", "res.users", "res.partner", "project.project", "project.task", "project.task.type",
        "project.milestone", "sale.order", "account.move",
    ]
    public static let odooEvents: Set<String> = ["create", "write", "unlink"]

    public static let planeSignatureHeader = "X-Plane-Signature"
    public static let planeDeliveryHeader = "X-Plane-Delivery"
    public static let planeEventHeader = "X-Plane-Event"
    public static let odooSignatureHeader = "X-Odoo-Signature"
    public static let odooDeliveryHeader = "X-Odoo-Delivery"

    /// - Parameter header: looks a request header up by name, case-insensitively.
    public static func parse(source: WebhookSource, header: (String) -> String?, body: Data,
                             secret: String?) -> Result<IncomingDelivery, WebhookRejection> {
        let signatureHeader = source == .plane ? planeSignatureHeader : odooSignatureHeader
        let deliveryHeader = source == .plane ? planeDeliveryHeader : odooDeliveryHeader
        let claimedID = header(deliveryHeader).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let secret, !secret.isEmpty else {
            let variable = source == .plane ? "PLANE_WEBHOOK_SECRET" : "ODOO_WEBHOOK_SECRET"
            return .failure(WebhookRejection(401, "no_secret",
                                             "\(source.rawValue) deliveries are not accepted: the receiver has no \(variable) to verify them with",
                                             deliveryID: claimedID))
        }
        guard let signature = header(signatureHeader), !signature.isEmpty else {
            return .failure(WebhookRejection(401, "missing_signature", "the \(signatureHeader) header is missing", deliveryID: claimedID))
        }
        guard WebhookSignature.isValid(signature, body: body, secret: secret) else {
            return .failure(WebhookRejection(401, "bad_signature",
                                             "\(signatureHeader) does not match the body: sign the raw body bytes with HMAC-SHA256 and the shared secret, hex-encoded",
                                             deliveryID: claimedID))
        }
        // Only a handful of fields are read, so they are picked from Foundation's tree rather
        // than converting the whole payload (most of the cost of a delivery, measured).
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        } catch {
            return .failure(WebhookRejection(400, "malformed_json", "the body is not valid JSON", deliveryID: claimedID))
        }
        guard let json = object as? [String: Any] else {
            return .failure(WebhookRejection(400, "malformed_json", "the body must be a JSON object", deliveryID: claimedID))
        }
        switch source {
        case .plane: return plane(Fields(json), body: body, header: header, claimedID: claimedID)
        case .odoo: return odoo(Fields(json), body: body, claimedID: claimedID)
        }
    }

    /// Typed access to the top level of a parsed body.
    struct Fields {
        let object: [String: Any]
        init(_ object: [String: Any]) { self.object = object }

        func string(_ key: String) -> String? { object[key] as? String }
        func has(_ key: String) -> Bool { object[key] != nil }
        func nested(_ key: String) -> Fields? { (object[key] as? [String: Any]).map(Fields.init) }

        /// An integer, and only an integer: not a string of digits, not a boolean, not 4.5.
        func integer(_ key: String) -> Int? {
            // Foundation hands booleans over as NSNumbers too; their type code is "c".
            guard let number = object[key] as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
            let double = number.doubleValue
            guard double == double.rounded(), abs(double) < 1e15 else { return nil }
            return number.intValue
        }
    }

    private static func plane(_ json: Fields, body: Data, header: (String) -> String?,
                              claimedID: String?) -> Result<IncomingDelivery, WebhookRejection> {
        let event = json.string("event")
        guard let event, planeEvents.contains(event) else {
            return .failure(WebhookRejection(400, "unknown_event",
                                             "unknown Plane event \(quoted(event)); expected one of \(planeEvents.sorted().joined(separator: ", "))",
                                             deliveryID: claimedID, event: event.map { String($0.prefix(40)) }))
        }
        if let announced = header(planeEventHeader), !announced.isEmpty, announced != event {
            return .failure(WebhookRejection(400, "unknown_event", "\(planeEventHeader) says \(quoted(announced)) but the body's event is \(event)",
                                             deliveryID: claimedID, event: event))
        }
        guard let action = json.string("action"), planeActions.contains(action) else {
            return .failure(WebhookRejection(400, "unknown_event",
                                             "unknown Plane action \(quoted(json.string("action"))) for \(event); expected created, updated or deleted",
                                             deliveryID: claimedID, event: event))
        }
        guard let data = json.nested("data") else {
            return .failure(WebhookRejection(400, "bad_payload", "a Plane delivery needs a `data` object", deliveryID: claimedID, event: event))
        }
        guard let deliveryID = claimedID, isValidID(deliveryID) else {
            return .failure(WebhookRejection(400, "missing_delivery_id",
                                             "the \(planeDeliveryHeader) header is missing or not a delivery id", event: event))
        }
        return .success(IncomingDelivery(source: .plane, deliveryID: deliveryID, event: event, action: action,
                                         recordID: data.string("id"), body: body))
    }

    private static func odoo(_ json: Fields, body: Data, claimedID: String?) -> Result<IncomingDelivery, WebhookRejection> {
        let model = json.string("model")
        guard let model, odooModels.contains(model) else {
            return .failure(WebhookRejection(400, "unknown_event",
                                             "unknown Odoo model \(quoted(model)); expected one of \(odooModels.sorted().joined(separator: ", "))",
                                             deliveryID: claimedID, event: model.map { String($0.prefix(40)) }))
        }
        guard let action = json.string("event"), odooEvents.contains(action) else {
            return .failure(WebhookRejection(400, "unknown_event",
                                             "unknown Odoo event \(quoted(json.string("event"))) for \(model); expected create, write or unlink",
                                             deliveryID: claimedID, event: model))
        }
        guard let recordID = json.integer("record_id"), recordID > 0 else {
            return .failure(WebhookRejection(400, "bad_payload", "an Odoo delivery needs `record_id`, a positive integer",
                                             deliveryID: claimedID, event: model))
        }
        let bodyID = json.string("id")
        if let claimedID, let bodyID, claimedID != bodyID {
            return .failure(WebhookRejection(400, "bad_payload", "\(odooDeliveryHeader) and the body's `id` differ",
                                             deliveryID: claimedID, event: model))
        }
        guard let deliveryID = claimedID ?? bodyID, isValidID(deliveryID) else {
            return .failure(WebhookRejection(400, "missing_delivery_id",
                                             "an Odoo delivery needs a delivery id: the \(odooDeliveryHeader) header or the body's `id`",
                                             event: model))
        }
        return .success(IncomingDelivery(source: .odoo, deliveryID: deliveryID, event: model, action: action,
                                         recordID: String(recordID), body: body))
    }

    /// Delivery ids are uuids in practice; anything printable up to 200 characters is kept.
    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 200 && id.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
    }

    private static func quoted(_ text: String?) -> String {
        guard let text else { return "(none)" }
        return "`\(text.prefix(40))`"
    }
}
