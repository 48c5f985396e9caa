import ArgumentParser
import Foundation
import OdooClient
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror

struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull the CRM pipeline from Odoo, or a Plane workspace, into the mirror (incremental; --full re-reads everything).",
        discussion: """
            odoo: reads crm.stage, res.users, crm.lead (archived ones too) and the res.partner records leads point to. \
            plane: reads the workspace's members and, for each project in PLANE_PROJECTS (default all), its members, \
            states, labels, issues, cycles and modules with their issues.
            """)

    enum Source: String, ExpressibleByArgument, CaseIterable { case odoo, plane }

    @OptionGroup var global: GlobalOptions

    @Argument(help: "What to pull from (odoo or plane).")
    var source: Source = .odoo

    @Flag(help: "Re-read every record instead of only those changed since the last pull.")
    var full = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let env = try AppEnvironment(global)
        if source == .plane {
            try await runPlane(env)
            return
        }
        let (settings, mirror, lock) = try env.prepareRemoteRun()
        defer { withExtendedLifetime(lock) {} }
        let report = try await PullCommand.pull(env: env, settings: settings, mirror: mirror, full: full,
                                                progress: json ? nil : TerminalProgress.makeIfTerminal())
        if json {
            Output.json(report.json)
        } else {
            PullCommand.printReport(report)
        }
        if report.hasErrors { throw ExitCode(ExitStatus.itemErrors.rawValue) }
    }

    /// A pull run with its `runs` row and events, shared by `pull` and `demo`.
    static func pull(env: AppEnvironment, settings: OdooSettings, mirror: Mirror, full: Bool,
                     progress: ProgressReporter?) async throws -> PullReport {
        let client = OdooClient(settings: settings, logger: env.logger)
        return try await env.recordRun(mirror: mirror, job: full ? "pull odoo --full" : "pull odoo") { runID in
            let puller = try OdooPuller(mirror: mirror, client: client, runID: runID, logger: env.logger, progress: progress)
            let report = try await puller.pull(full: full)
            let processed = report.models.reduce(0) { $0 + $1.stats.created + $1.stats.updated + $1.stats.unchanged + $1.stats.archived }
            let failed = report.models.reduce(0) { $0 + $1.stats.errors }
            return (report, processed, failed, report.json)
        }
    }

    static func printReport(_ report: PullReport) {
        Output.print("Pulled from Odoo (\(report.api)) in \(String(format: "%.2f", report.seconds)) s, \(report.requests) requests\(report.retries > 0 ? ", \(report.retries) retried" : "").")
        let rows = report.models.map { name, s in
            [name, "\(s.created)", "\(s.updated)", "\(s.unchanged)", "\(s.skipped)", "\(s.archived)", "\(s.deleted)", "\(s.errors)"]
        }
        Output.print(Output.table(["model", "created", "updated", "unchanged", "skipped", "archived", "deleted", "errors"], rows,
                                  rightAligned: Set(1...7)))
        for (name, stats) in report.models where stats.hidden > 0 {
            Output.print("\(stats.hidden) \(name) record(s) are hidden from this Odoo user by a record rule (reassigned, say): kept as last pulled, not deleted. The `record_hidden` events name them (`odoosync sql \"SELECT message FROM events WHERE event_type = 'record_hidden'\"`).")
        }
        if !report.skippedModels.isEmpty {
            Output.print("Not on this Odoo (module not installed): \(report.skippedModels.joined(separator: ", ")).")
        }
        for stage in report.unmappedStages {
            Output.print("Unmapped Odoo stage \"\(stage)\": its leads have no pipeline stage. Map it with `odoosync config set stage \"\(stage)\" <slug>`.")
        }
        if report.conflicts > 0 {
            Output.print("\(report.conflicts) lead(s) changed both here and in Odoo: see `odoosync conflicts`.")
        }
    }
}
