import ArgumentParser
import Foundation
import OdooClient
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror
import OdooSyncServe
import PlaneClient

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "One Plane <-> Odoo sync run: pull both sides, detect changes, resolve conflicts, push.",
        discussion: """
            Needs both connections (ODOO_* and PLANE_API_URL, PLANE_API_KEY, PLANE_WORKSPACE_SLUG). \
            PLANE_PROJECTS and ODOO_PROJECTS narrow the projects that take part; PLANE_VISIBILITY_PROJECT \
            names the Plane project that receives sale-order and invoice issues. What syncs, in which \
            direction and with which conflict strategy: `odoosync config show`.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Re-read every record on both sides instead of only those changed since the last pull.")
    var full = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let env = try AppEnvironment(global)
        let odooSettings = try env.odooSettings()
        let planeSettings = try env.planeSettings()
        let mirror = try env.openMirror()
        let lock = try env.lockMirror(restoring: mirror)
        defer { withExtendedLifetime(lock) {} }
        // A first sync touches every pair, mapping and queue row: with the mirror's usual 4 MB
        // cache SQLite read ~75,000 pages back from the file for 10,000 items, with 32 MB
        // ~19,000. The process ends with the run, so the memory is only lent.
        try mirror.write { db in try db.execute(sql: "PRAGMA cache_size = -32768") }
        let report: SyncReport
        do {
            report = try await SyncCommand.sync(env: env, odooSettings: odooSettings, planeSettings: planeSettings, mirror: mirror, full: full)
        } catch {
            await env.alerterIfUsable()?.runEndedWithErrors(job: "sync", failed: 1, errors: [Redactor.shared.redact("\(error)")], mirror: mirror)
            throw error
        }
        if report.failed > 0 {
            await env.alerterIfUsable()?.runEndedWithErrors(job: "sync", failed: report.failed, errors: report.errors, mirror: mirror)
        }
        if json {
            Output.json(report.json)
        } else {
            SyncCommand.printReport(report)
        }
        if report.failed > 0 { throw ExitCode(ExitStatus.itemErrors.rawValue) }
    }

    static func scope(_ env: AppEnvironment, planeSettings: PlaneSettings) -> SyncScope {
        func value(_ name: String, _ key: String) -> String? {
            env.environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? env.configFile[key]
        }
        return SyncScope(planeProjects: planeSettings.projects.isEmpty ? nil : planeSettings.projects,
                         odooProjects: SyncScope.list(value("ODOO_PROJECTS", "odoo.projects")),
                         visibilityProject: value("PLANE_VISIBILITY_PROJECT", "plane.visibility_project"))
    }

    /// pull odoo (project side) and plane, then push what earlier runs left due (a crash's
    /// leftovers pair first, so nothing is created twice), then detect and push until no new
    /// pair appears (projects first, then what lives in them).
    static func sync(env: AppEnvironment, odooSettings: OdooSettings, planeSettings: PlaneSettings, mirror: Mirror,
                     full: Bool) async throws -> SyncReport {
        // One clock for both servers: the report tells the run's own time from its waits.
        let clock = HTTPWaitClock()
        let odoo = OdooClient(settings: odooSettings, transport: MeasuredTransport(URLSessionTransport(), clock: clock), logger: env.logger)
        let plane = env.planeClient(planeSettings, transport: MeasuredTransport(URLSessionTransport(), clock: clock))
        let scope = scope(env, planeSettings: planeSettings)
        return try await env.recordRun(mirror: mirror, job: full ? "sync --full" : "sync", system: "custom", category: SyncEngine.category) { runID in
            let pullStarted = Date()
            let waitedBefore = clock.seconds
            let puller = try OdooPuller(mirror: mirror, client: odoo, runID: runID, logger: env.logger)
            let planePuller = try PlanePuller(mirror: mirror, client: plane, runID: runID, logger: env.logger)
            // The two pulls share nothing but the mirror's writer: their round trips overlap.
            async let odooPulled = puller.pullProjects(full: full)
            async let planePulled = planePuller.pull(full: full)
            let (_, planeReport) = try await (odooPulled, planePulled)
            let pullSeconds = Date().timeIntervalSince(pullStarted)
            let pullRemoteSeconds = clock.seconds - waitedBefore
            var scope = scope
            scope.leftOutPlaneProjects = planeReport.notMemberProjects
            let engine = SyncEngine(mirror: mirror, odoo: odoo, plane: PlaneWriter(client: plane), runID: runID, scope: scope, logger: env.logger,
                                    httpClock: clock)
            try await engine.push(dryRun: false)
            // A pass that made or brought back pairs (a project, say) can leave work for the
            // next one (that project's issues); a few passes settle it.
            for _ in 0..<4 {
                let before = engine.report.pairsMade
                try await engine.detect()
                try await engine.push(dryRun: false)
                if engine.report.pairsMade == before { break }
            }
            var report = engine.report
            // The Plane pull's scope is the sync's: projects it left out or could not read say so here.
            report.planeNotMemberProjects = planeReport.notMemberProjects
            report.planePullFailed = planeReport.projectErrors.count
            report.errors = planeReport.projectErrors.map(\.message) + report.errors
            report.pullSeconds = pullSeconds
            report.pullRemoteSeconds = pullRemoteSeconds
            report.planeRateLimitWaitSeconds = await plane.rateLimitWaitSeconds
            return (report, report.written, report.failed, report.json)
        }
    }

    static func printReport(_ report: SyncReport) {
        let rows = SyncEntities.all.compactMap { key -> [String]? in
            guard let s = report.entities[key] else { return nil }
            return [key, "\(s.created)", "\(s.updated)", "\(s.archived)", "\(s.restored)", "\(s.paired)", "\(s.conflicts)", "\(s.failed)"]
        }
        if rows.isEmpty {
            Output.print("In step: nothing changed on either side.")
        } else {
            Output.print(Output.table(["entity", "created", "updated", "archived", "restored", "paired", "conflicts", "failed"], rows, rightAligned: Set(1...7)))
        }
        for error in report.errors { Output.print("  \(error)") }
        if let note = PullCommand.notMemberNote(report.planeNotMemberProjects) { Output.print(note) }
        if report.unmappedFields > 0 {
            Output.print("\(report.unmappedFields) state/stage value(s) had no counterpart on the other side and were left as they were: map them with `odoosync config set state \"<Plane state>\" \"<Odoo stage>\"` (-v names them).")
        }
        if report.planeRateLimitWaitSeconds >= 1 {
            Output.print(String(format: "Waited %.1f s for Plane's rate limit.", report.planeRateLimitWaitSeconds))
        }
        if report.failed > report.planePullFailed { Output.print("Failed items stay in the queue: `odoosync queue list`, then `odoosync queue retry <id>`.") }
        if report.conflicts > 0 { Output.print("Conflicts waiting for you (manual strategy): `odoosync conflicts`.") }
    }
}
