/// A wall-clock reading in some zone: what an operator sees on the node's clock.
/// Fields are not normalised: `instants(of:)` reads day 32 of January as February 1.
public struct LocalDateTime: Sendable, Hashable, CustomStringConvertible {
    public var year: Int
    /// 1 = January.
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// 0 = Sunday, derived from the date.
    public var weekday: Int { CivilCalendar.weekday(ofDay: CivilCalendar.days(year: year, month: month, day: day)) }

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
    }

    /// The reading `wallSeconds` seconds after 1970-01-01 00:00:00 on a clock with no offset.
    init(wallSeconds: Int64) {
        let day = CivilCalendar.floorDiv(wallSeconds, 86_400)
        let second = Int(wallSeconds - day * 86_400)
        let date = CivilCalendar.date(ofDay: day)
        self.init(year: date.year, month: date.month, day: date.day, hour: second / 3600, minute: second / 60 % 60, second: second % 60)
    }

    /// Seconds after 1970-01-01 00:00:00 on a clock with no offset.
    var wallSeconds: Int64 {
        CivilCalendar.days(year: year, month: month, day: day) * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)
    }

    public var description: String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(hour)):\(two(minute)):\(two(second))"
    }
}

/// Proleptic Gregorian arithmetic on day numbers (0 = 1970-01-01), after Howard
/// Hinnant's `days_from_civil` / `civil_from_days`: no libc, no tables, any year.
enum CivilCalendar {
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func days(year: Int, month: Int, day: Int) -> Int64 {
        // Months past December (or before January) carry into the year, so callers may step months freely.
        let carried = Int64(year) + floorDiv(Int64(month - 1), 12)
        let m = Int64(month - 1) - floorDiv(Int64(month - 1), 12) * 12 + 1
        let y = m <= 2 ? carried - 1 : carried
        let era = floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func date(ofDay days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0)), Int(month), Int(day))
    }

    /// 0 = Sunday (1970-01-01 was a Thursday).
    static func weekday(ofDay days: Int64) -> Int {
        Int(days + 4 - floorDiv(days + 4, 7) * 7)
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysInMonth(year: Int, month: Int) -> Int {
        month == 2 ? (isLeap(year) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }
}
