import Foundation
import OdooSyncCore

/// Synthetic issues for load: every priority and state, labels and assignees drawn from each
/// project's own, reproducible for a seed.
struct PlaneIssueGenerator {
    private var random: SeededGenerator
    private let projects: [String]
    private let states: [String: [String]]
    private let labels: [String: [String]]
    private let assignees: [String: [String]]
    private let actor: String

    init(store: PlaneStore, seed: UInt64) {
        random = SeededGenerator(seed: seed)
        let live = store.projects.values.filter { !$0.deleted && !$0.isArchived }
        projects = live.sorted { ($0.string("created_at") ?? "", $0.id) < ($1.string("created_at") ?? "", $1.id) }.map(\.id)
        var states: [String: [String]] = [:]
        for state in store.states.values where !state.deleted && state["is_triage"]?.boolValue != true {
            states[state.project, default: []].append(state.id)
        }
        var labels: [String: [String]] = [:]
        for label in store.labels.values where !label.deleted { labels[label.project, default: []].append(label.id) }
        self.states = states.mapValues { $0.sorted() }
        self.labels = labels.mapValues { $0.sorted() }
        self.assignees = store.projectMembers.mapValues { members in members.filter { $0.value >= 15 }.map(\.key).sorted() }
        actor = store.userOrder.compactMap { store.users[$0] }.first { $0.role == 20 }?.id ?? store.userOrder.first ?? ""
    }

    private mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int(random.next() % UInt64(items.count))]
    }

    private static let verbs = ["Fix", "Add", "Refactor", "Document", "Speed up", "Test", "Review", "Design", "Remove", "Migrate"]
    private static let nouns = ["login flow", "invoice export", "search index", "mobile menu", "billing page", "API client",
                                "onboarding", "report builder", "sync job", "settings screen", "dark mode", "push notifications"]

    mutating func generate(count: Int, projectID: String?, core: PlaneCore) -> [String] {
        let targets = projectID.map { [$0] } ?? projects
        guard !targets.isEmpty else { return [] }
        var ids: [String] = []
        ids.reserveCapacity(count)
        // Backdated over the last 90 days, oldest first, as a real backlog is: a pull right
        // after generation should not find every issue "just changed".
        let now = Stamp.micros(Date())
        let span: Int64 = 90 * 86_400 * 1_000_000
        for n in 0..<count {
            let stamp = Stamp.text(now - span + span * Int64(n) / Int64(max(count, 1)) - 3_600_000_000)
            let project = targets[n % targets.count]
            var fields: [String: JSONValue] = [
                "name": .string("\(pick(Self.verbs) ?? "Fix") \(pick(Self.nouns) ?? "bug") #\(n + 1)"),
                "description_html": .string("<p>Generated work item \(n + 1).</p>"),
                "priority": .string(PlaneCore.priorities[n % PlaneCore.priorities.count]),
            ]
            if let state = pick(states[project] ?? []) { fields["state"] = .string(state) }
            if let label = pick(labels[project] ?? []), random.next() % 2 == 0 { fields["labels"] = [.string(label)] }
            if let assignee = pick(assignees[project] ?? []), random.next() % 3 != 0 { fields["assignees"] = [.string(assignee)] }
            ids.append(core.insertIssue(project: project, fields: fields, by: actor, now: stamp).id)
        }
        return ids
    }

    mutating func touch(fraction: Double, core: PlaneCore) -> [String] {
        let listed = core.store.issues.values.filter { core.store.isListed($0) }.map(\.id).sorted()
        let wanted = Int((Double(listed.count) * fraction).rounded())
        var chosen = Set<String>()
        while chosen.count < min(wanted, listed.count) {
            if let id = pick(listed) { chosen.insert(id) }
        }
        for id in chosen.sorted() {
            guard let issue = core.store.issues[id] else { continue }
            var fields: [String: JSONValue] = [
                "name": .string((issue.string("name") ?? "") + " (edited)"),
                "priority": .string(pick(PlaneCore.priorities) ?? "none"),
            ]
            if random.next() % 3 == 0, let state = pick(states[issue.project] ?? []) { fields["state"] = .string(state) }
            core.applyIssueChange(id, fields: fields, by: actor, now: core.nextStamp())
        }
        return chosen.sorted()
    }
}
