import Foundation
import Logging
import Testing
@testable import OdooClient
@testable import OdooSyncCore

/// Answers the login with success and every other request with one recorded response.
/// A stand-in below the client (the HTTP transport), so the client's own mapping is what runs.
final class ReplayTransport: HTTPTransport, @unchecked Sendable {
    let answer: HTTPResponse
    init(_ answer: HTTPResponse) { self.answer = answer }

    func post(_ url: URL, headers: [String: String], body: Data, timeout: TimeInterval) async throws -> HTTPResponse {
        let text = String(decoding: body, as: UTF8.self)
        if url.path.hasSuffix("/res.users/context_get") {
            return HTTPResponse(status: 200, headers: ["content-type": "application/json"], body: Data(#"{"lang":"en_US","tz":"UTC","uid":2}"#.utf8))
        }
        if text.contains("\"authenticate\"") {
            return HTTPResponse(status: 200, headers: ["content-type": "application/json"], body: Data(#"{"jsonrpc":"2.0","id":1,"result":2}"#.utf8))
        }
        if url.path.hasSuffix("/web/session/authenticate") {
            return HTTPResponse(status: 200, headers: ["content-type": "application/json", "set-cookie": "session_id=abc; Path=/, session_id=abc; Path=/"],
                                body: Data(#"{"jsonrpc":"2.0","id":1,"result":{"uid":2,"server_version":"19.0"}}"#.utf8))
        }
        return answer
    }

    func get(_ url: URL, headers: [String: String], timeout: TimeInterval) async throws -> HTTPResponse { answer }
}

@Suite struct ErrorMappingTests {
    struct Case: Sendable, CustomStringConvertible {
        let file: String
        let expected: String
        let phrase: String
        var description: String { file }
    }

    /// Every recorded error exchange, with the case it must become and a phrase its message must carry.
    static let cases: [Case] = [
        Case(file: "probe_jsonrpc_err_bad_password.json", expected: "authenticationFailed", phrase: "refused the login"),
        Case(file: "probe_json2_err_bad_api_key.json", expected: "authenticationFailed", phrase: "Invalid apikey"),
        Case(file: "probe_json2_err_no_auth.json", expected: "authenticationFailed", phrase: "ODOO_API_KEY"),
        Case(file: "probe_jsonrpc_err_bad_db.json", expected: "unknownDatabase", phrase: "ODOO_DATABASE"),
        Case(file: "probe_json2_err_wrong_db_header.json", expected: "unknownDatabase", phrase: "no database named"),
        Case(file: "probe_jsonrpc_err_unknown_model.json", expected: "unknownModel", phrase: "no.such.model"),
        Case(file: "probe_json2_err_unknown_model.json", expected: "unknownModel", phrase: "no.such.model"),
        Case(file: "probe_session_err_unknown_model.json", expected: "unknownModel", phrase: "Odoo does not know the model"),
        Case(file: "probe_jsonrpc_err_unknown_method.json", expected: "unknownMethod", phrase: "no_such_method"),
        Case(file: "probe_json2_err_unknown_method.json", expected: "unknownMethod", phrase: "no_such_method"),
        Case(file: "probe_jsonrpc_err_bad_field.json", expected: "invalidField", phrase: "nope_field"),
        Case(file: "probe_json2_err_bad_field.json", expected: "invalidField", phrase: "nope_field"),
        Case(file: "probe_session_err_bad_field.json", expected: "invalidField", phrase: "nope_field"),
        Case(file: "probe_jsonrpc_err_bad_field_write.json", expected: "invalidField", phrase: "nope_field"),
        Case(file: "probe_jsonrpc_err_bad_domain_field.json", expected: "invalidField", phrase: "nope_field"),
        Case(file: "probe_jsonrpc_err_bad_order.json", expected: "invalidField", phrase: "nope"),
        Case(file: "probe_jsonrpc_err_bad_domain_operator.json", expected: "invalidValue", phrase: "==="),
        Case(file: "probe_jsonrpc_err_bad_selection.json", expected: "invalidValue", phrase: "Wrong value for crm.lead.priority"),
        Case(file: "probe_json2_err_bad_kwarg.json", expected: "invalidValue", phrase: "bogus"),
        Case(file: "probe_json2_err_ids_on_model_method.json", expected: "invalidValue", phrase: "with ids"),
        Case(file: "probe_jsonrpc_err_access_denied_read.json", expected: "accessDenied", phrase: "not allowed to access"),
        Case(file: "probe_json2_err_access_denied_read.json", expected: "accessDenied", phrase: "not allowed to access"),
        Case(file: "probe_jsonrpc_err_access_denied_write.json", expected: "accessDenied", phrase: "CRM Stages"),
        Case(file: "probe_json2_err_access_denied_write.json", expected: "accessDenied", phrase: "CRM Stages"),
        Case(file: "probe_session_err_access_denied_write.json", expected: "accessDenied", phrase: "CRM Stages"),
        Case(file: "probe_jsonrpc_err_record_rule_read.json", expected: "recordRuleDenied", phrase: "Sorry, Marc Demo (id=5) doesn't have 'read' access to: Lead (crm.lead)."),
        Case(file: "probe_jsonrpc_err_private_method.json", expected: "accessDenied", phrase: "Private methods"),
        Case(file: "probe_json2_err_private_method.json", expected: "accessDenied", phrase: "Private methods"),
        Case(file: "probe_jsonrpc_err_create_missing_required.json", expected: "validation", phrase: "Missing required value"),
        Case(file: "probe_json2_err_create_missing_required.json", expected: "validation", phrase: "Missing required value"),
        Case(file: "probe_jsonrpc_err_write_missing_id.json", expected: "missingRecord", phrase: "does not exist or has been deleted"),
        Case(file: "probe_json2_err_write_missing_id.json", expected: "missingRecord", phrase: "does not exist or has been deleted"),
    ]

    static func response(_ file: String) throws -> (api: String, response: HTTPResponse) {
        let data = try Data(contentsOf: TestPaths.samples.appendingPathComponent(file))
        let sample = try JSONValue.parse(data)
        let recorded = try #require(sample["response"])
        var headers: [String: String] = [:]
        for (k, v) in recorded["headers"]?.objectValue ?? [] { headers[k.lowercased()] = v.stringValue }
        let body: Data
        if let text = recorded["body"]?.stringValue { body = Data(text.utf8) } else { body = try #require(recorded["body"]).data }
        if headers["content-type"] == nil { headers["content-type"] = "application/json" }
        return (sample["api"]?.stringValue ?? "", HTTPResponse(status: recorded["status"]?.intValue ?? 200, headers: headers, body: body))
    }

    @Test(arguments: cases)
    func recordedErrorBecomesItsTypedError(_ testCase: Case) async throws {
        let (api, response) = try Self.response(testCase.file)
        let choice: OdooProtocolChoice = api == "json2" ? .json2 : (api == "session" ? .session : .jsonrpc)
        let settings = OdooSettings(url: URL(string: "http://odoo.test:8069")!, database: "odoo_harness", username: "admin",
                                    apiKey: "k3y-not-in-messages", password: "pw-not-in-messages", protocolChoice: choice, maxAttempts: 1)
        let client = OdooClient(settings: settings, transport: ReplayTransport(response), logger: Logger(label: "test"))
        do {
            _ = try await client.call(OdooCall(model: "no.such.model", method: "search_read", args: [("domain", [])]))
            Issue.record("\(testCase.file) did not throw")
        } catch let error as OdooError {
            let name = "\(error)".isEmpty ? "" : String(describing: Swift.Mirror(reflecting: error).children.first?.label ?? "\(error)")
            #expect(name == testCase.expected, "\(testCase.file): got \(error)")
            #expect(error.description.contains(testCase.phrase), "\(testCase.file): \(error.description)")
            #expect(!error.description.contains("k3y-not-in-messages") && !error.description.contains("pw-not-in-messages"))
            #expect(!error.description.contains("Traceback"))
        }
    }

    /// A record rule hiding one record fails that item (exit 1, the run goes on); a model's
    /// access rights refusing the user stop the run (exit 3).
    @Test(arguments: [("probe_jsonrpc_err_record_rule_read.json", false),
                      ("probe_jsonrpc_err_access_denied_read.json", true), ("probe_json2_err_access_denied_write.json", true),
                      ("probe_json2_err_private_method.json", true)])
    func accessErrorsStopTheRunUnlessARecordRuleHidesOneRecord(_ file: String, _ stopsTheRun: Bool) async throws {
        let (api, response) = try Self.response(file)
        let settings = OdooSettings(url: URL(string: "http://odoo.test:8069")!, database: "odoo_harness", username: "admin",
                                    apiKey: "k", protocolChoice: api == "json2" ? .json2 : .jsonrpc, maxAttempts: 1)
        let client = OdooClient(settings: settings, transport: ReplayTransport(response), logger: Logger(label: "test"))
        let error = await #expect(throws: OdooError.self) {
            try await client.call(OdooCall(model: "crm.lead", method: "read", ids: [25], args: [("fields", ["name"])]))
        }
        #expect(error?.exitStatus == (stopsTheRun ? .remote : .itemErrors), "\(file): \(String(describing: error))")
    }

    /// Odoo translates both messages into the user's language. These are French wordings of
    /// the two (written here after Odoo's French translation, not recorded): the record rule's
    /// keeps the "(id=5)" placeholder, the access rights' names no user.
    @Test(arguments: [
        ("Oups ! On dirait que vous êtes tombé sur des enregistrements top secrets.\n\nDésolé, Marc Demo (id=5) n'a pas d'accès 'lecture' à :\n- Piste (crm.lead)\n\nSi vous avez vraiment besoin d'accès, convainquez votre administrateur avec des cookies.", false),
        ("Vous n'êtes pas autorisé à accéder aux enregistrements 'Étapes CRM' (crm.stage).\n\nCette opération est autorisée pour les groupes suivants :\n\t- Ventes/Administrateur\n\nContactez votre administrateur pour demander l'accès si nécessaire.", true),
    ])
    func aTranslatedAccessErrorIsToldApartByItsUserID(_ message: String, _ stopsTheRun: Bool) async throws {
        let data: [String: Any] = ["name": "odoo.exceptions.AccessError", "message": message, "arguments": [message],
                                   "context": [String: Any](), "debug": "Traceback (most recent call last): …"]
        let envelope: [String: Any] = ["jsonrpc": "2.0", "id": 1,
                                       "error": ["code": 200, "message": "Odoo Server Error", "data": data]]
        let body = try JSONSerialization.data(withJSONObject: envelope)
        let settings = OdooSettings(url: URL(string: "http://odoo.test:8069")!, database: "odoo_harness", username: "demo",
                                    apiKey: "k", protocolChoice: .jsonrpc, maxAttempts: 1)
        let client = OdooClient(settings: settings, transport: ReplayTransport(HTTPResponse(status: 200, headers: ["content-type": "application/json"], body: body)),
                                logger: Logger(label: "test"))
        let error = await #expect(throws: OdooError.self) {
            try await client.call(OdooCall(model: "crm.lead", method: "read", ids: [25], args: [("fields", ["name"])]))
        }
        #expect(error?.exitStatus == (stopsTheRun ? .remote : .itemErrors), "\(String(describing: error))")
        if !stopsTheRun {
            #expect(error?.description.contains("Désolé, Marc Demo (id=5) n'a pas d'accès 'lecture' à : Piste (crm.lead).") == true,
                    "\(String(describing: error?.description))")
        }
    }

    @Test func htmlFromAProxyIsReportedAsSuch() async throws {
        let page = HTTPResponse(status: 502, headers: ["content-type": "text/html"],
                                body: Data("<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>".utf8))
        let settings = OdooSettings(url: URL(string: "http://odoo.test")!, database: "d", username: "u", apiKey: "k",
                                    protocolChoice: .jsonrpc, maxAttempts: 2, retryBase: 0.001)
        let client = OdooClient(settings: settings, transport: ReplayTransport(page), logger: Logger(label: "test"))
        let error = await #expect(throws: OdooError.self) {
            try await client.call(OdooCall(model: "crm.lead", method: "search_count", args: [("domain", [])]))
        }
        #expect(error?.description.contains("HTML page") == true)
        #expect(error?.description.contains("502 Bad Gateway") == true)
        #expect(error?.exitStatus == .remote)
        #expect(await client.retryCount == 1)
    }
}
