import ArgumentParser
import CassandraAgent
import CassandraSimulation

#if canImport(Glibc)
import Glibc
#endif

/// The simulated cluster's command line. `nodetool` and `systemctl` take their
/// own arguments verbatim (nodetool's `-h` is a host, not help), so they are
/// dispatched before argument parsing; so is a symlink named nodetool or
/// systemctl, which takes the cluster and node from CASSANDRA_SIM_DIR and
/// CASSANDRA_SIM_NODE.
@main
enum CassandraSimMain {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let invokedAs = FileIO.baseName(CommandLine.arguments.first ?? "")
        if invokedAs == "nodetool" || invokedAs == "systemctl" { arguments.insert(invokedAs, at: 0) }
        if let tool = arguments.first, tool == "nodetool" || tool == "systemctl" {
            exit(passthrough(tool, Array(arguments.dropFirst())))
        }
        CassandraSim.main(arguments)
    }

    static func passthrough(_ tool: String, _ arguments: [String]) -> Int32 {
        var dir = getenv("CASSANDRA_SIM_DIR").map { String(cString: $0) }
        var node = getenv("CASSANDRA_SIM_NODE").map { String(cString: $0) }
        var rest: [String] = []
        var i = 0
        while i < arguments.count {
            if (arguments[i] == "--dir" || arguments[i] == "--node"), i + 1 < arguments.count, rest.isEmpty {
                if arguments[i] == "--dir" { dir = arguments[i + 1] } else { node = arguments[i + 1] }
                i += 2
                continue
            }
            rest.append(arguments[i])
            i += 1
        }
        guard let dir, let node else {
            FileIO.writeAll(fd: 2, "cassandra-sim \(tool): give --dir DIR --node ADDRESS (or CASSANDRA_SIM_DIR and CASSANDRA_SIM_NODE)\n")
            return 3
        }
        let directory = SimulationDirectory(dir)
        let now = wallClockSeconds()
        var output = tool == "nodetool"
            ? SimulatedNodetool.run(rest, directory: directory, node: node, now: now)
            : SimulatedSystemctl.run(rest, directory: directory, node: node, now: now)
        while true {
            wait(seconds: output.delay)
            FileIO.writeAll(fd: 1, output.stdout)
            FileIO.writeAll(fd: 2, output.stderr)
            // A repair listens until its session ends on the server, a rebuild or decommission
            // until its stream plan does; killing this process leaves them running.
            guard let waiting = output.waiting else { return output.exitCode }
            wait(seconds: 0.05)
            output = SimulatedNodetool.resume(waiting, directory: directory, now: wallClockSeconds())
        }
    }

    /// Slow nodes and repairs take real time; a hung JMX never answers.
    static func wait(seconds: Double) {
        guard seconds > 0 else { return }
        if seconds.isInfinite {
            while true { pause() }
        }
        var remaining = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var left = timespec()
        while nanosleep(&remaining, &left) != 0 && errno == EINTR { remaining = left }
    }
}

struct CassandraSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cassandra-sim",
        abstract: "A simulated Cassandra cluster: nodetool and systemctl that behave like the real ones, for tests and the demo.",
        discussion: """
        cassandra-sim nodetool --dir DIR --node ADDRESS ARGS...    nodetool on one node (real output formats)
        cassandra-sim systemctl --dir DIR --node ADDRESS ARGS...   systemctl for that node's cassandra.service
        """,
        subcommands: [Init.self, Fault.self, Nodes.self, Clock.self, Repairs.self, PendingCompactions.self, Patch.self,
                      Streams.self, StreamRate.self, AvailableRanges.self, ClearAvailableRanges.self, Bootstrap.self, KeyspaceReplication.self])
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a simulated cluster in a directory.")

    @Option(help: "The cluster directory.") var dir: String
    @Option(help: "Cassandra version: 3.11, 4.0, 4.1 or 5.0.") var version: String
    @Option(help: "Datacenters as NAME:RACKSxNODES, comma-separated (e.g. WESTUS:3x2,EASTUS:3x2).") var datacenters: String
    @Option(help: "The cluster name.") var name = "SimCluster"
    @Option(name: .customLong("gossip-delay"), help: "Seconds before peers see a node go down or come up.") var gossipDelay = 1.0
    @Option(name: .customLong("repair-seconds"), help: "How long a repair of one keyspace takes.") var repairSeconds = 1.0
    @Option(name: .customLong("start-seconds"), help: "How long a start takes before the node is UN (peers add the gossip delay).") var startSeconds = 0.0
    @Option(name: .customLong("sstable-bytes"), help: "Size of each SSTable's Data.db (hundreds of MiB for benchmarks).") var sstableBytes = 16_384
    @Option(name: .customLong("stream-bytes-per-second"), help: "How fast rebuilds and decommissions stream (default 500000000: a node's data in about 3 s).") var streamBytesPerSecond = 500_000_000.0
    @Option(name: .customLong("new-datacenter"), help: "A datacenter of --datacenters that has just joined: no user data on its nodes, no user keyspace replicating to it.") var newDatacenter: String?

    func run() throws {
        guard let cassandra = CassandraVersion(rawValue: version) else {
            throw ValidationError("--version must be one of 3.11, 4.0, 4.1, 5.0")
        }
        guard streamBytesPerSecond > 0 else { throw ValidationError("--stream-bytes-per-second must be more than 0") }
        let directory = SimulationDirectory(dir)
        do {
            var cluster = try SimulatedCluster.make(
                name: name, version: cassandra, datacenters: datacenters, gossipDelay: gossipDelay, repairSeconds: repairSeconds,
                now: wallClockSeconds(), newDatacenter: newDatacenter)
            if startSeconds > 0 { cluster.startSeconds = startSeconds }
            cluster.sstableBytes = sstableBytes
            cluster.streamBytesPerSecond = streamBytesPerSecond
            try directory.create(cluster, simulator: CommandLine.arguments[0])
            print("created \(cluster.nodes.count) nodes of Cassandra \(cluster.release) in \(dir):")
            for node in cluster.nodes { print("  \(node.address)  \(node.datacenter)  \(node.rack)  \(directory.nodeDirectory(node.address))") }
        } catch {
            throw ValidationError(error.description)
        }
    }
}

