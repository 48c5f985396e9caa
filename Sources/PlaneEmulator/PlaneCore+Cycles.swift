import Foundation
import OdooSyncCore

/// Cycles, modules and the issues linked to them.
extension PlaneCore {
    enum Container: String {
        case cycle, module
    }

    static let moduleStatuses = ["backlog", "planned", "in-progress", "paused", "completed", "cancelled"]

    // MARK: cycles

    func listCycles(_ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        let items = store.cycles.values.filter { $0.project == project && !$0.deleted && !$0.isArchived }
            .sorted { ($0.string("created_at") ?? "", $0.id) > ($1.string("created_at") ?? "", $1.id) }
        let renderer = renderer(c)
        return paginate(items, c) { renderer.cycle($0, withCounts: true) }
    }

    /// "2026-11-16" → the start or end instant Plane stores for a cycle date: 00:00:01 or
    /// 23:59:00 on that day in the project's timezone, kept in UTC. (The cycle's own
    /// `timezone` field stays UTC, as Plane's API leaves it.)
    static func cycleDate(_ value: JSONValue, end: Bool, timezone: String) -> JSONValue {
        guard let text = value.stringValue else { return .null }
        if text.count == 10 {
            let wall = text + (end ? "T23:59:00Z" : "T00:00:01Z")
            guard let local = Stamp.parse(wall), let zone = TimeZone(identifier: timezone) else { return .string(wall) }
            // The zone's offset at that wall-clock time (a guess from the instant read as UTC,
            // then corrected once: right except within a DST change's hour).
            var offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local) / 1_000_000))
            offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local - Int64(offset) * 1_000_000) / 1_000_000))
            return .string(String(Stamp.text(local - Int64(offset) * 1_000_000).prefix(19)) + "Z")
        }
        return Stamp.parse(text).map { .string(String(Stamp.text($0).prefix(19)) + "Z") } ?? .null
    }

    func projectTimezone(_ project: String) -> String {
        store.projects[project]?["timezone"]?.stringValue ?? "UTC"
    }

    func createCycle(_ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        let start = c.body["start_date"] ?? .null
        let end = c.body["end_date"] ?? .null
        if (start == .null) != (end == .null) {
            return .error(400, "Both start date and end date are either required or are to be null")
        }
        guard let name = c.body["name"]?.stringValue, !name.isEmpty else { return .field("name", "This field is required.") }
        guard c.body["project_id"]?.stringValue != nil else {
            return .json(400, ["non_field_errors": ["Project ID is required"]])
        }
        guard store.projects[project]?["cycle_view"]?.boolValue == true else {
            return .json(400, ["non_field_errors": ["Cycles are not enabled for this project"]])
        }
        if let conflict = externalConflict(store.cycles, project: project, body: c.body, thing: "Cycle") { return conflict }
        let id = newID()
        let lowest = store.cycles.values.filter { $0.project == project }.compactMap { $0["sort_order"]?.doubleValue }.min()
        var fields: [String: JSONValue] = [
            "id": .string(id), "created_at": .string(c.now), "updated_at": .string(c.now), "deleted_at": .null,
            "name": .string(name), "description": .string(c.body["description"]?.stringValue ?? ""),
            "start_date": Self.cycleDate(start, end: false, timezone: projectTimezone(project)),
            "end_date": Self.cycleDate(end, end: true, timezone: projectTimezone(project)), "view_props": [:],
            "sort_order": .double(lowest.map { $0 - 10000 } ?? 65535), "external_source": .null, "external_id": .null,
            "progress_snapshot": [:], "archived_at": .null, "logo_props": [:], "timezone": "UTC", "version": 1,
            "created_by": .string(c.user.id), "updated_by": .null, "project": .string(project), "workspace": .string(store.workspaceID),
            "owned_by": .string(c.user.id),
        ]
        for key in ["external_source", "external_id"] { if let v = c.body[key] { fields[key] = v } }
        store.cycles[id] = Entity(fields: fields)
        return .json(201, renderer(c).cycle(store.cycles[id] ?? Entity(fields: fields), withCounts: false))
    }

    func cycle(_ project: String, _ id: String, _ c: HandlerContext) -> PlaneHTTPReply {
        guard var cycle = store.cycles[id], !cycle.deleted, cycle.project == project else { return .doesNotExist }
        switch c.method {
        case "GET": return .json(200, renderer(c).cycle(cycle, withCounts: true))
        case "PATCH":
            if let conflict = externalConflict(store.cycles, project: project, body: c.body, except: id, thing: "Cycle") { return conflict }
            for key in ["name", "description", "external_source", "external_id", "view_props", "logo_props"] {
                if let v = c.body[key] { cycle[key] = v }
            }
            let zone = projectTimezone(project)
            if let v = c.body["start_date"] { cycle["start_date"] = Self.cycleDate(v, end: false, timezone: zone) }
            if let v = c.body["end_date"] { cycle["end_date"] = Self.cycleDate(v, end: true, timezone: zone) }
            cycle["updated_at"] = .string(c.now)
            cycle["updated_by"] = .string(c.user.id)
            store.cycles[id] = cycle
            return .json(200, renderer(c).cycle(cycle, withCounts: false))
        default:
            cycle.deleted = true
            cycle["deleted_at"] = .string(c.now)
            store.cycles[id] = cycle
            for (linkID, link) in store.cycleLinks where link.fields["cycle"]?.stringValue == id { store.cycleLinks[linkID]?.deleted = true }
            return .noContent
        }
    }

    // MARK: modules

    func listModules(_ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        let items = store.modules.values.filter { $0.project == project && !$0.deleted && !$0.isArchived }
            .sorted { ($0.string("created_at") ?? "", $0.id) > ($1.string("created_at") ?? "", $1.id) }
        let renderer = renderer(c)
        return paginate(items, c) { renderer.module($0, withCounts: true) }
    }

    func createModule(_ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        guard let name = c.body["name"]?.stringValue, !name.isEmpty else { return .field("name", "This field is required.") }
        if let status = c.body["status"]?.stringValue, !Self.moduleStatuses.contains(status) {
            return .field("status", "\"\(status)\" is not a valid choice.")
        }
        guard store.projects[project]?["module_view"]?.boolValue == true else {
            return .json(400, ["non_field_errors": ["Modules are not enabled for this project"]])
        }
        if let conflict = externalConflict(store.modules, project: project, body: c.body, thing: "Module") { return conflict }
        if let same = store.modules.values.first(where: { !$0.deleted && $0.project == project && $0.string("name") == name }) {
            return .json(400, ["id": .string(same.id), "code": "MODULE_NAME_ALREADY_EXISTS",
                               "error": "Module with this name already exists", "message": "Module with this name already exists"])
        }
        let id = newID()
        let lowest = store.modules.values.filter { $0.project == project }.compactMap { $0["sort_order"]?.doubleValue }.min()
        var fields: [String: JSONValue] = [
            "id": .string(id), "created_at": .string(c.now), "updated_at": .string(c.now), "deleted_at": .null,
            "name": .string(name), "description": "", "description_text": .null, "description_html": .null,
            "start_date": .null, "target_date": .null, "status": "planned", "view_props": [:],
            "sort_order": .double(lowest.map { $0 - 10000 } ?? 65535), "external_source": .null, "external_id": .null,
            "archived_at": .null, "logo_props": [:], "created_by": .string(c.user.id), "updated_by": .null,
            "project": .string(project), "workspace": .string(store.workspaceID), "lead": .null, "members": [],
        ]
        for key in ["description", "start_date", "target_date", "status", "lead", "members", "external_source", "external_id"] {
            if let v = c.body[key] { fields[key] = v }
        }
        store.modules[id] = Entity(fields: fields)
        return .json(201, renderer(c).module(store.modules[id] ?? Entity(fields: fields), withCounts: false))
    }

    func module(_ project: String, _ id: String, _ c: HandlerContext) -> PlaneHTTPReply {
        guard var module = store.modules[id], !module.deleted, module.project == project else { return .doesNotExist }
        switch c.method {
        case "GET": return .json(200, renderer(c).module(module, withCounts: true))
        case "PATCH":
            if let status = c.body["status"]?.stringValue, !Self.moduleStatuses.contains(status) {
                return .field("status", "\"\(status)\" is not a valid choice.")
            }
            if let conflict = externalConflict(store.modules, project: project, body: c.body, except: id, thing: "Module") { return conflict }
            for key in ["name", "description", "start_date", "target_date", "status", "lead", "members", "external_source", "external_id"] {
                if let v = c.body[key] { module[key] = v }
            }
            module["updated_at"] = .string(c.now)
            module["updated_by"] = .string(c.user.id)
            store.modules[id] = module
            // Plane answers a module PATCH with the writable fields only.
            return .json(200, renderer(c).modulePatch(module))
        default:
            module.deleted = true
            module["deleted_at"] = .string(c.now)
            store.modules[id] = module
            for (linkID, link) in store.moduleLinks where link.fields["module"]?.stringValue == id { store.moduleLinks[linkID]?.deleted = true }
            return .noContent
        }
    }

    // MARK: links

    private func container(_ kind: Container, _ id: String, project: String) -> Entity? {
        let entity = kind == .cycle ? store.cycles[id] : store.modules[id]
        guard let entity, !entity.deleted, entity.project == project else { return nil }
        return entity
    }

    func listContainerIssues(_ kind: Container, _ project: String, _ id: String, _ c: HandlerContext) -> PlaneHTTPReply {
        guard container(kind, id, project: project) != nil else { return .doesNotExist }
        let ids = store.linkedIssues(kind == .cycle ? store.cycleLinks : store.moduleLinks, key: kind.rawValue, id: id)
        let issues = ids.compactMap { store.issues[$0] }.filter { store.isListed($0) }
        let items = ordered(issues, by: c.request.queryValue("order_by"), default: "-created_at")
        let renderer = renderer(c)
        return paginate(items, c, render: renderer.issue)
    }

    func addContainerIssues(_ kind: Container, _ project: String, _ id: String, _ c: HandlerContext) -> PlaneHTTPReply {
        guard let entity = container(kind, id, project: project) else { return .doesNotExist }
        let requested = (c.body["issues"]?.arrayValue ?? []).compactMap(\.stringValue)
        if requested.isEmpty {
            return kind == .cycle ? .json(400, ["error": "Work items are required", "code": "MISSING_WORK_ITEMS"])
                : .error(400, "Issues are required")
        }
        if kind == .cycle, let end = entity.string("end_date"), end < c.now {
            return .json(400, ["error": "The Cycle has already been completed so no new work items can be added",
                               "code": "CYCLE_COMPLETED"])
        }
        var answer: [JSONValue] = []
        let renderer = renderer(c)
        for issueID in requested {
            guard let issue = store.issues[issueID], !issue.deleted, issue.project == project else { continue }
            var link: Link
            if kind == .cycle, let existing = store.cycleLinks.values.first(where: { !$0.deleted && $0.issue == issueID }) {
                // An issue is in one cycle at most: adding it to another moves its link.
                link = existing
                if link.fields["cycle"]?.stringValue != id {
                    link.fields["cycle"] = .string(id)
                    link.fields["updated_at"] = .string(c.now)
                }
            } else if kind == .module,
                      let existing = store.moduleLinks.values.first(where: { !$0.deleted && $0.issue == issueID && $0.fields["module"]?.stringValue == id }) {
                link = existing
            } else {
                link = Link(fields: [
                    "id": .string(newID()), "created_at": .string(c.now), "updated_at": .string(c.now), "deleted_at": .null,
                    "created_by": kind == .cycle ? .null : .string(c.user.id), "updated_by": kind == .cycle ? .null : .string(c.user.id),
                    "project": .string(project), "workspace": .string(store.workspaceID), "issue": .string(issueID),
                    kind.rawValue: .string(id),
                ])
            }
            if kind == .cycle { store.cycleLinks[link.id] = link } else { store.moduleLinks[link.id] = link }
            // Plane's background activity bumps the issue's updated_at. (The stamp is taken
            // first: nextStamp writes to the store too.)
            let stamp = nextStamp()
            store.issues[issueID]?["updated_at"] = .string(stamp)
            answer.append(renderer.link(link, container: kind.rawValue, listed: true))
        }
        return .json(200, .array(answer))
    }

    func containerIssue(_ kind: Container, _ project: String, _ id: String, _ issueID: String, _ c: HandlerContext) -> PlaneHTTPReply {
        guard container(kind, id, project: project) != nil else { return .doesNotExist }
        let links = kind == .cycle ? store.cycleLinks : store.moduleLinks
        guard let link = links.values.first(where: { !$0.deleted && $0.issue == issueID && $0.fields[kind.rawValue]?.stringValue == id })
        else { return .doesNotExist }
        if c.method == "GET" { return .json(200, renderer(c).link(link, container: kind.rawValue, listed: false)) }
        if kind == .cycle { store.cycleLinks[link.id]?.deleted = true } else { store.moduleLinks[link.id]?.deleted = true }
        let stamp = nextStamp()
        store.issues[issueID]?["updated_at"] = .string(stamp)
        return .noContent
    }
}

