import ArgumentParser
import CTuning
import Foundation
import OdooSyncCore
import OdooSyncMirror

/// The command-line table of contents.
public struct OdooSyncCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "odoosync",
        abstract: "A local-first SQLite mirror of an Odoo CRM pipeline: pull, work offline, push.",
        discussion: """
            Connection settings come from the environment (ODOO_URL, ODOO_DATABASE, ODOO_USERNAME, \
            ODOO_API_KEY or ODOO_PASSWORD, ODOO_PROTOCOL; for Plane PLANE_API_URL, PLANE_API_KEY, \
            PLANE_WORKSPACE_SLUG, PLANE_PROJECTS) or from odoosync.toml. \
            Exit codes: 0 success, 1 finished with item errors, 2 usage or configuration error, \
            3 cannot reach or log in to a remote, 4 mirror busy or unusable.
            """,
        subcommands: [
            InitCommand.self, PullCommand.self, PushCommand.self, StatusCommand.self, LeadsCommand.self,
            SyncCommand.self, ConflictsCommand.self, QueueCommand.self, ConfigCommand.self, SQLCommand.self, ExportCommand.self,
            ServeCommand.self, ReportCommand.self, DemoCommand.self, EmulatorCommand.self,
        ])

    public init() {}

    /// Process-wide options of SQLite (see `Mirror.sqliteTuned`) and of malloc; call first thing,
    /// before anything allocates much or opens a database.
    public static func tuneProcess() {
        odoosync_malloc_tune()
        _ = OdooSyncMirror.Mirror.sqliteTuned
    }

    /// Parses, runs, and maps every error to its exit code and a sentence on stderr.
    public static func runMain() async -> Int32 {
        let arguments = Array(CommandLine.arguments.dropFirst())
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                Output.print(message)
                return 0
            }
            Output.printError(message)
            return ExitStatus.usage.rawValue
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let error as UserFacingError {
            Output.printError("error: \(error.description)")
            return error.exitStatus.rawValue
        } catch let error as ExitCode {
            return error.rawValue
        } catch let error as ValidationError {
            Output.printError("error: \(error.message)")
            return ExitStatus.usage.rawValue
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // `help <command>` ends by throwing a clean exit that carries the help text.
                let message = fullMessage(for: error)
                if !message.isEmpty { Output.print(message) }
                return 0
            }
            Output.printError("error: \(fullMessage(for: error))")
            return code == .validationFailure ? ExitStatus.usage.rawValue : 1
        }
    }
}

/// Commands that finished with item errors end with exit 1 (the stats say which).
struct ItemErrors: UserFacingError {
    let description: String
    var exitStatus: ExitStatus { .itemErrors }
}
