import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// Repair driven the way an operator drives it: `cassandra-agent run` on a
/// simulated node, `cassandra-agent job start|cancel repair`, `jobs`, status.
@Suite(.serialized) struct DaemonRepairTests {
    static let repairSection = """
    repair:
      enabled: true
      schedule: "0 1 * * SUN"
      type: primary-range
      splay: 0s
      retries: 1
      retryBackoff: 1s
      segmentTimeout: 20s
    """

    func job(_ agent: AgentUnderTest, _ arguments: [String]) throws -> ProcessResult {
        try runAgent(arguments + ["--socket", agent.socket])
    }

    func repairJob(_ agent: AgentUnderTest, within seconds: Double = 30, _ condition: (StatusDocument.Job) -> Bool) async throws -> StatusDocument.Job? {
        try await agent.waitFor(seconds) { $0.jobs["repair"].map(condition) ?? false }?.jobs["repair"]
    }

    func sim(_ agent: AgentUnderTest, _ arguments: [String]) throws {
        let result = try runProcess(Paths.simulatorExecutable, arguments + ["--dir", agent.sim])
        #expect(result.exitCode == 0, "cassandra-sim \(arguments): \(result.stderr)")
    }

    /// The nodetool repair processes of this cluster still alive.
    func repairProcesses(_ agent: AgentUnderTest) -> [String] { agent.simulatorProcesses(running: "repair") }

    @Test func runNowRepairCompletesWithProgressAndTheJobCommandsReportIt() async throws {
        let agent = try AgentUnderTest(simulator: ["--repair-seconds", "2"])
        try agent.drop(agent.desiredState(extra: Self.repairSection))
        let idle = try #require(try await repairJob(agent) { $0.enabled && $0.state == .idle })
        #expect(idle.nextRun?.hasSuffix("T01:00:00Z") == true)
        let started = try job(agent, ["job", "start", "repair"])
        #expect(started.exitCode == 0, "\(started.stderr)")
        #expect(started.stdout.contains("started"))
        // A second start while it runs is refused with the reason.
        let again = try job(agent, ["job", "start", "repair"])
        #expect(again.exitCode == 1)
        #expect(again.stderr.contains("refused:"))
        // RF > 1 keyspaces of the simulated cluster: shop (3), system_distributed (3), system_traces (2).
        if let running = try await repairJob(agent) { $0.current?.segment != nil || $0.lastRun != nil }, running.lastRun == nil {
            #expect(running.current?.segments == 3)
            #expect(running.current?.step.hasPrefix("repairing") == true || running.current?.step.hasPrefix("checking") == true || running.current?.step == "between segments")
        }
        let done = try #require(try await repairJob(agent) { $0.lastRun != nil })
        #expect(done.lastRun?.result == "succeeded", "\(String(describing: done.lastRun))")
        #expect(done.lastRun?.reason == "repaired 3 segment(s) of shop, system_distributed, system_traces")
        #expect(done.current == nil && done.state == .idle)
        let simState = try SimulationDirectory(agent.sim).load()
        #expect(simState.repairCommands == 3)
        let list = try job(agent, ["jobs"])
        #expect(list.exitCode == 0)
        #expect(list.stdout.contains("repair: idle"))
        #expect(list.stdout.contains(": succeeded at "))
        #expect(list.stdout.contains("backup: disabled"))
        let json = try job(agent, ["jobs", "--json"])
        let decoded = try JSONDecoder().decode([String: StatusDocument.Job].self, from: Data(json.stdout.utf8))
        #expect(decoded["repair"]?.lastRun?.id == done.lastRun?.id)
        let metrics = try #require(try StatusClient.get("/metrics", socket: agent.socket).body)
        #expect(metrics.contains("cassandra_agent_job_runs_total{job=\"repair\",result=\"succeeded\"} 1"))
        #expect(metrics.contains("cassandra_agent_repair_segments_total{result=\"succeeded\"} 3"))
        // Nothing to cancel now; unknown kinds and an unreachable agent have their own exits.
        #expect(try job(agent, ["job", "cancel", "repair"]).exitCode == 1)
        #expect(try runAgent(["job", "start", "backups", "--socket", agent.socket]).exitCode == 64)
        #expect(try runAgent(["jobs", "--socket", agent.dir.path + "/nowhere.sock"]).exitCode == 3)
        #expect(agent.stop() == 0)
    }

