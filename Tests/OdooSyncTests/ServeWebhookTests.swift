import Foundation
import GRDB
import Testing
@testable import OdooEmulator
@testable import OdooSyncCore
import OdooSyncServe

/// `odoosync serve` over real loopback HTTP: what it accepts, what it refuses, and with which
/// status code; every refusal leaves an `events` row without the body.
@Suite(.serialized) struct ServeWebhookTests {
    @Test func recordedPlaneDeliveriesAreAcceptedAndProcessedAndATamperedOneIsRefused() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let serve = try await ServeProcess.start(h, environment: ServeProcess.defaultEnvironment(h, extra: [
            "PLANE_WEBHOOK_SECRET": ServeProcess.sampleSecret]))

        // Every delivery a real Plane server sent, byte for byte, with its own signature.
        let samples = try Deliveries.recordedPlane()
        #expect(samples.count >= 40)
        for sample in samples {
            let answer = try await HTTP.send("POST", serve.base + "/webhooks/plane", headers: sample.headers, body: sample.body)
            #expect(answer.status == 200, "\(sample.name): \(answer.text)")
            #expect(answer.json["status"]?.stringValue == "stored", "\(sample.name): \(answer.text)")
        }
        // One byte changed: the signature no longer matches.
        let original = samples[0]
        var tampered = original.body
        let index = tampered.firstIndex(of: UInt8(ascii: "h")) ?? tampered.startIndex
        tampered[index] = UInt8(ascii: "H")
        var headers = original.headers
        headers["X-Plane-Delivery"] = UUID().uuidString
        let refused = try await HTTP.send("POST", serve.base + "/webhooks/plane", headers: headers, body: tampered)
        #expect(refused.status == 401, "\(refused.text)")
        #expect(refused.json["reason"]?.stringValue == "bad_signature")
        // A replay of a delivery already stored is acknowledged and ignored.
        let replay = try await HTTP.send("POST", serve.base + "/?source=plane", headers: original.headers, body: original.body)
        #expect(replay.status == 200)
        #expect(replay.json["status"]?.stringValue == "duplicate")

