import FoundationEssentials

/// A repair as the server runs it. Cassandra's repair lives in the coordinator's
/// ActiveRepairService (and, when incremental, in every participant's
/// LocalSessions); nodetool is only a JMX client that starts it and listens for
/// progress. Killing nodetool therefore leaves the session running to its end,
/// and the session is what `repair_admin`, `stop VALIDATION` and later repairs
/// see. One session per repair command (per keyspace), with the parent session
/// UUID that nodetool prints in "Starting repair command #n (<uuid>)".
public struct RepairSession: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case running, completed, failed, cancelled
    }

    public var id: String
    public var command: Int
    public var coordinator: String
    public var keyspace: String
    /// (start, end] token ranges, as [start, end] pairs.
    public var ranges: [[Int64]]
    /// Every replica of the ranges, the coordinator included.
    public var participants: [String]
    public var incremental: Bool
    public var primaryRange: Bool
    public var startedAt: Double
    public var endsAt: Double
    public var state: State
    /// When the state last changed (repair_admin's "last activity").
    public var lastUpdate: Double
    /// The `repair-hang` fault: never completes on its own.
    public var hung = false
    /// Why it failed, in the words the coordinator reports to nodetool.
    public var failure: String?

    public var isRunning: Bool { state == .running }

    /// The sessions as `cassandra-sim repairs --json` prints them.
    public static func json(_ sessions: [RepairSession]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return ((try? encoder.encode(sessions)).map { String(decoding: $0, as: UTF8.self) } ?? "[]") + "\n"
    }

    /// repair_admin's state names (ConsistentSession.State): a running session is past
    /// its prepare phase and repairing; cancelled and failed sessions are both FAILED.
    public var consistentState: String {
        switch state {
        case .running: "REPAIRING"
        case .completed: "FINALIZED"
        case .failed, .cancelled: "FAILED"
        }
    }
}

extension SimulatedCluster {
    /// Sessions whose end time has come complete, whether or not a client is
    /// still listening. Every reader of the state calls this first.
    public mutating func settleRepairs(now: Double) {
        for i in repairSessions.indices where repairSessions[i].isRunning && !repairSessions[i].hung && repairSessions[i].endsAt <= now {
            repairSessions[i].state = .completed
            repairSessions[i].lastUpdate = repairSessions[i].endsAt
        }
    }

    /// Fails the running sessions `matching`, with the reason the coordinator reports.
    mutating func failRepairs(now: Double, as state: RepairSession.State = .failed, where matching: (RepairSession) -> Bool, reason: (RepairSession) -> String) {
        for i in repairSessions.indices where repairSessions[i].isRunning && matching(repairSessions[i]) {
            repairSessions[i].state = state
            repairSessions[i].lastUpdate = now
            repairSessions[i].failure = reason(repairSessions[i])
        }
    }

    /// An address as Cassandra's InetAddressAndPort prints it in repair messages (4.0+ always with the port).
    func endpoint(_ address: String) -> String {
        "/" + address + (version >= .v4_0 ? ":7000" : "")
    }
}
