import ArgumentParser
import Foundation
import OdooSyncCore
import OdooSyncMirror

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create the mirror file (mode 0600) with its schema and default settings.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let env = try AppEnvironment(global)
        let existed = FileManager.default.fileExists(atPath: env.databasePath)
        let mirror = try env.openMirror(create: true)
        let version = try mirror.read { db in try String.fetchOne(db, sql: "SELECT max(identifier) FROM grdb_migrations") } ?? "?"
        Output.print(existed ? "Mirror \(mirror.path) is ready (schema \(version))." : "Created mirror \(mirror.path) (schema \(version)).")
    }
}
