import Foundation
import OdooSyncCore
import PlaneClient

/// The sync's Plane writes over `PlaneClient`, whose creates are idempotent by external key.
public struct PlaneWriter: PlaneWriting {
    let client: PlaneClient

    public init(client: PlaneClient) { self.client = client }

    public func createIssue(projectID: String, fields: JSONValue, externalID: String, externalSource: String) async throws -> JSONValue {
        try await client.createIssue(projectID: projectID, fields: fields.objectValue ?? [],
                                     external: PlaneExternalKey(source: externalSource, id: externalID)).value.raw
    }

    public func updateIssue(projectID: String, issueID: String, fields: JSONValue) async throws -> JSONValue {
        try await client.updateIssue(projectID: projectID, id: issueID, fields: fields.objectValue ?? []).raw
    }

    public func createProject(fields: JSONValue, externalID: String, externalSource: String) async throws -> JSONValue {
        let pairs = fields.objectValue ?? []
        let name = fields["name"]?.stringValue ?? "Project"
        let identifier = fields["identifier"]?.stringValue ?? "PRJ"
        let rest = pairs.filter { $0.0 != "name" && $0.0 != "identifier" }
        return try await client.createProject(name: name, identifier: identifier, fields: rest,
                                              external: PlaneExternalKey(source: externalSource, id: externalID)).value.raw
    }

    public func updateProject(projectID: String, fields: JSONValue) async throws -> JSONValue {
        try await client.updateProject(id: projectID, fields: fields.objectValue ?? []).raw
    }

    public func archiveProject(projectID: String) async throws {
        try await client.archiveProject(id: projectID)
    }

    public func unarchiveProject(projectID: String) async throws {
        try await client.unarchiveProject(id: projectID)
    }

    public func states(projectID: String) async throws -> [JSONValue] {
        try await client.states(projectID: projectID).map(\.raw)
    }
}
