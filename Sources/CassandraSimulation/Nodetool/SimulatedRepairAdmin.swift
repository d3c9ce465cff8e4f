import CassandraAgent

/// `nodetool repair_admin` (4.0+), which lists and cancels the incremental
/// ("consistent") repair sessions a node holds in its LocalSessions: one per
/// session it takes part in, coordinator or not. Full repairs have no such
/// session and never appear.
///
/// Formats, from org/apache/cassandra/tools/nodetool/RepairAdmin.java (4.0, 4.1
/// and 5.0 share them; 5.0 only widens `now` to a long) and NodeTool.java, which
/// registers `repair_admin` as an airline group whose default command is
/// `list`, so bare `repair_admin` lists:
/// * `list [-a|--all] [-st T -et T]`: "no sessions", or a table whose header is
///   `id | state | last activity | coordinator | participants | participants_wp`,
///   every cell left-justified to its column's widest cell (`%-Ns`, the last
///   column too) and joined by " | ". Values come from LocalSessionInfo:
///   state is ConsistentSession.State (PREPARING, PREPARED, REPAIRING,
///   FINALIZE_PROMISED, FINALIZED, FAILED), last activity is
///   `<nowInSeconds - lastUpdate> (s)`, coordinator is InetAddressAndPort's
///   toString (`/10.0.0.1:7000`), participants joins the host addresses with
///   ",", participants_wp the `host:port` forms. Without --all, completed
///   sessions (FINALIZED, FAILED) are left out.
/// * `cancel -s|--session <id> [-f|--force]` prints nothing. LocalSessions.cancelSession
///   refuses, with IllegalArgumentExceptions (nodetool's stdout usage form, exit 1):
///   `Session {} does not exist [<id>]` (Guava's Preconditions leaves the `{}` and
///   appends the argument), `Cancel session <id> from it's coordinator (<coordinator>)
///   or use --force`, and, from setStateAndSave, `Invalid state transition FINALIZED -> FAILED`.
///   Cancelling a FAILED session again is allowed and silent.
enum SimulatedRepairAdmin {
    static func run(_ args: [String], _ cluster: inout SimulatedCluster, index: Int, now: Double) -> SimulatedOutput {
        let address = cluster.nodes[index].address
        let subcommand = args.first.flatMap { $0.hasPrefix("-") ? nil : $0 } ?? "list"
        let options = args.first == subcommand ? Array(args.dropFirst()) : args
        switch subcommand {
        case "list":
            let all = options.contains("-a") || options.contains("--all")
            return SimulatedOutput(stdout: list(cluster, node: address, all: all, now: now))
        case "cancel":
            var id: String?, force = false
            var i = 0
            while i < options.count {
                switch options[i] {
                case "-s", "--session": id = i + 1 < options.count ? options[i + 1] : nil; i += 1
                case "-f", "--force": force = true
                default: return .usage("Found unexpected parameters: [\(options[i...].joined(separator: ", "))]")
                }
                i += 1
            }
            guard let id else { return .usage("Required option '-s' is missing") }
            return cancel(&cluster, node: address, id: id, force: force, now: now)
        case "cleanup", "summarize-pending", "summarize-repaired":
            return SimulatedOutput(stderr: "cassandra-sim: repair_admin \(subcommand) is not simulated\n", exitCode: 3)
        default:
            return .usage("Found unexpected parameters: [\(args.joined(separator: ", "))]")
        }
    }

    /// The node's consistent sessions: incremental ones it takes part in.
    static func localSessions(_ cluster: SimulatedCluster, node: String) -> [RepairSession] {
        cluster.repairSessions.filter { $0.incremental && $0.participants.contains(node) }
    }

    static func list(_ cluster: SimulatedCluster, node: String, all: Bool, now: Double) -> String {
        let sessions = localSessions(cluster, node: node).filter { all || $0.isRunning }
        guard !sessions.isEmpty else { return "no sessions\n" }
        var rows = [["id", "state", "last activity", "coordinator", "participants", "participants_wp"]]
        for session in sessions.sorted(by: { $0.startedAt < $1.startedAt }) {
            rows.append([
                session.id, session.consistentState, "\(Int(now) - Int(session.lastUpdate)) (s)", "/\(session.coordinator):7000",
                session.participants.joined(separator: ","), session.participants.map { "\($0):7000" }.joined(separator: ","),
            ])
        }
        return ColumnTable.format(rows, delimiter: " | ").map { $0 + "\n" }.joined()
    }

    static func cancel(_ cluster: inout SimulatedCluster, node: String, id: String, force: Bool, now: Double) -> SimulatedOutput {
        guard let session = localSessions(cluster, node: node).first(where: { $0.id == id.lowercased() }) else {
            return .usage("Session {} does not exist [\(id)]")
        }
        guard force || session.coordinator == node else {
            return .usage("Cancel session \(session.id) from it's coordinator (/\(session.coordinator):7000) or use --force")
        }
        switch session.state {
        case .completed:
            return .usage("Invalid state transition FINALIZED -> FAILED")
        case .failed, .cancelled:
            return SimulatedOutput()
        case .running:
            // The coordinator's session then fails its finalize phase (CoordinatorSession.fail()).
            cluster.failRepairs(now: now, as: .cancelled, where: { $0.id == session.id }) { _ in "Incremental repair session \(session.id) has failed" }
            return SimulatedOutput()
        }
    }
}
