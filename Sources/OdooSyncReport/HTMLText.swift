import Foundation
import OdooSyncCore

/// Escaping and number formats for the report. Formats are written out by hand rather than
/// through a locale so the page reads the same on every machine.
enum HTMLText {
    /// Text safe inside an element or a quoted attribute.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab and newlines are not allowed in HTML text.
                if scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r" { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// 1234567 -> "1,234,567".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = value < 0 ? "-" : ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }

    /// Whole currency units with thousands separators.
    static func money(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        return grouped(Int(value.rounded()))
    }

    /// Short form for chart labels: 950, 12.3k, 4.56M, 1.2B.
    static func compact(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        let sign = value < 0 ? "-" : ""
        let v = abs(value)
        func trimmed(_ x: Double, _ suffix: String) -> String {
            let digits = x >= 100 ? 0 : x >= 10 ? 1 : 2
            var text = String(format: "%.\(digits)f", x)
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            return sign + text + suffix
        }
        switch v {
        case ..<1_000: return sign + String(Int(v.rounded()))
        case ..<999_500: return trimmed(v / 1_000, "k")
        case ..<999_500_000: return trimmed(v / 1_000_000, "M")
        default: return trimmed(v / 1_000_000_000, "B")
        }
    }

    static func percent(_ fraction: Double) -> String {
        String(format: "%.0f%%", fraction * 100)
    }

    /// The exact figure carried in data attributes, for scripts and tests.
    static func attribute(_ value: Double) -> String {
        String(format: "%.2f", value)
    }

    /// "2026-11-21T10:00:00.123Z" -> "2026-11-21 10:00 UTC".
    static func time(_ iso: String) -> String {
        guard iso.count >= 16 else { return iso }
        return String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(5)) + " UTC"
    }

    /// How long before the report an ISO time was, in the largest whole unit: "3 days before
    /// this report". Relative to the report, not to whenever the file is opened.
    static func before(_ iso: String, now: Date) -> String? {
        guard let then = Timestamp.parseOdoo(iso) else { return nil }
        let seconds = Int(now.timeIntervalSince(then))
        func unit(_ n: Int, _ name: String) -> String { "\(n) \(name)\(n == 1 ? "" : "s") before this report" }
        switch seconds {
        case ..<60: return "moments before this report"
        case ..<3_600: return unit(seconds / 60, "minute")
        case ..<86_400: return unit(seconds / 3_600, "hour")
        default: return unit(seconds / 86_400, "day")
        }
    }

    /// "hot_enquiries" -> "Hot enquiries".
    static func humanize(_ slug: String) -> String {
        let words = slug.split(separator: "_").map(String.init)
        guard let first = words.first else { return slug }
        return ([first.prefix(1).uppercased() + first.dropFirst()] + words.dropFirst()).joined(separator: " ")
    }

    static func plural(_ n: Int, _ one: String, _ many: String? = nil) -> String {
        "\(grouped(n)) \(n == 1 ? one : many ?? one + "s")"
    }
}
