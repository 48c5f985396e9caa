import Foundation
import GRDB
@testable import OdooEmulator
import OdooSyncCore
@testable import OdooSyncEngine
@testable import PlaneEmulator
import Testing

/// Field translation between Plane and Odoo where the two servers hold a value differently:
/// what one side cannot hold must neither fail every attempt nor come back as a change that
/// overwrites the other side's finer value.
@Suite struct SyncTranslationTests {
    // MARK: tables

    static let twoLevels = ["0", "1"]
    static let fourLevels = ["0", "1", "2", "3"]

    /// (keys, Plane value, Odoo canonical value, same meaning?)
    @Test(arguments: [
        (twoLevels, "urgent", "high", true), (twoLevels, "high", "high", true), (twoLevels, "medium", "low", true),
        (twoLevels, "none", "low", true), (twoLevels, "urgent", "low", false), (twoLevels, "medium", "high", false),
        (fourLevels, "urgent", "medium", false), (fourLevels, "high", "high", true), (fourLevels, "none", "low", true),
        (fourLevels, "urgent", "urgent", true), (fourLevels, "medium", "low", false),
    ])
    func prioritiesCompareAsTheTaskHoldsThem(keys: [String], plane: String, odoo: String, same: Bool) {
        let translation = OdooVersionTests.translation(priorityKeys: keys)
        #expect(translation.sameMeaning("priority", .string(plane), .string(odoo)) == same)
        #expect(translation.sameMeaning("name", .string(plane), .string(odoo)) == (plane == odoo))
    }

    /// Stages of one name, linked to projects as `project_ids` links them: (project, chosen id).
    @Test(arguments: [(2, 7), (1, 3), (9, 3), (4, nil)] as [(Int, Int?)])
    func aStageIsTheTasksProjectsOwn(project: Int, chosen: Int?) {
        let translation = Translation(
            stateMap: [:], planeStates: [:],
            odooStages: ["in progress": [.init(id: 2, projects: []), .init(id: 3, projects: [1, 3]), .init(id: 7, projects: [2])],
                         "review": [.init(id: 5, projects: [4])]],
            odooProjectsWithStages: [1, 2, 3, 4])
        // Project 9 has no stages of its own: a shared one, never the personal stage 2.
        // Project 4 has stages, none called "in progress": none.
        #expect(translation.odooStageID(named: "in progress", project: project) == chosen)
    }

    @Test func aSnapshotWithoutProjectLinksStillNamesItsStage() {
        let translation = Translation(stateMap: [:], planeStates: [:], odooStages: ["done": [.init(id: 5, projects: nil)]])
        #expect(translation.odooStageID(named: "done", project: 2) == 5)
        #expect(translation.odooStageID(named: "done", project: nil) == 5)
    }

    @Test(arguments: ["a &lt; b", "Tom & Jerry", "<b>bold</b>", "&amp;", "say \"hi\"", "it's"])
    func aPlainDescriptionSurvivesItsHTMLForm(text: String) {
        #expect(Translation.plainText("<p>\(Translation.escape(text))</p>") == text)
    }

    @Test func namesAreClippedInUnicodeScalarsAsPlaneCountsThem() {
        // "é" as e + combining acute: one Character, two scalars (Python's len says 2).
        let composed = String(repeating: "e\u{301}", count: 200)
        let clipped = Translation.clipped(composed, to: 255)
        #expect(clipped.unicodeScalars.count == 254, "the 128th é would not fit whole")
        #expect(clipped.allSatisfy { $0 == "e\u{301}" })
        #expect(Translation.clipped("short", to: 255) == "short")
        // A family emoji is seven scalars: kept whole or left out.
        let family = "👨‍👩‍👧‍👦"
        #expect(Translation.clipped(String(repeating: "a", count: 250) + family, to: 255) == String(repeating: "a", count: 250))
        #expect(Translation.clipped(String(repeating: "a", count: 248) + family + "b", to: 255) == String(repeating: "a", count: 248) + family)
    }

    /// A visibility title over Plane's limit ends in an ellipsis, within the limit as Plane
    /// counts, with no character cut in half.
    @Test func aLongVisibilityTitleIsClippedWithinPlanesLimit() {
        let customer = String(repeating: "🇦🇪", count: 140)
        let record: JSONValue = ["id": 3, "name": "S00003", "state": "sale", "partner_id": [9, .string(customer)],
                                 "amount_total": 10.0, "currency_id": [125, "AED"]]
        let title = Visibility.canonical(model: "sale.order", record: record)["name"]?.stringValue ?? ""
        #expect(title.unicodeScalars.count <= 255)
        #expect(title.hasSuffix("🇦🇪…"), "\(title.suffix(4))")
    }

