import Foundation
import GRDB
import Logging
import OdooClient
@testable import OdooEmulator
import OdooSyncCore
@testable import OdooSyncEngine
import OdooSyncMirror
import Testing

/// A lead that a record rule hides from the pulling user (reassigned to another salesman)
/// vanishes from Odoo's searches exactly as a deleted one does. The pull tells the two apart
/// by reading the ids by id, and tombstones only the deleted.
@Suite(.serialized) struct PullRecordRuleTests {
    static let salesman = PushRecordRuleTests.salesman

    /// The mirror's view of a lead: (tombstoned, lead's deleted_at set).
    static func state(_ h: EmulatorHarness, _ id: Int) throws -> (tombstone: Bool, leadDeleted: Bool)? {
        try h.query { db in
            try Row.fetchOne(db, sql: """
                SELECT r.deleted, l.deleted_at IS NOT NULL FROM odoo_records r JOIN leads l ON l.odoo_id = r.odoo_id
                WHERE r.model = 'crm.lead' AND r.odoo_id = ?
                """, arguments: [id]).map { (tombstone: $0[0] as Bool, leadDeleted: $0[1] as Bool) }
        }
    }

    static func hiddenEvents(_ h: EmulatorHarness) throws -> [String] {
        try h.query { db in try String.fetchAll(db, sql: "SELECT message FROM events WHERE event_type = 'record_hidden' ORDER BY seq") }
    }

