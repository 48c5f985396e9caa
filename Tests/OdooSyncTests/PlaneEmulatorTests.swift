import Foundation
import OdooSyncCore
import PlaneEmulator
import Testing

// The Plane emulator against the exchanges recorded from a real Plane 1.3 server
// (../shared/reference/samples/plane/): the same status, the same error bodies, the same
// object shapes, the same Allow and rate-limit headers.

/// Compares emulator answers with the recorded ones.
private struct Fidelity {
    let plane: RawPlane

    /// Same status and headers, and the same JSON shape (keys, order, types).
    func shape(_ name: String, _ reply: RawReply, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let sample = try PlaneSample.load(name)
        #expect(reply.status == sample.status, "\(name): status", sourceLocation: sourceLocation)
        headers(name, sample, reply, sourceLocation: sourceLocation)
        guard let expected = sample.body else {
            #expect(reply.body.isEmpty, "\(name): empty body", sourceLocation: sourceLocation)
            return
        }
        guard let ours = reply.json else {
            Issue.record("\(name): not JSON: \(String(decoding: reply.body, as: UTF8.self))", sourceLocation: sourceLocation)
            return
        }
        let problems = shapeDifferences(expected, ours)
        #expect(problems.isEmpty, "\(name): \(problems.joined(separator: "; "))", sourceLocation: sourceLocation)
    }

    /// Same status and the same body, byte for byte as JSON, except the keys named.
    func exact(_ name: String, _ reply: RawReply, ignoring: Set<String> = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let sample = try PlaneSample.load(name)
        #expect(reply.status == sample.status, "\(name): status \(reply.status), body \(String(decoding: reply.body, as: UTF8.self))",
                sourceLocation: sourceLocation)
        headers(name, sample, reply, sourceLocation: sourceLocation)
        #expect(reply.json?.removing(ignoring) == sample.body?.removing(ignoring),
                "\(name): \(String(decoding: reply.body, as: UTF8.self)) vs \(sample.body?.serialized ?? "-")", sourceLocation: sourceLocation)
        if let keys = sample.body?.objectValue?.map(\.0) {
            #expect(reply.json?.objectValue?.map(\.0) == keys, "\(name): key order", sourceLocation: sourceLocation)
        }
    }

    private func headers(_ name: String, _ sample: PlaneSample, _ reply: RawReply, sourceLocation: SourceLocation) {
        if let allow = sample.headers["allow"] {
            #expect(reply.headers["allow"] == allow, "\(name): Allow", sourceLocation: sourceLocation)
        }
        #expect((reply.headers["x-ratelimit-remaining"] != nil) == (sample.headers["x-ratelimit-remaining"] != nil),
                "\(name): X-RateLimit-Remaining present or not", sourceLocation: sourceLocation)
        #expect((reply.headers["x-ratelimit-reset"] != nil) == (sample.headers["x-ratelimit-reset"] != nil),
                "\(name): X-RateLimit-Reset present or not", sourceLocation: sourceLocation)
        #expect((reply.headers["retry-after"] != nil) == (sample.headers["retry-after"] != nil), "\(name): Retry-After",
                sourceLocation: sourceLocation)
    }
}

@Suite(.serialized) struct PlaneEmulatorTests {
    @Test func authenticationAnswersAsPlane() async throws {
        let h = try await PlaneHarness.start { $0.rateLimit = 1000 }
        defer { Task { await h.stop() } }
        let f = Fidelity(plane: RawPlane(base: h.url, key: nil))
        try f.exact("auth_none", try await f.plane.send("GET", "workspaces/acme/projects/"))
        try f.exact("auth_bearer", try await f.plane.send("GET", "workspaces/acme/projects/", headers: ["Authorization": "Bearer \(h.plane.apiKey)"]))
        try f.exact("auth_invalid", try await RawPlane(base: h.url, key: "plane_api_wrong").send("GET", "workspaces/acme/projects/"))
        let wrongSlug = try await RawPlane(base: h.url, key: h.plane.apiKey).send("GET", "workspaces/nope/projects/")
        #expect(wrongSlug.status == 403 && wrongSlug.json == ["detail": "You do not have permission to perform this action."])
        let notUUID = try await RawPlane(base: h.url, key: h.plane.apiKey).send("GET", "workspaces/acme/projects/WEB/issues/")
        #expect(notUUID.status == 404 && notUUID.json == ["error": "Page not found."])
    }

