import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// A simulated two-datacenter cluster with a `cassandra-agent run` on chosen
/// nodes: the hybrid-cluster jobs driven the way an operator drives them, with
/// `cassandra-agent job start` and `status`.
final class HybridCluster: @unchecked Sendable {
    let dir = TemporaryDirectory()
    let nodes: [String]
    var agents: [String: BackgroundProcess] = [:]
    var sim: String { dir.path + "/sim" }
    func home(_ node: String) -> String { dir.path + "/agents/" + node }
    func socket(_ node: String) -> String { home(node) + "/agent.sock" }

    /// `layout`: cassandra-sim's --datacenters; `agentsOn`: the nodes that run an agent.
    init(layout: String, newDatacenter: String? = nil, agentsOn nodes: [String], streamRate: Int = 300_000_000, stallTimeout: String = "20s", extra: String = "") throws {
        self.nodes = nodes
        chmod(dir.path, 0o755)
        let made = try runProcess(Paths.simulatorExecutable, ["init", "--dir", sim, "--version", "4.1", "--datacenters", layout, "--name", "Demo", "--gossip-delay", "0.5",
                                                              "--stream-bytes-per-second", "\(streamRate)"] + (newDatacenter.map { ["--new-datacenter", $0] } ?? []))
        guard made.exitCode == 0 else { throw SimulationError("init failed: \(made.stderr)") }
        let cluster = try SimulationDirectory(sim).load()
        for node in nodes {
            let me = try #require(cluster.node(node))
            dir.write("agents/\(node)/agent.yaml", """
            desiredState: \(home(node))/desired-state.yaml
            cassandraConfigDirectory: \(sim)/nodes/\(node)/conf
            stateDirectory: \(home(node))/state
            socket: \(socket(node))
            adminGroup: root
            nodetool: ["\(Paths.simulatorExecutable)", "nodetool", "--dir", "\(sim)", "--node", "\(node)"]
            systemctl: ["\(Paths.simulatorExecutable)", "systemctl", "--dir", "\(sim)", "--node", "\(node)"]
            files: {owner: root, group: root, mode: "0640"}
            observeSeconds: 0.5
            resyncSeconds: 5

            """)
            dir.write("agents/\(node)/desired-state.yaml", """
            apiVersion: cassandra-agent/v1
            cassandra: {version: "4.1"}
            cluster: {name: Demo, seeds: [\(Set(cluster.nodes.map(\.datacenter)).sorted().compactMap { dc in cluster.nodes.first { $0.datacenter == dc }?.address }.joined(separator: ", "))]}
            node: {datacenter: \(me.datacenter), rack: \(me.rack), listenAddress: \(node)}
            settings:
              data_file_directories: [\(sim)/nodes/\(node)/data]
              commitlog_directory: \(sim)/nodes/\(node)
            rebuild: {pollInterval: 200ms, stallTimeout: \(stallTimeout), stagger: 1s}
            decommission: {pollInterval: 200ms, stallTimeout: 20s}
            \(extra)
            """)
        }
    }

    func startAgents() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = nil
        environment["INVOCATION_ID"] = nil
        environment["JOURNAL_STREAM"] = nil
        for node in nodes {
            agents[node] = try BackgroundProcess(Paths.agentExecutable, ["run", "--config", home(node) + "/agent.yaml"], environment: environment, log: home(node) + "/agent.log")
        }
    }

    func sim(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(Paths.simulatorExecutable, arguments + ["--dir", sim])
    }

    /// `cassandra-agent ARGS` against `node`'s agent.
    func agent(_ node: String, _ arguments: [String]) throws -> ProcessResult {
        try runProcess(Paths.agentExecutable, arguments + ["--socket", socket(node)])
    }

    func status(_ node: String) -> StatusDocument? {
        guard let answer = try? StatusClient.get("/v1/status", socket: socket(node)), answer.status == 200 else { return nil }
        return try? JSONDecoder().decode(StatusDocument.self, from: Data(answer.body.utf8))
    }

    func job(_ node: String, _ kind: String) -> StatusDocument.Job? { status(node)?.jobs[kind] }

    func waitFor(_ seconds: Double, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try condition()
    }

    /// Every agent has its desired state in force and has observed its node.
    func ready() async throws -> Bool {
        try await waitFor(30) { nodes.allSatisfy { status($0)?.desiredState.generation != nil && status($0)?.checks.contains { $0.name == "cluster.peers" } == true } }
    }

    func state() throws -> SimulatedCluster { try SimulationDirectory(sim).load() }

    func stopAll() {
        for agent in agents.values { agent.terminate() }
        for agent in agents.values { agent.waitUntilExit() }
    }

    deinit { stopAll() }
}

