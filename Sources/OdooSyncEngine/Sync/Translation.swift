import Foundation
import OdooSyncCore

/// Mapped fields in one vocabulary for both sides ("canonical"), so that a change is a
/// difference in meaning, not in encoding: names as they are, HTML normalised, priorities in
/// Plane's words, states and stages by lowercased name (Plane names pass through the state map).
/// Keys are the Plane field names of the entity's field mappings.
struct Translation: Sendable {
    /// plane state name (lowercased) -> odoo stage name (lowercased)
    let stateMap: [String: String]
    /// plane state id -> (name, group, project)
    let planeStates: [String: (name: String, group: String, project: String?)]
    /// odoo stage name (lowercased) -> the task stages of that name, lowest id first
    let odooStages: [String: [OdooStage]]
    /// Odoo projects that some stage lists in its `project_ids`: their boards show only those.
    var odooProjectsWithStages: Set<Int> = []
    /// project.task's priority keys on this server (`fields_get`); Odoo 19's until asked.
    var taskPriorityKeys: [String] = Translation.nineteenPriorityKeys {
        didSet { taskPriorityLevels = Translation.priorityLevels(taskPriorityKeys) }
    }
    /// `priorityLevels` of the keys, worked out once: detection reads them for every pair.
    private(set) var taskPriorityLevels = Translation.priorityLevels(Translation.nineteenPriorityKeys)

    /// A project.task.type as the mirror holds it.
    struct OdooStage: Sendable, Equatable {
        let id: Int
        /// Its `project_ids`; nil when the snapshot does not carry them.
        let projects: Set<Int>?
    }

    /// Plane refuses an issue name longer than this (plane-api.md section 6), counted as Python
    /// counts: in Unicode scalars.
    static let planeIssueNameLimit = 255

    static let planePriorities = ["urgent", "high", "medium", "low", "none"]
    static let priorityToOdoo = ["urgent": 3, "high": 2, "medium": 1, "low": 0, "none": 0]
    static let priorityFromLevel = [3: "urgent", 2: "high", 1: "medium", 0: "low"]
    /// Odoo 19's four task priorities (reference §3); what is assumed until the server says.
    static let nineteenPriorityKeys = ["0", "1", "2", "3"]

    /// Each priority key's level on Plane's scale. Odoo 19's keys are the levels themselves;
    /// Odoo 16–18 have two, `0` (Normal or Low) and `1` (Important or High): their one star is
    /// high, not medium.
    static func priorityLevels(_ keys: [String]) -> [(key: String, level: Int)] {
        let numeric = keys.compactMap { key in Int(key).map { (key: key, value: $0) } }.sorted { $0.value < $1.value }
        if numeric.count == 2 { return [(numeric[0].key, 0), (numeric[1].key, 2)] }
        return numeric.map { ($0.key, min($0.value, 3)) }
    }

    static let planeDateFields: Set<String> = ["start_date", "target_date", "end_date"]
    /// Odoo fields that hold a datetime where Plane holds a day: project.task's deadline from
    /// Odoo 17 on (a date in 16, see `SyncEngine.odooPriorityKeys`).
    var odooDatetimeFields: Set<String> = ["date_deadline"]
    /// The Odoo user's time zone: a Plane day is that day's midnight there, and a deadline is
    /// the day it falls on there, as the user sees it in Odoo. UTC until the server says.
    var odooTimeZone = TimeZone(identifier: "UTC") ?? .current
    static let odooDateFields: Set<String> = ["deadline", "date_start", "date"]
    /// Whether project.task has Odoo 17+'s `state`, whose closing keys mark a task done or
    /// cancelled whatever its stage (reference §3). 16 closes a task by its stage alone.
    var taskClosingStates = false
    /// A Plane state group and the task `state` key that closes a task the same way.
    static let closingStates = ["completed": "1_done", "cancelled": "1_canceled"]
    /// The state a reopened task takes (Odoo's default for a new one).
    static let openTaskState = "01_in_progress"
    /// Odoo project id -> the Plane project paired with it: a closed task reads as one of its
    /// Plane project's states.
    var planeProjectOfOdoo: [Int: String] = [:]

    // MARK: reading

