import Foundation
import Logging
import OdooSyncCore
@testable import PlaneClient
import PlaneEmulator
import Testing

// The Plane client against the Plane emulator over loopback HTTP.

@Suite(.serialized) struct PlaneClientTests {
    @Test func readsEveryPageSendingPerPageWithTheCursor() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let client = h.client()
        let expected = h.plane.issues(projectID: h.web).filter { $0["archived_at"] == .null && $0["is_draft"] != true }.count
        let all = try await client.issues(projectID: h.web, perPage: 5)
        #expect(all.count == expected)
        #expect(Set(all.map(\.id)).count == expected, "no issue twice")
        let pages = h.plane.requestLog().filter { $0.hasPrefix("GET /api/v1/workspaces/acme/projects/\(h.web)/issues/") }
        #expect(pages.count == (expected + 4) / 5)
        // Plane computes the offset from per_page, not from the cursor: every page sends both.
        #expect(pages.dropFirst().allSatisfy { $0.contains("per_page=5") && $0.contains("cursor=5%3A") })
    }

    @Test func waitsOutTheRateLimitInsteadOfFailing() async throws {
        // A window of 3 s: 10 requests fill it twice unless each takes over 0.75 s. With 1 s, a
        // machine loaded by the rest of the suite sent 4 requests slower than the window
        // emptied, and the gate rightly never waited.
        let h = try await PlaneHarness.start { $0.rateLimit = 4; $0.rateWindow = 3 }
        defer { Task { await h.stop() } }
        let client = h.client()
        let started = Date()
        for _ in 0..<10 { _ = try await client.states(projectID: h.web) }
        let elapsed = Date().timeIntervalSince(started)
        // Ten requests at four per 3 s span two windows: all of them arrived, so the client
        // waited, not failed. (Whether a wait came from the headers or, on a machine loaded by
        // the rest of the suite, from a 429's Retry-After, the run is the same.)
        #expect(elapsed >= 5.5, "the emulator's limit was kept (\(elapsed) s)")
        let waited = await client.rateLimitWaitSeconds
        let sent = await client.requestCount
        #expect(sent >= 10)
        // The client waits when the window is full. On a machine loaded by the rest of the
        // suite the ten requests can be slower than the limit, and then there is nothing to
        // wait for: no wait is right only if no request was refused (sent again after a 429).
        #expect(waited > 0 || sent == 10, "the client waited for the window to free a slot (\(sent) requests, waited \(waited) s)")
    }

    /// Requests side by side (as push sends them) wait out the same window: the time reported
    /// as waited is the time the run spent, not the sum of each request's wait. None fails.
    @Test func concurrentRequestsWaitTheWindowOutOnceAndAllArrive() async throws {
        let h = try await PlaneHarness.start { $0.rateLimit = 4; $0.rateWindow = 1 }
        defer { Task { await h.stop() } }
        let client = h.client()
        let started = Date()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var done = 0
                    for _ in 0..<3 { _ = try await client.states(projectID: h.web); done += 1 }
                    return done
                }
            }
            var total = 0
            for try await done in group { total += done }
            #expect(total == 12)
        }
        let elapsed = Date().timeIntervalSince(started)
        let waited = await client.rateLimitWaitSeconds
        #expect(waited > 0, "12 requests at 4 a second must wait")
        #expect(waited <= elapsed + 0.01, "waited \(waited) s in a run of \(elapsed) s")
    }

    @Test func honoursRetryAfterOnA429() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        h.plane.setFaults(.once(.rateLimited(retryAfter: 1), methods: ["GET"]))
        let client = h.client()
        let projects = try await client.projects()
        #expect(projects.count == 2)
        #expect(await client.rateLimitedCount == 1)
        #expect(await client.retryCount == 0, "a 429 is waited out, not counted as a failed attempt")
    }

    @Test func givesUpOnlyAfterTheRateLimitWaitBudget() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        h.plane.setFaults(PlaneFaultPlan(rate: 1, kinds: [.rateLimited(retryAfter: 1)]))
        var settings = h.settings()
        settings.maxRateLimitWait = 2
        var logger = Logger(label: "plane-test")
        logger.logLevel = .critical
        let client = PlaneClient(settings: settings, logger: logger)
        do {
            _ = try await client.projects()
            Issue.record("expected the run to give up")
        } catch let error as PlaneError {
            guard case .rateLimited = error else { Issue.record("expected rateLimited, got \(error)"); return }
            #expect(error.exitStatus == .remote)
            #expect(await client.rateLimitedCount == 2, "waited once (1.25 s), then the next wait would pass the 2 s budget")
        }
    }

    @Test func retriesReadsAfterServerErrorsAndDroppedConnections() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        h.plane.setFaults(PlaneFaultPlan(rate: 1, kinds: [.httpError(status: 502), .httpError(status: 500), .dropConnection], seed: 3, maxFaults: 3))
        let client = h.client()
        let states = try await client.states(projectID: h.web)
        #expect(!states.isEmpty)
        #expect(await client.retryCount == 3)
    }

    @Test func serverErrorsThatPersistAreTypedAndExit3() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        h.plane.setFaults(PlaneFaultPlan(rate: 1, kinds: [.httpError(status: 503)]))
        let client = h.client(maxAttempts: 3)
        do {
            _ = try await client.projects()
            Issue.record("expected a server error")
        } catch let error as PlaneError {
            guard case .server(_, 503, let message, 3) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("503"))
            #expect(error.exitStatus == .remote)
        }
    }

    /// Each kind of error answer Plane sends, as the client types it.
    @Test func errorAnswersBecomeTypedErrors() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let client = h.client()
        func failure(_ body: () async throws -> Void) async -> PlaneError? {
            do {
                try await body()
                return nil
            } catch let error as PlaneError {
                return error
            } catch {
                return nil
            }
        }
        let web = h.web
        let missingKey = await failure { _ = try await h.client(apiKey: "").projects() }
        guard case .missingAPIKey? = missingKey else { Issue.record("no key: \(String(describing: missingKey))"); return }
        let badKey = await failure { _ = try await h.client(apiKey: "plane_api_wrong").projects() }
        guard case .invalidAPIKey? = badKey else { Issue.record("bad key: \(String(describing: badKey))"); return }
        #expect(badKey?.exitStatus == .remote)
        let badSlug = await failure { _ = try await h.client(slug: "nope").projects() }
        guard case .forbidden? = badSlug else { Issue.record("bad slug: \(String(describing: badSlug))"); return }
        #expect(badSlug?.description.contains("PLANE_WORKSPACE_SLUG") == true)
        let guest = h.client(apiKey: h.plane.apiKey(email: "cleo@acme.test"))
        let guestWrite = await failure { _ = try await guest.createIssue(projectID: web, fields: [("name", "x")], external: nil) }
        guard case .forbidden? = guestWrite else { Issue.record("guest write: \(String(describing: guestWrite))"); return }
        let notMember = await failure { _ = try await guest.states(projectID: h.mob) }
        guard case .forbidden? = notMember else { Issue.record("not a member: \(String(describing: notMember))"); return }
        let missing = await failure { _ = try await client.issue(projectID: web, id: "00000000-0000-4000-8000-000000000000") }
        guard case .notFound? = missing else { Issue.record("404: \(String(describing: missing))"); return }
        #expect(missing?.exitStatus == .itemErrors)
        let badPriority = await failure {
            _ = try await client.createIssue(projectID: web, fields: [("name", "x"), ("priority", "critical")], external: nil)
        }
        guard case .invalid(_, let fields)? = badPriority else { Issue.record("priority: \(String(describing: badPriority))"); return }
        #expect(fields == [PlaneFieldError(field: "priority", messages: ["\"critical\" is not a valid choice."])])
        let noName = await failure { _ = try await client.createIssue(projectID: web, fields: [("description_html", "<p>x</p>")], external: nil) }
        guard case .invalid(_, let nameErrors)? = noName else { Issue.record("name: \(String(describing: noName))"); return }
        #expect(nameErrors.first?.field == "name")
        let mobState = try await client.states(projectID: h.mob)[0].id
        let foreign = await failure { _ = try await client.createIssue(projectID: web, fields: [("name", "x"), ("state", .string(mobState))], external: nil) }
        guard case .invalid(_, let stateErrors)? = foreign else { Issue.record("state: \(String(describing: foreign))"); return }
        #expect(stateErrors.first?.field == "non_field_errors")
        let emptyCycle = await failure {
            let cycle = try await client.cycles(projectID: web)[0]
            try await client.addIssuesToCycle(projectID: web, cycleID: cycle.id, issueIDs: [])
        }
        guard case .rejected(_, 400, _, let code, _)? = emptyCycle else { Issue.record("cycle: \(String(describing: emptyCycle))"); return }
        #expect(code == "MISSING_WORK_ITEMS")
        let put = await failure { _ = try await client.perform(PlaneRequest("PUT", "\(client.projectPath(web))issues/")) }
        guard case .methodNotAllowed? = put else { Issue.record("PUT: \(String(describing: put))"); return }
        let tooBig = await failure { _ = try await client.page("\(client.projectPath(web))issues/", perPage: 1001) }
        guard case .rejected(_, 400, let message, _, _)? = tooBig else { Issue.record("per_page: \(String(describing: tooBig))"); return }
        #expect(message == "Invalid per_page value. Cannot exceed 1000.")
        let dupModule = await failure {
            _ = try await client.createModule(projectID: web, name: "Customer portal", external: PlaneExternalKey(source: "odoo", id: "m-1"))
        }
        guard case .rejected(_, 400, _, "MODULE_NAME_ALREADY_EXISTS", let existing)? = dupModule else {
            Issue.record("module name: \(String(describing: dupModule))")
            return
        }
        #expect(existing != nil, "a module with our name but not our key is not taken for ours")
    }

    @Test func aDuplicateExternalIDReturnsTheExistingIssue() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let client = h.client()
        let key = PlaneExternalKey(source: "odoo", id: "project.task,42")
        let first = try await client.createIssue(projectID: h.web, fields: [("name", "Ship it"), ("priority", "high")], external: key)
        #expect(first.created)
        let second = try await client.createIssue(projectID: h.web, fields: [("name", "Ship it again")], external: key)
        #expect(!second.created)
        #expect(second.value.id == first.value.id)
        #expect(second.value.name == "Ship it")
        let posts = h.plane.writes().filter { $0.method == "POST" && $0.path.hasSuffix("/issues/") }
        #expect(posts.map(\.status) == [201, 409])
        #expect(h.plane.issues(projectID: h.web).filter { $0["external_id"] == "project.task,42" }.count == 1)
        // An archived issue keeps its key: the lookup still finds it.
        h.plane.archiveIssue(id: first.value.id)
        let third = try await client.createIssue(projectID: h.web, fields: [("name", "Ship it")], external: key)
        #expect(third.value.id == first.value.id && third.value.archivedAt != nil)
    }

    /// Plane answers a lookup with 500 for as long as two issues share the key
    /// (samples/plane/issue_lookup_external_duplicates_500.http): sent twice, not five times.
    @Test func aLookupOfADuplicatedKeyIsSentTwiceBeforeItIsReported() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let client = h.client(maxAttempts: 5)
        let twins = h.plane.issues(projectID: h.web).prefix(2).compactMap { $0["id"]?.stringValue }
        try #require(twins.count == 2)
        for id in twins { try h.plane.modifyIssue(id: id, fields: ["external_id": "project.task,99", "external_source": "odoosync"]) }
        func lookups() -> Int { h.plane.requestLog().filter { $0.contains("external_id=project.task%2C99") }.count }
        h.plane.clearWrites()
        do {
            _ = try await client.lookupIssue(projectID: h.web, key: PlaneExternalKey(source: "odoosync", id: "project.task,99"))
            Issue.record("expected duplicateExternalID")
        } catch let error as PlaneError {
            guard case .duplicateExternalID = error else { Issue.record("got \(error)"); return }
            #expect(error.exitStatus == .itemErrors)
        }
        #expect(lookups() == 2, "\(h.plane.requestLog())")
        #expect(await client.retryCount == 1)

        // One 500 that does not persist, or a proxy's 502s, are not a duplicate.
        h.plane.deleteIssue(id: twins[1])
        h.plane.clearWrites()
        h.plane.setFaults(.once(.httpError(status: 500), methods: ["GET"], pathContains: ["/issues/"]))
        let found = try await client.lookupIssue(projectID: h.web, key: PlaneExternalKey(source: "odoosync", id: "project.task,99"))
        #expect(found?.id == twins[0] && lookups() == 2)
        h.plane.clearWrites()
        h.plane.setFaults(PlaneFaultPlan(rate: 1, kinds: [.httpError(status: 502)], pathContains: ["/issues/"], maxFaults: 3))
        let again = try await client.lookupIssue(projectID: h.web, key: PlaneExternalKey(source: "odoosync", id: "project.task,99"))
        #expect(again?.id == twins[0] && lookups() == 4, "502s are retried as any other read")
        // A proxy's 500 page (Plane restarting) is not Plane's answer to a duplicate either.
        h.plane.clearWrites()
        h.plane.setFaults(PlaneFaultPlan(rate: 1, kinds: [.proxyPage(status: 500)], pathContains: ["/issues/"], maxFaults: 3))
        let restarted = try await client.lookupIssue(projectID: h.web, key: PlaneExternalKey(source: "odoosync", id: "project.task,99"))
        #expect(restarted?.id == twins[0] && lookups() == 4, "\(h.plane.requestLog())")
    }

    @Test func concurrentCreatesForOneKeyMakeOneIssue() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let client = h.client()
        let key = PlaneExternalKey(source: "odoo", id: "project.task,7")
        let web = h.web
        let results = try await withThrowingTaskGroup(of: PlaneCreated<PlaneIssue>.self) { group in
            for n in 0..<4 {
                group.addTask { try await client.createIssue(projectID: web, fields: [("name", .string("Race \(n)"))], external: key) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(results.map(\.value.id)).count == 1)
        #expect(results.filter(\.created).count == 1)
        #expect(h.plane.issues(projectID: web).filter { $0["external_id"] == "project.task,7" }.count == 1)
    }

    @Test func aCreateWhoseAnswerWasLostIsNotSentTwice() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let client = h.client()
        h.plane.setFaults(.once(.dropAfterApply, methods: ["POST"]))
        let key = PlaneExternalKey(source: "odoo", id: "project.task,99")
        let created = try await client.createIssue(projectID: h.web, fields: [("name", "Lost answer")], external: key)
        #expect(created.value.name == "Lost answer")
        let posts = h.plane.writes().filter { $0.method == "POST" }
        #expect(posts.count == 1 && posts[0].applied, "the lookup found the applied create: no second POST")
        #expect(h.plane.issues(projectID: h.web).filter { $0["external_id"] == "project.task,99" }.count == 1)

        // A create dropped before Plane applied it is sent again.
        h.plane.clearWrites()
        h.plane.setFaults(.once(.dropConnection, methods: ["POST"]))
        let other = try await client.createIssue(projectID: h.web, fields: [("name", "Dropped")], external: PlaneExternalKey(source: "odoo", id: "t-100"))
        #expect(other.created)
        #expect(h.plane.writes().filter { $0.method == "POST" }.map(\.applied) == [false, true])
        #expect(h.plane.issues(projectID: h.web).filter { $0["external_id"] == "t-100" }.count == 1)
    }

    @Test func patchAndDeleteSurviveALostAnswer() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let client = h.client()
        let issue = try await client.issues(projectID: h.web)[0]
        h.plane.setFaults(.once(.dropAfterApply, methods: ["PATCH"]))
        let patched = try await client.updateIssue(projectID: h.web, id: issue.id, fields: [("priority", "urgent"), ("name", "Renamed")])
        #expect(patched.priority == .urgent && patched.name == "Renamed")
        #expect(h.plane.writes().filter { $0.method == "PATCH" }.count == 2)
        h.plane.setFaults(.once(.dropAfterApply, methods: ["DELETE"]))
        try await client.deleteIssue(projectID: h.web, id: issue.id)
        #expect(h.plane.writes().filter { $0.method == "DELETE" }.map(\.status) == [0, 404])
        #expect(h.plane.issue(id: issue.id) == nil)
    }

    @Test func cycleAndModuleMembershipAndIdempotentCreates() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let client = h.client()
        let issues = try await client.issues(projectID: h.mob)
        let key = PlaneExternalKey(source: "odoo", id: "project.milestone,3")
        let cycle = try await client.createCycle(projectID: h.mob, name: "Sprint 8",
                                                 fields: [("start_date", "2026-12-07"), ("end_date", "2031-12-20")], external: key)
        #expect(cycle.created && cycle.value.startDate == "2026-12-07T00:00:01Z")
        let again = try await client.createCycle(projectID: h.mob, name: "Sprint 8 (retry)", external: key)
        #expect(!again.created && again.value.id == cycle.value.id)
        try await client.addIssuesToCycle(projectID: h.mob, cycleID: cycle.value.id, issueIDs: [issues[0].id, issues[1].id])
        #expect(Set(try await client.cycleIssueIDs(projectID: h.mob, cycleID: cycle.value.id)) == Set([issues[0].id, issues[1].id]))
        #expect(try await client.removeIssueFromCycle(projectID: h.mob, cycleID: cycle.value.id, issueID: issues[0].id))
        #expect(try await client.removeIssueFromCycle(projectID: h.mob, cycleID: cycle.value.id, issueID: issues[0].id) == false)

        let moduleKey = PlaneExternalKey(source: "odoo", id: "project.project,12")
        let module = try await client.createModule(projectID: h.mob, name: "Payments", external: moduleKey)
        let moduleAgain = try await client.createModule(projectID: h.mob, name: "Payments", external: moduleKey)
        #expect(module.created && !moduleAgain.created && moduleAgain.value.id == module.value.id)
        try await client.addIssuesToModule(projectID: h.mob, moduleID: module.value.id, issueIDs: [issues[2].id])
        #expect(try await client.moduleIssueIDs(projectID: h.mob, moduleID: module.value.id) == [issues[2].id])
        let patched = try await client.updateModule(projectID: h.mob, id: module.value.id, fields: [("status", "paused")])
        #expect(patched["status"] == "paused" && patched["id"] == nil)

        let projectKey = PlaneExternalKey(source: "odoo", id: "project.project,5")
        let project = try await client.createProject(name: "Warehouse", identifier: "WH", external: projectKey)
        let projectAgain = try await client.createProject(name: "Warehouse", identifier: "WH", external: projectKey)
        #expect(project.created && !projectAgain.created && projectAgain.value.id == project.value.id)
        #expect(try await client.states(projectID: project.value.id).map(\.name) == ["Backlog", "Todo", "In Progress", "Done", "Cancelled"])
        let state = try await client.createState(projectID: project.value.id, name: "Todo", group: .unstarted)
        #expect(!state.created, "a state of that name exists: it is returned")
    }

    @Test func datetimesInTheUsersTimezoneAreNormalisedToUTC() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let utc = try await h.client().issues(projectID: h.web)
        h.plane.setTimezone("Asia/Kolkata", email: "admin@acme.test")
        let kolkata = try await h.client().issues(projectID: h.web)
        #expect(kolkata[0].raw["updated_at"]?.stringValue?.hasSuffix("+05:30") == true)
        #expect(kolkata.map(\.updatedAt) == utc.map(\.updatedAt))
        #expect(kolkata[0].updatedAt?.hasSuffix("Z") == true)
    }

    @Test func theFastParserReadsEveryRecordedAnswerAsJSONSerializationDoes() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: PlaneHarness.samples.path).filter { $0.hasSuffix(".http") }
        var checked = 0
        for file in files {
            let text = try String(contentsOf: PlaneHarness.samples.appendingPathComponent(file), encoding: .utf8)
            guard let start = text.range(of: "\n\n", options: .backwards).map({ text[$0.upperBound...] }),
                  let first = start.first, first == "{" || first == "[" else { continue }
            let body = Data(start.utf8)
            let fast = try PlaneJSON.parse(body)
            let foundation = try foundationJSON(body)
            #expect(fast == foundation, "\(file)")
            #expect((try JSONValue.parse(body)).serialized == foundation.serialized, "\(file): JSONValue.parse sorts keys as JSONSerialization did")
            #expect(fast.serialized == (try OrderedJSON.parse(String(start))).serialized, "\(file): key order kept")
            checked += 1
        }
        #expect(checked > 60)
        #expect(try PlaneJSON.parse(Data(#"{"a":"\u00e9\ud83d\ude00\n\"","b":[1,-2.5e3,true,null]}"#.utf8))
                == ["a": "é😀\n\"", "b": [1, -2500.0, true, nil]])
        // JSONValue.parse sorts keys and keeps the last of a repeated one, as a dictionary did.
        #expect(try JSONValue.parse(#"{"b":1,"a":{"d":2,"c":[3,{"f":1,"e":2}]},"b":4}"#).serialized == #"{"a":{"c":[3,{"e":2,"f":1}],"d":2},"b":4}"#)
        for broken in ["{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "{\"a\":1} x", "[\"\\x\"]"] {
            #expect(throws: PlaneJSON.Failure.self, "\(broken)") { _ = try PlaneJSON.parse(Data(broken.utf8)) }
        }
    }

    @Test(arguments: [
        ("2026-11-21T09:49:12.996084+05:30", "2026-11-21T04:19:12.996084Z"),
        ("2026-11-21T04:19:12.996084Z", "2026-11-21T04:19:12.996084Z"),
        ("2026-11-21T04:19:12Z", "2026-11-21T04:19:12.000000Z"),
        ("2026-01-01T01:00:00.5-03:00", "2026-01-01T04:00:00.500000Z"),
        ("2026-12-31T23:30:00.1234567+00:00", "2026-12-31T23:30:00.123456Z"),
    ])
    func planeTimesNormalise(input: String, expected: String) {
        #expect(PlaneTime.normalize(input) == expected)
    }

    @Test(arguments: ["2026-11-20", "not a date", "2026-11-21T04:19:12", "2026-11-21T04:19:12.+01:00"])
    func nonDatetimesAreLeftAlone(input: String) {
        #expect(PlaneTime.normalize(input) == nil)
    }
}

