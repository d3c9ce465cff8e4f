import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// Rebuild, decommission and bootstrap on the simulated servers, driven in-process
/// through SimulatedNodetool with the cluster's clock moved instead of waiting:
/// the refusals in the version's words, the rebuild trap, streams on both sides
/// of netstats, and the ring before and after a node leaves.
@Suite struct SimulatedStreamingTests {
    /// A hybrid cluster: DC1 holds the data, DC2 has just joined with none.
    struct Sim {
        let dir = TemporaryDirectory()
        let directory: SimulationDirectory
        let now = 1_800_000_000.0

        init(_ version: CassandraVersion = .v4_1, datacenters: String = "DC1:3x1,DC2:3x1", newDatacenter: String? = "DC2", rate: Double = 100_000_000) throws {
            directory = SimulationDirectory(dir.path)
            var cluster = try SimulatedCluster.make(name: "Test", version: version, datacenters: datacenters, gossipDelay: 0, repairSeconds: 1, now: now, newDatacenter: newDatacenter)
            cluster.streamBytesPerSecond = rate
            try directory.create(cluster, simulator: "/bin/true")
        }

        func nodetool(_ arguments: String, on node: String) -> SimulatedOutput {
            SimulatedNodetool.run(arguments.split(separator: " ").map(String.init), directory: directory, node: node, now: now)
        }

