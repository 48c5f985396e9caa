import Foundation
import OdooSyncCore

/// `external_source` + `external_id`: how a record made by odoosync is recognised in Plane.
public struct PlaneExternalKey: Sendable, Hashable, CustomStringConvertible {
    public var source: String
    public var id: String
    public init(source: String, id: String) {
        self.source = source
        self.id = id
    }
    public var description: String { "\(source)/\(id)" }

    init?(_ json: JSONValue) {
        guard let source = json["external_source"]?.stringValue, let id = json["external_id"]?.stringValue,
              !source.isEmpty, !id.isEmpty else { return nil }
        self.init(source: source, id: id)
    }

    var fields: [(String, JSONValue)] { [("external_id", .string(id)), ("external_source", .string(source))] }
}

public enum PlanePriority: String, Sendable, CaseIterable {
    case urgent, high, medium, low, none
}

public enum PlaneStateGroup: String, Sendable, CaseIterable {
    case backlog, unstarted, started, completed, cancelled, triage
}

/// Typed views of Plane's objects. Each keeps `raw`, the object as Plane sent it, which is
/// what the mirror stores; the typed fields are for code that needs them.
public struct PlaneProject: Sendable {
    public var id: String
    public var name: String
    public var identifier: String
    public var description: String
    public var archivedAt: String?
    public var cycleView: Bool
    public var moduleView: Bool
    public var external: PlaneExternalKey?
    public var updatedAt: String?
    /// Whether the key's user is a member. Plane lists public projects to every workspace
    /// member, and answers 403 for anything inside one its user has not joined. Nil when the
    /// answer leaves it out (`fields=`, an older server).
    public var isMember: Bool?
    public var raw: JSONValue

    public init(json: JSONValue) throws {
        id = try PlaneDecode.id(json, "project")
        name = json["name"]?.stringValue ?? ""
        identifier = json["identifier"]?.stringValue ?? ""
        description = json["description"]?.stringValue ?? ""
        archivedAt = json["archived_at"]?.stringValue.flatMap(PlaneTime.normalize)
        cycleView = json["cycle_view"]?.boolValue ?? false
        moduleView = json["module_view"]?.boolValue ?? false
        external = PlaneExternalKey(json)
        updatedAt = json["updated_at"]?.stringValue.flatMap(PlaneTime.normalize)
        isMember = json["is_member"]?.boolValue
        raw = json
    }
}

public struct PlaneState: Sendable {
    public var id: String
    public var projectID: String?
    public var name: String
    public var group: PlaneStateGroup?
    public var isDefault: Bool
    public var sequence: Double?
    public var external: PlaneExternalKey?
    public var raw: JSONValue

    public init(json: JSONValue) throws {
        id = try PlaneDecode.id(json, "state")
        projectID = json["project"]?.stringValue
        name = json["name"]?.stringValue ?? ""
        group = json["group"]?.stringValue.flatMap(PlaneStateGroup.init(rawValue:))
        isDefault = json["default"]?.boolValue ?? false
        sequence = json["sequence"]?.doubleValue
        external = PlaneExternalKey(json)
        raw = json
    }
}

public struct PlaneLabel: Sendable {
    public var id: String
    public var projectID: String?
    public var name: String
    public var color: String?
    public var parentID: String?
    public var external: PlaneExternalKey?
    public var raw: JSONValue

    public init(json: JSONValue) throws {
        id = try PlaneDecode.id(json, "label")
        projectID = json["project"]?.stringValue
        name = json["name"]?.stringValue ?? ""
        color = json["color"]?.stringValue
        parentID = json["parent"]?.stringValue
        external = PlaneExternalKey(json)
        raw = json
    }
}

/// A workspace member (with the workspace `role`) or a project member (without).
public struct PlaneMember: Sendable {
    public var id: String
    public var displayName: String
    public var email: String?
    public var firstName: String
    public var lastName: String
    /// 20 admin, 15 member, 5 guest; only workspace member lists carry it.
    public var role: Int?
    public var raw: JSONValue

    public init(json: JSONValue) throws {
        id = try PlaneDecode.id(json, "member")
        displayName = json["display_name"]?.stringValue ?? ""
        email = json["email"]?.stringValue
        firstName = json["first_name"]?.stringValue ?? ""
        lastName = json["last_name"]?.stringValue ?? ""
        role = json["role"]?.intValue
        raw = json
    }
}

