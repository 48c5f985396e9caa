import Foundation
import GRDB
import OdooSyncCore
@testable import OdooSyncEngine
import PlaneEmulator
import Testing

// When `pull plane` lists every issue id (step 2 of the issue pass) and when the counts let it
// skip that listing, through the real binary against the Plane emulator over loopback.

@Suite(.serialized) struct PlaneListingTests {
    private func stats(_ result: ProcessResult, _ entity: String) throws -> JSONValue {
        let json = try JSONValue.parse(result.stdout)
        return try #require(json["entities"]?[entity], "\(result.output)")
    }

    /// The id listings of one project's issues in the emulator's log since it was last cleared.
    private func listings(_ h: PlaneHarness, project: String) -> Int {
        h.plane.requestLog().filter { $0.contains("/projects/\(project)/issues/?") && $0.contains("fields=id") }.count
    }

    private func pull(_ h: PlaneHarness, _ extra: [String] = []) async throws -> ProcessResult {
        h.plane.clearWrites()
        let result = try await h.run(["pull", "plane", "--json"] + extra)
        #expect(result.status == 0, "\(result.output)")
        return result
    }

    private func listingEvents(_ h: PlaneHarness) throws -> [JSONValue] {
        try h.query { db in
            try String.fetchAll(db, sql: """
                SELECT metadata FROM events WHERE event_type = 'pull_listing' AND level = 'debug'
                AND run_id = (SELECT id FROM runs WHERE job_name = 'pull plane' ORDER BY started_at DESC LIMIT 1) ORDER BY seq
                """).map { try JSONValue.parse($0) }
        }
    }

    /// Listed issues of WEB, in sequence order.
    private func listedWEB(_ h: PlaneHarness) throws -> [String] {
        h.plane.issues(projectID: h.web).filter { $0["archived_at"] == .null && $0["is_draft"] == false }
            .compactMap { $0["id"]?.stringValue }
    }

    /// Pages of five and no overlap, so that a few edits make a pass of several pages; then a
    /// first pull. Returns WEB's listed issues in sequence order.
    private func firstPullInPagesOfFive(_ h: PlaneHarness) async throws -> [String] {
        #expect(try await h.run(["config", "set", "plane.page_size", "5"]).status == 0)
        #expect(try await h.run(["config", "set", "plane.overlap_seconds", "0"]).status == 0)
        _ = try await pull(h)
        let listed = try listedWEB(h)
        try #require(listed.count > 20)
        return listed
    }

    @Test func aQuietIncrementalPullSkipsTheListingAndFullPullsKeepIt() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let first = try await pull(h)
        #expect(listings(h, project: h.web) == 1 && listings(h, project: h.mob) == 1, "a first pull lists")
        #expect(try listingEvents(h).map { $0["reason"] } == ["full pass", "full pass"])

        let quiet = try await pull(h)
        #expect(listings(h, project: h.web) == 0 && listings(h, project: h.mob) == 0, "\(h.plane.requestLog())")
        #expect(h.plane.requestLog().filter { $0.contains("order_by=-updated_at") }.count == 2)
        let events = try listingEvents(h)
        #expect(events.count == 2 && events.allSatisfy { $0["listed"] == false && ($0["reason"] ?? .null) == .null }, "\(events)")
        #expect(events.allSatisfy { $0["plane_total"] != .null && $0["plane_total"] == $0["mirror_total"] })
        // Plane's total_results counts the listed issues only: WEB's archived and draft ones are out.
        let webTotal = events.first { $0["project_id"] == .string(h.web) }?["plane_total"]?.intValue
        #expect(webTotal == (try listedWEB(h)).count && webTotal ?? 0 < h.plane.issueCount(projectID: h.web))
        for key in ["created", "updated", "deleted", "archived", "errors"] { #expect(try stats(quiet, "issue")[key]?.intValue == 0) }
        // The report keeps its shape.
        func keys(_ json: JSONValue?) -> [String] { json?.objectValue?.map(\.0) ?? [] }
        #expect(keys(try JSONValue.parse(quiet.stdout)) == keys(try JSONValue.parse(first.stdout)))
        #expect(keys(try stats(quiet, "issue")) == keys(try stats(first, "issue")))
        // The cursor still moves forward in the final transaction.
        let cursors = try h.query { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM pull_cursors WHERE model LIKE 'issue:%' AND write_date IS NOT NULL AND full_since IS NULL")
        }
        #expect(cursors == 2)

        _ = try await pull(h, ["--full"])
        #expect(listings(h, project: h.web) == 1 && listings(h, project: h.mob) == 1, "--full always lists")
    }

