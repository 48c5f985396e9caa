import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import OdooEmulator

// Tests for the Odoo emulator: replays of the recorded Odoo 19 exchanges plus the behaviours
// the sync client depends on (whole-second write_date, active_test, paging, faults, sessions).

private enum Paths {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixtures = repoRoot.appendingPathComponent("fixtures/odoo")
}

/// Facts computed from the fixture files, so the tests follow the fixtures when they change.
private struct FixtureFacts {
    let leads: [EmulatorJSON]
    let stages: [EmulatorJSON]
    let adminTZ: String

    static func load() throws -> FixtureFacts {
        func records(_ model: String) throws -> [EmulatorJSON] {
            try EmulatorJSON.parse(Data(contentsOf: Paths.fixtures.appendingPathComponent("\(model).json"))).arrayValue ?? []
        }
        let users = try records("res.users")
        let admin = users.first { $0["id"] == 2 }
        return FixtureFacts(
            leads: try records("crm.lead"), stages: try records("crm.stage"), adminTZ: admin?["tz"]?.stringValue ?? "UTC")
    }

    var leadCount: Int { leads.count }
    var activeLeadCount: Int { leads.filter { $0["active"] != false }.count }
    var archivedLeadIDs: [Int] { leads.filter { $0["active"] == false }.compactMap { $0["id"]?.intValue }.sorted() }
    var leadIDs: [Int] { leads.compactMap { $0["id"]?.intValue }.sorted() }

    /// The write_date shared by the most leads (a bulk write) and how many share it.
    var crowdedSecond: (stamp: String, ids: [Int]) {
        var groups: [String: [Int]] = [:]
        for lead in leads {
            if let stamp = lead["write_date"]?.stringValue, let id = lead["id"]?.intValue { groups[stamp, default: []].append(id) }
        }
        let best = groups.max { $0.value.count < $1.value.count || ($0.value.count == $1.value.count && $0.key > $1.key) }
        return (best?.key ?? "", best?.value.sorted() ?? [])
    }

    func stageName(_ id: Int) -> String? { stages.first { $0["id"]?.intValue == id }?["name"]?.stringValue }
}

private struct Reply {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: EmulatorJSON? { try? EmulatorJSON.parse(body) }
    var sessionCookie: String? {
        guard let header = headers["set-cookie"], let range = header.range(of: "session_id=") else { return nil }
        return String(header[range.upperBound...].prefix { $0 != ";" && $0 != "," })
    }
}

/// A cookie-less URLSession client: cookies and connection reuse are under the test's control.
private struct Client {
    let base: URL
    let session: URLSession

    init(base: URL) {
        self.base = base
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieStorage = nil
        configuration.timeoutIntervalForRequest = 30
        session = URLSession(configuration: configuration)
    }

