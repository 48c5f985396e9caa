import Foundation

/// Plane renders datetimes in the API user's profile timezone (`…+05:30`, or `Z` for UTC) with
/// up to microseconds. The mirror keeps them in one UTC form so that they compare as text and
/// a user changing their timezone does not make every record look changed.
public enum PlaneTime {
    /// "2026-11-21T09:49:12.996084+05:30" → "2026-11-21T04:19:12.996084Z"; nil for anything
    /// that is not an ISO 8601 datetime with a zone (dates such as "2026-11-20" included).
    public static func normalize(_ text: String) -> String? {
        if isCanonical(text) { return text }
        return micros(text).map(format(micros:))
    }

    /// A datetime rendered in `zone` with its offset: "2026-11-17T04:59:00Z" in
    /// America/New_York is "2026-11-16T23:59:00-05:00", so its first ten characters are the
    /// day there. nil for what is not a datetime with a zone.
    public static func render(_ text: String, in zone: TimeZone) -> String? {
        guard let utc = micros(text) else { return nil }
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utc) / 1_000_000))
        var local = String(format(micros: utc + Int64(offset) * 1_000_000).dropLast())  // the wall clock there
        // Whole seconds as Plane writes them ("…T23:59:00Z"): a UTC project's cycle keeps the server's text.
        if local.hasSuffix(".000000") { local.removeLast(7) }
        let magnitude = abs(offset)
        let suffix = offset == 0 ? "Z" : String(format: "%@%02d:%02d", offset < 0 ? "-" : "+", magnitude / 3600, (magnitude % 3600) / 60)
        return local + suffix
    }

    /// Already "YYYY-MM-DDTHH:MM:SS.ffffffZ" (what a UTC API user gets): nothing to do.
    private static func isCanonical(_ text: String) -> Bool {
        let utf8 = text.utf8
        return utf8.withContiguousStorageIfAvailable { u in
            guard u.count == 27, u[4] == 45, u[7] == 45, u[10] == 84, u[13] == 58, u[16] == 58, u[19] == 46, u[26] == 90 else { return false }
            for i in [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24, 25] where !(48...57).contains(u[i]) { return false }
            return true
        } ?? false
    }

    /// Microseconds since 1970 (UTC).
    public static func micros(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        guard u.count >= 20, u[4] == 45, u[7] == 45, u[10] == 84 || u[10] == 32, u[13] == 58, u[16] == 58 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for i in from..<(from + count) {
                let d = Int(u[i]) - 48
                guard (0...9).contains(d) else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2), let hour = digits(11, 2),
              let minute = digits(14, 2), let second = digits(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var fraction: Int64 = 0
        if i < u.count, u[i] == 46 {
            i += 1
            var places = 0
            while i < u.count, (48...57).contains(u[i]) {
                if places < 6 { fraction = fraction * 10 + Int64(u[i] - 48) }
                places += 1
                i += 1
            }
            guard places > 0 else { return nil }
            if places < 6 { for _ in places..<6 { fraction *= 10 } }
        }
        guard i < u.count else { return nil }
        var offsetSeconds = 0
        if u[i] == 90 || u[i] == 122 {  // Z
            i += 1
        } else if u[i] == 43 || u[i] == 45 {  // + or -
            let sign = u[i] == 45 ? -1 : 1
            guard i + 3 <= u.count, let hours = digits(i + 1, 2) else { return nil }
            var j = i + 3
            var minutes = 0
            if j < u.count, u[j] == 58 { j += 1 }
            if j + 2 <= u.count, let m = digits(j, 2) {
                minutes = m
                j += 2
            }
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
            i = j
        } else {
            return nil
        }
        guard i == u.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = Int64(timegm(&parts)) - Int64(offsetSeconds)
        return seconds * 1_000_000 + fraction
    }

    /// The mirror's form: always six fraction digits and `Z`.
    public static func format(micros: Int64) -> String {
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        // Digits by hand: String(format:) goes through CoreFoundation and showed in profiles.
        var out = [UInt8](repeating: 0, count: 27)
        func put(_ value: Int, at offset: Int, width: Int) {
            var v = value
            for i in stride(from: offset + width - 1, through: offset, by: -1) {
                out[i] = UInt8(48 + v % 10)
                v /= 10
            }
        }
        put(Int(parts.tm_year) + 1900, at: 0, width: 4)
        put(Int(parts.tm_mon) + 1, at: 5, width: 2)
        put(Int(parts.tm_mday), at: 8, width: 2)
        put(Int(parts.tm_hour), at: 11, width: 2)
        put(Int(parts.tm_min), at: 14, width: 2)
        put(Int(parts.tm_sec), at: 17, width: 2)
        put(Int(fraction), at: 20, width: 6)
        out[4] = 45; out[7] = 45; out[10] = 84; out[13] = 58; out[16] = 58; out[19] = 46; out[26] = 90
        return String(decoding: out, as: UTF8.self)
    }

    public static func format(_ date: Date) -> String {
        format(micros: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
    }

    public static func date(_ text: String) -> Date? {
        micros(text).map { Date(timeIntervalSince1970: Double($0) / 1_000_000) }
    }
}
