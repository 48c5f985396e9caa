import Foundation
import GRDB
import OdooClient
import OdooSyncCore
import OdooSyncMirror

/// Stores each pulled record's snapshot and hands changed records to the model's projection.
/// Runs inside the page's transaction, once per record: the hot path of a pull.
final class PageApplier: @unchecked Sendable {
    let spec: ModelSpec
    let scanner: RecordScanner
    private let idIndex: Int
    private let writeDateIndex: Int
    private let activeIndex: Int?
    private let now = Timestamp.iso(Date())
    /// Ids already applied in this run: the keyset re-reads the last second of a page, and
    /// those second readings are neither work nor news.
    private var seen = Set<Int>()
    private var seenInAttempt = Set<Int>()
    /// The projection, whose caches must follow the page transaction's fate.
    var participant: PageParticipant?
    /// Prepares crm.lead pages' rows when they are downloaded (see `LeadPreparer`).
    var preparer: LeadPreparer?
    /// Ids above this have no snapshot yet (a full pass reads by ascending id past the largest
    /// id the mirror knows), so their lookup is skipped.
    var newAbove: Int?

    /// Called at the start of each attempt at a page: a retried page starts from what the
    /// last committed page left, because the failed attempt's transaction was rolled back.
    func beginAttempt(_ db: Database) throws {
        seenInAttempt.removeAll(keepingCapacity: true)
        try participant?.beginAttempt(db)
    }

    /// Called once the page's transaction has committed.
    func commit() {
        seen.formUnion(seenInAttempt)
        participant?.commit()
    }

    init(spec: ModelSpec) {
        self.spec = spec
        scanner = RecordScanner(fields: spec.fields)
        idIndex = spec.index("id")
        writeDateIndex = spec.index("write_date")
        activeIndex = spec.hasActive ? spec.index("active") : nil
    }

    func apply(
        _ db: Database, _ view: borrowing RecordView, stats: inout ModelStats,
        handle: (Database, borrowing RecordView, OdooPuller.Change) throws -> OdooPuller.Outcome
    ) throws -> OdooPuller.PageRecord {
        guard let id = view.int(idIndex) else {
            throw TruncatedBody(detail: "a \(spec.name) record has no id")
        }
        let writeDate = view.string(writeDateIndex) ?? ""
        guard !seen.contains(id), seenInAttempt.insert(id).inserted else {
            return OdooPuller.PageRecord(id: id, writeDate: writeDate)
        }
        var active = true
        if let activeIndex, let value = view.bool(activeIndex) { active = value }
        let hash = PageApplier.hash(view.rawBytes)

        var found = false
        var oldHash = 0
        var wasActive = true
        var wasDeleted = false
        if newAbove.map({ id <= $0 }) ?? true {
            let lookup = try FastStatement(db, "SELECT data_hash, active, deleted FROM odoo_records WHERE model = ? AND odoo_id = ?")
            lookup.bind(1, spec.name)
            lookup.bind(2, id)
            found = try lookup.step()
            if found {
                oldHash = lookup.columnInt(0)
                wasActive = lookup.columnInt(1) != 0
                wasDeleted = lookup.columnInt(2) != 0
            }
            lookup.reset()
        }

        if found && oldHash == hash && !wasDeleted {
            stats.unchanged += 1
            return OdooPuller.PageRecord(id: id, writeDate: writeDate)
        }
        let change: OdooPuller.Change = !found ? .created : (wasActive && !active ? .archived : .updated)

        // A plain INSERT or UPDATE rather than an upsert: SQLite keeps a statement journal
        // (a copy of every page touched) for upserts inside a transaction, and this runs for
        // every record.
        let store = try FastStatement(db, found
            ? """
              UPDATE odoo_records SET write_date = ?3, active = ?4, deleted = 0, data = ?5, data_hash = ?6, pulled_at = ?7
              WHERE model = ?1 AND odoo_id = ?2
              """
            : """
              INSERT INTO odoo_records (model, odoo_id, write_date, active, deleted, data, data_hash, pulled_at)
              VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7)
              """)
        store.bind(1, spec.name)
        store.bind(2, id)
        store.bind(3, writeDate.isEmpty ? nil : writeDate)
        store.bind(4, active ? 1 : 0)
        store.bind(5, raw: view.rawBytes)
        store.bind(6, hash)
        store.bind(7, now)
        try store.step()
        store.reset()

        let outcome: OdooPuller.Outcome
        var reason = "\(spec.name) \(id) could not be stored"
        do {
            outcome = try handle(db, view, change)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            outcome = .failed
            reason += ": \(error.message ?? "constraint failed")"
            try Mirror.appendEvent(db, runID: nil, level: .error, type: "project_failed", message: reason,
                                   metadata: ["model": .string(spec.name), "odoo_id": .int(id)])
        }
        switch outcome {
        case .stored:
            switch change {
            case .created: stats.created += 1
            case .updated: stats.updated += 1
            case .archived: stats.archived += 1
            }
        case .skipped:
            stats.skipped += 1
        case .failed:
            stats.errors += 1
            stats.failures.append(RecordFailure(id: id, reason: reason))
            // A zero hash makes the next pull treat the record as changed and try again.
            try db.execute(sql: "UPDATE odoo_records SET data_hash = 0 WHERE model = ? AND odoo_id = ?", arguments: [spec.name, id])
        }
        return OdooPuller.PageRecord(id: id, writeDate: writeDate)
    }

