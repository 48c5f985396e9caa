import Foundation
import OdooSyncCore

/// Reads `fixtures/plane/`: `workspace.json` (the workspace, its users and their API keys),
/// then `projects.json`, `states.json`, `labels.json`, `issues.json`, `cycles.json` and
/// `modules.json`, each a list of objects shaped like Plane's API answers. Projects carry their
/// `members` ({user id: role}); cycles and modules their `issues` (ids).
enum PlaneFixtures {
    static func load(directory: URL) throws -> PlaneStore {
        var store = PlaneStore()
        let workspace = try read(directory, "workspace.json")
        store.workspaceID = workspace["id"]?.stringValue ?? "00000000-0000-4000-8000-000000000000"
        store.workspaceSlug = workspace["slug"]?.stringValue ?? "acme"
        store.workspaceName = workspace["name"]?.stringValue ?? store.workspaceSlug
        for user in workspace["users"]?.arrayValue ?? [] {
            guard let id = user["id"]?.stringValue else { continue }
            store.users[id] = PlaneUser(
                id: id, firstName: user["first_name"]?.stringValue ?? "", lastName: user["last_name"]?.stringValue ?? "",
                email: user["email"]?.stringValue ?? "", displayName: user["display_name"]?.stringValue ?? "",
                role: user["role"]?.intValue ?? 15, timezone: user["timezone"]?.stringValue ?? "UTC", apiKey: user["api_key"]?.stringValue)
            store.userOrder.append(id)
        }
        for project in try list(directory, "projects.json") {
            var entity = entity(project, workspace: store.workspaceID)
            var members: [String: Int] = [:]
            for (user, role) in project["members"]?.objectValue ?? [] { members[user] = role.intValue ?? 15 }
            entity.fields["members"] = nil
            store.projectMembers[entity.id] = members
            store.projects[entity.id] = entity
        }
        for state in try list(directory, "states.json") {
            let e = entity(state, workspace: store.workspaceID)
            store.states[e.id] = e
        }
        for label in try list(directory, "labels.json") {
            let e = entity(label, workspace: store.workspaceID)
            store.labels[e.id] = e
        }
        for issue in try list(directory, "issues.json") {
            let e = entity(issue, workspace: store.workspaceID)
            store.issues[e.id] = e
            if let sequence = e["sequence_id"]?.intValue { store.sequences[e.project] = max(store.sequences[e.project] ?? 0, sequence) }
            if let sort = e["sort_order"]?.doubleValue { store.lastSortOrder[e.project] = max(store.lastSortOrder[e.project] ?? sort, sort) }
        }
        for (file, kind) in [("cycles.json", "cycle"), ("modules.json", "module")] {
            for record in try list(directory, file) {
                var e = entity(record, workspace: store.workspaceID)
                let issueIDs = (e["issues"]?.arrayValue ?? []).compactMap(\.stringValue)
                e.fields["issues"] = nil
                if kind == "cycle" { store.cycles[e.id] = e } else { store.modules[e.id] = e }
                let stamp = e.string("created_at") ?? Stamp.text(0)
                for (n, issueID) in issueIDs.enumerated() {
                    let linkID = derivedID(e.id, n)
                    let link = Link(fields: [
                        "id": .string(linkID), "created_at": .string(stamp), "updated_at": .string(stamp), "deleted_at": .null,
                        "created_by": .null, "updated_by": .null, "project": .string(e.project), "workspace": .string(store.workspaceID),
                        "issue": .string(issueID), kind: .string(e.id),
                    ])
                    if kind == "cycle" { store.cycleLinks[linkID] = link } else { store.moduleLinks[linkID] = link }
                }
            }
        }
        store.lastStamp = [store.issues, store.projects, store.states, store.labels, store.cycles, store.modules]
            .flatMap { $0.values.compactMap { $0.string("updated_at").flatMap(Stamp.parse) } }.max() ?? 0
        return store
    }

    private static func read(_ directory: URL, _ name: String) throws -> JSONValue {
        let url = directory.appendingPathComponent(name)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PlaneEmulatorError(status: 0, body: "cannot read the Plane fixture \(url.path): \(error.localizedDescription)")
        }
        do {
            return try JSONValue.parse(data)
        } catch {
            throw PlaneEmulatorError(status: 0, body: "the Plane fixture \(url.path) is not valid JSON: \(error)")
        }
    }

    private static func list(_ directory: URL, _ name: String) throws -> [JSONValue] {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) else { return [] }
        return try read(directory, name).arrayValue ?? []
    }

    /// A fixture object as stored: datetimes in the emulator's UTC form.
    private static func entity(_ json: JSONValue, workspace: String) -> Entity {
        var fields: [String: JSONValue] = [:]
        for (key, value) in json.objectValue ?? [] {
            if PlaneRenderer.datetimeKeys.contains(key), let text = value.stringValue, let micros = Stamp.parse(text) {
                fields[key] = .string(Stamp.text(micros))
            } else {
                fields[key] = value
            }
        }
        if fields["workspace"] == nil { fields["workspace"] = .string(workspace) }
        return Entity(fields: fields)
    }

    /// A stable id for a fixture link, derived from its container's.
    private static func derivedID(_ base: String, _ n: Int) -> String {
        var generator = SeededGenerator(seed: UInt64(truncatingIfNeeded: base.hashValueStable) &+ UInt64(n))
        return Stamp.uuid(&generator)
    }
}

extension String {
    /// FNV-1a: unlike `hashValue`, the same in every process.
    var hashValueStable: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
