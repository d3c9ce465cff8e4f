import Testing
@testable import CassandraAgent

/// Rebuild and decommission without a process, a disk or a clock: the preflight
/// checks, the netstats streams they read, and the two workflows, on the sample
/// cluster of ../shared/nodetool (dc1: 10.10.1.11-13; dc2: 10.20.1.21 UN,
/// 10.20.1.22 DN, 10.20.1.23 UJ; shop {dc1=3, dc2=3}, analytics {dc1=2}).
struct HybridJobTests {
    /// The sample cluster as `me` sees it, with `change` applied to its status rows.
    func view(me: String, version: String = "4.1", _ change: (inout NodetoolStatus) -> Void = { _ in }) throws -> ClusterView {
        var status = try NodetoolStatus.parse(sample("status-\(version).txt"))
        change(&status)
        let keyspaces = try NodetoolDescribeCluster.parse(sample("describecluster-\(version).txt")).keyspaces.map(KeyspaceReplication.init)
        return ClusterView(status: status, me: me, keyspaces: keyspaces, keyspacesListed: true, mode: .normal, loadBytes: 1_000)
    }

    /// The system keyspaces moved to NetworkTopologyStrategy in both datacenters, as the runbooks ask before a rebuild.
    func altered(_ view: ClusterView) -> ClusterView {
        var v = view
        for i in v.keyspaces.indices where v.keyspaces[i].datacenters == nil && !v.keyspaces[i].local {
            v.keyspaces[i].datacenters = ["dc1": 3, "dc2": 3]
        }
        return v
    }

    /// Everyone UN, so that only the check under test can refuse.
    func allNormal(_ status: inout NodetoolStatus) {
        for i in status.nodes.indices { status.nodes[i].liveness = .up; status.nodes[i].state = .normal }
    }

    func refusal(_ result: Result<[String], Refusal>) -> String {
        if case .failure(let refusal) = result { return refusal.message }
        return "accepted: \(result)"
    }

    // MARK: netstats

    @Test func netstatsReadsBothDirectionsOfEveryPlanAndPeer() throws {
        let text = """
        Mode: NORMAL
        Rebuild 0a1b2c3d-0000-4000-8000-000000000001
            /127.0.1.1
                Receiving 3 files, 3000 bytes total. Already received 1 files (33.33%), 1200 bytes total (40.00%)
                    /var/lib/cassandra/data/shop/orders-0123/nb-7-big-Data.db 1000/1000 bytes (100%) received from idx:0/127.0.1.1
            /127.0.1.2 (using /10.0.0.2)
                Receiving 2 files, 500 bytes total. Already received 0 files (0.00%), 100 bytes total (20.00%)
        Bulk Load 0a1b2c3d-0000-4000-8000-000000000002
            /127.0.1.3
                Sending 1 files, 10 bytes total. Already sent 1 files (100.00%), 10 bytes total (100.00%)
        Read Repair Statistics:
        Attempted: 0

        """
        let netstats = try NodetoolNetstats.parse(text)
        #expect(netstats.plans.map(\.operation) == ["Rebuild", "Bulk Load"])
        let receiving = netstats.transfers("Rebuild", .receiving)
        #expect(receiving.map(\.peer) == ["127.0.1.1", "127.0.1.2"])
        #expect(receiving.map(\.bytesDone) == [1200, 100] && receiving.map(\.files) == [3, 2])
        #expect(netstats.transfers("Bulk Load", .sending).first?.filesDone == 1)
        #expect(throws: NodetoolParseError.self) { try NodetoolNetstats.parse("Mode: NORMAL\nRebuild x\n        Receiving garbage\n") }
    }

    @Test(arguments: versions)
    func everyVersionsSampleStreamIsRead(version: String) throws {
        let transfer = try #require(NodetoolNetstats.parse(sample("netstats-\(version).txt")).transfers("Bootstrap", .sending).first)
        #expect(transfer == .init(peer: "10.20.1.23", direction: .sending, files: 4, bytes: 312_475_648, filesDone: 1, bytesDone: 140_509_184))
    }

