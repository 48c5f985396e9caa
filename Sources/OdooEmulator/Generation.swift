import Foundation

/// Synthetic crm.lead rows for large benchmarks. Text is recombined from the fixture leads
/// (their names are "Site – Project – Service (N T)"), relations point at fixture records,
/// and dates spread over two years with occasional bulk imports sharing one write_date.
struct LeadGenerator {
    private var random: SplitMix64
    private let schema: ModelSchema
    private let templates: [StoredRecord]
    private let nameParts: [[String]]
    private let stages: [(id: Int, won: Bool, probability: Double)]
    private let users: [Int]
    private let teams: [Int]
    private let partners: [Int]
    private let tags: [Int]
    private let lostReasons: [Int]
    private let baseMicros: Int64

    init?(state: StoreState, seed: UInt64) {
        guard let leads = state.tables["crm.lead"] else { return nil }
        random = SplitMix64(seed: seed)
        schema = leads.schema
        // The lowest ids are the fixture's own leads; a few thousand are plenty of variety, and
        // looking no further keeps this cheap once 100,000 leads exist.
        templates = leads.idIndex.prefix(2_000).compactMap { leads.record(atSlot: $0.slot) }
        var parts: [[String]] = []
        var latest: Int64 = TimeUtil.micros(year: 2026, month: 11, day: 1)
        for template in templates {
            if let index = schema.nameField, case .text(let name) = template.values[index] {
                for (position, part) in name.components(separatedBy: " – ").enumerated() {
                    if parts.count <= position { parts.append([]) }
                    parts[position].append(part)
                }
            }
            latest = max(latest, leads.writeDateMicros(template))
        }
        nameParts = parts.map { Array(Set($0)).sorted() }
        baseMicros = latest
        func ids(_ model: String, where keep: (ModelTable, StoredRecord) -> Bool = { _, _ in true }) -> [Int] {
            guard let table = state.tables[model] else { return [] }
            return table.idsAscending.compactMap(table.record(id:)).filter { keep(table, $0) }.map(\.id)
        }
        func flag(_ table: ModelTable, _ record: StoredRecord, _ name: String) -> Bool? {
            guard let index = table.schema.fieldIndex[name], case .bool(let value) = record.values[index] else { return nil }
            return value
        }
        if let stageTable = state.tables["crm.stage"] {
            let ordered = stageTable.idsAscending.compactMap(stageTable.record(id:))
            stages = ordered.enumerated().map { position, stage in
                let won = flag(stageTable, stage, "is_won") ?? false
                return (stage.id, won, won ? 100 : min(90, 10 + Double(position) * 5))
            }
        } else {
            stages = []
        }
        users = ids("res.users") { table, record in
            (flag(table, record, "active") ?? true) && !(flag(table, record, "share") ?? false)
        }
        teams = ids("crm.team")
        partners = ids("res.partner") { table, record in flag(table, record, "active") ?? true }
        tags = ids("crm.tag")
        lostReasons = ids("crm.lost.reason")
    }

