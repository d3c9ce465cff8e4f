import CassandraAgentTestSupport
import Foundation
import Logging
import Testing
@testable import CassandraAgent

/// The repair service in-process: a manual clock, nodetool answered from the
/// recorded 4.1 samples, the journal in a temporary state directory.
final class RepairHarness: Sendable {
    let directory = TemporaryDirectory()
    let clock: ManualClock
    let runner = ScriptedProcessRunner(prefix: ["nodetool"])
    let lease: NodeLease
    let snapshot = Published(JobSnapshot(kind: .repair))
    let desired: Published<DesiredState?>
    var configuration: AgentConfiguration {
        var c = AgentConfiguration()
        c.nodetool = ["nodetool"]
        c.stateDirectory = directory.path
        return c
    }

    // 2026-12-06 is a Sunday; the schedule fires at 01:00.
    static let sunday0100 = Double(CivilDate.days(year: 2026, month: 12, day: 6) * 86400 + 3600)

    init(repair: String = "", now: Double = RepairHarness.sunday0100 - 60) {
        clock = ManualClock(now: now)
        lease = NodeLease(clock: clock)
        let text = desiredState(version: "4.1", extra: "repair:\n  enabled: true\n  schedule: \"0 1 * * SUN\"\n  splay: 0s\n" + repair)
        guard case .success(let validated) = validate(text) else { fatalError("invalid test desired state: \(errors(text))") }
        desired = Published(validated.state)
        let allUp = ScriptedProcessRunner.fixture("status-4.1.txt").replacing("DN  10.20.1.22", with: "UN  10.20.1.22").replacing("UJ  10.20.1.23", with: "UN  10.20.1.23")
        runner.on(["info"], fixture: "info-4.1.txt")
        runner.on(["status"], .output(stdout: allUp))
        runner.on(["describecluster"], fixture: "describecluster-4.1.txt")
        runner.on(["describering"], fixture: "describering-4.1.txt")
        runner.on(["compactionstats"], fixture: "compactionstats-idle-4.1.txt")
        runner.on(["repair"], fixture: "repair-pr-success-4.1.txt")
        runner.on(["stop", "VALIDATION"], .output(stdout: ""))
    }

    func service() -> RepairService {
        let desired = desired
        return RepairService(.init(configuration: configuration, clock: clock, runner: runner, lease: lease, desiredState: { desired.value },
                                   hostID: { "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41" }, snapshot: snapshot, logger: Logger(label: "test")))
    }

    var repairs: [[String]] { runner.calls.filter { $0.first == "repair" } }

    /// Waits (briefly, in real time) until the published snapshot satisfies `condition`.
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

@Suite struct RepairServiceTests {
    @Test func aScheduledRunRepairsEveryReplicatedKeyspaceWithPrimaryRangeFlags() async throws {
        let h = RepairHarness()
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle with a next run") { $0.state == .idle && $0.nextRun == RepairHarness.sunday0100 }
        #expect(h.repairs.isEmpty)
        #expect(await h.clock.waitForSleepers())
        h.clock.advance(to: RepairHarness.sunday0100)
        try await h.until("the run to end") { $0.lastRun != nil }
        let last = h.snapshot.value.lastRun
        #expect(last?.result == .succeeded)
        #expect(last?.trigger == .schedule)
        #expect(last?.id == "repair-20261206T010000Z")
        // RF > 1 keyspaces from describecluster (system_auth has RF 1 and is left out), each as -pr -full.
        #expect(h.repairs == [["repair", "-pr", "-full", "analytics"], ["repair", "-pr", "-full", "shop"], ["repair", "-pr", "-full", "system_distributed"], ["repair", "-pr", "-full", "system_traces"]])
        // Back-pressure is read before every segment.
        #expect(h.runner.calls.filter { $0 == ["compactionstats"] }.count == 4)
        // The journal on disk says the same, for the next start of the agent.
        let (history, problem) = JobHistoryStore(stateDirectory: h.directory.path).load(.repair)
        #expect(problem == nil && history.current == nil && history.lastRun?.result == .succeeded)
        #expect(history.lastSlot == RepairHarness.sunday0100 && history.lastCompleteCycleAt == RepairHarness.sunday0100)
        try await h.until("the next week's slot") { $0.nextRun == RepairHarness.sunday0100 + 7 * 86400 && $0.state == .idle }
    }

    @Test func aRunCutShortIsInterruptedThenResumedAtItsSegment() async throws {
        let h = RepairHarness()
        // What the journal holds after a kill -9 during the third of four segments.
        let nodetool = NodetoolClient(prefix: ["nodetool"], runner: h.runner, version: .v4_1)
        let plan = try await RepairTargets(nodetool: nodetool).plan(for: h.desired.value!.repair!, keyspaces: [])
        var cut = JobRunRecord(id: "repair-20261206T003000Z", kind: .repair, trigger: .schedule, startedAt: RepairHarness.sunday0100 - 1800)
        var progress = JobProgress(step: "repairing system_distributed")
        progress.resumeAt = 2
        progress.planFingerprint = plan.fingerprint
        cut.progress = progress
        var journal = JobHistory()
        journal.start(cut)
        journal.lastSlot = RepairHarness.sunday0100 - 1800
        try JobHistoryStore(stateDirectory: h.directory.path).save(journal, .repair)
        h.runner.calls.forEach { _ in }
        let before = h.runner.calls.count

        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("the resumed run to end") { $0.lastRun?.trigger == .resume }
        let history = h.snapshot.value.history
        #expect(history.runs.map(\.result) == [.interrupted, .succeeded])
        #expect(history.runs[0].id == "repair-20261206T003000Z")
        #expect(history.runs[0].reason?.contains("resumes at its next segment") == true)
        #expect(history.runs[1].resumes == "repair-20261206T003000Z")
        // Only the segments not yet done: the third and the fourth.
        let repairs = h.runner.calls.dropFirst(before).filter { $0.first == "repair" }
        #expect(Array(repairs) == [["repair", "-pr", "-full", "system_distributed"], ["repair", "-pr", "-full", "system_traces"]])
        #expect(h.snapshot.value.current == nil)
    }