@Suite(.serialized) struct DaemonHybridTests {
    static let rebuilders = ["127.0.2.1", "127.0.2.2"]

    @Test func rebuildingANewDatacenterIsCheckedFirstStreamsWithProgressAndTakesTurns() async throws {
        let cluster = try HybridCluster(layout: "DC1:3x1,DC2:3x1", newDatacenter: "DC2", agentsOn: Self.rebuilders)
        try cluster.startAgents()
        #expect(try await cluster.ready())
        let first = Self.rebuilders[0]

        // A source datacenter that does not exist, and (before ALTER KEYSPACE) a keyspace that does not
        // replicate here: refused, and Cassandra never sees a rebuild.
        #expect(try cluster.agent(first, ["job", "start", "rebuild", "--source-dc", "DC3"]).exitCode == 0)
        #expect(try await cluster.waitFor(20) { cluster.job(first, "rebuild")?.lastRun != nil })
        #expect(cluster.job(first, "rebuild")?.lastRun?.result == "failed")
        #expect(cluster.job(first, "rebuild")?.lastRun?.reason?.contains("datacenter 'DC3' is not in the cluster: nodetool status shows DC1, DC2") == true)
        #expect(try cluster.agent(first, ["job", "start", "rebuild", "--source-dc", "DC1", "--keyspace", "shop"]).exitCode == 0)
        #expect(try await cluster.waitFor(20) { cluster.job(first, "rebuild")?.lastRun?.reason?.contains("keyspace shop does not replicate to this node's datacenter DC2") == true })
        #expect(try cluster.state().streamPlans.isEmpty)
        #expect(try cluster.sim(["available-ranges", first]).stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        // The checklist names what the runbook still asks for.
        let checklist = try #require(cluster.status(first)?.hybrid)
        #expect(checklist.missing.contains { $0.item == "keyspaces" && $0.detail.contains("shop has no replica in DC2") })

        // The runbook's ALTER KEYSPACE, then both nodes are started together: they take turns.
        for keyspace in ["shop", "system_auth", "system_distributed", "system_traces"] {
            #expect(try cluster.sim(["keyspace", keyspace, "--replication", "DC1:3,DC2:3"]).exitCode == 0)
        }
        for node in Self.rebuilders {
            let started = try cluster.agent(node, ["job", "start", "rebuild", "--source-dc", "DC1"])
            #expect(started.exitCode == 0, "\(started.stderr)")
        }
        /// Bytes arriving from a node of DC1, as status or the journal shows them.
        func receivesFromDC1(_ bytesDone: Int64?, _ streams: [StreamPeer]?) -> Bool {
            (bytesDone ?? 0) > 0 && streams?.first?.direction == "receiving" && streams?.first?.peer.hasPrefix("127.0.1.") == true
        }
        var sawProgress = false
        var sawWaiting = false
        let done = try await cluster.waitFor(120) {
            for node in Self.rebuilders {
                guard let current = cluster.job(node, "rebuild")?.current else { continue }
                if receivesFromDC1(current.bytesDone, current.streams) { sawProgress = true }
                if current.postponed?.contains("is rebuilding") == true { sawWaiting = true }
            }
            return Self.rebuilders.allSatisfy { cluster.job($0, "rebuild")?.lastRun?.reason?.contains("rebuilt every keyspace from DC1") == true }
        }
        for node in Self.rebuilders {
            #expect(cluster.job(node, "rebuild")?.lastRun?.result == "succeeded", "\(node): \(String(describing: cluster.job(node, "rebuild")?.lastRun))")
        }
        #expect(done)
        // Status shows `current.progress` while a run goes on; a loaded machine can starve this test's
        // polling through a whole stream, so the progress each run journalled (the same record) also counts.
        let journalled = Self.rebuilders.compactMap { JobHistoryStore(stateDirectory: cluster.home($0) + "/state").load(.rebuild).history.lastRun?.progress }
        #expect(sawProgress || journalled.contains { receivesFromDC1($0.bytesDone, $0.streams) }, "\(journalled)")
        // The wait is also in the journal: a loaded machine can starve this test's polling through all of it.
        let journals = Self.rebuilders.map { (try? String(contentsOfFile: cluster.home($0) + "/agent.log", encoding: .utf8)) ?? "" }
        #expect(sawWaiting || journals.contains { $0.contains("reason=rebuild.postponed") && $0.contains("is rebuilding") })
        #expect(journals.contains { $0.contains("reason=rebuild.postponed") }, "the wait for a turn is in the journal")
        // Never two nodes of DC2 streaming at once: the plans the servers ran do not overlap.
        let plans = try cluster.state().streamPlans.filter { $0.operation == .rebuild }
        #expect(Set(plans.map(\.owner)) == Set(Self.rebuilders))
        for a in plans {
            for b in plans where a.id < b.id {
                let apart = (a.endedAt ?? .infinity) <= b.startedAt || (b.endedAt ?? .infinity) <= a.startedAt
                #expect(apart, "rebuilds of \(a.owner) and \(b.owner) overlapped")
            }
        }
        // The data came in: the rebuilt node holds SSTables of shop.
        let data = try FileManager.default.subpathsOfDirectory(atPath: cluster.sim + "/nodes/\(first)/data")
        #expect(data.contains { $0.hasPrefix("shop/") && $0.hasSuffix("-Data.db") })
    }

