import Foundation
import GRDB
import Testing
@testable import OdooSyncCore
@testable import OdooSyncEngine

/// Every column and metadata key of every projected lead, checked against the emulator's copy
/// of its crm.lead record, through the real binary.
@Suite(.serialized) struct LeadProjectionTests {
    /// reference/stage-map.md, the default map.
    static let stageMap: [String: String] = [
        "New": "new", "Telephonic Enquiries": "telephonic_enquiries", "Qualified": "qualified", "RFI": "rfi",
        "Addendums": "addendums", "Estimation-Ben": "estimation_ben", "Estimation-Karthick(Mavericks)": "estimation_karthick",
        "QC - Ben": "qc_ben", "Hot Enquiries": "hot_enquiries", "Quotation Priority": "quotation_priority",
        "Quotation Bids": "quotation_bids", "Shop Drawing": "shop_drawing", "Shop Drawing Sent for Approval": "shop_drawing_approval",
        "Fabrication In Shop": "shop_drawing", "Delivered/Pickup Done": "won", "Ready To Dispatch/Pickup": "won", "Won": "won",
        "Loss": "lost", "Merged": "lost", "No rebars(Our of Scope)": "lost",
    ]
    /// The reference's default priority map.
    static let priorities = ["3": "high", "2": "high", "1": "medium", "0": "low"]

    @Test func everyLeadRowFollowsItsOdooRecord() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let pull = try await h.run(["pull", "odoo"])
        #expect(pull.status == 0, "\(pull.output)")

