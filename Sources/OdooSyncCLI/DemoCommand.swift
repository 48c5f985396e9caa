import ArgumentParser
import Foundation
import GRDB
import OdooEmulator
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole cycle against an in-process Odoo emulator: pull, edit a lead, push, status.",
        discussion: "Needs no account: the emulator serves the bundled fixtures. The mirror goes to a temporary folder unless --db is given.")

    @Option(help: "Mirror file to use (default: a new one in a temporary folder).") var db: String?
    @Option(help: "Folder of Odoo fixtures (default: the bundled fixtures/odoo).") var fixtures: String?
    @Flag(name: .shortAndLong, help: "Log what happens (to stderr).") var verbose = false

    func run() async throws {
        let directory = try EmulatorOdoo.fixturesDirectory(fixtures)
        let emulator = try OdooEmulator(fixtures: directory, configuration: OdooEmulatorConfiguration())
        let port = try await emulator.start(host: "127.0.0.1", port: 0)
        defer { Task { await emulator.stop() } }
        let path: String
        if let db {
            path = db
        } else {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("odoosync-demo-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            path = folder.appendingPathComponent("odoosync.sqlite").path
        }
        var environment = ProcessInfo.processInfo.environment
        environment["ODOO_URL"] = "http://127.0.0.1:\(port)"
        environment["ODOO_DATABASE"] = "odoosync_demo"
        environment["ODOO_USERNAME"] = "admin"
        environment["ODOO_API_KEY"] = "demo-api-key"
        environment["ODOO_PASSWORD"] = nil
        environment["ODOO_PROTOCOL"] = "auto"
        let env = try AppEnvironment(db: path, config: nil, verbose: verbose, environment: environment)
        let settings = try env.odooSettings()
        Output.print("== Odoo emulator on http://127.0.0.1:\(port) (database odoosync_demo), mirror \(path)\n")

        let mirror = try env.openMirror()
        Output.print("== odoosync pull odoo")
        let report = try await PullCommand.pull(env: env, settings: settings, mirror: mirror, full: false, progress: nil)
        PullCommand.printReport(report)

        // Move the first open opportunity one stage along the pipeline.
        let pick = try mirror.read { db in
            try Row.fetchOne(db, sql: """
                SELECT odoo_id, title, stage FROM leads
                WHERE active = 1 AND deleted_at IS NULL AND stage IN ('new', 'qualified', 'rfi', 'telephonic_enquiries')
                ORDER BY odoo_id LIMIT 1
                """)
        }
        guard let pick else {
            Output.print("No open lead to edit in the fixtures.")
            return
        }
        let odooID: Int = pick[0]
        let nextStage = (pick[2] as String) == "qualified" ? "rfi" : "qualified"
        Output.print("\n== odoosync leads edit \(odooID) --stage \(nextStage) --probability 40  (\(pick[1] as String))")
        try LeadEditor(mirror: mirror).edit(String(odooID), LeadChanges(stage: nextStage, probability: 40))

        Output.print("\n== odoosync push --dry-run")
        PushCommand.printReport(try await PushCommand.push(env: env, settings: settings, mirror: mirror, dryRun: true), dryRun: true)
        Output.print("\n== odoosync push")
        PushCommand.printReport(try await PushCommand.push(env: env, settings: settings, mirror: mirror, dryRun: false), dryRun: false)

        Output.print("\n== odoosync pull odoo   (the pushed lead comes back unchanged)")
        PullCommand.printReport(try await PullCommand.pull(env: env, settings: settings, mirror: mirror, full: false, progress: nil))

        Output.print("\n== odoosync status")
        StatusCommand.printHuman(try StatusCommand.document(mirror), path: path)
        Output.print("\nThe mirror stays at \(path): try `odoosync leads --db \(path)` or `sqlite3 \(path)`.")
        await emulator.stop()

        let reportPath = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("pipeline-report.html").path
        Output.print("\n== odoosync report --out \(reportPath)")
        Output.print(try ReportCommand.write(mirror: mirror, to: reportPath, staleDays: nil, staleLimit: 200).sentence)
        Output.print("Open it in a browser: \(URL(fileURLWithPath: reportPath).absoluteString)")
    }
}
