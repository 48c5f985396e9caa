import Foundation
import GRDB
import OdooSyncCore
import OdooSyncMirror
import PlaneClient

/// The issue pass of `pull plane`, per project: newest first down to the cursor, then (unless
/// an incremental pass shows nothing can have vanished) one listing of every id and updated_at
/// for deletes, archives and missed changes.
extension PlanePuller {
    struct IssueCursor {
        var updatedAt: String?
        var passNewest: String?
        var lastListedAt: String?
    }

    func pullIssues(_ project: PlaneProject, full: Bool) async throws -> ModelStats {
        let model = "issue:\(project.id)"
        let path = "\(client.projectPath(project.id))issues/"
        let cursor = try mirror.read { db in
            try Row.fetchOne(db, sql: "SELECT write_date, full_since, last_listed_at FROM pull_cursors WHERE source = 'plane' AND model = ?",
                             arguments: [model])
                .map { IssueCursor(updatedAt: $0[0], passNewest: $0[1], lastListedAt: $0[2]) }
        }
        let incremental = !full && cursor?.updatedAt != nil
        let lowerBound = incremental ? cursor?.updatedAt.flatMap { PlaneTime.micros($0) }
            .map { PlaneTime.format(micros: $0 - Int64(overlapSeconds) * 1_000_000) } : nil
        var newest = cursor?.passNewest
        var stats = ModelStats()
        var seen = Set<String>()
        var done = 0
        let label = "issues \(project.identifier)"

        // 1. Newest first, down to the cursor. An incremental pass usually needs a few issues:
        // it starts with small pages and doubles them (offset = page index × per_page, so a
        // page of size o at index 1 continues exactly where o items end).
        var window = PageWindow(pageSize: pageSize, incremental: incremental)
        var pageTotals: [Int?] = []
        // Issues with equal updated_at come back in no fixed order, so two pages can disagree
        // on them: one read twice, another never. The group then spans the page boundary.
        var lastUpdatedOfPage: String?
        var tieAcrossPages = false
        while true {
            let page = try await client.page(path, query: [("order_by", "-updated_at")], perPage: window.size, cursor: window.cursor)
            pageTotals.append(page.totalResults)
            var reachedCursor = false
            let now = Timestamp.iso(Date())
            try mirror.write { db in
                var pageStats = ModelStats()
                for json in page.results {
                    guard let issue = try? PlaneIssue(json: json) else {
                        pageStats.errors += 1
                        continue
                    }
                    // Offset pages shift when an issue moves to the front mid-pass: skip repeats.
                    guard seen.insert(issue.id).inserted else { continue }
                    count(try PlaneSnapshots.apply(db, kind: "issue", id: issue.id, projectID: project.id, json: json, pulledAt: now),
                          into: &pageStats)
                    if let updated = issue.updatedAt {
                        if newest.map({ updated > $0 }) ?? true { newest = updated }
                        if let lowerBound, updated < lowerBound { reachedCursor = true }
                    }
                }
                // The pass's progress: an interrupted pass still remembers the newest change it saw.
                try db.execute(sql: """
                    INSERT INTO pull_cursors (source, model, full_since) VALUES ('plane', ?, ?)
                    ON CONFLICT (source, model) DO UPDATE SET full_since = excluded.full_since
                    """, arguments: [model, newest])
                if !page.results.isEmpty {
                    try event(db, level: .debug, type: "pull_page", message: "\(label): page of \(page.results.count) issues applied",
                              metadata: ["project_id": .string(project.id), "stats": pageStats.json])
                }
                stats.add(pageStats)
            }
            func updatedAt(_ issue: JSONValue?) -> String? { issue?["updated_at"]?.stringValue.flatMap(PlaneTime.normalize) }
            if let previous = lastUpdatedOfPage, let first = updatedAt(page.results.first), first == previous { tieAcrossPages = true }
            if let last = updatedAt(page.results.last) { lastUpdatedOfPage = last }
            done += page.results.count
            progress?.progress(model: label, done: done, total: incremental ? nil : page.totalResults)
            guard !reachedCursor, page.hasNext else { break }
            window.advance()
        }
        progress?.finished(model: label)

        // 2. Every id with its updated_at: deletes, archives, and changes the pass missed;
        // skipped when the counts show there can be none (see `listingReason`).
        let passErrors = stats.errors
        let listedLocally = try mirror.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM plane_records WHERE kind = 'issue' AND project_id = ? AND deleted = 0 AND archived = 0",
                             arguments: [project.id]) ?? 0
        }
        let listingDue = cursor?.lastListedAt.flatMap(PlaneTime.micros).map {
            Int64(Date().timeIntervalSince1970 * 1_000_000) - $0 >= Int64(listingIntervalSeconds) * 1_000_000
        } ?? true
        let listingReason = Self.listingReason(incremental: incremental, pageTotals: pageTotals, itemErrors: passErrors,
                                               listedLocally: listedLocally, tieAcrossPages: tieAcrossPages, listingDue: listingDue)
        var reread: [(String, JSONValue)] = []
        var vanished: [(id: String, archived: JSONValue?)] = []
        if listingReason != nil {
            (reread, vanished) = try await listIssueIDs(project, path: path, seen: seen)
        }

        // 3. One transaction: the re-read issues, the tombstones and the cursor.
        let finalCursor = [cursor?.updatedAt, newest].compactMap { $0 }.max()
        let now = Timestamp.iso(Date())
        try mirror.write { db in
            var tailStats = ModelStats()
            for (id, json) in reread {
                count(try PlaneSnapshots.apply(db, kind: "issue", id: id, projectID: project.id, json: json, pulledAt: now), into: &tailStats)
            }
            var deleted: [String] = []
            for (id, archived) in vanished {
                if let archived {
                    count(try PlaneSnapshots.apply(db, kind: "issue", id: id, projectID: project.id, json: archived, pulledAt: now),
                          into: &tailStats)
                } else {
                    deleted.append(id)
                }
            }
            try event(db, level: .debug, type: "pull_listing",
                      message: listingReason.map { "\(label): id listing ran: \($0)" } ?? "\(label): id listing skipped: the counts match",
                      metadata: ["project_id": .string(project.id), "listed": .bool(listingReason != nil),
                                 "reason": listingReason.map(JSONValue.string) ?? .null,
                                 "plane_total": pageTotals.last.flatMap { $0 }.map(JSONValue.int) ?? .null,
                                 "mirror_total": .int(listedLocally)])
            for id in try PlaneSnapshots.markDeleted(db, kind: "issue", ids: deleted, pulledAt: now) {
                tailStats.deleted += 1
                try event(db, type: "record_deleted", message: "Plane issue \(id) (\(project.identifier)) was deleted",
                          metadata: ["kind": "issue", "plane_id": .string(id), "project_id": .string(project.id)])
            }
            try db.execute(sql: """
                INSERT INTO pull_cursors (source, model, write_date, full_since, last_run_at, last_full_at, last_listed_at)
                VALUES ('plane', ?, ?, NULL, ?, ?, ?)
                ON CONFLICT (source, model) DO UPDATE SET write_date = excluded.write_date, full_since = NULL,
                    last_run_at = excluded.last_run_at, last_full_at = coalesce(excluded.last_full_at, pull_cursors.last_full_at),
                    last_listed_at = coalesce(excluded.last_listed_at, pull_cursors.last_listed_at)
                """, arguments: [model, finalCursor, now, incremental ? nil : now, listingReason != nil ? now : nil])
            stats.add(tailStats)
        }
        return stats
    }

    /// Step 2's listing: the issues to re-read (changed, archived here and listed again, or
    /// missing from the listing but still answering their detail view) and the ones Plane no
    /// longer has, with their archived copy when the external key finds one.
    private func listIssueIDs(_ project: PlaneProject, path: String, seen: Set<String>) async throws
        -> (reread: [(String, JSONValue)], vanished: [(id: String, archived: JSONValue?)])
    {
        var remote: [String: String] = [:]
        var pageCursor: String? = nil
        while true {
            let page = try await client.page(path, query: [("fields", "id,updated_at")], perPage: pageSize, cursor: pageCursor)
            for item in page.results {
                guard let id = item["id"]?.stringValue else { continue }
                remote[id] = item["updated_at"]?.stringValue.flatMap(PlaneTime.normalize) ?? ""
            }
            guard page.hasNext, let next = page.nextCursor, next != pageCursor else { break }
            pageCursor = next
        }
        let local = try mirror.read { db in try PlaneSnapshots.live(db, kind: "issue", projectID: project.id) }
        let archivedLocally = try mirror.read { db in
            Set(try String.fetchAll(db, sql: "SELECT plane_id FROM plane_records WHERE kind = 'issue' AND project_id = ? AND deleted = 0 AND archived = 1",
                                    arguments: [project.id]))
        }
        let missed = remote.filter { id, updated in
            guard !seen.contains(id) else { return false }
            guard let stored = local[id] else { return true }
            return stored != updated || archivedLocally.contains(id)
        }.keys.sorted()
        var reread: [(String, JSONValue)] = []
        for id in missed {
            do {
                reread.append((id, try await client.issue(projectID: project.id, id: id).raw))
            } catch PlaneError.notFound {
                continue  // archived or deleted since the listing: the next pull sees it
            }
        }
        var vanished: [(id: String, archived: JSONValue?)] = []
        for id in local.keys.sorted() where remote[id] == nil && !archivedLocally.contains(id) {
            // Offset pages shift when an issue before the offset leaves the list mid-listing,
            // so an issue can be missing from it and still be there: ask for it before
            // tombstoning it (and keep what it answers).
            do {
                reread.append((id, try await client.issue(projectID: project.id, id: id).raw))
                continue
            } catch PlaneError.notFound {
                // Deleted, or archived or a draft (the detail view hides those too).
            }
            let key = try mirror.read { db in try PlaneSnapshots.data(db, kind: "issue", id: id) }.flatMap { data -> PlaneExternalKey? in
                guard let source = data["external_source"]?.stringValue, let externalID = data["external_id"]?.stringValue,
                      !source.isEmpty, !externalID.isEmpty else { return nil }
                return PlaneExternalKey(source: source, id: externalID)
            }
            // Plane hides archived and draft issues from every list and from the detail view;
            // only the external-key lookup still finds them.
            if let key, let found = try await client.lookupIssue(projectID: project.id, key: key), found.id == id {
                vanished.append((id, found.raw))
            } else {
                vanished.append((id, nil))
            }
        }
        return (reread, vanished)
    }

    /// Why step 2's listing must run, or nil when an incremental pass leaves nothing for it to
    /// find. Every issue created, unarchived or edited before the pass began has an updated_at
    /// past the cursor, so the pass reads it unless offset pages shift and skip it. A skip needs
    /// an issue to leave the list mid-pass, which moves `total_results` unless a create (always
    /// at the front) makes up for it in the same gap between two pages, and then items can only
    /// repeat. So with every page's total equal (first and last alone would miss a removal and a
    /// create in different gaps) the mirror's live issues hold all Plane listed at the first
    /// page, and equal counts mean nothing was deleted, archived or hidden. Two things no count
    /// shows still need the listing: issues with equal updated_at straddling a page boundary
    /// (their order is not fixed, so one may be skipped), and an edit whose updated_at is older
    /// than the cursor less the overlap (a late commit, a skewed server clock). The first is
    /// seen at the boundary; against the second the listing runs anyway once per
    /// `plane.listing_interval_seconds`. An issue hidden for good (ours created in a triage
    /// state, say) keeps the counts apart and the listing running every time: slower, not wrong.
    static func listingReason(incremental: Bool, pageTotals: [Int?], itemErrors: Int, listedLocally: Int,
                              tieAcrossPages: Bool = false, listingDue: Bool = false) -> String? {
        guard incremental else { return "full pass" }
        guard let first = pageTotals.first else { return "no page read" }
        guard let total = first else { return "Plane sent no total_results" }
        if let other = pageTotals.first(where: { $0 != total }) {
            return "total_results changed during the pass (\(total), then \(other.map { String($0) } ?? "none"))"
        }
        guard itemErrors == 0 else { return "\(itemErrors) issue(s) of the pass could not be read" }
        guard listedLocally == total else { return "the mirror lists \(listedLocally) issues, Plane \(total)" }
        if tieAcrossPages { return "issues with equal updated_at straddle two pages" }
        if listingDue { return "the last listing is older than plane.listing_interval_seconds" }
        return nil
    }

    /// The pages of a newest-first pass: fixed `pageSize` pages for a full pass; for an
    /// incremental one 100, 100, 200, 400, ... up to `pageSize`.
    struct PageWindow {
        private(set) var size: Int
        private(set) var index = 0
        private let cap: Int

        init(pageSize: Int, incremental: Bool) {
            cap = pageSize
            size = incremental ? min(100, pageSize) : pageSize
        }

        var cursor: String? { index == 0 ? nil : "\(size):\(index):0" }

        /// Moves past the page just read.
        mutating func advance() {
            let offset = (index + 1) * size
            if index == 1, offset <= cap {
                // Page 1 of size `offset` starts exactly where the items read so far end.
                size = offset
            } else {
                index += 1
            }
        }
    }
}
