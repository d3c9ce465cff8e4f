import CassandraAgentTestSupport
import Foundation
import Logging
import Testing
@testable import CassandraAgent

/// The rebuild and decommission service in-process: a manual clock, nodetool
/// answered from the recorded 4.1 samples (this node is 10.20.1.21 of dc2, or
/// 10.10.1.11 of dc1), the journal in a temporary state directory.
final class StreamingHarness: Sendable {
    let directory = TemporaryDirectory()
    let clock = ManualClock(now: 1_000_000)
    let runner = ScriptedProcessRunner(prefix: ["nodetool"])
    let lease: NodeLease
    let snapshot: Published<JobSnapshot>
    let desired: Published<DesiredState?>
    let kind: JobKind

    static let dc2Node = "93f0a7b2-2d5c-4e1f-8b6a-0c9d4e3f2a17"

    init(_ kind: JobKind, hostID: String = StreamingHarness.dc2Node) {
        self.kind = kind
        lease = NodeLease(clock: clock)
        snapshot = Published(JobSnapshot(kind: kind))
        guard case .success(let validated) = validate(desiredState(version: "4.1", extra: "rebuild:\n  pollInterval: 1s\n  stallTimeout: 30s\n")) else { fatalError("invalid test desired state") }
        desired = Published(validated.state)
        let allUp = ScriptedProcessRunner.fixture("status-4.1.txt").replacing("DN  10.20.1.22", with: "UN  10.20.1.22").replacing("UJ  10.20.1.23", with: "UN  10.20.1.23")
        runner.on(["info"], .output(stdout: ScriptedProcessRunner.fixture("info-4.1.txt").replacing("2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41", with: hostID)))
        runner.on(["status"], .output(stdout: allUp))
        runner.on(["describecluster"], fixture: "describecluster-4.1.txt")
        runner.on(["netstats"], fixture: "netstats-idle-4.1.txt")
        runner.on(["-h"], fixture: "netstats-idle-4.1.txt")
        runner.on(["rebuild"], .hang)
        runner.on(["decommission"], .hang)
    }

    func service() -> StreamingJobService {
        var configuration = AgentConfiguration()
        configuration.nodetool = ["nodetool"]
        configuration.stateDirectory = directory.path
        let desired = desired
        return StreamingJobService(.init(kind: kind, configuration: configuration, clock: clock, runner: runner, lease: lease,
                                         desiredState: { desired.value }, snapshot: snapshot, logger: Logger(label: "test")))
    }

    func calls(_ command: String) -> [[String]] { runner.calls.filter { $0.first == command } }

    func until(_ what: String, _ condition: (JobSnapshot) -> Bool) async throws {
        for _ in 0..<2500 where !condition(snapshot.value) {
            try await Task.sleep(for: .milliseconds(2))
        }
        guard condition(snapshot.value) else {
            Issue.record("timed out waiting for \(what); snapshot: \(snapshot.value.state) \(String(describing: snapshot.value.current?.progress)) \(String(describing: snapshot.value.lastRun))")
            throw CancellationError()
        }
    }
}

