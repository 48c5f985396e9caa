import Foundation
import OdooSyncCore

/// Projects, project members, states and labels.
extension PlaneCore {
    static let projectWritable: Set<String> = [
        "name", "identifier", "description", "description_html", "network", "emoji", "icon_prop", "module_view", "cycle_view",
        "issue_views_view", "page_view", "intake_view", "is_time_tracking_enabled", "archive_in", "close_in", "logo_props",
        "timezone", "external_source", "external_id", "default_assignee", "project_lead", "estimate", "default_state",
    ]

    func listProjects(_ c: HandlerContext) -> PlaneHTTPReply {
        let visible = store.projects.values.filter { project in
            !project.deleted && (store.projectRole(project.id, user: c.user.id) != nil || project["network"]?.intValue == 2)
        }
        let byCreation = visible.sorted { ($0.string("created_at") ?? "", $0.id) < ($1.string("created_at") ?? "", $1.id) }
        let items = c.request.queryValue("order_by").map { ordered(byCreation, by: $0, default: "created_at") } ?? byCreation
        let renderer = renderer(c)
        return paginate(items, c) { renderer.project($0, inList: true) }
    }

    private func projectNameTaken(name: String?, identifier: String?, except: String?) -> Bool {
        store.projects.values.contains { p in
            !p.deleted && p.id != except
                && ((name != nil && p.string("name")?.lowercased() == name?.lowercased()) || (identifier != nil && p.string("identifier") == identifier))
        }
    }

    func createProject(_ c: HandlerContext) -> PlaneHTTPReply {
        var errors: [(String, JSONValue)] = []
        let name = c.body["name"]?.stringValue
        if name?.isEmpty ?? true { errors.append(("name", [.string(name == nil ? "This field is required." : "This field may not be blank.")])) }
        let identifier = c.body["identifier"]?.stringValue?.uppercased()
        if identifier?.isEmpty ?? true {
            errors.append(("identifier", [.string(identifier == nil ? "This field is required." : "This field may not be blank.")]))
        }
        if !errors.isEmpty { return .json(400, .object(errors)) }
        if projectNameTaken(name: name, identifier: identifier, except: nil) {
            return .json(409, ["name": "The project name is already taken"])
        }
        let id = newID()
        var fields: [String: JSONValue] = [
            "id": .string(id), "created_at": .string(c.now), "updated_at": .string(c.now), "deleted_at": .null,
            "description": "", "description_text": .null, "description_html": .null, "network": 2, "emoji": .null, "icon_prop": .null,
            "module_view": false, "cycle_view": false, "issue_views_view": false, "page_view": true, "intake_view": false,
            "is_time_tracking_enabled": false, "is_issue_type_enabled": false, "guest_view_all_features": false, "cover_image": .null,
            "cover_image_url": .null, "archive_in": 0, "close_in": 0,
            "logo_props": ["icon": ["name": "quiz", "color": "#f2be02"], "in_use": "icon"], "archived_at": .null, "timezone": "UTC",
            "external_source": .null, "external_id": .null, "created_by": .string(c.user.id), "updated_by": .null,
            "workspace": .string(store.workspaceID), "default_assignee": .null, "project_lead": .null, "cover_image_asset": .null,
            "estimate": .null, "default_state": .null,
        ]
        for (key, value) in c.body where Self.projectWritable.contains(key) { fields[key] = value }
        fields["identifier"] = .string(identifier ?? "")
        store.projects[id] = Entity(fields: fields)
        store.projectMembers[id] = [c.user.id: 20]
        let defaults: [(String, String, String, Double, Bool)] = [
            ("Backlog", "#60646C", "backlog", 15000, true), ("Todo", "#60646C", "unstarted", 25000, false),
            ("In Progress", "#F59E0B", "started", 35000, false), ("Done", "#46A758", "completed", 45000, false),
            ("Cancelled", "#9AA4BC", "cancelled", 55000, false), ("Triage", "#4E5355", "triage", 65000, false),
        ]
        for (name, color, group, sequence, isDefault) in defaults {
            let stateID = newID()
            let stamp = nextStamp()
            store.states[stateID] = Entity(fields: [
                "id": .string(stateID), "created_at": .string(stamp), "updated_at": .string(stamp), "deleted_at": .null,
                "name": .string(name), "description": "", "color": .string(color), "slug": "", "sequence": .double(sequence),
                "group": .string(group), "is_triage": .bool(group == "triage"), "default": .bool(isDefault),
                "external_source": .null, "external_id": .null, "created_by": .string(c.user.id), "updated_by": .null,
                "project": .string(id), "workspace": .string(store.workspaceID),
            ])
        }
        return .json(201, renderer(c).project(store.projects[id] ?? Entity(fields: fields)))
    }

