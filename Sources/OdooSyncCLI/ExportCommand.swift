import ArgumentParser
import Foundation
import OdooSyncCore
import OdooSyncExport
import OdooSyncMirror

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Publish the mirror to Supabase Postgres (plane.*, ops.events and ops.runs, public.leads with customers and contacts).",
        discussion: """
            Reads SUPABASE_DB_URL (or `db_url` under [supabase] in odoosync.toml), a postgresql:// URI; sslmode is honoured. \
            Sends only what changed since the last export, in batches that are each one transaction; a run that is \
            interrupted is completed by the next one. Rows in Supabase that did not come from this sync are never \
            touched, and a lead edited in Supabase after its last sync is skipped and counted.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(name: .customLong("init-schema"), help: "Create the schemas, tables, views and policies the target lacks (never changes what exists).")
    var initSchema = false

    @Flag(name: .customLong("dry-run"), help: "Count what would be sent, per table, without connecting.")
    var dryRun = false

    @Flag(help: "Send every row again, not only what changed since the last export (for a new or rebuilt database).")
    var full = false

    @Option(name: .customLong("batch-size"), help: ArgumentHelp("Rows per batch, each batch one transaction (default 5000).", valueName: "n"))
    var batchSize: Int = 5000

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be from 1 to 100000.") }
        if dryRun && initSchema { throw ValidationError("--dry-run does not connect, so it cannot --init-schema; drop one of them.") }
    }

    func run() async throws {
        let env = try AppEnvironment(global)
        if dryRun {
            let mirror = try env.openMirror(create: false)
            let owed = try ExportLedger(mirror: mirror).owed()
            if json {
                Output.json(.object([("dry_run", true), ("owed", .object(owed.map { ($0.table, .int($0.rows)) })),
                                     ("total", .int(owed.reduce(0) { $0 + $1.rows }))]))
            } else {
                let total = owed.reduce(0) { $0 + $1.rows }
                Output.print(total == 0 ? "Nothing to export: Supabase has everything in the mirror." : "Would export \(total) row(s):")
                if total > 0 { Output.print(Output.table(["table", "rows"], owed.map { [$0.table, "\($0.rows)"] }, rightAligned: [1])) }
            }
            return
        }
        let target = try env.supabaseTarget()
        let mirror = try env.openMirror(create: false)
        let lock = try env.lockMirror(restoring: mirror)
        defer { withExtendedLifetime(lock) {} }
        let progress = json ? nil : ExportProgress.makeIfTerminal()
        var onProgress: (@Sendable (Int) -> Void)? = nil
        if let progress { onProgress = { progress.show($0) } }
        let report = try await Exporter.run(
            mirror: mirror, target: target, options: ExportOptions(initSchema: initSchema, batchSize: batchSize, full: full),
            logger: env.logger, progress: onProgress)
        progress?.finish()
        if json {
            Output.json(report.json)
        } else {
            ExportCommand.printReport(report)
        }
        if let error = report.error {
            if !json { Output.printError("error: \(error)") }
            throw ExitCode(ExitStatus.itemErrors.rawValue)
        }
    }

    static func printReport(_ report: ExportReport) {
        for object in report.created { Output.print("Created \(object).") }
        for object in report.notCreated { Output.print("Not created: \(object).") }
        for (table, columns) in report.missingColumns {
            Output.print("\(table) lacks \(columns.joined(separator: ", ")): those values are not exported.")
        }
        for warning in report.warnings { Output.print("Warning: \(warning)") }
        let rate = report.seconds > 0 ? Int(Double(report.rowsSent) / report.seconds) : 0
        Output.print("Exported to \(report.target)\(report.tls ? " (TLS)" : "") in \(String(format: "%.2f", report.seconds)) s: \(report.rowsSent) row(s) in \(report.batches) batch(es), \(rate) rows/s.")
        let rows = report.tables.filter { $0.stats.sent > 0 }.map { table, s in
            [table, "\(s.sent)", "\(s.inserted)", "\(s.updated)", "\(s.unchanged)", "\(s.skippedEdited)", "\(s.skippedForeign + s.skippedNoKey)"]
        }
        if !rows.isEmpty {
            Output.print(Output.table(["table", "sent", "inserted", "updated", "unchanged", "skipped edited", "skipped other"], rows,
                                      rightAligned: Set(1...6)))
        }
        for (table, s) in report.tables where s.skippedEdited + s.skippedForeign > 0 {
            Output.print("\(table): \(s.skippedEdited) row(s) edited in Supabase after their last sync and \(s.skippedForeign) owned by another writer were left as they are: \(s.skippedKeys.prefix(10).joined(separator: ", "))\(s.skippedKeys.count > 10 ? ", ..." : "").")
        }
    }

    /// The export part of `status`: what is owed, and how the last exports went.
    static func statusDocument(_ mirror: Mirror) throws -> JSONValue {
        let ledger = ExportLedger(mirror: mirror)
        let owed = try ledger.owed()
        let runs = try ledger.lastRuns()
        return .object([
            ("owed", .object(owed.map { ($0.table, .int($0.rows)) })),
            ("owed_total", .int(owed.reduce(0) { $0 + $1.rows })),
            ("last_export", runs.last ?? .null),
            ("last_success", runs.lastSuccess ?? .null),
        ])
    }
}

extension AppEnvironment {
    /// The export target from SUPABASE_DB_URL or the config file; its password is registered
    /// with the redactor before anything can print it.
    func supabaseTarget() throws -> PostgresTarget {
        let fromEnvironment = environment["SUPABASE_DB_URL"].flatMap { $0.isEmpty ? nil : $0 }
        guard let url = fromEnvironment ?? configFile["supabase.db_url"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw ExportError.notConfigured
        }
        let target = try PostgresTarget.parse(url, name: fromEnvironment != nil ? "SUPABASE_DB_URL" : "db_url in \(configFile.path ?? "the config file")")
        if let password = target.password { Redactor.shared.register(password) }
        return target
    }
}

/// Rows sent so far on stderr, only when stderr is a terminal.
final class ExportProgress: Sendable {
    static func makeIfTerminal() -> ExportProgress? {
        isatty(STDERR_FILENO) != 0 ? ExportProgress() : nil
    }

    func show(_ rows: Int) {
        Output.write(Data("\r\u{1B}[Kexport: \(rows) rows sent".utf8), to: .standardError)
    }

    func finish() {
        Output.write(Data("\r\u{1B}[K".utf8), to: .standardError)
    }
}
