import Foundation
import OdooSyncCore

/// Why the mirror file cannot be used. Every case exits 4.
public enum MirrorError: UserFacingError, Equatable {
    case notSQLite(path: String)
    case busy(path: String, waitedSeconds: Double)
    case missing(path: String)
    case newerSchema(path: String, unknown: [String])
    case permissions(path: String, reason: String)
    case corrupt(path: String, detail: String)

    public var exitStatus: ExitStatus { .mirror }

    public var description: String {
        switch self {
        case .notSQLite(let path):
            return "\(path) is not an odoosync mirror: it is not a SQLite database. Point --db at a mirror, or at a new path to create one."
        case .busy(let path, let waited):
            return "The mirror \(path) is busy: another odoosync process has held it for \(String(format: "%.0f", waited)) s. Wait for that run to finish, then try again (ODOOSYNC_BUSY_TIMEOUT sets how long to wait)."
        case .missing(let path):
            return "There is no mirror at \(path). Run `odoosync init` or `odoosync pull odoo` to create it, or pass --db."
        case .newerSchema(let path, let unknown):
            return "The mirror \(path) was written by a newer odoosync (schema \(unknown.joined(separator: ", "))). Upgrade odoosync to use it."
        case .permissions(let path, let reason):
            return "Cannot create the mirror \(path): \(reason). Check that the folder exists and is writable."
        case .corrupt(let path, let detail):
            return "The mirror \(path) is damaged (\(detail)). Move it aside and run `odoosync pull odoo --full` to rebuild it."
        }
    }
}
