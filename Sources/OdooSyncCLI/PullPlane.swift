import ArgumentParser
import Foundation
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror
import PlaneClient

/// `pull plane`: the Plane half of the pull command.
extension PullCommand {
    func runPlane(_ env: AppEnvironment) async throws {
        let (settings, mirror, lock) = try env.preparePlaneRun()
        defer { withExtendedLifetime(lock) {} }
        let report = try await PullCommand.pullPlane(env: env, settings: settings, mirror: mirror, full: full,
                                                     progress: json ? nil : TerminalProgress.makeIfTerminal())
        if json {
            Output.json(report.json)
        } else {
            PullCommand.printPlaneReport(report)
        }
        if report.hasErrors { throw ExitCode(ExitStatus.itemErrors.rawValue) }
    }

    /// A Plane pull run with its `runs` row and events (Plane is no ops.system_type: "custom").
    static func pullPlane(env: AppEnvironment, settings: PlaneSettings, mirror: Mirror, full: Bool,
                          progress: ProgressReporter?) async throws -> PlanePullReport {
        let client = env.planeClient(settings)
        return try await env.recordRun(mirror: mirror, job: full ? "pull plane --full" : "pull plane", system: "custom",
                                       category: Mirror.planeCategory) { runID in
            let puller = try PlanePuller(mirror: mirror, client: client, runID: runID, logger: env.logger, progress: progress)
            let report = try await puller.pull(full: full)
            let processed = report.entities.reduce(0) { $0 + $1.stats.created + $1.stats.updated + $1.stats.unchanged + $1.stats.archived }
            let failed = report.entities.reduce(0) { $0 + $1.stats.errors }
            return (report, processed, failed, report.json)
        }
    }

    static func printPlaneReport(_ report: PlanePullReport) {
        var line = "Pulled from Plane in \(String(format: "%.2f", report.seconds)) s, \(report.requests) requests"
        if report.retries > 0 { line += ", \(report.retries) retried" }
        if report.rateLimitWaitSeconds > 0 {
            line += ", \(String(format: "%.1f", report.rateLimitWaitSeconds)) s waiting for the rate limit"
        }
        Output.print(line + ". Projects: \(report.projects.isEmpty ? "none" : report.projects.joined(separator: ", ")).")
        let rows = report.entities.map { name, s in
            [name, "\(s.created)", "\(s.updated)", "\(s.unchanged)", "\(s.skipped)", "\(s.archived)", "\(s.deleted)", "\(s.errors)"]
        }
        Output.print(Output.table(["entity", "created", "updated", "unchanged", "skipped", "archived", "deleted", "errors"], rows,
                                  rightAligned: Set(1...7)))
        if !report.archivedProjects.isEmpty {
            Output.print("Archived in Plane, contents not pulled: \(report.archivedProjects.joined(separator: ", ")).")
        }
        if let note = notMemberNote(report.notMemberProjects) { Output.print(note) }
        for failure in report.projectErrors { Output.print("  \(failure.message)") }
    }

    /// The one line that says which listed projects were left out for want of membership.
    static func notMemberNote(_ projects: [String]) -> String? {
        guard !projects.isEmpty else { return nil }
        return "Not a member of \(projects.joined(separator: ", ")): add the API user to the project to sync it."
    }
}
