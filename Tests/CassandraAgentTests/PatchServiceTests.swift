import CassandraAgentTestSupport
import Foundation
import Logging
import Synchronization
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// nodetool, systemctl and the patch command of one simulated node, answered
/// in-process by the simulator at the manual clock's time.
final class SimulatorRunner: ProcessRunner {
    let directory: SimulationDirectory
    let node: String
    let clock: ManualClock
    let failPatch = Mutex(false)
    /// Like a kill -9 of the agent right after nodetool drain returned: the call never comes back.
    let dieAfterDrain = Mutex(false)
    /// Like a kill -9 at any moment: every call from now on never comes back (`hung` counts them).
    let freeze = Mutex(false)
    let hung = Mutex(0)
    /// Other racks found down (or still starting) when this node was drained: must stay empty.
    let downAtDrain = Mutex<[String]>([])

    init(directory: SimulationDirectory, node: String, clock: ManualClock) {
        self.directory = directory
        self.node = node
        self.clock = clock
    }

    func run(_ command: ProcessCommand) async throws(ProcessLaunchError) -> ProcessOutput {
        let words = Array(command.arguments.dropFirst())
        if freeze.withLock({ $0 }) {
            hung.withLock { $0 += 1 }
            await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
        }
        var out: SimulatedOutput
        switch command.arguments.first {
        case "nodetool":
            if words.first == "drain", let cluster = try? directory.load(), let me = cluster.node(node) {
                let now = clock.now() + cluster.clockOffset
                let down = cluster.nodes.filter { $0.rack != me.rack && (!$0.running || $0.drained || $0.starting(cluster, at: now)) }
                downAtDrain.withLock { $0 += down.map(\.address) }
            }
            out = SimulatedNodetool.run(words, directory: directory, node: node, now: clock.now())
            if words.first == "drain", dieAfterDrain.withLock({ $0 }) {
                await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
            }
        case "systemctl": out = SimulatedSystemctl.run(words, directory: directory, node: node, now: clock.now())
        case "/sim/patch":
            let node = node
            let fail = failPatch.withLock { $0 }
            _ = try? directory.withState { (cluster: inout SimulatedCluster) throws(SimulationError) in
                let i = cluster.nodes.firstIndex { $0.address == node }!
                cluster.nodes[i].events = (cluster.nodes[i].events ?? []) + [cluster.nodes[i].running ? "patch-while-running" : "patch"]
            }
            out = SimulatedOutput(stderr: fail ? "E: failed\n" : "", exitCode: fail ? 1 : 0)
        default: throw ProcessLaunchError(command: command.executable, reason: "not simulated")
        }
        if out.delay == .infinity {
            return ProcessOutput(exitCode: nil, signal: 9, stdout: "", stderr: "", timedOut: true)
        }
        return ProcessOutput(exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr)
    }
}

/// One `PatchService` per node of a simulated cluster, all on one manual clock.
final class PatchCluster: Sendable {
    let directory = TemporaryDirectory()
    let clock: ManualClock
    let sim: SimulationDirectory
    let addresses: [String]
    let snapshots: [Published<JobSnapshot>]
    let services: [PatchService]
    let runners: [SimulatorRunner]
    let make: @Sendable (Int, SimulatorRunner) -> PatchService

    // 2026-12-06 is a Sunday.
    static let sunday0400 = Double(CivilDate.days(year: 2026, month: 12, day: 6) * 86400 + 4 * 3600)

