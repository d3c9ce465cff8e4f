import CassandraAgent

/// Where a running `nodetool repair` client stands: the session it is listening
/// to and the keyspaces nodetool has still to start (nodetool starts one repair
/// command per keyspace, each after the previous one ended, so a killed client
/// starts no further keyspace while the running session carries on server-side).
public struct RepairWait: Sendable, Equatable {
    var coordinator: String
    var sessionID: String?
    var remaining: [String]
    var primaryRange: Bool
    var full: Bool
}

/// `nodetool repair` on a simulated node: the version's option list, sessions
/// per replica set, the time the repair takes on the server, and failure when a
/// replica is down, a session is stopped or cancelled, an incremental repair
/// overlaps a running one, or a fault says so, in the version's words.
enum SimulatedRepair {
    static func run(_ args: [String], _ cluster: inout SimulatedCluster, index: Int, now: Double) -> SimulatedOutput {
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
        var keyspaces: [String] = []
        if let name = keyspaceNames.first {
            guard cluster.keyspaces.contains(where: { $0.name == name }) else { return .usage("Keyspace [\(name)] does not exist.") }
            keyspaces = [name]
        } else {
            keyspaces = cluster.keyspaces.filter { $0.strategy != "LocalStrategy" && $0.name != "system_distributed" }.map(\.name)
        }
        // 3.11 repairs incrementally by default too (-full turns it off).
        let wait = RepairWait(coordinator: node.address, sessionID: nil, remaining: keyspaces, primaryRange: primaryRange, full: full)
        return advance(wait, &cluster, now: now)
    }

    /// Prints what the client has heard by `now`: the end of the session it waits for,
    /// then the start (and, when it ends at once, the end) of the next keyspaces.
    /// The output's `waiting` is set while a session is still running.
    static func advance(_ start: RepairWait, _ cluster: inout SimulatedCluster, now: Double) -> SimulatedOutput {
        var wait = start
        var out = SimulatedOutput()
        while true {
            cluster.settleRepairs(now: now)
            if let id = wait.sessionID {
                guard let session = cluster.repairSessions.first(where: { $0.id == id }) else {
                    return SimulatedOutput(stdout: out.stdout, stderr: "cassandra-sim: repair session \(id) vanished\n", exitCode: 3)
                }
                if session.isRunning {
                    out.waiting = .repair(wait)
                    return out
                }
                if session.state != .completed {
                    let failure = failureOutput(cluster.version, command: session.command, reason: session.failure ?? "Repair session failed", at: session.lastUpdate, before: out.stdout)
                    return failure
                }
                out.stdout += successLines(session, cluster)
                wait.sessionID = nil
            }
            guard !wait.remaining.isEmpty else { return out }
            let name = wait.remaining.removeFirst()
            guard let index = cluster.nodes.firstIndex(where: { $0.address == wait.coordinator }),
                  let keyspace = cluster.keyspaces.first(where: { $0.name == name }) else { return out }
            switch startKeyspace(keyspace, &cluster, index: index, wait: wait, now: now) {
            case .skipped(let line):
                out.stdout += line
            case .started(let id, let line):
                out.stdout += line
                wait.sessionID = id
            case .failed(let failure):
                var failure = failure
                failure.stdout = out.stdout + failure.stdout
                return failure
            }
        }
    }

    enum Start {
        case skipped(String)
        case started(String, String)
        case failed(SimulatedOutput)
    }

    static func startKeyspace(_ keyspace: SimulatedCluster.Keyspace, _ cluster: inout SimulatedCluster, index: Int, wait: RepairWait, now: Double) -> Start {
        let node = cluster.nodes[index]
        let version = cluster.version
        let rf = keyspace.replication.values.reduce(0, +)
        if rf <= 1 {
            return .skipped(line(now, "Replication factor is 1. No repair is needed for keyspace '\(keyspace.name)'"))
        }
        cluster.repairCommands += 1
        let command = cluster.repairCommands
        var random = SeededRandom(seed: UInt64(command) ^ keyspace.name.hashValueStable)
        let id = random.uuid()
        let ring = TokenRing(cluster)
        let ranges = ring.ranges.filter { range in
            wait.primaryRange ? ring.primary(of: range).address == node.address : ring.replicas(of: range, keyspace: keyspace).contains { $0.address == node.address }
        }
        let incremental = !wait.full
        let starting = line(now, "Starting repair command #\(command) (\(id)), repairing keyspace \(keyspace.name) with repair options (\(options(version: version, primaryRange: wait.primaryRange, incremental: incremental, ranges: ranges.count)))")
        let replicas = Set(ranges.flatMap { ring.replicas(of: $0, keyspace: keyspace).map(\.address) })
        let format = NodetoolFormatters(cluster: cluster, observer: node.address, now: now, printPort: false)
        // A replica that is down fails the prepare phase: no session is ever created.
        if let down = cluster.nodes.first(where: { replicas.contains($0.address) && !format.seenUp($0) }) {
            return .failed(failureOutput(version, command: command, reason: "Endpoint not alive: \(cluster.endpoint(down.address))", at: now + 0.05, before: starting, delay: 0.05))
        }
        var session = RepairSession(
            id: id, command: command, coordinator: node.address, keyspace: keyspace.name,
            ranges: ranges.map { [$0.start, $0.end] }, participants: replicas.sorted(), incremental: incremental,
            primaryRange: wait.primaryRange, startedAt: now, endsAt: now + cluster.repairSeconds, state: .running, lastUpdate: now,
            hung: node.faults["repair-hang"] != nil)
        var reason: String?
        if node.faults["repair-fail"] != nil {
            reason = "Repair session failed: injected fault"
        } else if incremental, cluster.repairSessions.contains(where: { $0.isRunning && $0.incremental && $0.keyspace == keyspace.name && $0.participants.contains(node.address) }) {
            // Overlapping incremental repairs: the participants refuse to anticompact
            // sstables pending in another session, the prepare phase fails.
            reason = overlapReason(version, sessionID: id)
        }
        if let reason {
            session.state = .failed
            session.endsAt = now + 0.05
            session.lastUpdate = now + 0.05
            session.failure = reason
            cluster.repairSessions.append(session)
            return .failed(failureOutput(version, command: command, reason: reason, at: now + 0.05, before: starting, delay: 0.05))
        }
        cluster.repairSessions.append(session)
        return .started(id, starting)
    }