@Suite struct StreamingJobServiceTests {
    @Test func aRebuildFromAWrongDatacenterIsRefusedBeforeAnyNodetoolRebuild() async throws {
        let h = StreamingHarness(.rebuild)
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle }
        guard case .success = await service.start(keyspaces: [], sourceDC: "dc3") else { Issue.record("not accepted"); return }
        try await h.until("the run to end") { $0.lastRun != nil }
        #expect(h.snapshot.value.lastRun?.result == .failed)
        #expect(h.snapshot.value.lastRun?.reason?.contains("datacenter 'dc3' is not in the cluster") == true)
        #expect(h.calls("rebuild").isEmpty)
        // The node is free again, and the journal says what happened.
        #expect(await h.lease.busyMessage(for: .repair) == nil)
        #expect(try FileIO.readText(h.directory.path + "/jobs/rebuild.json").contains("is not in the cluster"))
    }

    @Test func aRebuildNeedsItsSourceAndRespectsTheLease() async throws {
        let h = StreamingHarness(.rebuild)
        let service = h.service()
        guard case .failure(let missing) = await service.start(keyspaces: [], sourceDC: nil) else { Issue.record("accepted without a source"); return }
        #expect(missing.message.contains("--source-dc DC"))
        #expect(await h.lease.tryBeginJob(.repair, runID: "repair-1", reconcileBetweenSteps: true) == nil)
        guard case .failure(let busy) = await service.start(keyspaces: [], sourceDC: "dc1") else { Issue.record("accepted while a repair holds the node"); return }
        #expect(busy.message.contains("the repair run repair-1 holds it"))
    }

    @Test func aCancelledRebuildKillsNodetoolAndSaysStreamingMayGoOn() async throws {
        let h = StreamingHarness(.rebuild)
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle }
        guard case .success = await service.start(keyspaces: ["shop"], sourceDC: "dc1") else { Issue.record("not accepted"); return }
        try await h.until("rebuilding") { $0.current?.progress?.step == "rebuilding of shop from dc1" }
        for _ in 0..<500 where h.calls("rebuild").isEmpty { try await Task.sleep(for: .milliseconds(2)) }
        #expect(h.calls("rebuild") == [["rebuild", "-ks", "shop", "dc1"]])
        // The turn was checked at every UN node of dc1, over JMX.
        #expect(Set(h.calls("-h").map { $0[1] }) == ["10.10.1.11", "10.10.1.12", "10.10.1.13"])
        #expect(await service.cancel())
        try await h.until("the run to end") { $0.lastRun != nil }
        #expect(h.snapshot.value.lastRun?.result == .cancelled)
        #expect(h.snapshot.value.lastRun?.reason?.contains("Cassandra may still be streaming") == true)
        #expect(await h.lease.busyMessage(for: .repair) == nil)
    }

    @Test func unreadableSourcesFailTheRebuildClosed() async throws {
        let h = StreamingHarness(.rebuild)
        h.runner.on(["-h"], .output(stdout: "", stderr: "nodetool: Failed to connect to '10.10.1.11:7199' - ConnectException: 'Connection refused'.\n", exitCode: 1))
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle }
        _ = await service.start(keyspaces: ["shop"], sourceDC: "dc1")
        try await h.until("the run to end") { $0.lastRun != nil }
        #expect(h.snapshot.value.lastRun?.reason?.contains("could not be read over JMX") == true)
        #expect(h.calls("rebuild").isEmpty)
    }

    @Test func aDecommissionThatWouldBreakAReplicaCountIsRefused() async throws {
        let h = StreamingHarness(.decommission, hostID: "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41")
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle }
        guard case .failure = await service.start(keyspaces: [], sourceDC: "dc1") else { Issue.record("a decommission took a source datacenter"); return }
        _ = await service.start(keyspaces: [], sourceDC: nil)
        try await h.until("the run to end") { $0.lastRun != nil }
        #expect(h.snapshot.value.lastRun?.result == .failed)
        #expect(h.snapshot.value.lastRun?.reason?.contains("keyspace shop keeps 3 replicas in dc1, which would have 2 node(s) left") == true)
        #expect(h.calls("decommission").isEmpty)
    }
}

/// The hybrid checklist's extra read (describecluster) in the observation loop.
@Suite struct HybridObservationTests {
    @Test func theClusterIsReadForTheChecklistOncePerRefreshNotOnEveryPass() async throws {
        let clock = ManualClock(now: 1_000_000)
        let runner = ScriptedProcessRunner(prefix: ["tool"])
        runner.on(["show"], .output(stdout: "ActiveState=active\nSubState=running\nMainPID=42\n"))
        runner.on(["info"], fixture: "info-4.1.txt")
        runner.on(["status"], fixture: "status-4.1.txt")   // two datacenters
        runner.on(["statusbinary"], fixture: "statusbinary-running.txt")
        runner.on(["statusgossip"], fixture: "statusgossip-running.txt")
        runner.on(["netstats"], fixture: "netstats-idle-4.1.txt")
        runner.on(["describecluster"], fixture: "describecluster-4.1.txt")
        var configuration = AgentConfiguration()
        configuration.nodetool = ["tool"]
        configuration.systemctl = ["tool"]
        let published = Published<NodeObservation?>(nil)
        guard case .success(let validated) = validate(desiredState(version: "4.1")) else { Issue.record("invalid desired state"); return }
        let service = ObservationService(configuration: configuration, published: published, desiredState: { validated.state },
                                         clock: clock, runner: runner, logger: Logger(label: "test"))
        func pass() async { let o = await service.observe(); published.update { $0 = o } }
        await pass()
        #expect(published.value?.snitch == HybridChecklist.snitch && published.value?.keyspaces?.isEmpty == false)
        clock.advance(to: clock.now() + 10)
        await pass()
        #expect(runner.calls.filter { $0.first == "describecluster" }.count == 1)
        #expect(published.value?.keyspaces?.contains { $0.name == "shop" } == true, "carried over from the last read")
        clock.advance(to: clock.now() + ObservationService.clusterRefresh)
        await pass()
        #expect(runner.calls.filter { $0.first == "describecluster" }.count == 2)
    }
}
