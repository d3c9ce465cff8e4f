import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// A simulated 6-node, 3-rack cluster with one `cassandra-agent run` per node,
/// patched in a window that is open now.
final class PatchedCluster: @unchecked Sendable {
    let dir = TemporaryDirectory()
    let count: Int
    var agents: [BackgroundProcess?]
    var sim: String { dir.path + "/sim" }
    func address(_ i: Int) -> String { "127.0.1.\(i + 1)" }
    func socket(_ i: Int) -> String { dir.path + "/n\(i)/agent.sock" }

    /// `killAfterDrain`: node i's nodetool kills its agent (kill -9) right after the first drain returns.
    init(racks: Int = 3, perRack: Int = 2, killAfterDrain: Int? = nil, prepare: (String) throws -> Void = { _ in }) throws {
        count = racks * perRack
        agents = Array(repeating: nil, count: count)
        chmod(dir.path, 0o755)
        let made = try runProcess(Paths.simulatorExecutable, ["init", "--dir", sim, "--version", "4.1", "--datacenters", "DC1:\(racks)x\(perRack)", "--name", "Demo",
                                                              "--gossip-delay", "0.5", "--start-seconds", "1"])
        guard made.exitCode == 0 else { throw SimulationError("init failed: \(made.stderr)") }
        try prepare(sim)
        // A window open now, for two hours, in UTC.
        let now = Int(Date().timeIntervalSince1970) - 60
        let end = now + 7200
        func hm(_ t: Int) -> String { String(format: "%02d:%02d", (t % 86400) / 3600, (t % 3600) / 60) }
        for i in 0..<count {
            let node = address(i)
            var nodetool = "[\"\(Paths.simulatorExecutable)\", \"nodetool\", \"--dir\", \"\(sim)\", \"--node\", \"\(node)\"]"
            if killAfterDrain == i {
                dir.write("n\(i)/nodetool", """
                #!/bin/sh
                "\(Paths.simulatorExecutable)" nodetool --dir "\(sim)" --node "\(node)" "$@"; rc=$?
                if [ "$1" = drain ] && [ ! -e "\(dir.path)/n\(i)/killed" ]; then touch "\(dir.path)/n\(i)/killed"; kill -9 $PPID; fi
                exit $rc

                """)
                chmod(dir.path + "/n\(i)/nodetool", 0o755)
                nodetool = "[\"\(dir.path)/n\(i)/nodetool\"]"
            }
            dir.write("n\(i)/agent.yaml", """
            desiredState: \(dir.path)/n\(i)/desired-state.yaml
            cassandraConfigDirectory: \(sim)/nodes/\(node)/conf
            stateDirectory: \(dir.path)/n\(i)/state
            socket: \(socket(i))
            adminGroup: root
            nodetool: \(nodetool)
            systemctl: ["\(Paths.simulatorExecutable)", "systemctl", "--dir", "\(sim)", "--node", "\(node)"]
            files: {owner: root, group: root, mode: "0640"}
            observeSeconds: 5
            resyncSeconds: 5

            """)
            dir.write("n\(i)/desired-state.yaml", """
            apiVersion: cassandra-agent/v1
            cassandra: {version: "4.1"}
            cluster: {name: Demo, seeds: ["127.0.1.1"]}
            node: {datacenter: DC1, rack: rack\(i / perRack + 1), listenAddress: \(node)}
            settings:
              data_file_directories: [\(sim)/nodes/\(node)/data]
              commitlog_directory: \(sim)/nodes/\(node)
            patching:
              enabled: true
              window: "* \(hm(now))-\(hm(end))"
              command: ["\(Paths.simulatorExecutable)", "patch", "--dir", "\(sim)", "--node", "\(node)"]
              reboot: never
              settle: 2s
              pollInterval: 1s
              startTimeout: 20s
              upTimeout: 30s

            """)
        }
    }

    func start(_ i: Int) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = nil
        environment["INVOCATION_ID"] = nil
        environment["JOURNAL_STREAM"] = nil
        agents[i] = try BackgroundProcess(Paths.agentExecutable, ["run", "--config", dir.path + "/n\(i)/agent.yaml"], environment: environment)
    }

    func startAll() throws { for i in 0..<count { try start(i) } }

    func status(_ i: Int) -> StatusDocument? {
        guard let answer = try? StatusClient.get("/v1/status", socket: socket(i)), answer.status == 200 else { return nil }
        return try? JSONDecoder().decode(StatusDocument.self, from: Data(answer.body.utf8))
    }

    func patching(_ i: Int) -> StatusDocument.Job? { status(i)?.jobs["patching"] }

    func waitFor(_ seconds: Double, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try condition()
    }

    func state() throws -> SimulatedCluster { try SimulationDirectory(sim).load() }

    func stopAll() {
        for agent in agents.compactMap({ $0 }) { agent.terminate() }
        for agent in agents.compactMap({ $0 }) { agent.waitUntilExit() }
    }

    deinit { stopAll() }
}