    @Test func projectsMembersStatesAndLabels() async throws {
        let h = try await PlaneHarness.start { $0.rateLimit = 1000 }
        defer { Task { await h.stop() } }
        let f = Fidelity(plane: RawPlane(base: h.url, key: h.plane.apiKey))
        let ws = "workspaces/acme/"
        let web = "\(ws)projects/\(h.web)/"
        try f.shape("projects_list", try await f.plane.send("GET", "\(ws)projects/"))
        try f.shape("project_get", try await f.plane.send("GET", web))
        let created = try await f.plane.send("POST", "\(ws)projects/", body: ##"{"name":"Intranet","identifier":"int","description":"Internal site"}"##)
        try f.shape("project_create", created)
        #expect(created.json?["identifier"] == "INT" && created.json?["cycle_view"] == false)
        let newProject = try #require(created.json?["id"]?.stringValue)
        try f.shape("project_update", try await f.plane.send("PATCH", "\(ws)projects/\(newProject)/", body: ##"{"cycle_view":true,"module_view":true}"##))
        try f.exact("project_create_dup_name", try await f.plane.send("POST", "\(ws)projects/", body: ##"{"name":"Website","identifier":"WEX"}"##))
        try f.exact("project_create_dup_identifier", try await f.plane.send("POST", "\(ws)projects/", body: ##"{"name":"Website Two","identifier":"WEB"}"##))
        try f.exact("project_create_missing_identifier", try await f.plane.send("POST", "\(ws)projects/", body: ##"{"name":"No Ident"}"##))
        // A project created with an external key Plane already holds is accepted: no check for projects.
        try f.shape("project_create_dup_external",
                    try await f.plane.send("POST", "\(ws)projects/", body: ##"{"name":"ExtB","identifier":"EXTB","external_id":"P-1","external_source":"harness"}"##))
        let second = try await f.plane.send("POST", "\(ws)projects/", body: ##"{"name":"ExtC","identifier":"EXTC","external_id":"P-1","external_source":"harness"}"##)
        #expect(second.status == 201)
        try f.shape("project_delete", try await f.plane.send("DELETE", "\(ws)projects/\(newProject)/"))
        try f.exact("project_get_404", try await f.plane.send("GET", "\(ws)projects/\(newProject)/"))

        try f.shape("workspace_members", try await f.plane.send("GET", "\(ws)members/"))
        try f.shape("project_members", try await f.plane.send("GET", "\(web)members/"))
        let cleo = try #require(try await f.plane.send("GET", "\(ws)members/").json?.arrayValue?.first { $0["email"] == "cleo@acme.test" }?["id"]?.stringValue)
        try f.shape("project_member_add", try await f.plane.send("POST", "workspaces/acme/projects/\(h.mob)/members/", body: ##"{"member":"\##(cleo)","role":15}"##))

        try f.shape("states_list", try await f.plane.send("GET", "\(web)states/"))
        let state = try await f.plane.send("POST", "\(web)states/", body: ##"{"name":"QA","color":"#ff9900","group":"started","description":"Awaiting QA"}"##)
        try f.shape("state_create", state)
        #expect(state.json?["slug"] == "qa")
        let stateID = try #require(state.json?["id"]?.stringValue)
        try f.exact("state_create_bad_group", try await f.plane.send("POST", "\(web)states/", body: ##"{"name":"Bad","color":"#ff9900","group":"weird"}"##))
        let dup = try await f.plane.send("POST", "\(web)states/", body: ##"{"name":"QA","color":"#ff9900","group":"started"}"##)
        try f.exact("state_create_dup", dup, ignoring: ["id"])
        #expect(dup.json?["id"]?.stringValue == stateID)
        try f.shape("state_patch", try await f.plane.send("PATCH", "\(web)states/\(stateID)/", body: ##"{"color":"#aa00aa","external_id":"st-qa","external_source":"harness"}"##))
        let states = try #require(try await f.plane.send("GET", "\(web)states/").json?["results"]?.arrayValue)
        let defaultState = try #require(states.first { $0["default"] == true }?["id"]?.stringValue)
        try f.exact("state_delete_default", try await f.plane.send("DELETE", "\(web)states/\(defaultState)/"))
        let issueState = try #require(h.plane.issues(projectID: h.web).compactMap { $0["state"]?.stringValue }.first { $0 != defaultState })
        try f.exact("state_delete_nonempty", try await f.plane.send("DELETE", "\(web)states/\(issueState)/"))
        try f.shape("state_delete", try await f.plane.send("DELETE", "\(web)states/\(stateID)/"))

        try f.shape("labels_list", try await f.plane.send("GET", "\(web)labels/"))
        let label = try await f.plane.send("POST", "\(web)labels/", body: ##"{"name":"docs","color":"#e11d48","description":"Documentation"}"##)
        try f.shape("label_create", label)
        let labelID = try #require(label.json?["id"]?.stringValue)
        try f.exact("label_create_dup", try await f.plane.send("POST", "\(web)labels/", body: ##"{"name":"bug","color":"#000000"}"##), ignoring: ["id"])
        _ = try await f.plane.send("PATCH", "\(web)labels/\(labelID)/", body: ##"{"external_id":"gh-label-1","external_source":"github"}"##)
        try f.exact("label_create_dup_external",
                    try await f.plane.send("POST", "\(web)labels/", body: ##"{"name":"frontend2","color":"#16a34a","external_id":"gh-label-1","external_source":"github"}"##),
                    ignoring: ["id"])
        try f.shape("label_patch", try await f.plane.send("PATCH", "\(web)labels/\(labelID)/", body: ##"{"name":"docs-2"}"##))
        try f.shape("label_delete", try await f.plane.send("DELETE", "\(web)labels/\(labelID)/"))
    }

    @Test func issuesAndPagination() async throws {
        let h = try await PlaneHarness.start { $0.rateLimit = 1000 }
        defer { Task { await h.stop() } }
        let f = Fidelity(plane: RawPlane(base: h.url, key: h.plane.apiKey))
        let web = "workspaces/acme/projects/\(h.web)/"
        let listed = h.plane.issues(projectID: h.web).filter { $0["archived_at"] == .null && $0["is_draft"] == false }

        let page1 = try await f.plane.send("GET", "\(web)issues/?per_page=3")
        try f.shape("issues_list_page1", page1)
        let envelope = try #require(page1.json)
        #expect(envelope["next_cursor"] == "3:1:0" && envelope["prev_cursor"] == "3:-1:1" && envelope["next_page_results"] == true)
        #expect(envelope["total_results"]?.intValue == listed.count && envelope["total_pages"]?.intValue == (listed.count + 2) / 3)
        let page2 = try await f.plane.send("GET", "\(web)issues/?per_page=3&cursor=3:1:0")
        try f.shape("issues_list_page2", page2)
        #expect(page2.json?["next_cursor"] == "3:2:0" && page2.json?["prev_cursor"] == "3:0:1" && page2.json?["prev_page_results"] == true)
        let last = (listed.count - 1) / 3
        let lastPage = try await f.plane.send("GET", "\(web)issues/?per_page=3&cursor=3:\(last):0")
        try f.shape("issues_list_page4", lastPage)
        #expect(lastPage.json?["next_page_results"] == false && lastPage.json?["count"]?.intValue == listed.count - 3 * last)
        try f.exact("pagination_bad_cursor", try await f.plane.send("GET", "\(web)issues/?cursor=abc"))
        try f.exact("pagination_per_page_too_big", try await f.plane.send("GET", "\(web)issues/?per_page=1001"))
        try f.exact("pagination_per_page_zero", try await f.plane.send("GET", "\(web)issues/?per_page=0"))
        let newest = try await f.plane.send("GET", "\(web)issues/?order_by=-updated_at&per_page=3&fields=id,sequence_id,updated_at")
        try f.shape("issues_list_order_updated", newest)
        let stamps = newest.json?["results"]?.arrayValue?.compactMap { $0["updated_at"]?.stringValue } ?? []
        #expect(stamps == stamps.sorted(by: >) && stamps.first == listed.compactMap { $0["updated_at"]?.stringValue }.max())

        let states = try #require(try await f.plane.send("GET", "\(web)states/").json?["results"]?.arrayValue)
        let started = try #require(states.first { $0["group"] == "started" }?["id"]?.stringValue)
        let done = try #require(states.first { $0["group"] == "completed" }?["id"]?.stringValue)
        let labels = try #require(try await f.plane.send("GET", "\(web)labels/").json?["results"]?.arrayValue?.compactMap { $0["id"]?.stringValue })
        let ada = try #require(try await f.plane.send("GET", "\(web)members/").json?.arrayValue?.first?["id"]?.stringValue)
        let body = ##"{"name":"Fix login redirect","description_html":"<p>Users land on <b>404</b> after login</p>","priority":"high","state":"\##(started)","labels":["\##(labels[0])"],"assignees":["\##(ada)"],"start_date":"2026-11-20","target_date":"2026-11-30","external_id":"EXT-1","external_source":"harness"}"##
        let created = try await f.plane.send("POST", "\(web)issues/", body: body)
        try f.shape("issue_create", created)
        let sample = try PlaneSample.load("issue_create").body
        for key in ["name", "description_html", "priority", "start_date", "target_date", "external_id", "external_source", "is_draft"] {
            #expect(created.json?[key] == sample?[key], "issue_create: \(key)")
        }
        #expect(created.json?["sequence_id"]?.intValue == listed.count + 3, "sequence ids are never reused (the archived and draft issues hold two)")
        let issueID = try #require(created.json?["id"]?.stringValue)
        try f.exact("issue_create_dup_external",
                    try await f.plane.send("POST", "\(web)issues/", body: ##"{"name":"Fix login redirect (dup)","external_id":"EXT-1","external_source":"harness"}"##),
                    ignoring: ["id"])
        try f.shape("issue_create_only_external_id", try await f.plane.send("POST", "\(web)issues/", body: ##"{"name":"Only external_id","external_id":"EXT-1"}"##))
        try f.exact("issue_create_bad_priority", try await f.plane.send("POST", "\(web)issues/", body: ##"{"name":"Bad priority","priority":"critical"}"##))
        try f.exact("issue_create_missing_name", try await f.plane.send("POST", "\(web)issues/", body: ##"{"description_html":"<p>no name</p>"}"##))
        try f.exact("issue_create_bad_state",
                    try await f.plane.send("POST", "\(web)issues/", body: ##"{"name":"Bad state","state":"00000000-0000-0000-0000-000000000000"}"##))
        try f.shape("workitem_create", try await f.plane.send("POST", "\(web)work-items/", body: ##"{"name":"Created via work-items path","priority":"urgent","labels":["\##(labels[1])"]}"##))

        try f.shape("issue_get", try await f.plane.send("GET", "\(web)issues/\(issueID)/"))
        try f.exact("issue_get_fields", try await f.plane.send("GET", "\(web)issues/\(issueID)/?fields=id,name,sequence_id,state,updated_at"),
                    ignoring: ["id", "updated_at", "sequence_id", "state"])
        try f.shape("issue_lookup_external", try await f.plane.send("GET", "\(web)issues/?external_id=EXT-1&external_source=harness"))
        try f.exact("issue_lookup_external_404", try await f.plane.send("GET", "\(web)issues/?external_id=NOPE&external_source=harness"))
        let sequence = try #require(created.json?["sequence_id"]?.intValue)
        try f.shape("issue_get_by_identifier", try await f.plane.send("GET", "workspaces/acme/issues/WEB-\(sequence)/"))
        try f.shape("issue_search", try await f.plane.send("GET", "workspaces/acme/issues/search/?search=login"))

        let patch = ##"{"name":"Fix login redirect loop","priority":"urgent","state":"\##(done)","labels":["\##(labels[0])","\##(labels[1])"],"description_html":"<p>Updated <script>alert(1)</script>body</p>"}"##
        let patched = try await f.plane.send("PATCH", "\(web)issues/\(issueID)/", body: patch)
        try f.shape("issue_patch", patched)
        #expect(patched.json?["description_html"] == "<p>Updated body</p>", "scripts are stripped as Plane's sanitiser does")
        #expect(patched.json?["completed_at"] != .null, "a completed state sets completed_at")
        try f.shape("workitem_patch", try await f.plane.send("PATCH", "\(web)work-items/\(issueID)/", body: ##"{"priority":"medium"}"##))
        try f.exact("issue_patch_bad_dates", try await f.plane.send("PATCH", "\(web)issues/\(issueID)/", body: ##"{"start_date":"2026-12-10","target_date":"2026-12-01"}"##))
        let mobState = try #require(try await f.plane.send("GET", "workspaces/acme/projects/\(h.mob)/states/").json?["results"]?.arrayValue?.first?["id"]?.stringValue)
        try f.exact("issue_patch_foreign_state", try await f.plane.send("PATCH", "\(web)issues/\(issueID)/", body: ##"{"state":"\##(mobState)"}"##))
        _ = try await f.plane.send("POST", "\(web)issues/", body: ##"{"name":"Bulk issue 1","external_id":"BULK-1","external_source":"harness"}"##)
        let conflict = try await f.plane.send("PATCH", "\(web)issues/\(issueID)/", body: ##"{"external_id":"BULK-1","external_source":"harness"}"##)
        try f.exact("issue_patch_conflict_external", conflict, ignoring: ["id"])
        #expect(conflict.json?["id"]?.stringValue == issueID, "Plane names the patched issue, not the one holding the key")
        try f.exact("issue_put_not_allowed", try await f.plane.send("PUT", "\(web)issues/\(issueID)/", body: ##"{"name":"put"}"##))
        try f.exact("issues_put_not_allowed", try await f.plane.send("PUT", "\(web)issues/", body: ##"{"name":"put"}"##))

        try f.shape("issue_delete", try await f.plane.send("DELETE", "\(web)issues/\(issueID)/"))
        try f.exact("issue_delete_again", try await f.plane.send("DELETE", "\(web)issues/\(issueID)/"))
        try f.exact("issue_get_404", try await f.plane.send("GET", "\(web)issues/\(issueID)/"))
        try f.shape("issue_recreate_after_delete",
                    try await f.plane.send("POST", "\(web)issues/", body: ##"{"name":"Recreated","external_id":"EXT-1","external_source":"harness"}"##))
    }

    @Test func archivedAndDraftIssuesAreHiddenButFoundByTheirKey() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let raw = RawPlane(base: h.url, key: h.plane.apiKey)
        let web = "workspaces/acme/projects/\(h.web)/"
        let all = h.plane.issues(projectID: h.web)
        let hidden = all.filter { $0["archived_at"] != .null || $0["is_draft"] == true }
        #expect(hidden.count == 2)
        let listedIDs = Set(try await raw.send("GET", "\(web)issues/").json?["results"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
        #expect(listedIDs.count == all.count - 2 && hidden.allSatisfy { !listedIDs.contains($0["id"]?.stringValue ?? "") })
        let archived = try #require(hidden.first { $0["archived_at"] != .null }?["id"]?.stringValue)
        #expect(try await raw.send("GET", "\(web)issues/\(archived)/").status == 404, "the detail view reads issue_objects too")
        #expect(try await raw.send("PATCH", "\(web)issues/\(archived)/", body: ##"{"external_id":"K-1","external_source":"odoo"}"##).status == 200)
        let found = try await raw.send("GET", "\(web)issues/?external_id=K-1&external_source=odoo")
        #expect(found.status == 200 && found.json?["id"]?.stringValue == archived)
    }

    @Test func cyclesAndModules() async throws {
        let h = try await PlaneHarness.start { $0.rateLimit = 1000 }
        defer { Task { await h.stop() } }
        let f = Fidelity(plane: RawPlane(base: h.url, key: h.plane.apiKey))
        let web = "workspaces/acme/projects/\(h.web)/"
        let issues = h.plane.issues(projectID: h.web).filter { $0["archived_at"] == .null && $0["is_draft"] == false }.compactMap { $0["id"]?.stringValue }

        try f.shape("cycles_list", try await f.plane.send("GET", "\(web)cycles/"))
        try f.exact("cycle_create_half_dates", try await f.plane.send("POST", "\(web)cycles/", body: ##"{"name":"Half dates","start_date":"2026-11-16"}"##))
        try f.exact("cycle_create_without_project_id_in_body", try await f.plane.send("POST", "\(web)cycles/", body: ##"{"name":"Sprint 1"}"##))
        let created = try await f.plane.send("POST", "\(web)cycles/", body: ##"{"name":"Sprint 1","description":"First sprint","start_date":"2026-11-16","end_date":"2031-12-06","external_id":"SPR-1","external_source":"harness","project_id":"\##(h.web)"}"##)
        try f.shape("cycle_create", created)
        #expect(created.json?["start_date"] == "2026-11-16T00:00:01Z" && created.json?["end_date"] == "2031-12-06T23:59:00Z")
        let cycle = try #require(created.json?["id"]?.stringValue)
        try f.shape("cycle_create_draft", try await f.plane.send("POST", "\(web)cycles/", body: ##"{"name":"Sprint 2 (draft, no dates)","project_id":"\##(h.web)"}"##))
        try f.exact("cycle_create_dup_external",
                    try await f.plane.send("POST", "\(web)cycles/", body: ##"{"name":"Sprint 1 again","external_id":"SPR-1","external_source":"harness","project_id":"\##(h.web)"}"##),
                    ignoring: ["id"])
        try f.shape("cycle_issues_add", try await f.plane.send("POST", "\(web)cycles/\(cycle)/cycle-issues/", body: ##"{"issues":["\##(issues[10])","\##(issues[11])"]}"##))
        try f.exact("cycle_issues_add_empty", try await f.plane.send("POST", "\(web)cycles/\(cycle)/cycle-issues/", body: ##"{"issues":[]}"##))
        try f.shape("cycle_issues_list", try await f.plane.send("GET", "\(web)cycles/\(cycle)/cycle-issues/"))
        try f.shape("cycle_issue_get", try await f.plane.send("GET", "\(web)cycles/\(cycle)/cycle-issues/\(issues[10])/"))
        try f.shape("cycle_get", try await f.plane.send("GET", "\(web)cycles/\(cycle)/"))
        #expect(try await f.plane.send("GET", "\(web)cycles/\(cycle)/").json?["total_issues"]?.intValue == 2)
        try f.shape("cycle_patch", try await f.plane.send("PATCH", "\(web)cycles/\(cycle)/", body: ##"{"description":"First sprint (updated)"}"##))
        let other = try #require(h.plane.cycles().first { $0.project == h.web && $0.id != cycle && $0.name == "Release 2.0" }?.id)
        try f.shape("cycle_issues_move_to_other_cycle",
                    try await f.plane.send("POST", "\(web)cycles/\(other)/cycle-issues/", body: ##"{"issues":["\##(issues[11])"]}"##))
        #expect(h.plane.cycleIssueIDs(cycle) == [issues[10]], "an issue is in one cycle at most")
        try f.shape("cycle_issue_remove", try await f.plane.send("DELETE", "\(web)cycles/\(cycle)/cycle-issues/\(issues[10])/"))
        try f.exact("cycle_issue_remove_again", try await f.plane.send("DELETE", "\(web)cycles/\(cycle)/cycle-issues/\(issues[10])/"))
        try f.shape("cycle_delete", try await f.plane.send("DELETE", "\(web)cycles/\(cycle)/"))

        try f.shape("modules_list", try await f.plane.send("GET", "\(web)modules/"))
        try f.exact("module_create_bad_status", try await f.plane.send("POST", "\(web)modules/", body: ##"{"name":"Bad status","status":"doing"}"##))
        let module = try await f.plane.send("POST", "\(web)modules/", body: ##"{"name":"Auth revamp","description":"Login + SSO","start_date":"2026-11-16","target_date":"2026-12-31","status":"in-progress","external_id":"MOD-1","external_source":"harness"}"##)
        try f.shape("module_create", module)
        let moduleID = try #require(module.json?["id"]?.stringValue)
        try f.exact("module_create_dup_external",
                    try await f.plane.send("POST", "\(web)modules/", body: ##"{"name":"Other","external_id":"MOD-1","external_source":"harness"}"##),
                    ignoring: ["id"])
        try f.exact("module_create_dup_name", try await f.plane.send("POST", "\(web)modules/", body: ##"{"name":"Auth revamp"}"##), ignoring: ["id"])
        try f.exact("module_patch", try await f.plane.send("PATCH", "\(web)modules/\(moduleID)/", body: ##"{"status":"planned"}"##),
                    ignoring: ["lead"])
        try f.shape("module_issues_add", try await f.plane.send("POST", "\(web)modules/\(moduleID)/module-issues/", body: ##"{"issues":["\##(issues[3])","\##(issues[4])"]}"##))
        try f.shape("module_issues_list", try await f.plane.send("GET", "\(web)modules/\(moduleID)/module-issues/"))
        try f.shape("module_issue_remove", try await f.plane.send("DELETE", "\(web)modules/\(moduleID)/module-issues/\(issues[4])/"))
        try f.shape("module_delete", try await f.plane.send("DELETE", "\(web)modules/\(moduleID)/"))
        let off = try await f.plane.send("POST", "workspaces/acme/projects/", body: ##"{"name":"No cycles","identifier":"NOC"}"##)
        let offID = try #require(off.json?["id"]?.stringValue)
        let refused = try await f.plane.send("POST", "workspaces/acme/projects/\(offID)/cycles/", body: ##"{"name":"S","project_id":"\##(offID)"}"##)
        #expect(refused.status == 400 && refused.json == ["non_field_errors": ["Cycles are not enabled for this project"]])
    }

    @Test func theThrottleAnswersAsPlane() async throws {
        let h = try await PlaneHarness.start { $0.rateLimit = 3; $0.rateWindow = 60 }
        defer { Task { await h.stop() } }
        let raw = RawPlane(base: h.url, key: h.plane.apiKey)
        var remaining: [String] = []
        for _ in 0..<3 { remaining.append(try await raw.send("GET", "users/me/").headers["x-ratelimit-remaining"] ?? "-") }
        #expect(remaining == ["2", "1", "0"])
        let limited = try await raw.send("GET", "users/me/")
        try Fidelity(plane: raw).exact("rate_limited_429", limited)
        #expect(Int(limited.headers["retry-after"] ?? "") ?? -1 > 50)
        // 401 and 403 are decided before the throttle, and throttled requests are not counted.
        #expect(try await RawPlane(base: h.url, key: nil).send("GET", "users/me/").status == 401)
        h.plane.setRateLimit(3, window: 1)
        let reset = try await raw.send("GET", "users/me/")
        let resetAt = Int(reset.headers["x-ratelimit-reset"] ?? "") ?? 0
        #expect(resetAt - Int(Date().timeIntervalSince1970) <= 1, "Reset is now + the window")
    }

    @Test func faultsAreInjectedAndWritesRecorded() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let raw = RawPlane(base: h.url, key: h.plane.apiKey)
        let web = "workspaces/acme/projects/\(h.web)/"
        h.plane.setFaults(.once(.httpError(status: 500)))
        let failed = try await raw.send("GET", "\(web)states/")
        #expect(failed.status == 500 && failed.json == ["error": "Something went wrong please try again later"])
        h.plane.setFaults(.once(.httpError(status: 502)))
        let proxy = try await raw.send("GET", "\(web)states/")
        #expect(proxy.status == 502 && String(decoding: proxy.body, as: UTF8.self).contains("502 Bad Gateway"))
        h.plane.setFaults(.once(.dropConnection, methods: ["POST"]))
        await #expect(throws: (any Error).self) { _ = try await raw.send("POST", "\(web)issues/", body: ##"{"name":"dropped"}"##) }
        h.plane.setFaults(.once(.dropAfterApply, methods: ["POST"]))
        await #expect(throws: (any Error).self) { _ = try await raw.send("POST", "\(web)issues/", body: ##"{"name":"applied"}"##) }
        h.plane.setFaults(.once(.refused(field: "name", message: "Not this name."), methods: ["POST"]))
        let refused = try await raw.send("POST", "\(web)issues/", body: ##"{"name":"refused"}"##)
        #expect(refused.status == 400 && refused.json == ["name": ["Not this name."]])
        h.plane.setFaults(.once(.latency(milliseconds: 50)))
        #expect(try await raw.send("GET", "\(web)labels/").status == 200)
        let writes = h.plane.writes()
        #expect(writes.map(\.applied) == [false, true, false])
        #expect(writes.map(\.bodyText) == [##"{"name":"dropped"}"##, ##"{"name":"applied"}"##, ##"{"name":"refused"}"##])
        let names = h.plane.issues(projectID: h.web).compactMap { $0["name"]?.stringValue }
        #expect(names.contains("applied") && !names.contains("dropped") && !names.contains("refused"))
    }

    @Test func usersEditsMoveUpdatedAtAndGenerationIsReproducible() async throws {
        let first = try PlaneEmulator(fixtures: PlaneHarness.fixtures, configuration: .init(rateLimit: nil))
        let second = try PlaneEmulator(fixtures: PlaneHarness.fixtures, configuration: .init(rateLimit: nil))
        let a = first.generateIssues(count: 200, seed: 9)
        let b = second.generateIssues(count: 200, seed: 9)
        #expect(a == b)
        let web = try #require(first.projectID(identifier: "WEB"))
        #expect(first.issueCount() == 46 + 200)
        let issue = try #require(first.issues(projectID: web).first)
        let id = try #require(issue["id"]?.stringValue)
        try first.modifyIssue(id: id, fields: ["priority": "urgent", "name": "Edited in Plane"])
        let edited = try #require(first.issue(id: id))
        #expect(edited["name"] == "Edited in Plane" && edited["priority"] == "urgent")
        #expect((edited["updated_at"]?.stringValue ?? "") > (issue["updated_at"]?.stringValue ?? ""))
        #expect(throws: PlaneEmulatorError.self) { try first.modifyIssue(id: id, fields: ["priority": "critical"]) }
        #expect(first.touchRandomIssues(fraction: 0.1, seed: 1).count == 24)
    }
}
