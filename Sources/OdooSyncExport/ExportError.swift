import Foundation
import OdooSyncCore

/// Why an export could not run or stopped. Each message names the database by host, port and
/// database, never by its password, and says what to do.
public enum ExportError: UserFacingError {
    /// No SUPABASE_DB_URL and no `[supabase] db_url`.
    case notConfigured
    /// The database cannot be reached: DNS, refused, timed out, TLS.
    case unreachable(target: String, cause: String)
    /// The server answered but refused the login or the database.
    case refused(target: String, cause: String)
    /// The connection broke after some batches were committed.
    case connectionLost(target: String, cause: String)
    /// The role may not do what export needs.
    case permissionDenied(target: String, cause: String)
    /// Tables the export writes to are missing and `--init-schema` was not given.
    case schemaMissing(target: String, missing: [String])
    /// A table lacks a column export matches rows on.
    case keyColumnsMissing(target: String, table: String, columns: [String])
    /// `--init-schema` needs the roles its policies name.
    case rolesMissing(target: String, roles: [String])
    /// Anything else the server said, with the statement's purpose.
    case server(target: String, during: String, cause: String)

    public var exitStatus: ExitStatus {
        switch self {
        case .notConfigured, .schemaMissing, .keyColumnsMissing, .rolesMissing: return .usage
        case .unreachable, .refused, .connectionLost, .permissionDenied: return .remote
        case .server: return .itemErrors
        }
    }

    static let nothingLost = "Nothing was lost: the next `odoosync export` sends what is still owed."

    public var description: String {
        switch self {
        case .notConfigured:
            return "No Supabase database is set. Set SUPABASE_DB_URL (for example postgresql://postgres:PASSWORD@db.PROJECT.supabase.co:5432/postgres?sslmode=require) or `db_url` under [supabase] in odoosync.toml."
        case .unreachable(let target, let cause):
            return "Cannot reach the Supabase database at \(target): \(cause). Check SUPABASE_DB_URL and the network. \(ExportError.nothingLost)"
        case .refused(let target, let cause):
            return "The Supabase database at \(target) refused the connection: \(cause). Check the user, password and database name in SUPABASE_DB_URL. \(ExportError.nothingLost)"
        case .connectionLost(let target, let cause):
            return "The connection to the Supabase database at \(target) was lost during the export: \(cause). Batches committed before it are kept. \(ExportError.nothingLost)"
        case .permissionDenied(let target, let cause):
            return "The Supabase database at \(target) refused a write: \(cause). Use a role that may write plane.*, ops.* and public.leads (the service role or the postgres user). \(ExportError.nothingLost)"
        case .schemaMissing(let target, let missing):
            return "The Supabase database at \(target) lacks \(missing.joined(separator: ", ")). Run `odoosync export --init-schema` to create what is missing (it never changes what exists). Nothing was written."
        case .keyColumnsMissing(let target, let table, let columns):
            return "\(table) in the Supabase database at \(target) lacks \(columns.joined(separator: ", ")), which export matches rows on. Add the column(s), then export again. Nothing was written."
        case .rolesMissing(let target, let roles):
            return "The database at \(target) has no role \(roles.joined(separator: ", ")), which the row-level security policies of the Supabase setup name. On a plain PostgreSQL create them first (CREATE ROLE \(roles.first ?? "authenticated") NOLOGIN; ...). Nothing was created."
        case .server(let target, let during, let cause):
            return "The Supabase database at \(target) rejected \(during): \(cause). \(ExportError.nothingLost)"
        }
    }
}