    // MARK: rebuild preflight

    @Test func aNodeOfTheNewDatacenterRebuildsEveryKeyspaceThatReplicatesToIt() throws {
        let result = RebuildPreflight.keyspaces(sourceDC: "dc1", requested: [], view: altered(try view(me: "10.20.1.21")))
        // analytics keeps no replica in dc2: none of this node's business.
        #expect(try result.get() == ["shop", "system_auth", "system_distributed", "system_traces"])
    }

    @Test func simpleStrategyKeyspacesAreRefusedUntilAlteredOrLeftOut() throws {
        let message = refusal(RebuildPreflight.keyspaces(sourceDC: "dc1", requested: [], view: try view(me: "10.20.1.21")))
        #expect(message.contains("keyspace system_auth uses SimpleStrategy") && message.contains("--keyspace"))
        #expect(try RebuildPreflight.keyspaces(sourceDC: "dc1", requested: ["shop"], view: try view(me: "10.20.1.21")).get() == ["shop"])
    }

    @Test func aSourceThatHoldsAlmostNothingHasNotBeenRebuiltAndIsRefused() throws {
        // dc2 replicates shop but its nodes hold a few KiB: it has not been rebuilt, there is nothing to copy from it.
        let v = altered(try view(me: "10.10.1.11") { status in
            for i in status.nodes.indices where status.nodes[i].datacenter == "dc2" { status.nodes[i].load = 40_000 }
        })
        #expect(refusal(RebuildPreflight.keyspaces(sourceDC: "dc2", requested: ["shop"], view: v)).contains("datacenter dc2 holds almost no data"))
    }

    @Test func theWrongSourceDatacenterIsRefusedBeforeAnythingStreams() throws {
        let dc2 = try view(me: "10.20.1.21")
        #expect(refusal(RebuildPreflight.keyspaces(sourceDC: "dc3", requested: [], view: dc2)).contains("datacenter 'dc3' is not in the cluster: nodetool status shows dc1, dc2"))
        #expect(refusal(RebuildPreflight.keyspaces(sourceDC: "DC1", requested: [], view: dc2)).contains("case-sensitive"))
        #expect(refusal(RebuildPreflight.keyspaces(sourceDC: "dc2", requested: [], view: dc2)).contains("is this node's own"))
        #expect(refusal(RebuildPreflight.keyspaces(sourceDC: nil, requested: [], view: dc2)).contains("--source-dc"))
    }

    @Test func aKeyspaceTheSourceDoesNotHoldIsTheTrapAndIsRefused() throws {
        // A dc1 node "rebuilding" from dc2: analytics has no replica in dc2.
        let message = refusal(RebuildPreflight.keyspaces(sourceDC: "dc2", requested: [], view: try view(me: "10.10.1.11")))
        #expect(message.contains("keyspace analytics does not replicate to the source datacenter dc2 (replication: dc1=2)"))
        #expect(message.contains("mark its ranges as available without copying any data"))
    }

    @Test func aKeyspaceThatDoesNotReplicateHereIsRefusedWhenNamed() throws {
        let message = refusal(RebuildPreflight.keyspaces(sourceDC: "dc1", requested: ["analytics"], view: try view(me: "10.20.1.21")))
        #expect(message.contains("keyspace analytics does not replicate to this node's datacenter dc2"))
        #expect(refusal(RebuildPreflight.keyspaces(sourceDC: "dc1", requested: ["nosuch"], view: try view(me: "10.20.1.21"))).contains("keyspace nosuch does not exist"))
        #expect(try RebuildPreflight.keyspaces(sourceDC: "dc1", requested: ["shop"], view: try view(me: "10.20.1.21")).get() == ["shop"])
    }