    /// A 64-bit hash of the record's bytes, eight at a time (change detection only; never 0).
    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        let words = bytes.count / 8
        var i = 0
        while i < words {
            let w = bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
            h = (h ^ (w &* 0xBF58_476D_1CE4_E5B9)).rotatedLeft(by: 27) &* 0x94D0_49BB_1331_11EB
            i += 1
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        for j in (words * 8)..<bytes.count {
            tail |= UInt64(bytes[j]) << shift
            shift += 8
        }
        h = (h ^ (tail &* 0xBF58_476D_1CE4_E5B9)).rotatedLeft(by: 27) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
        let result = Int(bitPattern: UInt(h))
        return result == 0 ? 1 : result
    }
}

/// State kept across the records of a page that must be dropped when the page's transaction
/// rolls back (caches of rows the transaction created, counters of what it did).
protocol PageParticipant: AnyObject {
    /// Called inside the page's transaction, before its first record.
    func beginAttempt(_ db: Database) throws
    func commit()
    /// Called with a page's prepared rows before its records are applied, and with nil after.
    func using(_ batch: LeadBatch?)
}

extension PageParticipant {
    func using(_ batch: LeadBatch?) {}
}

/// A cache of rows written in page transactions: what an attempt added is forgotten when the
/// attempt rolls back, and kept once its transaction commits. It starts over past `limit`
/// entries, so that a 100,000-lead pull's memory stays flat.
struct TransactionalCache<Key: Hashable, Value> {
    private var committed: [Key: Value] = [:]
    private var pending: [Key: Value] = [:]
    var limit = 65536

    subscript(key: Key) -> Value? {
        get { pending[key] ?? committed[key] }
        set { pending[key] = newValue }
    }

    mutating func rollback() { pending.removeAll(keepingCapacity: true) }

    /// Returns true when the cache had grown past `limit` and forgot what it held before.
    @discardableResult
    mutating func commit() -> Bool {
        let forgets = committed.count + pending.count > limit
        if forgets { committed.removeAll() }
        committed.merge(pending) { $1 }
        pending.removeAll(keepingCapacity: true)
        return forgets
    }
}

extension UInt64 {
    @inline(__always) func rotatedLeft(by n: UInt64) -> UInt64 { (self << n) | (self >> (64 - n)) }
}
