import FoundationEssentials

/// A stream plan as the servers run it (Cassandra's StreamResultFuture): one per
/// rebuild, bootstrap or decommission, owned by the node whose operation it is,
/// with one session per peer. Like a repair it lives on the servers, so a killed
/// `nodetool rebuild` leaves it streaming to its end; `netstats` on the owner
/// shows every session, on a peer only the session with the owner.
public struct StreamPlan: Codable, Sendable, Equatable {
    /// StreamOperation's descriptions, the first word of netstats' plan line.
    public enum Operation: String, Codable, Sendable {
        case rebuild = "Rebuild", bootstrap = "Bootstrap", unbootstrap = "Unbootstrap"
    }

    public enum State: String, Codable, Sendable {
        case running, completed, failed
    }

    /// One file of a session: the source's SSTable and the one it becomes on the receiver.
    public struct File: Codable, Sendable, Equatable {
        public var keyspace: String
        public var table: String
        public var bytes: Int64
        public var sourcePath: String
        public var targetPath: String
        /// The receiver's SSTable generation, written when the plan completes.
        public var targetGeneration: Int
    }

    public struct Session: Codable, Sendable, Equatable {
        /// The other end, seen from the plan's owner.
        public var peer: String
        /// True when the owner receives (rebuild, bootstrap); false when it sends (decommission).
        public var ownerReceives: Bool
        /// The ranges this session asked for, per keyspace, as [start, end] pairs:
        /// what system.available_ranges records once the session completes.
        public var ranges: [String: [[Int64]]]
        public var files: [File]

        public var bytes: Int64 { files.reduce(0) { $0 + $1.bytes } }
    }

    public var id: String
    public var operation: Operation
    public var owner: String
    public var sessions: [Session]
    public var startedAt: Double
    /// Progress of the whole plan from 0 to 1, as of `lastUpdate`; every session moves at the same pace.
    public var progress: Double = 0
    public var lastUpdate: Double
    /// Progress per second. Rebuilds and decommissions move at the cluster's stream rate
    /// (`followsStreamRate`); a bootstrap takes the seconds it was given.
    public var progressPerSecond: Double
    public var followsStreamRate: Bool
    public var state: State = .running
    public var endedAt: Double?
    public var failure: String?

    public var isRunning: Bool { state == .running }
    public var bytes: Int64 { sessions.reduce(0) { $0 + $1.bytes } }
    public var participants: [String] { [owner] + sessions.map(\.peer) }

    /// Progress per second for `bytes` at `rate` bytes per second; an empty plan ends at
    /// once (a finite pace: the state is JSON, which has no infinity).
    static func pace(bytes: Int64, rate: Double) -> Double {
        bytes > 0 && rate > 0 ? rate / Double(bytes) : instant
    }

    static let instant = 1e12

    /// Bytes of `file` moved so far: the files of a session go one after the other.
    func bytesDone(_ file: File, in session: Session) -> Int64 {
        var remaining = Int64((Double(session.bytes) * progress).rounded(.down))
        if progress >= 1 { remaining = session.bytes }
        for candidate in session.files {
            let done = min(candidate.bytes, max(0, remaining))
            if candidate == file { return done }
            remaining -= candidate.bytes
        }
        return 0
    }

    /// The bytes `node` has received so far in this plan (what its Load grows by).
    func bytesReceived(by node: String) -> Int64 {
        var total: Int64 = 0
        for session in sessions {
            let receiver = session.ownerReceives ? owner : session.peer
            guard receiver == node else { continue }
            total += session.files.reduce(0) { $0 + bytesDone($1, in: session) }
        }
        return total
    }

    /// The plans as `cassandra-sim streams --json` prints them.
    public static func json(_ plans: [StreamPlan]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return ((try? encoder.encode(plans)).map { String(decoding: $0, as: UTF8.self) } ?? "[]") + "\n"
    }
}
