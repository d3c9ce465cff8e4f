/// A five-field cron expression (minute hour day-of-month month day-of-week),
/// with lists, ranges, steps and month/day names, as crontab(5) reads it.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    public let expression: String
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    /// 0 = Sunday; 7 is folded into 0.
    public let daysOfWeek: Set<Int>
    /// crontab(5): when both day fields are restricted, either one matching is enough.
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    public var description: String { expression }

    public struct ParseError: Error, Sendable, Equatable {
        public var message: String
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(parsing expression: String) throws(ParseError) {
        let fields = expression.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(message: "a schedule needs five fields (minute hour day-of-month month day-of-week), found \(fields.count) in '\(expression)'")
        }
        self.expression = expression
        minutes = try Self.field(fields[0], name: "minute", range: 0...59, names: [])
        hours = try Self.field(fields[1], name: "hour", range: 0...23, names: [])
        daysOfMonth = try Self.field(fields[2], name: "day-of-month", range: 1...31, names: [])
        months = try Self.field(fields[3], name: "month", range: 1...12, names: Self.monthNames, nameBase: 1)
        let week = try Self.field(fields[4], name: "day-of-week", range: 0...7, names: Self.dayNames)
        daysOfWeek = Set(week.map { $0 % 7 })
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
    }

    /// Whether the schedule fires at this wall-clock minute.
    public func matches(minute: Int, hour: Int, day: Int, month: Int, weekday: Int) -> Bool {
        guard minutes.contains(minute), hours.contains(hour), months.contains(month) else { return false }
        let dom = daysOfMonth.contains(day), dow = daysOfWeek.contains(weekday % 7)
        if dayOfMonthRestricted && dayOfWeekRestricted { return dom || dow }
        return dom && dow
    }

    static func field(_ text: String, name: String, range: ClosedRange<Int>, names: [String], nameBase: Int = 0) throws(ParseError) -> Set<Int> {
        var result: Set<Int> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else {
                throw ParseError(message: "malformed \(name) field '\(text)'")
            }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else {
                    throw ParseError(message: "the step in \(name) field '\(text)' must be a positive number")
                }
                step = s
            }
            var low: Int, high: Int
            if pieces[0] == "*" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2 else { throw ParseError(message: "malformed range in \(name) field '\(text)'") }
                low = try value(String(bounds[0]), name: name, range: range, names: names, nameBase: nameBase)
                high = bounds.count == 2 ? try value(String(bounds[1]), name: name, range: range, names: names, nameBase: nameBase) : low
                if pieces.count == 2 && bounds.count == 1 { high = range.upperBound }
                guard low <= high else {
                    throw ParseError(message: "the range \(pieces[0]) in the \(name) field runs backwards")
                }
            }
            result.formUnion(stride(from: low, through: high, by: step))
        }
        return result
    }

    static func value(_ text: String, name: String, range: ClosedRange<Int>, names: [String], nameBase: Int) throws(ParseError) -> Int {
        if let index = names.firstIndex(of: text.uppercased()) { return index + nameBase }
        guard let number = Int(text) else {
            let hint = names.isEmpty ? "" : " or a name (\(names.joined(separator: ",")))"
            throw ParseError(message: "'\(text)' is not a valid \(name): use a number from \(range.lowerBound) to \(range.upperBound)\(hint)")
        }
        guard range.contains(number) else {
            throw ParseError(message: "\(name) \(number) is out of range \(range.lowerBound)-\(range.upperBound)")
        }
        return number
    }
}

extension CronSchedule {
    /// The first minute after `epochSeconds` at which the schedule fires in `zone`
    /// (crontab(5) fields read on the zone's wall clock), or nil if none within eight
    /// years (enough for `0 0 29 2 *` across a century's skipped leap day).
    ///
    /// Daylight-saving changes, as operators expect of cron:
    /// - a time skipped by a spring-forward gap fires once, at the first instant after
    ///   the gap (02:30 on Berlin's spring-forward day fires at 03:00 CEST); several
    ///   skipped times collapse into that one firing;
    /// - a time that occurs twice in a fall-back fold fires once, at its first
    ///   occurrence (02:30 CEST, not 02:30 CET again an hour later).
    ///
    /// Candidates are visited by day, then hour, then minute, so a yearly schedule costs
    /// a few hundred day checks, not hundreds of thousands of minutes.
    public func next(after epochSeconds: Int64, in zone: TimeZoneRules) -> Int64? {
        guard TimeZoneRules.instantRange.contains(epochSeconds) else { return nil }
        // Every wall reading up to the one at `epochSeconds` was first reached by then,
        // so only later readings can fire after it.
        let wall = epochSeconds + Int64(zone.offset(at: epochSeconds))
        let firstWall = CivilCalendar.floorDiv(wall, 60) * 60 + 60
        var day = CivilCalendar.floorDiv(firstWall, 86_400)
        let lastDay = day + 8 * 366
        let sortedHours = hours.sorted(), sortedMinutes = minutes.sorted()
        while day <= lastDay {
            let date = CivilCalendar.date(ofDay: day)
            guard months.contains(date.month) else {
                day = CivilCalendar.days(year: date.year, month: date.month + 1, day: 1)
                continue
            }
            if dayMatches(day: date.day, weekday: CivilCalendar.weekday(ofDay: day)) {
                for hour in sortedHours {
                    let hourWall = day * 86_400 + Int64(hour) * 3600
                    if hourWall + 3599 < firstWall { continue }
                    for minute in sortedMinutes {
                        let candidate = hourWall + Int64(minute) * 60
                        if candidate < firstWall { continue }
                        let instant = zone.firstInstant(atOrAfterWall: candidate)
                        if instant > epochSeconds { return instant }
                    }
                }
            }
            day += 1
        }
        return nil
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        let dom = daysOfMonth.contains(day), dow = daysOfWeek.contains(weekday)
        return dayOfMonthRestricted && dayOfWeekRestricted ? dom || dow : dom && dow
    }
}