/// A work item.
public struct PlaneIssue: Sendable {
    public var id: String
    public var projectID: String?
    public var sequenceID: Int?
    public var name: String
    public var descriptionHTML: String
    public var priority: PlanePriority?
    public var stateID: String?
    public var labelIDs: [String]
    public var assigneeIDs: [String]
    public var parentID: String?
    public var startDate: String?
    public var targetDate: String?
    /// UTC, normalised (see `PlaneTime`).
    public var createdAt: String?
    public var updatedAt: String?
    public var completedAt: String?
    public var archivedAt: String?
    public var isDraft: Bool
    public var external: PlaneExternalKey?
    public var raw: JSONValue

    public init(json: JSONValue) throws {
        id = try PlaneDecode.id(json, "issue")
        projectID = json["project"]?.stringValue
        sequenceID = json["sequence_id"]?.intValue
        name = json["name"]?.stringValue ?? ""
        descriptionHTML = json["description_html"]?.stringValue ?? ""
        priority = json["priority"]?.stringValue.flatMap(PlanePriority.init(rawValue:))
        stateID = json["state"]?.stringValue ?? json["state"]?["id"]?.stringValue
        labelIDs = PlaneDecode.ids(json["labels"])
        assigneeIDs = PlaneDecode.ids(json["assignees"])
        parentID = json["parent"]?.stringValue
        startDate = json["start_date"]?.stringValue
        targetDate = json["target_date"]?.stringValue
        createdAt = json["created_at"]?.stringValue.flatMap(PlaneTime.normalize)
        updatedAt = json["updated_at"]?.stringValue.flatMap(PlaneTime.normalize)
        completedAt = json["completed_at"]?.stringValue.flatMap(PlaneTime.normalize)
        archivedAt = json["archived_at"]?.stringValue.flatMap(PlaneTime.normalize)
        isDraft = json["is_draft"]?.boolValue ?? false
        external = PlaneExternalKey(json)
        raw = json
    }
}

public struct PlaneCycle: Sendable {
    public var id: String
    public var projectID: String?
    public var name: String
    public var description: String
    /// Datetimes ("2026-11-16T00:00:01Z"); nil for a draft cycle.
    public var startDate: String?
    public var endDate: String?
    public var archivedAt: String?
    public var external: PlaneExternalKey?
    public var updatedAt: String?
    public var raw: JSONValue

    public init(json: JSONValue) throws {
        id = try PlaneDecode.id(json, "cycle")
        projectID = json["project"]?.stringValue
        name = json["name"]?.stringValue ?? ""
        description = json["description"]?.stringValue ?? ""
        startDate = json["start_date"]?.stringValue
        endDate = json["end_date"]?.stringValue
        archivedAt = json["archived_at"]?.stringValue.flatMap(PlaneTime.normalize)
        external = PlaneExternalKey(json)
        updatedAt = json["updated_at"]?.stringValue.flatMap(PlaneTime.normalize)
        raw = json
    }
}

public struct PlaneModule: Sendable {
    public var id: String
    public var projectID: String?
    public var name: String
    public var description: String
    /// backlog, planned, in-progress, paused, completed, cancelled.
    public var status: String?
    public var startDate: String?
    public var targetDate: String?
    public var leadID: String?
    public var memberIDs: [String]
    public var archivedAt: String?
    public var external: PlaneExternalKey?
    public var updatedAt: String?
    public var raw: JSONValue

    public init(json: JSONValue) throws {
        id = try PlaneDecode.id(json, "module")
        projectID = json["project"]?.stringValue
        name = json["name"]?.stringValue ?? ""
        description = json["description"]?.stringValue ?? ""
        status = json["status"]?.stringValue
        startDate = json["start_date"]?.stringValue
        targetDate = json["target_date"]?.stringValue
        leadID = json["lead"]?.stringValue
        memberIDs = PlaneDecode.ids(json["members"])
        archivedAt = json["archived_at"]?.stringValue.flatMap(PlaneTime.normalize)
        external = PlaneExternalKey(json)
        updatedAt = json["updated_at"]?.stringValue.flatMap(PlaneTime.normalize)
        raw = json
    }
}

enum PlaneDecode {
    static func id(_ json: JSONValue, _ kind: String) throws -> String {
        guard let id = json["id"]?.stringValue, !id.isEmpty else {
            throw PlaneError.badResponse(server: "Plane", detail: "a \(kind) came without an id", attempts: 1)
        }
        return id
    }

    /// A list of ids, or of expanded objects with ids.
    static func ids(_ json: JSONValue?) -> [String] {
        (json?.arrayValue ?? []).compactMap { $0.stringValue ?? $0["id"]?.stringValue }
    }
}
