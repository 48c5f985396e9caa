import Foundation
import Logging
import Testing
@testable import OdooClient
@testable import OdooSyncCore

/// What stands between odoosync and Odoo on real networks, over real loopback HTTP: a redirect
/// (http to https, a moved path), a proxy that gzips answers, a single sign-on login page.
@Suite(.serialized) struct OdooTransportTests {
    static let page = "<!DOCTYPE html>\n<html><head><title>Example SSO - Sign in</title></head><body><form>...</form></body></html>\n"

    static func settings(_ server: CannedServer, _ choice: OdooProtocolChoice) throws -> OdooSettings {
        OdooSettings(url: try #require(URL(string: server.baseURL)), database: "odoosync_demo", username: "admin",
                     apiKey: "demo-api-key", password: "admin", protocolChoice: choice, timeout: 10, retryBase: 0.001)
    }

    /// A successful login in whichever protocol the request speaks; nil for any other request.
    static func login(_ request: CannedServer.Received) -> CannedServer.Answer? {
        if request.path.hasSuffix("/json/2/res.users/context_get") {
            return .json(#"{"lang":"en_US","tz":"UTC","uid":2}"#)
        }
        if request.path == "/jsonrpc", request.text.contains("\"authenticate\"") {
            return .json(#"{"jsonrpc":"2.0","id":1,"result":2}"#)
        }
        if request.path == "/web/session/authenticate" {
            return .json(#"{"jsonrpc":"2.0","id":1,"result":{"uid":2,"server_version":"19.0"}}"#,
                         headers: [("Set-Cookie", "session_id=abc; Path=/; HttpOnly")])
        }
        return nil
    }

    static func environment(_ server: CannedServer, _ directory: URL, protocol choice: String) -> [String: String] {
        ["ODOO_URL": server.baseURL, "ODOO_DATABASE": "odoosync_demo", "ODOO_USERNAME": "admin",
         "ODOO_API_KEY": "demo-api-key", "ODOO_PASSWORD": "admin-password", "ODOO_PROTOCOL": choice,
         "ODOOSYNC_DB": directory.appendingPathComponent("odoosync.sqlite").path, "ODOOSYNC_RETRY_BASE_MS": "5"]
    }

    // MARK: redirects

    /// The transport hands a redirect back as it came: the request is sent once, never again to
    /// the Location, and never without its body.
    @Test(arguments: [301, 302, 307, 308])
    func theTransportHandsARedirectBackUnfollowed(_ status: Int) async throws {
        let server = try await CannedServer.start { request, base in
            request.path == "/jsonrpc"
                ? .init(status: status, headers: [("Location", base + "/odoo/jsonrpc")], body: [])
                : .json(#"{"jsonrpc":"2.0","id":1,"result":[]}"#)
        }
        defer { Task { await server.stop() } }
        let url = try #require(URL(string: server.baseURL + "/jsonrpc"))
        let response = try await URLSessionTransport().post(url, headers: ["Content-Type": "application/json", "Authorization": "bearer k"],
                                                            body: Data(#"{"params":{"domain":[]}}"#.utf8), timeout: 10)
        #expect(response.status == status)
        #expect(response.headers["location"] == server.baseURL + "/odoo/jsonrpc")
        #expect(server.received.map(\.path) == ["/jsonrpc"], "the redirect was followed")
    }

    /// A redirect ends the run with exit 3 at the first request, naming the status, where it
    /// points (without its query) and the ODOO_URL that would reach it.
    @Test(arguments: [301, 308])
    func aRedirectStopsTheRunAndNamesTheAddressToUse(_ status: Int) async throws {
        let server = try await CannedServer.start { request, base in
            if request.path.hasPrefix("/odoo/") { return Self.login(request) ?? .json("{}") }
            return .init(status: status, headers: [("Location", base + "/odoo" + request.path + "?from=proxy")], body: [])
        }
        defer { Task { await server.stop() } }
        let dir = try TestPaths.temporaryDirectory()
        let result = try await CLI.run(["pull", "odoo"], environment: Self.environment(server, dir, protocol: "auto"), in: dir)
        #expect(result.status == 3, "\(result.output)")
        #expect(result.stderr.contains("answered HTTP \(status), a redirect to \(server.baseURL)/odoo/json/2/res.users/context_get."), "\(result.stderr)")
        #expect(result.stderr.contains("Set ODOO_URL to the final address (e.g. \(server.baseURL)/odoo)"), "\(result.stderr)")
        #expect(!result.output.contains("from=proxy") && !result.output.contains("demo-api-key"))
        #expect(server.received.count == 1, "neither followed nor retried: \(server.received.map(\.path))")
    }

    /// Plane's client shares the transport: a redirect (http→https, a moved server) ends the
    /// run with exit 3 at the first request, not retried, naming where it points and the
    /// setting to change.
    @Test func aPlaneRedirectStopsTheRunAndNamesTheSetting() async throws {
        let server = try await CannedServer.start { request, _ in
            .init(status: 308, headers: [("Location", "https://plane.example.com" + request.path + "?next=1")], body: [])
        }
        defer { Task { await server.stop() } }
        let dir = try TestPaths.temporaryDirectory()
        let environment = ["PLANE_API_URL": server.baseURL, "PLANE_API_KEY": "plane_api_secret_key", "PLANE_WORKSPACE_SLUG": "acme",
                           "ODOOSYNC_DB": dir.appendingPathComponent("odoosync.sqlite").path]
        let result = try await CLI.run(["pull", "plane"], environment: environment, in: dir)
        #expect(result.status == 3, "\(result.output)")
        #expect(result.stderr.contains("answered HTTP 308, a redirect to https://plane.example.com/api/v1/workspaces/acme/projects/."),
                "\(result.stderr)")
        #expect(result.stderr.contains("set PLANE_API_URL"), "\(result.stderr)")
        #expect(!result.output.contains("next=1") && !result.output.contains("plane_api_secret_key"))
        #expect(server.received.count == 1, "neither followed nor retried: \(server.received.map(\.path))")
    }

    // MARK: gzip

    /// A proxy gzips a small answer, which comes out longer than the text: its Content-Length
    /// counts the encoded bytes, libcurl hands over the decoded ones, and that is not a cut-off.
    @Test func aSmallGzipAnswerIsNotTakenForACutOffOne() async throws {
        let server = try await CannedServer.start { request, _ in
            let text = request.path.hasSuffix("/context_get") ? #"{"lang":"en_US","tz":"UTC","uid":2}"# : "42"
            return .init(status: 200, headers: [("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
                         body: StoredGzip.encode(text))
        }
        defer { Task { await server.stop() } }
        #expect(StoredGzip.encode(#"{"lang":"en_US","tz":"UTC","uid":2}"#).count > 35)

        let url = try #require(URL(string: server.baseURL + "/json/2/res.users/context_get"))
        let response = try await URLSessionTransport().post(url, headers: ["Content-Type": "application/json"], body: Data("{}".utf8), timeout: 10)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"lang":"en_US","tz":"UTC","uid":2}"#)

        let client = OdooClient(settings: try Self.settings(server, .json2), transport: URLSessionTransport(), logger: Logger(label: "test"))
        #expect(try await client.connect().uid == 2)
        #expect(try await client.call(OdooCall(model: "crm.lead", method: "search_count", args: [("domain", [])])) == .int(42))
        #expect(await client.retryCount == 0)
    }

    // MARK: HTML pages with 200

    /// A single sign-on page answered with 200 at login, in every protocol: exit 3 at the first
    /// request, with a message that says ODOO_URL reaches a login page or proxy, not Odoo.
    @Test(arguments: ["json2", "jsonrpc", "session"])
    func aLoginPageInFrontOfOdooStopsTheLogin(_ choice: String) async throws {
        let server = try await CannedServer.start { _, _ in
            .init(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: Array(Self.page.utf8))
        }
        defer { Task { await server.stop() } }
        let dir = try TestPaths.temporaryDirectory()
        let result = try await CLI.run(["pull", "odoo"], environment: Self.environment(server, dir, protocol: choice), in: dir)
        #expect(result.status == 3, "\(result.output)")
        #expect(result.stderr.contains("Odoo at \(server.baseURL) answered HTTP 200 with an HTML page (\"Example SSO - Sign in\")"), "\(result.stderr)")
        #expect(result.stderr.contains("login page") && result.stderr.contains("Set ODOO_URL"), "\(result.stderr)")
        #expect(!result.stderr.contains("TruncatedBody"))
        #expect(server.received.count == 1, "not retried: \(server.received.map(\.path))")
    }

    /// The same page on a call after the login (a proxy's session ran out): not retried as a
    /// broken answer, the same error. This page comes with no Content-Type: its `<` tells.
    @Test(arguments: [OdooProtocolChoice.json2, .jsonrpc, .session])
    func aLoginPageOnACallIsNotRetried(_ choice: OdooProtocolChoice) async throws {
        let server = try await CannedServer.start { request, _ in
            Self.login(request) ?? .init(status: 200, headers: [], body: Array(("\n" + Self.page).utf8))
        }
        defer { Task { await server.stop() } }
        let client = OdooClient(settings: try Self.settings(server, choice), transport: URLSessionTransport(), logger: Logger(label: "test"))
        let error = await #expect(throws: OdooError.self) {
            try await client.call(OdooCall(model: "crm.lead", method: "search_count", args: [("domain", [])]))
        }
        guard case .htmlPage(_, 200, "Example SSO - Sign in", _)? = error else {
            Issue.record("expected the HTML-page error, got \(String(describing: error))")
            return
        }
        #expect(error?.exitStatus == .remote)
        #expect(error?.description.contains("ODOO_URL") == true)
        #expect(await client.retryCount == 0)
        #expect(server.received.count == 2, "\(server.received.map(\.path))")
    }
    /// A cancelled caller's request is not cut short: it gets its answer (or its timeout) and the
    /// caller sees the cancellation at its next step. On Linux, cancelling a task inside
    /// `URLSession.data(for:)` while its answer was being handed over could deadlock (the cancel
    /// waits for the session's queue holding the task's lock, which the queue needs to deliver):
    /// a sync whose Odoo half failed with Plane requests in flight hung until killed.
    @Test func aCancelledCallersRequestRunsToItsAnswer() async throws {
        let server = try await CannedServer.start { _, _ in
            Thread.sleep(forTimeInterval: 0.3)
            return .json(#"{"late":true}"#)
        }
        defer { Task { await server.stop() } }
        let transport = URLSessionTransport()
        let url = try #require(URL(string: server.baseURL + "/slow"))
        let call = Task { try await transport.get(url, headers: [:], timeout: 10) }
        try await Task.sleep(for: .milliseconds(100))
        call.cancel()
        let answer = try await call.value
        #expect(answer.status == 200)
        #expect(String(decoding: answer.body, as: UTF8.self) == #"{"late":true}"#)

        // What the caller would send next is not sent: a paging loop stops at its next request.
        let next = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await transport.get(url, headers: [:], timeout: 10)
        }
        await #expect(throws: CancellationError.self) { try await next.value }
        #expect(server.received.count == 1)
    }
}
