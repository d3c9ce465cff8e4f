import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// The simulated cluster driven through the real executables, the real
/// process runner and the typed clients, the way the agent will drive it.
@Suite struct SimulatedClusterTests {
    final class Cluster: Sendable {
        let dir = TemporaryDirectory()
        let runner = SystemProcessRunner()
        let version: CassandraVersion

        init(version: CassandraVersion = .v4_1, datacenters: String = "DC1:3x2", gossipDelay: Double = 2, repairSeconds: Double = 0.2) throws {
            self.version = version
            let result = try Self.sim(["init", "--dir", dir.path + "/c", "--version", version.rawValue, "--datacenters", datacenters,
                                       "--name", "Test", "--gossip-delay", "\(gossipDelay)", "--repair-seconds", "\(repairSeconds)"])
            guard result.exitCode == 0 else { throw SimulationError("init failed: \(result.stderr)") }
        }

        var path: String { dir.path + "/c" }

        @discardableResult
        static func sim(_ arguments: [String]) throws -> ProcessResult {
            try runProcess(Paths.simulatorExecutable, arguments)
        }

        func nodetool(_ node: String, timeout: Duration = .seconds(20)) -> NodetoolClient {
            NodetoolClient(prefix: [Paths.simulatorExecutable, "nodetool", "--dir", path, "--node", node], runner: runner, version: version, timeout: timeout)
        }

        func systemctl(_ node: String) -> SystemctlClient {
            SystemctlClient(prefix: [Paths.simulatorExecutable, "systemctl", "--dir", path, "--node", node], unit: "cassandra.service", runner: runner)
        }

        func advance(_ seconds: Double) throws {
            _ = try Self.sim(["clock", "--dir", path, "--advance", "\(seconds)"])
        }

        func fault(_ node: String, _ kind: String, _ extra: [String] = []) throws {
            _ = try Self.sim(["fault", "--dir", path, "--node", node, kind] + extra)
        }
    }

    @Test func aStoppedNodeIsSeenDownAfterTheGossipDelayAndComesBack() async throws {
        // A long delay, passed by moving the simulated clock: no dependence on how fast the machine is.
        let cluster = try Cluster(gossipDelay: 60)
        let observer = cluster.nodetool("127.0.1.1")
        var status = try await observer.status()
        #expect(status.nodes.count == 6)
        #expect(status.nodes.allSatisfy { $0.liveness == .up && $0.state == .normal })
        #expect(status.node("127.0.1.3")?.rack == "rack2" && status.node("127.0.1.3")?.datacenter == "DC1")
        let before = try await observer.gossipInfo().endpoint("127.0.1.4")?.generation

        try await cluster.systemctl("127.0.1.4").stop()
        #expect(try await !cluster.systemctl("127.0.1.4").isActive())
        status = try await observer.status()
        #expect(status.node("127.0.1.4")?.liveness == .up, "peers have not noticed yet")
        try cluster.advance(61)
        status = try await observer.status()
        #expect(status.node("127.0.1.4")?.liveness == .down)
        #expect(try await observer.gossipInfo().endpoint("127.0.1.4")?.shutDownCleanly == true)
        await #expect(throws: NodetoolError.self) { try await cluster.nodetool("127.0.1.4").info() }

        try await cluster.systemctl("127.0.1.4").start()
        try cluster.advance(61)
        status = try await observer.status()
        #expect(status.node("127.0.1.4")?.liveness == .up)
        let after = try await observer.gossipInfo().endpoint("127.0.1.4")?.generation
        #expect(after != nil && before != nil && after! > before!, "a restart brings a new gossip generation")
        let unit = try await cluster.systemctl("127.0.1.4").show()
        #expect(unit.activeState == "active" && unit.subState == "running" && unit.mainPID > 0)
    }

    @Test(arguments: CassandraVersion.allCases)
    func typedReadsWorkOnEveryVersion(version: CassandraVersion) async throws {
        let cluster = try Cluster(version: version, datacenters: "A:3x1,B:3x1")
        let client = cluster.nodetool("127.0.2.2")
        #expect(try await client.releaseVersion().major == version)
        let info = try await client.info()
        #expect(info.datacenter == "B" && info.rack == "rack2")
        #expect(info.thriftActive == (version == .v3_11 ? false : nil))
        #expect(try await client.describeCluster().name == "Test")
        #expect(try await client.describeRing(keyspace: "shop").ranges.count == 96)
        #expect(try await client.nativeTransportRunning())
        #expect(try await client.gossipRunning())
        #expect(try await client.netstats().mode == .normal)
        #expect(try await client.compactionStats().pendingTasks == 0)
        let status = try await client.status()
        #expect(status.effectiveOwnership)
        // Effective ownership: each datacenter holds RF (3) copies of the ring among its three nodes.
        #expect(status.nodes.filter { $0.datacenter == "A" }.compactMap(\.owns).reduce(0, +) > 299.5)
    }

