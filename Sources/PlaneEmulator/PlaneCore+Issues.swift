import Foundation
import OdooSyncCore

/// Work items: list (with `order_by`, `fields` and the external-key lookup), create, read,
/// patch, delete, read by key, search.
extension PlaneCore {
    static let priorities = ["urgent", "high", "medium", "low", "none"]

    func listIssues(_ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        if let externalID = c.request.queryValue("external_id"), let source = c.request.queryValue("external_source"),
           !externalID.isEmpty, !source.isEmpty {
            // Issue.objects.get: archived and draft issues count, several matches are a 500.
            let matches = store.issues.values.filter {
                !$0.deleted && $0.project == project && $0.string("external_id") == externalID && $0.string("external_source") == source
            }
            guard matches.count <= 1 else { return .somethingWentWrong }
            guard let issue = matches.first else { return .doesNotExist }
            return .json(200, renderer(c).issue(issue))
        }
        let order = c.request.queryValue("order_by")
        let items = cachedList("issues|\(project)|\(order ?? "")") {
            ordered(store.listedIssues(project: project), by: order, default: "-created_at")
        }
        let renderer = renderer(c)
        return paginate(items, c, render: renderer.issue)
    }

    func getIssue(_ project: String, _ id: String, _ c: HandlerContext) -> PlaneHTTPReply {
        // The detail view reads issue_objects: archived and draft issues are 404 here.
        guard let issue = store.issues[id], issue.project == project, store.isListed(issue) else { return .doesNotExist }
        return .json(200, renderer(c).issue(issue))
    }

