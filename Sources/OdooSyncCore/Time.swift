import Foundation

/// Time behind a protocol so that tests can pin it.
public protocol Clock: Sendable {
    func now() -> Date
}

public struct SystemClock: Clock {
    public init() {}
    public func now() -> Date { Date() }
}

public enum Timestamp {
    /// ISO-8601 UTC with milliseconds: what odoosync writes for its own times.
    public static func iso(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        let millis = Int((date.timeIntervalSince1970 - Double(t)) * 1000)
        // Digits by hand: String(format:) goes through Foundation's formatter, and a sync
        // stamps several rows per item.
        var out = [UInt8]()
        out.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = max(0, value)
            while divisor > 0 {
                out.append(UInt8(48 + (rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        let year = Int(parts.tm_year) + 1900
        guard (0...9999).contains(year) else {
            return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                          parts.tm_min, parts.tm_sec, min(max(millis, 0), 999))
        }
        digits(year, 4)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        out.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        out.append(UInt8(ascii: "."))
        digits(min(max(millis, 0), 999), 3)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Odoo's naive UTC datetime text, "YYYY-MM-DD HH:MM:SS".
    public static func odoo(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", parts.tm_year + 1900, parts.tm_mon + 1,
                      parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    /// Parses Odoo's "YYYY-MM-DD HH:MM:SS" (or with a "T") as UTC.
    public static func parseOdoo(_ text: String) -> Date? {
        let digits = Array(text.utf8)
        guard digits.count >= 19 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for i in from..<(from + count) {
                let d = Int(digits[i]) - 48
                guard (0...9).contains(d) else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2), let h = number(11, 2),
              let mi = number(14, 2), let s = number(17, 2), (1...12).contains(mo), (1...31).contains(d),
              h < 24, mi < 60, s < 61 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(y - 1900)
        parts.tm_mon = Int32(mo - 1)
        parts.tm_mday = Int32(d)
        parts.tm_hour = Int32(h)
        parts.tm_min = Int32(mi)
        parts.tm_sec = Int32(s)
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// Shifts an Odoo datetime text by whole seconds, keeping Odoo's format.
    public static func odoo(_ text: String, plusSeconds seconds: Int) -> String? {
        parseOdoo(text).map { odoo($0.addingTimeInterval(TimeInterval(seconds))) }
    }

    /// "2026-11-21 04:18:41" -> "2026-11-21T04:18:41.000Z" without a calendar round trip
    /// (the pull does this for every lead); nil when the text is not Odoo's datetime format.
    public static func isoFromOdoo(_ text: String) -> String? {
        let u = Array(text.utf8)
        guard u.count == 19, u[4] == 45, u[7] == 45, u[10] == 32, u[13] == 58, u[16] == 58 else { return nil }
        for i in [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18] where !(48...57).contains(u[i]) { return nil }
        return String(decoding: u[0..<10], as: UTF8.self) + "T" + String(decoding: u[11..<19], as: UTF8.self) + ".000Z"
    }

    /// Validates a calendar date "YYYY-MM-DD".
    public static func isDate(_ text: String) -> Bool {
        guard text.utf8.count == 10 else { return false }
        return parseOdoo(text + " 00:00:00").map { odoo($0).hasPrefix(text) } ?? false
    }
}