        func resume(_ output: SimulatedOutput) throws -> SimulatedOutput {
            SimulatedNodetool.resume(try #require(output.waiting), directory: directory, now: now)
        }

        func change(_ body: (inout SimulatedCluster) throws(SimulationError) -> Void) throws {
            try directory.withState { (cluster: inout SimulatedCluster) throws(SimulationError) in try body(&cluster) }
        }

        func advance(_ seconds: Double) throws { try change { $0.clockOffset += seconds } }

        func alter(_ keyspace: String, _ replication: String) throws {
            try change { (cluster: inout SimulatedCluster) throws(SimulationError) in try cluster.alterKeyspace(keyspace, replication: replication) }
        }

        func fault(_ node: String, _ kind: String, clear: Bool = false) throws {
            let at = now
            let directory = directory
            try change { (cluster: inout SimulatedCluster) throws(SimulationError) in
                try cluster.setFault(kind, value: clear ? nil : 1, on: node, now: at + cluster.clockOffset, directory: directory)
            }
        }

        var state: SimulatedCluster { get throws { try directory.load() } }

        func dataFiles(_ node: String, _ keyspace: String) -> [String] {
            let base = directory.dataDirectory(node) + "/" + keyspace
            let tables = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
            return tables.flatMap { table in ((try? FileManager.default.contentsOfDirectory(atPath: base + "/" + table)) ?? []).filter { $0.hasSuffix("-Data.db") } }
        }

        /// "Already received n files ..., B bytes total" of the first summary line with `verb`.
        func streamed(_ node: String, _ verb: String) -> Int64? {
            let line = nodetool("netstats", on: node).stdout.split(separator: "\n").first { $0.hasPrefix("        \(verb) ") }
            guard let line, let match = line.firstMatch(of: /, (\d+) bytes total(?: \(|$)/) else { return nil }
            return Int64(match.1)
        }
    }

    static func usage(_ message: String) -> String {
        "nodetool: \(message)\nSee 'nodetool help' or 'nodetool help <command>'.\n"
    }

    @Test(arguments: CassandraVersion.allCases)
    func aSourceDatacenterThatDoesNotExistIsRefusedWithCassandrasText(version: CassandraVersion) throws {
        let sim = try Sim(version)
        let before = try sim.state
        let output = sim.nodetool("rebuild -- DC3", on: "127.0.2.1")
        let expected = sample("rebuild-baddc.txt").replacingOccurrences(of: "'dc3'", with: "'DC3'").replacingOccurrences(of: "dc1,dc2", with: "DC1,DC2")
        #expect(output.stdout == expected && output.exitCode == 1 && output.waiting == nil)
        #expect(try sim.state == before, "nothing changes")
    }

    @Test func theTrapAWrongButValidDatacenterMarksTheRangesAndLaterRebuildsStreamNothing() throws {
        let sim = try Sim()
        // Before the keyspace replicates to DC2 the node has no ranges of it: nothing to do, nothing marked.
        #expect(sim.nodetool("rebuild -ks shop DC1", on: "127.0.2.1") == SimulatedOutput())
        #expect(try sim.state.nodes[3].availableRanges.isEmpty)
        try sim.alter("shop", "DC1:3,DC2:3")
        let load = try sim.state.nodes[3].loadBytes

        // The node's own datacenter: valid, replicates the keyspace, holds nothing. Exit 0 at once.
        #expect(sim.nodetool("rebuild -ks shop DC2", on: "127.0.2.1") == SimulatedOutput())
        var state = try sim.state
        let ring = TokenRing(state)
        let local = state.localRanges(of: state.nodes[3], keyspace: try #require(state.keyspace("shop")), ring: ring).map { [$0.start, $0.end] }
        #expect(Set(state.nodes[3].availableRanges["shop"] ?? []) == Set(local) && !local.isEmpty, "every range recorded as available")
        #expect(state.nodes[3].loadBytes == load && sim.dataFiles("127.0.2.1", "shop").isEmpty, "no data came")

        // The right datacenter now streams nothing either.
        #expect(sim.nodetool("rebuild -ks shop DC1", on: "127.0.2.1") == SimulatedOutput())
        state = try sim.state
        #expect(state.nodes[3].loadBytes == load && sim.dataFiles("127.0.2.1", "shop").isEmpty)
        #expect(!state.streamPlans.contains { $0.bytes > 0 })

        // Deleting the rows of system.available_ranges is the way out.
        try sim.change { $0.nodes[3].availableRanges["shop"] = nil }
        let rebuild = sim.nodetool("rebuild -ks shop DC1", on: "127.0.2.1")
        #expect(rebuild.waiting != nil, "streaming this time")
    }

    @Test func aDatacenterWithoutReplicasOfTheKeyspaceFindsNoSources() throws {
        let sim = try Sim()
        // shop replicates to DC1 only: a DC1 node rebuilding from DC2 has no source for its ranges.
        let output = sim.nodetool("rebuild -ks shop DC2", on: "127.0.1.1")
        #expect(output.exitCode == 1)
        #expect(output.stdout.hasPrefix("nodetool: Unable to find sufficient sources for streaming range ("), "\(output.stdout)")
        #expect(output.stdout.contains("] in keyspace shop\nSee 'nodetool help'"))
        #expect(try sim.state.nodes[0].availableRanges.isEmpty && sim.state.streamPlans.isEmpty)
    }

    @Test func aRightRebuildStreamsWithProgressOnBothSidesAndCompletes() throws {
        let sim = try Sim()
        try sim.alter("shop", "DC1:3,DC2:3")
        let before = try sim.state
        let rebuild = sim.nodetool("rebuild -ks shop DC1", on: "127.0.2.1")
        #expect(rebuild.stdout.isEmpty && rebuild.stderr.isEmpty && rebuild.waiting != nil, "prints nothing and blocks")
        let plan = try #require(try sim.state.streamPlans.first)
        // The node's share of DC1's data: with RF 3 on three nodes each holds all of it.
        let held = before.nodes.prefix(3).map { $0.keyspaceBytes?["shop"] ?? 0 }
        #expect(plan.bytes >= held.min()! - 1000 && plan.bytes <= held.max()! + 1000)
        #expect(Set(plan.sessions.map(\.peer)).isSubset(of: ["127.0.1.1", "127.0.1.2", "127.0.1.3"]) && plan.sessions.count == 3, "balanced over DC1")

        let mine = sim.nodetool("netstats", on: "127.0.2.1").stdout
        #expect(mine.hasPrefix("Mode: NORMAL\nRebuild \(plan.id)\n    /127.0.1."))
        #expect(mine.contains("        Receiving ") && !mine.contains("Not sending any streams."))
        let parsed = try NodetoolNetstats.parse(mine)
        #expect(parsed.mode == .normal && parsed.transfers("Rebuild", .receiving).count == 3, "the agent's parser reads it")
        let source = plan.sessions[0].peer
        let theirs = sim.nodetool("netstats", on: source).stdout
        #expect(theirs.hasPrefix("Mode: NORMAL\nRebuild \(plan.id)\n    /127.0.2.1\n        Sending \(plan.sessions[0].files.count) files, \(plan.sessions[0].bytes) bytes total. Already sent 0 files (0.00%), 0 bytes total (0.00%)\n"), "\(theirs)")
        #expect(sim.nodetool("netstats", on: "127.0.2.2").stdout.contains("Not sending any streams."), "bystanders see nothing")

        let seconds = Double(plan.bytes) / 100_000_000
        try sim.advance(seconds / 2)
        let received = try #require(sim.streamed("127.0.2.1", "Receiving"))
        let sent = try #require(sim.streamed(source, "Sending"))
        #expect(received > 0 && sent > 0 && sent <= received)
        #expect(sim.nodetool("netstats", on: source).stdout.contains(" sent to idx:0/127.0.2.1\n"))
        #expect(sim.nodetool("netstats", on: "127.0.2.1").stdout.contains(" received from idx:0/\(source)\n"))
        let midway = try NodetoolStatus.parse(sim.nodetool("status", on: "127.0.1.1").stdout)
        #expect((midway.node("127.0.2.1")?.load ?? 0) > before.nodes[3].loadBytes, "Load grows as it streams")
        #expect(try sim.resume(rebuild).waiting != nil, "still streaming")

        try sim.advance(seconds / 2 + 1)
        #expect(try sim.resume(rebuild) == SimulatedOutput(), "exit 0, nothing printed")
        let after = try sim.state
        #expect(after.streamPlans[0].state == .completed)
        #expect(after.nodes[3].loadBytes == before.nodes[3].loadBytes + plan.bytes)
        #expect(sim.nodetool("netstats", on: "127.0.2.1").stdout.hasPrefix("Mode: NORMAL\nNot sending any streams.\n"))
        #expect(sim.dataFiles("127.0.2.1", "shop").count == plan.sessions.reduce(0) { $0 + $1.files.count }, "SSTables for a backup to find")
        #expect(!(after.nodes[3].availableRanges["shop"] ?? []).isEmpty)
    }

    @Test func aSecondRebuildIsRefusedWhileOneRuns() throws {
        let sim = try Sim()
        try sim.alter("shop", "DC1:3,DC2:3")
        #expect(sim.nodetool("rebuild -ks shop DC1", on: "127.0.2.1").waiting != nil)
        let again = sim.nodetool("rebuild DC1", on: "127.0.2.1")
        #expect(again.stdout == Self.usage("Node is still rebuilding. Check nodetool netstats.") && again.exitCode == 1)
        #expect(sim.nodetool("rebuild -ts (1,2] DC1", on: "127.0.2.2").stdout == Self.usage("Cannot specify tokens without keyspace."))
    }

    @Test func aStalledStreamKeepsItsBytesAndAFailedOneEndsTheRebuild() throws {
        let sim = try Sim()
        try sim.alter("shop", "DC1:3,DC2:3")
        let rebuild = sim.nodetool("rebuild -ks shop DC1", on: "127.0.2.1")
        try sim.advance(1)
        try sim.fault("127.0.2.1", "stream-stall")
        let stalled = try #require(sim.streamed("127.0.2.1", "Receiving"))
        try sim.advance(10_000)
        #expect(sim.streamed("127.0.2.1", "Receiving") == stalled, "no progress while stalled")
        #expect(try sim.resume(rebuild).waiting != nil)

        try sim.fault("127.0.2.1", "stream-stall", clear: true)
        try sim.fault("127.0.1.2", "stream-fail")
        let failed = try sim.resume(rebuild)
        #expect(failed.exitCode == 2 && failed.waiting == nil && failed.stdout.isEmpty)
        #expect(failed.stderr.hasPrefix("error: Error while rebuilding node: Stream failed\n-- StackTrace --\njava.lang.RuntimeException: Error while rebuilding node: Stream failed\n"))
        let state = try sim.state
        #expect(state.streamPlans[0].state == .failed && state.nodes[3].availableRanges.isEmpty, "a failed plan marks nothing")
        #expect(sim.nodetool("netstats", on: "127.0.2.1").stdout.contains("Not sending any streams."))
    }

    @Test func withoutAKeyspaceEveryDistributedKeyspaceIsRebuilt() throws {
        let sim = try Sim()
        try sim.alter("shop", "DC1:3,DC2:3")
        // SimpleStrategy system_distributed has ranges whose other replicas are all in DC2.
        let simple = sim.nodetool("rebuild DC1", on: "127.0.2.1")
        #expect(simple.exitCode == 1 && simple.stdout.contains("] in keyspace system_distributed\n"), "\(simple.stdout)")
        try sim.alter("system_distributed", "DC1:3,DC2:3")
        try sim.alter("system_traces", "DC1:3,DC2:3")
        // system_auth (RF 1) is only warned about; shop and the altered ones stream.
        let rebuild = sim.nodetool("rebuild DC1", on: "127.0.2.1")
        #expect(rebuild.waiting != nil, "\(rebuild)")
        let plan = try #require(try sim.state.streamPlans.first)
        #expect(Set(plan.sessions.flatMap { $0.ranges.keys }) == ["shop", "system_distributed", "system_traces"])
        #expect(plan.sessions.allSatisfy { $0.files.allSatisfy { $0.keyspace == "shop" } }, "system keyspaces hold next to nothing")
    }

    @Test func subrangesMustBeTheNodesAndExcludeLocalDCIsOnlyIn50() throws {
        let sim = try Sim(.v5_0)
        try sim.alter("shop", "DC1:3,DC2:3")
        #expect(sim.nodetool("rebuild --exclude-local-dc DC2", on: "127.0.2.1").stdout
            == Self.usage("Cannot set source data center to be local data center, when excludeLocalDataCenter flag is set"))
        let state = try sim.state
        let shop = try #require(state.keyspace("shop"))
        let range = try #require(state.localRanges(of: state.nodes[3], keyspace: shop, ring: TokenRing(state)).first)
        // The first half of one of its ranges.
        let middle = range.start &+ Int64(bitPattern: UInt64(bitPattern: range.end &- range.start) / 2)
        let inside = "(\(range.start),\(middle)]"
        // With RF 3 over four nodes a node replicates three quarters of the ring: the rest is not its.
        let four = try Sim(.v5_0, datacenters: "DC1:4x1", newDatacenter: nil)
        let fourState = try four.state
        let fourRing = TokenRing(fourState)
        let theirs = try #require(fourRing.ranges.first { !fourState.localRanges(of: fourState.nodes[0], keyspace: shop, ring: fourRing).contains($0) })
        let foreign = four.nodetool("rebuild -ks shop -ts (\(theirs.start),\(theirs.end)] DC1", on: "127.0.1.1")
        #expect(foreign.stdout == Self.usage("The specified range (\(theirs.start),\(theirs.end)] is not a range that is owned by this node. Please ensure that all token ranges specified to be rebuilt belong to this node."))
        let itself = sim.nodetool("rebuild -ks shop -ts \(inside) -s 127.0.2.1 DC1", on: "127.0.2.1")
        #expect(itself.stdout == Self.usage("This host was specified as a source for rebuilding. Sources for a rebuild can only be other nodes in the cluster."))
        let sub = sim.nodetool("rebuild -ks shop -ts \(inside) -s 127.0.1.2 DC1", on: "127.0.2.1")
        #expect(sub.waiting != nil)
        let plan = try #require(try sim.state.streamPlans.first)
        #expect(plan.sessions.map(\.peer) == ["127.0.1.2"] && plan.sessions[0].ranges == ["shop": [[range.start, middle]]])
        #expect(sim.nodetool("info", on: "127.0.2.1").stdout.contains("Decommissioning        : false\n"))
        let v41 = try Sim(.v4_1)
        #expect(v41.nodetool("rebuild --exclude-local-dc DC1", on: "127.0.2.1").stdout == Self.usage("Found unexpected parameters: [--exclude-local-dc]"))
    }

    @Test(arguments: CassandraVersion.allCases)
    func decommissionRefusesToBreakAReplicationFactorFrom40On(version: CassandraVersion) throws {
        // shop has RF 3 in DC1 and DC1 has three nodes, as in the sample.
        let sim = try Sim(version, newDatacenter: nil)
        let output = sim.nodetool("decommission", on: "127.0.1.1")
        // Forced or on 3.11 it leaves at once: the other two DC1 nodes already hold all of shop.
        if version == .v3_11 {
            #expect(output == SimulatedOutput(), "3.11 has no such check")
            #expect(sim.nodetool("decommission -f", on: "127.0.1.2").stdout == Self.usage("Found unexpected parameters: [-f]"))
        } else {
            #expect(output.stdout == sample("decommission-rf.txt") && output.exitCode == 1)
            #expect(try !sim.state.nodes[0].leaving && !sim.state.nodes[0].decommissioned)
            #expect(sim.nodetool("decommission --force", on: "127.0.1.1") == SimulatedOutput(), "-f skips the check")
        }
        #expect(try sim.state.nodes[0].decommissioned)
    }

    @Test(arguments: CassandraVersion.allCases)
    func aDecommissionedNodeIsULWhileItStreamsAndGoneAfter(version: CassandraVersion) throws {
        let sim = try Sim(version, datacenters: "DC1:4x1", newDatacenter: nil)
        let leaving = "127.0.1.4"
        let decommission = sim.nodetool("decommission", on: leaving)
        #expect(decommission.stdout.isEmpty && decommission.waiting != nil)
        let status = sim.nodetool("status", on: "127.0.1.1").stdout
        #expect(status.contains("UL  \(leaving)"), "\(status)")
        let netstats = sim.nodetool("netstats", on: leaving).stdout
        let plan = try #require(try sim.state.streamPlans.first)
        #expect(netstats.hasPrefix("Mode: LEAVING\nUnbootstrap \(plan.id)\n"), "\(netstats)")
        #expect(netstats.contains("        Sending ") && !plan.sessions.isEmpty)
        #expect(sim.nodetool("netstats", on: plan.sessions[0].peer).stdout.contains("        Receiving "))
        if version >= .v4_0 { #expect(sim.nodetool("describecluster", on: "127.0.1.1").stdout.contains("\tLeaving: 1\n")) }
        if version == .v5_0 { #expect(sim.nodetool("info", on: leaving).stdout.contains("Decommissioning        : true\n")) }
        #expect(try NodetoolGossipInfo.parse(sim.nodetool("gossipinfo", on: "127.0.1.2").stdout).endpoint(leaving)?.status?.hasPrefix("LEAVING,") == true)
        let again = sim.nodetool("decommission", on: leaving)
        #expect(again.stdout == (version == .v5_0 ? sample("decommission-inprogress-5.0.txt") : Self.usage("Node is still decommissioning. Check nodetool netstats.")))
        #expect(again.exitCode == (version == .v5_0 ? 0 : 1))

        try sim.advance(Double(plan.bytes) / 100_000_000 + 1)
        #expect(try sim.resume(decommission) == SimulatedOutput())
        #expect(!sim.nodetool("status", on: "127.0.1.1").stdout.contains(leaving))
        #expect(!sim.nodetool("describering shop", on: "127.0.1.2").stdout.contains(leaving))
        #expect(!sim.nodetool("describecluster", on: "127.0.1.3").stdout.contains(leaving))
        #expect(sim.nodetool("netstats", on: leaving).stdout.hasPrefix("Mode: DECOMMISSIONED\nNot sending any streams.\n"))
        let info = sim.nodetool("info", on: leaving).stdout
        #expect(info.contains("Gossip active          : false\n") && info.contains("Token                  : (node is not joined to the cluster)\n"))
        #expect(!sim.nodetool("status", on: leaving).stdout.contains(leaving), "its own ring dropped it too")
        #expect(try NodetoolGossipInfo.parse(sim.nodetool("gossipinfo", on: "127.0.1.2").stdout).endpoint(leaving)?.status?.hasPrefix("LEFT,") == true)
        #expect(sim.nodetool("statusbinary", on: leaving).stdout == "not running\n")
        let third = sim.nodetool("decommission", on: leaving)
        #expect(third.stdout == (version == .v5_0 ? sample("decommission-already-5.0.txt") : Self.usage("Unsupported operation: local node is not a member of the token ring yet")))
        let received = try sim.state.nodes.prefix(3).reduce(Int64(0)) { $0 + ($1.keyspaceBytes?["shop"] ?? 0) }
        #expect(received > 0 && sim.dataFiles(plan.sessions[0].peer, "shop").count > 4, "the receivers got its data")
        let start = SimulatedSystemctl.run(["restart", "cassandra"], directory: sim.directory, node: leaving, now: sim.now)
        #expect(start.exitCode == 1, "a decommissioned node does not rejoin")
    }

    @Test(arguments: [CassandraVersion.v4_1, .v5_0])
    func aFailedDecommissionLeavesTheNodeLeavingUntilARestart(version: CassandraVersion) throws {
        let sim = try Sim(version, datacenters: "DC1:4x1", newDatacenter: nil)
        try sim.fault("127.0.1.4", "stream-fail")
        let failed = sim.nodetool("decommission", on: "127.0.1.4")
        #expect(failed.exitCode == 2 && failed.stderr.hasPrefix("error: Error while decommissioning node: Stream failed\n-- StackTrace --\n"))
        #expect(sim.nodetool("netstats", on: "127.0.1.4").stdout.hasPrefix(version == .v5_0 ? "Mode: DECOMMISSION_FAILED\n" : "Mode: LEAVING\n"))
        #expect(sim.nodetool("status", on: "127.0.1.1").stdout.contains("UL  127.0.1.4"))
        _ = SimulatedSystemctl.run(["restart", "cassandra"], directory: sim.directory, node: "127.0.1.4", now: sim.now)
        #expect(sim.nodetool("netstats", on: "127.0.1.4").stdout.hasPrefix("Mode: NORMAL\n"))
        #expect(sim.nodetool("status", on: "127.0.1.1").stdout.contains("UN  127.0.1.4"))
    }

    @Test func aBootstrappingNodeIsJoiningEverywhereUntilItsTimeIsUp() throws {
        let sim = try Sim(.v4_1, datacenters: "DC1:4x1", newDatacenter: nil)
        let directory = sim.directory, at = sim.now
        try sim.change { (cluster: inout SimulatedCluster) throws(SimulationError) in
            try cluster.startBootstrap("127.0.1.4", seconds: 30, now: at + cluster.clockOffset, directory: directory)
        }
        let status = try NodetoolStatus.parse(sim.nodetool("status", on: "127.0.1.1").stdout)
        #expect(status.node("127.0.1.4")?.state == .joining && status.node("127.0.1.4")?.owns == nil)
        #expect(sim.nodetool("describecluster", on: "127.0.1.2").stdout.contains("\tJoining: 1\n"))
        let netstats = sim.nodetool("netstats", on: "127.0.1.4").stdout
        #expect(netstats.hasPrefix("Mode: JOINING\nBootstrap ") && netstats.contains("        Receiving "), "\(netstats)")
        #expect(sim.nodetool("decommission", on: "127.0.1.4").stdout == Self.usage("Unsupported operation: local node is not a member of the token ring yet"))
        try sim.advance(31)
        #expect(try NodetoolStatus.parse(sim.nodetool("status", on: "127.0.1.1").stdout).node("127.0.1.4")?.state == .normal)
        #expect(sim.nodetool("netstats", on: "127.0.1.4").stdout.hasPrefix("Mode: NORMAL\nNot sending any streams.\n"))
    }

    @Test func hostRunsTheCommandAsAnotherNode() throws {
        let sim = try Sim()
        let state = try sim.state
        #expect(sim.nodetool("-h 127.0.1.2 info", on: "127.0.1.1").stdout.hasPrefix("ID                     : \(state.nodes[1].hostID)\n"))
        #expect(sim.nodetool("--host 127.0.0.1 info", on: "127.0.1.1").stdout.hasPrefix("ID                     : \(state.nodes[0].hostID)\n"))
        try sim.change { $0.nodes[1].running = false }
        let down = sim.nodetool("-h 127.0.1.2 netstats", on: "127.0.1.1")
        #expect(down.stderr == "nodetool: Failed to connect to '127.0.1.2:7199' - ConnectException: 'Connection refused'.\n" && down.exitCode == 1)
        #expect(sim.nodetool("-h 10.9.9.9 -p 7299 status", on: "127.0.1.1").stderr.hasPrefix("nodetool: Failed to connect to '10.9.9.9:7299'"))
    }

    @Test(arguments: CassandraVersion.allCases)
    func alteringAKeyspaceChangesDescribeclusterAndDescribering(version: CassandraVersion) throws {
        let sim = try Sim(version)
        let before = try NodetoolDescribeRing.parse(sim.nodetool("describering shop", on: "127.0.1.1").stdout)
        #expect(before.ranges.allSatisfy { $0.endpoints.count == 3 })
        try sim.alter("shop", "DC1:3,DC2:3")
        let after = try NodetoolDescribeRing.parse(sim.nodetool("describering shop", on: "127.0.1.1").stdout)
        #expect(after.ranges.allSatisfy { $0.endpoints.count == 6 })
        if version >= .v4_0 {
            #expect(sim.nodetool("describecluster", on: "127.0.2.1").stdout.contains("\tshop -> Replication class: NetworkTopologyStrategy {DC1=3, DC2=3}\n"))
        }
        #expect(throws: SimulationError.self) { try sim.alter("shop", "DC9:3") }
    }
}
