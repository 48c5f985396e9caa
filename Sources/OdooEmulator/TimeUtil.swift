import Foundation

/// Datetimes live as microseconds since the Unix epoch, UTC, like PostgreSQL's `timestamp`.
/// Civil conversions are done by hand (Howard Hinnant's algorithms) to keep rendering cheap.
enum TimeUtil {
    static let microsPerSecond: Int64 = 1_000_000
    static let microsPerDay: Int64 = 86_400_000_000

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func micros(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, micro: Int = 0)
        -> Int64
    {
        let days = Int64(daysFromCivil(year: year, month: month, day: day))
        return days * microsPerDay + Int64(hour * 3600 + minute * 60 + second) * microsPerSecond + Int64(micro)
    }

    /// Splits into whole days and the microseconds into that day, flooring for pre-1970 values.
    static func split(_ micros: Int64) -> (days: Int, inDay: Int64) {
        var days = micros / microsPerDay
        var rest = micros % microsPerDay
        if rest < 0 {
            rest += microsPerDay
            days -= 1
        }
        return (Int(days), rest)
    }

    /// Appends "YYYY-MM-DD HH:MM:SS" (microseconds truncated, as the ORM does on read).
    static func appendDateTime(_ micros: Int64, to out: inout [UInt8]) {
        let (days, inDay) = split(micros)
        let (y, m, d) = civilFromDays(days)
        let seconds = Int(inDay / microsPerSecond)
        appendDigits(y, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(m, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(d, width: 2, to: &out)
        out.append(UInt8(ascii: " "))
        appendDigits(seconds / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(seconds / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(seconds % 60, width: 2, to: &out)
    }

    @inline(__always)
    private static func appendDigits(_ value: Int, width: Int, to out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        let digits = max(0, value)
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(digits / divisor % 10))
            divisor /= 10
        }
    }

    static func formatDateTime(_ micros: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(19)
        appendDateTime(micros, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func formatDate(days: Int) -> String {
        let (y, m, d) = civilFromDays(days)
        var out: [UInt8] = []
        appendDigits(y, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(m, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(d, width: 2, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// With microseconds, for diagnostics and the stored form.
    static func formatDateTimeMicros(_ micros: Int64) -> String {
        let (_, inDay) = split(micros)
        let fraction = Int(inDay % microsPerSecond)
        let digits = String(fraction)
        return formatDateTime(micros) + "." + String(repeating: "0", count: 6 - digits.count) + digits
    }

    static func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down))
    }

    static func micros(of date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
    }

    /// UTC offset of a zone at a UTC instant, in microseconds.
    static func offset(zone: TimeZone, atUTC micros: Int64) -> Int64 {
        let date = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        return Int64(zone.secondsFromGMT(for: date)) * microsPerSecond
    }

    /// Converts a wall-clock time in `zone` to UTC (first match on DST overlaps, like pytz's default).
    static func utc(fromLocal local: Int64, zone: TimeZone) -> Int64 {
        var guess = local - offset(zone: zone, atUTC: local)
        guess = local - offset(zone: zone, atUTC: guess)
        return guess
    }

    static func local(fromUTC utc: Int64, zone: TimeZone) -> Int64 {
        utc + offset(zone: zone, atUTC: utc)
    }
}

/// Strict "YYYY-MM-DD HH:MM:SS[.ffffff]", the stored and fixture form.
func parseOdooDateTime(_ text: String) -> Int64? {
    let utf8 = Array(text.utf8)
    guard utf8.count == 19 || (utf8.count > 20 && utf8.count <= 26 && utf8[19] == UInt8(ascii: ".")) else { return nil }
    func number(_ from: Int, _ count: Int) -> Int? {
        var value = 0
        for i in from..<(from + count) {
            let byte = utf8[i]
            guard byte >= 48 && byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }
    guard utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"), utf8[10] == UInt8(ascii: " "),
        utf8[13] == UInt8(ascii: ":"), utf8[16] == UInt8(ascii: ":"),
        let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2),
        let h = number(11, 2), let mi = number(14, 2), let s = number(17, 2),
        (1...12).contains(mo), d >= 1, d <= TimeUtil.daysInMonth(year: y, month: mo), h < 24, mi < 60, s < 60
    else { return nil }
    var micro = 0
    if utf8.count > 19 {
        let digits = utf8.count - 20
        guard let fraction = number(20, digits) else { return nil }
        micro = fraction
        for _ in digits..<6 { micro *= 10 }
    }
    return TimeUtil.micros(year: y, month: mo, day: d, hour: h, minute: mi, second: s, micro: micro)
}

/// Strict "YYYY-MM-DD", returning days since the epoch.
func parseOdooDate(_ text: String) -> Int? {
    let utf8 = Array(text.utf8)
    guard utf8.count == 10, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-") else { return nil }
    guard let y = Int(text.prefix(4)), let m = Int(text.dropFirst(5).prefix(2)), let d = Int(text.suffix(2)),
        (1...12).contains(m), d >= 1, d <= TimeUtil.daysInMonth(year: y, month: m)
    else { return nil }
    return TimeUtil.daysFromCivil(year: y, month: m, day: d)
}
