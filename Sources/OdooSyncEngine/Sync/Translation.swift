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
    /// odoo stage name (lowercased) -> id
    let odooStages: [String: Int]

    static let planePriorities = ["urgent", "high", "medium", "low", "none"]
    static let priorityToOdoo = ["urgent": 3, "high": 2, "medium": 1, "low": 0, "none": 0]
    static let priorityFromOdoo = ["3": "urgent", "2": "high", "1": "medium", "0": "low"]

    static let planeDateFields: Set<String> = ["start_date", "target_date", "end_date"]
    static let odooDatetimeFields: Set<String> = ["date_deadline"]
    static let odooDateFields: Set<String> = ["deadline", "date_start", "date"]

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
                    out[plane] = .string(stateMap[state.name] ?? state.name)
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
                out[plane] = value?.many2one.map { .string($0.name.lowercased()) } ?? .null
            case "priority":
                out[plane] = .string(value?.stringValue.flatMap { Translation.priorityFromOdoo[$0] } ?? "low")
            default:
                out[plane] = Translation.scalar(value, asDate: Translation.planeDateFields.contains(plane))
            }
        }
        return out
    }

    // MARK: writing

    /// Odoo values (write/create form) for canonical fields; fields that cannot be expressed
    /// (a state with no stage of that name) are left out and named in `skipped`.
    func odooValues(_ fields: [String: JSONValue], mappings: [(plane: String, odoo: String)], priorityKeys: [String],
                    plainDescription: Bool = false) -> (values: [(String, JSONValue)], skipped: [String]) {
        var values: [(String, JSONValue)] = []
        var skipped: [String] = []
        for (plane, odoo) in mappings {
            guard let value = fields[plane] else { continue }
            switch plane {
            case "description":
                let text = value.stringValue ?? ""
                values.append((odoo, text.isEmpty ? .bool(false) : .string(plainDescription ? "<p>\(Translation.escape(text))</p>" : text)))
            case "state":
                if let name = value.stringValue, let id = odooStages[name] {
                    values.append((odoo, .int(id)))
                } else {
                    skipped.append(plane)
                }
            case "priority":
                let wanted = Translation.priorityToOdoo[value.stringValue ?? "none"] ?? 0
                let keys = priorityKeys.compactMap(Int.init).sorted()
                let chosen = keys.last { $0 <= wanted } ?? keys.first ?? 0
                values.append((odoo, .string(String(chosen))))
            default:
                if Translation.odooDatetimeFields.contains(odoo), let date = value.stringValue {
                    values.append((odoo, .string(date.count == 10 ? date + " 00:00:00" : date)))
                } else {
                    values.append((odoo, value == .null ? .bool(false) : value))
                }
            }
        }
        return (values, skipped)
    }

    /// Plane request body for canonical fields, in `project`'s states.
    func planeValues(_ fields: [String: JSONValue], project: String?, plainDescription: Bool = false) -> (values: [(String, JSONValue)], skipped: [String]) {
        var values: [(String, JSONValue)] = []
        var skipped: [String] = []
        for (plane, value) in fields.sorted(by: { $0.key < $1.key }) {
            switch plane {
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
    /// first, then by the same name.
    func planeStateID(named canonical: String, project: String?) -> String? {
        let candidates = stateMap.filter { $0.value == canonical }.map(\.key) + [canonical]
        for name in candidates {
            if let hit = planeStates.first(where: { $0.value.project == project && $0.value.name == name }) { return hit.key }
        }
        return nil
    }

    func cancelledState(project: String?) -> String? {
        planeStates.filter { $0.value.project == project && $0.value.group == "cancelled" }.map(\.key).sorted().first
    }

    // MARK: values

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
        return out.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&nbsp;", with: " ")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