    @Test func drainStopsServiceAndRefusesWritesUntilRestart() async throws {
        let cluster = try Cluster()
        let node = cluster.nodetool("127.0.1.2")
        try await node.drain()
        #expect(try await !node.nativeTransportRunning())
        #expect(try await !node.gossipRunning())
        #expect(try await node.netstats().mode == .drained)
        await #expect(throws: NodetoolError.self) { try await node.flush() }
        try cluster.advance(2.5)
        #expect(try await cluster.nodetool("127.0.1.1").status().node("127.0.1.2")?.liveness == .down)
        try await cluster.systemctl("127.0.1.2").restart()
        #expect(try await node.netstats().mode == .normal)
        try await node.flush()
    }

    @Test func snapshotsAreRealFiles() async throws {
        let cluster = try Cluster(version: .v5_0)
        let node = cluster.nodetool("127.0.1.1")
        #expect(try await node.snapshot(tag: "before-upgrade", keyspaces: ["shop"], ttl: "7d") == "before-upgrade")
        let list = try await node.listSnapshots()
        #expect(list.names == ["before-upgrade"])
        #expect(list.rows.map(\.table).sorted() == ["customers", "orders"])
        #expect(list.rows.allSatisfy { $0.expires != nil })
        let tableDirectories = try FileManager.default.contentsOfDirectory(atPath: "\(cluster.path)/nodes/127.0.1.1/data/shop")
        let orders = "\(cluster.path)/nodes/127.0.1.1/data/shop/\(tableDirectories.first { $0.hasPrefix("orders-") }!)"
        let snapshotFiles = try FileManager.default.contentsOfDirectory(atPath: orders + "/snapshots/before-upgrade")
        #expect(snapshotFiles.contains("manifest.json") && snapshotFiles.contains("schema.cql"))
        let data = try #require(snapshotFiles.first { $0.hasSuffix("-Data.db") })
        var st = stat()
        #expect(stat(orders + "/snapshots/before-upgrade/" + data, &st) == 0 && st.st_nlink == 2, "a hard link of the live SSTable")
        await #expect(throws: NodetoolError.self) { try await node.snapshot(tag: "before-upgrade", keyspaces: ["shop"]) }
        try await node.clearSnapshot(tag: nil)
        #expect(try await node.listSnapshots().rows.isEmpty)
    }

    @Test func repairTakesTimeAndFailsWhenAReplicaIsDown() async throws {
        let cluster = try Cluster()
        let node = cluster.nodetool("127.0.1.1")
        let ok = try await node.repair(.init(kind: .primaryRange, keyspace: "shop"), timeout: .seconds(30))
        #expect(ok.succeeded && ok.sessionsFinished > 0)
        try await cluster.systemctl("127.0.1.3").stop()
        try cluster.advance(2.5)
        do {
            _ = try await node.repair(.init(kind: .full, keyspace: "shop"), timeout: .seconds(30))
            Issue.record("expected the repair to fail")
        } catch {
            guard case .failed(let failure) = error else { Issue.record("\(error)"); return }
            #expect(failure.kind == .server && failure.exitCode == 2)
            #expect(failure.message.contains("Endpoint not alive: /127.0.1.3:7000"))
        }
    }

    @Test func faultsLookLikeTheRealThing() async throws {
        let cluster = try Cluster()
        try cluster.fault("127.0.1.2", "hang")
        do {
            _ = try await cluster.nodetool("127.0.1.2", timeout: .seconds(1)).status()
            Issue.record("expected a timeout")
        } catch {
            guard case .failed(let failure) = error else { Issue.record("\(error)"); return }
            #expect(failure.kind == .timedOut)
            #expect(failure.message.contains("status timed out after 1.0 seconds and was killed"))
        }
        try cluster.fault("127.0.1.2", "hang", ["--clear"])

        try cluster.fault("127.0.1.3", "exit1")
        await #expect(throws: NodetoolError.failed(NodetoolFailure(kind: .usage, message: "Injected failure: JMX returned an error", exitCode: 1, stderr: ""))) {
            try await cluster.nodetool("127.0.1.3").info()
        }
        try cluster.fault("127.0.1.4", "garbage")
        do {
            _ = try await cluster.nodetool("127.0.1.4").status()
            Issue.record("expected unreadable output")
        } catch {
            guard case .unreadable(let parse) = error else { Issue.record("\(error)"); return }
            #expect(parse.line == 1)
        }
        try cluster.fault("127.0.1.5", "slow", ["--seconds", "0.3"])
        #expect(try await cluster.nodetool("127.0.1.5").releaseVersion().release == "4.1.8")

