import Foundation

/// The URL space of Plane's public API that the emulator serves (all under `/api/v1/`, all
/// with a trailing slash). `w` is the workspace slug, `p` a project id.
enum PlaneRoute {
    case me
    case workspaceMembers(w: String)
    case projects(w: String)
    case project(w: String, p: String)
    case projectArchive(w: String, p: String)
    case projectMembers(w: String, p: String)
    case projectMember(w: String, p: String, user: String)
    case states(w: String, p: String)
    case state(w: String, p: String, id: String)
    case labels(w: String, p: String)
    case label(w: String, p: String, id: String)
    case issues(w: String, p: String)
    case issue(w: String, p: String, id: String)
    case issueByKey(w: String, identifier: String, sequence: Int)
    case issueSearch(w: String)
    case cycles(w: String, p: String)
    case cycle(w: String, p: String, id: String)
    case cycleIssues(w: String, p: String, cycle: String)
    case cycleIssue(w: String, p: String, cycle: String, issue: String)
    case modules(w: String, p: String)
    case module(w: String, p: String, id: String)
    case moduleIssues(w: String, p: String, module: String)
    case moduleIssue(w: String, p: String, module: String, issue: String)
    /// `cycles/<id>/archive/`, `modules/<id>/archive/`
    case containerArchive(w: String, p: String, kind: PlaneCore.Container, id: String)
    /// `archived-cycles/`, `archived-modules/`
    case archivedContainers(w: String, p: String, kind: PlaneCore.Container)
    /// `archived-cycles/<id>/unarchive/`, `archived-modules/<id>/unarchive/`
    case containerUnarchive(w: String, p: String, kind: PlaneCore.Container, id: String)

    /// The `Allow` header: the methods the view has.
    var allow: String {
        switch self {
        case .me, .workspaceMembers, .issueByKey, .issueSearch, .archivedContainers: return "GET"
        case .containerArchive: return "POST"
        case .containerUnarchive: return "DELETE"
        case .projects, .projectMembers, .states, .labels, .issues, .cycles, .cycleIssues, .modules, .moduleIssues: return "GET, POST"
        case .project, .projectMember, .state, .label, .issue, .cycle, .module: return "GET, PATCH, DELETE"
        case .projectArchive: return "POST, DELETE"
        case .cycleIssue: return "GET, DELETE"
        case .moduleIssue: return "DELETE"
        }
    }

    var workspace: String? {
        switch self {
        case .me: return nil
        case .workspaceMembers(let w), .projects(let w), .issueSearch(let w), .issueByKey(let w, _, _): return w
        case .project(let w, _), .projectArchive(let w, _), .projectMembers(let w, _), .projectMember(let w, _, _),
             .states(let w, _), .state(let w, _, _), .labels(let w, _), .label(let w, _, _), .issues(let w, _),
             .issue(let w, _, _), .cycles(let w, _), .cycle(let w, _, _), .cycleIssues(let w, _, _),
             .cycleIssue(let w, _, _, _), .modules(let w, _), .module(let w, _, _), .moduleIssues(let w, _, _),
             .moduleIssue(let w, _, _, _), .containerArchive(let w, _, _, _), .archivedContainers(let w, _, _),
             .containerUnarchive(let w, _, _, _):
            return w
        }
    }

    var project: String? {
        switch self {
        case .me, .workspaceMembers, .projects, .issueSearch, .issueByKey: return nil
        case .project(_, let p), .projectArchive(_, let p), .projectMembers(_, let p), .projectMember(_, let p, _),
             .states(_, let p), .state(_, let p, _), .labels(_, let p), .label(_, let p, _), .issues(_, let p),
             .issue(_, let p, _), .cycles(_, let p), .cycle(_, let p, _), .cycleIssues(_, let p, _),
             .cycleIssue(_, let p, _, _), .modules(_, let p), .module(_, let p, _), .moduleIssues(_, let p, _),
             .moduleIssue(_, let p, _, _), .containerArchive(_, let p, _, _), .archivedContainers(_, let p, _),
             .containerUnarchive(_, let p, _, _):
            return p
        }
    }