/// What JSONSerialization reads, as a JSONValue with sorted keys: the reference the fast
/// parsers are held to.
private func foundationJSON(_ data: Data) throws -> JSONValue {
    func convert(_ object: Any) -> JSONValue {
        switch object {
        case let n as NSNumber:
            switch String(cString: n.objCType) {
            case "c": return .bool(n.boolValue)
            case "d", "f": return .double(n.doubleValue)
            default: return .int(n.intValue)
            }
        case let s as String: return .string(s)
        case let a as [Any]: return .array(a.map(convert))
        case let d as [String: Any]: return .object(d.keys.sorted().map { ($0, convert(d[$0] ?? NSNull())) })
        default: return .null
        }
    }
    return convert(try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
}

/// The client's reading of Plane's rate-limit headers when several requests are in flight.
@Suite struct RateLimitGateTests {
    /// An answer counts its own request only: the requests sent after it and not answered yet
    /// still take slots, so four requests side by side never spend more than what is left.
    @Test func requestsInFlightKeepTheirSlots() {
        var gate = RateLimitGate()
        let t = 1_000.0
        let first = gate.noteSent(at: t)
        gate.noteAnswer(first, headers: ["x-ratelimit-remaining": "3", "x-ratelimit-reset": "1060"], now: t)
        #expect(gate.delay(now: t) == 0)
        let sent = (0..<3).map { _ in gate.noteSent(at: t) }
        #expect(gate.delay(now: t) > 0, "three slots were left and three requests took them")
        // The first of them is answered: the server had 2 left after it, but two more are on their way.
        gate.noteAnswer(sent[0], headers: ["x-ratelimit-remaining": "2", "x-ratelimit-reset": "1060"], now: t)
        #expect(gate.delay(now: t) > 0)
        gate.noteAnswer(sent[2], headers: ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "1060"], now: t)
        // A late answer from before the last one must not give slots back.
        gate.noteAnswer(sent[1], headers: ["x-ratelimit-remaining": "1", "x-ratelimit-reset": "1060"], now: t)
        #expect(gate.delay(now: t) > 0, "the newer answer's 0 stands")
        // One at a time, the headers are taken as they are.
        var single = RateLimitGate()
        let only = single.noteSent(at: t)
        single.noteAnswer(only, headers: ["x-ratelimit-remaining": "5", "x-ratelimit-reset": "1060"], now: t)
        #expect(single.delay(now: t) == 0)
        let failed = single.noteSent(at: t)
        single.noteFinished(failed)
        #expect(single.delay(now: t) == 0, "a request with no allowed answer gives its in-flight mark back")
    }
}