    @Test func aSlotMissedWhileTheAgentWasDownRunsOnceAtStart() async throws {
        // The journal says the last slot handled was a week ago: this Sunday's 01:00 passed while the agent was down.
        let now = Date().timeIntervalSince1970
        let agent = try AgentUnderTest(simulator: ["--repair-seconds", "0.2"]) { dir in
            var journal = JobHistory()
            journal.lastSlot = now - 7 * 86400
            journal.trackedSince = now - 30 * 86400
            try JobHistoryStore(stateDirectory: dir.path + "/state").save(journal, .repair)
        }
        // An hourly schedule whose minute came two minutes ago.
        let minute = (Int(now / 60) - 2) % 60
        try agent.drop(agent.desiredState(extra: """
        repair:
          enabled: true
          schedule: "\(minute) * * * *"
          splay: 0s
          missedRunGrace: 1d
          keyspaces: [shop]
        """))
        let done = try #require(try await repairJob(agent) { $0.lastRun != nil })
        #expect(done.lastRun?.trigger == "missed")
        #expect(done.lastRun?.result == "succeeded")
        // Once: the next run is next hour's, not a backlog.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try SimulationDirectory(agent.sim).load().repairCommands == 1)
        #expect(try agent.status()?.jobs["repair"]?.nextRun != nil)
        // The overdue-cycle warning is gone now that a full cycle completed.
        #expect(try agent.status()?.checks.contains { $0.reason == "repair.overdue" } == false)
        #expect(agent.stop() == 0)
    }

    @Test func failuresAndGarbageEndTheRunWithAReasonWhileTheScheduleAndHealthSurvive() async throws {
        let agent = try AgentUnderTest(simulator: ["--repair-seconds", "0.2"])
        try agent.drop(agent.desiredState(extra: Self.repairSection))
        _ = try await repairJob(agent) { $0.state == .idle }
        try sim(agent, ["fault", "--node", "127.0.1.1", "repair-fail"])
        #expect(try job(agent, ["job", "start", "repair"]).exitCode == 0)
        let failed = try #require(try await repairJob(agent) { $0.lastRun != nil })
        #expect(failed.lastRun?.result == "failed")
        #expect(failed.lastRun?.reason?.contains("injected fault") == true, "\(failed.lastRun?.reason ?? "")")
        #expect(failed.nextRun != nil && failed.state == .idle)
        let status = try #require(try agent.status())
        #expect(status.checks.contains { $0.reason == "repair.failed" && $0.level == .warning })
        #expect(try StatusClient.get("/v1/health", socket: agent.socket).status == 200)

        try sim(agent, ["fault", "--node", "127.0.1.1", "all", "--clear"])
        try sim(agent, ["fault", "--node", "127.0.1.1", "garbage"])
        let first = failed.lastRun?.id
        try await Task.sleep(for: .seconds(1.1))   // run ids are per second
        #expect(try job(agent, ["job", "start", "repair"]).exitCode == 0)
        let garbage = try #require(try await repairJob(agent) { $0.lastRun?.id != first })
        #expect(garbage.lastRun?.result == "failed")
        #expect(garbage.lastRun?.reason?.contains("cannot plan the repair") == true, "\(garbage.lastRun?.reason ?? "")")
        #expect(try StatusClient.get("/v1/health", socket: agent.socket).status == 200)
        #expect(agent.stop() == 0)
    }

