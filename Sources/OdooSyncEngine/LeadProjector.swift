import Foundation
import GRDB
import OdooClient
import OdooSyncCore
import OdooSyncMirror

/// Turns a pulled crm.lead into the ERP's `leads` row (with its customer and contact), as the
/// design and reference/stage-map.md describe. A lead with a local edit not yet pushed is
/// never overwritten: it is skipped, and becomes a conflict when Odoo changed it too.
final class LeadProjector: PageParticipant, @unchecked Sendable {
    typealias F = LeadFields

    private let stageMap: StageMap
    private let priorityMap: [String: String]
    private let companyID: String?
    private let runID: String?
    private let now = Timestamp.iso(Date())
    /// Odoo lead id -> (edit id, the write_date the edit was made against).
    private var openEdits: [Int: (editID: Int, base: String?, status: String)] = [:]
    /// Partner id -> (commercial partner id, its name), from partner snapshots.
    private var commercial: [Int: (Int, String)] = [:]
    private var customerByPartner = TransactionalCache<Int, String>()
    private var customerByName = TransactionalCache<String, String>()
    /// Contact key -> the contact row as last written, so an unchanged contact costs no write.
    private var contactByKey = TransactionalCache<String, ContactRow>()
    /// Customers known to have a primary contact already.
    private var hasPrimaryContact = TransactionalCache<String, Bool>()

    struct ContactRow: Equatable {
        var id: String
        var first: String?
        var last: String?
        var phone: String?
    }
    private(set) var unmappedStages: Set<String> = []
    private(set) var conflicts = 0
    private var unmappedInAttempt: Set<String> = []
    private var conflictsInAttempt = 0

    convenience init(mirror: Mirror, runID: String?) throws {
        try self.init(maps: mirror.read { db in try LeadProjector.Maps(db) }, runID: runID)
    }

    /// For work inside a transaction that is already open.
    convenience init(db: Database, runID: String?) throws {
        try self.init(maps: LeadProjector.Maps(db), runID: runID)
    }

    /// Everything the projection reads from the mirror before it starts.
    struct Maps {
        var stageMap: StageMap
        var priorityMap: [String: String]
        var companyID: String?
        var openEdits: [Int: (editID: Int, base: String?, status: String)] = [:]
        var commercial: [Int: (Int, String)] = [:]

