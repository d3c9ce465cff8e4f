import ArgumentParser
import CassandraAgent
import CassandraSimulation

/// Runs `body` on the cluster in `dir` under its lock, with the cluster's time, the
/// streams settled up to it, and a simulation error as the command's error.
func withCluster<T>(_ dir: String, _ body: (inout SimulatedCluster, Double, SimulationDirectory) throws(SimulationError) -> T) throws -> T {
    let directory = SimulationDirectory(dir)
    do {
        return try directory.withState { (cluster: inout SimulatedCluster) throws(SimulationError) -> T in
            let now = wallClockSeconds() + cluster.clockOffset
            cluster.settleStreams(now: now, directory: directory)
            return try body(&cluster, now, directory)
        }
    } catch {
        throw ValidationError(error.description)
    }
}

func nodeIndex(_ address: String, in cluster: SimulatedCluster) throws(SimulationError) -> Int {
    guard let index = cluster.nodes.firstIndex(where: { $0.address == address }) else { throw SimulationError("no node \(address)") }
    return index
}

struct Streams: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the stream plans (rebuild, bootstrap, decommission) the servers run or ran (they outlive a killed nodetool).")

    @Option(help: "The cluster directory.") var dir: String
    @Flag(help: "Print them as JSON.") var json = false

    func run() throws {
        let plans = try withCluster(dir) { cluster, _, _ in cluster.streamPlans }
        if json {
            FileIO.writeAll(fd: 1, StreamPlan.json(plans))
            return
        }
        for p in plans {
            let peers = p.sessions.map(\.peer).joined(separator: ",")
            print("\(p.id)\t\(p.operation.rawValue)\t\(p.owner)\t\(p.state.rawValue)\t\(Int(p.progress * 100))%\t\(p.bytes) bytes\t\(peers)\(p.failure.map { "\t\($0)" } ?? "")")
        }
    }
}

struct StreamRate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stream-rate", abstract: "Set how fast rebuilds and decommissions stream, running ones included (bytes per second).")

    @Option(help: "The cluster directory.") var dir: String
    @Argument(help: "Bytes per second.") var bytesPerSecond: Double

    func run() throws {
        guard bytesPerSecond > 0 else { throw ValidationError("the rate must be more than 0") }
        try withCluster(dir) { cluster, now, directory in cluster.setStreamRate(bytesPerSecond, now: now, directory: directory) }
    }
}

struct AvailableRanges: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "available-ranges",
        abstract: "Print a node's system.available_ranges: KEYSPACE<TAB>(start,end] per range a rebuild recorded as streamed.")

    @Option(help: "The cluster directory.") var dir: String
    @Argument(help: "The node's address.") var node: String

    func run() throws {
        let ranges = try withCluster(dir) { (cluster, _, _) throws(SimulationError) in cluster.nodes[try nodeIndex(node, in: cluster)].availableRanges }
        for (keyspace, list) in ranges.sorted(by: { $0.key < $1.key }) {
            for range in list { print("\(keyspace)\t(\(range[0]),\(range[1])]") }
        }
    }
}

struct ClearAvailableRanges: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear-available-ranges",
        abstract: "Delete a keyspace's rows of a node's system.available_ranges (the manual fix after a rebuild from the wrong datacenter).")

    @Option(help: "The cluster directory.") var dir: String
    @Argument(help: "The node's address.") var node: String
    @Argument(help: "The keyspace.") var keyspace: String

    func run() throws {
        try withCluster(dir) { (cluster, _, _) throws(SimulationError) in cluster.nodes[try nodeIndex(node, in: cluster)].availableRanges[keyspace] = nil }
    }
}

struct Bootstrap: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make a node bootstrap for some seconds: UJ in status, Mode JOINING and a Bootstrap stream in netstats; then NORMAL.")

    @Option(help: "The cluster directory.") var dir: String
    @Argument(help: "The node's address.") var node: String
    @Option(help: "How long the bootstrap streams.") var seconds = 10.0

    func run() throws {
        try withCluster(dir) { (cluster, now, directory) throws(SimulationError) in try cluster.startBootstrap(node, seconds: seconds, now: now, directory: directory) }
    }
}

struct KeyspaceReplication: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyspace",
        abstract: "ALTER KEYSPACE: give a keyspace a new replication (DC1:3,DC2:3 for NetworkTopologyStrategy, replication_factor:N for SimpleStrategy).")

    @Option(help: "The cluster directory.") var dir: String
    @Argument(help: "The keyspace.") var name: String
    @Option(help: "DC:RF pairs, comma-separated, or replication_factor:N.") var replication: String

    func run() throws {
        try withCluster(dir) { (cluster, _, _) throws(SimulationError) in try cluster.alterKeyspace(name, replication: replication) }
    }
}
