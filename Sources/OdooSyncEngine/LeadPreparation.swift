import Foundation
import OdooClient
import OdooSyncCore

/// A page of crm.lead records turned into `leads` column values, everything that needs no
/// database done: the download task prepares each page while the thread that writes the
/// mirror applies the previous one, which is then left with lookups and inserts.
///
/// Column text lives in one buffer per page and is bound into SQLite from there without a copy
/// (the batch outlives every statement step that uses it).
final class LeadBatch: @unchecked Sendable {
    let rows: [LeadRow]
    private let storage: UnsafeMutablePointer<UInt8>
    private let count: Int

    fileprivate init(rows: [LeadRow], bytes: [UInt8]) {
        self.rows = rows
        count = bytes.count
        storage = .allocate(capacity: max(bytes.count, 1))
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { storage.initialize(from: base, count: source.count) }
        }
    }

    deinit { storage.deallocate() }

    /// The UTF-8 bytes of `text`, nil for NULL; valid while the batch lives.
    func bytes(_ text: ArenaText) -> UnsafeBufferPointer<UInt8>? {
        guard text.count >= 0 else { return nil }
        return UnsafeBufferPointer(start: storage + Int(text.start), count: Int(text.count))
    }

    func string(_ text: ArenaText) -> String? {
        bytes(text).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Collects rows and their text for one batch.
    struct Builder {
        var rows: [LeadRow] = []
        var bytes: [UInt8] = []

        init(capacity: Int) {
            rows.reserveCapacity(capacity)
            bytes.reserveCapacity(capacity * 700)
        }

        mutating func text(_ buffer: UnsafeBufferPointer<UInt8>?) -> ArenaText {
            guard let buffer else { return .null }
            let start = bytes.count
            bytes.append(contentsOf: buffer)
            return ArenaText(start: Int32(start), count: Int32(buffer.count))
        }

        mutating func text(_ string: String?) -> ArenaText {
            guard var string else { return .null }
            return string.withUTF8 { text($0) }
        }

        /// Text whose bytes the caller appends to `bytes` in `body`.
        mutating func text(writing body: (inout [UInt8]) -> Void) -> ArenaText {
            let start = bytes.count
            body(&bytes)
            return ArenaText(start: Int32(start), count: Int32(bytes.count - start))
        }

        /// Text whose bytes `body` appends to `bytes`, or NULL when it returns false having
        /// appended nothing.
        mutating func optionalText(writing body: (inout [UInt8]) -> Bool) -> ArenaText {
            let start = bytes.count
            guard body(&bytes) else { return .null }
            return ArenaText(start: Int32(start), count: Int32(bytes.count - start))
        }

        func finish() -> LeadBatch { LeadBatch(rows: rows, bytes: bytes) }
    }
}

/// A span of a batch's text buffer; a negative count is SQL NULL.
struct ArenaText {
    var start: Int32
    var count: Int32
    static let null = ArenaText(start: 0, count: -1)
}

/// One crm.lead as the `leads` row wants it, short of its customer and contact.
struct LeadRow {
    var odooID: Int
    var active: Bool
    var probability: Double?
    var revenue: Double?
    var stage: (id: Int, name: String)?
    /// The pipeline slug; nil while the Odoo stage is unmapped.
    var slug: String?
    var partner: (id: Int, name: String)?
    var partnerName: String?
    var contactName: String?
    var contactFirst: String?
    var contactLast: String?
    var email: String?
    var phone: String?
    /// The contact's key within its customer: `contactKey(email:first:last:)` of this row.
    var contactKey: String
    // Bound as they are:
    var title: ArenaText
    var description: ArenaText
    var priority: ArenaText
    var deadline: ArenaText
    var metadata: ArenaText
    var tags: ArenaText
    var createdAt: ArenaText
    var stageName: ArenaText
    var salesperson: ArenaText
    var type: ArenaText
}

/// Computes `LeadRow`s from scanned records with the run's maps; safe to use from any thread.
final class LeadPreparer: @unchecked Sendable {
    typealias F = LeadFields

    private let stageMap: StageMap
    private let priorityMap: [String: String]
    /// The run's time: `synced_at` in every row's metadata, and `created_at` when Odoo has none.
    let now: String
    private let lock = NSLock()
    /// Odoo stage name as received -> slug. A pull sees a handful of stage names a hundred
    /// thousand times; normalising each one through Foundation cost more than the lead's insert.
    private var slugByName: [String: String?] = [:]

    init(stageMap: StageMap, priorityMap: [String: String], now: String) {
        self.stageMap = stageMap
        self.priorityMap = priorityMap
        self.now = now
    }

    func slug(forOdooStage name: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        if let known = slugByName[name] { return known }
        let slug = stageMap.slug(forOdooStage: name)
        slugByName[name] = .some(slug)
        return slug
    }