    private mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int(random.next() % UInt64(items.count))]
    }

    private mutating func chance(_ probability: Double) -> Bool {
        Double(random.next() >> 11) / Double(1 << 53) < probability
    }

    private mutating func between(_ low: Int64, _ high: Int64) -> Int64 {
        guard high > low else { return low }
        return low + Int64(random.next() % UInt64(high - low))
    }

    mutating func generate(count: Int, into state: inout StoreState) {
        guard count > 0, !templates.isEmpty else { return }
        var nextId = state.tables["crm.lead"]?.nextId ?? 1
        var burstLeft = 0
        var burstStamp: Int64 = 0
        var rows: [StoredRecord] = []
        rows.reserveCapacity(count)
        let twoYears = 730 * TimeUtil.microsPerDay
        for _ in 0..<count {
            guard let template = pick(templates) else { return }
            var values = template.values
            func set(_ name: String, _ value: FieldValue) {
                if let index = schema.fieldIndex[name] { values[index] = value }
            }
            let created = between(baseMicros - twoYears, baseMicros)
            var written: Int64
            if burstLeft > 0 {
                burstLeft -= 1
                written = max(burstStamp, created)
            } else if chance(0.02) {
                // A bulk import: one transaction, one write_date for many rows.
                burstLeft = Int(between(50, 500))
                burstStamp = between(created, baseMicros)
                written = burstStamp
            } else {
                written = between(created, baseMicros)
            }
            if written < created { written = created }
            let id = nextId
            nextId += 1
            set("id", .int(id))
            if !nameParts.isEmpty {
                var parts: [String] = []
                for pool in nameParts.prefix(3) { if let part = pick(pool) { parts.append(part) } }
                set("name", .text(parts.joined(separator: " – ")))
            }
            set("display_name", .null)
            set("type", .text(chance(0.85) ? "opportunity" : "lead"))
            let stage = pick(stages)
            if let stage { set("stage_id", .ref(stage.id)) }
            set("user_id", chance(0.9) ? pick(users).map(FieldValue.ref) ?? .null : .null)
            set("team_id", pick(teams).map(FieldValue.ref) ?? .null)
            set("partner_id", chance(0.6) ? pick(partners).map(FieldValue.ref) ?? .null : .null)
            let revenue = (Double(between(1_000, 2_500_000)) * (chance(0.3) ? 0.1 : 1)).rounded() / 100 * 100
            var probability = stage?.probability ?? 10
            let archived = chance(0.06)
            if archived { probability = 0 }
            set("expected_revenue", .float(revenue))
            set("probability", .float(probability))
            set("prorated_revenue", .float((revenue * probability).rounded() / 100))
            set("recurring_revenue", .float(0))
            set("priority", .text(String(min(3, Int(random.next() % 7) / 2))))
            var tagIDs: [Int] = []
            for _ in 0..<Int(random.next() % 3) { if let tag = pick(tags), !tagIDs.contains(tag) { tagIDs.append(tag) } }
            set("tag_ids", .ids(tagIDs))
            set("create_date", .datetime(created))
            set("write_date", .datetime(written))
            set("date_open", .datetime(created))
            set("date_conversion", chance(0.5) ? .datetime(between(created, written + 1)) : .null)
            set("date_last_stage_update", .datetime(between(created, written + 1)))
            let deadlineDays = TimeUtil.split(created).days + Int(between(14, 180))
            set("date_deadline", chance(0.8) ? .text(TimeUtil.formatDate(days: deadlineDays)) : .null)
            set("active", .bool(!archived))
            if archived {
                set("won_status", .text("lost"))
                set("lost_reason_id", chance(0.5) ? pick(lostReasons).map(FieldValue.ref) ?? .null : .null)
                set("date_closed", .datetime(written))
            } else if stage?.won == true {
                set("won_status", .text("won"))
                set("lost_reason_id", .null)
                set("date_closed", .datetime(written))
            } else {
                set("won_status", .text("pending"))
                set("lost_reason_id", .null)
                set("date_closed", .null)
            }
            rows.append(StoredRecord(id: id, version: state.nextVersion(), values: values))
        }
        state.withTable("crm.lead") { table in
            for row in rows { table.appendUnindexed(row) }
            table.rebuildIndexes()
        }
    }

    /// Edits `fraction` of the leads, each as its own small transaction stamped from `now`.
    mutating func touch(fraction: Double, now: Int64, state: inout StoreState) -> [Int] {
        // No table copy may outlive this read: it would force a copy of the whole table below.
        guard var ids = state.tables["crm.lead"]?.idsAscending else { return [] }
        let wanted = min(ids.count, Int((Double(ids.count) * max(0, min(1, fraction))).rounded()))
        for i in 0..<wanted {
            let j = i + Int(random.next() % UInt64(ids.count - i))
            ids.swapAt(i, j)
        }
        let chosen = Array(ids.prefix(wanted)).sorted()
        var stamp = max(now, state.lastTransactionMicros + 1)
        var updates: [(Int, ContiguousArray<FieldValue>)] = []
        for id in chosen {
            guard var values = state.tables["crm.lead"]?.record(id: id)?.values else { continue }
            func set(_ name: String, _ value: FieldValue) {
                if let index = schema.fieldIndex[name] { values[index] = value }
            }
            if let index = schema.fieldIndex["expected_revenue"], case .float(let revenue) = values[index] {
                set("expected_revenue", .float((revenue * Double(between(80, 130)) / 100).rounded()))
            }
            set("priority", .text(String(Int(random.next() % 4))))
            if chance(0.3), let stage = pick(stages.filter { !$0.won }) {
                set("stage_id", .ref(stage.id))
                set("probability", .float(stage.probability))
                set("date_last_stage_update", .datetime(stamp))
            }
            set("write_date", .datetime(stamp))
            updates.append((id, values))
            stamp += 1
        }
        state.lastTransactionMicros = stamp
        let versions = updates.map { _ in state.nextVersion() }
        state.withTable("crm.lead") { table in
            for ((id, values), version) in zip(updates, versions) {
                table.replaceUnindexed(id: id, values: values, version: version)
            }
            table.rebuildIndexes()
        }
        return chosen
    }
}
