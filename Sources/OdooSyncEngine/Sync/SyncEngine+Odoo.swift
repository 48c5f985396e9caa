import Foundation
import GRDB
import OdooClient
import OdooSyncCore
import OdooSyncMirror

/// The Odoo side of push.
///
/// Creates and updates of one entity go in batches. A batch's creates travel in one `load`,
/// each row keyed by its external identifier, so that a batch sent again after a crash updates
/// what the first attempt made instead of making twins; its updates go one `write` each (their
/// values differ). Then one read-back fetches every record the batch wrote, asked exactly as a
/// pull asks, so that the snapshot stored is byte for byte what the next pull reads: our own
/// write is then neither seen as a change nor compared again.
extension SyncEngine {
    /// Rows per batch: large enough that round trips stop mattering, small enough that a real
    /// server's import of one batch stays well inside a request timeout.
    static let odooBatchSize = 200

    static func goesInOdooBatch(_ item: QueueItem) -> Bool {
        item.target == "odoo" && (item.operation == "create" || item.operation == "update")
    }

    /// Whether `next` goes in the batch `first` opened, whose updates so far target `targets`:
    /// the same priority, entity and model, and not a second change of a record in it (the
    /// batch's writes go out side by side). Push and `push --dry-run` batch alike.
    static func joinsOdooBatch(_ next: QueueItem, of first: QueueItem, targets: Set<String>) -> Bool {
        next.priority == first.priority && next.entity == first.entity && next.targetType == first.targetType
            && goesInOdooBatch(next) && !(next.targetID.map(targets.contains) ?? false)
    }

    func requireOdoo() throws -> OdooClient {
        guard let odoo else { throw SyncItemError("Odoo is not configured (ODOO_URL, ODOO_DATABASE, ODOO_USERNAME and a key or password).") }
        return odoo
    }

    /// project.task's priority keys as this server has them (two before Odoo 19, four in 19),
    /// asked once per run with what else the translation needs to know of the server: whether
    /// the deadline is a date (16) or a datetime, and the user's time zone. The translation
    /// built afterwards reads and writes with them.
    func odooPriorityKeys() async throws -> [String] {
        if let priorityKeys { return priorityKeys }
        let odoo = try requireOdoo()
        // A name the model lacks (`state` on 16) is left out of the answer, not refused.
        let answer = try await odoo.call(OdooCall(model: "project.task", method: "fields_get", args: [("allfields", ["priority", "date_deadline", "state"])],
                                                  kwargs: [("attributes", ["selection", "type"])]))
        func selection(_ field: String) -> [String] {
            answer[field]?["selection"]?.arrayValue?.compactMap { $0.arrayValue?.first?.stringValue } ?? []
        }
        let keys = selection("priority")
        let known = keys.isEmpty ? ["0", "1"] : keys
        taskDeadlineIsDate = answer["date_deadline"]?["type"]?.stringValue == "date"
        taskClosingStates = Set(selection("state")).isSuperset(of: Translation.closingStates.values)
        odooTimeZone = try await odooUserTimeZone(odoo)
        priorityKeys = known
        cachedTranslation = nil
        return known
    }

    /// The API user's time zone (`tz` of res.users, through `context_get`); UTC when it has none
    /// or one this machine does not know.
    private func odooUserTimeZone(_ odoo: OdooClient) async throws -> TimeZone? {
        let context = try await odoo.call(OdooCall(model: "res.users", method: "context_get"))
        guard let name = context["tz"]?.stringValue, !name.isEmpty else { return nil }
        guard let zone = TimeZone(identifier: name) else {
            logger.warning("Odoo user time zone \(name) is not known here; deadlines are read and written as UTC days")
            return nil
        }
        return zone
    }

    /// `odooPriorityKeys`, or nil on a server without the project app (no task to translate).
    func odooPriorityKeysIfAny() async throws -> [String]? {
        do {
            return try await odooPriorityKeys()
        } catch OdooError.unknownModel {
            return nil
        }
    }

