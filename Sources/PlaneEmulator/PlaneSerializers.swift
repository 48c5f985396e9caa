import Foundation
import OdooSyncCore

/// Plane's serializers: the keys of each object in the order the real server sends them
/// (taken from the recorded samples), computed fields, `fields=` trimming and the user's
/// timezone on datetimes.
struct PlaneRenderer {
    let store: PlaneStore
    let viewer: PlaneUser
    /// `fields=a,b`: only those keys, still in serializer order.
    var only: Set<String>? = nil

    static let issueKeys = [
        "id", "type_id", "created_at", "updated_at", "deleted_at", "point", "name", "description_html", "description_binary",
        "priority", "start_date", "target_date", "sequence_id", "sort_order", "completed_at", "archived_at", "is_draft",
        "external_source", "external_id", "created_by", "updated_by", "project", "workspace", "parent", "state", "estimate_point",
        "type", "assignees", "labels",
    ]
    static let projectKeys = [
        "id", "total_members", "total_cycles", "total_modules", "is_member", "member_role", "is_deployed", "cover_image_url",
        "created_at", "updated_at", "deleted_at", "name", "description", "description_text", "description_html", "network",
        "identifier", "emoji", "icon_prop", "module_view", "cycle_view", "issue_views_view", "page_view", "intake_view",
        "is_time_tracking_enabled", "is_issue_type_enabled", "guest_view_all_features", "cover_image", "archive_in", "close_in",
        "logo_props", "archived_at", "timezone", "external_source", "external_id", "created_by", "updated_by", "workspace",
        "default_assignee", "project_lead", "cover_image_asset", "estimate", "default_state",
    ]
    static let stateKeys = [
        "id", "created_at", "updated_at", "deleted_at", "name", "description", "color", "slug", "sequence", "group", "is_triage",
        "default", "external_source", "external_id", "created_by", "updated_by", "project", "workspace",
    ]
    static let labelKeys = [
        "id", "created_at", "updated_at", "deleted_at", "name", "description", "color", "sort_order", "external_source",
        "external_id", "created_by", "updated_by", "workspace", "project", "parent",
    ]
    static let countKeys = ["total_issues", "cancelled_issues", "completed_issues", "started_issues", "unstarted_issues", "backlog_issues"]
    static let cycleKeys = [
        "id", "created_at", "updated_at", "deleted_at", "name", "description", "start_date", "end_date", "view_props", "sort_order",
        "external_source", "external_id", "progress_snapshot", "archived_at", "logo_props", "timezone", "version", "created_by",
        "updated_by", "project", "workspace", "owned_by",
    ]
    static let moduleKeys = [
        "id", "created_at", "updated_at", "deleted_at", "name", "description", "description_text", "description_html", "start_date",
        "target_date", "status", "view_props", "sort_order", "external_source", "external_id", "archived_at", "logo_props",
        "created_by", "updated_by", "project", "workspace", "lead", "members",
    ]
    static let modulePatchKeys = ["name", "description", "start_date", "target_date", "status", "lead", "external_source", "external_id"]
    static let linkKeys = ["id", "sub_issues_count", "created_at", "updated_at", "deleted_at", "created_by", "updated_by", "project", "workspace"]
    static let userKeys = ["id", "first_name", "last_name", "email", "avatar", "avatar_url", "display_name"]
    static let datetimeKeys: Set<String> = ["created_at", "updated_at", "deleted_at", "completed_at", "archived_at"]

    private func object(_ keys: [String], _ value: (String) -> JSONValue) -> JSONValue {
        var pairs: [(String, JSONValue)] = []
        pairs.reserveCapacity(keys.count)
        for key in keys where only.map({ $0.contains(key) }) ?? true {
            var v = value(key)
            if Self.datetimeKeys.contains(key), viewer.timezone != "UTC", case .string(let text) = v {
                v = .string(Stamp.render(text, timezone: viewer.timezone))
            }
            pairs.append((key, v))
        }
        return .object(pairs)
    }

    func issue(_ e: Entity) -> JSONValue {
        object(Self.issueKeys) { key in
            switch key {
            case "assignees", "labels": return e[key] ?? []
            default: return e[key] ?? .null
            }
        }
    }