    @Test func deletesArchivesAndCountsThatMakeUpForEachOtherAreStillFound() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let web = h.web
        let listed = try listedWEB(h)
        try #require(listed.count > 10)
        let archived = listed[4]
        try h.plane.modifyIssue(id: archived, fields: ["external_id": "project.task,77", "external_source": "odoosync"])
        _ = try await pull(h)

        // A delete: Plane counts one fewer than the mirror.
        let deleted = listed[2]
        h.plane.deleteIssue(id: deleted)
        #expect(try stats(try await pull(h), "issue")["deleted"]?.intValue == 1)
        #expect(listings(h, project: web) == 1 && listings(h, project: h.mob) == 0)
        #expect(try h.mirrorIssues(project: web)[deleted] == nil)

        // An archive: the lookup by key keeps it as archived.
        h.plane.archiveIssue(id: archived)
        #expect(try stats(try await pull(h), "issue")["archived"]?.intValue == 1)
        #expect(listings(h, project: web) == 1)
        let flag = try h.query { db in try Int.fetchOne(db, sql: "SELECT archived FROM plane_records WHERE plane_id = ?", arguments: [archived]) }
        #expect(flag == 1)

        // A delete and a create: Plane's count is unchanged, the mirror's grows by the create.
        let alsoDeleted = listed[6]
        h.plane.deleteIssue(id: alsoDeleted)
        let created = try h.plane.createIssue(projectID: web, fields: ["name": "Replaces one"])
        let both = try stats(try await pull(h), "issue")
        #expect(both["deleted"]?.intValue == 1 && both["created"]?.intValue == 1, "\(both.serialized)")
        #expect(listings(h, project: web) == 1)
        let mirror = try h.mirrorIssues(project: web)
        #expect(mirror[alsoDeleted] == nil && mirror[created]?["name"] == "Replaces one")