    /// (UTC datetime as Odoo sends it, zone, the day it is there)
    @Test(arguments: [
        ("2026-12-09 23:30:00", "Europe/Brussels", "2026-12-10"), ("2026-12-09 22:30:00", "Europe/Brussels", "2026-12-09"),
        ("2026-12-10 03:00:00", "America/New_York", "2026-12-09"), ("2026-12-09 20:00:00", "Asia/Dubai", "2026-12-10"),
        ("2026-12-09 10:00:00", "Pacific/Kiritimati", "2026-12-10"), ("2026-12-10 10:00:00", "UTC", "2026-12-10"),
    ])
    func aDeadlineIsTheDayItFallsOnInTheUsersZone(utc: String, zone: String, day: String) throws {
        #expect(Translation.localDay(utc, in: try #require(TimeZone(identifier: zone))) == day)
    }

    /// A Plane day written to Odoo is that day's midnight in the user's zone, and reads back as
    /// the same day, through summer time and zones where it starts at midnight.
    @Test(arguments: ["Europe/Brussels", "America/New_York", "Asia/Dubai", "Pacific/Kiritimati", "Pacific/Pago_Pago",
                      "America/Havana", "Asia/Kolkata", "UTC"])
    func aPlaneDayRoundTripsThroughTheUsersZone(zone: String) throws {
        let tz = try #require(TimeZone(identifier: zone))
        var day = try #require(Timestamp.parseOdoo("2026-01-01 00:00:00"))
        for _ in 0..<366 {
            let text = String(Timestamp.odoo(day).prefix(10))
            let utc = try #require(Translation.utcMidnight(text, in: tz))
            #expect(Translation.localDay(utc, in: tz) == text, "\(text) in \(zone) written as \(utc)")
            day = day.addingTimeInterval(86_400)
        }
        #expect(Translation.utcMidnight("2026-07-10", in: try #require(TimeZone(identifier: "Europe/Brussels"))) == "2026-07-09 22:00:00")
        #expect(Translation.utcMidnight("2026-12-10", in: try #require(TimeZone(identifier: "Europe/Brussels"))) == "2026-12-09 23:00:00")
    }

    // MARK: against both emulators

