// TEMPORARY: stands in for the TZif-based TimeZoneRules until that branch lands (UTC only).
public struct TimeZoneError: Error, Sendable { public var message: String }
public struct TimeZoneRules: Sendable, Equatable {
    public let identifier: String
    public static let utc = TimeZoneRules(unchecked: "UTC")
    init(unchecked identifier: String) { self.identifier = identifier }
    public init(identifier: String, zoneinfoDirectory: String = "/usr/share/zoneinfo") throws(TimeZoneError) {
        guard identifier == "UTC" || identifier == "Etc/UTC" else { throw TimeZoneError(message: "unknown time zone '\(identifier)'") }
        self.identifier = identifier
    }
}
extension CronSchedule {
    public func next(after epochSeconds: Int64, in zone: TimeZoneRules) -> Int64? { next(after: epochSeconds) }
}
extension PatchWindow {
    public func contains(_ epochSeconds: Int64, in zone: TimeZoneRules) -> Bool {
        let day = Int((epochSeconds / 86400 + 4) % 7), minute = Int(epochSeconds % 86400) / 60
        if end > start { return days.contains(day) && minute >= start && minute < end }
        return (days.contains(day) && minute >= start) || (days.contains((day + 6) % 7) && minute < end)
    }
    public func nextOpening(after epochSeconds: Int64, in zone: TimeZoneRules) -> Int64? {
        var t = (epochSeconds / 86400) * 86400 + Int64(start) * 60
        for _ in 0..<16 {
            if t > epochSeconds && days.contains(Int((t / 86400 + 4) % 7)) { return t }
            t += 86400
        }
        return nil
    }
    public func closing(of opening: Int64, in zone: TimeZoneRules) -> Int64 { opening + Int64(lengthMinutes) * 60 }
}