    @Test func aReplicaDownPostponesWithItsReasonAndCancelKillsTheChildAtOnce() async throws {
        let agent = try AgentUnderTest(simulator: ["--repair-seconds", "0.2"])
        try agent.drop(agent.desiredState(extra: Self.repairSection))
        _ = try await repairJob(agent) { $0.state == .idle }
        let other = SimulatedClusterTests.Cluster.sim
        _ = try other(["systemctl", "--dir", agent.sim, "--node", "127.0.1.2", "stop", "cassandra"])
        try sim(agent, ["clock", "--advance", "5"])
        #expect(try job(agent, ["job", "start", "repair"]).exitCode == 0)
        let postponed = try #require(try await repairJob(agent) { $0.current?.postponed != nil })
        #expect(postponed.current?.postponed?.contains("is down (127.0.1.2)") == true, "\(postponed.current?.postponed ?? "")")
        #expect(try SimulationDirectory(agent.sim).load().repairCommands == 0, "a postponed segment runs no repair")
        #expect(try job(agent, ["job", "cancel", "repair"]).exitCode == 0)
        let cancelled = try #require(try await repairJob(agent) { $0.lastRun != nil })
        #expect(cancelled.lastRun?.result == "cancelled")

        // A repair in flight: its nodetool is killed by the cancel, within a second.
        _ = try other(["systemctl", "--dir", agent.sim, "--node", "127.0.1.2", "start", "cassandra"])
        try sim(agent, ["clock", "--advance", "5"])
        // The repair never ends inside Cassandra, and its nodetool never returns until killed.
        try sim(agent, ["fault", "--node", "127.0.1.1", "repair-hang"])
        try await Task.sleep(for: .seconds(1.1))
        #expect(try job(agent, ["job", "start", "repair"]).exitCode == 0)
        _ = try await repairJob(agent, within: 30) { $0.current?.step.hasPrefix("repairing") == true }
        for _ in 0..<100 where repairProcesses(agent).isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!repairProcesses(agent).isEmpty)
        let cancelledAt = Date()
        #expect(try job(agent, ["job", "cancel", "repair"]).exitCode == 0)
        while !repairProcesses(agent).isEmpty && Date().timeIntervalSince(cancelledAt) < 5 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(repairProcesses(agent).isEmpty)
        #expect(Date().timeIntervalSince(cancelledAt) < 1.5, "the nodetool child is killed at once")
        let second = try #require(try await repairJob(agent, within: 30) { $0.lastRun?.id != cancelled.lastRun?.id && $0.lastRun != nil })
        #expect(second.lastRun?.result == "cancelled")
        // The session the killed nodetool left inside Cassandra was stopped too (stop VALIDATION fails it).
        let sessions = try SimulationDirectory(agent.sim).load().repairSessions
        #expect(!sessions.isEmpty && sessions.allSatisfy { $0.state != .running }, "\(sessions)")
        #expect(agent.stop() == 0)
    }

    @Test func aHungIncrementalRepairTimesOutAndIsCancelledInsideCassandra() async throws {
        let agent = try AgentUnderTest(simulator: ["--repair-seconds", "0.2"])
        try agent.drop(agent.desiredState(extra: """
        repair:
          enabled: true
          schedule: "0 1 * * SUN"
          type: incremental
          keyspaces: [shop]
          segmentTimeout: 2s
          retries: 0
        """))
        _ = try await repairJob(agent) { $0.state == .idle }
        try sim(agent, ["fault", "--node", "127.0.1.1", "repair-hang"])
        #expect(try job(agent, ["job", "start", "repair"]).exitCode == 0)
        let failed = try #require(try await repairJob(agent, within: 30) { $0.lastRun != nil })
        #expect(failed.lastRun?.result == "failed")
        #expect(failed.lastRun?.reason?.contains("timed out after 2s (repair.segmentTimeout) and was killed") == true, "\(failed.lastRun?.reason ?? "")")
        #expect(failed.lastRun?.reason?.contains("cancelled incremental repair session") == true, "\(failed.lastRun?.reason ?? "")")
        // Inside Cassandra the session is over: repair_admin cancelled it, nothing keeps running.
        let sessions = try SimulationDirectory(agent.sim).load().repairSessions
        #expect(!sessions.isEmpty && sessions.allSatisfy { $0.state != .running }, "\(sessions)")
        #expect(repairProcesses(agent).isEmpty)
        #expect(try StatusClient.get("/v1/health", socket: agent.socket).status == 200)
        #expect(failed.nextRun != nil)
        #expect(agent.stop() == 0)
    }

    @Test func aDesiredStateChangeWaitsForTheRepairStepAndIsInstalledAfter() async throws {
        let agent = try AgentUnderTest(simulator: ["--repair-seconds", "0.2"])
        try agent.drop(agent.desiredState(extra: Self.repairSection))
        _ = try await repairJob(agent) { $0.state == .idle }
        try sim(agent, ["fault", "--node", "127.0.1.1", "repair-hang"])
        #expect(try job(agent, ["job", "start", "repair"]).exitCode == 0)
        _ = try await repairJob(agent) { $0.current?.step.hasPrefix("repairing") == true }
        // A live-settable change while the repair's segment runs: it waits, nothing is installed.
        try agent.drop(agent.desiredState(settings: ["compaction_throughput: 32MiB/s"], extra: Self.repairSection))
        let deferred = try #require(try await agent.waitFor(30) { $0.reconcile.deferred != nil })
        #expect(deferred.reconcile.deferred?.reason.contains("holds the node and is in its step \"repairing") == true, "\(String(describing: deferred.reconcile.deferred))")
        #expect(deferred.checks.contains { $0.reason == "reconcile.deferred" })
        #expect(deferred.desiredState.generation == 1)
        #expect(try SimulationDirectory(agent.sim).load().node(agent.node)?.liveCommands.contains("setcompactionthroughput 32") == false)
        // The step ends (cancelled here): the change goes in at once, with its live setter.
        #expect(try job(agent, ["job", "cancel", "repair"]).exitCode == 0)
        let installed = try #require(try await agent.waitFor(30) { $0.desiredState.generation == 2 })
        #expect(installed.reconcile.deferred == nil)
        #expect(try SimulationDirectory(agent.sim).load().node(agent.node)?.liveCommands.contains("setcompactionthroughput 32") == true)
        #expect(agent.stop() == 0)
    }

    @Test func aRepairAndABackupStartedTogetherNeverRunAtOnce() async throws {
        let agent = try AgentUnderTest(simulator: ["--repair-seconds", "0.2"])
        let destination = agent.dir.path + "/backups"
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        try agent.drop(agent.desiredState(extra: Self.repairSection + """

        backup:
          enabled: true
          schedule: "0 3 * * *"
          retention: 48h
          destination: file://\(destination)
        """))
        _ = try await repairJob(agent) { $0.state == .idle }
        try sim(agent, ["fault", "--node", "127.0.1.1", "repair-hang"])
        #expect(try job(agent, ["job", "start", "repair"]).exitCode == 0)
        _ = try await repairJob(agent) { $0.current?.step.hasPrefix("repairing") == true }
        // The backup asked for while the repair holds the node is refused, with the holder named.
        let backup = try job(agent, ["job", "start", "backup"])
        #expect(backup.exitCode == 1)
        #expect(backup.stderr.contains("the repair run repair-"), "\(backup.stderr)")
        #expect(try agent.status()?.jobs["backup"]?.current == nil)
        #expect(!(try runProcess(Paths.simulatorExecutable, ["nodetool", "--dir", agent.sim, "--node", agent.node, "listsnapshots"]).stdout.contains("cassandra-agent-")),
                "no backup snapshot was taken while the repair held the node")
        // Once the repair is over, the backup may start (and the repair is refused while it runs).
        #expect(try job(agent, ["job", "cancel", "repair"]).exitCode == 0)
        _ = try await repairJob(agent) { $0.lastRun?.result == "cancelled" }
        try sim(agent, ["fault", "--node", "127.0.1.1", "all", "--clear"])
        let started = try job(agent, ["job", "start", "backup"])
        #expect(started.exitCode == 0, "\(started.stderr)")
        let repairNow = try job(agent, ["job", "start", "repair"])
        if repairNow.exitCode == 1 {
            #expect(repairNow.stderr.contains("the backup run backup-"), "\(repairNow.stderr)")
        }
        let done = try await agent.waitFor(60) { $0.jobs["backup"]?.lastRun != nil }
        #expect(done?.jobs["backup"]?.lastRun?.result == "succeeded", "\(String(describing: done?.jobs["backup"]?.lastRun))")
        #expect(agent.stop() == 0)
    }

    @Test func aKillDuringARepairLeavesItInterruptedAndTheNextAgentResumesIt() async throws {
        let agent = try AgentUnderTest(simulator: ["--repair-seconds", "4"])
        try agent.drop(agent.desiredState(extra: Self.repairSection))
        _ = try await repairJob(agent) { $0.state == .idle }
        #expect(try job(agent, ["job", "start", "repair"]).exitCode == 0)
        _ = try await repairJob(agent) { $0.current?.step.hasPrefix("repairing") == true }
        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()
        // The journal still says running: only the next agent may say otherwise, and it says interrupted.
        let (journal, _) = JobHistoryStore(stateDirectory: agent.dir.path + "/state").load(.repair)
        #expect(journal.current != nil)
        try? FileManager.default.removeItem(atPath: agent.socket)
        let next = try BackgroundProcess(Paths.agentExecutable, ["run", "--config", agent.configFile], environment: ProcessInfo.processInfo.environment)
        defer { next.terminate(); next.waitUntilExit() }
        let resumed = try #require(try await repairJob(agent, within: 60) { $0.lastRun?.trigger == "resume" })
        #expect(resumed.lastRun?.result == "succeeded")
        let history = JobHistoryStore(stateDirectory: agent.dir.path + "/state").load(.repair).history
        #expect(history.runs.map(\.result) == [.interrupted, .succeeded])
        #expect(history.runs.first?.reason?.hasPrefix("the agent stopped during \"repairing shop\"") == true)
        #expect(resumed.current == nil)
    }
}
