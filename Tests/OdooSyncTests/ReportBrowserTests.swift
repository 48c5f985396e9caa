import Foundation
import GRDB
import Testing
@testable import OdooSyncCore

/// The report as people see it: rendered by headless Chromium, looked at as pixels, and read
/// back through the DOM after its script ran.
@Suite(.serialized) struct ReportBrowserTests {
    /// The funnel as the mirror holds it: slug (or "(unmapped)") -> (leads, archived, revenue).
    static func mirrorFunnel(_ path: String) throws -> [String: (leads: Int, archived: Int, revenue: Double)] {
        var config = Configuration()
        config.readonly = true
        return try DatabaseQueue(path: path, configuration: config).read { db in
            var out: [String: (Int, Int, Double)] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT coalesce(stage, '(unmapped)'), count(*), sum(active = 0), total(expected_value)
                FROM leads WHERE deleted_at IS NULL GROUP BY 1
                """) {
                out[row[0]] = (row[1], row[2], row[3])
            }
            return out
        }
    }

    /// Each slug's first row in the stage map, which is pipeline order.
    static func stageOrder(_ path: String) throws -> [String: Int] {
        try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT stage, min(rowid) FROM stage_map GROUP BY stage").reduce(into: [String: Int]()) { $0[$1[0]] = $1[1] }
        }
    }

    /// Every funnel row of the page equals the mirror, and every stage with leads is on it.
    static func expectFunnel(_ dom: String, equals mirror: [String: (leads: Int, archived: Int, revenue: Double)],
                             sourceLocation: SourceLocation = #_sourceLocation) {
        let rows = ReportDOM.elements(dom, marker: "data-stage=")
        #expect(!rows.isEmpty, "no funnel rows in the DOM", sourceLocation: sourceLocation)
        var seen: Set<String> = []
        for row in rows {
            let stage = row["data-stage"] ?? "?"
            seen.insert(stage)
            let leads = Int(row["data-leads"] ?? "") ?? -1
            let archived = Int(row["data-archived"] ?? "") ?? -1
            let revenue = Double(row["data-revenue"] ?? "") ?? -1
            let expected = mirror[stage] ?? (0, 0, 0)
            #expect(leads == expected.leads, "leads of \(stage)", sourceLocation: sourceLocation)
            #expect(archived == expected.archived, "archived of \(stage)", sourceLocation: sourceLocation)
            #expect(abs(revenue - expected.revenue) < 0.006, "revenue of \(stage): \(revenue) vs \(expected.revenue)",
                    sourceLocation: sourceLocation)
        }
        for (stage, figures) in mirror where figures.leads > 0 {
            #expect(seen.contains(stage), "stage \(stage) is missing from the funnel", sourceLocation: sourceLocation)
        }
    }

    static func expectNotBlank(_ image: PNGImage, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(image.width == 1280 && image.height == 2000, "screenshot is \(image.width)x\(image.height)", sourceLocation: sourceLocation)
        let variety = image.variety()
        #expect(variety.colours >= 20, "only \(variety.colours) colours on the screenshot", sourceLocation: sourceLocation)
        #expect(variety.nonBackground >= 0.08, "only \(variety.nonBackground) of the screenshot is not background",
                sourceLocation: sourceLocation)
        // The dark header band is drawn.
        #expect(image.samples(near: (0x12, 0x26, 0x3F), tolerance: 10) > 2_000, sourceLocation: sourceLocation)
    }

    @Test func theDemoEndsWithAReportThatChromiumShowsWithTheMirrorsFunnel() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let db = dir.appendingPathComponent("demo.sqlite").path
        let demo = try await CLI.run(["demo", "--db", db], in: TestPaths.repoRoot)
        #expect(demo.status == 0, "\(demo.output)")
        let page = dir.appendingPathComponent("pipeline-report.html")
        // `demo` ends by writing the report and saying where it is.
        let lastLines = demo.stdout.split(separator: "\n").suffix(3).map(String.init)
        #expect(lastLines.first == "== odoosync report --out \(page.path)", "\(lastLines)")
        #expect(lastLines.dropFirst().first?.hasPrefix("Wrote the pipeline report to \(page.path) (") == true, "\(lastLines)")
        #expect(lastLines.last == "Open it in a browser: \(page.absoluteString)", "\(lastLines)")

        // Opened sorted by the address: stale leads, longest-idle last.
        let (image, dom) = try await Chromium.render(page, screenshot: dir.appendingPathComponent("demo.png"),
                                                     fragment: "sort=stale-table:7:asc")
        Self.expectNotBlank(image)
        // The funnel's bars (the accent blue) are drawn, not just text.
        #expect(image.samples(near: (0x2D, 0x6C, 0xDF), tolerance: 16) > 300)

        let root = ReportDOM.root(dom)
        #expect(root["data-script"] == "ran", "the page's script did not run")
        let mirror = try Self.mirrorFunnel(db)
        Self.expectFunnel(dom, equals: mirror)

        // The same counts as `odoosync status --json`.
        let status = try await CLI.run(["status", "--json", "--db", db])
        let byStage = try #require(try JSONValue.parse(status.stdout)["leads_by_stage"]?.objectValue)
        let rows = ReportDOM.elements(dom, marker: "data-stage=")
        for (stage, count) in byStage {
            #expect(rows.first { $0["data-stage"] == stage }?["data-leads"] == count.intValue.map(String.init), "\(stage)")
        }

        // Pipeline order: open stages as the stage map lists them, then won, then lost.
        let order = try Self.stageOrder(db)
        let slugs = rows.compactMap { $0["data-stage"] }
        let open = slugs.filter { $0 != "won" && $0 != "lost" && $0 != "(unmapped)" }
        #expect(open.first == "new")
        #expect(open.map { order[$0] ?? Int.max } == open.map { order[$0] ?? Int.max }.sorted(), "\(open)")
        #expect(Array(slugs.suffix(2)) == ["won", "lost"], "\(slugs)")

        // The stale table was re-sorted by the script, and counts what the mirror says.
        let idle = ReportDOM.elements(dom, marker: "data-idle-days=").compactMap { Int($0["data-idle-days"] ?? "") }
        #expect(!idle.isEmpty)
        #expect(idle == idle.sorted(), "stale rows are not in ascending idle order")
        let generatedAt = try #require(root["data-generated-at"])
        let staleDays = Int(root["data-stale-days"] ?? "") ?? -1
        #expect(staleDays == 30)
        let expectedStale = try ReportCommandTests.staleCount(db, now: generatedAt, days: staleDays)
        #expect(ReportDOM.elements(dom, marker: "data-stale-count=").first?["data-stale-count"] == String(expectedStale))
        #expect(idle.count == min(expectedStale, 200))
    }

    @Test func anEmptyMirrorRenders() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let db = dir.appendingPathComponent("empty.sqlite").path
        #expect(try await CLI.run(["init", "--db", db]).status == 0)
        let page = dir.appendingPathComponent("empty.html")
        let report = try await CLI.run(["report", "--db", db, "--out", page.path])
        #expect(report.status == 0, "\(report.output)")
        #expect(report.stdout.contains("0 leads"), "\(report.stdout)")

        let (image, dom) = try await Chromium.render(page, screenshot: dir.appendingPathComponent("empty.png"))
        Self.expectNotBlank(image)
        Self.expectFunnel(dom, equals: [:])
        #expect(dom.contains("No stale leads."))
        #expect(dom.contains("No pull has run yet"))
        #expect(ReportDOM.root(dom)["data-script"] == "ran")
    }

    @Test func aHundredThousandLeadMirrorRenders() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let db = dir.appendingPathComponent("large.sqlite").path
        #expect(try await CLI.run(["init", "--db", db]).status == 0)
        try ReportCommandTests.fillWithLeads(db, count: 100_000)
        let page = dir.appendingPathComponent("large.html")
        let report = try await CLI.run(["report", "--db", db, "--out", page.path, "--json"])
        #expect(report.status == 0, "\(report.output)")
        let summary = try JSONValue.parse(report.stdout)
        let mirror = try Self.mirrorFunnel(db)
        #expect(summary["leads"]?.intValue == mirror.values.reduce(0) { $0 + $1.leads })

        let (image, dom) = try await Chromium.render(page, screenshot: dir.appendingPathComponent("large.png"))
        Self.expectNotBlank(image)
        Self.expectFunnel(dom, equals: mirror)
        // The table lists 200 of the many stale leads; the count covers them all.
        #expect(ReportDOM.elements(dom, marker: "data-idle-days=").count == 200)
        let stale = Int(ReportDOM.elements(dom, marker: "data-stale-count=").first?["data-stale-count"] ?? "") ?? 0
        #expect(stale > 200 && stale == summary["stale_leads"]?.intValue)
    }
}