        // And then quiet again: the archived issue is out of both counts.
        _ = try await pull(h)
        #expect(listings(h, project: web) == 0)
    }

    /// A delete between the pass's first and last page, made up for (in the counts) by a create
    /// before the pull: the mirror's count matches the first page's total, not the last's.
    @Test func aDeleteDuringThePassIsFoundTheSameRun() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let web = h.web
        let listed = try await firstPullInPagesOfFive(h)
        // Five edits and a create: the pass needs a second page.
        for id in listed.prefix(5) { try h.plane.modifyIssue(id: id, fields: ["priority": "urgent"]) }
        let created = try h.plane.createIssue(projectID: web, fields: ["name": "New before the pull"])
        let victim = listed[15]
        let counter = RequestCounter()
        let plane = h.plane
        plane.setRequestHook { line in
            guard line.contains("/projects/\(web)/issues/?"), line.contains("order_by=-updated_at") else { return }
            if counter.next() == 2 { plane.deleteIssue(id: victim) }
        }
        let result = try await pull(h)
        h.plane.setRequestHook(nil)
        #expect(counter.value >= 2, "the pass read more than one page")
        #expect(listings(h, project: web) > 0)
        #expect(try stats(result, "issue")["deleted"]?.intValue == 1)
        let mirror = try h.mirrorIssues(project: web)
        #expect(mirror[victim] == nil && mirror[created] != nil)
        let reason = try listingEvents(h).first { $0["project_id"] == .string(web) }?["reason"]?.stringValue ?? ""
        #expect(reason.contains("total_results changed"), "\(reason)")
    }

    /// An archive in one gap between pages and a create in a later one: the first and last
    /// pages agree on the total and so do the counts, but a page in between skipped an edit.
    @Test func aTotalThatMovesAndComesBackMidPassStillLists() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let web = h.web
        let listed = try await firstPullInPagesOfFive(h)
        // Twelve edits, oldest first: newest first they read M12 … M8 | M7 … M3 | M2 M1 …
        let edited = Array(listed.prefix(12))
        for (n, id) in edited.enumerated() { try h.plane.modifyIssue(id: id, fields: ["name": .string("Edit \(n + 1)")]) }
        let archived = edited[9]  // M10, on the first page
        let skipped = edited[6]  // M7, which the archive pulls back into the first page's range
        let counter = RequestCounter()
        let created = Locked<String?>(nil)
        let plane = h.plane
        plane.setRequestHook { line in
            guard line.contains("/projects/\(web)/issues/?"), line.contains("order_by=-updated_at") else { return }
            switch counter.next() {
            case 2: plane.archiveIssue(id: archived)
            case 3: created.set(try? plane.createIssue(projectID: web, fields: ["name": "Mid-pass create"]))
            default: break
            }
        }
        let result = try await pull(h)
        h.plane.setRequestHook(nil)
        #expect(counter.value == 3, "the pass read three pages")
        #expect(listings(h, project: web) > 0, "first and last page agree, a middle one does not")
        let mirror = try h.mirrorIssues(project: web)
        #expect(mirror[skipped]?["name"] == "Edit 7", "the edit the shifted page skipped is re-read")
        let newID = try #require(created.get())
        #expect(mirror[newID]?["name"] == "Mid-pass create")
        let issues = try stats(result, "issue")
        #expect(issues["deleted"]?.intValue == 1 || issues["archived"]?.intValue == 1, "the archived one: \(issues.serialized)")
        let live = try h.query { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM plane_records WHERE plane_id = ? AND deleted = 0 AND archived = 0", arguments: [archived])
        }
        #expect(live == 0)
        let reason = try listingEvents(h).first { $0["project_id"] == .string(web) }?["reason"]?.stringValue ?? ""
        #expect(reason.contains("total_results changed"), "\(reason)")
    }

    /// The id listing is in Plane's default order (newest created first) with offset pages: a
    /// delete on page 1 while page 2 is asked for moves page 2's first issue back onto page 1,
    /// so the listing never shows it. It is alive: asked for by id, it stays; only what is
    /// really gone becomes a tombstone.
    @Test func anIssueAShiftedListingPageSkipsIsNotTombstoned() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        let web = h.web
        let listed = try await firstPullInPagesOfFive(h)
        // The newest issue heads the listing's first page; the oldest is on its last.
        let newest = try h.plane.createIssue(projectID: web, fields: ["name": "Deleted from page 1"])
        let oldest = try #require(h.plane.issues(projectID: web).filter { listed.contains($0["id"]?.stringValue ?? "") }
            .min { ($0["created_at"]?.stringValue ?? "") < ($1["created_at"]?.stringValue ?? "") }?["id"]?.stringValue)
        let counter = RequestCounter()
        let plane = h.plane
        plane.setRequestHook { line in
            guard line.contains("/projects/\(web)/issues/?"), line.contains("fields=id") else { return }
            if counter.next() == 2 {
                plane.deleteIssue(id: newest)
                plane.deleteIssue(id: oldest)
            }
        }
        let result = try await pull(h, ["--full"])
        h.plane.setRequestHook(nil)
        #expect(counter.value > 2, "the listing read several pages")
        let mirror = try h.mirrorIssues(project: web)
        let alive = try listedWEB(h)
        #expect(alive.filter { mirror[$0] == nil }.isEmpty, "no live issue is tombstoned")
        #expect(mirror[oldest] == nil, "a deleted issue the listing missed is a tombstone")
        let issues = try stats(result, "issue")
        #expect(issues["deleted"]?.intValue == 1, "\(issues.serialized)")
        #expect(h.plane.requestLog().contains { $0.hasPrefix("GET /api/v1/workspaces/acme/projects/\(web)/issues/\(oldest)/") },
                "the vanished issue was asked for")
        // The one deleted from page 1 was listed before it went: the next pull finds it gone.
        #expect(mirror[newest] != nil)
        _ = try await pull(h, ["--full"])
        let after = try h.mirrorIssues(project: web)
        #expect(after[newest] == nil && alive.allSatisfy { after[$0] != nil })
    }

    @Test(arguments: [
        // (incremental, page totals, item errors, mirror count, skipped)
        (false, [10], 0, 10, false),  // a full pass always lists
        (true, [10], 0, 10, true),
        (true, [10, 10, 10], 0, 10, true),
        (true, [10], 0, 11, false),  // something vanished
        (true, [10], 0, 9, false),  // something the mirror has not got
        (true, [11, 10], 0, 11, false),  // (a): the mirror agrees with the first page only
        (true, [11, 10], 0, 10, false),
        (true, [10, 9, 10], 0, 10, false),  // a middle page disagrees
        (true, [10], 1, 10, false),  // an issue the pass could not read
    ] as [(Bool, [Int], Int, Int, Bool)])
    func theListingIsSkippedOnlyWhenTheCountsProveItExact(incremental: Bool, totals: [Int], errors: Int, mirror: Int, skipped: Bool) {
        let reason = PlanePuller.listingReason(incremental: incremental, pageTotals: totals, itemErrors: errors, listedLocally: mirror)
        #expect((reason == nil) == skipped, "\(reason ?? "skipped")")
    }

    /// What no count shows: a quiet pull lists anyway once the last listing is older than
    /// `plane.listing_interval_seconds`, and when issues of equal updated_at straddle two pages.
    @Test func theListingStillRunsWhenDueAndAcrossTies() async throws {
        let h = try await PlaneHarness.start()
        defer { Task { await h.stop() } }
        _ = try await pull(h)
        _ = try await pull(h)
        #expect(listings(h, project: h.web) == 0, "quiet and recently listed: skipped")
        #expect(try await h.run(["config", "set", "plane.listing_interval_seconds", "0"]).status == 0)
        _ = try await pull(h)
        #expect(listings(h, project: h.web) == 1 && listings(h, project: h.mob) == 1, "due: listed")
        let reasons = try listingEvents(h).compactMap { $0["reason"]?.stringValue }
        #expect(reasons.count == 2 && reasons.allSatisfy { $0.contains("listing_interval") }, "\(reasons)")
        #expect(try await h.run(["config", "set", "plane.listing_interval_seconds", "-1"]).status != 0)

        // Four issues changed by one bulk operation share their updated_at; with pages of two,
        // they straddle a page boundary.
        #expect(try await h.run(["config", "set", "plane.listing_interval_seconds", "86400"]).status == 0)
        #expect(try await h.run(["config", "set", "plane.page_size", "2"]).status == 0)
        _ = try await pull(h)
        #expect(listings(h, project: h.web) == 0, "listed a moment ago: skipped")
        try h.plane.bulkModifyIssues(ids: Array(try listedWEB(h).prefix(4)), fields: ["priority": "urgent"])
        _ = try await pull(h)
        #expect(listings(h, project: h.web) > 0, "a tie across pages lists")
        let webReason = try listingEvents(h).first { $0["project_id"] == .string(h.web) }?["reason"]?.stringValue
        #expect(webReason?.contains("equal updated_at") == true, "\(webReason ?? "none")")

        let tie = PlanePuller.listingReason(incremental: true, pageTotals: [10, 10], itemErrors: 0, listedLocally: 10, tieAcrossPages: true)
        #expect(tie?.contains("equal updated_at") == true)
        let due = PlanePuller.listingReason(incremental: true, pageTotals: [10], itemErrors: 0, listedLocally: 10, listingDue: true)
        #expect(due != nil)
        #expect(PlanePuller.listingReason(incremental: true, pageTotals: [10, 10], itemErrors: 0, listedLocally: 10) == nil)
    }

    @Test func aPageWithoutATotalLists() {
        #expect(PlanePuller.listingReason(incremental: true, pageTotals: [nil], itemErrors: 0, listedLocally: 0) != nil)
        #expect(PlanePuller.listingReason(incremental: true, pageTotals: [10, nil], itemErrors: 0, listedLocally: 10) != nil)
        #expect(PlanePuller.listingReason(incremental: true, pageTotals: [], itemErrors: 0, listedLocally: 0) != nil)
    }
}

private final class RequestCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

private final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func set(_ new: Value) {
        lock.lock()
        defer { lock.unlock() }
        value = new
    }

    func get() -> Value {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