    /// A batch of one, for records that arrive outside a prepared page.
    func batch(of view: borrowing RecordView) -> LeadBatch? {
        var builder = LeadBatch.Builder(capacity: 1)
        guard add(view, to: &builder) else { return nil }
        return builder.finish()
    }

    /// Appends the record's row; false (and nothing appended) when it has no id.
    @discardableResult
    func add(_ record: borrowing RecordView, to b: inout LeadBatch.Builder) -> Bool {
        let view = copy record  // the closures below read it; a view is a few pointers
        guard let odooID = view.int(F.id) else { return false }
        let stage = view.many2one(F.stage)
        let contactName = view.string(F.contactName)
        let email = view.string(F.email)
        let phone = view.string(F.phone)
        let priorityKey = view.string(F.priority) ?? "0"
        let probability = view.double(F.probability)
        let revenue = view.double(F.revenue)
        let (first, last) = contactName.map(Contacts.split) ?? (nil, nil)

        let stageName = view.withUTF8Many2one(F.stage) { b.text($0?.name) }
        let salesperson = view.withUTF8Many2one(F.user) { b.text($0?.name) }
        let type = view.withUTF8String(F.type) { b.text($0) }
        let title = view.withUTF8String(F.name) { b.text($0 ?? UnsafeBufferPointer(start: nil, count: 0)) }
        let description = view.withUTF8String(F.description) { html in
            b.optionalText(writing: { out in html.map { HTMLText.appendPlain(utf8: $0, to: &out) } ?? false })
        }
        let priority = b.text(priorityMap[priorityKey] ?? "low")
        let deadline = view.withUTF8String(F.deadline) { b.text($0) }
        let createdAt = b.text(view.string(F.createDate).flatMap(Timestamp.isoFromOdoo) ?? now)
        let tags = b.text { out in
            guard let ids = view.intList(F.tags) else {
                out.append(contentsOf: "[]".utf8)
                return
            }
            out.append(UInt8(ascii: "["))
            for (i, id) in ids.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: String(id).utf8)
            }
            out.append(UInt8(ascii: "]"))
        }
        // The reference's metadata keys, in the order the ERP's sync wrote them.
        let metadata = b.text { out in
            func key(_ name: String) {
                out.append(UInt8(ascii: ","))
                JSONValue.writeString(utf8: name, to: &out)
                out.append(UInt8(ascii: ":"))
            }
            func string(_ text: UnsafeBufferPointer<UInt8>?) {
                if let text { JSONValue.writeString(utf8: text, to: &out) } else { out.append(contentsOf: "null".utf8) }
            }
            func number(_ value: Double?) { out.append(contentsOf: (value.map(JSONValue.format) ?? "null").utf8) }
            out.append(contentsOf: "{\"odoo_id\":\(odooID)".utf8)
            key("odoo_stage"); view.withUTF8Many2one(F.stage) { string($0?.name) }
            key("odoo_probability"); number(probability)
            key("odoo_revenue"); number(revenue)
            key("odoo_salesperson"); view.withUTF8Many2one(F.user) { string($0?.name) }
            key("odoo_contact"); view.withUTF8String(F.contactName) { string($0) }
            key("odoo_email"); view.withUTF8String(F.email) { string($0) }
            key("odoo_phone"); view.withUTF8String(F.phone) { string($0) }
            key("odoo_type"); view.withUTF8String(F.type) { string($0) }
            key("odoo_priority"); JSONValue.writeString(utf8: priorityKey, to: &out)
            key("odoo_write_date"); view.withUTF8String(F.writeDate) { string($0) }
            key("synced_at"); JSONValue.writeString(utf8: now, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        b.rows.append(LeadRow(
            odooID: odooID, active: view.bool(F.active) ?? true, probability: probability, revenue: revenue, stage: stage,
            slug: stage.flatMap { slug(forOdooStage: $0.name) }, partner: view.many2one(F.partner),
            partnerName: view.string(F.partnerName), contactName: contactName, contactFirst: first, contactLast: last,
            email: email, phone: phone, contactKey: LeadRow.contactKey(email: email, first: first, last: last),
            title: title, description: description, priority: priority, deadline: deadline,
            metadata: metadata, tags: tags, createdAt: createdAt, stageName: stageName, salesperson: salesperson, type: type))
        return true
    }
}

extension JSONValue {
    static func writeString(utf8 text: String, to out: inout [UInt8]) {
        var copy = text
        copy.withUTF8 { writeString(utf8: $0, to: &out) }
    }
}

extension LeadRow {
    /// Two leads share a contact exactly when the mirror's lookup would find the same row:
    /// by email under SQLite's `lower()`, which folds ASCII letters only (as the unique index
    /// `contacts_email` does), else by the exact first and last name.
    static func contactKey(email: String?, first: String?, last: String?) -> String {
        if let email {
            return String(decoding: email.utf8.map { (65...90).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
        return "name:" + (first ?? "") + "\u{1F}" + (last ?? "")
    }
}
