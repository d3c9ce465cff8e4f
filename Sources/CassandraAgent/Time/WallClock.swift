#if canImport(Glibc)
import Glibc
#endif

/// Where the agent's services get the time of day. Schedules, blackouts, retry
/// backoffs and status ages all read it, so tests drive them with a manual clock
/// (`CassandraAgentTestSupport.ManualClock`) instead of sleeping.
///
/// Wall-clock seconds (not a monotonic instant) because everything the agent
/// schedules is stated in calendar time (cron, windows, ISO intervals) and must
/// survive a restart of the host; a jump of the system clock is handled where it
/// matters (the scheduler re-reads `now` after every sleep).
public protocol WallClock: Sendable {
    /// Seconds since 1970-01-01T00:00:00Z.
    func now() -> Double
    /// Suspends until `now() >= deadline`, or throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Double) async throws
}

extension WallClock {
    public func sleep(for seconds: Double) async throws {
        try await sleep(until: now() + seconds)
    }
}

/// The host's real-time clock.
public struct SystemClock: WallClock {
    public init() {}

    public func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    public func sleep(until deadline: Double) async throws {
        // Sleep in slices of at most a minute so a wall-clock jump (NTP step, resume from
        // suspend) delays a deadline by at most that much.
        while true {
            let left = deadline - now()
            if left <= 0 { return }
            try await Task.sleep(for: .milliseconds(Int64(min(left, 60) * 1000) + 1))
        }
    }
}