// MARK: archiving
extension PlaneCore {
    /// `POST cycles|modules/<id>/archive/` and `DELETE archived-cycles|archived-modules/<id>/unarchive/`:
    /// 204 either way. Plane archives only a cycle that has ended and a module that is completed
    /// or cancelled; the object's `save()` moves its updated_at.
    func archiveContainer(_ kind: Container, _ project: String, _ id: String, archive: Bool, _ c: HandlerContext) -> PlaneHTTPReply {
        let found = kind == .cycle ? store.cycles[id] : store.modules[id]
        guard var entity = found, !entity.deleted, entity.project == project else { return .doesNotExist }
        if archive {
            switch kind {
            case .cycle:
                // `end_date >= now()` on a cycle without dates raises in Plane: its catch-all 500.
                guard let end = entity.string("end_date").flatMap(Stamp.parse) else { return .somethingWentWrong }
                if let now = Stamp.parse(c.now), end >= now { return .error(400, "Only completed cycles can be archived") }
            case .module:
                guard ["completed", "cancelled"].contains(entity.string("status") ?? "") else {
                    return .error(400, "Only completed or cancelled modules can be archived")
                }
            }
        }
        entity["archived_at"] = archive ? .string(c.now) : .null
        entity["updated_at"] = .string(c.now)
        if kind == .cycle { store.cycles[id] = entity } else { store.modules[id] = entity }
        return .noContent
    }

    /// `GET archived-cycles/` and `archived-modules/`: the archived ones, paginated as the main lists.
    func listArchivedContainers(_ kind: Container, _ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        let all = kind == .cycle ? store.cycles.values : store.modules.values
        let items = all.filter { $0.project == project && !$0.deleted && $0.isArchived }
            .sorted { ($0.string("created_at") ?? "", $0.id) > ($1.string("created_at") ?? "", $1.id) }
        let renderer = renderer(c)
        return paginate(items, c) { kind == .cycle ? renderer.cycle($0, withCounts: true) : renderer.module($0, withCounts: true) }
    }
}