    /// The task `item` writes, as far as its stage needs it: its Odoo project (the one it is
    /// created in, or the one its snapshot names: it may have moved since it was paired) and its
    /// `state` as last pulled (nil for a create: a new task starts in progress). One read.
    func odooTaskNow(_ item: QueueItem) throws -> (project: Int?, state: String?) {
        guard item.targetType == "project.task" else { return (nil, nil) }
        if item.operation == "create" { return (item.odooProject, nil) }
        guard let target = item.targetID.flatMap(Int.init) else { return (item.odooProject, nil) }
        let row = try mirror.read { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT json_extract(data, '$.project_id[0]'), json_extract(data, '$.state') FROM odoo_records
                WHERE model = 'project.task' AND odoo_id = ?
                """), arguments: [target])
        }
        return (item.odooProject ?? row?[0], row?[1])
    }

    func odooValues(_ item: QueueItem, translation: Translation) throws -> (values: [(String, JSONValue)], skipped: [String]) {
        let mappings = try configMappings(item.entity)
        var fields = item.fields
        if item.entity == "module:project.project", let name = fields["name"]?.stringValue, let project = item.planeProject {
            let projectName = try mirror.read { db in
                try String.fetchOne(db.cachedStatement(sql: "SELECT json_extract(data, '$.name') FROM plane_records WHERE kind = 'project' AND plane_id = ?"), arguments: [project])
            }
            fields["name"] = .string(projectName.map { "\($0) / \(name)" } ?? name)
        }
        // Only a stage needs the task's project and its state now.
        let task: (project: Int?, state: String?) = fields["state"] != nil ? try odooTaskNow(item) : (nil, nil)
        var translated = translation.odooValues(fields, mappings: mappings, plainDescription: item.entity == "project:project.project",
                                                project: task.project, planeProject: item.planeProject, taskState: task.state)
        // A new task or milestone belongs to its project; a project (or a module's sub-project)
        // has no parent to name.
        if item.operation == "create", let owner = item.odooProject, item.targetType != "project.project" {
            translated.values.append(("project_id", .int(owner)))
        }
        // What the sync archived comes back with the record that returned (a milestone was never
        // archived: it has no `active`).
        if item.restore && item.targetType != "project.milestone" {
            translated.values.append(("active", true))
        }
        return translated
    }

    // MARK: batches

    /// One item of a batch on its way: what it sends and what came of it.
    private struct Pending {
        let queueID: String
        let item: QueueItem
        var values: [(String, JSONValue)] = []
        var id: Int?
        var calls: [String] = []
        var error: Error?
        var created: Bool { item.operation == "create" }
    }

    /// Carries out a batch of creates and updates of one entity. An item Odoo refuses fails
    /// alone; when the connection fails, what went through is still recorded before the run
    /// stops.
    func pushOdooBatch(_ batch: [(queueID: String, item: QueueItem)]) async throws {
        guard let first = batch.first?.item else { return }
        let odoo = try requireOdoo()
        let model = first.targetType
        let started = Date()
        var items = batch.map { Pending(queueID: $0.queueID, item: $0.item) }
        var stop: Error?
        func settle(_ index: Int, _ error: Error) {
            if let error = error as? UserFacingError, error.exitStatus == .remote || error.exitStatus == .mirror {
                stop = stop ?? error
            } else {
                items[index].error = error
            }
        }

        if model == "project.task" {
            do {
                _ = try await odooPriorityKeys()
            } catch {
                for index in items.indices { settle(index, error) }
            }
        }
        let translation = try currentTranslation()
        for index in items.indices where stop == nil && items[index].error == nil {
            do {
                let (values, skipped) = try odooValues(items[index].item, translation: translation)
                if !skipped.isEmpty {
                    logger.info("\(items[index].item.entity) \(items[index].item.sourceID): no Odoo value for \(skipped.joined(separator: ", ")); left unchanged")
                    report.unmappedFields += skipped.count
                }
                items[index].values = values
            } catch {
                settle(index, error)
            }
        }

        // Creates: one load per set of columns (a row cannot leave a column out).
        var groups: [[String]: [Int]] = [:]
        var groupOrder: [[String]] = []
        for index in items.indices where stop == nil && items[index].created && items[index].error == nil {
            guard items[index].item.key != nil else {
                items[index].error = SyncItemError("queue item without an external identifier")
                continue
            }
            let columns = SyncEngine.loadRow(items[index].values).columns
            if groups[columns] == nil { groupOrder.append(columns) }
            groups[columns, default: []].append(index)
        }
        for columns in groupOrder where stop == nil {
            let members = groups[columns] ?? []
            do {
                try await load(odoo, model: model, members, into: &items)
            } catch {
                // Odoo imports all rows or none: a refused batch goes again row by row, so that
                // only the row at fault fails.
                guard members.count > 1, !SyncEngine.stopsTheRun(error) else {
                    for index in members { settle(index, error) }
                    continue
                }
                for index in members where stop == nil {
                    do {
                        try await load(odoo, model: model, [index], into: &items)
                    } catch {
                        settle(index, error)
                    }
                }
            }
        }

        // Updates: one write each, a few in flight at once (each is a different record).
        var writes: [(index: Int, call: OdooCall)] = []
        for index in items.indices where stop == nil && !items[index].created && items[index].error == nil {
            guard let target = items[index].item.targetID.flatMap(Int.init) else {
                items[index].error = SyncItemError("update without a target id")
                continue
            }
            if items[index].values.isEmpty {
                items[index].id = target
                continue
            }
            let call = OdooCall(model: model, method: "write", ids: [target], args: [("vals", .object(items[index].values))])
            items[index].calls.append(SyncEngine.describe(call))
            writes.append((index, call))
        }
        let answers = await SyncEngine.inParallel(writes.map(\.call), limit: SyncEngine.writeConcurrency, stops: SyncEngine.stopsTheRun) { call in
            _ = try await odoo.call(call)
        }
        for (write, answer) in zip(writes, answers) {
            switch answer {
            case nil: continue  // not sent: the run is stopping, the item stays pending
            case .success?: items[write.index].id = write.call.ids?.first
            case .failure(let error)?: settle(write.index, error)
            }
        }

        // One read-back for everything written. When the run is stopping it is still tried,
        // so that what went through is recorded; if it fails too, those items stay pending
        // and go again next run (their writes are idempotent).
        let written = items.indices.filter { items[$0].id != nil && items[$0].error == nil }
        var snapshots: [Int: OdooSnapshot] = [:]
        var unread = false
        if !written.isEmpty {
            do {
                snapshots = try await readBack(odoo, model: model, ids: written.compactMap { items[$0].id })
            } catch {
                if stop != nil || SyncEngine.stopsTheRun(error) {
                    stop = stop ?? error
                    unread = true
                } else {
                    for index in written { items[index].error = error }
                }
            }
        }
        if !unread {
            let seconds = Date().timeIntervalSince(started)
            let mappings = try configMappings(first.entity)
            let plain = first.entity == "project:project.project"
            for index in written where items[index].error == nil {
                guard let id = items[index].id, let snapshot = snapshots[id] else {
                    items[index].error = SyncItemError("\(model) \(items[index].id ?? 0) vanished right after the write")
                    continue
                }
                let record = (try? JSONValue.parse(snapshot.text)) ?? .null
                let canonical = translation.odooCanonical(record, mappings: mappings, plainDescription: plain)
                let item = items[index].item
                let targetFields = items[index].created ? canonical : canonical.filter { item.fields.keys.contains($0.key) }
                let outcome = Outcome(targetID: String(id), targetFields: targetFields, created: items[index].created, archived: false,
                                      calls: items[index].calls, odooSnapshot: snapshot)
                try complete(queueID: items[index].queueID, item: item, result: outcome, seconds: seconds)
            }
        }
        // Odoo reactivates a project's tasks with it: read them again, or the next pass would
        // take the mirror's copies (archived) for tasks archived in Odoo.
        let reactivated = model == "project.project" && !unread
            ? written.filter { items[$0].error == nil && items[$0].item.restore }.compactMap { items[$0].id } : []
        if !reactivated.isEmpty {
            do {
                try await refreshTasks(odoo, projects: reactivated)
            } catch {
                if SyncEngine.stopsTheRun(error) { stop = stop ?? error }
                logger.warning("could not read again the tasks of the Odoo projects \(reactivated) brought back: \(error)")
            }
        }
        let refused = items.filter { $0.error != nil }
        if !refused.isEmpty {
            try flushCompletions()
            for pending in refused {
                try fail(queueID: pending.queueID, item: pending.item, error: pending.error ?? SyncItemError("unknown failure"), started: started)
            }
        }
        if let stop {
            try flushCompletions()
            throw stop
        }
    }

    static func stopsTheRun(_ error: Error) -> Bool {
        guard let error = error as? UserFacingError else { return false }
        return error.exitStatus == .remote || error.exitStatus == .mirror
    }

    /// One load for the creates at `members` (all with the same columns); sets their ids.
    private func load(_ odoo: OdooClient, model: String, _ members: [Int], into items: inout [Pending]) async throws {
        let rows = members.map { (xmlID: items[$0].item.key ?? "", values: items[$0].values) }
        let call = SyncEngine.loadCall(model: model, rows: rows)
        let description = SyncEngine.describe(call)
        let answer = try await odoo.call(call)
        guard let ids = answer["ids"]?.arrayValue?.compactMap(\.intValue), ids.count == members.count else {
            let messages = answer["messages"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
            throw SyncItemError("Odoo refused to create the \(model): \(messages.joined(separator: "; ").isEmpty ? "no reason given" : messages.joined(separator: "; "))")
        }
        // The call is reported once, with the first item it carried.
        if let first = members.first { items[first].calls.append(description) }
        for (index, id) in zip(members, ids) { items[index].id = id }
    }

    // MARK: read-back

    /// A record as the pull's search_read returns it: its text and the pull's hash of it.
    struct OdooSnapshot: Sendable {
        let id: Int
        let writeDate: String?
        let active: Bool
        let text: String
        let hash: Int
    }

    /// Reads `ids` with the pull's fields, context and envelope, a thousand at a time.
    func readBack(_ odoo: OdooClient, model: String, ids: [Int]) async throws -> [Int: OdooSnapshot] {
        let sorted = Array(Set(ids)).sorted()
        return try await read(odoo, model: model, domains: stride(from: 0, to: sorted.count, by: 1000).map { start in
            [["id", "in", .array(sorted[start..<min(start + 1000, sorted.count)].map(JSONValue.int))]]
        })
    }

    /// The tasks of `projects`, archived ones included, read as the pull reads them and kept as
    /// it keeps them: Odoo archives and reactivates a project's tasks with the project, so after
    /// the sync has brought a project back, the mirror's copies of its tasks are out of date.
    func refreshTasks(_ odoo: OdooClient, projects: [Int]) async throws {
        let snapshots = try await read(odoo, model: "project.task", domains: [[["project_id", "in", .array(projects.map(JSONValue.int))]]])
        let now = Timestamp.iso(Date())
        try mirror.write { db in
            for snapshot in snapshots.values.sorted(by: { $0.id < $1.id }) {
                try SyncEngine.storeOdooSnapshot(db, model: "project.task", snapshot, isNew: false, now: now)
            }
        }
    }

    /// The records each of `domains` finds, asked as the pull asks for `model` on this server
    /// (its fields, context and envelope), so that the snapshots compare with the pull's.
    private func read(_ odoo: OdooClient, model: String, domains: [[JSONValue]]) async throws -> [Int: OdooSnapshot] {
        guard let spec = ModelSpec.projectSide.first(where: { $0.name == model }) else {
            throw SyncItemError("odoosync does not pull \(model), so it cannot keep what it wrote there")
        }
        return try await OdooPuller.withServerFields(spec, client: odoo) { try await read(odoo, spec: $0, domains: domains) }
    }

    private func read(_ odoo: OdooClient, spec: ModelSpec, domains: [[JSONValue]]) async throws -> [Int: OdooSnapshot] {
        let scanner = RecordScanner(fields: spec.fields)
        let idIndex = spec.index("id")
        let writeDateIndex = spec.index("write_date")
        let activeIndex = spec.hasActive ? spec.index("active") : nil
        var out: [Int: OdooSnapshot] = [:]
        for domain in domains {
            let page = try await OdooPuller.download(client: odoo, spec, scanner: scanner, domain: domain,
                                                     order: "id asc", limit: nil, referenceField: nil)
            _ = try page.body.withUnsafeBytes { body in
                try scanner.scan(body, envelope: page.api == .json2 ? .json2 : .jsonRPC) { view in
                    guard let id = view.int(idIndex) else { return }
                    let bytes = view.rawBytes
                    out[id] = OdooSnapshot(id: id, writeDate: view.string(writeDateIndex), active: activeIndex.flatMap { view.bool($0) } ?? true,
                                           text: String(decoding: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self),
                                           hash: PageApplier.hash(bytes))
                }
            }
        }
        return out
    }

    // MARK: calls

    /// A create's import row: the columns it needs and its cells, as text the way an import
    /// file has them (database ids through "<field>/.id").
    static func loadRow(_ values: [(String, JSONValue)]) -> (columns: [String], cells: [JSONValue]) {
        var columns: [String] = ["id"]
        var cells: [JSONValue] = []
        for (field, value) in values {
            switch value {
            case .int(let id) where ["project_id", "stage_id", "milestone_id", "parent_id"].contains(field):
                columns.append("\(field)/.id")
                cells.append(.string(String(id)))
            case .bool(false), .null:
                columns.append(field)
                cells.append("")
            case .int(let n):
                columns.append(field)
                cells.append(.string(String(n)))
            case .double(let d):
                columns.append(field)
                cells.append(.string(String(d)))
            case .bool(true):
                columns.append(field)
                cells.append("1")
            case .string(let s):
                columns.append(field)
                cells.append(.string(s))
            default:
                columns.append(field)
                cells.append(.string(value.serialized))
            }
        }
        return (columns, cells)
    }

    /// One `load` of rows that share their columns; each row leads with its external identifier.
    static func loadCall(model: String, rows: [(xmlID: String, values: [(String, JSONValue)])]) -> OdooCall {
        let columns = rows.first.map { loadRow($0.values).columns } ?? ["id"]
        let data = rows.map { row in JSONValue.array([.string(row.xmlID)] + loadRow(row.values).cells) }
        // Odoo reads an import's datetimes in the context's zone, else the user's; the values
        // here are UTC, as `write` takes them.
        return OdooCall(model: model, method: "load", args: [("fields", .array(columns.map(JSONValue.string))), ("data", .array(data))],
                        context: ["tz": "UTC"])
    }

    static func describe(_ call: OdooCall) -> String {
        var text = "odoo \(call.model).\(call.method)"
        if let ids = call.ids { text += " ids=\(JSONValue.array(ids.map(JSONValue.int)).serialized)" }
        for (name, value) in call.args { text += " \(name)=\(value.serialized)" }
        return text
    }

    /// Archives go alone: a write of `active` false, nothing to read back.
    func performOdooArchive(_ item: QueueItem) async throws -> Outcome {
        let odoo = try requireOdoo()
        guard let id = item.targetID.flatMap(Int.init) else { throw SyncItemError("archive without a target id") }
        if item.targetType == "project.milestone" {
            // Milestones cannot be archived; the pair simply ends.
            return Outcome(targetID: String(id), targetFields: [:], created: false, archived: true, calls: [])
        }
        let call = OdooCall(model: item.targetType, method: "write", ids: [id], args: [("vals", ["active": false])])
        _ = try await odoo.call(call)
        return Outcome(targetID: String(id), targetFields: [:], created: false, archived: true, calls: [SyncEngine.describe(call)])
    }
}