struct Fault: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inject a fault into a node: fail-start, hang, exit1, garbage, slow (--seconds), repair-fail or repair-hang (its repairs never end, its nodetool repair never returns), stream-stall (its streams stop moving) or stream-fail (its streams fail); --clear removes it.")

    @Option(help: "The cluster directory.") var dir: String
    @Option(help: "The node's address.") var node: String
    @Argument(help: "The fault, or 'all' with --clear.") var kind: String
    @Option(help: "For 'slow': the delay of every nodetool answer.") var seconds = 5.0
    @Flag(help: "Remove the fault instead.") var clear = false

    func run() throws {
        guard SimulatedSystemctl.faultKinds.contains(kind) || (clear && kind == "all") else {
            throw ValidationError("unknown fault '\(kind)'; one of \(SimulatedSystemctl.faultKinds.joined(separator: ", "))")
        }
        let value: Double? = clear ? nil : kind == "slow" || kind == "slow-start" ? seconds : 1
        try withCluster(dir) { (cluster, now, directory) throws(SimulationError) in try cluster.setFault(kind, value: value, on: node, now: now, directory: directory) }
    }
}

struct Nodes: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the nodes and what their processes are doing.")

    @Option(help: "The cluster directory.") var dir: String

    func run() throws {
        do {
            let cluster = try SimulationDirectory(dir).load()
            for node in cluster.nodes {
                let mode = node.decommissioned ? "decommissioned" : node.leaving ? "leaving" : node.joining ? "joining" : node.drained ? "drained" : "running"
                let state = node.running ? mode : node.unitState
                let faults = node.faults.keys.sorted().joined(separator: ",")
                print("\(node.address)\t\(node.datacenter)\t\(node.rack)\t\(state)\(faults.isEmpty ? "" : "\tfaults: \(faults)")")
            }
        } catch {
            throw ValidationError(error.description)
        }
    }
}

struct Clock: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Move the simulated cluster's clock forward (gossip delays pass without waiting).")

    @Option(help: "The cluster directory.") var dir: String
    @Option(help: "Seconds to add.") var advance: Double

    func run() throws {
        do {
            try SimulationDirectory(dir).withState { (cluster: inout SimulatedCluster) throws(SimulationError) in
                cluster.clockOffset += advance
            }
        } catch {
            throw ValidationError(error.description)
        }
    }
}

struct Repairs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the repair sessions the servers run or ran (they outlive a killed nodetool).")

    @Option(help: "The cluster directory.") var dir: String
    @Flag(help: "Print them as JSON.") var json = false

    func run() throws {
        do {
            let sessions = try SimulationDirectory(dir).withState { (cluster: inout SimulatedCluster) throws(SimulationError) -> [RepairSession] in
                cluster.settleRepairs(now: wallClockSeconds() + cluster.clockOffset)
                return cluster.repairSessions
            }
            if json {
                FileIO.writeAll(fd: 1, RepairSession.json(sessions))
                return
            }
            for s in sessions {
                let kind = s.incremental ? "incremental" : "full"
                print("\(s.id)\t#\(s.command)\t\(s.coordinator)\t\(s.keyspace)\t\(kind)\t\(s.state.rawValue)\t\(Timestamp.iso8601(Int64(s.startedAt)))\t\(Timestamp.iso8601(Int64(s.endsAt)))\(s.hung ? "\thung" : "")")
            }
        } catch let error as SimulationError {
            throw ValidationError(error.description)
        }
    }
}

struct PendingCompactions: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pending-compactions", abstract: "Set the pending compaction tasks a node's compactionstats shows.")

    @Option(help: "The cluster directory.") var dir: String
    @Argument(help: "The node's address.") var node: String
    @Argument(help: "Pending tasks.") var count: Int

    func run() throws {
        guard count >= 0 else { throw ValidationError("the count must be 0 or more") }
        do {
            try SimulationDirectory(dir).withState { (cluster: inout SimulatedCluster) throws(SimulationError) in
                guard let index = cluster.nodes.firstIndex(where: { $0.address == node }) else { throw SimulationError("no node \(node)") }
                cluster.nodes[index].pendingCompactions = count
            }
        } catch {
            throw ValidationError(error.description)
        }
    }
}

struct Patch: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The patch command of a simulated node: records a patch (the node must be stopped, as in a patch window); --fail makes it fail.")

    @Option(help: "The cluster directory.") var dir: String
    @Option(help: "The node's address.") var node: String
    @Flag(help: "Fail, as a package manager that cannot install.") var fail = false

    func run() throws {
        do {
            try SimulationDirectory(dir).withState { (cluster: inout SimulatedCluster) throws(SimulationError) in
                guard let index = cluster.nodes.firstIndex(where: { $0.address == node }) else { throw SimulationError("no node \(node)") }
                cluster.nodes[index].events = (cluster.nodes[index].events ?? []) + [cluster.nodes[index].running ? "patch-while-running" : "patch"]
            }
        } catch {
            throw ValidationError(error.description)
        }
        if fail { throw ValidationError("E: the simulated package manager failed") }
    }
}
