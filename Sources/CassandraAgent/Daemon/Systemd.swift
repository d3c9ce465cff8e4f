import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// The agent's side of the systemd protocol, through libsystemd: readiness,
/// status line, watchdog, stop and reload notices, and socket activation.
/// Outside systemd (no NOTIFY_SOCKET) every call is a no-op.
public struct SystemdNotifier: Sendable {
    public init() {}

    public var isUnderSystemd: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// Half of WATCHDOG_USEC, the interval systemd expects pets at; nil when the watchdog is off.
    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec / 2))
    }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func status(_ line: String) { send("STATUS=\(line)") }
    public func watchdog() { send("WATCHDOG=1") }
    public func stopping() { send("STOPPING=1") }

    public func reloading() {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        // systemd 253+ wants MONOTONIC_USEC with RELOADING=1; older ones ignore it.
        send("RELOADING=1\nMONOTONIC_USEC=\(UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000)")
    }

    func send(_ message: String) {
        guard isUnderSystemd else { return }
        _ = sd_notify(0, message)
    }

    /// The first descriptor systemd passed (a `.socket` unit), or nil.
    public static func listenedSocket() -> Int32? {
        let count = sd_listen_fds(1)
        return count > 0 ? SD_LISTEN_FDS_START : nil
    }
}
