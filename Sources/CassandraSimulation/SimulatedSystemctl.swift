import CassandraAgent

/// `systemctl` for the Cassandra unit of a simulated node. Starting reads the
/// node's rendered cassandra.yaml and cassandra-rackdc.properties and refuses,
/// as Cassandra would, a file its version cannot load.
public enum SimulatedSystemctl {
    public static let faultKinds = ["fail-start", "hang", "exit1", "garbage", "slow", "repair-fail", "repair-hang", "slow-start", "stream-stall", "stream-fail"]

    public static func run(_ arguments: [String], directory: SimulationDirectory, node address: String, now: Double) -> SimulatedOutput {
        let words = arguments.filter { !$0.hasPrefix("-") }
        guard let verb = words.first else { return SimulatedOutput(stderr: "Too few arguments.\n", exitCode: 1) }
        guard let unit = words.dropFirst().first else { return SimulatedOutput(stderr: "Too few arguments.\n", exitCode: 1) }
        guard unit == "cassandra" || unit == "cassandra.service" else {
            return SimulatedOutput(stderr: "Unit \(unit) could not be found.\n", exitCode: verb == "is-active" ? 4 : 5)
        }
        do {
            return try directory.withState { (cluster: inout SimulatedCluster) throws(SimulationError) -> SimulatedOutput in
                guard let index = cluster.nodes.firstIndex(where: { $0.address == address }) else {
                    throw SimulationError("no node \(address) in the simulated cluster")
                }
                let now = now + cluster.clockOffset
                cluster.settleStreams(now: now, directory: directory)
                // A stopped node's streams fail with it (settled again after the verb).
                defer { cluster.settleStreams(now: now, directory: directory) }
                switch verb {
                case "is-active":
                    let state = cluster.nodes[index].unitState
                    return SimulatedOutput(stdout: state + "\n", exitCode: state == "active" ? 0 : 3)
                case "start":
                    return start(&cluster, index, directory, now)
                case "stop":
                    stop(&cluster, index, now)
                    return SimulatedOutput()
                case "restart":
                    stop(&cluster, index, now)
                    return start(&cluster, index, directory, now)
                case "show":
                    let node = cluster.nodes[index]
                    let sub = node.unitState == "active" ? "running" : node.unitState == "failed" ? "failed" : "dead"
                    let pid = node.running ? 10_000 + index : 0
                    let started = node.running ? "ExecMainStartTimestamp=\(Timestamp.iso8601(Int64(node.startedAt > 0 ? node.startedAt : Double(node.generation))))" : "ExecMainStartTimestamp="
                    return SimulatedOutput(stdout: "ActiveState=\(node.unitState)\nSubState=\(sub)\nMainPID=\(pid)\n\(started)\n")
                default:
                    return SimulatedOutput(stderr: "Unknown command verb \(verb).\n", exitCode: 1)
                }
            }
        } catch {
            return SimulatedOutput(stderr: "cassandra-sim: \(error.message)\n", exitCode: 3)
        }
    }

    static func stop(_ cluster: inout SimulatedCluster, _ index: Int, _ now: Double) {
        guard cluster.nodes[index].running else {
            if cluster.nodes[index].unitState == "failed" { cluster.nodes[index].unitState = "inactive" }
            return
        }
        cluster.nodes[index].running = false
        cluster.nodes[index].events = (cluster.nodes[index].events ?? []) + [cluster.nodes[index].drained ? "stop" : "stop-undrained"]
        // Its repairs die with it: the coordinator's failure detector convicts it (RepairSession.convict).
        let address = cluster.nodes[index].address, endpoint = cluster.endpoint(address)
        cluster.settleRepairs(now: now)
        cluster.failRepairs(now: now, where: { $0.participants.contains(address) }) { _ in "Endpoint \(endpoint) died" }
        // A drained node already told its peers it was going.
        if !cluster.nodes[index].drained { cluster.nodes[index].stoppedAt = now }
        cluster.nodes[index].unitState = "inactive"
    }