    @Test func aSourceWithNoNodeUpIsRefused() throws {
        let down = try view(me: "10.20.1.21") { status in
            for i in status.nodes.indices where status.nodes[i].datacenter == "dc1" { status.nodes[i].liveness = .down }
        }
        #expect(refusal(RebuildPreflight.keyspaces(sourceDC: "dc1", requested: [], view: down)).contains("no node of datacenter dc1 is up and normal"))
    }

    @Test func onThreeElevenTheKeyspacesMustBeNamed() throws {
        var v = try view(me: "10.20.1.21")
        v.keyspacesListed = false
        #expect(refusal(RebuildPreflight.keyspaces(sourceDC: "dc1", requested: [], view: v)).contains("3.11's nodetool cannot list keyspaces"))
    }

    @Test func describeringAloneTellsWhichDatacentersAKeyspaceReplicatesTo() throws {
        let replication = KeyspaceReplication(name: "shop", ring: try NodetoolDescribeRing.parse(sample("describering-3.11.txt")))
        #expect(replication.replicates(to: "dc1") && replication.replicates(to: "dc2") && !replication.replicates(to: "dc3"))
    }

    @Test func nodesOfThisDatacenterRebuildingAreSeenInTheirSourcesNetstats() throws {
        let v = try view(me: "10.20.1.21")
        let source = NodetoolNetstats(mode: .normal, plans: [
            .init(operation: "Rebuild", id: "p1", transfers: [.init(peer: "10.20.1.23", direction: .sending, files: 1, bytes: 1, filesDone: 0, bytesDone: 0)]),
            // A repair stream, and a rebuild of a node of another datacenter, do not count.
            .init(operation: "Repair", id: "p2", transfers: [.init(peer: "10.20.1.22", direction: .sending, files: 1, bytes: 1, filesDone: 0, bytesDone: 0)]),
            .init(operation: "Rebuild", id: "p3", transfers: [.init(peer: "10.10.1.12", direction: .sending, files: 1, bytes: 1, filesDone: 0, bytesDone: 0)]),
        ])
        #expect(RebuildPreflight.rebuilding(peersOf: v, sourceNetstats: [source, source]) == ["10.20.1.23"])
        let last = try view(me: "10.20.1.23")
        #expect(RebuildPreflight.rank(of: v) == 0 && RebuildPreflight.rank(of: last) == 2)
    }

    // MARK: decommission preflight

    @Test func decommissionIsRefusedWhileAnotherNodeJoins() throws {
        let message = DecommissionPreflight.check(requested: [], view: try view(me: "10.10.1.11"))?.message ?? ""
        #expect(message.contains("another node is changing the ring: 10.20.1.23 (dc2, joining)"))
    }

    @Test func decommissionIsRefusedWhenItWouldBreakAReplicaCount() throws {
        // shop keeps 3 replicas in dc1, which has 3 nodes.
        let message = DecommissionPreflight.check(requested: [], view: try view(me: "10.10.1.11", allNormal))?.message ?? ""
        #expect(message.contains("keyspace shop keeps 3 replicas in dc1, which would have 2 node(s) left"))
    }

    @Test func decommissionPassesOnceTheDatacenterIsDroppedFromReplication() throws {
        var v = try view(me: "10.10.1.11", allNormal)
        for i in v.keyspaces.indices where v.keyspaces[i].datacenters?["dc1"] != nil { v.keyspaces[i].datacenters?["dc1"] = nil }
        // SimpleStrategy keyspaces (RF 3 at most) still fit in the five other nodes.
        #expect(DecommissionPreflight.check(requested: [], view: v) == nil)
        v.mode = .leaving
        #expect(DecommissionPreflight.check(requested: [], view: v)?.message.contains("mode LEAVING") == true)
    }

    @Test func decommissionIsRefusedWhileANodeOfItsDatacenterIsDown() throws {
        var v = try view(me: "10.20.1.21") { status in
            for i in status.nodes.indices where status.nodes[i].state == .joining { status.nodes[i].state = .normal }
        }
        for i in v.keyspaces.indices { v.keyspaces[i].datacenters?["dc2"] = nil }
        #expect(DecommissionPreflight.check(requested: [], view: v)?.message.contains("10.20.1.22 of datacenter dc2 is down") == true)
    }

