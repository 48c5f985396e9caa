import ArgumentParser
import Foundation
import GRDB
import OdooEmulator
import OdooSyncCore
import OdooSyncEngine
import OdooSyncMirror
import PlaneEmulator

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole cycle against in-process Odoo and Plane emulators: pull, edit a lead, push, sync with Plane, status.",
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

        // The Plane side: a Plane emulator beside the Odoo one, and two sync runs.
        let plane = try PlaneEmulator(fixtures: try EmulatorOdoo.fixturesDirectory(nil, folder: "fixtures/plane", marker: "workspace.json"))
        plane.setRateLimit(nil)  // the demo shows the sync, not Plane's 60 requests a minute
        let planePort = try await plane.start(host: "127.0.0.1", port: 0)
        defer { Task { await plane.stop() } }
        environment["PLANE_API_URL"] = "http://127.0.0.1:\(planePort)"
        environment["PLANE_API_KEY"] = plane.apiKey
        environment["PLANE_WORKSPACE_SLUG"] = plane.workspaceSlug
        environment["PLANE_PROJECTS"] = nil
        environment["ODOO_PROJECTS"] = nil
        environment["PLANE_VISIBILITY_PROJECT"] = "WEB"
        let syncEnv = try AppEnvironment(db: path, config: nil, verbose: verbose, environment: environment)
        Output.print("\n== Plane emulator on http://127.0.0.1:\(planePort) (workspace \(plane.workspaceSlug)); sale orders and invoices go to WEB")
        Output.print("== odoosync sync   (projects pair by name or are created; issues and tasks both ways; cycles, modules, visibility issues)")
        let planeSettings = try syncEnv.planeSettings()
        SyncCommand.printReport(try await SyncCommand.sync(env: syncEnv, odooSettings: settings, planeSettings: planeSettings, mirror: mirror, full: false))
        if let issue = plane.projects().first(where: { $0.identifier == "MOB" }).flatMap({ plane.issues(projectID: $0.id).first }),
           let issueID = issue["id"]?.stringValue {
            let title = "\(issue["name"]?.stringValue ?? "issue") (renamed in Plane)"
            try plane.modifyIssue(id: issueID, fields: ["name": .string(title), "priority": "urgent"])
            Output.print("\n== someone renames a Plane issue to \"\(title)\" and marks it urgent; odoosync sync")
            SyncCommand.printReport(try await SyncCommand.sync(env: syncEnv, odooSettings: settings, planeSettings: planeSettings, mirror: mirror, full: false))
        }

        Output.print("\n== odoosync status")
        StatusCommand.printHuman(try StatusCommand.document(mirror), path: path)
        Output.print("\nThe mirror stays at \(path): try `odoosync leads --db \(path)` or `sqlite3 \(path)`.")
        await plane.stop()
        await emulator.stop()

        let reportPath = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("pipeline-report.html").path
        Output.print("\n== odoosync report --out \(reportPath)")
        Output.print(try ReportCommand.write(mirror: mirror, to: reportPath, staleDays: nil, staleLimit: 200).sentence)
        Output.print("Open it in a browser: \(URL(fileURLWithPath: reportPath).absoluteString)")
    }
}