    init(layout: String = "dc1:3x2", patching: String = "", startSeconds: Double = 20, gossipDelay: Double = 3, prepare: (inout SimulatedCluster) -> Void = { _ in }) throws {
        clock = ManualClock(now: Self.sunday0400 - 30)
        sim = SimulationDirectory(directory.path + "/sim")
        var cluster = try SimulatedCluster.make(name: "SimCluster", version: .v4_1, datacenters: layout, gossipDelay: gossipDelay, repairSeconds: 1, now: clock.now())
        cluster.startSeconds = startSeconds
        prepare(&cluster)
        try sim.create(cluster, simulator: "/bin/true")
        addresses = cluster.nodes.map(\.address)
        let text = desiredState(version: "4.1", extra: """
        patching:
          enabled: true
          window: "SUN 04:00-06:00"
          command: ["/usr/bin/apt-get", "-y", "upgrade"]
          commandPrefix: ["/sim/patch"]
          reboot: never
          settle: 10s
          pollInterval: 2s
          upTimeout: 5m
        \(patching)
        """)
        guard case .success(let validated) = validate(text) else { throw SimulationError("invalid desired state: \(errors(text))") }
        let state = validated.state
        let snapshots = addresses.map { _ in Published(JobSnapshot(kind: .patching)) }
        let (root, clock, addresses) = (directory.path, clock, addresses)
        let make: @Sendable (Int, SimulatorRunner) -> PatchService = { i, runner in
            var c = AgentConfiguration()
            c.nodetool = ["nodetool"]
            c.systemctl = ["systemctl"]
            c.stateDirectory = root + "/agent-" + addresses[i]
            return PatchService(.init(configuration: c, clock: clock, runner: runner, lease: NodeLease(clock: clock), desiredState: { state },
                                      snapshot: snapshots[i], logger: Logger(label: "patch-\(addresses[i])")))
        }
        let sim = sim
        let runners = addresses.map { SimulatorRunner(directory: sim, node: $0, clock: clock) }
        let services = runners.indices.map { make($0, runners[$0]) }
        self.make = make
        self.snapshots = snapshots
        self.services = services
        self.runners = runners
    }

    func state() throws -> SimulatedCluster { try sim.load() }

    /// Moves the clock from deadline to deadline, a second at most, until `condition` holds.
    func drive(_ what: String, limit: Double = 3 * 3600, mustHappen: Bool = true, _ condition: () throws -> Bool) async throws {
        let end = clock.now() + limit
        while clock.now() < end {
            if try condition() { return }
            // Let every service reach its next wait before time moves.
            for _ in 0..<20 { await Task.yield() }
            try await Task.sleep(for: .milliseconds(3))
            let next = min(clock.nextDeadline ?? clock.now() + 1, clock.now() + 1)
            clock.advance(to: max(next, clock.now() + 0.25))
        }
        guard mustHappen else { return }
        Issue.record("\(what) did not happen; \(snapshots.map { "\($0.value.patching?.step ?? "-") \($0.value.lastRun?.reason ?? "")" })")
        throw CancellationError()
    }
}

@Suite struct PatchServiceTests {
    @Test func aWindowPatchesRackByRackWithADrainBeforeEveryStop() async throws {
        let c = try PatchCluster()
        var tasks: [Task<Void, Error>] = []
        for service in c.services { let s = service; tasks.append(Task { try await s.run() }) }
        defer { tasks.forEach { $0.cancel() } }
        try await c.drive("every node patched") { c.snapshots.allSatisfy { $0.value.lastRun?.result == .succeeded } }
        // No node was drained while a node of another rack was down or still starting.
        #expect(c.runners.allSatisfy { $0.downAtDrain.withLock { $0.isEmpty } })
        let cluster = try c.state()
        for node in cluster.nodes {
            #expect(node.events == ["drain", "stop", "patch", "start"], "\(node.address): \(node.events ?? [])")
        }
        // Rack by rack: every node of a rack started before any node of the next drained.
        let generations = Dictionary(grouping: cluster.nodes, by: \.rack).mapValues { $0.map(\.generation) }
        #expect(generations["rack1"]!.max()! < generations["rack2"]!.min()!)
        #expect(generations["rack2"]!.max()! < generations["rack3"]!.min()!)
        #expect(c.snapshots[0].value.lastRun?.reason == "drained, stopped, patched and started; the node is UN to its peers")
    }