        try cluster.fault("127.0.1.6", "fail-start")
        try await cluster.systemctl("127.0.1.6").stop()
        await #expect(throws: SystemctlClient.Failure.self) { try await cluster.systemctl("127.0.1.6").start() }
        #expect(try await cluster.systemctl("127.0.1.6").show().activeState == "failed")

        try cluster.fault("127.0.1.1", "repair-fail")
        await #expect(throws: NodetoolError.self) { try await cluster.nodetool("127.0.1.1").repair(.init(kind: .full, keyspace: "shop"), timeout: .seconds(30)) }
    }

    @Test func startRefusesAConfigTheVersionCannotLoad() async throws {
        let cluster = try Cluster(version: .v4_1)
        let conf = "\(cluster.path)/nodes/127.0.1.2/conf"
        let systemctl = cluster.systemctl("127.0.1.2")
        try await systemctl.stop()

        // Rendered by the agent for this node: starts.
        let state = desiredState(version: "4.1").replacingOccurrences(of: "name: Test\n  seeds: [\"10.0.0.1\", \"10.0.0.2\"]", with: "name: Test\n  seeds: [\"127.0.1.1\"]")
            .replacingOccurrences(of: "datacenter: dc1", with: "datacenter: DC1").replacingOccurrences(of: "listenAddress: 10.0.0.1", with: "listenAddress: 127.0.1.2")
        let renderedConfig = renderedFiles(state)
        let config = try #require(renderedConfig)
        try config.cassandraYAML.write(toFile: conf + "/cassandra.yaml", atomically: true, encoding: .utf8)
        try config.rackdcProperties.write(toFile: conf + "/cassandra-rackdc.properties", atomically: true, encoding: .utf8)
        try await systemctl.start()
        try await systemctl.stop()

        // Old and new names together: Cassandra 4.1 refuses to start.
        try (config.cassandraYAML + "read_request_timeout_in_ms: 5000\n").write(toFile: conf + "/cassandra.yaml", atomically: true, encoding: .utf8)
        await #expect(throws: SystemctlClient.Failure.self) { try await systemctl.start() }
        let log = try String(contentsOfFile: "\(cluster.path)/nodes/127.0.1.2/system.log", encoding: .utf8)
        #expect(log.contains("'read_request_timeout_in_ms' and 'read_request_timeout' are the old and new names of one setting"))

        // The wrong rack for a node that has joined: refused like check_rack does.
        try config.cassandraYAML.write(toFile: conf + "/cassandra.yaml", atomically: true, encoding: .utf8)
        try config.rackdcProperties.replacingOccurrences(of: "rack=rack1", with: "rack=rack9").write(toFile: conf + "/cassandra-rackdc.properties", atomically: true, encoding: .utf8)
        await #expect(throws: SystemctlClient.Failure.self) { try await systemctl.start() }
        #expect(try String(contentsOfFile: "\(cluster.path)/nodes/127.0.1.2/system.log", encoding: .utf8).contains("differs from previous rack (rack1)"))
    }

    @Test func concurrentCallsKeepTheStateConsistent() async throws {
        let cluster = try Cluster()
        let nodes = (1...6).map { "127.0.1.\($0)" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes {
                group.addTask { try await cluster.nodetool(node).flush() }
                group.addTask { _ = try await cluster.nodetool(node).status() }
                group.addTask { _ = try await cluster.nodetool(node).snapshot(tag: "t-\(node)") }
            }
            try await group.waitForAll()
        }
        for node in nodes {
            #expect(try await cluster.nodetool(node).listSnapshots().names == ["t-\(node)"])
        }
    }

    @Test func wrapperScriptsAndSymlinksReachTheSameNode() throws {
        let cluster = try Cluster()
        let text = try runProcess("\(cluster.path)/nodes/127.0.1.5/bin/nodetool", ["info"]).stdout
        #expect(try NodetoolInfo.parse(text).rack == "rack3")
    }
}