    @Test func oneJobAtATimeQueuesScheduledRunsAndRefusesManualOnes() async throws {
        let h = RepairHarness()
        // Another job (a backup) holds the node.
        #expect(await h.lease.tryBeginJob(.backup, runID: "backup-1", reconcileBetweenSteps: true) == nil)
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle }
        let refused = await service.start(keyspaces: [])
        guard case .failure(let busy) = refused else { Issue.record("a manual start on a busy node must be refused"); return }
        #expect(busy.message.hasPrefix("the node is busy: the backup run backup-1 holds it since"))
        #expect(await h.clock.waitForSleepers())
        h.clock.advance(to: RepairHarness.sunday0100)
        try await h.until("queued behind the backup") { $0.state == .queued }
        #expect(h.snapshot.value.stateReason?.contains("backup-1") == true)
        #expect(h.repairs.isEmpty)
        await h.lease.endJob("backup-1")
        try await h.until("the queued run to end") { $0.lastRun?.result == .succeeded }
        #expect(h.repairs.count == 4)
        // And the reverse: while the repair holds the node, a backup may not start.
        #expect(await h.lease.busyMessage(for: .backup) == nil)
    }

    @Test func cancelKillsTheHungNodetoolAndStopsTheRepairInsideCassandra() async throws {
        let h = RepairHarness()
        h.runner.on(["repair"], .hang)
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle }
        guard case .success = await service.start(keyspaces: ["shop"]) else { Issue.record("manual start refused"); return }
        try await h.until("repairing") { $0.current?.progress?.step.hasPrefix("repairing shop") == true }
        #expect(await h.lease.busyMessage(for: .backup)?.message.contains("repair") == true)
        #expect(await service.cancel())
        try await h.until("cancelled") { $0.lastRun?.result == .cancelled }
        #expect(h.repairs == [["repair", "-pr", "-full", "shop"]])
        #expect(h.runner.calls.contains(["stop", "VALIDATION"]))
        #expect(h.snapshot.value.lastRun?.trigger == .manual)
        #expect(await h.lease.busyMessage(for: .backup) == nil)
        #expect(await service.cancel() == false)
    }

    @Test func aTimedOutSegmentIsStoppedServerSideRetriedAndReported() async throws {
        let h = RepairHarness(repair: "  segmentTimeout: 2s\n  retries: 1\n  retryBackoff: 10s\n  keyspaces: [shop]\n")
        h.runner.on(["repair"], .hang)
        h.runner.on(["stop", "VALIDATION"], .output(stdout: "", stderr: "error: JMX connection closed\n", exitCode: 2))
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle }
        guard case .success = await service.start(keyspaces: []) else { Issue.record("manual start refused"); return }
        // The hang ends at the segment timeout (real seconds here: the runner's own timeout), then a 10 s backoff on the manual clock.
        try await h.until("backing off") { $0.current?.progress?.step.hasPrefix("retry 1 of 1") == true }
        #expect(h.snapshot.value.current?.progress?.serverSideWarning?.contains("may still be running inside Cassandra") == true)
        h.clock.advance(by: 10)
        try await h.until("failed") { $0.lastRun?.result == .failed }
        #expect(h.repairs.count == 2)
        let inputs = StatusInputs(host: "h", reconcile: ReconcileSnapshot(desiredStatePath: "/x"), observation: nil, jobs: [h.snapshot.value],
                                  observeInterval: 10, expiryWarningDays: 30, now: h.clock.now())
        let reasons = NodeChecks.all(inputs).map(\.reason)
        #expect(reasons.contains("repair.failed") && reasons.contains("repair.server_side_running"))
    }
}

@Suite struct RepairChecksTests {
    @Test func anOverdueCycleAndALongPostponementWarn() {
        var job = JobSnapshot(kind: .repair)
        job.enabled = true
        job.deadlineSeconds = 0.7 * 864_000
        job.gcGraceSeconds = 864_000
        job.history.trackedSince = 0
        var run = JobRunRecord(id: "repair-1", kind: .repair, trigger: .schedule, startedAt: 0)
        var progress = JobProgress(step: "postponed")
        progress.postponed = "a replica of shop is down (10.0.0.2)"
        progress.postponedSince = 600_000
        run.progress = progress
        job.current = run
        func reasons(_ now: Double) -> [String] {
            NodeChecks.all(StatusInputs(host: "h", reconcile: ReconcileSnapshot(desiredStatePath: "/x"), observation: nil, jobs: [job],
                                        observeInterval: 10, expiryWarningDays: 30, now: now)).filter { $0.level == .warning }.map(\.reason)
        }
        #expect(!reasons(600_100).contains("repair.postponed"))
        #expect(reasons(602_000).contains("repair.postponed"))
        #expect(!reasons(600_000).contains("repair.overdue"))
        #expect(reasons(610_000).contains("repair.overdue"))
        job.history.lastCompleteCycleAt = 500_000
        #expect(!reasons(610_000).contains("repair.overdue"))
    }
}
