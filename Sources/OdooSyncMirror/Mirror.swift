import CTuning
import Foundation
import GRDB
import OdooSyncCore

/// The one SQLite file that holds everything odoosync knows.
///
/// Opened once per process, migrated at open. Writes go through `write`, each one a transaction.
public final class Mirror: Sendable {
    public let path: String
    public let db: DatabaseQueue
    public let busyTimeout: TimeInterval

    /// Opens (and when `create` is true, creates with mode 0600) the mirror at `path`,
    /// applying any migration the file lacks.
    public init(path: String, create: Bool = true, busyTimeout: TimeInterval = 10) throws {
        _ = Mirror.sqliteTuned
        self.path = path
        self.busyTimeout = busyTimeout
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists {
            guard create else { throw MirrorError.missing(path: path) }
            // SQLite gives the -wal and -shm files the mode of the main file, so creating it
            // 0600 first keeps the whole mirror private.
            let fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o600)
            if fd < 0 {
                if errno != EEXIST {
                    throw MirrorError.permissions(path: path, reason: String(cString: strerror(errno)))
                }
            } else {
                close(fd)
            }
        }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(busyTimeout)
        config.journalMode = .wal
        config.label = "mirror"
        config.prepareDatabase { db in
            // WAL with synchronous=NORMAL stays consistent through a crash or kill -9 (a power
            // loss may drop the last commits, never corrupt); a 4 MB cache keeps a 100k-lead pull
            // under 64 MB resident (8 MB saved ~8% of the pull's CPU in re-reads but cost 5 MB);
            // statement journals in memory spare a temporary file that took a gigabyte of
            // writes per 20k-lead pull.
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -4096; PRAGMA temp_store = MEMORY")
        }
        do {
            db = try DatabaseQueue(path: path, configuration: config)
            try Mirror.migrator.migrate(db)
        } catch {
            throw Mirror.translate(error, path: path, busyTimeout: busyTimeout)
        }
        try checkSchemaIsKnown()
    }

    /// SQLite's process-wide options, set once before the first connection opens (the CLI sets
    /// them first thing; this covers tests and other embedders). Too late, SQLite keeps its
    /// defaults, which are correct, only slower: about 6% of a pull's CPU went to the mutex
    /// that memory statistics take on every allocation.
    public static let sqliteTuned: Bool = {
        odoosync_sqlite_tune() == 0
    }()

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for file in EmbeddedSchema.files {
            let identifier = String(file.name.dropLast(4))  // "001_initial"
            migrator.registerMigration(identifier) { db in
                // A migration that edits table definitions in sqlite_schema moves the schema
                // cookie in its own transaction, as SQLite's procedure for it requires, so that
                // every connection re-reads the schema (009: cheaper CHECK constraints).
                try db.execute(sql: file.sql)
                if file.sql.contains("PRAGMA writable_schema = ON"), let cookie = try Int.fetchOne(db, sql: "PRAGMA schema_version") {
                    try db.execute(sql: "PRAGMA schema_version = \(cookie + 1)")
                }
            }
        }
        return migrator
    }

    private func checkSchemaIsKnown() throws {
        let known = Set(EmbeddedSchema.files.map { String($0.name.dropLast(4)) })
        let applied = try read { db in try Mirror.migrator.appliedIdentifiers(db) }
        let unknown = applied.subtracting(known).sorted()
        if !unknown.isEmpty { throw MirrorError.newerSchema(path: path, unknown: unknown) }
    }

    /// Runs `body` in one write transaction.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try db.write(body)
        } catch {
            throw Mirror.translate(error, path: path, busyTimeout: busyTimeout)
        }
    }

    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try db.read(body)
        } catch {
            throw Mirror.translate(error, path: path, busyTimeout: busyTimeout)
        }
    }

    /// SQLite's busy, not-a-database and corruption codes become mirror errors (exit 4);
    /// everything else passes through unchanged.
    public static func translate(_ error: Error, path: String, busyTimeout: TimeInterval) -> Error {
        guard let dbError = error as? DatabaseError else { return error }
        switch dbError.resultCode {
        case .SQLITE_NOTADB: return MirrorError.notSQLite(path: path)
        case .SQLITE_BUSY, .SQLITE_LOCKED: return MirrorError.busy(path: path, waitedSeconds: busyTimeout)
        case .SQLITE_CORRUPT: return MirrorError.corrupt(path: path, detail: dbError.message ?? "corrupt")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY:
            return MirrorError.permissions(path: path, reason: dbError.message ?? "cannot open")
        default: return error
        }
    }
}
