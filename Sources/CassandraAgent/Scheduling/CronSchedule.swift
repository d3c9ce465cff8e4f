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

#if canImport(Glibc)
import Glibc
#endif

extension CronSchedule {
    /// The first minute after `epochSeconds` the schedule fires at, in the host's
    /// local time (as cron reads a crontab); nil if none within five years.
    public func next(after epochSeconds: Int64) -> Int64? {
        var time = time_t(epochSeconds - epochSeconds % 60 + 60)
        var parts = tm()
        for _ in 0..<200_000 {
            guard localtime_r(&time, &parts) != nil else { return nil }
            if !months.contains(Int(parts.tm_mon) + 1) {
                parts.tm_mon += 1; parts.tm_mday = 1; parts.tm_hour = 0; parts.tm_min = 0
            } else if !matches(minute: Int(parts.tm_min), hour: Int(parts.tm_hour), day: Int(parts.tm_mday), month: Int(parts.tm_mon) + 1, weekday: Int(parts.tm_wday))
                        && !dayMatches(parts) {
                parts.tm_mday += 1; parts.tm_hour = 0; parts.tm_min = 0
            } else if !hours.contains(Int(parts.tm_hour)) {
                parts.tm_hour += 1; parts.tm_min = 0
            } else if !minutes.contains(Int(parts.tm_min)) {
                parts.tm_min += 1
            } else {
                return Int64(time)
            }
            parts.tm_sec = 0
            parts.tm_isdst = -1
            time = mktime(&parts)
        }
        return nil
    }

    private func dayMatches(_ parts: tm) -> Bool {
        let dom = daysOfMonth.contains(Int(parts.tm_mday)), dow = daysOfWeek.contains(Int(parts.tm_wday))
        return dayOfMonthRestricted && dayOfWeekRestricted ? dom || dow : dom && dow
    }
}