    /// IssueSerializer's validation of the given fields against the project; returns the
    /// field values to store, or the 400 answer.
    func validateIssueFields(_ body: [String: JSONValue], project: String, existing: Entity?, now: String) -> Result<[String: JSONValue], PlaneHTTPReply> {
        var errors: [(String, JSONValue)] = []
        var out: [String: JSONValue] = [:]
        if let value = body["name"] {
            if let name = value.stringValue, !name.isEmpty {
                // Django's max_length counts with Python's len: code points, not graphemes.
                if name.unicodeScalars.count > 255 { errors.append(("name", ["Ensure this field has no more than 255 characters."])) } else { out["name"] = value }
            } else {
                errors.append(("name", [value == .null ? "This field may not be null." : "This field may not be blank."]))
            }
        } else if existing == nil {
            errors.append(("name", ["This field is required."]))
        }
        if let value = body["priority"] {
            if let p = value.stringValue, Self.priorities.contains(p) { out["priority"] = value } else {
                errors.append(("priority", [.string("\"\(value.stringValue ?? value.serialized)\" is not a valid choice.")]))
            }
        }
        var foreignState = false
        if let value = body["state"], value != .null {
            if let id = value.stringValue, Stamp.isUUID(id) {
                if let state = store.states[id], !state.deleted {
                    if state.project != project { foreignState = true } else { out["state"] = value }
                } else {
                    errors.append(("state", [.string("Invalid pk \"\(id)\" - object does not exist.")]))
                }
            } else {
                errors.append(("state", [.string("“\(value.stringValue ?? value.serialized)” is not a valid UUID.")]))
            }
        }
        if let value = body["parent"] {
            if value == .null { out["parent"] = .null } else if let id = value.stringValue, store.issues[id].map({ !$0.deleted }) ?? false {
                out["parent"] = value
            } else {
                errors.append(("parent", [.string("Invalid pk \"\(value.stringValue ?? value.serialized)\" - object does not exist.")]))
            }
        }
        for key in ["start_date", "target_date"] {
            guard let value = body[key] else { continue }
            if value == .null || (value.stringValue.map(Self.isDate) ?? false) { out[key] = value } else {
                errors.append((key, ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]))
            }
        }
        for key in ["external_id", "external_source"] {
            if let value = body[key] { out[key] = value.stringValue.map(JSONValue.string) ?? (value == .null ? .null : .string(value.serialized)) }
        }
        if let value = body["is_draft"]?.boolValue { out["is_draft"] = .bool(value) }
        if let value = body["description_html"] {
            out["description_html"] = .string(PlaneHTML.sanitize(value.stringValue ?? ""))
        }
        if let value = body["labels"]?.arrayValue {
            // Labels of other projects are dropped without a word, as Plane does.
            out["labels"] = .array(value.filter { id in
                id.stringValue.flatMap { store.labels[$0] }.map { !$0.deleted && $0.project == project } ?? false
            })
        }
        if let value = body["assignees"]?.arrayValue {
            out["assignees"] = .array(value.filter { id in (id.stringValue.flatMap { store.projectRole(project, user: $0) } ?? 0) >= 15 })
        }
        if !errors.isEmpty { return .failure(.json(400, .object(errors))) }
        if foreignState { return .failure(.json(400, ["non_field_errors": ["State is not valid please pass a valid state_id"]])) }
        let start = out["start_date"] ?? existing?["start_date"] ?? .null
        let target = out["target_date"] ?? existing?["target_date"] ?? .null
        if let s = start.stringValue, let t = target.stringValue, s > t {
            return .failure(.json(400, ["non_field_errors": ["Start date cannot exceed target date"]]))
        }
        return .success(out)
    }

    static func isDate(_ text: String) -> Bool {
        guard text.utf8.count == 10, let micros = Stamp.parse(text + "T00:00:00Z") else { return false }
        return Stamp.text(micros).hasPrefix(text)
    }

    /// Sets completed_at when an issue enters a completed state and clears it when it leaves.
    func applyCompletion(_ issue: inout Entity, previousState: String?, now: String) {
        let group = store.stateGroup(issue.string("state"))
        if group == "completed" {
            if store.stateGroup(previousState) != "completed" || issue["completed_at"] == .null { issue["completed_at"] = .string(now) }
        } else {
            issue["completed_at"] = .null
        }
    }

    func createIssue(_ project: String, _ c: HandlerContext) -> PlaneHTTPReply {
        let fields: [String: JSONValue]
        switch validateIssueFields(c.body, project: project, existing: nil, now: c.now) {
        case .failure(let reply): return reply
        case .success(let valid): fields = valid
        }
        if let conflict = externalConflict(store.issues, project: project, body: c.body, thing: "Issue") { return conflict }
        let issue = insertIssue(project: project, fields: fields, by: c.user.id, now: c.now)
        return .json(201, renderer(c).issue(issue))
    }

    /// Stores a new issue with the defaults of a create (call with the lock held).
    @discardableResult
    func insertIssue(project: String, fields: [String: JSONValue], by user: String, now: String) -> Entity {
        let id = newID()
        let sequence = (store.sequences[project] ?? 0) + 1
        store.sequences[project] = sequence
        let lastSort = store.lastSortOrder[project]
        let defaultState = store.states.values.first { $0.project == project && !$0.deleted && $0["default"]?.boolValue == true }?.id
        var issue = Entity(fields: [
            "id": .string(id), "type_id": .null, "created_at": .string(now), "updated_at": .string(now), "deleted_at": .null,
            "point": .null, "name": "", "description_html": "<p></p>", "description_binary": .null, "priority": "none",
            "start_date": .null, "target_date": .null, "sequence_id": .int(sequence),
            "sort_order": .double(lastSort.map { $0 + 10000 } ?? 65535), "completed_at": .null, "archived_at": .null,
            "is_draft": false, "external_source": .null, "external_id": .null, "created_by": .string(user), "updated_by": .null,
            "project": .string(project), "workspace": .string(store.workspaceID), "parent": .null,
            "state": defaultState.map(JSONValue.string) ?? .null, "estimate_point": .null, "type": .null, "assignees": [], "labels": [],
        ])
        for (key, value) in fields { issue[key] = value }
        applyCompletion(&issue, previousState: nil, now: now)
        store.issues[id] = issue
        store.lastSortOrder[project] = max(store.lastSortOrder[project] ?? 0, issue["sort_order"]?.doubleValue ?? 0)
        return issue
    }

    func updateIssue(_ project: String, _ id: String, _ c: HandlerContext) -> PlaneHTTPReply {
        // PATCH reads Issue.objects: an archived issue can still be changed.
        guard let existing = store.issues[id], !existing.deleted, existing.project == project else { return .doesNotExist }
        let fields: [String: JSONValue]
        switch validateIssueFields(c.body, project: project, existing: existing, now: c.now) {
        case .failure(let reply): return reply
        case .success(let valid): fields = valid
        }
        if let externalID = c.body["external_id"]?.stringValue, existing.string("external_id") != externalID {
            let source = c.body["external_source"]?.stringValue ?? existing.string("external_source")
            if store.issues.values.contains(where: {
                !$0.deleted && $0.project == project && $0.string("external_id") == externalID && $0.string("external_source") == source
            }) {
                // Plane names the patched issue here, not the one holding the key.
                return .json(409, ["error": "Issue with the same external id and external source already exists", "id": .string(id)])
            }
        }
        let issue = applyIssueChange(id, fields: fields, by: c.user.id, now: c.now)
        return .json(200, renderer(c).issue(issue))
    }

    /// Writes validated fields to an issue, bumping updated_at (call with the lock held).
    @discardableResult
    func applyIssueChange(_ id: String, fields: [String: JSONValue], by user: String, now: String) -> Entity {
        guard var issue = store.issues[id] else { return Entity(fields: [:]) }
        let previousState = issue.string("state")
        for (key, value) in fields { issue[key] = value }
        if fields["state"] != nil { applyCompletion(&issue, previousState: previousState, now: now) }
        issue["updated_at"] = .string(now)
        issue["updated_by"] = .string(user)
        store.issues[id] = issue
        return issue
    }

    func deleteIssue(_ project: String, _ id: String) -> PlaneHTTPReply {
        guard let issue = store.issues[id], !issue.deleted, issue.project == project else { return .doesNotExist }
        removeIssue(id)
        return .noContent
    }

    /// Soft-deletes an issue and its cycle and module links (call with the lock held).
    func removeIssue(_ id: String) {
        let now = nextStamp()
        store.issues[id]?.deleted = true
        store.issues[id]?["deleted_at"] = .string(now)
        for (linkID, link) in store.cycleLinks where link.issue == id && !link.deleted { store.cycleLinks[linkID]?.deleted = true }
        for (linkID, link) in store.moduleLinks where link.issue == id && !link.deleted { store.moduleLinks[linkID]?.deleted = true }
    }

    func issueByKey(_ identifier: String, _ sequence: Int, _ c: HandlerContext) -> PlaneHTTPReply {
        guard let project = store.projects.values.first(where: { !$0.deleted && $0.string("identifier") == identifier }),
              store.projectRole(project.id, user: c.user.id) != nil,
              let issue = store.issues.values.first(where: { $0.project == project.id && $0["sequence_id"]?.intValue == sequence && store.isListed($0) })
        else { return .doesNotExist }
        return .json(200, renderer(c).issue(issue))
    }

    func searchIssues(_ c: HandlerContext) -> PlaneHTTPReply {
        guard let term = c.request.queryValue("search"), !term.isEmpty else {
            return .error(400, "Search query is required")
        }
        let projects = store.projects.values.filter { !$0.deleted && store.projectRole($0.id, user: c.user.id) != nil }
        var found: [JSONValue] = []
        for project in projects {
            for issue in store.listedIssues(project: project.id) where issue.string("name")?.lowercased().contains(term.lowercased()) == true {
                found.append(.object([
                    ("name", issue["name"] ?? ""), ("id", .string(issue.id)), ("sequence_id", issue["sequence_id"] ?? .null),
                    ("project__identifier", project["identifier"] ?? .null), ("project_id", .string(project.id)),
                    ("workspace__slug", .string(store.workspaceSlug)),
                ]))
            }
        }
        return .json(200, ["issues": .array(found)])
    }
}