    func planeCanonical(_ data: JSONValue, mappings: [(plane: String, odoo: String)], plainDescription: Bool = false) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (plane, _) in mappings {
            switch plane {
            case "description":
                let html = data["description_html"]?.stringValue ?? data["description"]?.stringValue ?? ""
                out[plane] = .string(plainDescription ? Translation.plainText(html) : Translation.normalizeHTML(html))
            case "state":
                if let id = data["state"]?.stringValue ?? data["state"]?["id"]?.stringValue, let state = planeStates[id] {
                    out[plane] = .string(canonicalName(ofPlaneState: state.name))
                } else {
                    out[plane] = .null
                }
            case "priority":
                out[plane] = .string(data["priority"]?.stringValue ?? "none")
            default:
                out[plane] = Translation.scalar(data[plane], asDate: Translation.planeDateFields.contains(plane))
            }
        }
        return out
    }

    func odooCanonical(_ data: JSONValue, mappings: [(plane: String, odoo: String)], plainDescription: Bool = false) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (plane, odoo) in mappings {
            let value = data[odoo]
            switch plane {
            case "description":
                let html = value?.stringValue ?? ""
                out[plane] = .string(plainDescription ? Translation.plainText(html) : Translation.normalizeHTML(html))
            case "state":
                out[plane] = odooState(data, stage: value)
            case "priority":
                let level = value?.stringValue.flatMap { key in taskPriorityLevels.first { $0.key == key }?.level }
                out[plane] = .string(level.flatMap { Translation.priorityFromLevel[$0] } ?? "low")
            default:
                if Translation.planeDateFields.contains(plane), let text = value?.stringValue, text.count == 19,
                   let day = Translation.localDay(text, in: odooTimeZone) {
                    out[plane] = .string(day)
                } else {
                    out[plane] = Translation.scalar(value, asDate: Translation.planeDateFields.contains(plane))
                }
            }
        }
        return out
    }

    /// The name both sides compare a Plane state by: the Odoo stage it maps to, or its own name.
    func canonicalName(ofPlaneState name: String) -> String { stateMap[name] ?? name }

    /// A task's canonical state: its stage's name, unless the task is closed (Odoo 17+'s `state`
    /// done or cancelled) in a stage whose name no Plane state of that group reads as. Then it is
    /// the name of its Plane project's first state of the group, so that a task closed in Odoo
    /// is closed in Plane too, whichever column it was left in.
    func odooState(_ data: JSONValue, stage: JSONValue?) -> JSONValue {
        let stageName = stage?.many2one.map { $0.name.lowercased() }
        guard taskClosingStates, let key = data["state"]?.stringValue,
              let group = Translation.closingStates.first(where: { $0.value == key })?.key else {
            return stageName.map { .string($0) } ?? .null
        }
        let project = data["project_id"]?.many2one.flatMap { planeProjectOfOdoo[$0.id] }
        let names = planeStates.values.filter { $0.group == group && (project == nil || $0.project == project) }
            .map { canonicalName(ofPlaneState: $0.name) }
        if let stageName, names.contains(stageName) { return .string(stageName) }
        return names.sorted().first.map { .string($0) } ?? stageName.map { .string($0) } ?? .null
    }

    /// The task `state` to write with the stage for canonical state `name` in Plane project
    /// `planeProject`: done or cancelled for a state of those groups; in progress for any other
    /// when the task is closed now (`current`), since moving a closed task's stage leaves it
    /// closed; nil when the state need not change.
    func odooTaskState(named name: String, planeProject: String?, current: String?) -> String? {
        guard taskClosingStates else { return nil }
        let group = planeStateID(named: name, project: planeProject).flatMap { planeStates[$0]?.group }
            ?? planeStates.sorted { $0.key < $1.key }.first { canonicalName(ofPlaneState: $0.value.name) == name }?.value.group
        if let group, let key = Translation.closingStates[group] { return key == current ? nil : key }
        guard let current, Translation.closingStates.values.contains(current) else { return nil }
        return Translation.openTaskState
    }

    /// The day the UTC datetime `utc` ("YYYY-MM-DD HH:MM:SS", as Odoo sends it) falls on in `zone`.
    static func localDay(_ utc: String, in zone: TimeZone) -> String? {
        guard let instant = Timestamp.parseOdoo(utc) else { return nil }
        let local = instant.addingTimeInterval(TimeInterval(zone.secondsFromGMT(for: instant)))
        return String(Timestamp.odoo(local).prefix(10))
    }

    /// Midnight of `day` ("YYYY-MM-DD") in `zone`, as the UTC datetime Odoo takes.
    static func utcMidnight(_ day: String, in zone: TimeZone) -> String? {
        guard day.count == 10, let wall = Timestamp.parseOdoo(day + " 00:00:00") else { return nil }
        // The offset at the instant itself, not at the wall-clock reading: a clock change between
        // the two moves it. Where the change is at midnight (America/Havana) the day starts at
        // 01:00, and only one of the two readings falls on the day.
        let first = wall.addingTimeInterval(-TimeInterval(zone.secondsFromGMT(for: wall)))
        let second = wall.addingTimeInterval(-TimeInterval(zone.secondsFromGMT(for: first)))
        let instant = [second, first].first { localDay(Timestamp.odoo($0), in: zone) == day } ?? second
        return Timestamp.odoo(instant)
    }

    // MARK: writing

    /// Odoo values (write/create form) for canonical fields; fields that cannot be expressed
    /// (a state with no stage of that name) are left out and named in `skipped`.
    /// `project`: the Odoo project of the task written, whose own stages come first.
    /// `planeProject` and `taskState`: the Plane project the item comes from and the task's
    /// `state` now, for the closing state written with a stage (`odooTaskState`).
    func odooValues(_ fields: [String: JSONValue], mappings: [(plane: String, odoo: String)],
                    plainDescription: Bool = false, project: Int? = nil, planeProject: String? = nil,
                    taskState: String? = nil) -> (values: [(String, JSONValue)], skipped: [String]) {
        var values: [(String, JSONValue)] = []
        var skipped: [String] = []
        for (plane, odoo) in mappings {
            guard let value = fields[plane] else { continue }
            switch plane {
            case "description":
                let text = value.stringValue ?? ""
                values.append((odoo, text.isEmpty ? .bool(false) : .string(plainDescription ? "<p>\(Translation.escape(text))</p>" : text)))
            case "state":
                if let name = value.stringValue, let id = odooStageID(named: name, project: project) {
                    values.append((odoo, .int(id)))
                } else {
                    skipped.append(plane)
                }
                if odoo == "stage_id", let name = value.stringValue,
                   let key = odooTaskState(named: name, planeProject: planeProject, current: taskState) {
                    values.append(("state", .string(key)))
                }
            case "priority":
                values.append((odoo, .string(odooPriorityKey(value.stringValue ?? "none"))))
            default:
                if odooDatetimeFields.contains(odoo), let date = value.stringValue {
                    values.append((odoo, .string(date.count == 10 ? Translation.utcMidnight(date, in: odooTimeZone) ?? date + " 00:00:00" : date)))
                } else {
                    values.append((odoo, value == .null ? .bool(false) : value))
                }
            }
        }
        return (values, skipped)
    }

    /// Plane request body for canonical fields, in `project`'s states. `issue`: the body is a
    /// work item's, whose name Plane limits.
    func planeValues(_ fields: [String: JSONValue], project: String?, plainDescription: Bool = false,
                     issue: Bool = false) -> (values: [(String, JSONValue)], skipped: [String]) {
        var values: [(String, JSONValue)] = []
        var skipped: [String] = []
        for (plane, value) in fields.sorted(by: { $0.key < $1.key }) {
            switch plane {
            case "name" where issue:
                // Odoo's names have no limit; a longer one would be refused on every attempt.
                // The answer's (clipped) name becomes Plane's memory, so the clip is no change.
                values.append(("name", value.stringValue.map { .string(Translation.clipped($0, to: Translation.planeIssueNameLimit)) } ?? value))
            case "description":
                let text = value.stringValue ?? ""
                if plainDescription {
                    values.append(("description", .string(text)))
                } else {
                    values.append(("description_html", .string(text.isEmpty ? "<p></p>" : text)))
                }
            case "state":
                if let name = value.stringValue, let id = planeStateID(named: name, project: project) {
                    values.append(("state", .string(id)))
                } else {
                    skipped.append(plane)
                }
            default:
                values.append((plane, value))
            }
        }
        return (values, skipped)
    }

    /// A Plane state of `project` for a canonical state name: through the state map backwards
    /// first (in name order, so that two states mapped to one stage always give the same one),
    /// then by the same name.
    func planeStateID(named canonical: String, project: String?) -> String? {
        let candidates = stateMap.filter { $0.value == canonical }.map(\.key).sorted() + [canonical]
        for name in candidates {
            if let hit = planeStates.first(where: { $0.value.project == project && $0.value.name == name }) { return hit.key }
        }
        return nil
    }

    /// The task stage for a canonical stage name. Odoo keeps one list of stages and links each
    /// to projects (`project_ids`); a task's board shows its project's stages, so a stage of
    /// the same name linked to another project would file the task in a column its board lacks.
    /// Stages linked to no project are users' personal stages ("Inbox", "Done", ... one set per
    /// user, `user_id` set, `project_ids` empty in the recorded stages), not task stages. nil
    /// when the task's project has stages but none of that name.
    func odooStageID(named name: String, project: Int?) -> Int? {
        guard let stages = odooStages[name] else { return nil }
        if let project {
            if let own = stages.first(where: { $0.projects?.contains(project) == true }) { return own.id }
            if odooProjectsWithStages.contains(project) { return nil }
        }
        // A project no stage lists (one odoosync just made, say) takes a shared stage.
        return stages.first { $0.projects.map { !$0.isEmpty } ?? true }?.id
    }

    func cancelledState(project: String?) -> String? {
        planeStates.filter { $0.value.project == project && $0.value.group == "cancelled" }.map(\.key).sorted().first
    }

    // MARK: values

    /// The selection key a Plane priority is written as: the highest key whose level does not
    /// overstate it (`priorityLevels`).
    func odooPriorityKey(_ priority: String) -> String {
        let wanted = Translation.priorityToOdoo[priority] ?? 0
        let levels = taskPriorityLevels
        return (levels.last { $0.level <= wanted } ?? levels.first)?.key ?? "0"
    }

    /// Whether two canonical values say the same thing to the other side. Priorities are
    /// compared as the Odoo key they are written as: where the task holds fewer levels than
    /// Plane (urgent and high are both "1" on a two-level server, medium and low both "0"),
    /// Plane's finer value and the task's agree, and neither may overwrite the other with the
    /// coarser one.
    func sameMeaning(_ field: String, _ a: JSONValue?, _ b: JSONValue?) -> Bool {
        if a == b { return true }
        guard field == "priority" else { return false }
        return odooPriorityKey(a?.stringValue ?? "none") == odooPriorityKey(b?.stringValue ?? "none")
    }

    /// `text` cut to at most `limit` Unicode scalars (Python's `len`, which Plane's checks use),
    /// at a character boundary:
    /// a letter and its accent, a flag or a family emoji is kept whole or left out, never split.
    static func clipped(_ text: String, to limit: Int) -> String {
        guard text.unicodeScalars.count > limit else { return text }
        var kept = 0
        var end = text.startIndex
        for index in text.indices {
            let size = text[index].unicodeScalars.count
            guard kept + size <= limit else { break }
            kept += size
            end = text.index(after: index)
        }
        return String(text[..<end])
    }

    static func scalar(_ value: JSONValue?, asDate: Bool) -> JSONValue {
        guard let value, !(value == .bool(false)), value != .null else { return .null }
        if asDate, let text = value.stringValue { return .string(String(text.prefix(10))) }
        if let pair = value.many2one { return .int(pair.id) }
        return value
    }

    /// HTML compared by meaning: empty markup is empty, whitespace between tags ignored.
    static func normalizeHTML(_ html: String) -> String {
        if isNormalHTML(html) { return html }
        var text = html.trimmingCharacters(in: .whitespacesAndNewlines)
        for empty in ["<p></p>", "<p><br></p>", "<p><br/></p>", "<div></div>", "<span></span>"] where text == empty { text = "" }
        while text.contains(">\n") || text.contains("> <") {
            text = text.replacingOccurrences(of: ">\n", with: ">").replacingOccurrences(of: "> <", with: "><")
        }
        return text
    }

    /// True when `normalizeHTML` would return the text as it is, decided on its bytes: most
    /// descriptions, compared for every pair that changed, need nothing done.
    static func isNormalHTML(_ html: String) -> Bool {
        let bytes = html.utf8
        // Only printable ASCII at the ends can be told not to be whitespace byte by byte.
        guard let first = bytes.first, let last = bytes.last, (0x21...0x7E).contains(first), (0x21...0x7E).contains(last) else {
            return html.isEmpty
        }
        var previous: UInt8 = 0
        var beforePrevious: UInt8 = 0
        for byte in bytes {
            if previous == UInt8(ascii: ">") && byte == UInt8(ascii: "\n") { return false }
            if beforePrevious == UInt8(ascii: ">") && previous == UInt8(ascii: " ") && byte == UInt8(ascii: "<") { return false }
            beforePrevious = previous
            previous = byte
        }
        return !["<p></p>", "<p><br></p>", "<p><br/></p>", "<div></div>", "<span></span>"].contains(html)
    }

    static func plainText(_ html: String) -> String {
        var out = ""
        var inTag = false
        for ch in html {
            if ch == "<" { inTag = true } else if ch == ">" { inTag = false } else if !inTag { out.append(ch) }
        }
        // &amp; last: "&amp;lt;" is the text "&lt;", not "<".
        return out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&nbsp;", with: " ").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