    /// Makes every lead the salesman's, so that his pull sees them all; their ids, ascending.
    static func giveEveryLeadToTheSalesman(_ h: EmulatorHarness) throws -> [Int] {
        let leads = try h.emulatorLeads().keys.sorted()
        for id in leads { #expect(h.emulator.modify(model: "crm.lead", id: id, values: ["user_id": .int(Self.salesman.uid)])) }
        return leads
    }

    /// The salesman's own pull, through the binary: (its crm.lead stats, requests made, stdout).
    func pull(_ h: EmulatorHarness, full: Bool = false) async throws -> (stats: JSONValue, requests: Int, text: String) {
        let json = try await h.run(["pull", "odoo", "--json"] + (full ? ["--full"] : []), apiKey: Self.salesman.apiKey,
                                   extra: ["ODOO_USERNAME": Self.salesman.login])
        #expect(json.status == 0, "\(json.output)")
        let report = try JSONValue.parse(json.stdout)
        return (report["models"]?["crm.lead"] ?? .null, report["requests"]?.intValue ?? 0, json.stdout)
    }

    @Test func aLeadReassignedOutOfSightIsKeptAndADeletedOneIsTombstoned() async throws {
        let h = try await EmulatorHarness.start { $0.users = [.admin, Self.salesman] }
        defer { Task { await h.stop() } }
        // Every lead is the salesman's, so the deletion check covers more than one slice of
        // ids (page size 1: slices of 20) and the count shortcut is in play.
        let leads = try Self.giveEveryLeadToTheSalesman(h)
        #expect(try await h.run(["config", "set", "pull.page_size", "1"]).status == 0)
        let first = try await pull(h)
        #expect(first.stats["created"]?.intValue == leads.count, "\(first.text)")
        let reassigned = leads[3]
        let deleted = leads[4]
        #expect(h.emulator.modify(model: "crm.lead", id: reassigned, values: ["user_id": 8]))
        #expect(h.emulator.delete(model: "crm.lead", id: deleted))

        let second = try await pull(h)
        #expect(second.stats["deleted"]?.intValue == 1 && second.stats["hidden"]?.intValue == 1, "\(second.stats)")
        #expect(try Self.state(h, reassigned).map { [$0.tombstone, $0.leadDeleted] } == [false, false], "hidden, not deleted")
        #expect(try Self.state(h, deleted).map { [$0.tombstone, $0.leadDeleted] } == [true, true])
        let events = try Self.hiddenEvents(h)
        #expect(events.count == 1 && events.first?.hasPrefix("crm.lead \(reassigned) is no longer visible") == true, "\(events)")

        // Still hidden: the counts allow for it, so no walk over the ids, and no second warning.
        let third = try await pull(h)
        #expect(third.stats["deleted"]?.intValue == 0 && third.stats["hidden"]?.intValue == 1, "\(third.stats)")
        #expect(third.requests < second.requests - 2, "the count shortcut holds: \(third.requests) against \(second.requests)")
        #expect(try Self.hiddenEvents(h).count == 1)
        let text = try await h.run(["pull", "odoo"], apiKey: Self.salesman.apiKey, extra: ["ODOO_USERNAME": Self.salesman.login])
        #expect(text.stdout.contains("1 crm.lead record(s) are hidden from this Odoo user by a record rule"), "\(text.stdout)")

        // A full pull keeps it too.
        let full = try await pull(h, full: true)
        #expect(full.stats["deleted"]?.intValue == 0 && full.stats["hidden"]?.intValue == 1, "\(full.stats)")
        #expect(try Self.state(h, reassigned)?.tombstone == false)

        // Back in sight: pulled again, and no longer counted as hidden. A lead deleted at the
        // same time leaves the counts as they were; it is found all the same.
        #expect(h.emulator.modify(model: "crm.lead", id: reassigned, values: ["user_id": 5, "probability": 77.0]))
        #expect(h.emulator.delete(model: "crm.lead", id: leads[5]))
        let back = try await pull(h)
        #expect(back.stats["hidden"]?.intValue == 0 && back.stats["updated"]?.intValue == 1, "\(back.stats)")
        #expect(back.stats["deleted"]?.intValue == 1, "\(back.stats)")
        #expect(try Self.state(h, leads[5])?.tombstone == true)
        #expect(try h.query { db in try String.fetchOne(db, sql: "SELECT hidden_ids FROM pull_cursors WHERE model = 'crm.lead'") } == "[]")
    }

    /// A lead back in sight because the rule changed, not the lead (nothing was written, so the
    /// incremental pull does not read it), while another lead is deleted: the counts match as if
    /// nothing happened, yet the deletion is found, and the lead is read again by id (it holds
    /// the reassignment made while it was hidden) and no longer counted hidden.
    @Test func aLeadBackInSightWithoutAWriteDoesNotHideADeletion() async throws {
        let h = try await EmulatorHarness.start { $0.users = [.admin, Self.salesman] }
        defer { Task { await h.stop() } }
        let leads = try Self.giveEveryLeadToTheSalesman(h)
        #expect(try await h.run(["config", "set", "pull.page_size", "1"]).status == 0)
        // No overlap window, and a later write to another lead moves the cursor past the
        // reassignment: once visible again, the lead is not among what the pull reads.
        #expect(try await h.run(["config", "set", "pull.overlap_seconds", "0"]).status == 0)
        _ = try await pull(h)
        let reassigned = leads[3]
        #expect(h.emulator.modify(model: "crm.lead", id: reassigned, values: ["user_id": 8]))
        try await Task.sleep(for: .milliseconds(1100))
        #expect(h.emulator.modify(model: "crm.lead", id: leads[7], values: ["probability": 12.0]))
        let hidden = try await pull(h)
        #expect(hidden.stats["hidden"]?.intValue == 1, "\(hidden.stats)")

        h.emulator.setOwnLeadsOnly(uid: Self.salesman.uid, false)
        #expect(h.emulator.delete(model: "crm.lead", id: leads[6]))
        let after = try await pull(h)
        #expect(after.stats["updated"]?.intValue == 1, "the lead back in sight is read again: \(after.stats)")
        #expect(try h.query { db in
            try Int.fetchOne(db, sql: "SELECT json_extract(data, '$.user_id[0]') FROM odoo_records WHERE model = 'crm.lead' AND odoo_id = ?",
                             arguments: [reassigned])
        } == 8)
        #expect(after.stats["deleted"]?.intValue == 1 && after.stats["hidden"]?.intValue == 0, "\(after.stats)")
        #expect(try Self.state(h, leads[6])?.tombstone == true)
        #expect(try Self.state(h, reassigned)?.tombstone == false)
        #expect(try h.query { db in try String.fetchOne(db, sql: "SELECT hidden_ids FROM pull_cursors WHERE model = 'crm.lead'") } == "[]")
    }

    /// A small model is walked on every pull; the leads known hidden are taken as still hidden
    /// there, without a read each time. A full pull reads them again, and so tombstones one
    /// deleted while it was hidden.
    @Test func anIncrementalWalkTakesTheKnownHiddenAsHiddenAndAFullPullChecksThem() async throws {
        let h = try await EmulatorHarness.start { $0.users = [.admin, Self.salesman] }
        defer { Task { await h.stop() } }
        let leads = try Self.giveEveryLeadToTheSalesman(h)
        _ = try await pull(h)
        let (a, b) = (leads[10], leads[20])
        for id in [a, b] { #expect(h.emulator.modify(model: "crm.lead", id: id, values: ["user_id": 8])) }
        let hidden = try await pull(h)
        #expect(hidden.stats["hidden"]?.intValue == 2, "\(hidden.stats)")

        let reads = h.emulator.requestCount(model: "crm.lead", method: "read")
        #expect(h.emulator.delete(model: "crm.lead", id: b))
        let again = try await pull(h)
        #expect(again.stats["hidden"]?.intValue == 2 && again.stats["deleted"]?.intValue == 0, "\(again.stats)")
        #expect(h.emulator.requestCount(model: "crm.lead", method: "read") == reads, "no read of the known hidden")

        let full = try await pull(h, full: true)
        #expect(full.stats["hidden"]?.intValue == 1 && full.stats["deleted"]?.intValue == 1, "\(full.stats)")
        #expect(try Self.state(h, b)?.tombstone == true)
        #expect(try Self.state(h, a)?.tombstone == false)
    }

    /// A webhook's pull of named leads sorts them the same way.
    @Test func aNamedLeadOutOfSightIsKeptByATargetedPull() async throws {
        let h = try await EmulatorHarness.start { $0.users = [.admin, Self.salesman] }
        defer { Task { await h.stop() } }
        let leads = try h.emulatorLeads().keys.sorted()
        let (kept, reassigned, deleted) = (leads[0], leads[1], leads[2])
        for id in [kept, reassigned, deleted] { #expect(h.emulator.modify(model: "crm.lead", id: id, values: ["user_id": 5])) }
        _ = try await pull(h)
        #expect(h.emulator.modify(model: "crm.lead", id: reassigned, values: ["user_id": 8]))
        #expect(h.emulator.delete(model: "crm.lead", id: deleted))

        let mirror = try Mirror(path: h.dbPath)
        let runID = try mirror.startRun(job: "test", system: "custom")
        let settings = OdooSettings(url: try #require(URL(string: "http://127.0.0.1:\(h.port)")), database: "odoosync_demo",
                                    username: Self.salesman.login, apiKey: Self.salesman.apiKey)
        let puller = try OdooPuller(mirror: mirror, client: OdooClient(settings: settings, logger: Logger(label: "test")), runID: runID,
                                    logger: Logger(label: "test"))
        let report = try await puller.pullLeads(ids: [kept, reassigned, deleted])
        let stats = try #require(report.models.first { $0.0 == "crm.lead" }?.1)
        #expect(stats.deleted == 1 && stats.hidden == 1 && stats.unchanged == 1, "\(stats)")
        #expect(try Self.state(h, reassigned)?.tombstone == false)
        #expect(try Self.state(h, deleted)?.tombstone == true)
        #expect(try Self.hiddenEvents(h).count == 1)
    }
}