    @Test func aRebuildWhoseStreamStallsFailsWithTheReasonAndFreesTheNode() async throws {
        let node = "127.0.2.1"
        let cluster = try HybridCluster(layout: "DC1:3x1,DC2:1x1", newDatacenter: "DC2", agentsOn: [node], stallTimeout: "2s")
        #expect(try cluster.sim(["keyspace", "shop", "--replication", "DC1:3,DC2:1"]).exitCode == 0)
        _ = try cluster.sim(["fault", "--node", node, "stream-stall"])
        try cluster.startAgents()
        #expect(try await cluster.ready())
        #expect(try cluster.agent(node, ["job", "start", "rebuild", "--source-dc", "DC1", "--keyspace", "shop"]).exitCode == 0)
        #expect(try await cluster.waitFor(30) { cluster.job(node, "rebuild")?.lastRun != nil })
        let last = try #require(cluster.job(node, "rebuild")?.lastRun)
        #expect(last.result == "failed")
        #expect(last.reason?.contains("the rebuild of shop stalled: no new bytes streamed for") == true, "\(last.reason ?? "")")
        #expect(last.reason?.contains("Cassandra may still be streaming") == true)
        // The node is free for other jobs, and the warning stays in status.
        #expect(cluster.status(node)?.checks.contains { $0.reason == "rebuild.failed" } == true)
        #expect(try cluster.state().streamPlans.first?.isRunning == true, "the stalled stream goes on inside Cassandra, as it would")
    }