        let ids = Set(samples.compactMap { $0.headers["X-Plane-Delivery"] })
        try await waitUntil("every recorded delivery is processed") {
            try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed'") } == ids.count
        }
        let (stored, processedEvents, bodies) = try h.query { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE source = 'plane'") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM events, json_each(events.metadata, '$.delivery_ids') WHERE event_type = 'webhook_processed'") ?? 0,
             try Set(Data.fetchAll(db, sql: "SELECT body FROM webhook_delivery_bodies JOIN webhook_deliveries ON id = delivery")))
        }
        #expect(stored == ids.count, "one row per delivery id, the replay not stored again")
        #expect(processedEvents == ids.count, "each delivery processed exactly once")
        #expect(bodies == Set(samples.map(\.body)), "the raw body is stored as received")
        let stopped = await serve.stop()
        #expect(stopped.status == 0, "\(stopped.output)")
        #expect(!stopped.output.contains(ServeProcess.sampleSecret))
    }

    @Test func anOdooLeadDeliveryIsSettledByATargetedPull() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let leads = try h.emulatorLeads().filter { $0.value.1 }.keys.sorted()
        let changed = try #require(leads.first)
        let deleted = try #require(leads.last)
        let serve = try await ServeProcess.start(h)

        try await Task.sleep(nanoseconds: 1_100_000_000)  // a later write_date second
        #expect(h.emulator.modify(model: "crm.lead", id: changed, values: ["probability": .double(77), "name": "Renamed by a colleague"]))
        #expect(h.emulator.delete(model: "crm.lead", id: deleted))
        let requestsBefore = h.emulator.requestCount()
        let first = UUID().uuidString, second = UUID().uuidString
        let write = Deliveries.odoo(deliveryID: first, recordID: changed, event: "write")
        let a = try await HTTP.send("POST", serve.base + "/webhooks/odoo", headers: Deliveries.odooHeaders(write, deliveryID: first), body: write)
        #expect(a.status == 200, "\(a.text)")
        let unlink = Deliveries.odoo(deliveryID: second, recordID: deleted, event: "unlink")
        // The edge-function style route takes the same deliveries.
        let b = try await HTTP.send("POST", serve.base + "/?source=odoo", headers: Deliveries.odooHeaders(unlink, deliveryID: second), body: unlink)
        #expect(b.status == 200, "\(b.text)")

        try await waitUntil("both deliveries are processed") {
            try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed'") } == 2
        }
        let (probability, title, deletedAt) = try h.query { db in
            (try Double.fetchOne(db, sql: "SELECT probability FROM leads WHERE odoo_id = ?", arguments: [changed]),
             try String.fetchOne(db, sql: "SELECT title FROM leads WHERE odoo_id = ?", arguments: [changed]),
             try String.fetchOne(db, sql: "SELECT deleted_at FROM leads WHERE odoo_id = ?", arguments: [deleted]))
        }
        #expect(probability == 77)
        #expect(title == "Renamed by a colleague")
        #expect(deletedAt != nil, "a lead Odoo no longer has becomes a tombstone")
        // Targeted: a handful of requests, not a pass over every model.
        let (targeted, fullPasses) = try h.query { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE event_type = 'pull_targeted'") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM events e JOIN runs r ON r.id = e.run_id WHERE e.event_type = 'pull_model' AND r.job_name = 'serve webhooks'") ?? 0)
        }
        #expect(targeted >= 1)
        #expect(fullPasses == 0)
        #expect(h.emulator.requestCount() - requestsBefore <= 8, "\(h.emulator.requestCount() - requestsBefore) requests")
        #expect(await serve.stop().status == 0)
    }

    @Test func everyRefusalHasItsStatusCodeAndAnEventsRowWithoutTheBody() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let serve = try await ServeProcess.start(h)
        let marker = "BODY-MARKER-must-not-be-logged"
        let url = serve.base + "/webhooks/plane"

        func plane(_ body: Data, id: String = UUID().uuidString, event: String = "issue") -> [String: String] {
            Deliveries.planeHeaders(body, deliveryID: id, event: event)
        }
        let good = Deliveries.plane(name: marker)
        var unsigned = plane(good)
        unsigned["X-Plane-Signature"] = nil
        let wrongSecret = Deliveries.planeHeaders(good, deliveryID: UUID().uuidString, secret: "not-the-secret")
        let huge = Data(repeating: UInt8(ascii: " "), count: (1 << 20) + 1)
        let malformed = Data("{\"event\": \"issue\", \"action\": \"updated\", \"data\": {\"id\": \"\(marker)\"".utf8)
        let unknownEvent = Deliveries.plane(event: "invoice")
        let unknownModel = Deliveries.odoo(deliveryID: "d-model", model: "hr.employee", recordID: 1)
        var noDeliveryID = plane(good)
        noDeliveryID["X-Plane-Delivery"] = nil

        let cases: [(String, String, [String: String], Data, Int, String)] = [
            ("missing signature", url, unsigned, good, 401, "missing_signature"),
            ("wrong signature", url, wrongSecret, good, 401, "bad_signature"),
            ("over 1 MiB", url, plane(huge), huge, 413, "too_large"),
            ("malformed JSON", url, plane(malformed), malformed, 400, "malformed_json"),
            ("unknown Plane event", url, plane(unknownEvent, event: "invoice"), unknownEvent, 400, "unknown_event"),
            ("unknown Odoo model", serve.base + "/webhooks/odoo", Deliveries.odooHeaders(unknownModel, deliveryID: "d-model"), unknownModel, 400, "unknown_event"),
            ("no delivery id", url, noDeliveryID, good, 400, "missing_delivery_id"),
        ]
        for (name, target, headers, body, status, reason) in cases {
            let answer = try await HTTP.send("POST", target, headers: headers, body: body)
            #expect(answer.status == status, "\(name): \(answer.status) \(answer.text)")
            #expect(answer.json["reason"]?.stringValue == reason, "\(name): \(answer.text)")
        }
        // Accepted once, then a replay: 200 both times, one row.
        let id = UUID().uuidString
        for expected in ["stored", "duplicate"] {
            let answer = try await HTTP.send("POST", url, headers: plane(good, id: id), body: good)
            #expect(answer.status == 200 && answer.json["status"]?.stringValue == expected, "\(answer.text)")
        }
        // Status and sync want the bearer token.
        let status = serve.base + "/?action=status"
        #expect(try await HTTP.send("GET", status).status == 401)
        #expect(try await HTTP.send("GET", status, headers: ["Authorization": "Bearer wrong-token-0000000000"]).status == 401)
        let doc = try await HTTP.send("GET", status, headers: ["Authorization": "Bearer \(ServeProcess.token)"])
        #expect(doc.status == 200, "\(doc.text)")
        #expect(doc.json["leads"]?["total"]?.intValue != nil)
        #expect(doc.json["webhook_deliveries"]?["plane"]?["received"] != nil || doc.json["webhook_deliveries"]?["plane"]?["processed"] != nil, "\(doc.text)")
        #expect(try await HTTP.send("POST", serve.base + "/?action=sync").status == 401)
        let sync = try await HTTP.send("POST", serve.base + "/?action=sync", headers: ["Authorization": "Bearer \(ServeProcess.token)"])
        #expect(sync.status == 200, "\(sync.text)")
        #expect(sync.json["ok"] == .bool(true), "\(sync.text)")
        #expect(sync.json["details"]?["pull"]?["models"]?["crm.lead"] != nil, "\(sync.text)")
        #expect(try h.mirrorLeads().count == (try h.emulatorLeads().filter { $0.value.1 }.count + h.emulatorLeads().filter { !$0.value.1 }.count))

        let stopped = await serve.stop()
        #expect(stopped.status == 0, "\(stopped.output)")
        let rows = try h.query { db in
            try Row.fetchAll(db, sql: "SELECT json_extract(metadata, '$.reason'), json_extract(metadata, '$.status'), message, metadata FROM events WHERE event_type = 'webhook_rejected'")
        }
        let reasons = rows.map { $0[0] as String? ?? "" }
        for (name, _, _, _, status, reason) in cases {
            #expect(rows.contains { $0[0] == reason && $0[1] == status }, "\(name) has no events row: \(reasons)")
        }
        #expect(reasons.filter { ["missing_token", "bad_token"].contains($0) }.count == 3, "\(reasons)")
        let stored = try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE delivery_id = ?", arguments: [id]) }
        #expect(stored == 1)
        // Neither bodies nor secrets reach the events, the log or the mirror's other text.
        let everything = try h.query { db in
            try String.fetchAll(db, sql: "SELECT message || ' ' || metadata || ' ' || context FROM events").joined(separator: "\n")
        }
        for secret in [ServeProcess.planeSecret, ServeProcess.odooSecret, ServeProcess.token, EmulatorHarness.apiKey] {
            #expect(!everything.contains(secret))
            #expect(!stopped.output.contains(secret))
        }
        #expect(!everything.contains(marker))
        #expect(!stopped.output.contains(marker))
        #expect(stopped.stderr.contains("http.status=413") && stopped.stderr.contains("http.path=/webhooks/plane"), "the request log")
    }

    @Test func twoHundredConcurrentDeliveriesAreEachStoredExactlyOnce() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let leads = try h.emulatorLeads().keys.sorted()
        let serve = try await ServeProcess.start(h)

        struct Send: Sendable { let url: String; let headers: [String: String]; let body: Data; let id: String }
        var sends: [Send] = []
        for i in 0..<200 {
            let id = "concurrent-\(i)-\(UUID().uuidString)"
            if i % 2 == 0 {
                let body = Deliveries.plane(issueID: UUID().uuidString.lowercased(), padTo: 2048)
                sends.append(Send(url: serve.base + "/webhooks/plane", headers: Deliveries.planeHeaders(body, deliveryID: id), body: body, id: id))
            } else {
                let body = Deliveries.odoo(deliveryID: id, recordID: leads[i % leads.count])
                sends.append(Send(url: serve.base + "/?source=odoo", headers: Deliveries.odooHeaders(body, deliveryID: id), body: body, id: id))
            }
        }
        // Fifty of them sent twice, racing their own first copy.
        let all = sends + sends.prefix(50)
        let answers = try await withThrowingTaskGroup(of: (String, Int, String).self) { group in
            for send in all {
                group.addTask {
                    let answer = try await HTTP.send("POST", send.url, headers: send.headers, body: send.body)
                    return (send.id, answer.status, answer.json["status"]?.stringValue ?? answer.text)
                }
            }
            var out: [(String, Int, String)] = []
            for try await answer in group { out.append(answer) }
            return out
        }
        #expect(answers.count == 250)
        #expect(answers.allSatisfy { $0.1 == 200 }, "\(answers.filter { $0.1 != 200 }.prefix(5))")
        #expect(answers.filter { $0.2 == "stored" }.count == 200, "each id stored once, whichever copy came first")
        #expect(answers.filter { $0.2 == "duplicate" }.count == 50)
        let rows = try h.query { db in
            try Row.fetchAll(db, sql: "SELECT delivery_id, count(*) FROM webhook_deliveries GROUP BY delivery_id").map { ($0[0] as String, $0[1] as Int) }
        }
        #expect(rows.count == 200)
        #expect(rows.allSatisfy { $0.1 == 1 })
        #expect(Set(rows.map(\.0)) == Set(sends.map(\.id)), "none lost")
        try await waitUntil("all 200 are processed") {
            try h.query { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed'") } == 200
        }
        let processedEvents = try h.query { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM events, json_each(events.metadata, '$.delivery_ids') WHERE event_type = 'webhook_processed'")
        }
        #expect(processedEvents == 200)
        // Ctrl-C stops it as cleanly as SIGTERM.
        let stopped = await serve.stop(SIGINT)
        #expect(stopped.status == 0, "\(stopped.output)")
    }

    @Test func startupProblemsAreConfigurationErrorsThatNameTheFix() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        var noSecrets = ServeProcess.defaultEnvironment(h)
        noSecrets["PLANE_WEBHOOK_SECRET"] = nil
        noSecrets["ODOO_WEBHOOK_SECRET"] = nil
        let none = try await CLI.run(["serve", "--port", "0"], environment: noSecrets, in: h.directory)
        #expect(none.status == 2 && none.stderr.contains("PLANE_WEBHOOK_SECRET"), "\(none.output)")

        let badURL = "ftp://hooks.example/services/T0/B0/secretALERTtoken"
        let bad = try await CLI.run(["serve", "--port", "0"], environment: ServeProcess.defaultEnvironment(h, extra: ["ODOOSYNC_ALERT_WEBHOOK_URL": badURL]),
                                    in: h.directory)
        #expect(bad.status == 2 && bad.stderr.contains("ODOOSYNC_ALERT_WEBHOOK_URL"), "\(bad.output)")
        #expect(!bad.output.contains("secretALERTtoken"))

        // A Plane setting given but incomplete stops serve before it listens, naming what is missing;
        // with no Plane setting at all it is an Odoo-only server that says Plane deliveries bring nothing.
        let halfPlane = try await CLI.run(["serve", "--port", "0"], environment: ServeProcess.defaultEnvironment(h, extra: [
            "PLANE_API_URL": "http://127.0.0.1:9", "PLANE_WORKSPACE_SLUG": "acme"]), in: h.directory)
        #expect(halfPlane.status == 2 && halfPlane.stderr.contains("PLANE_API_KEY"), "\(halfPlane.output)")
        #expect(!halfPlane.output.contains("listening on"))
        let badSlug = try await CLI.run(["serve", "--port", "0"], environment: ServeProcess.defaultEnvironment(h, extra: [
            "PLANE_API_URL": "http://127.0.0.1:9", "PLANE_API_KEY": "plane_api_0123456789", "PLANE_WORKSPACE_SLUG": "acme/team"]),
                                        in: h.directory)
        #expect(badSlug.status == 2 && badSlug.stderr.contains("PLANE_WORKSPACE_SLUG"), "\(badSlug.output)")
        let odooOnly = await (try ServeProcess.start(h)).stop()
        #expect(odooOnly.status == 0 && odooOnly.stderr.contains("Plane deliveries will be stored but bring nothing across"), "\(odooOnly.output)")

        // The emulator already holds this port.
        let taken = try await CLI.run(["serve", "--port", String(h.port)], environment: ServeProcess.defaultEnvironment(h), in: h.directory)
        #expect(taken.status == 2 && taken.stderr.contains("Cannot listen on 127.0.0.1:\(h.port)"), "\(taken.output)")
    }
}