    func project(_ e: Entity, inList: Bool = false) -> JSONValue {
        let keys = inList ? Array(Self.projectKeys[0..<5]) + ["sort_order"] + Self.projectKeys[5...] : Self.projectKeys
        let members = store.projectMembers[e.id] ?? [:]
        return object(keys) { key in
            switch key {
            case "total_members": return .int(members.count)
            case "total_cycles": return .int(store.cycles.values.filter { !$0.deleted && $0.project == e.id }.count)
            case "total_modules": return .int(store.modules.values.filter { !$0.deleted && $0.project == e.id }.count)
            case "is_member": return .bool(members[viewer.id] != nil)
            case "member_role": return members[viewer.id].map(JSONValue.int) ?? .null
            case "sort_order": return members[viewer.id] != nil ? .double(65535) : .null
            case "is_deployed": return false
            default: return e[key] ?? .null
            }
        }
    }

    func state(_ e: Entity) -> JSONValue { object(Self.stateKeys) { e[$0] ?? .null } }

    func label(_ e: Entity) -> JSONValue { object(Self.labelKeys) { e[$0] ?? .null } }

    /// Counts of a cycle's or module's listed issues by state group.
    private func counts(_ issueIDs: [String]) -> [String: Int] {
        var out = ["total_issues": 0, "cancelled_issues": 0, "completed_issues": 0, "started_issues": 0, "unstarted_issues": 0,
                   "backlog_issues": 0]
        for id in issueIDs {
            guard let issue = store.issues[id], store.isListed(issue) else { continue }
            out["total_issues", default: 0] += 1
            if let group = store.stateGroup(issue.string("state")) { out["\(group)_issues", default: 0] += 1 }
        }
        return out
    }

    func cycle(_ e: Entity, withCounts: Bool) -> JSONValue {
        let counts = withCounts ? counts(store.linkedIssues(store.cycleLinks, key: "cycle", id: e.id)) : [:]
        let keys = withCounts ? ["id"] + Self.countKeys + Self.cycleKeys.dropFirst() : Self.cycleKeys
        return object(keys) { key in
            // Cycle dates are datetimes, rendered in the viewer's timezone like every other.
            if key == "start_date" || key == "end_date", viewer.timezone != "UTC", case .string(let text)? = e[key] {
                return .string(Stamp.render(text, timezone: viewer.timezone))
            }
            return counts[key].map(JSONValue.int) ?? e[key] ?? .null
        }
    }

    func module(_ e: Entity, withCounts: Bool) -> JSONValue {
        let counts = withCounts ? counts(store.linkedIssues(store.moduleLinks, key: "module", id: e.id)) : [:]
        let keys = withCounts ? ["id"] + Self.countKeys + Self.moduleKeys.dropFirst() : Self.moduleKeys
        return object(keys) { key in
            if key == "members" { return e[key] ?? [] }
            return counts[key].map(JSONValue.int) ?? e[key] ?? .null
        }
    }

    /// What a module PATCH answers: the writable fields, without the id.
    func modulePatch(_ e: Entity) -> JSONValue { object(Self.modulePatchKeys) { e[$0] ?? .null } }

    /// A cycle-issue or module-issue link; `listed` adds sub_issues_count as POST answers do.
    func link(_ l: Link, container: String, listed: Bool) -> JSONValue {
        var keys = Self.linkKeys
        if !listed { keys.removeAll { $0 == "sub_issues_count" } }
        // The recorded answers put the cycle after the issue but the module before it.
        keys += container == "cycle" ? ["issue", "cycle"] : ["module", "issue"]
        return object(keys) { key in key == "sub_issues_count" ? 0 : l.fields[key] ?? .null }
    }

    func user(_ u: PlaneUser, role: Int? = nil) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("id", .string(u.id)), ("first_name", .string(u.firstName)), ("last_name", .string(u.lastName)),
            ("email", .string(u.email)), ("avatar", ""), ("avatar_url", .null), ("display_name", .string(u.displayName)),
        ]
        if let role { pairs.append(("role", .int(role))) }
        return .object(pairs)
    }

    /// Plane's paginated envelope around `results`.
    static func page(results: [JSONValue], total: Int, perPage: Int, pageIndex: Int) -> JSONValue {
        let totalPages = total == 0 ? 0 : (total + perPage - 1) / perPage
        return .object([
            ("grouped_by", .null), ("sub_grouped_by", .null), ("total_count", .int(total)),
            ("next_cursor", .string("\(perPage):\(pageIndex + 1):0")), ("prev_cursor", .string("\(perPage):\(pageIndex - 1):1")),
            ("next_page_results", .bool((pageIndex + 1) * perPage < total)), ("prev_page_results", .bool(pageIndex > 0)),
            ("count", .int(results.count)), ("total_pages", .int(totalPages)), ("total_results", .int(total)),
            ("extra_stats", .null), ("results", .array(results)),
        ])
    }
}