    @Test func anAgentKilledMidRebuildShowsTheRunInterruptedNotRunningForever() async throws {
        let node = "127.0.2.1"
        // Slow enough that the kill lands while it streams.
        let cluster = try HybridCluster(layout: "DC1:3x1,DC2:1x1", newDatacenter: "DC2", agentsOn: [node], streamRate: 20_000_000)
        #expect(try cluster.sim(["keyspace", "shop", "--replication", "DC1:3,DC2:1"]).exitCode == 0)
        try cluster.startAgents()
        #expect(try await cluster.ready())
        #expect(try cluster.agent(node, ["job", "start", "rebuild", "--source-dc", "DC1", "--keyspace", "shop"]).exitCode == 0)
        #expect(try await cluster.waitFor(20) { (cluster.job(node, "rebuild")?.current?.bytesDone ?? 0) > 0 })
        let agent = try #require(cluster.agents[node])
        kill(agent.processIdentifier, SIGKILL)
        agent.waitUntilExit()
        try cluster.startAgents()
        #expect(try await cluster.waitFor(20) { cluster.job(node, "rebuild")?.lastRun?.result == "interrupted" })
        let job = try #require(cluster.job(node, "rebuild"))
        #expect(job.current == nil && job.state == .idle)
        #expect(job.lastRun?.reason?.contains("streaming may go on inside Cassandra") == true)
    }

    @Test func aDecommissionThatWouldBreakAReplicaCountIsRefusedAndASafeOneLeavesTheNodeGoneNotBroken() async throws {
        let leaving = "127.0.1.4"
        let cluster = try HybridCluster(layout: "DC1:4x1", agentsOn: [leaving])
        try cluster.startAgents()
        #expect(try await cluster.ready())
        #expect(try cluster.sim(["keyspace", "shop", "--replication", "DC1:4"]).exitCode == 0)

        #expect(try cluster.agent(leaving, ["job", "start", "decommission"]).exitCode == 0)
        #expect(try await cluster.waitFor(20) { cluster.job(leaving, "decommission")?.lastRun != nil })
        #expect(cluster.job(leaving, "decommission")?.lastRun?.reason?.contains("keyspace shop keeps 4 replicas in DC1, which would have 3 node(s) left") == true)
        #expect(try cluster.state().node(leaving)?.leaving != true && cluster.state().streamPlans.isEmpty)

        #expect(try cluster.sim(["keyspace", "shop", "--replication", "DC1:3"]).exitCode == 0)
        let started = try cluster.agent(leaving, ["job", "start", "decommission"])
        #expect(started.exitCode == 0, "\(started.stderr)")
        var sawStreaming = false
        let left = try await cluster.waitFor(60) {
            if let current = cluster.job(leaving, "decommission")?.current, current.streams?.contains(where: { $0.direction == "sending" && $0.bytesDone > 0 }) == true { sawStreaming = true }
            return cluster.job(leaving, "decommission")?.lastRun?.result == "succeeded"
        }
        #expect(left, "\(String(describing: cluster.job(leaving, "decommission")?.lastRun))")
        // As for the rebuild: the run's journalled progress counts when polling was starved through the stream.
        let journalled = JobHistoryStore(stateDirectory: cluster.home(leaving) + "/state").load(.decommission).history.lastRun?.progress
        #expect(sawStreaming || journalled?.streams?.contains(where: { $0.direction == "sending" && $0.bytesDone > 0 }) == true, "\(String(describing: journalled))")
        // Gone from the ring as the others see it, and reported as gone, not broken.
        let others = try runProcess(Paths.simulatorExecutable, ["nodetool", "--dir", cluster.sim, "--node", "127.0.1.1", "status"])
        #expect(!others.stdout.contains(leaving))
        #expect(try await cluster.waitFor(20) { cluster.status(leaving)?.checks.contains { $0.reason == "node.left" } == true })
        let status = try #require(cluster.status(leaving))
        #expect(status.health != .critical, "\(status.checks.filter { $0.level == .critical })")
        // No job changes a node that has left.
        let again = try cluster.agent(leaving, ["job", "start", "decommission"])
        #expect(again.exitCode == 1 && again.stderr.contains("left the cluster"))
    }
}
