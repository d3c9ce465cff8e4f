import CassandraAgent

/// `nodetool repair` on a simulated node: the version's option list, sessions
/// per replica set, the time the repair takes, and failure when a replica is
/// down (or a fault says so), in the version's words.
enum SimulatedRepair {
    static func run(_ args: [String], _ cluster: inout SimulatedCluster, index: Int, format: NodetoolFormatters, now: Double) -> SimulatedOutput {
        var primaryRange = false, full = false, keyspaceNames: [String] = []
        var i = 0
        while i < args.count {
            switch args[i] {
            case "-pr", "--partitioner-range": primaryRange = true
            case "-full", "--full": full = true
            case "-inc", "-seq", "--sequential", "-dcpar", "--dc-parallel", "-tr", "--trace", "-os", "--optimise-streams": break
            case "-st", "-et", "-j", "--job-threads", "-dc", "--in-dc", "-hosts", "--in-hosts": i += 1
            default: keyspaceNames.append(args[i])
            }
            i += 1
        }
        let node = cluster.nodes[index]
        if node.drained {
            return .server("Node is drained: it accepts no writes until restarted", exception: "java.lang.IllegalStateException", frame: "org.apache.cassandra.service.StorageService.repair(StorageService.java:3817)")
        }
        var keyspaces: [SimulatedCluster.Keyspace] = []
        if let name = keyspaceNames.first {
            guard let keyspace = cluster.keyspaces.first(where: { $0.name == name }) else { return .usage("Keyspace [\(name)] does not exist.") }
            keyspaces = [keyspace]
        } else {
            keyspaces = cluster.keyspaces.filter { $0.strategy != "LocalStrategy" && $0.name != "system_distributed" }
        }
        let version = cluster.version
        let ring = TokenRing(cluster)
        var out = "", clock = now
        var delay = 0.0
        func line(_ message: String) {
            out += "[\(stamp(clock))] \(message)\n"
        }
        for keyspace in keyspaces {
            let rf = keyspace.replication.values.reduce(0, +)
            if rf <= 1 {
                line("Replication factor is 1. No repair is needed for keyspace '\(keyspace.name)'")
                continue
            }
            cluster.repairCommands += 1
            let command = cluster.repairCommands
            var random = SeededRandom(seed: UInt64(command) ^ keyspace.name.hashValueStable)
            let ranges = ring.ranges.filter { range in
                let replicas = ring.replicas(of: range, keyspace: keyspace)
                return primaryRange ? ring.primary(of: range).address == node.address : replicas.contains { $0.address == node.address }
            }
            line("Starting repair command #\(command) (\(random.uuid())), repairing keyspace \(keyspace.name) with repair options (\(options(version: version, primaryRange: primaryRange, incremental: !full, ranges: ranges.count)))")
            let replicas = Set(ranges.flatMap { ring.replicas(of: $0, keyspace: keyspace).map(\.address) })
            let down = cluster.nodes.first { replicas.contains($0.address) && !format.seenUp($0) }
            if down != nil || node.faults["repair-fail"] != nil {
                let who = down.map { "/\($0.address)" + (version >= .v4_0 ? ":7000" : "") } ?? "/127.0.0.1"
                let reason = down != nil ? "Endpoint not alive: \(who)" : "Repair session failed: injected fault"
                clock += 0.05
                line("Repair command #\(command) failed with error \(reason)")
                let failedLine = "[\(stamp(clock))] Repair command #\(command) failed with error \(reason)"
                line("Repair command #\(command) finished with error")
                let message = version == .v3_11
                    ? "Repair job has failed with the error message: \(failedLine)"
                    : "Repair job has failed with the error message: Repair command #\(command) failed with error \(reason). Check the logs on the repair participants for further details"
                var failure = SimulatedOutput.server(message, frame: "org.apache.cassandra.tools.RepairRunner.progress(RepairRunner.java:137)", stdout: out)
                failure.delay = delay + 0.05
                return failure
            }
            // Sessions group ranges with the same replicas; the repair's time is spread over them.
            var sessions: [[TokenRing.Range]] = []
            var keys: [[String]] = []
            for range in ranges {
                let key = ring.replicas(of: range, keyspace: keyspace).map(\.address).sorted()
                if let at = keys.firstIndex(of: key) { sessions[at].append(range) } else { keys.append(key); sessions.append([range]) }
            }
            let step = cluster.repairSeconds / Double(max(1, sessions.count))
            for (n, session) in sessions.enumerated() {
                clock += step
                delay += step
                let progress: Int
                switch version {
                case .v3_11: progress = (4 + n + 1) * 100 / (4 + ranges.count)
                case .v4_0: progress = (3 + n + 1) * 100 / (4 + ranges.count)
                default: progress = 57
                }
                let text = session.map { "(\($0.start),\($0.end)]" }.joined(separator: ", ")
                line("Repair session \(random.uuid()) for range [\(text)] finished (progress: \(progress)%)")
            }
            line("Repair completed successfully")
            line("Repair command #\(command) finished in \(words(Int(step * Double(sessions.count))))")
            if version >= .v4_0 {
                line("condition satisfied queried for parent session status and discovered repair completed.")
                line("Repair completed successfully")
            }
        }
        return SimulatedOutput(stdout: out, delay: delay)
    }

    static func options(version: CassandraVersion, primaryRange: Bool, incremental: Bool, ranges: Int) -> String {
        var parts = ["parallelism: parallel", "primary range: \(primaryRange)", "incremental: \(incremental)", "job threads: 1",
                     "ColumnFamilies: []", "dataCenters: []", "hosts: []"]
        if version >= .v4_0 { parts.append("previewKind: NONE") }
        parts += ["# of ranges: \(ranges)", "pull repair: false"]
        if version >= .v4_0 { parts += ["force repair: false", "optimise streams: false"] }
        parts.append("ignore unreplicated keyspaces: false")
        if version >= .v4_1 { parts += ["repairPaxos: true", "paxosOnly: false"] }
        return parts.joined(separator: ", ")
    }

    /// DurationFormatUtils.formatDurationWords: "4 seconds", "1 minute 12 seconds".
    static func words(_ seconds: Int) -> String {
        func unit(_ n: Int, _ name: String) -> String { "\(n) \(name)\(n == 1 ? "" : "s")" }
        if seconds < 60 { return unit(seconds, "second") }
        let minutes = seconds / 60, rest = seconds % 60
        if minutes < 60 { return rest == 0 ? unit(minutes, "minute") : "\(unit(minutes, "minute")) \(unit(rest, "second"))" }
        return "\(unit(minutes / 60, "hour")) \(unit(minutes % 60, "minute")) \(unit(rest, "second"))"
    }

    /// `yyyy-MM-dd HH:mm:ss,SSS`, as repair prints its lines.
    static func stamp(_ seconds: Double) -> String {
        let iso = Timestamp.iso8601(Int64(seconds.rounded(.down)))
        let millis = Int((seconds - seconds.rounded(.down)) * 1000)
        let digits = String(millis)
        return iso.dropLast().replacing("T", with: " ") + "," + String(repeating: "0", count: 3 - digits.count) + digits
    }
}
