import Foundation
import OdooSyncCore
import OdooSyncEngine

/// One renderer for every list: aligned text on a terminal, JSON or CSV for scripts.
enum Output {
    static func print(_ text: String) {
        write(Data((Redactor.shared.redact(text) + "\n").utf8), to: .standardOutput)
    }

    static func printError(_ text: String) {
        write(Data((Redactor.shared.redact(text) + "\n").utf8), to: .standardError)
    }

    /// A reader that went away (`odoosync leads | head -1`) ends the run quietly, as a closed
    /// pipe ends any Unix tool; `FileHandle.write(_:)` would trap on that error instead.
    static func write(_ data: Data, to handle: FileHandle) {
        do {
            try handle.write(contentsOf: data)
        } catch {
            exit(0)
        }
    }

    static func json(_ value: JSONValue) {
        print(pretty(value))
    }

    /// Indented JSON with sorted keys.
    static func pretty(_ value: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case .array(let items) where !items.isEmpty:
            return "[\n" + items.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let pairs) where !pairs.isEmpty:
            let sorted = pairs.sorted { $0.0 < $1.0 }
            return "{\n" + sorted.map { inner + JSONValue.string($0.0).serialized + ": " + pretty($0.1, indent: inner) }
                .joined(separator: ",\n") + "\n" + indent + "}"
        default:
            return value.serialized
        }
    }

    static func table(_ headers: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }

    static func csv(_ headers: [String], _ rows: [[String]]) -> String {
        func field(_ text: String) -> String {
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return ([headers] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n")
    }

    static func truncate(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }
}

/// A progress line on stderr, only when stderr is a terminal. Models read side by side share
/// the line (the lock keeps their updates whole), cut to the terminal's width so that `\r`
/// still returns to its start.
final class TerminalProgress: ProgressReporter, @unchecked Sendable {
    private let lock = NSLock()
    private var line = ProgressLine()

    static func makeIfTerminal() -> TerminalProgress? {
        isatty(STDERR_FILENO) != 0 ? TerminalProgress() : nil
    }

    func progress(model: String, done: Int, total: Int?) {
        lock.withLock {
            line.update(model: model, done: done, total: total)
            draw()
        }
    }

    func finished(model: String) {
        lock.withLock {
            line.finish(model: model)
            draw()
        }
    }

    private func draw() {
        let text = line.text
        Output.write(Data("\r\u{1B}[K\(text.isEmpty ? "" : Output.truncate(text, TerminalProgress.columns() - 1))".utf8),
                     to: .standardError)
    }

    private static func columns() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 1 else { return 80 }
        return Int(size.ws_col)
    }
}
