import ArgumentParser
import Foundation
import OdooClient
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror
import OdooSyncServe

struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send pending lead edits to Odoo; a lead that changed in Odoo meanwhile becomes a conflict.")

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
        do {
            report = try await PushCommand.push(env: env, settings: settings, mirror: mirror, dryRun: dryRun)
        } catch {
            if !dryRun { await env.alerterIfUsable()?.runEndedWithErrors(job: "push odoo", failed: 1, errors: ["\(error)"], mirror: mirror) }
            throw error
        }
        if !dryRun && report.failed > 0 {
            await env.alerterIfUsable()?.runEndedWithErrors(job: "push odoo", failed: report.failed, errors: report.errors, mirror: mirror)
        }
        if json {
            Output.json(report.json)
        } else {
            PushCommand.printReport(report, dryRun: dryRun)
        }
        if report.failed > 0 { throw ExitCode(ExitStatus.itemErrors.rawValue) }
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

    static func printReport(_ report: PushReport, dryRun: Bool) {
        if dryRun {
            if report.calls.isEmpty { Output.print("Nothing to push.") }
            for call in report.calls { Output.print(call) }
            return
        }
        if report.pushed + report.conflicts + report.failed == 0 {
            Output.print("Nothing to push.")
            return
        }
        Output.print("Pushed \(report.pushed) edit(s) to Odoo, \(report.conflicts) conflict(s), \(report.failed) failed.")
        for error in report.errors { Output.print("  \(error)") }
        if report.conflicts > 0 { Output.print("Settle conflicts with `odoosync conflicts resolve <id> --keep local|odoo`.") }
    }
}
