import ArgumentParser
import Foundation
import OdooSyncCore
import OdooSyncMirror
import OdooSyncReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML pipeline report (funnel, revenue, stale leads, sync health) from the mirror.",
        discussion: """
            The page has no outside references: open it offline, mail it, print it. Its numbers are \
            the ones `odoosync status --json` and `odoosync sql` give for the same mirror.
            """)

    static let defaultStaleDays = 30
    static let staleDaysSetting = "report.stale_days"

    @OptionGroup var global: GlobalOptions

    @Option(name: [.short, .long], help: ArgumentHelp("The HTML file to write.", valueName: "path"))
    var out = "pipeline-report.html"

    @Option(help: ArgumentHelp("An open lead unchanged for more than this many days is stale (default: the report.stale_days setting, else 30).",
                               valueName: "days"))
    var staleDays: Int?

    @Option(help: ArgumentHelp("How many stale leads the table lists, the longest-untouched first.", valueName: "n"))
    var staleLimit = 200

    @Flag(help: "Print what was written as JSON.")
    var json = false

    func validate() throws {
        if let staleDays, staleDays < 0 {
            throw ValidationError("--stale-days must be 0 or more (it counts days without a change).")
        }
        if staleLimit < 0 {
            throw ValidationError("--stale-limit must be 0 or more.")
        }
    }

    func run() throws {
        let env = try AppEnvironment(global)
        let mirror = try env.openMirror(create: false)
        let written = try ReportCommand.write(mirror: mirror, to: out, staleDays: staleDays, staleLimit: staleLimit)
        if json {
            Output.json(written.summary)
        } else {
            Output.print(written.sentence)
        }
    }

    struct Written {
        let path: String
        let bytes: Int
        let report: PipelineReport

        var summary: JSONValue {
            [
                "path": .string(path), "bytes": .int(bytes), "generated_at": .string(report.generatedAt),
                "leads": .int(report.activeLeads + report.archivedLeads), "open_leads": .int(report.openLeads),
                "stale_leads": .int(report.staleCount), "stale_days": .int(report.options.staleDays),
                "overdue_leads": .int(report.overdueLeads), "open_conflicts": .int(report.openConflicts),
            ]
        }

        var sentence: String {
            "Wrote the pipeline report to \(path) (\(max(1, bytes / 1024)) KB): \(report.activeLeads + report.archivedLeads) leads, "
                + "\(report.openLeads) open, \(report.staleCount) stale (over \(report.options.staleDays) days), \(report.overdueLeads) overdue."
        }
    }

    /// Reads the mirror in one transaction and writes the page in one rename, so a reader
    /// never sees half a report.
    static func write(mirror: Mirror, to out: String, staleDays: Int?, staleLimit: Int, now: Date = Date()) throws -> Written {
        let url = URL(fileURLWithPath: out).standardizedFileURL
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
            throw ReportError.outputIsFolder(path: url.path)
        }
        let days: Int
        if let staleDays {
            days = staleDays
        } else if let text = try mirror.setting(staleDaysSetting) {
            guard let value = Int(text), value >= 0 else { throw ReportError.badSetting(key: staleDaysSetting, value: text) }
            days = value
        } else {
            days = defaultStaleDays
        }
        let options = PipelineReport.Options(staleDays: days, staleLimit: staleLimit, now: now)
        let report = try mirror.read { db in try PipelineReport.load(db, options: options) }
        // The mirror holds no secrets, but a message copied from a remote error might; the
        // redactor is the last line of defence, as for everything else odoosync prints.
        let html = Redactor.shared.redact(ReportHTML.render(report, mirrorPath: mirror.path))
        let data = Data(html.utf8)
        let folder = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw ReportError.cannotWrite(path: url.path, reason: "the folder \(folder) does not exist")
        }
        // Foundation reports a refused atomic write as a missing file; say what it is.
        guard FileManager.default.isWritableFile(atPath: folder) else {
            throw ReportError.cannotWrite(path: url.path, reason: "the folder \(folder) is not writable")
        }
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw ReportError.cannotWrite(path: url.path, reason: reason(error))
        }
        return Written(path: url.path, bytes: data.count, report: report)
    }
}

/// The system's sentence for a failed write ("Permission denied"), not Foundation's dump of it.
private func reason(_ error: Error) -> String {
    let ns = error as NSError
    let posix = (ns.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? $0 : nil }
        ?? (ns.domain == NSPOSIXErrorDomain ? ns : nil)
    if let posix { return String(cString: strerror(Int32(posix.code))) }
    return ns.localizedDescription
}

enum ReportError: UserFacingError, Equatable {
    case cannotWrite(path: String, reason: String)
    case outputIsFolder(path: String)
    case badSetting(key: String, value: String)

    var exitStatus: ExitStatus { .usage }

    var description: String {
        switch self {
        case .cannotWrite(let path, let reason):
            return "Cannot write the report to \(path) (\(reason)). Check that the folder exists and is writable, or pass another --out."
        case .outputIsFolder(let path):
            return "\(path) is a folder. Pass a file name with --out, for example --out \(path)/pipeline.html."
        case .badSetting(let key, let value):
            return "The setting \(key) is `\(value)`, not a number of days. Fix it with `odoosync config set \(key) 30`, or pass --stale-days."
        }
    }
}