    // MARK: rebuild workflow

    func receiving(_ done: Int64, of total: Int64, from peer: String = "10.10.1.12") -> NodetoolNetstats {
        NodetoolNetstats(mode: .normal, plans: [.init(operation: "Rebuild", id: "p", transfers: [
            .init(peer: peer, direction: .receiving, files: 4, bytes: total, filesDone: done == total ? 4 : 1, bytesDone: done),
        ])])
    }

    func settings(_ change: (inout StreamingSettings) -> Void = { _ in }) -> StreamingSettings {
        var s = StreamingSettings()
        s.pollInterval = 10
        s.stallTimeout = 60
        s.stagger = 5
        change(&s)
        return s
    }

    @Test func aRebuildWaitsForItsTurnThenStreamsWithProgressAndSucceeds() throws {
        var w = RebuildWorkflow(sourceDC: "dc1", keyspaces: [], settings: settings())
        #expect(w.start() == .readCluster)
        #expect(w.handle(.cluster(.success(altered(try view(me: "10.20.1.21", allNormal))), now: 0)) == .readSources(["10.10.1.12", "10.10.1.11", "10.10.1.13"]))
        // 10.20.1.23 is rebuilding: this node waits.
        let busy = NodetoolNetstats(mode: .normal, plans: [.init(operation: "Rebuild", id: "x", transfers: [.init(peer: "10.20.1.23", direction: .sending, files: 1, bytes: 9, filesDone: 0, bytesDone: 1)])])
        #expect(w.handle(.sources([busy], unreadable: [:], now: 1)) == .wait(until: 11))
        #expect(w.progress().postponed?.contains("10.20.1.23 of dc2 is rebuilding") == true)
        #expect(w.handle(.timer(now: 11)) == .readSources(["10.10.1.12", "10.10.1.11", "10.10.1.13"]))
        // Free, and this node is first in dc2's order: no stagger.
        #expect(w.handle(.sources([NodetoolNetstats(mode: .normal)], unreadable: [:], now: 12)) == .rebuild(keyspace: nil, arguments: ["rebuild", "dc1"], timeout: StreamingSettings().timeout))
        #expect(w.handle(.progress(nil, now: 12)) == .poll(until: 22))
        #expect(w.handle(.progress(receiving(100, of: 1000), now: 22)) == .poll(until: 32))
        #expect(w.progress().bytesDone == 100 && w.progress().streams?.first?.peer == "10.10.1.12")
        guard case .finish(.succeeded, let reason) = w.handle(.rebuildEnded(.succeeded, loadBytes: 2_000, now: 40)) else { Issue.record("not finished"); return }
        #expect(reason.contains("rebuilt every keyspace from dc1"))
        // The run's record keeps what its stream moved.
        #expect(w.progress().step == "done" && w.progress().bytesDone == 100 && w.progress().streams?.first?.direction == "receiving")
    }

    @Test func aNodeLaterInItsDatacentersOrderStaggersBeforeAFreeTurn() throws {
        var w = RebuildWorkflow(sourceDC: "dc1", keyspaces: ["shop"], settings: settings())
        _ = w.start()
        _ = w.handle(.cluster(.success(try view(me: "10.20.1.23", allNormal)), now: 0))
        #expect(w.handle(.sources([], unreadable: [:], now: 0)) == .wait(until: 10))   // place 3: 2 x 5 s
        _ = w.handle(.timer(now: 10))
        #expect(w.handle(.sources([], unreadable: [:], now: 10)) == .rebuild(keyspace: "shop", arguments: ["rebuild", "-ks", "shop", "dc1"], timeout: StreamingSettings().timeout))
    }