    /// 4.0+: CoordinatorSession.fail() completes the prepare future with
    /// "Incremental repair session %s has failed" (the participants log PendingAntiCompaction's
    /// "Prepare phase for incremental repair session %s has failed because it encountered
    /// intersecting sstables belonging to another incremental repair session (%s)...").
    /// 3.11: ActiveRepairService/CompactionManager throw "Cannot start multiple repair
    /// sessions over the same sstables" when the sstables are already being repaired.
    static func overlapReason(_ version: CassandraVersion, sessionID: String) -> String {
        version >= .v4_0 ? "Incremental repair session \(sessionID) has failed" : "Cannot start multiple repair sessions over the same sstables"
    }

    /// The sub-sessions of a parent session: ranges grouped by their replica set, each with its own UUID.
    static func subSessions(_ session: RepairSession, _ cluster: SimulatedCluster) -> [(id: String, ranges: [TokenRing.Range])] {
        guard let keyspace = cluster.keyspaces.first(where: { $0.name == session.keyspace }) else { return [] }
        let ring = TokenRing(cluster)
        var random = SeededRandom(seed: UInt64(session.command) ^ keyspace.name.hashValueStable)
        _ = random.uuid()
        var groups: [[TokenRing.Range]] = []
        var keys: [[String]] = []
        for pair in session.ranges {
            let range = TokenRing.Range(start: pair[0], end: pair[1])
            let key = ring.replicas(of: range, keyspace: keyspace).map(\.address).sorted()
            if let at = keys.firstIndex(of: key) { groups[at].append(range) } else { keys.append(key); groups.append([range]) }
        }
        return groups.map { (random.uuid(), $0) }
    }

    static func rangeList(_ ranges: [TokenRing.Range]) -> String {
        "[" + ranges.map { "(\($0.start),\($0.end)]" }.joined(separator: ", ") + "]"
    }

    /// The lines of a session that completed, its time spread over its sub-sessions.
    static func successLines(_ session: RepairSession, _ cluster: SimulatedCluster) -> String {
        let version = cluster.version
        let sessions = subSessions(session, cluster)
        let duration = session.endsAt - session.startedAt
        let step = duration / Double(max(1, sessions.count))
        var clock = session.startedAt
        var out = ""
        for (n, sub) in sessions.enumerated() {
            clock += step
            let progress: Int
            switch version {
            case .v3_11: progress = (4 + n + 1) * 100 / (4 + session.ranges.count)
            case .v4_0: progress = (3 + n + 1) * 100 / (4 + session.ranges.count)
            default: progress = 57
            }
            out += line(clock, "Repair session \(sub.id) for range \(rangeList(sub.ranges)) finished (progress: \(progress)%)")
        }
        out += line(clock, "Repair completed successfully")
        out += line(clock, "Repair command #\(session.command) finished in \(words(Int(duration)))")
        if version >= .v4_0 {
            out += line(clock, "condition satisfied queried for parent session status and discovered repair completed.")
            out += line(clock, "Repair completed successfully")
        }
        return out
    }

    /// The client's end of a failed repair: two progress lines, then RepairRunner's
    /// exception (3.11 quotes the whole failure line, timestamp included).
    static func failureOutput(_ version: CassandraVersion, command: Int, reason: String, at clock: Double, before: String, delay: Double = 0) -> SimulatedOutput {
        let failedLine = line(clock, "Repair command #\(command) failed with error \(reason)")
        let out = before + failedLine + line(clock, "Repair command #\(command) finished with error")
        let message = version == .v3_11
            ? "Repair job has failed with the error message: \(failedLine.dropLast())"
            : "Repair job has failed with the error message: Repair command #\(command) failed with error \(reason). Check the logs on the repair participants for further details"
        var failure = SimulatedOutput.server(message, frame: "org.apache.cassandra.tools.RepairRunner.progress(RepairRunner.java:137)", stdout: out)
        failure.delay = delay
        return failure
    }

    /// `nodetool stop VALIDATION`: the node's validation compactions are interrupted,
    /// so every running session it takes part in fails (ValidationTask:
    /// "Validation failed in <endpoint>", prefixed with the RepairJobDesc).
    static func stopValidation(_ cluster: inout SimulatedCluster, node address: String, now: Double) {
        let snapshot = cluster
        cluster.failRepairs(now: now, where: { $0.participants.contains(address) }) { session in
            let keyspace = snapshot.keyspaces.first { $0.name == session.keyspace }
            let table = keyspace?.tables.first?.name ?? "?"
            let first = subSessions(session, snapshot).first
            return "[repair #\(first?.id ?? session.id) on \(session.keyspace)/\(table), \(rangeList(first?.ranges ?? []))] Validation failed in \(snapshot.endpoint(address))"
        }
    }

    static func line(_ clock: Double, _ message: String) -> String {
        "[\(stamp(clock))] \(message)\n"
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
