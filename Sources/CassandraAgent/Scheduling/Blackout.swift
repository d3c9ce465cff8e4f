/// A time in which no job starts: weekly, in the patch-window form
/// (`SAT 18:00-23:59`, UTC), or once, as an ISO 8601 interval
/// (`2026-12-24T00:00Z/2026-12-27T00:00Z`).
public struct Blackout: Sendable, Equatable, CustomStringConvertible {
    public enum Span: Sendable, Equatable {
        case weekly(PatchWindow)
        case once(start: Int64, end: Int64)
    }

    public let expression: String
    public let span: Span

    public var description: String { expression }

    public init(parsing text: String) throws(CronSchedule.ParseError) {
        expression = text
        if text.contains("/") {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw .init(message: "a one-off blackout is START/END in ISO 8601, e.g. 2026-12-24T00:00Z/2026-12-27T00:00Z; found '\(text)'") }
            let start = try Self.instant(String(parts[0])), end = try Self.instant(String(parts[1]))
            guard end > start else { throw .init(message: "the blackout '\(text)' ends before it starts") }
            span = .once(start: start, end: end)
        } else {
            span = .weekly(try PatchWindow(parsing: text))
        }
    }

    /// If `now` is inside this blackout, when it ends.
    public func end(ifActiveAt now: Int64, zone: TimeZoneRules = .utc) -> Int64? {
        switch span {
        case .once(let start, let end):
            return now >= start && now < end ? end : nil
        case .weekly(let window):
            // The window holding `now` opened at most its length (plus a DST hour) ago.
            var after = now - Int64(window.lengthMinutes) * 60 - 3600 - 1
            while let opening = window.nextOpening(after: after, in: zone), opening <= now {
                let closing = window.closing(of: opening, in: zone)
                if closing > now { return closing }
                after = opening
            }
            return nil
        }
    }

    /// `YYYY-MM-DDTHH:MM[:SS]` followed by `Z` or `±HH:MM`.
    static func instant(_ text: String) throws(CronSchedule.ParseError) -> Int64 {
        let bad = CronSchedule.ParseError(message: "'\(text)' is not an ISO 8601 time such as 2026-12-24T00:00Z (a zone, Z or +01:00, is required)")
        let chars = Array(text)
        guard chars.count >= 17, chars[4] == "-", chars[7] == "-", chars[10] == "T", chars[13] == ":" else { throw bad }
        func number(_ range: Range<Int>) -> Int? { Int(String(chars[range])) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16) else { throw bad }
        var index = 16
        var second = 0
        if chars[index] == ":" {
            guard chars.count >= index + 3, let s = number(index + 1..<index + 3) else { throw bad }
            second = s
            index += 3
        }
        var offset = 0
        let zone = String(chars[index...])
        if zone != "Z" {
            let z = Array(zone)
            guard z.count == 6, z[0] == "+" || z[0] == "-", z[3] == ":", let h = Int(String(z[1...2])), let m = Int(String(z[4...5])), h < 24, m < 60 else { throw bad }
            offset = (h * 3600 + m * 60) * (z[0] == "-" ? -1 : 1)
        }
        guard (1...12).contains(month), (1...CivilDate.daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60, second < 60 else { throw bad }
        return CivilDate.days(year: year, month: month, day: day) * 86400 + Int64(hour * 3600 + minute * 60 + second - offset)
    }
}

/// Proleptic Gregorian day arithmetic (Howard Hinnant's days_from_civil).
enum CivilDate {
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