    static func start(_ cluster: inout SimulatedCluster, _ index: Int, _ directory: SimulationDirectory, _ now: Double) -> SimulatedOutput {
        if cluster.nodes[index].running { return SimulatedOutput() }
        var problems = cluster.nodes[index].faults["fail-start"] != nil
            ? ["injected fault: the node fails to start"]
            : startupProblems(cluster, cluster.nodes[index], directory)
        // StorageService.checkForEndpointCollision / prepareToJoin: bootstrap state DECOMMISSIONED.
        if cluster.nodes[index].decommissioned {
            problems = ["This node was decommissioned and will not rejoin the ring unless cassandra.override_decommission=true has been set, or all existing data is removed and the node is bootstrapped again"]
        }
        guard problems.isEmpty else {
            cluster.nodes[index].unitState = "failed"
            let log = problems.map { "ERROR [main] CassandraDaemon.java:887 - Exception encountered during startup: \($0)\n" }.joined()
            try? FileIO.replace(directory.nodeDirectory(cluster.nodes[index].address) + "/system.log", Array(log.utf8), mode: 0o644)
            return SimulatedOutput(
                stderr: "Job for cassandra.service failed because the control process exited with error code.\nSee \"systemctl status cassandra.service\" and \"journalctl -xeu cassandra.service\" for details.\n",
                exitCode: 1)
        }
        cluster.nodes[index].running = true
        cluster.nodes[index].drained = false
        // LEAVING lived in gossip and in memory only: a restarted node is NORMAL again.
        cluster.nodes[index].leaving = false
        cluster.nodes[index].decommissionFailed = false
        cluster.nodes[index].gossipEnabled = true
        cluster.nodes[index].binaryEnabled = true
        cluster.nodes[index].startedAt = now
        cluster.nodes[index].stoppedAt = nil
        // A new gossip generation: the epoch second of this start.
        cluster.nodes[index].previousGeneration = cluster.nodes[index].generation
        cluster.nodes[index].generation = max(Int(now), cluster.nodes[index].generation + 1)
        cluster.nodes[index].events = (cluster.nodes[index].events ?? []) + ["start"]
        cluster.nodes[index].unitState = "active"
        return SimulatedOutput()
    }

    /// What Cassandra would refuse at start-up in the node's config directory.
    static func startupProblems(_ cluster: SimulatedCluster, _ node: SimulatedCluster.Node, _ directory: SimulationDirectory) -> [String] {
        let conf = directory.configDirectory(node.address)
        guard let yaml = try? FileIO.readText(conf + "/cassandra.yaml") else { return [] }
        var problems = CassandraYAMLChecker(version: cluster.version).problems(in: yaml).map { "cassandra.yaml line \($0.mark.line): \($0.message)" }
        guard problems.isEmpty, let root = try? YAMLParser.parse(yaml)?.value else { return problems }
        if case .string(let name) = root["cluster_name"] ?? .null, name != cluster.name {
            problems.append("Saved cluster name \(cluster.name) != configured name \(name)")
        }
        if root["endpoint_snitch"] == .string("GossipingPropertyFileSnitch") {
            let properties = JavaProperties.parse((try? FileIO.readText(conf + "/cassandra-rackdc.properties")) ?? "")
            let dc = properties.last { $0.0 == "dc" }?.1, rack = properties.last { $0.0 == "rack" }?.1
            if dc == nil || rack == nil {
                problems.append("DC or rack not found in snitch properties, check your configuration in: cassandra-rackdc.properties")
            } else if dc != node.datacenter {
                problems.append("Cannot start node if snitch's data center (\(dc!)) differs from previous data center (\(node.datacenter)).")
            } else if rack != node.rack {
                problems.append("Cannot start node if snitch's rack (\(rack!)) differs from previous rack (\(node.rack)).")
            }
        }
        return problems
    }
}