    /// An Odoo task name longer than Plane allows (255, counted in code points) is created and
    /// renamed in Plane clipped, and the clip is not a change on the next run.
    @Test func aTaskNameLongerThanPlaneAllowsArrivesClipped() async throws {
        let h = try await SyncHarness.start()
        defer { Task { await h.stop() } }
        let task = try #require(try h.odooRecords("project.task").first {
            $0["active"] as? Bool == true && SyncHarness.many2oneID($0["project_id"]) == 2
        }?["id"] as? Int)
        let long = String(repeating: "Rebar cage ", count: 20) + String(repeating: "e\u{301}", count: 60)
        #expect(h.odoo.emulator.modify(model: "project.task", id: task, values: ["name": .string(long)]))

        let first = try await h.sync()
        #expect(first["failed"]?.intValue == 0, "\(first)")
        let pair = try #require(try h.pairs("issue:project.task").first { $0.odoo == task })
        #expect(SyncTests.name(h.planeIssue(pair.plane)) == Translation.clipped(long, to: 255))

        let renamed = String(repeating: "Column stirrups ", count: 20)
        #expect(h.odoo.emulator.modify(model: "project.task", id: task, values: ["name": .string(renamed)]))
        let second = try await h.sync()
        #expect(second["failed"]?.intValue == 0, "\(second)")
        #expect(SyncTests.name(h.planeIssue(pair.plane)) == Translation.clipped(renamed, to: 255))
        #expect(try h.odooRecord("project.task", task)?["name"] as? String == renamed, "Odoo keeps its whole name")
        #expect(try await h.sync()["written"]?.intValue == 0, "the clip is not a change")
    }

    /// Odoo 16-18 tasks hold two priorities ("0", "1"). A Plane issue raised to urgent while
    /// someone stars its task in Odoo (later) agree: the task cannot say more than "1", and
    /// Plane keeps urgent instead of being lowered to high.
    @Test func aTwoLevelTaskPriorityDoesNotLowerPlanesPriority() async throws {
        let h = try await SyncHarness.start { $0.serverVersion = "17.0" }
        defer { Task { await h.stop() } }
        #expect(try await h.sync()["failed"]?.intValue == 0)
        let pair = try #require(try h.pairs("issue:project.task").first { pair in
            (try? h.odooRecord("project.task", pair.odoo)?["priority"] as? String) == "0"
        })
        try h.plane.modifyIssue(id: pair.plane, fields: ["priority": "urgent"])
        try await Task.sleep(nanoseconds: 1_100_000_000)
        #expect(h.odoo.emulator.modify(model: "project.task", id: pair.odoo, values: ["priority": "1"]))

        let report = try await h.sync()
        #expect(report["failed"]?.intValue == 0, "\(report)")
        #expect(h.planeIssue(pair.plane)?["priority"]?.stringValue == "urgent", "Plane's finer value stays")
        #expect(try h.odooRecord("project.task", pair.odoo)?["priority"] as? String == "1")
        #expect(try await h.sync()["written"]?.intValue == 0)

        // Plane moving between values the task holds alike writes nothing to Odoo.
        let odooWrites = h.odoo.emulator.writes().count
        try h.plane.modifyIssue(id: pair.plane, fields: ["priority": "high"])
        #expect(try await h.sync()["written"]?.intValue == 0)
        #expect(h.odoo.emulator.writes().count == odooWrites)

        // Down to medium, which the task holds as "0": the star goes, Plane keeps medium.
        try h.plane.modifyIssue(id: pair.plane, fields: ["priority": "medium"])
        #expect(try await h.sync()["failed"]?.intValue == 0)
        #expect(try h.odooRecord("project.task", pair.odoo)?["priority"] as? String == "0")
        #expect(h.planeIssue(pair.plane)?["priority"]?.stringValue == "medium")
        #expect(try await h.sync()["written"]?.intValue == 0)
    }

    /// Odoo links stages to projects. Where a project has its own "In Progress", a Plane issue
    /// of its paired project moved there lands in that stage, not in another project's of the
    /// same name (a column its board does not show).
    @Test func aPlaneStateBecomesTheStageOfTheTasksOwnProject() async throws {
        let fixtures = try SyncHarness.editedOdooFixtures([
            "project.task.type.json": { records in
                let stages = (records.arrayValue ?? []).map { stage in
                    stage["id"]?.intValue == 3 ? SyncHarness.setting("project_ids", [1, 3, 4], in: stage) : stage
                }
                let mobilesOwn: EmulatorJSON = .object([
                    ("id", 7), ("name", "In Progress"), ("sequence", 3), ("fold", false), ("active", true), ("project_ids", [2]),
                    ("user_id", false), ("create_date", "2026-07-28 16:54:03"), ("write_date", "2026-08-04 17:38:49"),
                ])
                return .array(stages + [mobilesOwn])
            },
        ])
        let h = try await SyncHarness.start(odooFixtures: fixtures)
        defer { Task { await h.stop() } }
        #expect(try await h.sync()["failed"]?.intValue == 0)
        let mobile = try #require(h.plane.projectID(identifier: "MOB"))
        let states = try JSONValue.parse(Data(contentsOf: SyncHarness.planeFixtures.appendingPathComponent("states.json"))).arrayValue ?? []
        let inProgress = try #require(states.first { $0["project"]?.stringValue == mobile && $0["name"]?.stringValue == "In Progress" }?["id"]?.stringValue)
        let pair = try #require(try h.pairs("issue:project.task").first { pair in
            h.planeIssue(pair.plane)?["project"]?.stringValue == mobile && h.planeIssue(pair.plane)?["state"]?.stringValue != inProgress
        })
        #expect(SyncHarness.many2oneID(try h.odooRecord("project.task", pair.odoo)?["project_id"]) == 2)
        try h.plane.modifyIssue(id: pair.plane, fields: ["state": .string(inProgress)])

        let report = try await h.sync()
        #expect(report["failed"]?.intValue == 0, "\(report)")
        #expect(SyncHarness.many2oneID(try h.odooRecord("project.task", pair.odoo)?["stage_id"]) == 7)
        #expect(try await h.sync()["written"]?.intValue == 0)
    }
}