        let records = try #require(JSONSerialization.jsonObject(with: h.emulator.recordsJSON(model: "crm.lead")) as? [[String: Any]])
        #expect(records.count > 300)
        var escaped = 0, html = 0, withContact = 0
        for record in records {
            let id = try #require(record["id"] as? Int)
            let row = try #require(try h.query { db in
                try Row.fetchOne(db, sql: """
                    SELECT l.*, c.odoo_partner_id AS customer_partner, c.name AS customer_name,
                           ct.first_name, ct.last_name, ct.email AS contact_email, ct.phone AS contact_phone
                    FROM leads l LEFT JOIN customers c ON c.id = l.customer_id LEFT JOIN contacts ct ON ct.id = l.contact_id
                    WHERE l.odoo_id = ?
                    """, arguments: [id])
            }, "lead \(id) was not projected")
            let text = { (key: String) in record[key] as? String }  // Odoo's false becomes nil
            let pair = { (key: String) -> (Int, String)? in
                guard let value = record[key] as? [Any], value.count == 2, let id = value[0] as? Int, let name = value[1] as? String
                else { return nil }
                return (id, name)
            }
            let stage = try #require(pair("stage_id"))
            let name = text("name") ?? ""
            if name.unicodeScalars.contains(where: { !$0.isASCII }) { escaped += 1 }

            #expect(row["title"] == name, "lead \(id)")
            #expect(row["stage"] == Self.stageMap[stage.1], "lead \(id): stage \(stage.1)")
            #expect(row["odoo_stage"] == stage.1)
            #expect(row["source"] == "odoo_sync")
            #expect(row["source_email_id"] == "odoo_crm_\(id)")
            #expect(row["priority"] == Self.priorities[text("priority") ?? "0"], "lead \(id)")
            #expect(row["expected_close_date"] == text("date_deadline"))
            #expect(row["probability"] == (record["probability"] as? Double))
            #expect(row["expected_value"] == (record["expected_revenue"] as? Double))
            let created: String? = text("create_date").map { $0.replacingOccurrences(of: " ", with: "T") + ".000Z" }
            #expect(row["created_at"] == created)
            #expect(row["salesperson"] == pair("user_id")?.1)
            #expect(row["lead_type"] == text("type"))
            #expect(row["active"] == ((record["active"] as? Bool) ?? true))
            #expect(row["odoo_partner_id"] == pair("partner_id")?.0)
            let tags = (record["tag_ids"] as? [Int]) ?? []
            let tagsText = "[" + tags.map(String.init).joined(separator: ",") + "]"
            #expect(row["tags"] == tagsText)

            let description = text("description") ?? ""
            if description.contains("<") { html += 1 }
            #expect(row["description"] == Self.plainText(description), "lead \(id): \(description)")

            // The reference's metadata keys, valued as Odoo sent them.
            let metadataText: String = try #require(row["metadata"])
            let metadata = try #require(JSONSerialization.jsonObject(with: Data(metadataText.utf8)) as? [String: Any])
            #expect(metadata["odoo_id"] as? Int == id)
            #expect(metadata["odoo_stage"] as? String == stage.1)
            #expect(metadata["odoo_probability"] as? Double == record["probability"] as? Double)
            #expect(metadata["odoo_revenue"] as? Double == record["expected_revenue"] as? Double)
            #expect(metadata["odoo_salesperson"] as? String == pair("user_id")?.1)
            #expect(metadata["odoo_contact"] as? String == text("contact_name"))
            #expect(metadata["odoo_email"] as? String == text("email_from"))
            #expect(metadata["odoo_phone"] as? String == text("phone"))
            #expect(metadata["odoo_type"] as? String == text("type"))
            let priorityKey = text("priority") ?? "0"
            #expect(metadata["odoo_priority"] as? String == priorityKey)
            #expect(metadata["odoo_write_date"] as? String == text("write_date"))
            #expect(metadata["synced_at"] as? String == row["synced_at"])

            // The customer is the partner's commercial entity, else one named after partner_name.
            if let partner = pair("partner_id") {
                let commercial = try h.emulatorRecord("res.partner", partner.0).flatMap { $0["commercial_partner_id"] as? [Any] }
                let customerPartner: Int = (commercial?.first as? Int) ?? partner.0
                #expect(row["customer_partner"] == customerPartner, "lead \(id)")
            } else if let company = text("partner_name"), !company.isEmpty {
                #expect((row["customer_name"] as String?)?.lowercased() == company.lowercased(), "lead \(id)")
            }
            // The contact, by email within the customer; its name split at the first space.
            if row["customer_id"] != nil as String?, let email = text("email_from") {
                withContact += 1
                #expect((row["contact_email"] as String?)?.lowercased() == email.lowercased(), "lead \(id)")
                if let contact = text("contact_name"), let space = contact.firstIndex(of: " ") {
                    #expect(row["first_name"] == String(contact[..<space]), "lead \(id)")
                }
            }
        }
        // The fixtures exercise what the projection must get right.
        #expect(escaped > 0 && html > 0 && withContact > 0, "escaped \(escaped), html \(html), contacts \(withContact)")
    }

    /// Only the fields the mirror uses are asked for (design: "Only the fields that are used are
    /// requested"), and the benchmark's baseline script asks for the same ones.
    @Test func theSnapshotHoldsTheFieldsThePullAsksForAndTheBaselineAsksTheSame() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        let pull = try await h.run(["pull", "odoo"])
        #expect(pull.status == 0, "\(pull.output)")
        let snapshots = try h.query { db in
            try String.fetchAll(db, sql: "SELECT data FROM odoo_records WHERE model = 'crm.lead'")
        }
        #expect(!snapshots.isEmpty)
        for data in snapshots {
            let keys = try #require(JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]).keys
            #expect(Set(keys) == Set(LeadFields.all))
        }
        let script = try String(contentsOf: TestPaths.repoRoot.appendingPathComponent("scripts/bench_pull_odoorpc.py"), encoding: .utf8)
        let list = try #require(script.range(of: #"FIELDS = \[[^\]]*\]"#, options: .regularExpression).map { String(script[$0]) })
        let names = list.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(names == LeadFields.all)
    }

    /// Odoo's html as the ERP's plain text, written here independently of `HTMLText`.
    static func plainText(_ html: String) -> String? {
        var text = html
        for block in ["<br>", "<br/>", "</p>", "</div>", "</li>"] { text = text.replacingOccurrences(of: block, with: "\n") }
        text = text.replacingOccurrences(of: "<[^>]*>", with: "", options: .regularExpression)
        for (entity, character) in [("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")] {
            text = text.replacingOccurrences(of: entity, with: character)
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// A lead moved to another partner in Odoo follows it: customer and partner columns, and
    /// the customer index that finds leads by customer.
    @Test func aLeadMovedToAnotherPartnerFollowsItsCustomer() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let links = try h.query { db in
            try Row.fetchAll(db, sql: """
                SELECT l.odoo_id, l.odoo_partner_id, c.odoo_partner_id AS commercial FROM leads l JOIN customers c ON c.id = l.customer_id
                WHERE l.odoo_partner_id IS NOT NULL ORDER BY l.odoo_id
                """).map { (lead: $0["odoo_id"] as Int, partner: $0["odoo_partner_id"] as Int, commercial: $0["commercial"] as Int) }
        }
        let moved = try #require(links.first)
        let target = try #require(links.first { $0.commercial != moved.commercial })
        let partnerName = try #require(try h.emulatorRecord("res.partner", target.partner)?["name"] as? String)
        let unlinked = try #require(links.first { $0.lead != moved.lead && $0.commercial != target.commercial })
        #expect(h.emulator.modify(model: "crm.lead", id: moved.lead, values: ["partner_id": .array([.int(target.partner), .string(partnerName)])]))
        #expect(h.emulator.modify(model: "crm.lead", id: unlinked.lead, values: ["partner_id": .bool(false), "partner_name": .bool(false)]))

        let pull = try await h.run(["pull", "odoo", "--json"])
        #expect(pull.status == 0, "\(pull.output)")
        let after = try h.query { db in
            (try Row.fetchOne(db, sql: """
                SELECT l.odoo_partner_id, c.odoo_partner_id AS commercial FROM leads l JOIN customers c ON c.id = l.customer_id WHERE l.odoo_id = ?
                """, arguments: [moved.lead]),
             try Row.fetchOne(db, sql: "SELECT odoo_partner_id, customer_id FROM leads WHERE odoo_id = ?", arguments: [unlinked.lead]),
             try Int.fetchOne(db, sql: """
                SELECT count(*) FROM leads INDEXED BY leads_customer
                WHERE customer_id = (SELECT id FROM customers WHERE odoo_partner_id = ?) AND odoo_id = ?
                """, arguments: [target.commercial, moved.lead]))
        }
        #expect(after.0?["odoo_partner_id"] == target.partner)
        #expect(after.0?["commercial"] == target.commercial)
        #expect(after.1?["odoo_partner_id"] == nil as Int?)
        #expect(after.1?["customer_id"] == nil as String?)
        #expect(after.2 == 1)
    }

    /// A lead whose row is gone from the mirror while its snapshot stays (removed by hand) is
    /// made again when Odoo changes it.
    @Test func aChangedLeadWhoseRowWasRemovedComesBack() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let id = try #require(try h.emulatorLeads().keys.sorted().first)
        let queue = try DatabaseQueue(path: h.dbPath)
        try await queue.write { db in try db.execute(sql: "DELETE FROM leads WHERE odoo_id = ?", arguments: [id]) }
        try queue.close()
        #expect(h.emulator.modify(model: "crm.lead", id: id, values: ["probability": .double(61)]))
        let pull = try await h.run(["pull", "odoo", "--json"])
        #expect(pull.status == 0, "\(pull.output)")
        #expect(try JSONValue.parse(pull.stdout)["models"]?["crm.lead"]?["updated"]?.intValue == 1)
        let row = try h.query { db in
            try Row.fetchOne(db, sql: "SELECT probability, source_email_id, customer_id FROM leads WHERE odoo_id = ?", arguments: [id])
        }
        #expect(row?["probability"] == 61.0)
        #expect(row?["source_email_id"] == "odoo_crm_\(id)")
    }

    /// A lead that changes in what is not its contact (here its probability) leaves the contact
    /// it shares with another lead as the latest change made it: it is neither looked up again
    /// nor rewritten with the phone this lead had before.
    @Test func aLeadChangedElsewhereLeavesItsSharedContactAlone() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let pair = try #require(try h.query { db in
            try Row.fetchOne(db, sql: """
                SELECT a.odoo_id, b.odoo_id FROM leads a JOIN leads b ON b.customer_id = a.customer_id AND b.odoo_id > a.odoo_id
                WHERE a.customer_id IS NOT NULL ORDER BY a.odoo_id LIMIT 1
                """)
        })
        let (first, second): (Int, Int) = (pair[0], pair[1])
        let email = "shared.contact@example.com"
        for id in [first, second] {
            #expect(h.emulator.modify(model: "crm.lead", id: id, values: ["email_from": .string(email), "phone": .string("+1 555 0100")]))
        }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        func contacts() throws -> [String?] {
            try h.query { db in
                try String?.fetchAll(db, sql: "SELECT contact_id FROM leads WHERE odoo_id IN (?, ?) ORDER BY odoo_id", arguments: [first, second])
            }
        }
        let shared = try contacts()
        #expect(shared.count == 2 && shared[0] != nil && shared[0] == shared[1], "\(shared)")
        func phone() throws -> String? {
            try h.query { db in try String.fetchOne(db, sql: "SELECT phone FROM contacts WHERE id = ?", arguments: [shared[0]]) }
        }
        #expect(try phone() == "+1 555 0100")

        #expect(h.emulator.modify(model: "crm.lead", id: second, values: ["phone": .string("+1 555 0199")]))
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        #expect(try phone() == "+1 555 0199")

        #expect(h.emulator.modify(model: "crm.lead", id: first, values: ["probability": .double(33)]))
        let pull = try await h.run(["pull", "odoo", "--json"])
        #expect(pull.status == 0, "\(pull.output)")
        #expect(try JSONValue.parse(pull.stdout)["models"]?["crm.lead"]?["updated"]?.intValue == 1)
        #expect(try h.query { db in try Double.fetchOne(db, sql: "SELECT probability FROM leads WHERE odoo_id = ?", arguments: [first]) } == 33)
        #expect(try contacts() == shared)
        #expect(try phone() == "+1 555 0199", "the other lead's newer phone must stay")

        // A change of the contact itself is still followed.
        #expect(h.emulator.modify(model: "crm.lead", id: first, values: ["email_from": .string("moved.on@example.com")]))
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let moved = try contacts()
        #expect(moved[0] != shared[0] && moved[1] == shared[1], "\(moved)")
        #expect(try h.query { db in try String.fetchOne(db, sql: "SELECT email FROM contacts WHERE id = ?", arguments: [moved[0]]) }
                == "moved.on@example.com")
    }

    /// A lead keeps its contact only while that contact is still there and its customer's:
    /// one that now belongs to another customer, or was deleted behind the foreign keys, is
    /// looked up again, and the lead gets a contact of its own customer.
    @Test func aKeptContactMustStillBeTheCustomers() async throws {
        let h = try await EmulatorHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.run(["pull", "odoo"]).status == 0)
        let rows = try h.query { db in
            try Row.fetchAll(db, sql: """
                SELECT l.odoo_id, l.contact_id, l.customer_id FROM leads l
                WHERE l.contact_id IS NOT NULL AND l.customer_id IS NOT NULL
                  AND (SELECT count(*) FROM leads o WHERE o.contact_id = l.contact_id) = 1
                ORDER BY l.odoo_id LIMIT 2
                """).map { (lead: $0[0] as Int, contact: $0[1] as String, customer: $0[2] as String) }
        }
        try #require(rows.count == 2)
        let (moved, dangling) = (rows[0], rows[1])
        let queue = try DatabaseQueue(path: h.dbPath)
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.execute(sql: "UPDATE contacts SET customer_id = ? WHERE id = ?", arguments: [dangling.customer, moved.contact])
            try db.execute(sql: "DELETE FROM contacts WHERE id = ?", arguments: [dangling.contact])
        }
        try queue.close()
        for lead in [moved.lead, dangling.lead] {
            #expect(h.emulator.modify(model: "crm.lead", id: lead, values: ["probability": .double(44)]))
        }
        let pull = try await h.run(["pull", "odoo", "--json"])
        #expect(pull.status == 0, "\(pull.output)")
        #expect(try JSONValue.parse(pull.stdout)["models"]?["crm.lead"]?["errors"]?.intValue == 0, "\(pull.stdout)")
        for (lead, before) in [(moved.lead, moved.contact), (dangling.lead, dangling.contact)] {
            let now = try h.query { db in
                try Row.fetchOne(db, sql: """
                    SELECT l.contact_id, c.customer_id = l.customer_id FROM leads l LEFT JOIN contacts c ON c.id = l.contact_id WHERE l.odoo_id = ?
                    """, arguments: [lead])
            }
            #expect(now?[0] != before as String?, "lead \(lead) kept a contact that is not its customer's")
            #expect(now?[1] == true, "lead \(lead)")
        }
    }
}
