/// A named zone's offsets from UTC over all time, read from the system's TZif files
/// (tzdata): what schedules and patch windows need to turn "Sunday 04:00 in
/// Europe/Berlin" into instants.
///
/// Not Foundation's `TimeZone` (FoundationEssentials has no named zones without ICU,
/// tens of MiB) and not libc's `localtime`/`TZ` (process-global, not thread-safe):
/// a value that any task can use, loaded once per identifier.
public struct TimeZoneRules: Sendable, Equatable, CustomStringConvertible {
    public let identifier: String
    let file: TZifFile

    public var description: String { identifier }

    public static let utc = TimeZoneRules(identifier: "UTC", file: TZifFile(transitions: [], offsets: [], initialOffset: 0, footer: nil))

    init(identifier: String, file: TZifFile) {
        self.identifier = identifier
        self.file = file
    }

    /// Offsets stay within RFC 8536's bounds (just over a day either way), which bounds
    /// how far from a wall-clock reading its instants can lie.
    static let maximumOffset: Int64 = 26 * 3600

    /// Inputs are clamped to about ±285 million years so offset arithmetic cannot overflow.
    static let instantRange: ClosedRange<Int64> = -(1 << 53)...(1 << 53)

    /// Seconds east of UTC at the instant.
    public func offset(at epochSeconds: Int64) -> Int {
        let t = epochSeconds.clamped(to: Self.instantRange)
        let transitions = file.transitions
        guard let last = transitions.last else { return file.footer?.offset(at: t) ?? file.initialOffset }
        if t < transitions[0] { return file.initialOffset }
        if t > last, let footer = file.footer { return footer.offset(at: t) }
        // The last transition at or before t.
        var low = 0, high = transitions.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if transitions[mid] <= t { low = mid } else { high = mid - 1 }
        }
        return file.offsets[low]
    }

    /// The wall-clock reading at the instant.
    public func local(_ epochSeconds: Int64) -> LocalDateTime {
        let t = epochSeconds.clamped(to: Self.instantRange)
        return LocalDateTime(wallSeconds: t + Int64(offset(at: t)))
    }

    /// The instants whose wall clock reads `local`, ascending: one on most days, none
    /// in a spring-forward gap, two in a fall-back fold.
    public func instants(of local: LocalDateTime) -> [Int64] {
        // Far beyond any schedule, and small enough that the wall-clock arithmetic cannot overflow.
        let bound = 100_000_000
        guard [local.year, local.month, local.day, local.hour, local.minute, local.second].allSatisfy({ abs($0) < bound }) else { return [] }
        return instants(ofWall: local.wallSeconds)
    }

    func instants(ofWall wall: Int64) -> [Int64] {
        let lower = wall - Self.maximumOffset, upper = wall + Self.maximumOffset
        var candidates = [offset(at: lower)]
        for change in changes(from: lower, through: upper) { candidates.append(change.after) }
        var result: [Int64] = []
        for candidate in candidates {
            let t = wall - Int64(candidate)
            if offset(at: t) == candidate && !result.contains(t) { result.append(t) }
        }
        return result.sorted()
    }

    /// The first instant at which the wall clock reads `wall` or later: the reading
    /// itself, its first occurrence in a fold, or the end of the gap that skips it.
    func firstInstant(atOrAfterWall wall: Int64) -> Int64 {
        if let first = instants(ofWall: wall).first { return first }
        for change in changes(from: wall - Self.maximumOffset, through: wall + Self.maximumOffset)
        where change.at + Int64(change.before) <= wall && wall < change.at + Int64(change.after) {
            return change.at
        }
        return wall - Int64(offset(at: wall)) // unreachable for a consistent zone
    }

    /// The offset changes from `lower` through `upper`, with the offsets either side.
    func changes(from lower: Int64, through upper: Int64) -> [(at: Int64, before: Int, after: Int)] {
        let transitions = file.transitions
        var result: [(at: Int64, before: Int, after: Int)] = []
        // The first transition at or after `lower`.
        var low = 0, high = transitions.count
        while low < high {
            let mid = (low + high) / 2
            if transitions[mid] < lower { low = mid + 1 } else { high = mid }
        }
        var index = low
        while index < transitions.count, transitions[index] <= upper {
            let before = index == 0 ? file.initialOffset : file.offsets[index - 1]
            if before != file.offsets[index] { result.append((transitions[index], before, file.offsets[index])) }
            index += 1
        }
        if let footer = file.footer, transitions.last.map({ $0 < upper }) ?? true {
            let from = transitions.last.map { max(lower, $0 + 1) } ?? lower
            result += footer.changes(from: from, through: upper)
        }
        return result
    }
}
