/// When a scheduled job is due on this node: its cron schedule in its time
/// zone, shifted by the node's splay, with the missed-run rule. Pure: every
/// answer is a function of the inputs and `now`.
public struct RunSchedule: Sendable, Equatable {
    public var cron: CronSchedule
    public var zone: TimeZoneRules
    /// This node's offset after each cron time (see `Splay`).
    public var splaySeconds: Int
    /// A slot missed while the agent or host was down still runs, once, if it was due at most this long ago.
    public var missedRunGrace: Double

    public init(cron: CronSchedule, zone: TimeZoneRules = .utc, splaySeconds: Int = 0, missedRunGrace: Double = 12 * 3600) {
        self.cron = cron
        self.zone = zone
        self.splaySeconds = splaySeconds
        self.missedRunGrace = missedRunGrace
    }

    public enum Decision: Sendable, Equatable {
        /// Start now for this cron slot (`missed`: its time passed while nobody ran it).
        case run(slot: Double, missed: Bool)
        /// Nothing due: wake at `due` for `slot`.
        case wait(until: Double, slot: Double)
        /// The schedule never fires again.
        case never
    }

    /// What to do at `now`, given the last slot already handled (nil: the job has never been
    /// scheduled on this node, so only slots from now on count).
    public func decide(now: Double, lastSlot: Double?) -> Decision {
        let splay = Double(splaySeconds)
        let handled = lastSlot ?? (now - splay)
        // The latest slot that became due after the last handled one, within the grace.
        var latest: Double?
        var cursor = max(handled, now - splay - missedRunGrace - 1)
        while let slot = cron.next(after: Int64(cursor), in: zone).map(Double.init), slot + splay <= now {
            latest = slot
            cursor = slot
        }
        if let latest, latest > handled {
            return .run(slot: latest, missed: now - (latest + splay) > 60)
        }
        guard let slot = cron.next(after: Int64(max(handled, now - splay)), in: zone).map(Double.init) else { return .never }
        return .wait(until: slot + splay, slot: slot)
    }

    /// The next time the job is due after `now` (for `nextRun` in status).
    public func nextDue(after now: Double) -> Double? {
        cron.next(after: Int64(now - Double(splaySeconds)), in: zone).map { Double($0 + Int64(splaySeconds)) }
    }
}

/// Nodes of one cluster with the same schedule must not all start in the same
/// second: each node's offset is derived from its host ID (stable across
/// restarts, different between nodes) within a bounded window, itself at most
/// half the schedule's period so a run never slides into the next slot.
public enum Splay {
    public static func offset(hostID: String, kind: JobKind, window: Double, cron: CronSchedule, zone: TimeZoneRules, now: Double) -> Int {
        var bound = window
        if let first = cron.next(after: Int64(now), in: zone), let second = cron.next(after: first, in: zone) {
            bound = min(bound, Double(second - first) / 2)
        }
        guard bound >= 1 else { return 0 }
        let digest = SHA256.digest(Array("\(hostID):\(kind.rawValue)".utf8))
        let value = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int(value % UInt64(bound))
    }
}
