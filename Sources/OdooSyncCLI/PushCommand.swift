import ArgumentParser
import Foundation
import OdooClient
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror
import PlaneClient
import OdooSyncServe

struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send pending lead edits to Odoo (a lead that changed in Odoo meanwhile becomes a conflict) and the Plane <-> Odoo sync queue.",
        discussion: "Queue items for Plane need PLANE_API_URL, PLANE_API_KEY and PLANE_WORKSPACE_SLUG; without them they wait for a run that has them.")

    @OptionGroup var global: GlobalOptions

    @Flag(name: .customLong("dry-run"), help: "Print the exact calls push would make, and change nothing.")
    var dryRun = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let env = try AppEnvironment(global)
        let (settings, mirror, lock) = try env.prepareRemoteRun()
        defer { withExtendedLifetime(lock) {} }
        let report: PushReport
        let queue: SyncReport?
        do {
            report = try await PushCommand.push(env: env, settings: settings, mirror: mirror, dryRun: dryRun)
            queue = try await PushCommand.pushQueue(env: env, settings: settings, mirror: mirror, dryRun: dryRun)
        } catch {
            if !dryRun { await env.alerterIfUsable()?.runEndedWithErrors(job: "push", failed: 1, errors: ["\(error)"], mirror: mirror) }
            throw error
        }
        let failed = report.failed + (queue?.failed ?? 0)
        if !dryRun && failed > 0 {
            await env.alerterIfUsable()?.runEndedWithErrors(job: "push", failed: failed, errors: report.errors + (queue?.errors ?? []), mirror: mirror)
        }
        if json {
            var doc = report.json.objectValue ?? []
            if let queue { doc.append(("sync_queue", queue.json)) }
            Output.json(.object(doc))
        } else {
            PushCommand.printReport(report, dryRun: dryRun, queueFollows: queue != nil)
            if let queue { PushCommand.printQueueReport(queue, dryRun: dryRun) }
        }
        if report.failed > 0 || (queue?.failed ?? 0) > 0 { throw ExitCode(ExitStatus.itemErrors.rawValue) }
    }

    static func push(env: AppEnvironment, settings: OdooSettings, mirror: Mirror, dryRun: Bool) async throws -> PushReport {
        let client = OdooClient(settings: settings, logger: env.logger)
        if dryRun {
            return try await Pusher(mirror: mirror, client: client, runID: "", logger: env.logger).push(dryRun: true)
        }
        return try await env.recordRun(mirror: mirror, job: "push odoo") { runID in
            let report = try await Pusher(mirror: mirror, client: client, runID: runID, logger: env.logger).push(dryRun: false)
            return (report, report.pushed, report.failed, report.json)
        }
    }

    /// The Plane <-> Odoo queue's due items; nil when the queue holds nothing to send.
    static func pushQueue(env: AppEnvironment, settings: OdooSettings, mirror: Mirror, dryRun: Bool) async throws -> SyncReport? {
        let due = try mirror.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_queue WHERE status IN ('pending', 'processing')") } ?? 0
        guard due > 0 else { return nil }
        let clock = HTTPWaitClock()
        let odoo = OdooClient(settings: settings, transport: MeasuredTransport(URLSessionTransport(), clock: clock), logger: env.logger)
        let planeSettings = try? env.planeSettings()
        let plane = planeSettings.map { PlaneWriter(client: env.planeClient($0, transport: MeasuredTransport(URLSessionTransport(), clock: clock))) }
        let scope = planeSettings.map { SyncCommand.scope(env, planeSettings: $0) } ?? SyncScope()
        if dryRun {
            let engine = SyncEngine(mirror: mirror, odoo: odoo, plane: plane, runID: "", scope: scope, logger: env.logger, httpClock: clock)
            try await engine.push(dryRun: true)
            return engine.report
        }
        return try await env.recordRun(mirror: mirror, job: "push queue", system: "custom", category: SyncEngine.category) { runID in
            let engine = SyncEngine(mirror: mirror, odoo: odoo, plane: plane, runID: runID, scope: scope, logger: env.logger, httpClock: clock)
            try await engine.push(dryRun: false)
            return (engine.report, engine.report.written, engine.report.failed, engine.report.json)
        }
    }

    static func printQueueReport(_ report: SyncReport, dryRun: Bool) {
        if dryRun {
            for call in report.calls { Output.print(call) }
            return
        }
        Output.print("Sync queue: \(report.written) written, \(report.failed) failed\(report.skippedForConnection > 0 ? ", \(report.skippedForConnection) waiting for a Plane connection (set PLANE_API_URL, PLANE_API_KEY, PLANE_WORKSPACE_SLUG)" : "").")
        for error in report.errors { Output.print("  \(error)") }
    }

    static func printReport(_ report: PushReport, dryRun: Bool, queueFollows: Bool = false) {
        if dryRun {
            if report.calls.isEmpty && !queueFollows { Output.print("Nothing to push.") }
            for call in report.calls { Output.print(call) }
            return
        }
        if report.pushed + report.conflicts + report.failed == 0 {
            if !queueFollows { Output.print("Nothing to push.") }
            return
        }
        Output.print("Pushed \(report.pushed) edit(s) to Odoo, \(report.conflicts) conflict(s), \(report.failed) failed.")
        for error in report.errors { Output.print("  \(error)") }
        if report.conflicts > 0 { Output.print("Settle conflicts with `odoosync conflicts resolve <id> --keep local|odoo`.") }
    }
}
