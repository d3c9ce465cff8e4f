import CassandraAgent

/// What one simulated nodetool run prints, and how long it takes first.
public struct SimulatedOutput: Sendable, Equatable {
    public var stdout = ""
    public var stderr = ""
    public var exitCode: Int32 = 0
    /// Seconds to wait before printing: slow nodes, a hung JMX (infinity).
    public var delay: Double = 0
    /// Set while the command is still running after printing this (a repair listening
    /// for its session's end, a rebuild or decommission for its stream plan's): pass it
    /// to `SimulatedNodetool.resume` for the rest.
    public var waiting: NodetoolWait?

    static func usage(_ message: String) -> SimulatedOutput {
        SimulatedOutput(stdout: "nodetool: \(message)\nSee 'nodetool help' or 'nodetool help <command>'.\n", exitCode: 1)
    }

    /// The exit-2 form: root cause message, then a stack trace.
    static func server(_ message: String, exception: String = "java.lang.RuntimeException", frame: String, stdout: String = "") -> SimulatedOutput {
        let trace = "error: \(message)\n-- StackTrace --\n\(exception): \(message)\n\tat \(frame)\n"
            + "\tat org.apache.cassandra.tools.NodeTool$NodeToolCmd.runInternal(NodeTool.java:372)\n"
            + "\tat org.apache.cassandra.tools.NodeTool$NodeToolCmd.run(NodeTool.java:357)\n"
            + "\tat org.apache.cassandra.tools.NodeTool.execute(NodeTool.java:260)\n"
            + "\tat org.apache.cassandra.tools.NodeTool.main(NodeTool.java:83)\n\n"
        return SimulatedOutput(stdout: stdout, stderr: trace, exitCode: 2)
    }
}

/// `nodetool` as it behaves on one node of a simulated cluster: the real
/// output formats of the cluster's version, the real exit codes and error
/// texts, and the effects of operations on the shared state and data files.
public enum SimulatedNodetool {
    public static func run(_ arguments: [String], directory: SimulationDirectory, node address: String, now: Double) -> SimulatedOutput {
        do {
            return try directory.withState { (cluster: inout SimulatedCluster) throws(SimulationError) -> SimulatedOutput in
                guard let index = cluster.nodes.firstIndex(where: { $0.address == address }) else {
                    throw SimulationError("no node \(address) in the simulated cluster (nodes: \(cluster.nodes.map(\.address).joined(separator: ", ")))")
                }
                let now = now + cluster.clockOffset
                cluster.settleRepairs(now: now)
                cluster.settleStreams(now: now, directory: directory)
                return run(arguments, cluster: &cluster, index: index, directory: directory, now: now)
            }
        } catch {
            return SimulatedOutput(stderr: "cassandra-sim: \(error.message)\n", exitCode: 3)
        }
    }

    /// What a running command prints next, by `now` (wall clock; the cluster's offset is added).
    public static func resume(_ waiting: NodetoolWait, directory: SimulationDirectory, now: Double) -> SimulatedOutput {
        do {
            return try directory.withState { (cluster: inout SimulatedCluster) throws(SimulationError) -> SimulatedOutput in
                switch waiting {
                case .repair(let repair): SimulatedRepair.advance(repair, &cluster, now: now + cluster.clockOffset)
                case .stream(let stream): SimulatedStreaming.waitForPlan(stream, &cluster, directory: directory, now: now + cluster.clockOffset)
                }
            }
        } catch {
            return SimulatedOutput(stderr: "cassandra-sim: \(error.message)\n", exitCode: 3)
        }
    }

