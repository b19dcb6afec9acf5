import Foundation

/// Calendar fields of an instant in UTC, computed without Foundation's calendars so that the
/// result never depends on the box's time zone or locale.
public struct UTCDateTime: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var millisecond: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, millisecond: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.millisecond = millisecond
    }

    public init(_ date: Date) {
        // Clamp to ±3e14 s (about ±9.5 million years) so that no Date can make the conversion trap.
        let seconds = date.timeIntervalSince1970.isFinite ? min(max(date.timeIntervalSince1970, -3e14), 3e14) : 0
        let totalMillis = Int64((seconds * 1000).rounded(.down))
        var days = totalMillis / 86_400_000
        var rest = totalMillis % 86_400_000
        if rest < 0 { rest += 86_400_000; days -= 1 }
        // Howard Hinnant's days-to-civil algorithm.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.init(year: Int(y), month: Int(m), day: Int(d),
                  hour: Int(rest / 3_600_000), minute: Int(rest / 60_000 % 60),
                  second: Int(rest / 1000 % 60), millisecond: Int(rest % 1000))
    }

    /// Whether the fields name a real instant (month 1–12, day within the month, hour 0–23 …).
    public var isValid: Bool {
        guard (1...12).contains(month), (0...23).contains(hour), (0...59).contains(minute),
              (0...59).contains(second), (0...999).contains(millisecond), day >= 1 else { return false }
        return day <= UTCDateTime.daysIn(month: month, year: year)
    }

    public var date: Date? {
        guard isValid else { return nil }
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return Date(timeIntervalSince1970: Double(seconds) + Double(millisecond) / 1000)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// The time formats the platform's payloads use.
public enum IoTDATime {
    /// `yyyyMMdd'T'HHmmss'Z'`, e.g. `20151212T121212Z`: event_time of events (the only form the
    /// documents show for them) and of property-get responses.
    public static func eventTime(_ date: Date) -> String {
        let t = UTCDateTime(date)
        return pad(t.year, 4) + pad(t.month, 2) + pad(t.day, 2) + "T" + pad(t.hour, 2) + pad(t.minute, 2) + pad(t.second, 2) + "Z"
    }

    /// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, e.g. `2020-08-12T12:12:12.333Z`: event_time of property
    /// reports, which the platform takes to the millisecond (UG 2.1.2.8.1–2, spec §2.11.1).
    public static func eventTimeMillis(_ date: Date) -> String {
        let t = UTCDateTime(date)
        return pad(t.year, 4) + "-" + pad(t.month, 2) + "-" + pad(t.day, 2) + "T" + pad(t.hour, 2) + ":"
            + pad(t.minute, 2) + ":" + pad(t.second, 2) + "." + pad(t.millisecond, 3) + "Z"
    }

    /// Parses every form the documents show: `20151212T121212Z`, `2020-08-12T12:12:12.333Z` and
    /// `2015-12-12T12:12:12Z` (log_config end_time, erratum E23). Nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func num(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var v = 0
            for i in range {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        func at(_ i: Int, _ c: Character) -> Bool { i < b.count && b[i] == c.asciiValue }
        var fields: UTCDateTime?
        if b.count == 16, at(8, "T"), at(15, "Z") {
            if let y = num(0..<4), let mo = num(4..<6), let d = num(6..<8), let h = num(9..<11), let mi = num(11..<13), let s = num(13..<15) {
                fields = UTCDateTime(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
            }
        } else if (b.count == 20 || b.count == 24), at(4, "-"), at(7, "-"), at(10, "T"), at(13, ":"), at(16, ":"), at(b.count - 1, "Z") {
            var ms: Int? = 0
            if b.count == 24 { ms = at(19, ".") ? num(20..<23) : nil }
            if let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16),
               let s = num(17..<19), let ms {
                fields = UTCDateTime(year: y, month: mo, day: d, hour: h, minute: mi, second: s, millisecond: ms)
            }
        }
        return fields?.date
    }

    /// Milliseconds since 1970 (the time-sync fields).
    public static func epochMillis(_ date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970.isFinite ? min(max(date.timeIntervalSince1970, -3e14), 3e14) : 0
        return Int64((seconds * 1000).rounded(.down))
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
