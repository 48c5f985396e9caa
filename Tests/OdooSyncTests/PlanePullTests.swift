import Foundation
import GRDB
import OdooSyncCore
@testable import OdooSyncEngine
import PlaneEmulator
import Testing

// `odoosync pull plane` through the real binary against the Plane emulator over loopback.

@Suite(.serialized) struct PlanePullTests {
    private func stats(_ result: ProcessResult, _ entity: String) throws -> JSONValue {
        let json = try JSONValue.parse(result.stdout)
        return try #require(json["entities"]?[entity], "\(result.output)")
    }

    /// Projects are read side by side, a few at a time, and come out as they do one by one.
    @Test func projectsArePulledSideBySide() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let client = h.client()
        for n in 1...4 { _ = try await client.createProject(name: "Extra \(n)", identifier: "EX\(n)", external: nil) }
        let listed = try await client.projects().filter { $0.archivedAt == nil }
        try #require(listed.count == 6)
        // Every read inside a project takes a while, so projects' reads overlap if they can.
        h.plane.setFaults(PlaneFaultPlan(rate: 1, kinds: [.latency(milliseconds: 60)], methods: ["GET"],
                                         pathContains: listed.map { "/projects/\($0.id)/" }))
        h.plane.resetPeakConcurrentRequests()
        let result = try await h.run(["pull", "plane", "--json"])
        #expect(result.status == 0, "\(result.output)")
        #expect(h.plane.peakConcurrentRequests() == PlanePuller.projectConcurrency)
        h.plane.setFaults(.none)
        let json = try JSONValue.parse(result.stdout)
        #expect(json["projects"]?.arrayValue?.compactMap(\.stringValue) == listed.map(\.identifier), "in Plane's order")
        let states = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM plane_records WHERE kind = 'state'") }
        #expect(try stats(result, "state")["created"]?.intValue == states)
        #expect((states ?? 0) > 11, "the new projects' states too")
        #expect(try stats(result, "project_member")["created"]?.intValue == 5 + 4)
        #expect(try stats(result, "issue")["created"]?.intValue == h.plane.issues(projectID: h.web).filter {
            $0["archived_at"] == .null && $0["is_draft"] == false }.count + h.plane.issues(projectID: h.mob).count)
        let again = try await h.run(["pull", "plane", "--json"])
        for entity in ["project_member", "state", "label", "issue", "cycle", "module"] {
            let figures = try stats(again, entity)
            #expect(figures["created"]?.intValue == 0 && figures["updated"]?.intValue == 0 && figures["deleted"]?.intValue == 0, "\(entity): \(figures)")
        }
    }

    @Test func firstPullSnapshotsTheWholeWorkspace() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let result = try await h.run(["pull", "plane", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let listed = h.plane.issues(projectID: h.web).filter { $0["archived_at"] == .null && $0["is_draft"] == false }.count
            + h.plane.issues(projectID: h.mob).count
        #expect(try stats(result, "issue")["created"]?.intValue == listed)
        #expect(try stats(result, "project")["created"]?.intValue == 2)
        #expect(try stats(result, "member")["created"]?.intValue == 3)
        #expect(try stats(result, "state")["created"]?.intValue == 11, "Plane hides the triage states")
        #expect(try stats(result, "cycle")["created"]?.intValue == 2)
        #expect(try stats(result, "module")["created"]?.intValue == 1)

        try h.query { db in
            let counts = try Row.fetchAll(db, sql: "SELECT kind, count(*) FROM plane_records WHERE deleted = 0 GROUP BY kind")
                .reduce(into: [String: Int]()) { $0[$1[0]] = $1[1] }
            #expect(counts == ["project": 2, "member": 3, "project_member": 5, "state": 11, "label": 6, "issue": listed, "cycle": 2, "module": 1])
            // A cycle's issues are part of its snapshot, and the view lists them one per row.
            let cycle = try #require(h.plane.cycles().first { $0.name == "Release 2.0" })
            let members = try String.fetchAll(db, sql: "SELECT issue_id FROM plane_memberships WHERE container_id = ? ORDER BY issue_id",
                                              arguments: [cycle.id])
            #expect(members == h.plane.cycleIssueIDs(cycle.id).sorted())
            // Per-project cursors, the run, its events and sync_log.
            let cursors = try String.fetchAll(db, sql: "SELECT model FROM pull_cursors WHERE source = 'plane' AND model LIKE 'issue:%' AND write_date IS NOT NULL")
            #expect(Set(cursors) == ["issue:\(h.web)", "issue:\(h.mob)"])
            let run = try #require(try Row.fetchOne(db, sql: "SELECT job_name, status, system FROM runs ORDER BY started_at DESC LIMIT 1"))
            #expect(run[0] as String == "pull plane" && run[1] as String == "success" && run[2] as String == "custom")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE category = 'plane-sync' AND event_type = 'pull_model'") == 8)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_log WHERE source_system = 'plane' AND operation = 'pull'") == 8)
            // Snapshots hold what Plane sent, datetimes in UTC.
            let data = try #require(try String.fetchOne(db, sql: "SELECT data FROM plane_records WHERE kind = 'issue' LIMIT 1"))
            #expect(try JSONValue.parse(data)["updated_at"]?.stringValue?.hasSuffix("Z") == true)
        }
        let secret = h.plane.apiKey
        #expect(!result.output.contains(secret))
        #expect((try Data(contentsOf: URL(fileURLWithPath: h.dbPath))).range(of: Data(secret.utf8)) == nil, "the key is not in the mirror")

        let table = try await h.run(["pull", "plane"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("Pulled from Plane") && table.stdout.contains("issue") && table.stdout.contains("unchanged"))

        let status = try JSONValue.parse(try await h.run(["status", "--json"]).stdout)
        #expect(status["snapshots"]?["plane.issue"]?["records"]?.intValue == listed)
        let config = try await h.run(["config", "show", "--json"])
        #expect(try JSONValue.parse(config.stdout)["plane"]?["api_key"] == "set (hidden)")
        #expect(!config.output.contains(secret))
    }

    @Test func incrementalPullsFindEditsCreatesDeletesAndArchives() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["config", "set", "plane.page_size", "5"]).status == 0)
        let web = h.web
        let listed = h.plane.issues(projectID: web).filter { $0["archived_at"] == .null && $0["is_draft"] == false }
        let edited = try #require(listed[3]["id"]?.stringValue)
        let deleted = try #require(listed[5]["id"]?.stringValue)
        let archived = try #require(listed[7]["id"]?.stringValue)
        // An issue odoosync made carries its key: archived, the lookup still finds it.
        try h.plane.modifyIssue(id: archived, fields: ["external_id": "project.task,5", "external_source": "odoosync"])
        #expect(try await h.run(["pull", "plane"]).status == 0)
        try h.plane.modifyIssue(id: edited, fields: ["name": "Edited in Plane", "priority": "urgent"])
        let created = try h.plane.createIssue(projectID: web, fields: ["name": "New in Plane"])
        h.plane.deleteIssue(id: deleted)
        h.plane.archiveIssue(id: archived)
        h.plane.clearWrites()

        let result = try await h.run(["pull", "plane", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let issues = try stats(result, "issue")
        #expect(issues["created"]?.intValue == 1 && issues["updated"]?.intValue == 1, "\(issues.serialized)")
        #expect(issues["deleted"]?.intValue == 1 && issues["archived"]?.intValue == 1, "\(issues.serialized)")
        let mirror = try h.mirrorIssues(project: web)
        #expect(mirror[edited]?["name"] == "Edited in Plane" && mirror[edited]?["priority"] == "urgent")
        #expect(mirror[created]?["name"] == "New in Plane")
        #expect(mirror[deleted] == nil)
        #expect(mirror[archived]?["archived_at"] != .null)
        let flags = try h.query { db in
            (try Int.fetchOne(db, sql: "SELECT deleted FROM plane_records WHERE plane_id = ?", arguments: [deleted]),
             try Int.fetchOne(db, sql: "SELECT archived FROM plane_records WHERE plane_id = ?", arguments: [archived]),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE event_type = 'record_deleted' AND message LIKE '%' || ? || '%'",
                              arguments: [deleted]))
        }
        #expect(flags.0 == 1 && flags.1 == 1, "a tombstone for the deleted issue, the archived one kept as archived")
        #expect(flags.2 == 1, "one record_deleted event")
        // Incremental: newest first, stopped at the cursor: one page of five per project, not all.
        let newestFirst = h.plane.requestLog().filter { $0.contains("/issues/?order_by=-updated_at") }
        #expect(newestFirst.count == 2, "\(newestFirst)")

        let quiet = try await h.run(["pull", "plane", "--json"])
        #expect(try stats(quiet, "issue")["unchanged"]?.intValue ?? 0 > 0)
        for key in ["created", "updated", "deleted", "archived"] { #expect(try stats(quiet, "issue")[key]?.intValue == 0) }

        let full = try await h.run(["pull", "plane", "--full", "--json"])
        #expect(try stats(full, "issue")["unchanged"]?.intValue == (try h.mirrorIssues().count) - 1, "a full pull re-reads and finds nothing new")
    }

    /// Plane's cycle and module lists leave archived ones out (they are under `archived-cycles/`
    /// and `archived-modules/`): one archived in Plane is archived in the mirror, not a tombstone,
    /// while one deleted in the same run is; unarchived, it is live again. Plane refuses to
    /// archive a cycle that has not ended and a module that is not completed or cancelled.
    @Test func archivedCyclesAndModulesAreArchivedNotDeleted() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "plane"]).status == 0)
        func first(_ kind: String) throws -> (id: String, project: String) {
            let row = try h.query { db in
                try Row.fetchOne(db, sql: "SELECT plane_id, project_id FROM plane_records WHERE kind = ? AND deleted = 0 ORDER BY plane_id", arguments: [kind])
            }
            let found = try #require(row, "the fixtures have a \(kind)")
            return (found[0], found[1])
        }
        let cycle = try first("cycle")
        let module = try first("module")
        let headers = ["X-API-Key": h.plane.apiKey, "Content-Type": "application/json"]
        func call(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> HTTP.Answer {
            try await HTTP.send(method, "\(h.url.absoluteString)/api/v1/workspaces/\(h.plane.workspaceSlug)/\(path)", headers: headers,
                                body: body.map { Data($0.serialized.utf8) })
        }
        let cyclePath = "projects/\(cycle.project)/cycles/\(cycle.id)/"
        let modulePath = "projects/\(module.project)/modules/\(module.id)/"
        // A second cycle, pulled, then deleted: it must still become a tombstone.
        let made = try await call("POST", "projects/\(cycle.project)/cycles/", ["name": "Short-lived", "project_id": .string(cycle.project)])
        let doomed = try #require(made.json["id"]?.stringValue, "\(made.text)")
        #expect(try await h.run(["pull", "plane"]).status == 0)

        #expect(try await call("PATCH", cyclePath, ["start_date": "2026-01-05", "end_date": "2099-01-16"]).status == 200)
        let early = try await call("POST", cyclePath + "archive/")
        #expect(early.status == 400 && early.text.contains("Only completed cycles can be archived"), "\(early.status) \(early.text)")
        #expect(try await call("PATCH", modulePath, ["status": "in-progress"]).status == 200)
        let planned = try await call("POST", modulePath + "archive/")
        #expect(planned.status == 400 && planned.text.contains("Only completed or cancelled modules can be archived"), "\(planned.text)")
        #expect(try await call("PATCH", cyclePath, ["start_date": "2026-01-05", "end_date": "2026-01-16"]).status == 200)
        #expect(try await call("PATCH", modulePath, ["status": "completed"]).status == 200)
        #expect(try await call("POST", cyclePath + "archive/").status == 204)
        #expect(try await call("POST", modulePath + "archive/").status == 204)
        #expect(try await call("DELETE", "projects/\(cycle.project)/cycles/\(doomed)/").status == 204)

        let result = try await h.run(["pull", "plane", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let cycles = try stats(result, "cycle")
        let modules = try stats(result, "module")
        #expect(cycles["archived"]?.intValue == 1 && cycles["deleted"]?.intValue == 1, "\(cycles.serialized)")
        #expect(modules["archived"]?.intValue == 1 && modules["deleted"]?.intValue == 0, "\(modules.serialized)")
        func flags(_ id: String) throws -> (deleted: Int, archived: Int)? {
            try h.query { db in
                try Row.fetchOne(db, sql: "SELECT deleted, archived FROM plane_records WHERE plane_id = ?", arguments: [id]).map { ($0[0], $0[1]) }
            }
        }
        #expect(try flags(cycle.id).map { $0 == (0, 1) } == true, "archived, not deleted")
        #expect(try flags(module.id).map { $0 == (0, 1) } == true, "archived, not deleted")
        #expect(try flags(doomed).map { $0.deleted } == 1)
        let deletedEvents = try h.query { db in
            try String.fetchAll(db, sql: "SELECT message FROM events WHERE event_type = 'record_deleted'")
        }
        #expect(deletedEvents.allSatisfy { !$0.contains(cycle.id) && !$0.contains(module.id) }, "\(deletedEvents)")

        // Nothing left the lists since: the archived lists are not asked for, and nothing moves.
        h.plane.clearWrites()
        let quiet = try await h.run(["pull", "plane", "--json"])
        for kind in ["cycle", "module"] {
            for key in ["created", "updated", "archived", "deleted"] { #expect(try stats(quiet, kind)[key]?.intValue == 0, "\(kind) \(key)") }
        }
        #expect(!h.plane.requestLog().contains { $0.contains("/archived-") }, "\(h.plane.requestLog().filter { $0.contains("archived") })")
        #expect(try flags(cycle.id).map { $0 == (0, 1) } == true)

        #expect(try await call("DELETE", "projects/\(cycle.project)/archived-cycles/\(cycle.id)/unarchive/").status == 204)
        #expect(try await h.run(["pull", "plane"]).status == 0)
        #expect(try flags(cycle.id).map { $0 == (0, 0) } == true, "live again once unarchived")

        // Deleted while archived: an incremental pull cannot tell (nothing left a list); a full one can.
        #expect(try await call("DELETE", modulePath).status == 204)
        #expect(try await h.run(["pull", "plane"]).status == 0)
        #expect(try flags(module.id).map { $0 == (0, 1) } == true)
        #expect(try await h.run(["pull", "plane", "--full"]).status == 0)
        #expect(try flags(module.id).map { $0.deleted } == 1, "a full pull reads the archived lists and tombstones what is in neither")

        // Created and archived between two pulls: only a full pull, which stores every archived one, records it.
        let unseen = try await call("POST", "projects/\(cycle.project)/cycles/", ["name": "Done before anyone looked",
                                     "start_date": "2026-02-02", "end_date": "2026-02-13", "project_id": .string(cycle.project)])
        let unseenID = try #require(unseen.json["id"]?.stringValue, "\(unseen.text)")
        #expect(try await call("POST", "projects/\(cycle.project)/cycles/\(unseenID)/archive/").status == 204)
        #expect(try await h.run(["pull", "plane"]).status == 0)
        #expect(try flags(unseenID) == nil)
        #expect(try await h.run(["pull", "plane", "--full"]).status == 0)
        #expect(try flags(unseenID).map { $0 == (0, 1) } == true, "stored as archived by the full pull")

        // Archived after the list was read and unarchived before the archived list was: in
        // neither list, it is asked for by id and stays live.
        #expect(try flags(cycle.id).map { $0 == (0, 0) } == true)
        #expect(h.plane.archiveContainer(id: cycle.id))
        h.plane.setRequestHook { [plane = h.plane, id = cycle.id] line in
            if line.contains("/archived-cycles/") { plane.archiveContainer(id: id, archived: false) }
        }
        #expect(try await h.run(["pull", "plane"]).status == 0)
        h.plane.setRequestHook(nil)
        #expect(try flags(cycle.id).map { $0 == (0, 0) } == true, "live: the detail view found it, not a tombstone")
    }

    @Test func scopeLimitsTheProjects() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let scoped = try await h.run(["pull", "plane", "--json"], extra: ["PLANE_PROJECTS": "mob"])
        #expect(scoped.status == 0, "\(scoped.output)")
        #expect(try h.mirrorIssues(project: h.web).isEmpty)
        #expect(try h.mirrorIssues(project: h.mob).count == h.plane.issues(projectID: h.mob).count)
        let byID = try await h.run(["pull", "plane"], extra: ["PLANE_PROJECTS": "\(h.web), MOB"])
        #expect(byID.status == 0)
        #expect(try !h.mirrorIssues(project: h.web).isEmpty)
        let unknown = try await h.run(["pull", "plane"], extra: ["PLANE_PROJECTS": "NOPE"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("NOPE") && unknown.stderr.contains("WEB (Website)") && unknown.stderr.contains("MOB (Mobile App)"))
    }

    /// Plane lists public projects to every workspace member and answers 403 inside the ones
    /// the key's user has not joined (Cleo, a guest, is in WEB but not in the public MOB).
    @Test func publicProjectsTheKeysUserIsNotAMemberOfAreLeftOut() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let guest = try #require(h.plane.apiKey(email: "cleo@acme.test"))
        let result = try await h.run(["pull", "plane", "--json"], extra: ["PLANE_API_KEY": guest])
        #expect(result.status == 0, "\(result.output)")
        let report = try JSONValue.parse(result.stdout)
        #expect(report["projects"] == ["WEB"] && report["not_member_projects"] == ["MOB"], "\(report.serialized)")
        #expect(report["project_errors"] == [])
        #expect(try !h.mirrorIssues(project: h.web).isEmpty)
        #expect(try h.mirrorIssues(project: h.mob).isEmpty)
        #expect(!h.plane.requestLog().contains { $0.contains("/projects/\(h.mob)/") }, "nothing inside MOB is asked for")
        let counts = try h.query { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM plane_records WHERE kind = 'project'"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE event_type = 'pull_project_not_member'"))
        }
        #expect(counts.0 == 1 && counts.1 == 1, "one project snapshot, one note")
        let table = try await h.run(["pull", "plane"], extra: ["PLANE_API_KEY": guest])
        #expect(table.status == 0, "\(table.output)")
        #expect(table.stdout.contains("Not a member of MOB: add the API user to the project to sync it."), "\(table.stdout)")

        // Named in PLANE_PROJECTS, it is an error of that project; WEB is still pulled.
        let named = try await h.run(["pull", "plane"], extra: ["PLANE_API_KEY": guest, "PLANE_PROJECTS": "WEB,MOB"])
        #expect(named.status == 1, "\(named.output)")
        #expect(named.stdout.contains("PLANE_PROJECTS names MOB (Mobile App), but the API key's user is not a member of it"), "\(named.stdout)")
        let namedJSON = try await h.run(["pull", "plane", "--json"], extra: ["PLANE_API_KEY": guest, "PLANE_PROJECTS": "MOB,WEB"])
        #expect(namedJSON.status == 1)
        let errors = try JSONValue.parse(namedJSON.stdout)["project_errors"]?.arrayValue ?? []
        #expect(errors.count == 1 && errors.first?["project"] == "MOB", "\(namedJSON.stdout)")
        #expect(try JSONValue.parse(namedJSON.stdout)["projects"] == ["WEB"])
    }

    /// A 403 inside one project (its user taken out of it mid-run) fails that project only.
    @Test func aProjectThatRefusesTheKeyMidPullFailsAlone() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let mob = h.mob
        let plane = h.plane
        plane.setRequestHook { line in
            if line.contains("/projects/\(mob)/members/") { plane.removeProjectMember(projectID: mob, email: "admin@acme.test") }
        }
        let result = try await h.run(["pull", "plane", "--json"])
        h.plane.setRequestHook(nil)
        #expect(result.status == 1, "\(result.output)")
        let report = try JSONValue.parse(result.stdout)
        let errors = report["project_errors"]?.arrayValue ?? []
        #expect(errors.count == 1 && errors.first?["project"] == "MOB", "\(report.serialized)")
        #expect(errors.first?["message"]?.stringValue?.contains("403") == true)
        #expect(try stats(result, "project")["errors"]?.intValue == 1)
        let listedWEB = h.plane.issues(projectID: h.web).filter { $0["archived_at"] == .null && $0["is_draft"] == false }.count
        #expect(try h.mirrorIssues(project: h.web).count == listedWEB, "the other project is pulled whole")
        #expect(try h.mirrorIssues(project: mob).isEmpty)
        let journal = try h.query { db in
            (try Int.fetchOne(db, sql: "SELECT records_failed FROM runs WHERE job_name = 'pull plane' ORDER BY started_at DESC LIMIT 1"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE event_type = 'pull_project_failed'"))
        }
        #expect(journal.0 == 1 && journal.1 == 1, "the run finished with one failed item rather than ending on the 403")
        // The next run sees the project listed without membership and leaves it out.
        let next = try await h.run(["pull", "plane", "--json"])
        #expect(next.status == 0, "\(next.output)")
        #expect(try JSONValue.parse(next.stdout)["not_member_projects"] == ["MOB"])
    }

    @Test func settingsAndCredentialsAreCheckedWithTheRightExitCodes() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let missing = try await CLI.run(["pull", "plane"], environment: ["ODOOSYNC_DB": h.dbPath], in: h.directory)
        #expect(missing.status == 2 && missing.stderr.contains("PLANE_API_URL"))
        let noSlug = try await h.run(["pull", "plane"], extra: ["PLANE_WORKSPACE_SLUG": "bad slug!"])
        #expect(noSlug.status == 2 && noSlug.stderr.contains("PLANE_WORKSPACE_SLUG"))
        let wrongKey = "plane_api_0000000000000000000000000000dead"
        let badKey = try await h.run(["pull", "plane"], extra: ["PLANE_API_KEY": wrongKey])
        #expect(badKey.status == 3 && badKey.stderr.contains("PLANE_API_KEY"), "\(badKey.output)")
        #expect(!badKey.output.contains(wrongKey), "the key is never printed")
        let wrongSlug = try await h.run(["pull", "plane"], extra: ["PLANE_WORKSPACE_SLUG": "other"])
        #expect(wrongSlug.status == 3 && wrongSlug.stderr.contains("403"), "\(wrongSlug.output)")
        let unreachable = try await h.run(["pull", "plane"], extra: ["PLANE_API_URL": "http://127.0.0.1:9", "ODOOSYNC_RETRIES": "2"])
        #expect(unreachable.status == 3 && unreachable.stderr.contains("Cannot reach Plane"), "\(unreachable.output)")
        try h.query { db in
            #expect(try String.fetchOne(db, sql: "SELECT status FROM runs WHERE job_name = 'pull plane' ORDER BY started_at DESC LIMIT 1") == "failed")
            let messages = try String.fetchAll(db, sql: "SELECT message FROM events WHERE category = 'plane-sync'")
            #expect(!messages.isEmpty && !messages.contains { $0.contains(wrongKey) })
        }

        // The settings file: [plane] keys, and the rule for files that hold a secret.
        let config = h.directory.appendingPathComponent("odoosync.toml")
        try """
            [plane]
            url = "\(h.url.absoluteString)/api/v1/"
            api_key = "\(h.plane.apiKey)"
            workspace_slug = "acme"
            projects = "WEB"
            """.write(to: config, atomically: true, encoding: .utf8)
        chmod(config.path, 0o644)
        let env = ["ODOOSYNC_DB": h.dbPath]
        let readable = try await CLI.run(["pull", "plane", "--config", config.path], environment: env, in: h.directory)
        #expect(readable.status == 2 && readable.stderr.contains("chmod 600"), "\(readable.output)")
        #expect(!readable.output.contains(h.plane.apiKey))
        chmod(config.path, 0o600)
        let fromFile = try await CLI.run(["pull", "plane", "--config", config.path, "--json"], environment: env, in: h.directory)
        #expect(fromFile.status == 0, "\(fromFile.output)")
        #expect(try JSONValue.parse(fromFile.stdout)["projects"] == ["WEB"])
    }

    @Test func aRateLimitedPullWaitsAndFinishes() async throws {
        let h = try await PlaneHarness.start { $0.rateLimit = 6; $0.rateWindow = 1 }
        defer { Task { await h.stop() } }
        let result = try await h.run(["pull", "plane", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let report = try JSONValue.parse(result.stdout)
        #expect(report["requests"]?.intValue ?? 0 > 6)
        #expect(report["rate_limit_wait_seconds"]?.doubleValue ?? 0 > 0, "waited for the window instead of failing")
        #expect(try stats(result, "issue")["created"]?.intValue == h.plane.issueCount() - 2)
    }

    @Test func faultsAreRetriedAndTheSnapshotComesOutTheSame() async throws {
        let h = try await PlaneHarness.start {
            $0.faults = PlaneFaultPlan(rate: 0.3, kinds: [.serverError, .dropConnection, .latency(milliseconds: 20)], seed: 11)
        }
        defer { Task { await h.stop() } }
        let result = try await h.run(["pull", "plane", "--json"], extra: ["ODOOSYNC_RETRIES": "8"])
        #expect(result.status == 0, "\(result.output)")
        #expect(try JSONValue.parse(result.stdout)["retries"]?.intValue ?? 0 > 0)
        h.plane.setFaults(.none)
        let clean = try await h.run(["pull", "plane", "--full", "--json"])
        for key in ["created", "updated", "deleted"] { #expect(try stats(clean, "issue")[key]?.intValue == 0) }
    }

    @Test func aTimezoneChangeIsNotAnEdit() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "plane"]).status == 0)
        h.plane.setTimezone("Asia/Kolkata", email: "admin@acme.test")
        let again = try await h.run(["pull", "plane", "--full", "--json"])
        #expect(again.status == 0)
        for entity in ["issue", "project", "state", "label", "cycle", "module"] {
            #expect(try stats(again, entity)["updated"]?.intValue == 0, "\(entity) looked changed")
        }
    }

    @Test func aPullKilledMidwayResumesWithoutLosingOrDuplicating() async throws {
        let h = try await PlaneHarness.start { $0.faults = PlaneFaultPlan(rate: 1, kinds: [.latency(milliseconds: 30)]) }
        defer { Task { await h.stop() } }
        h.plane.generateIssues(count: 300, seed: 4)
        #expect(try await h.run(["config", "set", "plane.page_size", "10"]).status == 0)
        let running = try CLI.start(["pull", "plane"], environment: h.environment(), in: h.directory)
        // Kill once some pages are in: wait on the emulator's request log, not the clock.
        for _ in 0..<600 where h.plane.requestLog().filter({ $0.contains("order_by=-updated_at") }).count < 6 {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        running.kill9()
        _ = await running.finish()
        let partial = try h.mirrorIssues().count
        #expect(partial > 0 && partial < h.plane.issueCount() - 2, "killed mid-pull (\(partial) issues in)")
        h.plane.setFaults(.none)
        let resumed = try await h.run(["pull", "plane", "--json"])
        #expect(resumed.status == 0, "\(resumed.output)")
        let mirror = try h.mirrorIssues()
        #expect(mirror.count == h.plane.issueCount() - 2)
        let rows = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM plane_records WHERE kind = 'issue'") }
        #expect(rows == mirror.count, "no duplicates")
    }

    @Test(arguments: [(1000, true, [100, 100, 200, 400, 800, 800, 800]), (1000, false, [1000, 1000, 1000, 1000, 1000, 1000, 1000]),
                      (5, true, [5, 5, 5, 5, 5, 5, 5]), (300, true, [100, 100, 200, 200, 200, 200, 200])])
    func newestFirstPagesFollowEachOtherWithoutGaps(pageSize: Int, incremental: Bool, sizes: [Int]) {
        var window = PlanePuller.PageWindow(pageSize: pageSize, incremental: incremental)
        var offset = 0
        var seen: [Int] = []
        for _ in sizes {
            // Plane's offset is page index × per_page: it must land where the last page ended.
            #expect(window.index * window.size == offset)
            seen.append(window.size)
            offset += window.size
            window.advance()
        }
        #expect(seen == sizes)
    }

    @Test func theStandaloneEmulatorServesAPull() async throws {
        let directory = try TestPaths.temporaryDirectory()
        let server = try CLI.start(["emulator", "plane", "--port", "0", "--rate-limit", "0", "--generate-issues", "50"], in: TestPaths.repoRoot)
        defer { server.process.terminate() }
        var banner = ""
        for _ in 0..<500 where !banner.contains("PLANE_API_KEY=") {
            try await Task.sleep(nanoseconds: 20_000_000)
            banner = (try? String(contentsOf: server.out, encoding: .utf8)) ?? ""
        }
        var env = ["ODOOSYNC_DB": directory.appendingPathComponent("m.sqlite").path]
        for word in banner.split(whereSeparator: { $0 == " " || $0 == "\n" }) where word.hasPrefix("PLANE_") {
            let parts = word.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { env[String(parts[0])] = String(parts[1]) }
        }
        #expect(env["PLANE_API_URL"] != nil && env["PLANE_WORKSPACE_SLUG"] == "acme", "\(banner)")
        let pulled = try await CLI.run(["pull", "plane", "--json"], environment: env, in: directory)
        #expect(pulled.status == 0, "\(pulled.output)")
        #expect(try stats(pulled, "issue")["created"]?.intValue == 44 + 50)
        server.process.terminate()
        _ = await server.finish()
    }
}