    func updateProject(_ id: String, _ c: HandlerContext) -> PlaneHTTPReply {
        guard var project = store.projects[id] else { return .doesNotExist }
        let name = c.body["name"]?.stringValue
        let identifier = c.body["identifier"]?.stringValue?.uppercased()
        if let name, name.isEmpty { return .field("name", "This field may not be blank.") }
        if projectNameTaken(name: name, identifier: identifier, except: id) {
            return .json(409, ["name": "The project name is already taken"])
        }
        for (key, value) in c.body where Self.projectWritable.contains(key) { project[key] = value }
        if let identifier { project["identifier"] = .string(identifier) }
        project["updated_at"] = .string(c.now)
        project["updated_by"] = .string(c.user.id)
        store.projects[id] = project
        return .json(200, renderer(c).project(project))
    }

    func deleteProject(_ id: String) -> PlaneHTTPReply {
        let stamp = nextStamp()
        store.projects[id]?.deleted = true
        store.projects[id]?["deleted_at"] = .string(stamp)
        return .noContent
    }

    func archiveProject(_ id: String, archive: Bool, _ c: HandlerContext) -> PlaneHTTPReply {
        // Plane saves the project, so its updated_at moves too.
        store.projects[id]?["archived_at"] = archive ? .string(c.now) : .null
        store.projects[id]?["updated_at"] = .string(c.now)
        return .noContent
    }

    // MARK: members

    func listProjectMembers(_ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        let members = store.projectMembers[project] ?? [:]
        let users = store.userOrder.filter { members[$0] != nil }.compactMap { store.users[$0] }
        return .json(200, .array(users.map { renderer(c).user($0) }))
    }

    func addProjectMember(_ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        guard let member = c.body["member"]?.stringValue else { return .field("member", "This field is required.") }
        guard store.users[member] != nil else { return .field("member", "Invalid pk \"\(member)\" - object does not exist.") }
        let role = c.body["role"]?.intValue ?? 15
        guard [5, 15, 20].contains(role) else { return .field("role", "\"\(role)\" is not a valid choice.") }
        store.projectMembers[project, default: [:]][member] = role
        return .json(201, ["id": .string(newID()), "member": .string(member), "role": .int(role)])
    }

    func projectMember(_ project: String, _ member: String, _ c: HandlerContext) -> PlaneHTTPReply {
        guard store.projectMembers[project]?[member] != nil, let user = store.users[member] else { return .doesNotExist }
        switch c.method {
        case "GET": return .json(200, renderer(c).user(user))
        case "PATCH":
            if let role = c.body["role"]?.intValue { store.projectMembers[project]?[member] = role }
            return .json(200, renderer(c).user(user))
        default:
            store.projectMembers[project]?[member] = nil
            return .noContent
        }
    }

    // MARK: states

    static let stateGroups = ["backlog", "unstarted", "started", "completed", "cancelled", "triage"]

    func listStates(_ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        let items = store.states.values.filter { $0.project == project && !$0.deleted && $0["is_triage"]?.boolValue != true }
            .sorted { ($0["sequence"]?.doubleValue ?? 0, $0.id) < ($1["sequence"]?.doubleValue ?? 0, $1.id) }
        let renderer = renderer(c)
        return paginate(items, c, render: renderer.state)
    }

    /// The 409 Plane sends when another record of the project has the same external key.
    func externalConflict(_ entities: [String: Entity], project: String, body: [String: JSONValue], except: String? = nil,
                          thing: String) -> PlaneHTTPReply? {
        guard let externalID = body["external_id"]?.stringValue, let source = body["external_source"]?.stringValue,
              !externalID.isEmpty, !source.isEmpty else { return nil }
        guard let existing = entities.values.first(where: {
            !$0.deleted && $0.project == project && $0.id != except && $0.string("external_id") == externalID
                && $0.string("external_source") == source
        }) else { return nil }
        return .json(409, ["error": .string("\(thing) with the same external id and external source already exists"),
                           "id": .string(existing.id)])
    }

    func createState(_ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        var errors: [(String, JSONValue)] = []
        let name = c.body["name"]?.stringValue
        if name?.isEmpty ?? true { errors.append(("name", ["This field is required."])) }
        if c.body["color"]?.stringValue == nil { errors.append(("color", ["This field is required."])) }
        if let group = c.body["group"]?.stringValue, !Self.stateGroups.contains(group) {
            errors.append(("group", [.string("\"\(group)\" is not a valid choice.")]))
        }
        if !errors.isEmpty { return .json(400, .object(errors)) }
        if let conflict = externalConflict(store.states, project: project, body: c.body, thing: "State") { return conflict }
        if let same = store.states.values.first(where: { !$0.deleted && $0.project == project && $0.string("name") == name }) {
            return .json(409, ["error": "State with the same name already exists in the project", "id": .string(same.id)])
        }
        let id = newID()
        let last = store.states.values.filter { $0.project == project && !$0.deleted }.compactMap { $0["sequence"]?.doubleValue }.max() ?? 0
        var fields: [String: JSONValue] = [
            "id": .string(id), "created_at": .string(c.now), "updated_at": .string(c.now), "deleted_at": .null,
            "name": .string(name ?? ""), "description": "", "color": .string(c.body["color"]?.stringValue ?? ""),
            "slug": .string(Self.slugify(name ?? "")), "sequence": .double(last + 15000), "group": .string(c.body["group"]?.stringValue ?? "backlog"),
            "is_triage": false, "default": false, "external_source": .null, "external_id": .null,
            "created_by": .string(c.user.id), "updated_by": .null, "project": .string(project), "workspace": .string(store.workspaceID),
        ]
        for key in ["description", "external_source", "external_id", "sequence"] { if let v = c.body[key] { fields[key] = v } }
        store.states[id] = Entity(fields: fields)
        // Plane answers a state create with 200, not 201.
        return .json(200, renderer(c).state(store.states[id] ?? Entity(fields: fields)))
    }