    static func run(_ rawArguments: [String], cluster: inout SimulatedCluster, index localIndex: Int, directory: SimulationDirectory, now: Double) -> SimulatedOutput {
        // Remote JMX: `-h ADDRESS` of another node runs the command as that node.
        let (host, port) = RemoteHost.find(in: rawArguments)
        let index = RemoteHost.target(host, local: localIndex, cluster)
        guard let index, cluster.nodes[index].running, !cluster.nodes[index].starting(cluster, at: now) else {
            let cause = cluster.version == .v3_11 ? "Connection refused (Connection refused)" : "Connection refused"
            return SimulatedOutput(stderr: "nodetool: Failed to connect to '\(host ?? "127.0.0.1"):\(port ?? "7199")' - ConnectException: '\(cause)'.\n", exitCode: 1)
        }
        let node = cluster.nodes[index]
        if node.faults["hang"] != nil { return SimulatedOutput(delay: .infinity) }
        if node.faults["exit1"] != nil { return .usage("Injected failure: JMX returned an error") }
        if node.faults["garbage"] != nil { return SimulatedOutput(stdout: "\u{1}\u{7f}garbage ☠ output\nnot: nodetool\n\t\t?\n") }
        let slow = node.faults["slow"] ?? 0

        var arguments: [String] = []
        var printPort = false
        var skip = false
        for (i, argument) in rawArguments.enumerated() {
            if skip { skip = false; continue }
            switch argument {
            case "-h", "--host", "-p", "--port", "-u", "--username", "-pw", "--password", "-pwf", "--password-file":
                skip = i + 1 < rawArguments.count
            case "-pp", "--print-port":
                // 3.11 has no such flag: airline rejects it like any unknown word.
                guard cluster.version >= .v4_0 else { return .usage("Found unexpected parameters: [\(argument)]") }
                printPort = true
            default:
                arguments.append(argument)
            }
        }
        guard let command = arguments.first else {
            return SimulatedOutput(stdout: "usage: nodetool [(-h <host> | --host <host>)] <command> [<args>]\n", exitCode: 1)
        }
        let args = Array(arguments.dropFirst())
        let format = NodetoolFormatters(cluster: cluster, observer: node.address, now: now, printPort: printPort)
        var result: SimulatedOutput
        switch command {
        case "status":
            let (text, exit) = format.status(keyspace: args.first { !$0.hasPrefix("-") })
            result = SimulatedOutput(stdout: text, exitCode: exit)
        case "info":
            result = SimulatedOutput(stdout: format.info(node, tokens: args.contains("-T") || args.contains("--tokens")))
        case "gossipinfo":
            result = SimulatedOutput(stdout: format.gossipInfo())
        case "describecluster":
            result = SimulatedOutput(stdout: format.describeCluster())
        case "describering":
            result = describeRing(args, cluster, format)
        case "version":
            var text = "ReleaseVersion: \(cluster.release)\n"
            if cluster.version == .v5_0, args.contains("-v") || args.contains("--verbose") { text += "GitSHA: b9a5d15deec81295113cdc703d5acda423d8a688\n" }
            result = SimulatedOutput(stdout: text)
        case "statusbinary":
            result = SimulatedOutput(stdout: node.binaryEnabled && !node.drained ? "running\n" : "not running\n")
        case "statusgossip":
            result = SimulatedOutput(stdout: node.gossipEnabled && !node.drained ? "running\n" : "not running\n")
        case "enablebinary", "disablebinary", "enablegossip", "disablegossip":
            if node.drained { return .server("Cannot \(command) after drain", exception: "java.lang.IllegalStateException", frame: "org.apache.cassandra.service.StorageService.\(command)(StorageService.java:412)") }
            if command.hasSuffix("binary") { cluster.nodes[index].binaryEnabled = command.hasPrefix("enable") }
            if command.hasSuffix("gossip") {
                cluster.nodes[index].gossipEnabled = command.hasPrefix("enable")
                if command == "disablegossip" { cluster.nodes[index].stoppedAt = now } else { cluster.nodes[index].startedAt = now }
            }
            result = SimulatedOutput()
        case "netstats":
            result = SimulatedOutput(stdout: format.netstats(node, humanReadable: args.contains("-H") || args.contains("--human-readable")))
        case "rebuild":
            result = SimulatedRebuild.run(args, &cluster, index: index, directory: directory, now: now)
        case "decommission":
            result = SimulatedDecommission.run(args, &cluster, index: index, directory: directory, now: now)
        case "compactionstats":
            result = SimulatedOutput(stdout: format.compactionStats(node))
        case "stop":
            // `stop VALIDATION` interrupts the node's validation compactions, failing its repair sessions.
            if args.contains("VALIDATION") { SimulatedRepair.stopValidation(&cluster, node: node.address, now: now) }
            result = SimulatedOutput()
        case "repair_admin" where cluster.version >= .v4_0:
            result = SimulatedRepairAdmin.run(args, &cluster, index: index, now: now)
        case "drain":
            if !node.drained {
                cluster.nodes[index].drained = true
                cluster.nodes[index].stoppedAt = now
                cluster.nodes[index].events = (node.events ?? []) + ["drain"]
            }
            result = SimulatedOutput()
        case "flush":
            result = flush(args, &cluster, index, directory)
        case "compact":
            result = flush(args, &cluster, index, directory, compact: true)
        case "repair":
            result = SimulatedRepair.run(args, &cluster, index: index, now: now)
        case "snapshot":
            result = SimulatedSnapshots.snapshot(args, &cluster, index: index, directory: directory, now: now)
        case "listsnapshots":
            result = SimulatedSnapshots.list(args, cluster, index: index, directory: directory)
        case "clearsnapshot":
            result = SimulatedSnapshots.clear(args, cluster, index: index, directory: directory)
        case "reloadssl" where cluster.version >= .v4_0:
            cluster.nodes[index].reloadSSLCount += 1
            result = SimulatedOutput()
        case "import" where cluster.version >= .v4_0:
            result = SimulatedSnapshots.importSSTables(args, &cluster, index: index, directory: directory)
        case "refresh":
            result = SimulatedOutput(stdout: cluster.version >= .v4_0 ? "nodetool refresh is deprecated, use nodetool import instead\n" : "")
        default:
            if command.hasPrefix("set"), CassandraSchema.of(cluster.version).settings.contains(where: { $0.nodetool.contains(command) }) {
                guard !args.isEmpty else { return .usage("\(command) needs a value") }
                cluster.nodes[index].liveCommands.append(([command] + args).joined(separator: " "))
                result = SimulatedOutput()
            } else {
                // airline lists every word it could not place, the unknown command first.
                return .usage("Found unexpected parameters: [\(arguments.joined(separator: ", "))]")
            }
        }
        result.delay += slow
        return result
    }