    @Test func sourcesWhoseNetstatsCannotBeReadFailTheRunClosedWithTheWayOut() throws {
        var w = RebuildWorkflow(sourceDC: "dc1", keyspaces: [], settings: settings())
        _ = w.start()
        _ = w.handle(.cluster(.success(altered(try view(me: "10.20.1.21", allNormal))), now: 0))
        guard case .finish(.failed, let reason) = w.handle(.sources([], unreadable: ["10.10.1.11": "Connection refused"], now: 0)) else { Issue.record("not failed"); return }
        #expect(reason.contains("10.10.1.11: Connection refused") && reason.contains("rebuild.maxParallelPerDatacenter: 0"))
    }

    @Test func aStreamWithoutProgressForTheStallTimeoutIsKilledAndFails() throws {
        var w = RebuildWorkflow(sourceDC: "dc1", keyspaces: [], settings: settings { $0.maxParallelPerDatacenter = 0 })
        _ = w.start()
        #expect(w.handle(.cluster(.success(altered(try view(me: "10.20.1.21", allNormal))), now: 0)) == .rebuild(keyspace: nil, arguments: ["rebuild", "dc1"], timeout: StreamingSettings().timeout))
        _ = w.handle(.progress(receiving(500, of: 1000), now: 10))
        #expect(w.handle(.progress(receiving(500, of: 1000), now: 60)) == .poll(until: 70))
        guard case .kill(let reason) = w.handle(.progress(receiving(500, of: 1000), now: 71)) else { Issue.record("not killed"); return }
        #expect(reason.contains("no new bytes streamed for ") && reason.contains("500 of 1000 bytes"))
        guard case .finish(.failed, let final) = w.handle(.rebuildEnded(.killed, loadBytes: nil, now: 72)) else { Issue.record("not failed"); return }
        #expect(final == reason)
    }

    @Test func aRebuildThatStreamedNothingFromASourceWithDataFails() throws {
        var w = RebuildWorkflow(sourceDC: "dc1", keyspaces: [], settings: settings { $0.maxParallelPerDatacenter = 0 })
        _ = w.start()
        _ = w.handle(.cluster(.success(altered(try view(me: "10.20.1.21", allNormal))), now: 0))
        guard case .finish(.failed, let reason) = w.handle(.rebuildEnded(.succeeded, loadBytes: 1_000, now: 5)) else { Issue.record("not failed"); return }
        #expect(reason.contains("system.available_ranges"))
    }

    @Test func aFailedRebuildSaysWhatNodetoolSaid() throws {
        var w = RebuildWorkflow(sourceDC: "dc1", keyspaces: ["shop"], settings: settings { $0.maxParallelPerDatacenter = 0 })
        _ = w.start()
        _ = w.handle(.cluster(.success(altered(try view(me: "10.20.1.21", allNormal))), now: 0))
        guard case .finish(.failed, let reason) = w.handle(.rebuildEnded(.failed("error: Error while rebuilding node: Stream failed"), loadBytes: nil, now: 5)) else { Issue.record("not failed"); return }
        #expect(reason == "nodetool rebuild of shop failed: error: Error while rebuilding node: Stream failed")
    }

    // MARK: decommission workflow

    @Test func aDecommissionStreamsAwayAndTheNodeHasLeft() throws {
        var w = DecommissionWorkflow(keyspaces: [], settings: settings())
        var v = try view(me: "10.20.1.21", allNormal)
        for i in v.keyspaces.indices { v.keyspaces[i].datacenters?["dc2"] = nil }
        _ = w.start()
        #expect(w.handle(.cluster(.success(v), now: 0)) == .decommission(arguments: ["decommission"], timeout: StreamingSettings().timeout))
        let leaving = NodetoolNetstats(mode: .leaving, plans: [.init(operation: "Unbootstrap", id: "u", transfers: [.init(peer: "10.20.1.22", direction: .sending, files: 2, bytes: 200, filesDone: 1, bytesDone: 120)])])
        #expect(w.handle(.progress(leaving, now: 10)) == .poll(until: 20))
        guard case .finish(.succeeded, let reason) = w.handle(.ended(.succeeded, stdout: "", now: 30)) else { Issue.record("not finished"); return }
        #expect(reason.contains("the node has left the cluster (120 bytes handed to 10.20.1.22)"))
    }

