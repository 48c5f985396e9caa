import Foundation

/// The settings file, `odoosync.toml`: a small subset of TOML (sections, `key = value`
/// with strings, integers, floats and booleans, `#` comments), which is all it needs.
public struct ConfigFile: Sendable, Equatable {
    /// "section.key" -> value text (strings unquoted).
    public private(set) var values: [String: String] = [:]
    public let path: String?

    /// Keys whose values are secrets: the file holding any of them must be private.
    public static let secretKeys: Set<String> = [
        "odoo.api_key", "odoo.password", "plane.api_key", "supabase.db_url",
        "serve.plane_webhook_secret", "serve.odoo_webhook_secret", "serve.token", "alerts.slack_webhook_url",
        "plane.webhook_secret", "odoo.webhook_secret",
    ]

    public init(values: [String: String] = [:], path: String? = nil) {
        self.values = values
        self.path = path
    }

    public subscript(key: String) -> String? { values[key] }

    /// Reads and checks the file. A file that holds a secret and that group or others can
    /// read is refused: the design says secrets live only in files their owner alone can read.
    public static func load(path: String) throws -> ConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("Cannot read the config file \(path): \(error.localizedDescription). Check the path given to --config.")
        }
        let file = try parse(text, path: path)
        let secrets = file.values.keys.filter { secretKeys.contains($0) }.sorted()
        if !secrets.isEmpty {
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
                let mode = String(info.st_mode & 0o777, radix: 8)
                throw ConfigurationError(
                    "The config file \(path) holds a secret (\(secrets.joined(separator: ", "))) but group or others can read it (mode \(mode)). Run `chmod 600 \(path)`, or move the secret into an environment variable.")
            }
        }
        return file
    }

    public static func parse(_ text: String, path: String? = nil) throws -> ConfigFile {
        var values: [String: String] = [:]
        var section = ""
        let name = path ?? "config"
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = stripComment(String(rawLine)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw ConfigurationError("\(name):\(lineNumber): a section header looks like [odoo].")
                }
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigurationError("\(name):\(lineNumber): expected `key = value`, found `\(line.prefix(40))`.")
            }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            let rawValue = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw ConfigurationError("\(name):\(lineNumber): `\(key)` is not a valid key (letters, digits, _ and -).")
            }
            guard let value = parseValue(rawValue) else {
                throw ConfigurationError(
                    "\(name):\(lineNumber): the value of \(key) must be a quoted string, a number, true or false.")
            }
            values[section.isEmpty ? key : "\(section).\(key)"] = value
        }
        return ConfigFile(values: values, path: path)
    }

    private static func stripComment(_ line: String) -> String {
        var inString: Character? = nil
        var escaped = false
        for (offset, c) in line.enumerated() {
            if let quote = inString {
                if escaped { escaped = false } else if c == "\\" && quote == "\"" { escaped = true } else if c == quote { inString = nil }
            } else if c == "\"" || c == "'" {
                inString = c
            } else if c == "#" {
                return String(line.prefix(offset))
            }
        }
        return line
    }

    private static func parseValue(_ raw: String) -> String? {
        if raw.count >= 2, raw.hasPrefix("'"), raw.hasSuffix("'") { return String(raw.dropFirst().dropLast()) }
        if raw.count >= 2, raw.hasPrefix("\""), raw.hasSuffix("\"") {
            var out = ""
            var escaped = false
            for c in raw.dropFirst().dropLast() {
                if escaped {
                    switch c {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\\", "\"": out.append(c)
                    default: return nil
                    }
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else {
                    out.append(c)
                }
            }
            return escaped ? nil : out
        }
        if raw == "true" || raw == "false" { return raw }
        if Int(raw.replacingOccurrences(of: "_", with: "")) != nil || Double(raw) != nil { return raw }
        return nil
    }
}
