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
