import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// `backup restore` as a job of the running agent, driven as an operator drives
/// it: the command asks the agent, which holds the node for the restore.
@Suite(.serialized) struct DaemonRestoreTests {
    let backups = DaemonBackupTests()

    func sim(_ agent: AgentUnderTest, _ arguments: [String]) throws {
        let result = try runProcess(Paths.simulatorExecutable, arguments + ["--dir", agent.sim])
        #expect(result.exitCode == 0, "cassandra-sim \(arguments): \(result.stderr)")
    }

    func restoreJob(_ agent: AgentUnderTest, within seconds: Double = 60, _ condition: (StatusDocument.Job) -> Bool) async throws -> StatusDocument.Job? {
        try await agent.waitFor(seconds) { $0.jobs["restore"].map(condition) ?? false }?.jobs["restore"]
    }

    func stagingDirectories(_ agent: AgentUnderTest) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: backups.dataRoot(agent) + "/shop")) ?? []).filter { $0.hasPrefix(".cassandra-agent-restore-") }
    }

    @Test func aRestoreIsRefusedWhileARepairHoldsTheNodeThenRunsAsAJobAndTheCommandSaysHowItEnded() async throws {
        let agent = try AgentUnderTest(simulator: ["--repair-seconds", "0.2"])
        let destination = agent.dir.path + "/backups"
        try agent.drop(agent.desiredState(extra: DaemonRepairTests.repairSection + "\n" + DaemonBackupTests.backupSection(destination)))
        _ = try #require(try await backups.backupJob(agent) { $0.enabled && $0.state == .idle })
        let backup = try await backups.backUp(agent)
        #expect(backup.result == "succeeded", "\(backup.reason ?? "")")
        let shop = backups.liveFiles(agent, keyspace: "shop")
        #expect(!shop.isEmpty)
        for path in shop.keys { try FileManager.default.removeItem(atPath: backups.dataRoot(agent) + "/" + path) }

        // Nobody behind the socket: 3, as for every command that asks the agent.
        #expect(try runAgent(["backup", "restore", backup.id, "--socket", agent.dir.path + "/nobody.sock"]).exitCode == 3)

        // A repair holds the node: the restore is refused with the holder named, and nothing is loaded.
        try sim(agent, ["fault", "--node", agent.node, "repair-hang"])
        #expect(try backups.run(agent, ["job", "start", "repair"]).exitCode == 0)
        _ = try #require(try await agent.waitFor(30) { $0.jobs["repair"]?.current?.step.hasPrefix("repairing") == true })
        let refused = try backups.local(agent, ["backup", "restore", backup.id, "--keyspace", "shop"])
        #expect(refused.exitCode == 1)
        #expect(refused.stderr.contains("refused: the node is busy: the repair run repair-"), "\(refused.stderr)")
        // A dry run changes nothing, so it takes no lease: it answers while the repair runs.
        let dry = try backups.local(agent, ["backup", "restore", backup.id, "--keyspace", "shop", "--dry-run"])
        #expect(dry.exitCode == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would restore shop.") && dry.stdout.contains("(nodetool import)"), "\(dry.stdout)")
        #expect(backups.liveFiles(agent, keyspace: "shop").isEmpty)
        #expect(stagingDirectories(agent).isEmpty)
        #expect(try agent.status()?.jobs.keys.contains("restore") == false, "a refused request is no run")
        #expect(try backups.run(agent, ["job", "cancel", "repair"]).exitCode == 0)
        _ = try #require(try await agent.waitFor(30) { $0.jobs["repair"]?.lastRun?.result == "cancelled" })
        try sim(agent, ["fault", "--node", agent.node, "all", "--clear"])

        // Refusals that come from the backup itself.
        let unknown = try backups.local(agent, ["backup", "restore", "backup-19990101T000000Z"])
        #expect(unknown.exitCode == 1 && unknown.stderr.contains("no complete backup backup-19990101T000000Z"), "\(unknown.stderr)")
        let noTable = try backups.local(agent, ["backup", "restore", backup.id, "--keyspace", "shop", "--table", "nonesuch"])
        #expect(noTable.exitCode == 1 && noTable.stderr.contains("holds no SSTable of shop.nonesuch"), "\(noTable.stderr)")

        // Through the agent: a restore job, the table's files back byte for byte, exit 0.
        let restored = try backups.local(agent, ["backup", "restore", backup.id, "--keyspace", "shop"])
        #expect(restored.exitCode == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains("restored shop.") && restored.stdout.contains("from \(backup.id)"), "\(restored.stdout)")
        #expect(restored.stderr.contains("`cassandra-agent job cancel restore` stops it"))
        #expect(Set(backups.liveFiles(agent, keyspace: "shop").values) == Set(shop.values), "the table's files are the backup's, byte for byte")
        #expect(stagingDirectories(agent).isEmpty)
        let job = try #require(try agent.status()?.jobs["restore"])
        #expect(job.lastRun?.result == "succeeded" && job.current == nil)
        #expect(JobHistoryStore(stateDirectory: agent.dir.path + "/state").load(.restore).history.lastRun?.result == .succeeded)
        #expect(try runAgent(["jobs", "--socket", agent.socket]).stdout.contains("restore: idle"))
        // `job start restore` says how a restore is asked for.
        let start = try backups.run(agent, ["job", "start", "restore"])
        #expect(start.exitCode == 1 && start.stderr.contains("backup restore ID"), "\(start.stderr)")
        #expect(agent.stop() == 0)
    }

    @Test func cancelKillsTheRestoresImportAndAKillNineMidRestoreLeavesARunThatSaysInterrupted() async throws {
        let agent = try AgentUnderTest()
        let destination = agent.dir.path + "/backups"
        try agent.drop(agent.desiredState(extra: DaemonBackupTests.backupSection(destination)))
        _ = try #require(try await backups.backupJob(agent) { $0.enabled && $0.state == .idle })
        let backup = try await backups.backUp(agent)
        #expect(backup.result == "succeeded", "\(backup.reason ?? "")")
        // Every nodetool answer now takes 20 s: the restore's import is in flight until it is killed.
        try sim(agent, ["fault", "--node", agent.node, "slow", "--seconds", "20"])
        let environment = ProcessInfo.processInfo.environment
        let command = ["backup", "restore", backup.id, "--keyspace", "shop", "--config", agent.configFile]
        let first = try BackgroundProcess(Paths.agentExecutable, command, environment: environment)
        let loading = try #require(try await restoreJob(agent, within: 30) { $0.current?.step.hasPrefix("loading shop.") == true })
        #expect(loading.state == .running)
        for _ in 0..<250 where agent.simulatorProcesses(running: "import").isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!agent.simulatorProcesses(running: "import").isEmpty)
        #expect(try backups.run(agent, ["job", "cancel", "restore"]).exitCode == 0)
        let cancelled = try #require(try await restoreJob(agent, within: 10) { $0.lastRun?.result == "cancelled" })
        #expect(cancelled.lastRun?.reason?.contains("its nodetool was killed") == true, "\(cancelled.lastRun?.reason ?? "")")
        for _ in 0..<250 where !agent.simulatorProcesses(running: "import").isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(agent.simulatorProcesses(running: "import").isEmpty, "the import's nodetool was killed")
        #expect(first.terminationStatus == 1)
        #expect(stagingDirectories(agent).isEmpty, "a cancelled restore removes its staging directory")
        #expect(try backups.run(agent, ["job", "cancel", "restore"]).exitCode == 1, "nothing left to cancel")

        // kill -9 of the agent in the middle of a restore: the next agent records it interrupted, never running.
        let second = try BackgroundProcess(Paths.agentExecutable, command, environment: environment)
        _ = try #require(try await restoreJob(agent, within: 30) { $0.current?.step.hasPrefix("loading shop.") == true })
        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()
        #expect(second.terminationStatus == 3, "the command says the agent stopped answering")
        #expect(JobHistoryStore(stateDirectory: agent.dir.path + "/state").load(.restore).history.current != nil)
        try sim(agent, ["fault", "--node", agent.node, "all", "--clear"])
        try? FileManager.default.removeItem(atPath: agent.socket)
        let next = try BackgroundProcess(Paths.agentExecutable, ["run", "--config", agent.configFile], environment: environment)
        defer { next.terminate(); next.waitUntilExit() }
        let interrupted = try #require(try await restoreJob(agent, within: 30) { $0.lastRun?.result == "interrupted" })
        #expect(interrupted.current == nil && interrupted.state == .idle)
        #expect(interrupted.lastRun?.reason?.contains("it is not retried by itself") == true, "\(interrupted.lastRun?.reason ?? "")")
        #expect(interrupted.lastRun?.reason?.contains("backup restore \(backup.id)") == true)
        #expect(JobHistoryStore(stateDirectory: agent.dir.path + "/state").load(.restore).history.current == nil)
    }
}