    static func describeRing(_ args: [String], _ cluster: SimulatedCluster, _ format: NodetoolFormatters) -> SimulatedOutput {
        guard let name = args.first else { return .usage("Missing required parameter: keyspace") }
        let header = "Schema Version:\(cluster.schemaVersion)\nTokenRange: \n"
        guard let keyspace = cluster.keyspaces.first(where: { $0.name == name }) else {
            return .server("No such keyspace: \(name)", exception: "java.io.IOException", frame: "org.apache.cassandra.tools.NodeProbe.describeRing(NodeProbe.java:1008)", stdout: header)
        }
        guard keyspace.strategy != "LocalStrategy" else {
            return .server("There is no ring for the keyspace: \(name)", exception: "java.io.IOException", frame: "org.apache.cassandra.tools.NodeProbe.describeRing(NodeProbe.java:1008)", stdout: header)
        }
        return SimulatedOutput(stdout: format.describeRing(keyspace))
    }

    static func flush(_ args: [String], _ cluster: inout SimulatedCluster, _ index: Int, _ directory: SimulationDirectory, compact: Bool = false) -> SimulatedOutput {
        if cluster.nodes[index].drained {
            // The simulation's stand-in for a drained node refusing writes until it restarts.
            return .server("Node is drained: it accepts no writes until restarted", exception: "java.lang.IllegalStateException", frame: "org.apache.cassandra.db.ColumnFamilyStore.forceFlush(ColumnFamilyStore.java:1003)")
        }
        var keyspaces = cluster.keyspaces
        if let name = args.first {
            guard let keyspace = cluster.keyspaces.first(where: { $0.name == name }) else { return .usage("Keyspace [\(name)] does not exist.") }
            keyspaces = [keyspace]
        }
        let files = cluster.dataFiles(directory.dataDirectory(cluster.nodes[index].address))
        var generation = cluster.nodes[index].sstableGeneration
        do {
            try files.ensureData(cluster, node: cluster.nodes[index], nextGeneration: &generation)
            if compact { try files.compact(keyspaces, nextGeneration: &generation) } else { try files.flush(keyspaces, nextGeneration: &generation) }
        } catch {
            return .server(error.description, exception: "java.io.IOException", frame: "org.apache.cassandra.db.ColumnFamilyStore.forceFlush(ColumnFamilyStore.java:1003)")
        }
        cluster.nodes[index].sstableGeneration = generation
        return SimulatedOutput()
    }
}
