import ArgumentParser
import Foundation
import OdooSyncCore
import PlaneEmulator

struct EmulatorPlane: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plane",
        abstract: "Serve an emulated Plane CE (the /api/v1 REST API) over HTTP, loaded from fixtures.",
        discussion: "Prints the URL, workspace slug and API key to use (PLANE_API_URL, PLANE_WORKSPACE_SLUG, PLANE_API_KEY). Stop it with Ctrl-C.")

    @Option(help: "Port to listen on (0 picks a free one).") var port = 8090
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Folder of Plane fixtures (default: the bundled fixtures/plane).") var fixtures: String?
    @Option(name: .customLong("generate-issues"), help: "Add this many generated issues, for load tests.") var generateIssues = 0
    @Option(name: .customLong("rate-limit"), help: "Requests allowed per API key and window (Plane's default 60; 0 turns the limit off).")
    var rateLimit = 60
    @Option(name: .customLong("rate-window"), help: "Length of the rate-limit window in seconds.") var rateWindow = 60
    @Option(name: .customLong("fault-rate"), help: "Fraction of requests (0 to 1) that get an injected fault.") var faultRate = 0.0
    @Option(name: .customLong("faults"), help: "Comma-separated faults to inject: 5xx, drop, drop-after-apply, latency, 429.")
    var faultKinds = "5xx,drop"
    @Option(name: .customLong("latency-ms"), help: "Latency of the latency fault, in milliseconds.") var latencyMs = 200
    @Option(name: .customLong("seed"), help: "Seed for generated issues and faults.") var seed: UInt64 = 1

    func validate() throws {
        guard (0...1).contains(faultRate) else { throw ValidationError("--fault-rate must be between 0 and 1, got \(faultRate).") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        guard generateIssues >= 0 else { throw ValidationError("--generate-issues must be 0 or more.") }
        guard rateLimit >= 0 else { throw ValidationError("--rate-limit must be 0 (off) or more.") }
        guard rateWindow >= 1 else { throw ValidationError("--rate-window must be at least 1 second.") }
        _ = try EmulatorPlane.parseFaults(faultKinds, latencyMs: latencyMs)
    }

    static func parseFaults(_ text: String, latencyMs: Int) throws -> [PlaneFaultKind] {
        try text.split(separator: ",").map { word in
            switch word.trimmingCharacters(in: .whitespaces) {
            case "5xx": return .serverError
            case "drop": return .dropConnection
            case "drop-after-apply": return .dropAfterApply
            case "latency": return .latency(milliseconds: latencyMs)
            case "429": return .rateLimited(retryAfter: 1)
            default: throw ValidationError("Unknown fault `\(word)`; use 5xx, drop, drop-after-apply, latency or 429.")
            }
        }
    }

    func run() async throws {
        let directory = try EmulatorOdoo.fixturesDirectory(fixtures, folder: "fixtures/plane", marker: "workspace.json")
        var configuration = PlaneEmulatorConfiguration(rateLimit: rateLimit > 0 ? rateLimit : nil, rateWindow: rateWindow, seed: seed)
        if faultRate > 0 {
            configuration.faults = PlaneFaultPlan(rate: faultRate, kinds: try EmulatorPlane.parseFaults(faultKinds, latencyMs: latencyMs),
                                                  seed: seed)
        }
        let emulator: PlaneEmulator
        do {
            emulator = try PlaneEmulator(fixtures: directory, configuration: configuration)
        } catch let error as PlaneEmulatorError {
            throw ConfigurationError("Cannot load the Plane fixtures: \(error.body).")
        }
        if generateIssues > 0 { emulator.generateIssues(count: generateIssues, seed: seed) }
        let bound = try await emulator.start(host: host, port: port)
        Output.print("Plane emulator listening on http://\(host):\(bound)")
        Output.print("PLANE_API_URL=http://\(host):\(bound) PLANE_WORKSPACE_SLUG=\(emulator.workspaceSlug) PLANE_API_KEY=\(emulator.apiKey)")
        Output.print(rateLimit > 0 ? "rate limit: \(rateLimit) requests per \(rateWindow) s per key" : "rate limit: off")
        if faultRate > 0 { Output.print("injecting faults (\(faultKinds)) into \(Int(faultRate * 100))% of requests") }
        await EmulatorOdoo.waitForSignal()
        await emulator.stop()
    }
}
