/// When patching may run: days of the week and a time span, e.g.
/// `SUN 04:00-06:00`, `MON-FRI 01:00-03:30`, `* 23:00-01:00` (past midnight).
public struct PatchWindow: Sendable, Equatable, CustomStringConvertible {
    public let expression: String
    /// 0 = Sunday: the days the window opens on.
    public let days: Set<Int>
    /// Minutes after midnight.
    public let start: Int
    public let end: Int

    public var description: String { expression }

    /// The length in minutes; a window whose end is before its start runs past midnight.
    public var lengthMinutes: Int { end > start ? end - start : end + 24 * 60 - start }

    public init(parsing expression: String) throws(CronSchedule.ParseError) {
        let parts = expression.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            throw .init(message: "a patch window is 'DAYS HH:MM-HH:MM', e.g. 'SUN 04:00-06:00', found '\(expression)'")
        }
        self.expression = expression
        let dayField = parts[0] == "*" ? "*" : String(parts[0])
        days = try CronSchedule.field(dayField, name: "day", range: 0...7, names: CronSchedule.dayNames).reduce(into: []) { $0.insert($1 % 7) }
        let times = parts[1].split(separator: "-", omittingEmptySubsequences: false)
        guard times.count == 2 else {
            throw .init(message: "the time span of a patch window is 'HH:MM-HH:MM', found '\(parts[1])'")
        }
        start = try Self.minutes(String(times[0]))
        end = try Self.minutes(String(times[1]))
        guard start != end else {
            throw .init(message: "the patch window '\(expression)' is empty: its start and end are the same")
        }
    }

    static func minutes(_ text: String) throws(CronSchedule.ParseError) -> Int {
        let hm = text.split(separator: ":", omittingEmptySubsequences: false)
        guard hm.count == 2, hm[0].count == 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]),
              (0...23).contains(h) || (h == 24 && m == 0), (0...59).contains(m)
        else {
            throw .init(message: "'\(text)' is not a time of day; write HH:MM from 00:00 to 24:00")
        }
        return h * 60 + m
    }
}

extension PatchWindow {
    /// Window instants follow the wall clock of `zone`. A window belongs to the day it
    /// opens on (`FRI 23:00-01:00` is open early on Saturday because of Friday), and
    /// spans its wall-clock times on that day: each end is taken at its first
    /// occurrence in a fall-back fold, or at the end of a spring-forward gap that skips
    /// it. So `01:00-03:00` is one real hour on Berlin's spring-forward day and three
    /// on its fall-back day; a window wholly inside a gap does not open that day.
    struct Occurrence: Equatable {
        var opening: Int64
        var closing: Int64
    }

    /// The occurrence that opens on `day` (0 = 1970-01-01), if the day is listed.
    func occurrence(onDay day: Int64, in zone: TimeZoneRules) -> Occurrence? {
        guard days.contains(CivilCalendar.weekday(ofDay: day)) else { return nil }
        let openingWall = day * 86_400 + Int64(start) * 60
        return Occurrence(opening: zone.firstInstant(atOrAfterWall: openingWall),
                          closing: zone.firstInstant(atOrAfterWall: openingWall + Int64(lengthMinutes) * 60))
    }

    /// The days whose occurrences can cover an instant whose wall clock reads on `day`:
    /// a window lasts at most a day, and folds may move a reading back across midnight.
    private func candidateDays(around epochSeconds: Int64, in zone: TimeZoneRules) -> ClosedRange<Int64> {
        let day = CivilCalendar.floorDiv(zone.local(epochSeconds).wallSeconds, 86_400)
        return (day - 2)...(day + 1)
    }

    /// Whether the window is open at the instant (opening included, closing excluded).
    public func contains(_ epochSeconds: Int64, in zone: TimeZoneRules) -> Bool {
        guard TimeZoneRules.instantRange.contains(epochSeconds) else { return false }
        return candidateDays(around: epochSeconds, in: zone).contains { day in
            occurrence(onDay: day, in: zone).map { $0.opening <= epochSeconds && epochSeconds < $0.closing } ?? false
        }
    }

    /// The first opening strictly after the instant, or nil if none within two weeks
    /// (only a window that every listed day's gap swallows).
    public func nextOpening(after epochSeconds: Int64, in zone: TimeZoneRules) -> Int64? {
        guard TimeZoneRules.instantRange.contains(epochSeconds) else { return nil }
        let first = candidateDays(around: epochSeconds, in: zone).lowerBound
        for day in first...(first + 16) {
            if let occurrence = occurrence(onDay: day, in: zone), occurrence.opening > epochSeconds, occurrence.closing > occurrence.opening {
                return occurrence.opening
            }
        }
        return nil
    }

    /// When the window that opened at `opening` (an instant `nextOpening` returned)
    /// closes. Given any instant, the closing of the latest occurrence opened by then;
    /// an instant before any occurrence gets the closing of the window opened that day's wall date.
    public func closing(of opening: Int64, in zone: TimeZoneRules) -> Int64 {
        let t = opening.clamped(to: TimeZoneRules.instantRange)
        var best: Occurrence?
        for day in candidateDays(around: t, in: zone) {
            if let occurrence = occurrence(onDay: day, in: zone), occurrence.opening <= t, occurrence.closing > occurrence.opening,
               occurrence.opening >= best?.opening ?? .min {
                best = occurrence
            }
        }
        if let best { return best.closing }
        let wall = CivilCalendar.floorDiv(zone.local(t).wallSeconds, 86_400) * 86_400 + Int64(start) * 60
        return zone.firstInstant(atOrAfterWall: wall + Int64(lengthMinutes) * 60)
    }
}
