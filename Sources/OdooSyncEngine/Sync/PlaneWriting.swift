import Foundation
import OdooSyncCore

/// The Plane writes the sync makes. Implementations must make creates idempotent: an issue that
/// already carries the (external_source, external_id) pair is returned rather than created again
/// (Plane answers 409 with its id), and a project whose name is taken is looked up by name.
public protocol PlaneWriting: Sendable {
    func createIssue(projectID: String, fields: JSONValue, externalID: String, externalSource: String) async throws -> JSONValue
    func updateIssue(projectID: String, issueID: String, fields: JSONValue) async throws -> JSONValue
    func createProject(fields: JSONValue, externalID: String, externalSource: String) async throws -> JSONValue
    func updateProject(projectID: String, fields: JSONValue) async throws -> JSONValue
    func archiveProject(projectID: String) async throws
    func unarchiveProject(projectID: String) async throws
    /// The project's states (for projects created in this run, which the mirror has not pulled yet).
    func states(projectID: String) async throws -> [JSONValue]
}

/// Scope of a sync run: which projects take part, and where visibility issues go.
public struct SyncScope: Sendable {
    /// Plane project identifiers (e.g. WEB) or ids; nil: every project the key can see.
    public var planeProjects: [String]?
    /// Odoo project ids or names; nil: all.
    public var odooProjects: [String]?
    /// The Plane project (identifier, id or name) that receives sale-order and invoice issues;
    /// nil keeps those two entity types off.
    public var visibilityProject: String?
    /// Plane projects (identifiers or ids) that take no part this run: the API key's user is
    /// not a member, so Plane refuses everything inside them. Their pairs wait, and no Odoo
    /// project is paired with or created for them.
    public var leftOutPlaneProjects: [String] = []

    public init(planeProjects: [String]? = nil, odooProjects: [String]? = nil, visibilityProject: String? = nil) {
        self.planeProjects = planeProjects
        self.odooProjects = odooProjects
        self.visibilityProject = visibilityProject
    }

    public static func list(_ text: String?) -> [String]? {
        guard let text else { return nil }
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return items.isEmpty ? nil : items
    }
}
