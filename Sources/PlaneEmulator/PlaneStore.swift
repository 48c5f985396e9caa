import Foundation
import OdooSyncCore

/// A user of the emulated workspace and the API token that acts as them.
struct PlaneUser: Sendable {
    var id: String
    var firstName: String
    var lastName: String
    var email: String
    var displayName: String
    /// Workspace role: 20 admin, 15 member, 5 guest.
    var role: Int
    /// The profile timezone datetimes are rendered in ("UTC", "Asia/Kolkata", ...).
    var timezone: String
    var apiKey: String?
}

/// One stored object: its serializer fields (datetimes as UTC text with six fraction digits)
/// and whether it was soft-deleted, which hides it from every endpoint as in Plane.
struct Entity: Sendable {
    var fields: [String: JSONValue]
    var deleted = false

    var id: String { fields["id"]?.stringValue ?? "" }
    var project: String { fields["project"]?.stringValue ?? "" }
    subscript(key: String) -> JSONValue? {
        get { fields[key] }
        set { fields[key] = newValue }
    }
    func string(_ key: String) -> String? { fields[key]?.stringValue }
    var isArchived: Bool { fields["archived_at"].map { $0 != .null } ?? false }
}

/// The link of an issue to a cycle or a module.
struct Link: Sendable {
    var fields: [String: JSONValue]
    var deleted = false
    var id: String { fields["id"]?.stringValue ?? "" }
    var issue: String { fields["issue"]?.stringValue ?? "" }
}

/// Everything the emulated server knows. Copy-on-write dictionaries: readers take a snapshot.
struct PlaneStore: Sendable {
    var workspaceID = ""
    var workspaceSlug = "acme"
    var workspaceName = "Acme"
    var users: [String: PlaneUser] = [:]
    var userOrder: [String] = []
    var projects: [String: Entity] = [:]
    /// project id → user id → project role.
    var projectMembers: [String: [String: Int]] = [:]
    var states: [String: Entity] = [:]
    var labels: [String: Entity] = [:]
    var issues: [String: Entity] = [:]
    var cycles: [String: Entity] = [:]
    var modules: [String: Entity] = [:]
    var cycleLinks: [String: Link] = [:]
    var moduleLinks: [String: Link] = [:]
    /// Last sequence_id handed out per project (never reused).
    var sequences: [String: Int] = [:]
    /// Largest issue sort_order per project: a new issue goes 10000 after it.
    var lastSortOrder: [String: Double] = [:]
    /// The newest timestamp in the loaded data: new ones are handed out after it.
    var lastStamp: Int64 = 0

    func user(apiKey: String) -> PlaneUser? {
        users.values.first { $0.apiKey == apiKey }
    }

    func liveProject(_ id: String) -> Entity? {
        guard let project = projects[id], !project.deleted else { return nil }
        return project
    }

    func projectRole(_ projectID: String, user: String) -> Int? {
        projectMembers[projectID]?[user]
    }

    /// Issues Plane lists (`issue_objects`): not deleted, archived or draft, not in a triage
    /// state, not in an archived project.
    func isListed(_ issue: Entity) -> Bool {
        guard !issue.deleted, !issue.isArchived, issue["is_draft"]?.boolValue != true else { return false }
        if let state = issue.string("state").flatMap({ states[$0] }), state["is_triage"]?.boolValue == true { return false }
        if let project = projects[issue.project], project.isArchived { return false }
        return true
    }

    func listedIssues(project: String) -> [Entity] {
        issues.values.filter { $0.project == project && isListed($0) }
    }

    func stateGroup(_ stateID: String?) -> String? {
        stateID.flatMap { states[$0]?.string("group") }
    }

    /// Issue ids linked to a cycle or module, oldest link first.
    func linkedIssues(_ links: [String: Link], key: String, id: String) -> [String] {
        links.values.filter { !$0.deleted && $0.fields[key]?.stringValue == id }
            .sorted { ($0.fields["created_at"]?.stringValue ?? "", $0.id) < ($1.fields["created_at"]?.stringValue ?? "", $1.id) }
            .map(\.issue)
    }

    func cycleOf(issue: String) -> String? {
        cycleLinks.values.first { !$0.deleted && $0.issue == issue }?.fields["cycle"]?.stringValue
    }
}

/// Timestamps and ids.
enum Stamp {
    /// "2026-11-21T04:19:12.973296Z" from microseconds since 1970.
    static func text(_ micros: Int64) -> String {
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, Int(fraction))
    }

    static func micros(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// Parses ISO 8601 with an offset or Z into microseconds (fixtures and requests).
    static func parse(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        guard u.count >= 19, u[4] == 45, u[7] == 45, u[10] == 84 || u[10] == 32, u[13] == 58, u[16] == 58 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= u.count else { return nil }
            var value = 0
            for i in from..<(from + count) {
                let d = Int(u[i]) - 48
                guard (0...9).contains(d) else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard let y = digits(0, 4), let mo = digits(5, 2), let d = digits(8, 2), let h = digits(11, 2), let mi = digits(14, 2),
              let s = digits(17, 2) else { return nil }
        var i = 19
        var fraction: Int64 = 0
        var places = 0
        if i < u.count, u[i] == 46 {
            i += 1
            while i < u.count, (48...57).contains(u[i]) {
                if places < 6 { fraction = fraction * 10 + Int64(u[i] - 48) }
                places += 1
                i += 1
            }
        }
        while places < 6 {
            fraction *= 10
            places += 1
        }
        var offset = 0
        if i < u.count {
            if u[i] == 90 { i += 1 } else if u[i] == 43 || u[i] == 45, let oh = digits(i + 1, 2) {
                let sign = u[i] == 45 ? -1 : 1
                var j = i + 3
                if j < u.count, u[j] == 58 { j += 1 }
                let om = digits(j, 2) ?? 0
                offset = sign * (oh * 3600 + om * 60)
                i = j + 2
            }
        }
        var parts = tm()
        parts.tm_year = Int32(y - 1900)
        parts.tm_mon = Int32(mo - 1)
        parts.tm_mday = Int32(d)
        parts.tm_hour = Int32(h)
        parts.tm_min = Int32(mi)
        parts.tm_sec = Int32(s)
        return (Int64(timegm(&parts)) - Int64(offset)) * 1_000_000 + fraction
    }

    /// Renders a stored UTC stamp in a user's timezone the way Django does: "+05:30", or "Z" for UTC.
    static func render(_ utc: String, timezone: String) -> String {
        guard timezone != "UTC", let micros = parse(utc), let zone = TimeZone(identifier: timezone) else { return utc }
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
        if offset == 0 { return utc }
        let local = text(micros + Int64(offset) * 1_000_000)
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset)
        return String(local.dropLast()) + String(format: "%@%02d:%02d", sign, magnitude / 3600, (magnitude % 3600) / 60)
    }

    /// A version 4 UUID from the emulator's seeded generator.
    static func uuid(_ generator: inout SeededGenerator) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let a = generator.next()
        let b = generator.next()
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * UInt64(i))) }
        for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * UInt64(i))) }
        bytes[6] = 0x40 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        let hex = Array("0123456789abcdef")
        var out = ""
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append("-") }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return out
    }

    static func isUUID(_ text: String) -> Bool {
        let u = Array(text.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if c != 45 { return false }
            } else if !((48...57).contains(c) || (97...102).contains(c) || (65...70).contains(c)) {
                return false
            }
        }
        return true
    }
}