    @Test func fivePointOhsStillDecommissioningIsFollowedToItsEnd() throws {
        var w = DecommissionWorkflow(keyspaces: [], settings: settings())
        var v = try view(me: "10.20.1.21", allNormal)
        for i in v.keyspaces.indices { v.keyspaces[i].datacenters?["dc2"] = nil }
        _ = w.start()
        _ = w.handle(.cluster(.success(v), now: 0))
        #expect(w.handle(.ended(.succeeded, stdout: "This node is still decommissioning.\n", now: 1)) == .poll(until: 11))
        #expect(w.handle(.progress(NodetoolNetstats(mode: .leaving), now: 11)) == .poll(until: 21))
        guard case .finish(.succeeded, _) = w.handle(.progress(NodetoolNetstats(mode: .decommissioned), now: 21)) else { Issue.record("not finished"); return }
    }

    @Test func aDecommissionAlreadyUnderWayIsFollowedNotStartedAgain() throws {
        var w = DecommissionWorkflow(keyspaces: [], settings: settings())
        var v = try view(me: "10.20.1.21", allNormal)
        v.mode = .leaving
        v.status.nodes[v.status.nodes.firstIndex { $0.endpoint.address == "10.20.1.21" }!].state = .leaving
        _ = w.start()
        #expect(w.handle(.cluster(.success(v), now: 0)) == .poll(until: 0))
        let leaving = NodetoolNetstats(mode: .leaving, plans: [.init(operation: "Unbootstrap", id: "u", transfers: [.init(peer: "10.20.1.22", direction: .sending, files: 2, bytes: 200, filesDone: 1, bytesDone: 120)])])
        #expect(w.handle(.progress(leaving, now: 0)) == .poll(until: 10))
        guard case .finish(.succeeded, let reason) = w.handle(.progress(NodetoolNetstats(mode: .decommissioned), now: 10)) else { Issue.record("not finished"); return }
        #expect(reason.contains("the node has left the cluster (120 bytes handed to 10.20.1.22)"))
    }

    @Test func aRefusedDecommissionChangesNothing() throws {
        var w = DecommissionWorkflow(keyspaces: [], settings: settings())
        _ = w.start()
        guard case .finish(.failed, let reason) = w.handle(.cluster(.success(try view(me: "10.10.1.11", allNormal)), now: 0)) else { Issue.record("not refused"); return }
        #expect(reason.hasPrefix("refused, nothing changed: keyspace shop keeps 3 replicas in dc1"))
    }

    // MARK: settings

    @Test func theSectionsAreValidatedWithTheirLines() {
        let text = """
        apiVersion: cassandra-agent/v1
        cassandra: {version: "4.1"}
        cluster: {name: Test, seeds: [10.0.0.1]}
        node: {datacenter: dc1, rack: rack1, listenAddress: 10.0.0.1}
        rebuild:
          maxParallelPerDatacenter: -1
          stallTimeout: soon
          pollinterval: 1s
        decommission:
          timeout: 2h
          maxParallelPerDatacenter: 2
        """
        var diagnostics = Diagnostics(file: "ds.yaml")
        _ = DesiredStateLoader.load(text: text, diagnostics: &diagnostics)
        let errors = diagnostics.sorted.map(\.description).joined(separator: "\n")
        #expect(errors.contains("ds.yaml:6:29: error: rebuild.maxParallelPerDatacenter must be from 0 (no bound) to 1000, found -1"))
        #expect(errors.contains("ds.yaml:7:17: error: rebuild.stallTimeout 'soon' is not a duration"))
        #expect(errors.contains("ds.yaml:8:3: error:") && errors.contains("pollinterval"))
        #expect(errors.contains("ds.yaml:11:3: error:") && errors.contains("maxParallelPerDatacenter"))
    }
}