@Suite(.serialized) struct DaemonPatchTests {
    @Test func sixNodesInThreeRacksArePatchedRackByRackWithADrainBeforeEveryStop() async throws {
        let c = try PatchedCluster()
        try c.startAll()
        defer { c.stopAll() }
        let done = try await c.waitFor(240) { (0..<c.count).allSatisfy { c.patching($0)?.lastRun?.result == "succeeded" } }
        #expect(done, "\((0..<c.count).map { c.patching($0)?.lastRun?.reason ?? c.patching($0)?.patching?.step ?? "-" })")
        let cluster = try c.state()
        for node in cluster.nodes {
            // The first start applies the agent's first install (restart pending), the same turn.
            #expect(node.events == ["drain", "stop", "patch", "start"], "\(node.address): \(node.events ?? [])")
        }
        let generations = Dictionary(grouping: cluster.nodes, by: \.rack).mapValues { $0.map(\.generation) }
        #expect(generations["rack1"]!.max()! <= generations["rack2"]!.min()!)
        #expect(generations["rack2"]!.max()! <= generations["rack3"]!.min()!)
        let job = try #require(c.patching(5))
        #expect(job.state == .idle && job.patching?.open == true)
        #expect(c.status(5)?.checks.contains { $0.reason.hasPrefix("patching.") } == false)
    }

    @Test func aNodeThatFailsToStartHaltsTheClusterWithACriticalStatusOnIt() async throws {
        let c = try PatchedCluster { sim in
            let fault = try runProcess(Paths.simulatorExecutable, ["fault", "--dir", sim, "--node", "127.0.1.3", "fail-start"])
            guard fault.exitCode == 0 else { throw SimulationError(fault.stderr) }
        }
        try c.startAll()
        defer { c.stopAll() }
        let halted = try await c.waitFor(180) {
            c.status(2)?.health == .critical && c.patching(4)?.patching?.heldBy == "127.0.1.3"
        }
        #expect(halted, "\(String(describing: c.patching(2))) \(String(describing: c.patching(4)))")
        let critical = c.status(2)?.checks.first { $0.reason == "patching.halted_here" }
        #expect(critical?.level == .critical)
        #expect(critical?.message.contains("did not start") == true)
        let warning = c.status(4)?.checks.first { $0.reason == "patching.halted" }
        #expect(warning?.level == .warning && warning?.message.contains("127.0.1.3") == true)
        let cluster = try c.state()
        // Rack 1 was patched; rack 3 never went down.
        #expect(cluster.nodes[0].events == ["drain", "stop", "patch", "start"])
        #expect(cluster.nodes[4].events == nil && cluster.nodes[5].events == nil)
        // The first install was a restart pending: the failed start rolled it back and tried again, and says so.
        #expect(c.patching(2)?.lastRun?.result == "failed")
        #expect(c.patching(2)?.lastRun?.reason?.contains("even after its config files were rolled back to the previous generation") == true,
                "\(c.patching(2)?.lastRun?.reason ?? "")")
    }

    @Test func anAgentKilledRightAfterItsDrainResumesTheTurn() async throws {
        let c = try PatchedCluster(racks: 2, perRack: 1, killAfterDrain: 0)
        try c.startAll()
        defer { c.stopAll() }
        let killed = try await c.waitFor(120) { c.agents[0]?.isRunning == false }
        #expect(killed)
        #expect(try c.state().nodes[0].drained)
        try c.start(0)
        let done = try await c.waitFor(180) { (0..<c.count).allSatisfy { c.patching($0)?.lastRun?.result == "succeeded" } }
        #expect(done, "\((0..<c.count).map { c.patching($0)?.lastRun?.reason ?? c.patching($0)?.patching?.step ?? "-" })")
        let cluster = try c.state()
        #expect(cluster.nodes[0].events == ["drain", "stop", "patch", "start"])
        #expect(cluster.nodes[1].events == ["drain", "stop", "patch", "start"])
        let jobs = try runAgent(["jobs", "--json", "--socket", c.socket(0)])
        let decoded = try JSONDecoder().decode([String: StatusDocument.Job].self, from: Data(jobs.stdout.utf8))
        #expect(decoded["patching"]?.lastRun?.trigger == "resume", "\(jobs.stdout)")
    }
}