    /// nil when Django's URL patterns would not match (404 "Page not found."): a missing
    /// trailing slash, an unknown path, or a segment that should be a UUID and is not.
    static func parse(_ path: String) -> PlaneRoute? {
        guard path.hasPrefix("/api/v1/"), path.hasSuffix("/") else { return nil }
        let s = path.dropFirst("/api/v1/".count).split(separator: "/", omittingEmptySubsequences: false).dropLast().map(String.init)
        guard !s.contains("") else { return nil }
        if s == ["users", "me"] { return .me }
        guard s.count >= 3, s[0] == "workspaces" else { return nil }
        let w = s[1]
        let rest = Array(s[2...])
        let uuid = Stamp.isUUID
        switch rest.count {
        case 1:
            switch rest[0] {
            case "members": return .workspaceMembers(w: w)
            case "projects": return .projects(w: w)
            default: return nil
            }
        case 2 where rest[0] == "issues" || rest[0] == "work-items":
            if rest[1] == "search" { return .issueSearch(w: w) }
            // "WEB-1": identifier, dash, sequence number.
            guard let dash = rest[1].lastIndex(of: "-"), let sequence = Int(rest[1][rest[1].index(after: dash)...]) else { return nil }
            return .issueByKey(w: w, identifier: String(rest[1][..<dash]), sequence: sequence)
        default:
            break
        }
        guard rest[0] == "projects", rest.count >= 2, uuid(rest[1]) else { return nil }
        let p = rest[1]
        let tail = Array(rest[2...])
        switch tail.count {
        case 0: return .project(w: w, p: p)
        case 1:
            switch tail[0] {
            case "archive": return .projectArchive(w: w, p: p)
            case "members", "project-members": return .projectMembers(w: w, p: p)
            case "states": return .states(w: w, p: p)
            case "labels": return .labels(w: w, p: p)
            case "issues", "work-items": return .issues(w: w, p: p)
            case "cycles": return .cycles(w: w, p: p)
            case "modules": return .modules(w: w, p: p)
            case "archived-cycles": return .archivedContainers(w: w, p: p, kind: .cycle)
            case "archived-modules": return .archivedContainers(w: w, p: p, kind: .module)
            default: return nil
            }
        case 2:
            guard uuid(tail[1]) else { return nil }
            switch tail[0] {
            case "members", "project-members": return .projectMember(w: w, p: p, user: tail[1])
            case "states": return .state(w: w, p: p, id: tail[1])
            case "labels": return .label(w: w, p: p, id: tail[1])
            case "issues", "work-items": return .issue(w: w, p: p, id: tail[1])
            case "cycles": return .cycle(w: w, p: p, id: tail[1])
            case "modules": return .module(w: w, p: p, id: tail[1])
            default: return nil
            }
        case 3:
            guard uuid(tail[1]) else { return nil }
            if tail[0] == "cycles", tail[2] == "cycle-issues" { return .cycleIssues(w: w, p: p, cycle: tail[1]) }
            if tail[0] == "modules", tail[2] == "module-issues" { return .moduleIssues(w: w, p: p, module: tail[1]) }
            if tail[0] == "cycles", tail[2] == "archive" { return .containerArchive(w: w, p: p, kind: .cycle, id: tail[1]) }
            if tail[0] == "modules", tail[2] == "archive" { return .containerArchive(w: w, p: p, kind: .module, id: tail[1]) }
            if tail[0] == "archived-cycles", tail[2] == "unarchive" { return .containerUnarchive(w: w, p: p, kind: .cycle, id: tail[1]) }
            if tail[0] == "archived-modules", tail[2] == "unarchive" { return .containerUnarchive(w: w, p: p, kind: .module, id: tail[1]) }
            return nil
        case 4:
            guard uuid(tail[1]), uuid(tail[3]) else { return nil }
            if tail[0] == "cycles", tail[2] == "cycle-issues" { return .cycleIssue(w: w, p: p, cycle: tail[1], issue: tail[3]) }
            if tail[0] == "modules", tail[2] == "module-issues" { return .moduleIssue(w: w, p: p, module: tail[1], issue: tail[3]) }
            return nil
        default:
            return nil
        }
    }
}