    func send(
        _ path: String, method: String = "POST", body: String? = nil, headers: [String: String] = [:],
        contentType: String? = "application/json", closeConnection: Bool = false
    ) async throws -> Reply {
        guard let url = URL(string: path, relativeTo: base) else { throw URLError(.badURL) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let body { request.httpBody = Data(body.utf8) }
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if closeConnection { request.setValue("close", forHTTPHeaderField: "Connection") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }

    func rpc(_ service: String, _ method: String, _ args: EmulatorJSON, id: EmulatorJSON = 1) async throws -> Reply {
        let body: EmulatorJSON = [
            "jsonrpc": "2.0", "method": "call", "params": ["service": .string(service), "method": .string(method), "args": args],
            "id": id,
        ]
        return try await send("/jsonrpc", body: body.serialized)
    }

    /// execute_kw as admin with the API key; returns the reply's `result` or `error`.
    func executeKw(
        _ model: String, _ method: String, _ args: EmulatorJSON, _ kwargs: EmulatorJSON = [:], uid: Int = 2,
        secret: String = "demo-api-key"
    ) async throws -> Reply {
        try await rpc("object", "execute_kw", ["odoosync_demo", .int(uid), .string(secret), .string(model), .string(method), args, kwargs])
    }

    func json2(_ model: String, _ method: String, _ body: EmulatorJSON, key: String = "demo-api-key") async throws -> Reply {
        try await send("/json/2/\(model)/\(method)", body: body.serialized, headers: ["Authorization": "bearer \(key)"])
    }

    func login(_ login: String, _ password: String) async throws -> Reply {
        let body: EmulatorJSON = [
            "jsonrpc": "2.0", "method": "call", "params": ["db": "odoosync_demo", "login": .string(login), "password": .string(password)],
            "id": 1,
        ]
        return try await send("/web/session/authenticate", body: body.serialized)
    }
}

private func withEmulator(
    _ configure: (inout OdooEmulatorConfiguration) -> Void = { _ in },
    _ body: (OdooEmulator, Client) async throws -> Void
) async throws {
    var configuration = OdooEmulatorConfiguration()
    configure(&configuration)
    let emulator = try OdooEmulator(fixtures: Paths.fixtures, configuration: configuration)
    let port = try await emulator.start()
    let client = Client(base: URL(string: "http://127.0.0.1:\(port)")!)
    do {
        try await body(emulator, client)
    } catch {
        await emulator.stop()
        throw error
    }
    await emulator.stop()
}

private func result(_ reply: Reply) -> EmulatorJSON? { reply.json?["result"] }
private func errorName(_ reply: Reply) -> String? { reply.json?["error"]?["data"]?["name"]?.stringValue }
private func errorMessage(_ reply: Reply) -> String? { reply.json?["error"]?["data"]?["message"]?.stringValue }
private func ids(_ value: EmulatorJSON?) -> [Int] { value?.arrayValue?.compactMap(\.intValue) ?? [] }

private func isDatetime(_ text: String) -> Bool { text.wholeMatch(of: #/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/#) != nil }
private func isDate(_ text: String) -> Bool { text.wholeMatch(of: #/\d{4}-\d{2}-\d{2}/#) != nil }

// MARK: - Replaying the recorded exchanges

enum ProbeAPI: Sendable { case jsonrpc, json2, session }
enum ProbeUser: Sendable { case admin, demo, demoOwnLeads, portal }
enum ProbeMode: Sendable { case shape, keys }

struct ProbeCase: Sendable, CustomTestStringConvertible {
    let name: String
    let api: ProbeAPI
    let user: ProbeUser
    let path: String
    let headers: [String: String]
    let body: String
    let status: Int
    let errorName: String?
    let errorMessage: String?
    /// The real server's result (lists cut to their first element), to compare shapes with.
    let expected: String?
    let mode: ProbeMode
    let nullID: Bool
    var testDescription: String { name }
}

/// Whether `actual` is shaped like `expected`: same keys in the same order, many2one pairs
/// where Odoo had pairs, datetimes as "YYYY-MM-DD HH:MM:SS", and `false` only where the value
/// could be empty.
private func sameShape(_ expected: EmulatorJSON, _ actual: EmulatorJSON, path: String = "$") -> String? {
    func isPair(_ value: EmulatorJSON) -> Bool {
        if case .array(let items) = value, items.count == 2, case .int = items[0], case .string = items[1] { return true }
        return false
    }
    func isEmptyable(_ value: EmulatorJSON) -> Bool {
        if value == .bool(false) || isPair(value) { return true }
        if case .string = value { return true }
        return false
    }
    switch (expected, actual) {
    case (.object(let e), .object(let a)):
        guard e.map(\.0) == a.map(\.0) else { return "\(path): keys \(a.map(\.0)) instead of \(e.map(\.0))" }
        for ((key, ev), (_, av)) in zip(e, a) {
            if let problem = sameShape(ev, av, path: "\(path).\(key)") { return problem }
        }
        return nil
    case (.array(let e), .array(let a)):
        if isPair(expected) { return isPair(actual) ? nil : "\(path): not a many2one pair: \(actual)" }
        guard let first = e.first, let other = a.first else { return nil }
        return sameShape(first, other, path: path + "[0]")
    case (.string(let e), .string(let a)):
        if isDatetime(e), !isDatetime(a) { return "\(path): \(a) is not a datetime" }
        if isDate(e), !isDate(a) { return "\(path): \(a) is not a date" }
        return nil
    case (.int, .int), (.double, .double), (.bool, .bool), (.null, .null):
        return nil
    default:
        if expected == .bool(false) && isEmptyable(actual) { return nil }
        if actual == .bool(false) && isEmptyable(expected) { return nil }
        return "\(path): \(actual) where Odoo had \(expected)"
    }
}

@Suite struct EmulatorProbeReplayTests {
    static let cases: [ProbeCase] = [
        ProbeCase(
            name: "probe_json2_create", api: .json2, user: .admin, path: "/json/2/crm.lead/create",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"vals_list\": [{\"name\": \"HARNESS j2 lead\", \"priority\": \"2\"}]}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "[51]", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_access_denied_read", api: .json2, user: .portal, path: "/json/2/crm.lead/search_read",
            headers: ["Authorization": "bearer portal-user-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"domain\": [], \"fields\": [\"name\"], \"limit\": 1}",
            status: 403, errorName: "odoo.exceptions.AccessError", errorMessage: "You are not allowed to access 'Lead' (crm.lead) records.\n\nThis operation is allowed for the following groups:\n\t- Sales/Administrator\n\t- Sales/User: Own Documents Only\n\nContact your administrator to request access if necessary.",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_access_denied_write", api: .json2, user: .demo, path: "/json/2/crm.stage/write",
            headers: ["Authorization": "bearer demo-user-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"ids\": [1], \"vals\": {\"name\": \"X\"}}",
            status: 403, errorName: "odoo.exceptions.AccessError", errorMessage: "You are not allowed to modify 'CRM Stages' (crm.stage) records.\n\nThis operation is allowed for the following groups:\n\t- Sales/Administrator\n\nContact your administrator to request access if necessary.",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_bad_api_key", api: .json2, user: .admin, path: "/json/2/crm.lead/search_count",
            headers: ["Authorization": "bearer 0000000000000000000000000000000000000000", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"domain\": []}",
            status: 401, errorName: "werkzeug.exceptions.Unauthorized", errorMessage: "Invalid apikey",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_bad_field", api: .json2, user: .admin, path: "/json/2/crm.lead/search_read",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"domain\": [], \"fields\": [\"nope_field\"], \"limit\": 1}",
            status: 500, errorName: "builtins.ValueError", errorMessage: "Invalid field 'nope_field' on 'crm.lead'",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_bad_kwarg", api: .json2, user: .admin, path: "/json/2/crm.lead/search_read",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"domain\": [], \"bogus\": 1}",
            status: 500, errorName: "builtins.TypeError", errorMessage: "BaseModel._read_format() got an unexpected keyword argument 'bogus'",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_create_missing_required", api: .json2, user: .admin, path: "/json/2/crm.lead/create",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"vals_list\": [{}]}",
            status: 422, errorName: "odoo.exceptions.ValidationError", errorMessage: "The operation cannot be completed: Missing required value for the field 'Opportunity' (name).\nModel: 'Lead' (crm.lead)\n- create/update: a mandatory field is not set\n- delete: another model requires the record being deleted, you can archive it instead\n",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_ids_on_model_method", api: .json2, user: .admin, path: "/json/2/crm.lead/create",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"ids\": [1], \"vals_list\": [{\"name\": \"x\"}]}",
            status: 422, errorName: "werkzeug.exceptions.UnprocessableEntity", errorMessage: "cannot call crm.lead.create with ids",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_no_auth", api: .json2, user: .admin, path: "/json/2/crm.lead/search_count",
            headers: ["X-Odoo-Database": "odoosync_demo"],
            body: "{\"domain\": []}",
            status: 401, errorName: "werkzeug.exceptions.Unauthorized", errorMessage: "User not authenticated, use an API Key with a Bearer Authorization header.",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_private_method", api: .json2, user: .admin, path: "/json/2/crm.lead/_read_group",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"domain\": []}",
            status: 403, errorName: "odoo.exceptions.AccessError", errorMessage: "Private methods (such as 'crm.lead._read_group') cannot be called remotely.",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_unknown_method", api: .json2, user: .admin, path: "/json/2/crm.lead/no_such_method",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{}",
            status: 404, errorName: "werkzeug.exceptions.NotFound", errorMessage: "The method 'crm.lead.no_such_method' does not exist",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_unknown_model", api: .json2, user: .admin, path: "/json/2/no.such.model/search_read",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"domain\": [], \"limit\": 1}",
            status: 404, errorName: "werkzeug.exceptions.NotFound", errorMessage: "the model 'no.such.model' does not exist",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_write_missing_id", api: .json2, user: .admin, path: "/json/2/crm.lead/write",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"ids\": [999999], \"vals\": {\"name\": \"x\"}}",
            status: 404, errorName: "odoo.exceptions.MissingError", errorMessage: "Record does not exist or has been deleted.\n(Record: crm.lead(999999,), User: 2)",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_err_wrong_db_header", api: .json2, user: .admin, path: "/json/2/crm.lead/search_count",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "nodb"],
            body: "{\"domain\": []}",
            status: 404, errorName: "html", errorMessage: "<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>\n<p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n\n<!-- Alternatively, use the X-Odoo-Database header. -->\n",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_fields_get", api: .json2, user: .admin, path: "/json/2/crm.lead/fields_get",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"allfields\": [\"priority\", \"stage_id\", \"write_date\"], \"attributes\": [\"type\", \"string\", \"selection\", \"relation\", \"required\", \"readonly\"]}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "{\"priority\": {\"readonly\": false, \"required\": false, \"selection\": [[\"0\", \"Low\"], [\"1\", \"Medium\"], [\"2\", \"High\"], [\"3\", \"Very High\"]], \"string\": \"Priority\", \"type\": \"selection\"}, \"stage_id\": {\"readonly\": false, \"relation\": \"crm.stage\", \"required\": false, \"string\": \"Stage\", \"type\": \"many2one\"}, \"write_date\": {\"readonly\": true, \"required\": false, \"string\": \"Last Updated on\", \"type\": \"datetime\"}}", mode: .keys, nullID: false),
        ProbeCase(
            name: "probe_json2_no_db_header_monodb", api: .json2, user: .admin, path: "/json/2/crm.lead/search_count",
            headers: ["Authorization": "bearer demo-api-key"],
            body: "{\"domain\": []}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "39", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_read", api: .json2, user: .admin, path: "/json/2/crm.lead/read",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"ids\": [1], \"fields\": [\"name\", \"priority\", \"write_date\", \"stage_id\"]}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "[{\"id\": 51, \"name\": \"HARNESS j2 lead\", \"priority\": \"1\", \"write_date\": \"2026-11-21 04:22:52\", \"stage_id\": [1, \"New\"]}]", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_read_missing_id", api: .json2, user: .admin, path: "/json/2/crm.lead/read",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"ids\": [999999], \"fields\": [\"name\"]}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "[]", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_search", api: .json2, user: .admin, path: "/json/2/crm.lead/search",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"domain\": [[\"id\", \"=\", 1]]}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "[1]", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_search_count", api: .json2, user: .admin, path: "/json/2/crm.lead/search_count",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"domain\": []}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "40", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_unlink", api: .json2, user: .admin, path: "/json/2/crm.lead/unlink",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"ids\": [1]}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "true", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_json2_write", api: .json2, user: .admin, path: "/json/2/crm.lead/write",
            headers: ["Authorization": "bearer demo-api-key", "X-Odoo-Database": "odoosync_demo"],
            body: "{\"ids\": [1], \"vals\": {\"priority\": \"1\"}}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "true", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_create_multi", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"create\", [[{\"name\": \"HARNESS probe A\"}, {\"name\": \"HARNESS probe B\"}]]]}, \"id\": 8}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "[49, 50]", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_create_single", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"create\", [{\"name\": \"HARNESS probe lead\", \"type\": \"opportunity\", \"priority\": \"3\", \"expected_revenue\": 1234.5, \"tag_ids\": [[6, 0, [1, 2]]], \"partner_id\": 9, \"date_deadline\": \"2026-12-31\"}]]}, \"id\": 7}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "48", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_db_list", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"db\", \"method\": \"list\", \"args\": []}, \"id\": 22}",
            status: 200, errorName: "odoo.exceptions.AccessDenied", errorMessage: "Access Denied",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_access_denied_read", api: .jsonrpc, user: .portal, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 6, \"portal\", \"crm.lead\", \"search_read\", [[]], {\"fields\": [\"name\"], \"limit\": 1}]}, \"id\": 12}",
            status: 200, errorName: "odoo.exceptions.AccessError", errorMessage: "You are not allowed to access 'Lead' (crm.lead) records.\n\nThis operation is allowed for the following groups:\n\t- Sales/Administrator\n\t- Sales/User: Own Documents Only\n\nContact your administrator to request access if necessary.",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_access_denied_write", api: .jsonrpc, user: .demo, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 5, \"demo\", \"crm.stage\", \"write\", [[1], {\"name\": \"X\"}]]}, \"id\": 11}",
            status: 200, errorName: "odoo.exceptions.AccessError", errorMessage: "You are not allowed to modify 'CRM Stages' (crm.stage) records.\n\nThis operation is allowed for the following groups:\n\t- Sales/Administrator\n\nContact your administrator to request access if necessary.",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_bad_db", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"nodb\", 2, \"demo-api-key\", \"crm.lead\", \"search_count\", [[]]]}, \"id\": 10}",
            status: 200, errorName: "psycopg2.OperationalError", errorMessage: "connection to server at \"127.0.0.1\", port 5433 failed: FATAL:  database \"nodb\" does not exist\n",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_bad_domain_field", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"search_read\", [[[\"nope_field\", \"=\", 1]]], {\"fields\": [\"name\"], \"limit\": 1}]}, \"id\": 3}",
            status: 200, errorName: "builtins.ValueError", errorMessage: "Invalid field crm.lead.nope_field in condition ('nope_field', '=', 1)",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_bad_domain_operator", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"search_read\", [[[\"id\", \"===\", 1]]], {\"fields\": [\"name\"]}]}, \"id\": 18}",
            status: 200, errorName: "builtins.ValueError", errorMessage: "Invalid operator in condition ('id', '===', 1)",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_bad_field", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"search_read\", [[]], {\"fields\": [\"nope_field\"], \"limit\": 1}]}, \"id\": 2}",
            status: 200, errorName: "builtins.ValueError", errorMessage: "Invalid field 'nope_field' on 'crm.lead'",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_bad_field_write", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"write\", [[1], {\"nope_field\": 1}]]}, \"id\": 4}",
            status: 200, errorName: "builtins.ValueError", errorMessage: "Invalid field 'nope_field' in 'crm.lead'",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_bad_order", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"search_read\", [[]], {\"fields\": [\"name\"], \"order\": \"nope desc\"}]}, \"id\": 20}",
            status: 200, errorName: "builtins.ValueError", errorMessage: "Invalid field 'nope' on model 'crm.lead'",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_bad_password", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"wrong\", \"crm.lead\", \"search_count\", [[]]]}, \"id\": 8}",
            status: 200, errorName: "odoo.exceptions.AccessDenied", errorMessage: "Access Denied",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_bad_selection", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"write\", [[1], {\"priority\": \"9\"}]]}, \"id\": 5}",
            status: 200, errorName: "builtins.ValueError", errorMessage: "Wrong value for crm.lead.priority: '9'",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_create_missing_required", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"create\", [{}]]}, \"id\": 16}",
            status: 200, errorName: "odoo.exceptions.ValidationError", errorMessage: "The operation cannot be completed: Missing required value for the field 'Opportunity' (name).\nModel: 'Lead' (crm.lead)\n- create/update: a mandatory field is not set\n- delete: another model requires the record being deleted, you can archive it instead\n",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_private_method", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"_read_group\", [[]]]}, \"id\": 7}",
            status: 200, errorName: "odoo.exceptions.AccessError", errorMessage: "Private methods (such as 'crm.lead._read_group') cannot be called remotely.",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_record_rule_read", api: .jsonrpc, user: .demoOwnLeads, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 5, \"demo\", \"crm.lead\", \"read\", [[25]], {\"fields\": [\"name\"]}]}, \"id\": 4}",
            status: 200, errorName: "odoo.exceptions.AccessError", errorMessage: "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\nSorry, Marc Demo (id=5) doesn't have 'read' access to:\n- Lead (crm.lead)\n\nIf you really, really need access, perhaps you can win over your friendly administrator with a batch of freshly baked cookies.",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_unknown_method", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"no_such_method\", [[]]]}, \"id\": 6}",
            status: 200, errorName: "builtins.AttributeError", errorMessage: "The method 'crm.lead.no_such_method' does not exist",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_unknown_model", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"no.such.model\", \"search_read\", [[]], {\"limit\": 1}]}, \"id\": 1}",
            status: 200, errorName: "odoo.exceptions.UserError", errorMessage: "Object no.such.model doesn't exist",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_err_write_missing_id", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"write\", [[999999], {\"name\": \"x\"}]]}, \"id\": 15}",
            status: 200, errorName: "odoo.exceptions.MissingError", errorMessage: "Record does not exist or has been deleted.\n(Record: crm.lead(999999,), User: 2)",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_fields_get_all_attributes", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"fields_get\", [[\"priority\", \"stage_id\", \"write_date\", \"tag_ids\", \"date_deadline\", \"expected_revenue\", \"active\"]], {}]}, \"id\": 1}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "{\"active\": {\"change_default\": false, \"company_dependent\": false, \"default_export_compatible\": false, \"depends\": [], \"exportable\": true, \"groupable\": true, \"manual\": false, \"name\": \"active\", \"readonly\": false, \"required\": false, \"searchable\": true, \"sortable\": true, \"store\": true, \"string\": \"Active\", \"type\": \"boolean\"}, \"priority\": {\"change_default\": false, \"company_dependent\": false, \"default_export_compatible\": false, \"depends\": [], \"exportable\": true, \"groupable\": true, \"manual\": false, \"name\": \"priority\", \"readonly\": false, \"required\": false, \"searchable\": true, \"selection\": [[\"0\", \"Low\"], [\"1\", \"Medium\"], [\"2\", \"High\"], [\"3\", \"Very High\"]], \"sortable\": true, \"store\": true, \"string\": \"Priority\", \"type\": \"selection\"}, \"stage_id\": {\"allow_hierachy_operators\": false, \"change_default\": false, \"company_dependent\": false, \"context\": {}, \"default_export_compatible\": false, \"depends\": [\"team_id\", \"type\"], \"domain\": \"['|', ('team_ids', '=', False), ('team_ids', 'in', team_id)]\", \"exportable\": true, \"groupable\": true, \"manual\": false, \"name\": \"stage_id\", \"readonly\": false, \"relation\": \"crm.stage\", \"required\": false, \"searchable\": true, \"sortable\": true, \"store\": true, \"string\": \"Stage\", \"type\": \"many2one\"}, \"tag_ids\": {\"allow_hierachy_operators\": false, \"change_default\": false, \"company_dependent\": false, \"context\": {}, \"default_export_compatible\": false, \"depends\": [], \"domain\": [], \"exportable\": true, \"groupable\": true, \"help\": \"Classify and analyze your lead/opportunity categories like: Training, Service\", \"manual\": false, \"name\": \"tag_ids\", \"readonly\": false, \"relation\": \"crm.tag\", \"required\": false, \"searchable\": true, \"sortable\": false, \"store\": true, \"string\": \"Tags\", \"type\": \"many2many\"}, \"expected_revenue\": {\"aggregator\": \"sum\", \"change_default\": false, \"company_dependent\": false, \"currency_field\": \"company_currency\", \"default_export_compatible\": false, \"depends\": [], \"exportable\": true, \"groupable\": true, \"manual\": false, \"name\": \"expected_revenue\", \"readonly\": false, \"required\": false, \"searchable\": true, \"sortable\": true, \"store\": true, \"string\": \"Expected Revenue\", \"type\": \"monetary\"}, \"date_deadline\": {\"change_default\": false, \"company_dependent\": false, \"default_export_compatible\": false, \"depends\": [], \"exportable\": true, \"groupable\": true, \"help\": \"Estimate of the date on which the opportunity will be won.\", \"manual\": false, \"name\": \"date_deadline\", \"readonly\": false, \"required\": false, \"searchable\": true, \"sortable\": true, \"store\": true, \"string\": \"Expected Closing\", \"type\": \"date\"}, \"write_date\": {\"change_default\": false, \"company_dependent\": false, \"default_export_compatible\": false, \"depends\": [], \"exportable\": true, \"groupable\": true, \"manual\": false, \"name\": \"write_date\", \"readonly\": true, \"required\": false, \"searchable\": true, \"sortable\": true, \"store\": true, \"string\": \"Last Updated on\", \"type\": \"datetime\"}}", mode: .keys, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_read_missing_id", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"read\", [[999999]], {\"fields\": [\"name\"]}]}, \"id\": 14}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "[]", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_search_count", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"search_count\", [[]]]}, \"id\": 16}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "39", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_search_ids", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"search\", [[[\"type\", \"=\", \"opportunity\"]]], {\"limit\": 5, \"order\": \"id asc\"}]}, \"id\": 15}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "[13, 14, 15, 16, 17]", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_search_read_archived_crm_lead", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"search_read\", [[[\"active\", \"=\", false]]], {\"fields\": [\"name\", \"active\", \"won_status\", \"probability\", \"lost_reason_id\", \"write_date\"], \"limit\": 3}]}, \"id\": 37}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "[{\"id\": 12, \"name\": \"Quotation for 100 Desks\", \"active\": false, \"won_status\": \"lost\", \"probability\": 0.0, \"lost_reason_id\": false, \"write_date\": \"2026-11-21 04:18:41\"}]", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_unlink", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"unlink\", [[1, 2, 3]]]}, \"id\": 3}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "true", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_web_search_read", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"web_search_read\", [[]], {\"specification\": {\"name\": {}, \"stage_id\": {\"fields\": {\"display_name\": {}}}, \"tag_ids\": {\"fields\": {\"name\": {}}}}, \"limit\": 2, \"offset\": 0, \"order\": \"id asc\"}]}, \"id\": 13}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "{\"length\": 39, \"records\": [{\"id\": 1, \"name\": \"Club Office Furnitures\", \"stage_id\": {\"id\": 1, \"display_name\": \"New\"}, \"tag_ids\": [{\"id\": 6, \"name\": \"Training\"}]}]}", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_jsonrpc_write", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"write\", [[1], {\"priority\": \"0\", \"stage_id\": 2, \"tag_ids\": [[4, 3]]}]]}, \"id\": 11}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "true", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_search_read_crm_lead", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.lead\", \"search_read\", [[]], {\"fields\": [\"name\", \"type\", \"stage_id\", \"user_id\", \"team_id\", \"partner_id\", \"partner_name\", \"contact_name\", \"email_from\", \"phone\", \"expected_revenue\", \"prorated_revenue\", \"recurring_revenue\", \"probability\", \"priority\", \"tag_ids\", \"date_deadline\", \"date_closed\", \"date_open\", \"date_conversion\", \"date_last_stage_update\", \"create_date\", \"write_date\", \"active\", \"won_status\", \"lost_reason_id\", \"company_id\", \"company_currency\", \"description\", \"activity_date_deadline\", \"color\", \"city\", \"country_id\", \"lang_id\", \"order_ids\", \"quotation_count\"], \"limit\": 5, \"order\": \"id asc\"}]}, \"id\": 3}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "[{\"id\": 1, \"name\": \"Club Office Furnitures\", \"type\": \"lead\", \"stage_id\": [1, \"New\"], \"user_id\": [2, \"Mitchell Admin\"], \"team_id\": [1, \"Sales\"], \"partner_id\": false, \"partner_name\": \"Le Club SARL\", \"contact_name\": \"Jacques Dunagan\", \"email_from\": \"jdunagan@leclub.example.com\", \"phone\": \"+33 1 25 54 45 69\", \"expected_revenue\": 0.0, \"prorated_revenue\": 0.0, \"recurring_revenue\": 0.0, \"probability\": 0.0, \"priority\": \"1\", \"tag_ids\": [6], \"date_deadline\": false, \"date_closed\": false, \"date_open\": \"2026-09-21 04:18:00\", \"date_conversion\": false, \"date_last_stage_update\": \"2026-11-21 04:18:41\", \"create_date\": \"2026-11-13 04:18:42\", \"write_date\": \"2026-11-21 04:18:41\", \"active\": true, \"won_status\": \"pending\", \"lost_reason_id\": false, \"company_id\": [1, \"YourCompany\"], \"company_currency\": [1, \"USD\"], \"description\": false, \"activity_date_deadline\": false, \"color\": 0, \"city\": \"Paris\", \"country_id\": [75, \"France\"], \"lang_id\": false, \"order_ids\": [], \"quotation_count\": 0}]", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_search_read_crm_stage", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"crm.stage\", \"search_read\", [[]], {\"fields\": [\"name\", \"sequence\", \"is_won\", \"fold\", \"team_ids\", \"requirements\", \"rotting_threshold_days\", \"write_date\", \"create_date\"], \"limit\": 5, \"order\": \"id asc\"}]}, \"id\": 7}",
            status: 200, errorName: nil, errorMessage: nil,
            expected: "[{\"id\": 1, \"name\": \"New\", \"sequence\": 1, \"is_won\": false, \"fold\": false, \"team_ids\": [], \"requirements\": false, \"rotting_threshold_days\": 0, \"write_date\": \"2026-11-21 04:18:41\", \"create_date\": \"2026-11-21 04:18:41\"}]", mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_search_read_res_partner", api: .jsonrpc, user: .admin, path: "/jsonrpc",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"service\": \"object\", \"method\": \"execute_kw\", \"args\": [\"odoosync_demo\", 2, \"demo-api-key\", \"res.partner\", \"search_read\", [[]], {\"fields\": [\"name\", \"display_name\", \"is_company\", \"parent_id\", \"email\", \"phone\", \"street\", \"city\", \"zip\", \"country_id\", \"state_id\", \"vat\", \"company_id\", \"active\", \"write_date\", \"create_date\", \"category_id\", \"user_id\", \"lang\", \"tz\", \"type\", \"ref\", \"child_ids\"], \"limit\": 5, \"order\": \"id asc\"}]}, \"id\": 31}",
            status: 200, errorName: "builtins.ValueError", errorMessage: "Invalid field 'state_id' on 'res.partner'",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_session_err_access_denied_write", api: .session, user: .demo, path: "/web/dataset/call_kw/crm.stage/write",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"model\": \"crm.stage\", \"method\": \"write\", \"args\": [[1], {\"name\": \"X\"}], \"kwargs\": {}}, \"id\": 27}",
            status: 200, errorName: "odoo.exceptions.AccessError", errorMessage: "You are not allowed to modify 'CRM Stages' (crm.stage) records.\n\nThis operation is allowed for the following groups:\n\t- Sales/Administrator\n\nContact your administrator to request access if necessary.",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_session_err_bad_field", api: .session, user: .admin, path: "/web/dataset/call_kw/crm.lead/search_read",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"model\": \"crm.lead\", \"method\": \"search_read\", \"args\": [[]], \"kwargs\": {\"fields\": [\"nope_field\"], \"limit\": 1}}, \"id\": 24}",
            status: 200, errorName: "builtins.ValueError", errorMessage: "Invalid field 'nope_field' on 'crm.lead'",
            expected: nil, mode: .shape, nullID: false),
        ProbeCase(
            name: "probe_session_err_unknown_model", api: .session, user: .admin, path: "/web/dataset/call_kw/no.such.model/search_read",
            headers: [:],
            body: "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {\"model\": \"no.such.model\", \"method\": \"search_read\", \"args\": [[]], \"kwargs\": {\"limit\": 1}}, \"id\": 23}",
            status: 200, errorName: "werkzeug.exceptions.NotFound", errorMessage: "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.",
            expected: nil, mode: .shape, nullID: true),
    ]

    @Test(arguments: cases)
    func replay(_ probe: ProbeCase) async throws {
        try await withEmulator({ configuration in
            configuration.users = [
                .admin, probe.user == .demoOwnLeads ? EmulatorUser(
                    login: "demo", uid: 5, password: "demo", apiKey: "demo-user-key", isAdmin: false,
                    readOnlyModels: ["crm.stage"], ownLeadsOnly: true) : .demo, .portal,
            ]
        }) { emulator, client in
            // The recordings used ids created during the capture; the replays use leads 1-3, kept
            // active here, and lead 25 must belong to someone else for the record-rule case.
            for id in 1...3 { try emulator.setActive(model: "crm.lead", id: id, active: true) }
            emulator.modify(model: "crm.lead", id: 25, values: ["user_id": 8])
            var headers = probe.headers
            if probe.api == .session {
                let login = probe.user == .admin ? ("admin", "admin") : ("demo", "demo")
                let cookie = try #require(try await client.login(login.0, login.1).sessionCookie)
                headers["Cookie"] = "session_id=\(cookie)"
            }
            let reply = try await client.send(probe.path, body: probe.body, headers: headers)
            #expect(reply.status == probe.status, "\(reply.text.prefix(300))")
            if probe.errorName == "html" {
                #expect(reply.text == probe.errorMessage)
                #expect(reply.headers["content-type"] == "text/html; charset=utf-8")
                return
            }
            let body = try #require(reply.json, "not JSON: \(reply.text.prefix(200))")
            #expect(reply.headers["content-type"] == "application/json; charset=utf-8")
            if let name = probe.errorName {
                let data = probe.api == .json2 ? body : body["error"]?["data"]
                #expect(data?["name"]?.stringValue == name)
                #expect(data?["message"]?.stringValue == probe.errorMessage)
                #expect(data?.objectValue?.map(\.0) == ["name", "message", "arguments", "context", "debug"])
                if probe.api != .json2 {
                    let sentID = try EmulatorJSON.parse(probe.body)["id"]
                    #expect(body["id"] == (probe.nullID ? .null : sentID))
                    #expect(body.objectValue?.map(\.0) == ["jsonrpc", "id", "error"])
                }
                if probe.status == 401 {
                    #expect(reply.headers["www-authenticate"]?.trimmingCharacters(in: .whitespaces) == "Bearer")
                }
                return
            }
            let actual = probe.api == .json2 ? body : try #require(body["result"])
            let expected = try EmulatorJSON.parse(try #require(probe.expected))
            switch probe.mode {
            case .shape:
                if let problem = sameShape(expected, actual) { Issue.record("\(problem)") }
            case .keys:
                let expectedFields = expected.objectValue?.map(\.0).sorted()
                #expect(actual.objectValue?.map(\.0).sorted() == expectedFields)
                // `help` texts are not in the fixtures; every other attribute must be there.
                for (field, attributes) in expected.objectValue ?? [] {
                    #expect(
                        actual[field]?.objectValue?.map(\.0).filter { $0 != "help" }
                            == attributes.objectValue?.map(\.0).filter { $0 != "help" }, "\(field)")
                    #expect(actual[field]?["type"] == attributes["type"], "\(field)")
                }
            }
        }
    }
}

// MARK: - JSON-RPC, sessions and the HTTP layer

@Suite struct EmulatorProtocolTests {
    @Test func commonServiceLogsInWithPasswordOrKey() async throws {
        try await withEmulator { _, client in
            #expect(result(try await client.rpc("common", "version", [])) == [
                "server_version": "19.0", "server_version_info": [19, 0, 0, "final", 0, ""], "server_serie": "19.0",
                "protocol_version": 1,
            ])
            #expect(result(try await client.rpc("common", "login", ["odoosync_demo", "admin", "admin"])) == 2)
            #expect(result(try await client.rpc("common", "login", ["odoosync_demo", "admin", "demo-api-key"])) == 2)
            #expect(result(try await client.rpc("common", "login", ["odoosync_demo", "admin", "wrong"])) == false)
            #expect(result(try await client.rpc("common", "authenticate", ["odoosync_demo", "demo", "demo", [:]])) == 5)
            let missing = try await client.rpc("common", "authenticate", ["odoosync_demo", "admin", "admin"])
            #expect(errorName(missing) == "builtins.TypeError")
            #expect(errorMessage(missing) == "exp_authenticate() missing 1 required positional argument: 'user_agent_env'")
            #expect(result(try await client.rpc("db", "server_version", [])) == "19.0")
        }
    }

    @Test func executeKwChecksDatabaseUidAndSecret() async throws {
        try await withEmulator { _, client in
            let facts = try FixtureFacts.load()
            #expect(result(try await client.executeKw("crm.lead", "search_count", [[]], uid: 2, secret: "admin"))
                == .int(facts.activeLeadCount))
            let asString = try await client.rpc(
                "object", "execute_kw", ["odoosync_demo", "2", "demo-api-key", "crm.lead", "search_count", [[]]])
            #expect(result(asString) == .int(facts.activeLeadCount))
            let keyOfAnother = try await client.executeKw("crm.lead", "search_count", [[]], uid: 5, secret: "demo-api-key")
            #expect(errorName(keyOfAnother) == "odoo.exceptions.AccessDenied")
            let badDB = try await client.rpc("object", "execute_kw", ["nodb", 2, "admin", "crm.lead", "search_count", [[]]])
            #expect(errorName(badDB) == "psycopg2.OperationalError")
            let viaExecute = try await client.rpc(
                "object", "execute", ["odoosync_demo", 2, "admin", "res.users", "context_get"])
            #expect(result(viaExecute) == ["lang": "en_US", "tz": .string(facts.adminTZ), "uid": 2])
        }
    }

    @Test func httpLayerRejectsBadRequestsLikeOdoo() async throws {
        try await withEmulator { _, client in
            let noType = try await client.send("/jsonrpc", body: "{}", contentType: "text/plain")
            #expect(noType.status == 415)
            #expect(noType.text.contains("<title>415 Unsupported Media Type</title>"))
            let badJSON = try await client.send("/jsonrpc", body: "{nope")
            #expect(badJSON.status == 400)
            #expect(badJSON.text == "Invalid JSON data")
            let badJSON2 = try await client.send("/json/2/crm.lead/search_count", body: "{nope", headers: ["Authorization": "bearer demo-api-key"])
            #expect(badJSON2.status == 400)
            #expect(badJSON2.json?["name"] == "werkzeug.exceptions.BadRequest")
            #expect(badJSON2.json?["message"]?.stringValue?.hasPrefix("could not parse the body as json: ") == true)
            let get = try await client.send("/json/2/crm.lead/search_count", method: "GET", headers: ["Authorization": "bearer demo-api-key"])
            #expect(get.status == 404)
            #expect(get.json?["message"] == "Did you mean POST /json/2/<model>/<method>?")
            let version = try await client.send("/web/version", method: "GET", contentType: nil)
            #expect(version.json == ["version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"])
            let info = try await client.send("/web/webclient/version_info", body: #"{"jsonrpc":"2.0","method":"call","params":{},"id":"x"}"#)
            #expect(info.json?["id"] == "x")
            #expect(info.json?["result"]?["server_serie"] == "19.0")
            let scheme = try await client.send(
                "/json/2/crm.lead/search_count", body: #"{"domain": []}"#, headers: ["Authorization": "BEARER demo-api-key"])
            #expect(scheme.json == .int(try FixtureFacts.load().activeLeadCount))
        }
    }

    @Test func json2IsAbsentBeforeOdoo19() async throws {
        try await withEmulator({ $0.serverVersion = "17.0" }) { _, client in
            let reply = try await client.json2("crm.lead", "search_count", ["domain": []])
            #expect(reply.status == 404)
            #expect(reply.text.contains("<title>404 Not Found</title>"))
            #expect(result(try await client.rpc("common", "version", []))?["server_version"] == "17.0")
        }
    }

    @Test func sessionCookieFlow() async throws {
        try await withEmulator { _, client in
            let apiKeyLogin = try await client.login("admin", "demo-api-key")
            #expect(errorName(apiKeyLogin) == "odoo.exceptions.AccessDenied")
            let wrongDB = try await client.send(
                "/web/session/authenticate",
                body: #"{"jsonrpc":"2.0","method":"call","params":{"db":"nodb","login":"admin","password":"admin"},"id":1}"#)
            #expect(errorName(wrongDB) == "odoo.exceptions.AccessError")
            #expect(errorMessage(wrongDB) == "Database not found.")

            let login = try await client.login("admin", "admin")
            #expect(result(login)?["uid"] == 2)
            #expect(result(login)?["user_context"] == ["lang": "en_US", "tz": .string(try FixtureFacts.load().adminTZ), "uid": 2])
            let cookie = try #require(login.sessionCookie)
            let headers = ["Cookie": "session_id=\(cookie)"]
            let call = #"{"jsonrpc":"2.0","method":"call","params":{"model":"crm.stage","method":"search_read","args":[[]],"kwargs":{"fields":["name"],"limit":2,"order":"id asc"}},"id":7}"#
            let rows = try await client.send("/web/dataset/call_kw/crm.stage/search_read", body: call, headers: headers)
            let facts = try FixtureFacts.load()
            #expect(result(rows) == [
                ["id": 1, "name": .string(facts.stageName(1) ?? "")], ["id": 2, "name": .string(facts.stageName(2) ?? "")],
            ])
            let noKwargs = #"{"jsonrpc":"2.0","method":"call","params":{"model":"crm.stage","method":"search_count","args":[[]]},"id":8}"#
            #expect(errorMessage(try await client.send("/web/dataset/call_kw", body: noKwargs, headers: headers))
                == "DataSet.call_kw() missing 1 required positional argument: 'kwargs'")
            let info = try await client.send("/web/session/get_session_info", body: #"{"jsonrpc":"2.0","params":{},"id":3}"#, headers: headers)
            #expect(result(info)?["username"] == "admin")

            let destroy = try await client.send("/web/session/destroy", body: #"{"jsonrpc":"2.0","params":{},"id":4}"#, headers: headers)
            #expect(destroy.json == ["jsonrpc": "2.0", "id": 4])
            let expired = try await client.send("/web/dataset/call_kw", body: call, headers: headers)
            #expect(expired.json?["id"] == .null)
            #expect(expired.json?["error"]?["code"] == 100)
            #expect(errorName(expired) == "odoo.http.SessionExpiredException")
            let bearerOnly = try await client.send("/web/dataset/call_kw", body: call, headers: ["Authorization": "bearer demo-api-key"])
            #expect(bearerOnly.json?["error"]?["code"] == 100)
        }
    }
}

// MARK: - Data semantics

@Suite struct EmulatorDataTests {
    @Test func readEncodesValuesLikeOdoo() async throws {
        try await withEmulator { _, client in
            let reply = try await client.executeKw(
                "crm.lead", "read", [[25, 999_999, 25]],
                ["fields": ["stage_id", "partner_id", "write_date", "date_deadline", "tag_ids", "expected_revenue", "priority"]])
            let rows = try #require(result(reply)?.arrayValue)
            #expect(rows.count == 2, "missing ids are dropped, duplicates kept")
            let row = rows[0]
            #expect(row.objectValue?.map(\.0) == [
                "id", "stage_id", "partner_id", "write_date", "date_deadline", "tag_ids", "expected_revenue", "priority",
            ])
            #expect(row["stage_id"]?.arrayValue?.count == 2)
            #expect(row["stage_id"]?[1]?.stringValue != nil)
            #expect(isDatetime(row["write_date"]?.stringValue ?? ""))
            #expect(row["expected_revenue"]?.doubleValue != nil)
            if case .int = row["expected_revenue"] ?? .null { Issue.record("monetary must be a float") }
            #expect(row["priority"]?.stringValue != nil)
            let all = try await client.executeKw("crm.stage", "read", [[1]], [:])
            #expect(result(all)?[0]?.objectValue?.count == 11, "no fields means all fields")
            let badField = try await client.executeKw("crm.lead", "read", [[1]], ["fields": ["nope"]])
            #expect(errorMessage(badField) == "Invalid field 'nope' on 'crm.lead'")
        }
    }

    @Test func activeTestHidesArchivedRecords() async throws {
        try await withEmulator { _, client in
            let facts = try FixtureFacts.load()
            let archived = ids(result(try await client.executeKw(
                "crm.lead", "search", [[["active", "=", false]]], ["order": "id asc"])))
            #expect(archived == facts.archivedLeadIDs)
            let first = try #require(archived.first)
            #expect(ids(result(try await client.executeKw("crm.lead", "search", [[["id", "=", .int(first)]]]))) == [])
            #expect(result(try await client.executeKw("crm.lead", "search_count", [[["active", "in", [true, false]]]]))
                == .int(facts.leadCount))
            #expect(result(try await client.executeKw(
                "crm.lead", "search_count", [[]], ["context": ["active_test": false]])) == .int(facts.leadCount))
            #expect(result(try await client.executeKw("crm.lead", "search_count", [[]])) == .int(facts.activeLeadCount))
            let read = try await client.executeKw("crm.lead", "read", [[.int(first)]], ["fields": ["active"]])
            #expect(result(read)?[0]?["active"] == false)
            #expect(result(try await client.executeKw("crm.stage", "search_count", [[]])) == .int(facts.stages.count),
                "crm.stage has no active field")
        }
    }

    @Test func orderLimitAndOffset() async throws {
        try await withEmulator { _, client in
            let facts = try FixtureFacts.load()
            let all = ids(result(try await client.executeKw("crm.lead", "search", [[]], ["order": "id asc"])))
            #expect(all == all.sorted())
            #expect(all.count == facts.activeLeadCount)
            let page = ids(result(try await client.executeKw("crm.lead", "search", [[]], ["order": "id asc", "limit": 5, "offset": 2])))
            #expect(page == Array(all[2..<7]))
            let descending = ids(result(try await client.executeKw("crm.lead", "search", [[]], ["order": "id desc", "limit": 3])))
            #expect(descending == Array(all.reversed().prefix(3)))
            #expect(ids(result(try await client.executeKw("crm.lead", "search", [[]], ["limit": 0]))).count == all.count)
            #expect(ids(result(try await client.executeKw("crm.lead", "search", [[]], ["offset": 10_000]))) == [])
            let defaultOrder = try await client.executeKw(
                "crm.lead", "search_read", [[]], ["fields": ["priority"], "limit": 400])
            let priorities = result(defaultOrder)?.arrayValue?.compactMap { $0["priority"]?.stringValue } ?? []
            #expect(priorities == priorities.sorted(by: >), "crm.lead's _order is priority desc, id desc")
            let negative = try await client.executeKw("crm.lead", "search", [[]], ["limit": -1])
            #expect(errorName(negative) == "psycopg2.errors.InvalidRowCountInLimitClause")
            let injection = try await client.executeKw("crm.lead", "search", [[]], ["order": "id; select 1"])
            #expect(errorName(injection) == "odoo.exceptions.UserError")
            let badOrder = try await client.executeKw("crm.lead", "search", [[]], ["order": "nope desc"])
            #expect(errorMessage(badOrder) == "Invalid field 'nope' on model 'crm.lead'")
            #expect(result(try await client.executeKw("crm.lead", "search_count", [[]], ["limit": 7])) == 7)
            let stages = try await client.executeKw("crm.stage", "search_read", [[]], ["fields": ["sequence"]])
            let sequences = ids(.array(result(stages)?.arrayValue?.compactMap { $0["sequence"] } ?? []))
            #expect(sequences == sequences.sorted(), "crm.stage's _order is sequence, name, id")
        }
    }

    /// Odoo 19 compares datetimes at whole seconds: `> X` is `>= X+1s`, `= X` is [X, X+1s).
    @Test(arguments: [
        (">", "X", "<", "X+1", false), (">=", "X", "<", "X+1", true), ("=", "X", nil, nil, true),
        ("<=", "X", ">=", "X", true), ("=", "XT.999999", nil, nil, true), ("<", "X", ">", "X-1", false),
        ("!=", "X", "=", "X", false),
    ] as [(String, String, String?, String?, Bool)])
    func wholeSecondDatetimeComparisons(op: String, value: String, op2: String?, value2: String?, matches: Bool) async throws {
        let facts = try FixtureFacts.load()
        let (stamp, crowd) = facts.crowdedSecond
        let second = try #require(parseOdooDateTime(stamp))
        func render(_ token: String) -> EmulatorJSON {
            switch token {
            case "X+1": return .string(TimeUtil.formatDateTime(second + 1_000_000))
            case "X-1": return .string(TimeUtil.formatDateTime(second - 1_000_000))
            case "XT.999999": return .string(stamp.replacingOccurrences(of: " ", with: "T") + ".999999")
            default: return .string(stamp)
            }
        }
        var domain: [EmulatorJSON] = [["write_date", .string(op), render(value)]]
        if let op2, let value2 { domain.append(["write_date", .string(op2), render(value2)]) }
        try await withEmulator { _, client in
            let reply = try await client.executeKw(
                "crm.lead", "search", [.array(domain)], ["order": "id asc", "context": ["active_test": false]])
            #expect(ids(result(reply)) == (matches ? crowd : []), "\(domain)")
        }
    }

    @Test func laterWriteInTheSameSecondIsOnlyFoundWithGreaterOrEqual() async throws {
        let second = try #require(parseOdooDateTime("2026-11-21 10:00:00"))
        let clock = ClockBox(micros: second + 250_000)
        try await withEmulator { emulator, client in
            emulator.setClock { clock.date }
            let write = try await client.executeKw("crm.lead", "write", [[1, 2], ["priority": "3"]])
            #expect(result(write) == true)
            let stamp = try #require(emulator.preciseWriteDate(model: "crm.lead", id: 1))
            #expect(stamp == "2026-11-21 10:00:00.250000")
            #expect(emulator.preciseWriteDate(model: "crm.lead", id: 2) == stamp, "one call, one transaction timestamp")
            let seen = try await client.executeKw("crm.lead", "read", [[1]], ["fields": ["write_date"]])
            let cursor = try #require(result(seen)?[0]?["write_date"])
            #expect(cursor == "2026-11-21 10:00:00")

            clock.micros = second + 700_000
            #expect(emulator.modify(model: "crm.lead", id: 3, values: ["probability": .double(55)]))
            let after = try await client.executeKw("crm.lead", "search", [[["write_date", ">", cursor]]], ["order": "id asc"])
            #expect(ids(result(after)) == [])
            let since = try await client.executeKw(
                "crm.lead", "search", [[["write_date", ">=", cursor]]], ["order": "write_date asc, id asc"])
            #expect(ids(result(since)) == [1, 2, 3])
            let zulu = try await client.executeKw("crm.lead", "search", [[["write_date", ">=", "2026-11-21T10:00:00Z"]]])
            #expect(errorMessage(zulu) == "expecting only datetimes with no timezone: '2026-11-21T10:00:00Z'")
            let garbage = try await client.executeKw("crm.lead", "search", [[["write_date", ">=", "yesterday"]]])
            #expect(errorMessage(garbage) == "Invalid term 'yesterday' in expression date: 'yesterday'")
            let tokyo = try await client.executeKw(
                "crm.lead", "search_count", [[["write_date", ">=", "2026-11-21"]]], ["context": ["tz": "Etc/GMT+12"]])
            #expect(result(tokyo) == 0, "a bare date is midnight in the context's timezone")
            let utc = try await client.executeKw(
                "crm.lead", "search_count", [[["write_date", ">=", "2026-11-21"]]], ["context": ["tz": "UTC"]])
            #expect(result(utc) == 3)
        }
    }

    @Test func writesValidateLikeTheORM() async throws {
        try await withEmulator { emulator, client in
            let badDate = try await client.executeKw("crm.lead", "write", [[1], ["date_closed": "2026-12-31T10:00:00"]])
            #expect(errorMessage(badDate) == "time data '2026-12-31T10:00:00' does not match format '%Y-%m-%d %H:%M:%S'")
            let micro = try await client.executeKw("crm.lead", "write", [[1], ["date_closed": "2026-12-31 10:00:00.5"]])
            #expect(errorMessage(micro) == "unconverted data remains: .5")
            #expect(result(try await client.executeKw("crm.lead", "write", [[1], ["date_deadline": "2026-12-31 10:00:00"]])) == true)
            let back = try await client.executeKw("crm.lead", "read", [[1]], ["fields": ["date_deadline"]])
            #expect(result(back)?[0]?["date_deadline"] == "2026-12-31")
            let selection = try await client.executeKw("crm.lead", "write", [[1], ["priority": 9]])
            #expect(errorMessage(selection) == "Wrong value for crm.lead.priority: 9")
            let cleared = try await client.executeKw("crm.lead", "write", [[1], ["name": false]])
            #expect(errorName(cleared) == "odoo.exceptions.ValidationError")
            let unknownStage = try await client.executeKw("crm.lead", "write", [[1], ["stage_id": 999]])
            #expect(errorName(unknownStage) == "psycopg2.errors.ForeignKeyViolation")
            #expect(emulator.writes().filter { $0.applied }.count == 1)
            #expect(emulator.writes().count == 6)
        }
    }

    @Test func createArchiveAndUnlinkReturnValues() async throws {
        try await withEmulator { emulator, client in
            let single = try await client.executeKw("crm.lead", "create", [["name": "One"]])
            let id = try #require(result(single)?.intValue)
            let many = try await client.executeKw("crm.lead", "create", [[["name": "A"], ["name": "B"]]])
            #expect(ids(result(many)) == [id + 1, id + 2])
            let viaJSON2 = try await client.json2("crm.lead", "create", ["vals_list": ["name": "C"]])
            #expect(viaJSON2.json == [.int(id + 3)])
            let created = try await client.executeKw(
                "crm.lead", "read", [[.int(id)]], ["fields": ["stage_id", "user_id", "create_date", "write_date", "won_status"]])
            let row = try #require(result(created)?[0])
            #expect(row["user_id"]?[0] == 2)
            #expect(row["create_date"] == row["write_date"])
            #expect(row["won_status"] == "pending")

            let archive = try await client.executeKw("crm.lead", "action_archive", [[.int(id)]])
            #expect(archive.json == ["jsonrpc": "2.0", "id": 1], "None: no result key")
            let lost = try await client.executeKw("crm.lead", "read", [[.int(id)]], ["fields": ["active", "won_status", "probability"]])
            #expect(result(lost)?[0]?["won_status"] == "lost")
            let unarchive = try await client.json2("crm.lead", "action_unarchive", ["ids": [.int(id)]])
            #expect(unarchive.status == 200)
            #expect(unarchive.text == "null")
            #expect(result(try await client.executeKw("crm.lead", "unlink", [[.int(id)]])) == true)
            let again = try await client.executeKw("crm.lead", "unlink", [[.int(id)]])
            #expect(errorMessage(again) == "Record does not exist or has been deleted.\n(Record: crm.lead(\(id),), User: 2)")
            let methods = emulator.writes().map(\.method)
            #expect(methods == ["create", "create", "create", "action_archive", "action_unarchive", "unlink", "unlink"])
            #expect(emulator.writes().last?.applied == false)
        }
    }

    @Test func lesserMethods() async throws {
        try await withEmulator { _, client in
            let facts = try FixtureFacts.load()
            let stageName = try #require(facts.stageName(1))
            let found = try await client.executeKw("crm.stage", "name_search", [], ["name": .string(stageName), "limit": 5])
            #expect(result(found)?.arrayValue?.first == [1, .string(stageName)])
            let plain = try await client.executeKw("crm.lead", "read", [[1]], ["fields": ["stage_id"], "load": .null])
            #expect(result(plain)?[0]?["stage_id"]?.intValue != nil, "load=None gives bare many2one ids")
            let defaults = try await client.executeKw("crm.lead", "default_get", [["active", "user_id", "priority"]])
            #expect(result(defaults) == ["active": true, "priority": "0", "user_id": 2])
            let json2Context = try await client.json2(
                "crm.lead", "search_count", ["domain": [], "context": ["active_test": false]])
            #expect(json2Context.json == .int(facts.leadCount))
            let ids422 = try await client.json2("crm.lead", "search_count", ["ids": [1], "domain": []])
            #expect(ids422.status == 422)
            let missing = try await client.json2("crm.lead", "search_count", [:])
            #expect(missing.status == 422)
            #expect(missing.json?["message"] == "missing a required argument: 'domain'")
            let fields = try await client.json2("crm.lead", "fields_get", ["allfields": ["priority"], "attributes": ["type"]])
            #expect(fields.json == ["priority": ["type": "selection"]])
        }
    }

    @Test func domainOperators() async throws {
        try await withEmulator { _, client in
            func count(_ domain: EmulatorJSON) async throws -> EmulatorJSON? {
                result(try await client.executeKw("crm.lead", "search_count", [domain], ["context": ["active_test": false]]))
            }
            let total = try #require(try await count([])?.intValue)
            let withStage = try #require(try await count([["stage_id", "=", 1]])?.intValue)
            let notStage = try #require(try await count([["stage_id", "!=", 1]])?.intValue)
            #expect(withStage + notStage == total)
            let stageName = try #require(try FixtureFacts.load().stageName(1))
            #expect(try await count([["stage_id", "=", .string(stageName)]])?.intValue == withStage)
            #expect(try await count([["stage_id.name", "=", .string(stageName)]])?.intValue == withStage)
            let unassigned = try #require(try await count([["user_id", "=", false]])?.intValue)
            let assigned = try #require(try await count([["user_id", "!=", false]])?.intValue)
            #expect(unassigned + assigned == total)
            let facts = try FixtureFacts.load()
            let word = String((facts.leads.first?["name"]?.stringValue ?? "x").prefix { $0 != " " }).uppercased()
            let named = try #require(try await count([["name", "ilike", .string(word)]])?.intValue)
            let unnamed = try #require(try await count([["name", "not ilike", .string(word)]])?.intValue)
            #expect(named > 0 && named + unnamed == total)
            #expect(try await count(["!", ["name", "ilike", .string(word)]])?.intValue == unnamed)
            #expect(try await count(["&", ["id", ">", 10], ["id", "<=", 20]])?.intValue
                == facts.leadIDs.filter { $0 > 10 && $0 <= 20 }.count)
            #expect(try await count([["id", "in", [1, 2, 3, 999_999]]])?.intValue == facts.leadIDs.filter { $0 <= 3 }.count)
            #expect(try await count([["tag_ids", "=", false]])?.intValue ?? 0 > 0)
            let bad = try await client.executeKw("crm.lead", "search_count", [[["id", "===", 1]]])
            #expect(errorMessage(bad) == "Invalid operator in condition ('id', '===', 1)")
            let typed = try await client.executeKw("crm.lead", "search_count", [[["id", "=", "abc"]]])
            #expect(errorName(typed) == "psycopg2.errors.InvalidTextRepresentation")
            let lang = try await client.executeKw("crm.lead", "search_count", [[]], ["context": ["lang": "fr_FR"]])
            #expect(errorMessage(lang) == "Invalid language code: fr_FR")
        }
    }
}

private final class ClockBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64
    init(micros: Int64) { value = micros }
    var micros: Int64 {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
    var date: Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
}

// MARK: - Faults

@Suite struct EmulatorFaultTests {
    private enum Outcome: Equatable {
        case ok(Int)
        case failed
    }

    /// Sends the same ten writes; returns what the emulator decided for each and how many of
    /// the writes it applied. The client's view is not compared: on a loaded machine a request
    /// can also fail at the transport for reasons of its own (a timeout), which says nothing
    /// about the seed.
    private func outcomes(plan: FaultPlan) async throws -> ([FaultKind?], [Int]) {
        var decisions: [FaultKind?] = []
        var applied: [Int] = []
        try await withEmulator({ $0.faults = plan }) { emulator, client in
            for n in 0..<10 {
                let body: EmulatorJSON = [
                    "jsonrpc": "2.0", "method": "call", "id": .int(n),
                    "params": [
                        "service": "object", "method": "execute_kw",
                        "args": ["odoosync_demo", 2, "admin", "crm.lead", "write", [[1], ["color": .int(n)]]],
                    ],
                ]
                _ = try? await client.send("/jsonrpc", body: body.serialized, closeConnection: true)
            }
            #expect(emulator.requestCount() == 10)
            decisions = emulator.faultDecisions()
            applied = emulator.writes().filter(\.applied).compactMap { write in
                (try? EmulatorJSON.parse(write.values))?["color"]?.intValue
            }
        }
        return (decisions, applied)
    }

    @Test func faultsAreReproducibleForASeed() async throws {
        let plan = FaultPlan(rate: 0.5, kinds: [.serverError, .dropConnection, .truncatedBody], seed: 99)
        let (first, firstApplied) = try await outcomes(plan: plan)
        let (second, secondApplied) = try await outcomes(plan: plan)
        #expect(first.count == 10)
        #expect(first == second)
        #expect(first.contains { $0 != nil } && first.contains { $0 == nil }, "a 50% rate should fault some requests, not all")
        // Exactly the writes served normally were applied, in both runs.
        let served = first.indices.filter { first[$0] == nil }
        #expect(firstApplied == served, "applied \(firstApplied), served normally \(served)")
        #expect(secondApplied == firstApplied)
        let decisions = (1...50).map { plan.decide(requestNumber: $0) }
        #expect(decisions == (1...50).map { plan.decide(requestNumber: $0) })
    }

    @Test(arguments: [502, 503, 500])
    func serverErrorPages(status: Int) async throws {
        try await withEmulator({ $0.faults = .once(.httpError(status: status)) }) { _, client in
            let reply = try await client.rpc("common", "version", [])
            #expect(reply.status == status)
            #expect(reply.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(reply.text.contains(status == 500 ? "Internal Server Error" : "nginx"))
            #expect(result(try await client.rpc("common", "version", []))?["server_serie"] == "19.0")
        }
    }

    @Test func droppedAndTruncatedResponsesDoNotApplyWrites() async throws {
        for kind in [FaultKind.dropConnection, .truncatedBody] {
            try await withEmulator({ $0.faults = .once(kind) }) { emulator, client in
                await #expect(throws: (any Error).self) {
                    _ = try await client.send(
                        "/json/2/crm.lead/write", body: #"{"ids": [1], "vals": {"color": 7}}"#,
                        headers: ["Authorization": "bearer demo-api-key"], closeConnection: true)
                }
                let color = try await client.json2("crm.lead", "read", ["ids": [1], "fields": ["color"]])
                #expect(color.json?[0]?["color"] != 7, "\(kind) must not apply the write")
                #expect(emulator.writes().allSatisfy { !$0.applied })
            }
        }
    }

    @Test func dropAfterApplyLosesOnlyTheResponse() async throws {
        try await withEmulator({ $0.faults = .once(.dropAfterApply) }) { emulator, client in
            await #expect(throws: (any Error).self) {
                _ = try await client.send(
                    "/json/2/crm.lead/write", body: #"{"ids": [1], "vals": {"color": 7}}"#,
                    headers: ["Authorization": "bearer demo-api-key"], closeConnection: true)
            }
            let color = try await client.json2("crm.lead", "read", ["ids": [1], "fields": ["color"]])
            #expect(color.json?[0]?["color"] == 7)
            #expect(emulator.writes().count == 1)
            #expect(emulator.writes().first?.applied == true)
        }
    }

    @Test func latencyDelaysButAnswers() async throws {
        try await withEmulator({ $0.faults = FaultPlan(rate: 1, kinds: [.latency(milliseconds: 150)], onlyPaths: ["/jsonrpc"]) }) {
            _, client in
            let start = Date()
            #expect(result(try await client.rpc("common", "version", [])) != nil)
            #expect(Date().timeIntervalSince(start) >= 0.15)
            let version = try await client.send("/web/version", method: "GET", contentType: nil)
            #expect(version.status == 200)
        }
    }
}

// MARK: - Volume

@Suite struct EmulatorVolumeTests {
    /// The sync client's paging shapes over generated leads visit every lead exactly once.
    @Test func pagingShapesCoverGeneratedLeads() async throws {
        try await withEmulator({ $0.generatedLeads = 5_000 }) { emulator, client in
            let facts = try FixtureFacts.load()
            #expect(emulator.recordCount(model: "crm.lead") == facts.leadCount + 5_000)
            let context: EmulatorJSON = ["active_test": false]
            let every = ids(result(try await client.executeKw("crm.lead", "search", [[]], ["order": "id asc", "context": context])))
            #expect(every.count == facts.leadCount + 5_000)

            // (b) write_date >= S ordered by (write_date, id); a page that is all one second is
            // finished with (a), by id inside that second.
            var seen = Set<Int>()
            var cursor = "1970-01-01 00:00:00"
            for _ in 0..<200 {
                let page = try await client.executeKw(
                    "crm.lead", "search_read", [[["write_date", ">=", .string(cursor)]]],
                    ["fields": ["write_date"], "order": "write_date asc, id asc", "limit": 1000, "context": context])
                let rows = result(page)?.arrayValue ?? []
                seen.formUnion(rows.compactMap { $0["id"]?.intValue })
                guard rows.count == 1000, let last = rows.last?["write_date"]?.stringValue else { break }
                guard rows.first?["write_date"]?.stringValue == last else {
                    cursor = last
                    continue
                }
                let second = try #require(parseOdooDateTime(last))
                var after = rows.last?["id"]?.intValue ?? 0
                while true {
                    let inner = try await client.executeKw(
                        "crm.lead", "search_read",
                        [[["write_date", ">=", .string(last)],
                          ["write_date", "<", .string(TimeUtil.formatDateTime(second + 1_000_000))], ["id", ">", .int(after)]]],
                        ["fields": ["write_date"], "order": "id asc", "limit": 1000, "context": context])
                    let innerIDs = (result(inner)?.arrayValue ?? []).compactMap { $0["id"]?.intValue }
                    seen.formUnion(innerIDs)
                    guard let tail = innerIDs.last, innerIDs.count == 1000 else { break }
                    after = tail
                }
                cursor = TimeUtil.formatDateTime(second + 1_000_000)
            }
            #expect(seen == Set(every))

            // (d) by ids
            let chunk = Array(every.suffix(1000))
            let byIDs = try await client.executeKw(
                "crm.lead", "search_read", [[["id", "in", .array(chunk.map { .int($0) })]]],
                ["fields": ["name", "stage_id"], "context": context])
            #expect(Set(ids(.array((result(byIDs)?.arrayValue ?? []).compactMap { $0["id"] }))) == Set(chunk))

            let touched = emulator.touchRandomLeads(fraction: 0.01, seed: 3)
            #expect(touched.count == Int((Double(every.count) * 0.01).rounded()))
            let changed = try await client.executeKw(
                "crm.lead", "search", [[["write_date", ">=", .string(TimeUtil.formatDateTime(TimeUtil.now() - 60_000_000))]]],
                ["context": context, "order": "id asc"])
            #expect(ids(result(changed)) == touched)
        }
    }

    @Test func generationIsReproducible() throws {
        let a = try OdooEmulator(fixtures: Paths.fixtures)
        let b = try OdooEmulator(fixtures: Paths.fixtures)
        a.generateLeads(count: 300, seed: 11)
        b.generateLeads(count: 300, seed: 11)
        #expect(a.recordsJSON(model: "crm.lead") == b.recordsJSON(model: "crm.lead"))
    }

    /// `load` with an external identifier is Odoo's idempotent import: the second call with the
    /// same identifier updates the record the first one created; a bad value creates nothing.
    @Test func loadWithAnExternalIdentifierCreatesOnce() async throws {
        try await withEmulator { emulator, client in
            let before = try EmulatorJSON.parse(emulator.recordsJSON(model: "project.task")).arrayValue?.count ?? 0
            let fields: EmulatorJSON = ["id", "name", "project_id/.id", "priority", "description"]
            let first = try await client.json2("project.task", "load", ["fields": fields, "data": [["odoosync.plane_issue_abc", "Wire the kiosk", "1", "2", "<p>x</p>"]]])
            let created = try #require(first.json?["ids"]?.arrayValue?.first?.intValue, "\(first.text)")
            #expect(first.json?["messages"] == .array([]))
            // JSON-RPC, same identifier: an update of the same record.
            let again = try await client.executeKw("project.task", "load", [fields, [["odoosync.plane_issue_abc", "Wire the kiosk v2", "1", "3", ""]]])
            #expect(result(again)?["ids"]?.arrayValue?.first?.intValue == created)
            let rows = try EmulatorJSON.parse(emulator.recordsJSON(model: "project.task")).arrayValue ?? []
            #expect(rows.count == before + 1)
            let task = rows.first { $0["id"]?.intValue == created }
            #expect(task?["name"]?.stringValue == "Wire the kiosk v2")
            #expect(task?["priority"]?.stringValue == "3")
            #expect(task?["description"] == false)

            let bad = try await client.json2("project.task", "load", ["fields": ["id", "name", "priority"], "data": [["odoosync.plane_issue_def", "Bad", "9"]]])
            #expect(bad.json?["ids"] == false)
            #expect(bad.json?["messages"]?.arrayValue?.first?["type"]?.stringValue == "error")
            #expect((try EmulatorJSON.parse(emulator.recordsJSON(model: "project.task")).arrayValue?.count ?? 0) == before + 1)
        }
    }
}