        init(_ db: Database) throws {
            stageMap = StageMap(entries: Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT odoo_stage, stage FROM stage_map")
                .map { ($0[0] as String, $0[1] as String) }))
            priorityMap = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT odoo_priority, priority FROM priority_map")
                .map { ($0[0] as String, $0[1] as String) })
            let company = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'leads.company_id'") ?? ""
            companyID = company.isEmpty ? nil : company
            openEdits = try LeadProjector.openEdits(db, forgetting: [])
            for row in try Row.fetchAll(db, sql: """
                SELECT odoo_id, json_extract(data, '$.commercial_partner_id[0]'), json_extract(data, '$.commercial_partner_id[1]')
                FROM odoo_records WHERE model = 'res.partner' AND json_type(data, '$.commercial_partner_id') = 'array'
                """) {
                commercial[row[0]] = (row[1], row[2])
            }
        }
    }

    init(maps: Maps, runID: String?) {
        self.runID = runID
        stageMap = maps.stageMap
        priorityMap = maps.priorityMap
        companyID = maps.companyID
        openEdits = maps.openEdits
        commercial = maps.commercial
    }

    func beginAttempt(_ db: Database) throws {
        // An edit made with `leads edit` while this pull runs must be protected from the next
        // page on, so the (small) set of open edits is read again in each page's transaction.
        openEdits = try LeadProjector.openEdits(db, forgetting: forgotten)
        // Rows these caches point to may have been rolled back with a failed attempt.
        customerByPartner.rollback()
        customerByName.rollback()
        contactByKey.rollback()
        hasPrimaryContact.rollback()
        unmappedInAttempt.removeAll()
        conflictsInAttempt = 0
    }

    func commit() {
        customerByPartner.commit()
        customerByName.commit()
        contactByKey.commit()
        hasPrimaryContact.commit()
        unmappedStages.formUnion(unmappedInAttempt)
        conflicts += conflictsInAttempt
        unmappedInAttempt.removeAll()
        conflictsInAttempt = 0
    }

    /// A partner's commercial entity, learnt when its record arrives with a lead page.
    func learnCommercial(partnerID: Int, commercialID: Int, name: String) {
        commercial[partnerID] = (commercialID, name)
    }

    /// Lets `push` store the record it just wrote although the edit was open when this began.
    func forget(odooID: Int) {
        forgotten.insert(odooID)
        openEdits[odooID] = nil
    }

    private var forgotten: Set<Int> = []

    /// Odoo stage name as received -> slug. A pull sees a handful of stage names a hundred
    /// thousand times; normalising each one through Foundation cost more than the lead's insert.
    private var slugByName: [String: String?] = [:]

    private func slug(forOdooStage name: String) -> String? {
        if let known = slugByName[name] { return known }
        let slug = stageMap.slug(forOdooStage: name)
        slugByName[name] = .some(slug)
        return slug
    }

    static func openEdits(_ db: Database, forgetting: Set<Int>) throws -> [Int: (editID: Int, base: String?, status: String)] {
        var edits: [Int: (editID: Int, base: String?, status: String)] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT id, odoo_id, base_write_date, status FROM local_edits WHERE status IN ('pending', 'conflict')")) {
            let odooID: Int = row[1]
            if !forgetting.contains(odooID) { edits[odooID] = (row[0], row[2], row[3]) }
        }
        return edits
    }

    func project(_ db: Database, _ view: borrowing RecordView, change: OdooPuller.Change) throws -> OdooPuller.Outcome {
        guard let odooID = view.int(F.id) else { return .failed }
        let writeDate = view.string(F.writeDate)
        if let edit = openEdits[odooID] {
            if edit.base != writeDate {
                try recordConflict(db, odooID: odooID, edit: edit, view: view, remoteWriteDate: writeDate)
            }
            return .skipped
        }

        let stagePair = view.many2one(F.stage)
        var stage: String? = nil
        if let stagePair {
            stage = slug(forOdooStage: stagePair.name)
            if stage == nil && !unmappedStages.contains(stagePair.name) && unmappedInAttempt.insert(stagePair.name).inserted {
                try Mirror.appendEvent(db, runID: runID, level: .warn, type: "unmapped_stage",
                                       message: "Odoo stage \"\(stagePair.name)\" has no pipeline stage; leads in it keep stage NULL until you run `odoosync config set stage \"\(stagePair.name)\" <slug>`",
                                       metadata: ["odoo_stage": .string(stagePair.name), "odoo_stage_id": .int(stagePair.id)])
            }
        }
        let name = view.string(F.name) ?? ""
        let partner = view.many2one(F.partner)
        let partnerName = view.string(F.partnerName)
        let contactName = view.string(F.contactName)
        let email = view.string(F.email)
        let phone = view.string(F.phone)
        let salesperson = view.many2one(F.user)?.name
        let priorityKey = view.string(F.priority) ?? "0"
        let probability = view.double(F.probability)
        let revenue = view.double(F.revenue)
        let type = view.string(F.type)

        let customerID = try customer(db, partner: partner, partnerName: partnerName)
        var contactID: String? = nil
        if let customerID, email != nil || contactName != nil {
            contactID = try contact(db, customerID: customerID, name: contactName, email: email, phone: phone)
        }

        var metadata = "{\"odoo_id\":\(odooID)"
        func add(_ key: String, _ value: String?) {
            metadata += ",\"\(key)\":"
            if let value { JSONValue.writeString(value, to: &metadata) } else { metadata += "null" }
        }
        add("odoo_stage", stagePair?.name)
        metadata += ",\"odoo_probability\":" + (probability.map(JSONValue.format) ?? "null")
        metadata += ",\"odoo_revenue\":" + (revenue.map(JSONValue.format) ?? "null")
        add("odoo_salesperson", salesperson)
        add("odoo_contact", contactName)
        add("odoo_email", email)
        add("odoo_phone", phone)
        add("odoo_type", type)
        add("odoo_priority", priorityKey)
        add("odoo_write_date", writeDate)
        add("synced_at", now)
        metadata += "}"

        let tags = view.intList(F.tags).map { "[" + $0.map(String.init).joined(separator: ",") + "]" } ?? "[]"
        let upsert = try FastStatement(db, change == .created ? LeadProjector.insertSQL : LeadProjector.upsertSQL)
        upsert.bind(1, TimeOrderedID.make())
        upsert.bind(2, name)
        upsert.bind(3, view.string(F.description).flatMap(HTMLText.plain))
        upsert.bind(4, stage)
        upsert.bind(5, "odoo_crm_\(odooID)")
        upsert.bind(6, priorityMap[priorityKey] ?? "low")
        upsert.bind(7, view.string(F.deadline))
        upsert.bind(8, probability)
        upsert.bind(9, revenue)
        upsert.bind(10, customerID)
        upsert.bind(11, contactID)
        upsert.bind(12, metadata)
        upsert.bind(13, companyID)
        upsert.bind(14, view.string(F.createDate).flatMap(Timestamp.isoFromOdoo) ?? now)
        upsert.bind(15, now)
        upsert.bind(16, now)
        upsert.bind(17, odooID)
        upsert.bind(18, stagePair?.name)
        upsert.bind(19, partner?.id)
        upsert.bind(20, salesperson)
        upsert.bind(21, type)
        upsert.bind(22, (view.bool(F.active) ?? true) ? 1 : 0)
        upsert.bind(23, tags)
        try upsert.step()
        upsert.reset()
        return .stored
    }

    static let columns = """
        INSERT INTO leads (id, title, description, stage, source, source_email_id, priority, expected_close_date,
                           probability, expected_value, customer_id, contact_id, metadata, company_id, created_at,
                           updated_at, synced_at, odoo_id, odoo_stage, odoo_partner_id, salesperson, lead_type,
                           active, deleted_at, tags)
        VALUES (?, ?, ?, ?, 'odoo_sync', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
        """
    /// A new lead: a plain INSERT, which SQLite runs without a statement journal.
    static let insertSQL = columns
    static let upsertSQL = columns + """
         ON CONFLICT (odoo_id) DO UPDATE SET
            title = excluded.title, description = excluded.description, stage = excluded.stage,
            source = excluded.source, priority = excluded.priority,
            expected_close_date = excluded.expected_close_date, probability = excluded.probability,
            expected_value = excluded.expected_value, customer_id = excluded.customer_id,
            contact_id = excluded.contact_id, metadata = excluded.metadata,
            company_id = coalesce(excluded.company_id, leads.company_id), created_at = excluded.created_at,
            updated_at = excluded.updated_at, synced_at = excluded.synced_at, odoo_stage = excluded.odoo_stage,
            odoo_partner_id = excluded.odoo_partner_id, salesperson = excluded.salesperson,
            lead_type = excluded.lead_type, active = excluded.active, deleted_at = NULL, tags = excluded.tags
        """

    /// The customer of a lead: its partner's commercial entity when Odoo has one, else a
    /// customer by the lead's company name.
    private func customer(_ db: Database, partner: (id: Int, name: String)?, partnerName: String?) throws -> String? {
        if let partner {
            let (key, name) = commercial[partner.id] ?? (partner.id, partnerName ?? partner.name)
            if let id = customerByPartner[key] { return id }
            let id = try Customers.upsert(db, odooPartnerID: key, name: name, now: now)
            customerByPartner[key] = id
            return id
        }
        guard let partnerName, !partnerName.isEmpty else { return nil }
        let cacheKey = partnerName.lowercased()
        if let id = customerByName[cacheKey] { return id }
        let id: String
        if let existing = try String.fetchOne(db.cachedStatement(sql: "SELECT id FROM customers WHERE odoo_partner_id IS NULL AND lower(name) = lower(?)"),
                                              arguments: [partnerName]) {
            id = existing
        } else {
            id = TimeOrderedID.make()
            try db.cachedStatement(sql: "INSERT INTO customers (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)").execute(arguments: [id, partnerName, now, now])
        }
        customerByName[cacheKey] = id
        return id
    }

    /// Contacts are found by email within the customer (by name when there is no email).
    private func contact(_ db: Database, customerID: String, name: String?, email: String?, phone: String?) throws -> String? {
        let key = customerID + "|" + (email?.lowercased() ?? "name:" + (name ?? "").lowercased())
        let (first, last) = Contacts.split(name ?? "")
        if let cached = contactByKey[key] {
            let wanted = ContactRow(id: cached.id, first: first ?? cached.first, last: last ?? cached.last, phone: phone ?? cached.phone)
            if wanted != cached {
                try db.cachedStatement(sql: "UPDATE contacts SET first_name = ?, last_name = ?, phone = ?, updated_at = ? WHERE id = ?")
                    .execute(arguments: [wanted.first, wanted.last, wanted.phone, now, cached.id])
                contactByKey[key] = wanted
            }
            return cached.id
        }
        let existing: Row?
        if let email {
            existing = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT id, first_name, last_name, phone FROM contacts
                WHERE customer_id = ? AND lower(email) = lower(?) AND email IS NOT NULL
                """), arguments: [customerID, email])
        } else {
            existing = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT id, first_name, last_name, phone FROM contacts WHERE customer_id = ? AND email IS NULL
                  AND coalesce(first_name, '') = ? AND coalesce(last_name, '') = ?
                """), arguments: [customerID, first ?? "", last ?? ""])
        }
        if let existing {
            contactByKey[key] = ContactRow(id: existing[0], first: existing[1], last: existing[2], phone: existing[3])
            return try contact(db, customerID: customerID, name: name, email: email, phone: phone)
        }
        let id = TimeOrderedID.make()
        let hasPrimary = try hasPrimaryContact[customerID]
            ?? Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM contacts WHERE customer_id = ? AND is_primary = 1)"),
                             arguments: [customerID]) ?? false
        hasPrimaryContact[customerID] = true
        try db.cachedStatement(sql: """
            INSERT INTO contacts (id, customer_id, first_name, last_name, email, phone, is_primary, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [id, customerID, first, last, email, phone, !hasPrimary, now, now])
        contactByKey[key] = ContactRow(id: id, first: first, last: last, phone: phone)
        return id
    }

    private func recordConflict(_ db: Database, odooID: Int, edit: (editID: Int, base: String?, status: String),
                                view: borrowing RecordView, remoteWriteDate: String?) throws {
        let leadID = try String.fetchOne(db.cachedStatement(sql: "SELECT id FROM leads WHERE odoo_id = ?"), arguments: [odooID]) ?? ""
        let local = try String.fetchOne(db.cachedStatement(sql: "SELECT changes FROM local_edits WHERE id = ?"), arguments: [edit.editID]) ?? "{}"
        let remote = String(decoding: view.rawBytes, as: UTF8.self)
        let inserted = try Conflicts.open(db, leadID: leadID, editID: edit.editID, odooID: odooID, localChanges: local,
                                          remoteData: remote, baseWriteDate: edit.base, remoteWriteDate: remoteWriteDate,
                                          runID: runID)
        if inserted { conflictsInAttempt += 1 }
        openEdits[odooID] = (edit.editID, edit.base, "conflict")
    }
}

enum Customers {
    static func upsert(_ db: Database, odooPartnerID: Int, name: String, now: String) throws -> String {
        if let id = try String.fetchOne(db.cachedStatement(sql: "SELECT id FROM customers WHERE odoo_partner_id = ?"), arguments: [odooPartnerID]) {
            try db.cachedStatement(sql: "UPDATE customers SET name = ?, updated_at = ? WHERE id = ? AND name IS NOT ?").execute(arguments: [name, now, id, name])
            return id
        }
        let id = TimeOrderedID.make()
        try db.cachedStatement(sql: "INSERT INTO customers (id, name, odoo_partner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)").execute(arguments: [id, name, odooPartnerID, now, now])
        return id
    }
}

enum Contacts {
    /// "Jacques Dunagan" -> ("Jacques", "Dunagan"); a single word is a first name.
    static func split(_ name: String) -> (String?, String?) {
        let parts = name.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = parts.first else { return (nil, nil) }
        let rest = parts.dropFirst().joined(separator: " ")
        return (String(first), rest.isEmpty ? nil : rest)
    }
}

enum Conflicts {
    /// Opens a conflict for a lead unless one is open already; marks the edit as conflicting.
    @discardableResult
    static func open(_ db: Database, leadID: String, editID: Int, odooID: Int, localChanges: String, remoteData: String,
                     baseWriteDate: String?, remoteWriteDate: String?, runID: String?) throws -> Bool {
        let now = Timestamp.iso(Date())
        try db.cachedStatement(sql: "UPDATE local_edits SET status = 'conflict', updated_at = ? WHERE id = ?").execute(arguments: [now, editID])
        try db.cachedStatement(sql: """
            INSERT INTO conflicts (entity, entity_id, edit_id, odoo_model, odoo_id, local_data, remote_data, base_write_date,
                                   remote_write_date, created_at)
            VALUES ('lead', ?, ?, 'crm.lead', ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET remote_data = excluded.remote_data, remote_write_date = excluded.remote_write_date
            """).execute(arguments: [leadID, editID, odooID, localChanges, remoteData, baseWriteDate, remoteWriteDate, now])
        let inserted = db.changesCount > 0
        try Mirror.appendEvent(db, runID: runID, level: .warn, type: "conflict",
                               message: "lead odoo_crm_\(odooID) was changed in Odoo and locally; settle it with `odoosync conflicts resolve`",
                               metadata: ["odoo_id": .int(odooID), "base_write_date": baseWriteDate.map(JSONValue.string) ?? .null,
                                          "remote_write_date": remoteWriteDate.map(JSONValue.string) ?? .null])
        return inserted
    }
}

/// Odoo's html fields as plain text for the ERP's `description` column: tags dropped, block
/// ends turned into line breaks, the common entities decoded. One pass, no regular expressions
/// (it runs for every pulled lead).
enum HTMLText {
    static func plain(_ html: String) -> String? {
        if html.isEmpty { return nil }
        guard html.utf8.contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: "&") }) else {
            return trimmedOrNil(html)
        }
        var out = ""
        out.reserveCapacity(html.utf8.count)
        var tag = ""
        var inTag = false
        var entity = ""
        var inEntity = false
        for c in html {
            if inTag {
                if c == ">" {
                    inTag = false
                    let name = tag.lowercased().split(separator: " ").first.map(String.init) ?? ""
                    if ["br", "br/", "/p", "/div", "/li", "/h1", "/h2", "/h3", "/tr"].contains(name) { out.append("\n") }
                    tag = ""
                } else {
                    tag.append(c)
                }
                continue
            }
            if inEntity {
                if c == ";" {
                    inEntity = false
                    switch entity {
                    case "nbsp": out.append(" ")
                    case "lt": out.append("<")
                    case "gt": out.append(">")
                    case "quot": out.append("\"")
                    case "#39", "apos": out.append("'")
                    case "amp": out.append("&")
                    default: out.append("&" + entity + ";")
                    }
                    entity = ""
                } else if entity.count < 8 {
                    entity.append(c)
                } else {
                    inEntity = false
                    out.append("&" + entity)
                    out.append(c)
                    entity = ""
                }
                continue
            }
            if c == "<" { inTag = true } else if c == "&" { inEntity = true } else { out.append(c) }
        }
        if inEntity { out.append("&" + entity) }
        return trimmedOrNil(out)
    }

    /// The text without leading and trailing whitespace (Unicode's, as Foundation's
    /// `.whitespacesAndNewlines`), nil when nothing is left. Scans scalars from both ends
    /// instead of going through NSString, which dominated the pull's profile.
    static func trimmedOrNil(_ text: String) -> String? {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return nil }
        guard let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return nil }
        if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return text }
        return String(scalars[first...last])
    }
}
