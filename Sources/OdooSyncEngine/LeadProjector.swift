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

    private let companyID: String?
    private let runID: String?
    private let now: String
    /// Everything of the projection that needs no database; pages are prepared with it on
    /// their download task (`prepared`), other records here.
    let preparer: LeadPreparer
    /// The page being applied, prepared, and how far its rows have been used.
    private var prepared: LeadBatch?
    private var preparedNext = 0
    /// Odoo lead id -> (edit id, the write_date the edit was made against).
    private var openEdits: [Int: (editID: Int, base: String?, status: String)] = [:]
    /// Partner id -> (commercial partner id, its name), from partner snapshots.
    private var commercial: [Int: (Int, String)] = [:]
    private var customerByPartner = TransactionalCache<Int, String>()
    private var customerByName = TransactionalCache<String, String>()
    /// Contact key -> the contact row as last written, so an unchanged contact costs no write.
    private var contactByKey = TransactionalCache<ContactKey, ContactRow>()
    /// Customers known to have a primary contact already.
    private var hasPrimaryContact = TransactionalCache<String, Bool>()
    /// True while every contact in the mirror is one this projector wrote and still has in
    /// `contactByKey` (a first pull starts from an empty table): a key not in the cache is then
    /// a new contact, with no lookup. Anything else that could have written contacts ends it:
    /// a row it did not insert (the table's largest rowid moved), a cache that had to forget,
    /// a partner fold.
    private var contactsComplete: Bool
    private var contactsLargestRowID: Int64
    /// `PRAGMA data_version` when the mirror was last seen: it moves when another connection
    /// commits, whatever it changed.
    private var dataVersion: Int64

    struct ContactKey: Hashable {
        var customerID: String
        /// `LeadRow.contactKey`.
        var contact: String
    }

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
        /// nil while the table holds no contact.
        var contactsLargestRowID: Int64?
        var dataVersion: Int64 = 0

        init(_ db: Database) throws {
            stageMap = StageMap(entries: Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT odoo_stage, stage FROM stage_map")
                .map { ($0[0] as String, $0[1] as String) }))
            priorityMap = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT odoo_priority, priority FROM priority_map")
                .map { ($0[0] as String, $0[1] as String) })
            let company = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'leads.company_id'") ?? ""
            companyID = company.isEmpty ? nil : company
            openEdits = try LeadProjector.openEdits(db, forgetting: [])
            contactsLargestRowID = try Int64.fetchOne(db, sql: "SELECT max(rowid) FROM contacts")
            dataVersion = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0
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
        let now = Timestamp.iso(Date())
        self.now = now
        preparer = LeadPreparer(stageMap: maps.stageMap, priorityMap: maps.priorityMap, now: now)
        companyID = maps.companyID
        openEdits = maps.openEdits
        commercial = maps.commercial
        contactsComplete = maps.contactsLargestRowID == nil
        contactsLargestRowID = maps.contactsLargestRowID ?? 0
        dataVersion = maps.dataVersion
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
        // Another connection's commit (the run lock keeps other pulls out, not every writer),
        // or this projector's own inserts that a failed attempt rolled back.
        if contactsComplete {
            let version = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0
            let largest = try Int64.fetchOne(db, sql: "SELECT coalesce(max(rowid), 0) FROM contacts") ?? 0
            if version != dataVersion || largest != contactsLargestRowID { contactsComplete = false }
        }
        unmappedInAttempt.removeAll()
        conflictsInAttempt = 0
    }

    func commit() {
        customerByPartner.commit()
        customerByName.commit()
        // Both caches commit; either one forgetting ends the complete view.
        let contactsForgot = contactByKey.commit()
        let primariesForgot = hasPrimaryContact.commit()
        if contactsForgot || primariesForgot { contactsComplete = false }
        unmappedStages.formUnion(unmappedInAttempt)
        conflicts += conflictsInAttempt
        unmappedInAttempt.removeAll()
        conflictsInAttempt = 0
    }

    /// A partner's commercial entity, learnt when its record arrives with a lead page.
    func learnCommercial(partnerID: Int, commercialID: Int, name: String) {
        commercial[partnerID] = (commercialID, name)
    }

    /// Contacts moved or deleted behind the cache's back: look them up from now on.
    func contactsChangedElsewhere() {
        contactsComplete = false
    }

    /// Whether a contact missing from the cache is looked up in the mirror (for tests).
    var looksUpContacts: Bool { !contactsComplete }

    /// Lets `push` store the record it just wrote although the edit was open when this began.
    func forget(odooID: Int) {
        forgotten.insert(odooID)
        openEdits[odooID] = nil
    }

    private var forgotten: Set<Int> = []

    /// The rows of the page about to be applied, prepared on its download task (nil: none).
    func using(_ batch: LeadBatch?) {
        prepared = batch
        preparedNext = 0
    }

    /// The prepared row of lead `odooID`: records are applied in page order, some skipped
    /// (unchanged ones), so the search only moves forward.
    private func preparedRow(_ odooID: Int) -> (LeadBatch, Int)? {
        guard let batch = prepared else { return nil }
        let rows = batch.rows
        while preparedNext < rows.count {
            let index = preparedNext
            preparedNext += 1
            if rows[index].odooID == odooID { return (batch, index) }
        }
        return nil
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
        if let edit = openEdits[odooID] {
            let writeDate = view.string(F.writeDate)
            if edit.base != writeDate {
                try recordConflict(db, odooID: odooID, edit: edit, view: view, remoteWriteDate: writeDate)
            }
            return .skipped
        }
        if let (batch, index) = preparedRow(odooID) {
            return try store(db, batch, index, change: change)
        }
        guard let single = preparer.batch(of: view) else { return .failed }
        return try store(db, single, 0, change: change)
    }

    /// Writes a prepared lead with its customer and contact.
    private func store(_ db: Database, _ batch: LeadBatch, _ index: Int, change: OdooPuller.Change) throws -> OdooPuller.Outcome {
        let row = batch.rows[index]
        if let stage = row.stage, row.slug == nil, !unmappedStages.contains(stage.name),
           unmappedInAttempt.insert(stage.name).inserted {
            try Mirror.appendEvent(db, runID: runID, level: .warn, type: "unmapped_stage",
                                   message: "Odoo stage \"\(stage.name)\" has no pipeline stage; leads in it keep stage NULL until you run `odoosync config set stage \"\(stage.name)\" <slug>`",
                                   metadata: ["odoo_stage": .string(stage.name), "odoo_stage_id": .int(stage.id)])
        }
        let customerID = try customer(db, partner: row.partner, partnerName: row.partnerName)
        var contactID: String? = nil
        if let customerID, row.email != nil || row.contactName != nil {
            if change != .created, let kept = try keptContact(db, customerID: customerID, row: row) {
                contactID = kept
            } else {
                contactID = try contact(db, customerID: customerID, row: row)
            }
        }

        func run(_ sql: String) throws {
            let statement = try FastStatement(db, sql)
            statement.bind(1, TimeOrderedID.make())
            statement.bind(2, static: batch.bytes(row.title))
            statement.bind(3, static: batch.bytes(row.description))
            statement.bind(4, row.slug)
            statement.bind(5, "odoo_crm_\(row.odooID)")
            statement.bind(6, static: batch.bytes(row.priority))
            statement.bind(7, static: batch.bytes(row.deadline))
            statement.bind(8, row.probability)
            statement.bind(9, row.revenue)
            statement.bind(10, customerID)
            statement.bind(11, contactID)
            statement.bind(12, static: batch.bytes(row.metadata))
            statement.bind(13, companyID)
            statement.bind(14, static: batch.bytes(row.createdAt))
            statement.bind(15, now)
            statement.bind(16, now)
            statement.bind(17, row.odooID)
            statement.bind(18, static: batch.bytes(row.stageName))
            statement.bind(19, row.partner?.id)
            statement.bind(20, static: batch.bytes(row.salesperson))
            statement.bind(21, static: batch.bytes(row.type))
            statement.bind(22, row.active ? 1 : 0)
            statement.bind(23, static: batch.bytes(row.tags))
            try statement.step()
            statement.reset()
        }
        if change == .created {
            try run(LeadProjector.insertSQL)
        } else {
            try run(LeadProjector.updateSQL)
            if db.changesCount == 0 {
                // The snapshot was there but the lead was not (removed by hand): make it again.
                try run(LeadProjector.upsertSQL)
            } else {
                try FastStatement(db, LeadProjector.relinkSQL).execute {
                    $0.add(customerID); $0.add(row.partner?.id); $0.add(row.odooID)
                }
            }
        }
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
    /// A changed lead, in two statements (the first with the insert's parameter numbers). SQLite rewrites
    /// the index entry of every indexed column an UPDATE sets, changed or not, so the customer
    /// and partner (both indexed) are set apart, and only when they moved: a scattered update
    /// of 1% of the leads then dirties half as many pages.
    static let updateSQL = """
        UPDATE leads SET title = ?2, description = ?3, stage = ?4, source = 'odoo_sync', priority = ?6,
            expected_close_date = ?7, probability = ?8, expected_value = ?9, contact_id = ?11, metadata = ?12,
            company_id = coalesce(?13, company_id), created_at = ?14, updated_at = ?15, synced_at = ?16,
            odoo_stage = ?18, salesperson = ?20, lead_type = ?21, active = ?22, deleted_at = NULL, tags = ?23
        WHERE odoo_id = ?17
        """
    static let relinkSQL = """
        UPDATE leads SET customer_id = ?1, odoo_partner_id = ?2
        WHERE odoo_id = ?3 AND (customer_id IS NOT ?1 OR odoo_partner_id IS NOT ?2)
        """
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
        let existing = try FastStatement(db, "SELECT id FROM customers WHERE odoo_partner_id IS NULL AND lower(name) = lower(?)")
            .text { $0.add(partnerName) }
        let id: String
        if let existing {
            id = existing
        } else {
            id = TimeOrderedID.make()
            try FastStatement(db, "INSERT INTO customers (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)").execute {
                $0.add(id); $0.add(partnerName); $0.add(now); $0.add(now)
            }
        }
        customerByName[cacheKey] = id
        return id
    }

    /// The contact a changed lead already points to, when what Odoo says of its contact (name,
    /// email, phone) and its customer are what they were: the lookup would find that contact
    /// again and write nothing. Most changes to a lead (its stage, probability, revenue) leave
    /// the contact alone, and the lookup was a fifth of a re-pull's writing. The lead's row is
    /// read anyway by the update that follows, so this costs no extra page.
    private func keptContact(_ db: Database, customerID: String, row: LeadRow) throws -> String? {
        // The contact must still exist and be the customer's: a partner fold moves leads to
        // another customer and leaves their contacts behind, and a contact deleted by hand with
        // foreign keys off leaves a dangling id.
        let statement = try FastStatement(db, """
            SELECT l.contact_id, json_extract(l.metadata, '$.odoo_contact'), json_extract(l.metadata, '$.odoo_email'),
                   json_extract(l.metadata, '$.odoo_phone')
            FROM leads l JOIN contacts c ON c.id = l.contact_id AND c.customer_id = ?1
            WHERE l.odoo_id = ?2 AND l.customer_id = ?1 AND json_valid(l.metadata)
            """)
        statement.bind(1, customerID)
        statement.bind(2, row.odooID)
        defer { statement.reset() }
        guard try statement.step(), let contactID = statement.columnText(0),
              statement.columnText(1) == row.contactName, statement.columnText(2) == row.email, statement.columnText(3) == row.phone
        else { return nil }
        return contactID
    }

    /// Contacts are found by email within the customer (by name when there is no email).
    private func contact(_ db: Database, customerID: String, row: LeadRow) throws -> String? {
        let key = ContactKey(customerID: customerID, contact: row.contactKey)
        if let cached = contactByKey[key] {
            let wanted = ContactRow(id: cached.id, first: row.contactFirst ?? cached.first, last: row.contactLast ?? cached.last,
                                    phone: row.phone ?? cached.phone)
            if wanted != cached {
                try FastStatement(db, "UPDATE contacts SET first_name = ?, last_name = ?, phone = ?, updated_at = ? WHERE id = ?").execute {
                    $0.add(wanted.first); $0.add(wanted.last); $0.add(wanted.phone); $0.add(now); $0.add(cached.id)
                }
                contactByKey[key] = wanted
            }
            return cached.id
        }
        if !contactsComplete {
            if let found = try findContact(db, customerID: customerID, row: row) {
                contactByKey[key] = found
                return try contact(db, customerID: customerID, row: row)
            }
        }
        let id = TimeOrderedID.make()
        var hasPrimary = hasPrimaryContact[customerID]
        if hasPrimary == nil {
            hasPrimary = contactsComplete ? false
                : try FastStatement(db, "SELECT EXISTS (SELECT 1 FROM contacts WHERE customer_id = ? AND is_primary = 1)")
                    .text { $0.add(customerID) } == "1"
        }
        hasPrimaryContact[customerID] = true
        try FastStatement(db, """
            INSERT INTO contacts (id, customer_id, first_name, last_name, email, phone, is_primary, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute {
            $0.add(id); $0.add(customerID); $0.add(row.contactFirst); $0.add(row.contactLast); $0.add(row.email)
            $0.add(row.phone); $0.add(hasPrimary != true); $0.add(now); $0.add(now)
        }
        contactsLargestRowID = db.lastInsertedRowID
        contactByKey[key] = ContactRow(id: id, first: row.contactFirst, last: row.contactLast, phone: row.phone)
        return id
    }

    private func findContact(_ db: Database, customerID: String, row: LeadRow) throws -> ContactRow? {
        let find: FastStatement
        if let email = row.email {
            find = try FastStatement(db, """
                SELECT id, first_name, last_name, phone FROM contacts
                WHERE customer_id = ? AND lower(email) = lower(?) AND email IS NOT NULL
                """)
            find.bind(1, customerID)
            find.bind(2, email)
        } else {
            find = try FastStatement(db, """
                SELECT id, first_name, last_name, phone FROM contacts WHERE customer_id = ? AND email IS NULL
                  AND coalesce(first_name, '') = ? AND coalesce(last_name, '') = ?
                """)
            find.bind(1, customerID)
            find.bind(2, row.contactFirst ?? "")
            find.bind(3, row.contactLast ?? "")
        }
        defer { find.reset() }
        guard try find.step(), let id = find.columnText(0) else { return nil }
        return ContactRow(id: id, first: find.columnText(1), last: find.columnText(2), phone: find.columnText(3))
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
        if let id = try FastStatement(db, "SELECT id FROM customers WHERE odoo_partner_id = ?").text({ $0.add(odooPartnerID) }) {
            try FastStatement(db, "UPDATE customers SET name = ?, updated_at = ? WHERE id = ? AND name IS NOT ?").execute {
                $0.add(name); $0.add(now); $0.add(id); $0.add(name)
            }
            return id
        }
        let id = TimeOrderedID.make()
        try FastStatement(db, "INSERT INTO customers (id, name, odoo_partner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)").execute {
            $0.add(id); $0.add(name); $0.add(odooPartnerID); $0.add(now); $0.add(now)
        }
        return id
    }
}

enum Contacts {
    /// "Jacques Dunagan" -> ("Jacques", "Dunagan"); a single word is a first name. Words are
    /// separated by runs of spaces; the rest keeps one space between its words. Byte by byte,
    /// as it runs for every pulled lead.
    static func split(_ name: String) -> (String?, String?) {
        var name = name
        return name.withUTF8 { bytes -> (String?, String?) in
            let space = UInt8(ascii: " ")
            var i = 0
            while i < bytes.count && bytes[i] == space { i += 1 }
            guard i < bytes.count else { return (nil, nil) }
            let firstStart = i
            while i < bytes.count && bytes[i] != space { i += 1 }
            let first = String(decoding: UnsafeBufferPointer(rebasing: bytes[firstStart..<i]), as: UTF8.self)
            var rest: [UInt8] = []
            while i < bytes.count {
                while i < bytes.count && bytes[i] == space { i += 1 }
                guard i < bytes.count else { break }
                if !rest.isEmpty { rest.append(space) }
                let wordStart = i
                while i < bytes.count && bytes[i] != space { i += 1 }
                rest.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[wordStart..<i]))
            }
            return (first, rest.isEmpty ? nil : String(decoding: rest, as: UTF8.self))
        }
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
/// ends turned into line breaks, the common entities decoded. One pass over the UTF-8 bytes, no
/// regular expressions: it runs for every pulled lead, and going through Characters cost a
/// quarter of preparing the lead's row. Every delimiter is ASCII, so a byte is never mistaken
/// for part of a multi-byte character.
enum HTMLText {
    static func plain(_ html: String) -> String? {
        var html = html
        return html.withUTF8 { bytes in
            var out: [UInt8] = []
            guard appendPlain(utf8: bytes, to: &out) else { return nil }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Tags whose end is a line break.
    private static let breaking: [[UInt8]] = ["br", "br/", "/p", "/div", "/li", "/h1", "/h2", "/h3", "/tr"].map { Array($0.utf8) }

    /// Appends the plain text of `html` to `out`; false, with `out` as it was, when nothing but
    /// whitespace is left (the column is then NULL).
    static func appendPlain(utf8 html: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) -> Bool {
        let start = out.count
        let lt = UInt8(ascii: "<"), amp = UInt8(ascii: "&")
        if !html.contains(where: { $0 == lt || $0 == amp }) {
            out.append(contentsOf: html)
            return trim(&out, from: start)
        }
        out.reserveCapacity(start + html.count)
        enum State { case text, tag, entity }
        var state = State.text
        var from = 0  // where the tag's or entity's name starts
        var entityScalars = 0
        var i = 0
        while i < html.count {
            let c = html[i]
            switch state {
            case .text:
                if c == lt {
                    state = .tag
                    from = i + 1
                } else if c == amp {
                    state = .entity
                    from = i + 1
                    entityScalars = 0
                } else {
                    out.append(c)
                }
            case .tag:
                if c == UInt8(ascii: ">") {
                    state = .text
                    if isBreaking(UnsafeBufferPointer(rebasing: html[from..<i])) { out.append(UInt8(ascii: "\n")) }
                }
            case .entity:
                if c == UInt8(ascii: ";") {
                    state = .text
                    appendEntity(UnsafeBufferPointer(rebasing: html[from..<i]), to: &out)
                } else if c & 0xC0 != 0x80 {
                    // A name is at most 8 characters; past that the text is kept as it came.
                    if entityScalars == 8 {
                        state = .text
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: html[(from - 1)...i]))
                    }
                    entityScalars += 1
                }
            }
            i += 1
        }
        if state == .entity { out.append(contentsOf: UnsafeBufferPointer(rebasing: html[(from - 1)...])) }
        return trim(&out, from: start)
    }

    /// The tag's name (its first word, ASCII letters folded) is one of `breaking`.
    private static func isBreaking(_ tag: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < tag.count && tag[i] == UInt8(ascii: " ") { i += 1 }
        var end = i
        while end < tag.count && tag[end] != UInt8(ascii: " ") { end += 1 }
        let count = end - i
        guard count >= 2 && count <= 4 else { return false }
        return breaking.contains { name in
            name.count == count && name.indices.allSatisfy { k in
                let b = tag[i + k]
                return ((65...90).contains(b) ? b | 0x20 : b) == name[k]
            }
        }
    }

    private static func appendEntity(_ name: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        func named(_ text: StaticString) -> Bool {
            let bytes = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
            return name.elementsEqual(bytes)
        }
        if named("nbsp") { out.append(UInt8(ascii: " ")) }
        else if named("lt") { out.append(UInt8(ascii: "<")) }
        else if named("gt") { out.append(UInt8(ascii: ">")) }
        else if named("quot") { out.append(UInt8(ascii: "\"")) }
        else if named("#39") || named("apos") { out.append(UInt8(ascii: "'")) }
        else if named("amp") { out.append(UInt8(ascii: "&")) }
        else {
            out.append(UInt8(ascii: "&"))
            out.append(contentsOf: name)
            out.append(UInt8(ascii: ";"))
        }
    }

    /// Drops leading and trailing whitespace from `out[start...]`: ASCII's here, and where the
    /// text starts or ends with a non-ASCII character, Unicode's through `trimmedOrNil`.
    private static func trim(_ out: inout [UInt8], from start: Int) -> Bool {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
        while out.count > start, let last = out.last, isSpace(last) { out.removeLast() }
        var first = start
        while first < out.count && isSpace(out[first]) { first += 1 }
        if first > start { out.removeSubrange(start..<first) }
        guard out.count > start else { return false }
        guard out[start] >= 0x80 || out[out.count - 1] >= 0x80 else { return true }
        let text = String(decoding: out[start...], as: UTF8.self)
        out.removeSubrange(start...)
        guard let trimmed = trimmedOrNil(text) else { return false }
        out.append(contentsOf: trimmed.utf8)
        return true
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
