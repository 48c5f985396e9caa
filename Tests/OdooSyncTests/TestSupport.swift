import Foundation
import GRDB
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Paths and helpers shared by the tests.
enum TestPaths {
    /// The repository root: three levels above this file.
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repoRoot.appendingPathComponent("fixtures/odoo")
    static let samples = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/samples/odoo")

    /// The real `odoosync` binary (scripts/test exports ODOOSYNC_BIN).
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["ODOOSYNC_BIN"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        for candidate in [".build/debug/odoosync", ".build/x86_64-unknown-linux-gnu/debug/odoosync", ".build/release/odoosync"] {
            let path = repoRoot.appendingPathComponent(candidate).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return repoRoot.appendingPathComponent(".build/debug/odoosync").path
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("odoosync-test-\(UUID().uuidString.prefix(12))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var output: String { stdout + stderr }
}

/// Runs the real binary with a clean environment plus `environment`.
///
/// Waiting is asynchronous on purpose: the emulators under test answer on Swift's cooperative
/// thread pool (two threads here), and a test that blocked one of them while the binary waits
/// for the emulator would starve it.
enum CLI {
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil,
                    timeout: TimeInterval = 300, executable: String = TestPaths.binary) async throws -> ProcessResult {
        let running = try start(arguments, environment: environment, in: directory, executable: executable)
        let process = running.process
        let watchdog = Task {
            try await Task.sleep(nanoseconds: UInt64(timeout * 1_000_000_000))
            if process.isRunning { process.terminate() }
        }
        let result = await running.finish()
        watchdog.cancel()
        return result
    }

    final class Running: @unchecked Sendable {
        let process: Process
        let out: URL
        let err: URL
        private let lock = NSLock()
        private var exited = false
        private var waiter: CheckedContinuation<Void, Never>?

        init(process: Process, out: URL, err: URL) {
            self.process = process
            self.out = out
            self.err = err
        }

        fileprivate func markExited() {
            lock.lock()
            exited = true
            let w = waiter
            waiter = nil
            lock.unlock()
            w?.resume()
        }

        /// Waits for the process; one still running after `timeout` seconds is killed, so that a
        /// hang fails its test instead of stopping the whole run.
        func finish(timeout: TimeInterval = 330) async -> ProcessResult {
            let pid = process.processIdentifier
            let watchdog = Task { [weak self] in
                try await Task.sleep(nanoseconds: UInt64(timeout * 1_000_000_000))
                if self?.hasExited == false { kill(pid, SIGKILL) }
            }
            defer { watchdog.cancel() }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                lock.lock()
                if exited {
                    lock.unlock()
                    c.resume()
                } else {
                    waiter = c
                    lock.unlock()
                }
            }
            let stdout = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
            return ProcessResult(status: process.terminationStatus, stdout: stdout, stderr: stderr)
        }

        func kill9() { kill(process.processIdentifier, SIGKILL) }

        private var hasExited: Bool {
            lock.lock()
            defer { lock.unlock() }
            return exited
        }
    }

    /// Starts the binary without waiting; output goes to files so that pipes never fill up.
    static func start(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil,
                      executable: String = TestPaths.binary) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env: [String: String] = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                                     "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/tmp",
                                     "ODOOSYNC_RETRY_BASE_MS": "20"]
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let tmp = FileManager.default.temporaryDirectory
        let out = tmp.appendingPathComponent("odoosync-out-\(UUID().uuidString)")
        let err = tmp.appendingPathComponent("odoosync-err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let running = Running(process: process, out: out, err: err)
        process.terminationHandler = { _ in running.markExited() }
        try process.run()
        return running
    }
}

/// What the mirror's CHECK constraints no longer verify row by row (migration 009), checked
/// over a whole mirror instead: every JSON column whose check was dropped holds valid JSON.
enum MirrorJSON {
    static let columns: [(table: String, column: String)] = [
        ("leads", "metadata"), ("leads", "tags"), ("odoo_records", "data"), ("plane_records", "data"),
        ("sync_queue", "payload"), ("sync_log", "source_data"), ("sync_log", "target_data"),
        ("events", "metadata"), ("events", "context"), ("sync_pairs", "plane_fields"), ("sync_pairs", "odoo_fields"),
    ]

    /// "table.column: N rows" for every column holding a value that is not JSON; empty when all are.
    static func invalid(_ db: Database) throws -> [String] {
        try columns.compactMap { table, column in
            let bad = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE \(column) IS NOT NULL AND NOT json_valid(\(column))") ?? 0
            return bad == 0 ? nil : "\(table).\(column): \(bad) rows"
        }
    }

    /// How many non-NULL values `invalid` looked at, so that a test can tell it saw some.
    static func checked(_ db: Database) throws -> Int {
        try columns.reduce(0) { total, entry in
            total + (try Int.fetchOne(db, sql: "SELECT count(\(entry.column)) FROM \(entry.table)") ?? 0)
        }
    }
}