    @Test func anAgentKilledRightAfterItsDrainResumesTheTurnWithoutDrainingAgain() async throws {
        let c = try PatchCluster()
        c.runners[0].dieAfterDrain.withLock { $0 = true }
        var tasks: [Task<Void, Error>] = []
        for service in c.services { let s = service; tasks.append(Task { try await s.run() }) }
        defer { tasks.forEach { $0.cancel() } }
        try await c.drive("node 1 drained") { try c.state().nodes[0].drained }
        // The agent is gone (its drain never returned); a new one starts on the same state directory.
        let fresh = c.make(0, SimulatorRunner(directory: c.sim, node: c.addresses[0], clock: c.clock))
        tasks.append(Task { try await fresh.run() })
        try await c.drive("every node patched") { c.snapshots.allSatisfy { $0.value.lastRun?.result == .succeeded } }
        let cluster = try c.state()
        #expect(cluster.nodes[0].events == ["drain", "stop", "patch", "start"])
        let history = c.snapshots[0].value.history
        #expect(history.runs.map(\.result) == [.interrupted, .succeeded])
        #expect(history.runs.first?.reason?.contains("during \"draining (nodetool drain)\"") == true)
        #expect(history.runs.last?.trigger == .resume)
    }

    @Test func anAgentRestartedWhileWaitingForItsRackWaitsAgainInTheSameWindow() async throws {
        let c = try PatchCluster()
        var tasks: [Task<Void, Error>] = []
        for service in c.services { let s = service; tasks.append(Task { try await s.run() }) }
        defer { tasks.forEach { $0.cancel() } }
        try await c.drive("node 6 waiting for its rack") { c.snapshots[5].value.current?.progress?.patchTurn?.step == .waiting }
        c.runners[5].freeze.withLock { $0 = true }
        try await c.drive("node 6's agent stuck") { c.runners[5].hung.withLock { $0 } > 0 }
        let fresh = c.make(5, SimulatorRunner(directory: c.sim, node: c.addresses[5], clock: c.clock))
        tasks.append(Task { try await fresh.run() })
        try await c.drive("every node patched") { c.snapshots.allSatisfy { $0.value.lastRun?.result == .succeeded } }
        #expect(try c.state().nodes[5].events == ["drain", "stop", "patch", "start"])
        #expect(c.snapshots[5].value.history.runs.map(\.result) == [.interrupted, .succeeded])
    }

    @Test func aNodeThatFailsToStartHaltsTheWindowCriticalOnItWarningOnTheOthers() async throws {
        let c = try PatchCluster { cluster in cluster.nodes[2].faults["fail-start"] = 1 }  // 127.0.1.3, rack2
        var tasks: [Task<Void, Error>] = []
        for service in c.services { let s = service; tasks.append(Task { try await s.run() }) }
        defer { tasks.forEach { $0.cancel() } }
        try await c.drive("the failed start to halt the window") {
            c.snapshots[2].value.lastRun?.result == .failed && c.snapshots[4].value.patching?.heldBy == "127.0.1.3"
        }
        // Let time pass: rack3 never goes.
        try await c.drive("nothing", limit: 120, mustHappen: false) { false }
        let cluster = try c.state()
        #expect(cluster.nodes[4].events == nil && cluster.nodes[5].events == nil)
        #expect(c.snapshots[2].value.patching?.haltedHere?.contains("did not start") == true)
        // Its rack-mate came back and is done; rack3 waits, named the node that holds it.
        #expect(c.snapshots[3].value.lastRun?.result == .succeeded)
        func check(_ i: Int) -> HealthCheck? {
            let inputs = StatusInputs(host: "n\(i)", reconcile: ReconcileSnapshot(desiredStatePath: "x"), observation: nil, jobs: [c.snapshots[i].value],
                                      observeInterval: 10, expiryWarningDays: 30, now: c.clock.now())
            return StatusAssembler.document(inputs).checks.first { $0.reason.hasPrefix("patching.halted") }
        }
        #expect(check(2)?.level == .critical && check(2)?.reason == "patching.halted_here")
        #expect(check(4)?.level == .warning && check(4)?.message.contains("halted by 127.0.1.3") == true)
        #expect(check(0) == nil)
    }
}
