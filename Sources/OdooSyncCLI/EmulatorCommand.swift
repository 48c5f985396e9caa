import ArgumentParser
import Foundation
import OdooEmulator
import OdooSyncCore
import PlaneEmulator

struct EmulatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator", abstract: "Run an emulated server for tests, demos and benchmarks.",
        subcommands: [EmulatorOdoo.self, EmulatorPlane.self])
}

struct EmulatorOdoo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "odoo",
        abstract: "Serve an emulated Odoo 19 (JSON-2, /jsonrpc and web session) over HTTP, loaded from fixtures.",
        discussion: "Accepts database odoosync_demo, login admin with password admin, and API key demo-api-key. Stop it with Ctrl-C.")

    @Option(help: "Port to listen on (0 picks a free one).") var port = 8069
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Folder of Odoo fixtures (default: the bundled fixtures/odoo).") var fixtures: String?
    @Option(name: .customLong("generate-leads"), help: "Add this many generated leads, for load tests.") var generateLeads = 0
    @Option(name: .customLong("server-version"), help: "Odoo version to emulate, 16.0 to 19.0: JSON-2 needs 19.0; older ones have their own project.task and sale.order fields.") var serverVersion = "19.0"
    @Option(name: .customLong("fault-rate"), help: "Fraction of requests (0 to 1) that get an injected fault.") var faultRate = 0.0
    @Option(name: .customLong("faults"), help: "Comma-separated faults to inject: 5xx, drop, truncate, latency.") var faultKinds = "5xx,drop,truncate"
    @Option(name: .customLong("latency-ms"), help: "Latency of the latency fault, in milliseconds.") var latencyMs = 200
    @Option(name: .customLong("seed"), help: "Seed for generated data and faults.") var seed: UInt64 = 1

    func validate() throws {
        guard (0...1).contains(faultRate) else { throw ValidationError("--fault-rate must be between 0 and 1, got \(faultRate).") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        guard generateLeads >= 0 else { throw ValidationError("--generate-leads must be 0 or more.") }
        _ = try EmulatorOdoo.parseFaults(faultKinds, latencyMs: latencyMs)
    }

    static func parseFaults(_ text: String, latencyMs: Int) throws -> [FaultKind] {
        try text.split(separator: ",").map { word in
            switch word.trimmingCharacters(in: .whitespaces) {
            case "5xx": return .serverError
            case "drop": return .dropConnection
            case "truncate": return .truncatedBody
            case "latency": return .latency(milliseconds: latencyMs)
            default: throw ValidationError("Unknown fault `\(word)`; use 5xx, drop, truncate or latency.")
            }
        }
    }

    func run() async throws {
        let directory = try EmulatorOdoo.fixturesDirectory(fixtures)
        var configuration = OdooEmulatorConfiguration()
        configuration.serverVersion = serverVersion
        configuration.seed = seed
        if faultRate > 0 {
            configuration.faults = FaultPlan(rate: faultRate, kinds: try EmulatorOdoo.parseFaults(faultKinds, latencyMs: latencyMs), seed: seed)
        }
        let emulator = try OdooEmulator(fixtures: directory, configuration: configuration)
        if generateLeads > 0 { emulator.generateLeads(count: generateLeads, seed: seed) }
        let bound = try await emulator.start(host: host, port: port)
        Output.print("Odoo emulator (\(serverVersion)) listening on http://\(host):\(bound)")
        Output.print("database odoosync_demo · login admin · password admin · API key demo-api-key")
        if faultRate > 0 { Output.print("injecting faults (\(faultKinds)) into \(Int(faultRate * 100))% of requests") }
        await Self.waitForSignal()
        await emulator.stop()
    }

    /// Finds the bundled fixtures: the working directory's, else beside the executable's
    /// checkout (for `swift run` from elsewhere).
    static func fixturesDirectory(_ given: String?) throws -> URL {
        try fixturesDirectory(given, folder: "fixtures/odoo", marker: "crm.lead.json")
    }

    static func fixturesDirectory(_ given: String?, folder: String, marker: String) throws -> URL {
        if let given {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: given, isDirectory: &isDir), isDir.boolValue else {
                throw ConfigurationError("--fixtures \(given) is not a folder.")
            }
            return URL(fileURLWithPath: given)
        }
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir)
            dir = dir.deletingLastPathComponent()
        }
        for base in candidates {
            let url = base.appendingPathComponent(folder)
            if FileManager.default.fileExists(atPath: url.appendingPathComponent(marker).path) { return url }
        }
        throw ConfigurationError("Cannot find the bundled fixtures (\(folder)). Run from the odoosync checkout or pass --fixtures DIR.")
    }

    static func waitForSignal() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let queue = DispatchQueue(label: "signals")
            signal(SIGINT, SIG_IGN)
            signal(SIGTERM, SIG_IGN)
            let sources = [SIGINT, SIGTERM].map { DispatchSource.makeSignalSource(signal: $0, queue: queue) }
            let resumed = ResumeOnce(continuation)
            for source in sources {
                source.setEventHandler { resumed.resume() }
                source.resume()
            }
            SignalSources.keep(sources)
        }
    }
}

private final class ResumeOnce: @unchecked Sendable {
    private var continuation: CheckedContinuation<Void, Never>?
    private let lock = NSLock()
    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }
    func resume() {
        lock.lock()
        let c = continuation
        continuation = nil
        lock.unlock()
        c?.resume()
    }
}

private enum SignalSources {
    nonisolated(unsafe) static var all: [DispatchSourceSignal] = []
    static func keep(_ sources: [DispatchSourceSignal]) { all += sources }
}