    func state(_ project: String, _ id: String, _ c: HandlerContext) -> PlaneHTTPReply {
        guard var state = store.states[id], !state.deleted, state.project == project else { return .doesNotExist }
        switch c.method {
        case "GET": return .json(200, renderer(c).state(state))
        case "PATCH":
            if let group = c.body["group"]?.stringValue, !Self.stateGroups.contains(group) {
                return .field("group", "\"\(group)\" is not a valid choice.")
            }
            if let conflict = externalConflict(store.states, project: project, body: c.body, except: id, thing: "State") { return conflict }
            for key in ["name", "description", "color", "sequence", "group", "default", "external_source", "external_id"] {
                if let v = c.body[key] { state[key] = v }
            }
            state["updated_at"] = .string(c.now)
            state["updated_by"] = .string(c.user.id)
            store.states[id] = state
            return .json(200, renderer(c).state(state))
        default:
            if state["default"]?.boolValue == true { return .error(400, "Default state cannot be deleted") }
            if store.issues.values.contains(where: { !$0.deleted && $0.string("state") == id }) {
                return .error(400, "The state is not empty, only empty states can be deleted")
            }
            state.deleted = true
            state["deleted_at"] = .string(c.now)
            store.states[id] = state
            return .noContent
        }
    }

    static func slugify(_ text: String) -> String {
        var out = ""
        var dash = false
        for scalar in text.lowercased().unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) {
                out.unicodeScalars.append(scalar)
                dash = false
            } else if !dash, !out.isEmpty {
                out.append("-")
                dash = true
            }
        }
        return out.hasSuffix("-") ? String(out.dropLast()) : out
    }

    // MARK: labels

    func listLabels(_ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        let items = store.labels.values.filter { $0.project == project && !$0.deleted }
            .sorted { ($0.string("created_at") ?? "", $0.id) > ($1.string("created_at") ?? "", $1.id) }
        let renderer = renderer(c)
        return paginate(items, c, render: renderer.label)
    }

    func createLabel(_ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        guard let name = c.body["name"]?.stringValue, !name.isEmpty else { return .field("name", "This field is required.") }
        if let conflict = externalConflict(store.labels, project: project, body: c.body, thing: "Label") { return conflict }
        if let same = store.labels.values.first(where: { !$0.deleted && $0.project == project && $0.string("name") == name }) {
            return .json(409, ["error": "Label with the same name already exists in the project", "id": .string(same.id)])
        }
        let id = newID()
        let last = store.labels.values.filter { $0.project == project }.compactMap { $0["sort_order"]?.doubleValue }.max()
        var fields: [String: JSONValue] = [
            "id": .string(id), "created_at": .string(c.now), "updated_at": .string(c.now), "deleted_at": .null,
            "name": .string(name), "description": "", "color": "", "sort_order": .double(last.map { $0 + 10000 } ?? 65535),
            "external_source": .null, "external_id": .null, "created_by": .string(c.user.id), "updated_by": .null,
            "workspace": .string(store.workspaceID), "project": .string(project), "parent": .null,
        ]
        for key in ["description", "color", "external_source", "external_id", "parent"] { if let v = c.body[key] { fields[key] = v } }
        store.labels[id] = Entity(fields: fields)
        return .json(201, renderer(c).label(store.labels[id] ?? Entity(fields: fields)))
    }

    func label(_ project: String, _ id: String, _ c: HandlerContext) -> PlaneHTTPReply {
        guard var label = store.labels[id], !label.deleted, label.project == project else { return .doesNotExist }
        switch c.method {
        case "GET": return .json(200, renderer(c).label(label))
        case "PATCH":
            if let conflict = externalConflict(store.labels, project: project, body: c.body, except: id, thing: "Label") { return conflict }
            if let name = c.body["name"]?.stringValue,
               store.labels.values.contains(where: { !$0.deleted && $0.project == project && $0.id != id && $0.string("name") == name }) {
                return .json(409, ["error": "Label with the same name already exists in the project", "id": .string(id)])
            }
            for key in ["name", "description", "color", "parent", "sort_order", "external_source", "external_id"] {
                if let v = c.body[key] { label[key] = v }
            }
            label["updated_at"] = .string(c.now)
            label["updated_by"] = .string(c.user.id)
            store.labels[id] = label
            return .json(200, renderer(c).label(label))
        default:
            label.deleted = true
            label["deleted_at"] = .string(c.now)
            store.labels[id] = label
            for (issueID, issue) in store.issues where issue["labels"]?.arrayValue?.contains(.string(id)) == true {
                store.issues[issueID]?["labels"] = .array((issue["labels"]?.arrayValue ?? []).filter { $0 != .string(id) })
            }
            return .noContent
        }
    }
}
