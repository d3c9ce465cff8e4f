import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// What issue 8 found in the daemon, driven the way it was found.
@Suite(.serialized) struct DaemonHardeningTests {
    func simProcesses(_ agent: AgentUnderTest) -> [String] { agent.simulatorProcesses(running: "nodetool") }

    @Test func aStopWithAHungNodetoolIsCleanQuickAndKillsTheChild() async throws {
        let agent = try AgentUnderTest()
        try agent.drop(agent.desiredState())
        _ = try await agent.waitFor(30) { $0.desiredState.generation == 1 }
        // Every nodetool call now hangs (a stuck JMX): the observer is blocked in one.
        let fault = try runProcess(Paths.simulatorExecutable, ["fault", "--dir", agent.sim, "--node", agent.node, "hang"])
        #expect(fault.exitCode == 0)
        for _ in 0..<200 where simProcesses(agent).isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!simProcesses(agent).isEmpty, "a nodetool call is in flight")
        let stopped = Date()
        #expect(agent.stop() == 0, "a stop is clean even with a command in flight")
        #expect(Date().timeIntervalSince(stopped) < 3, "SIGTERM does not wait out a hung nodetool")
        for _ in 0..<100 where !simProcesses(agent).isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(simProcesses(agent).isEmpty, "the hung child was killed: \(simProcesses(agent))")
    }

    @Test func aFileWrittenInPlaceSlowlyIsInstalledOnceWhole() async throws {
        let agent = try AgentUnderTest()
        try agent.drop(agent.desiredState())
        _ = try await agent.waitFor(30) { $0.desiredState.generation == 1 }
        // One open, a line every 250 ms (longer than the resync interval), one close.
        let text = agent.desiredState(settings: ["compaction_throughput: 96MiB/s", "concurrent_reads: 48"])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: agent.desiredStatePath))
        try handle.truncate(atOffset: 0)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            try handle.write(contentsOf: Data((line + "\n").utf8))
            try await Task.sleep(for: .milliseconds(250))
        }
        try handle.close()
        let done = try #require(try await agent.waitFor(30) { $0.desiredState.generation == 2 })
        try await Task.sleep(for: .milliseconds(1500))
        let after = try #require(try agent.status())
        #expect(after.desiredState.generation == 2, "one generation for the whole file, none for its prefixes")
        #expect(after.desiredState.lastRefused == nil)
        #expect(done.liveChanges.map(\.command).filter { $0.hasPrefix("nodetool setcompactionthroughput") } == ["nodetool setcompactionthroughput 96"])
        #expect(agent.stop() == 0)
    }

    @Test func aDesiredStateOthersMayWriteIsRefusedAsCritical() async throws {
        let agent = try AgentUnderTest()
        try agent.drop(agent.desiredState())
        _ = try #require(try await agent.waitFor(30) { $0.desiredState.generation == 1 })
        chmod(agent.desiredStatePath, 0o666)
        // Still the same content, now with a change that must not be taken from a file anyone can write.
        let refused = try #require(try await agent.waitFor(30) { $0.checks.contains { $0.reason == "desired_state.untrusted" } })
        #expect(refused.health == .critical)
        #expect(refused.checks.first { $0.reason == "desired_state.untrusted" }?.message.contains("desired-state.yaml") == true)
        // It stays refused pass after pass (resync every 0.5 s), and is logged once, not on every pass:
        // a pass used to re-apply the unchanged content from the untrusted file and clear the refusal.
        for _ in 0..<30 {
            let document = try #require(try agent.status())
            #expect(document.checks.contains { $0.reason == "desired_state.untrusted" } && document.health == .critical, "\(document.checks.map(\.reason))")
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(agent.logTail(1000).components(separatedBy: "reason=desired_state.untrusted").count - 1 == 1, "\(agent.logTail())")
        // Deleted, it is refused for that reason instead: it used to stay critical as "untrusted",
        // quoting the deletion's error as if it were about permissions.
        unlink(agent.desiredStatePath)
        let deleted = try #require(try await agent.waitFor(30) { $0.desiredState.lastRefused?.errors.first?.contains("No such file") == true })
        #expect(!deleted.checks.contains { $0.reason == "desired_state.untrusted" }, "\(deleted.checks.map(\.reason))")
        #expect(deleted.checks.contains { $0.reason == "desired_state.refused" && $0.level == .warning }, "\(deleted.checks.map(\.reason))")
        // A new file dropped already world-writable (mode set before the rename).
        let temp = agent.dir.path + "/etc/.next.tmp"
        try agent.desiredState(settings: ["compaction_throughput: 80MiB/s"]).write(toFile: temp, atomically: false, encoding: .utf8)
        chmod(temp, 0o666)
        rename(temp, agent.desiredStatePath)
        try await Task.sleep(for: .seconds(1.5))
        #expect(try agent.status()?.desiredState.generation == 1, "nothing from an untrusted file is installed")
        chmod(agent.desiredStatePath, 0o644)
        let fixed = try #require(try await agent.waitFor(30) { $0.desiredState.generation == 2 })
        #expect(!fixed.checks.contains { $0.reason == "desired_state.untrusted" })
        #expect(agent.stop() == 0)
    }

    @Test func hostileDesiredStatesAreRefusedByTheDaemonUnderAMemoryLimit() async throws {
        let agent = try AgentUnderTest()
        try agent.drop(agent.desiredState())
        _ = try await agent.waitFor(30) { $0.desiredState.generation == 1 }
        // The same config under a 1 GiB address-space limit: a second agent would be refused by the lock,
        // so this one is stopped first and its successor runs under prlimit.
        #expect(agent.stop() == 0)
        try? FileManager.default.removeItem(atPath: agent.socket)
        let limited = try BackgroundProcess("/usr/bin/prlimit", ["--as=1073741824", "--", Paths.agentExecutable, "run", "--config", agent.configFile],
                                            environment: ProcessInfo.processInfo.environment, log: agent.logFile)
        defer { limited.terminate(); limited.waitUntilExit() }
        _ = try await agent.waitFor(30) { $0.desiredState.generation == 1 && $0.checks.contains { $0.reason == "unit.active" } }
        for hostile in ["/dev/zero", "/dev/urandom"] {
            try FileManager.default.removeItem(atPath: agent.desiredStatePath)
            try FileManager.default.createSymbolicLink(atPath: agent.desiredStatePath, withDestinationPath: hostile)
            let refused = try #require(try await agent.waitFor(30) { $0.desiredState.lastRefused?.errors.first?.contains(hostile) == true || $0.desiredState.lastRefused?.errors.first?.contains("not a regular file") == true })
            #expect(refused.desiredState.generation == 1, "the last good state stays in force")
            #expect(limited.isRunning)
        }
        try FileManager.default.removeItem(atPath: agent.desiredStatePath)
        #expect(mkfifo(agent.desiredStatePath, 0o644) == 0)
        let fifo = try #require(try await agent.waitFor(30) { $0.desiredState.lastRefused?.errors.first?.contains("FIFO") == true || $0.desiredState.lastRefused?.errors.first?.contains("not a regular file") == true })
        #expect(fifo.desiredState.generation == 1)
        // The loop is not wedged: a good file after the FIFO is installed.
        try FileManager.default.removeItem(atPath: agent.desiredStatePath)
        try agent.drop(agent.desiredState(settings: ["compaction_throughput: 40MiB/s"]))
        let next = try #require(try await agent.waitFor(30) { $0.desiredState.generation == 2 })
        #expect(next.desiredState.lastRefused == nil)
        #expect(limited.isRunning)
    }

    @Test func anIdleStopTakesAFractionOfASecond() async throws {
        let agent = try AgentUnderTest(observeSeconds: 10)
        try agent.drop(agent.desiredState())
        _ = try await agent.waitFor(30) { $0.desiredState.generation == 1 && $0.checks.contains { $0.reason == "unit.active" } }
        try await Task.sleep(for: .milliseconds(300))
        let stopped = Date()
        #expect(agent.stop() == 0)
        #expect(Date().timeIntervalSince(stopped) < 1, "an idle agent stops at once, not after its observation interval")
    }

    @Test func aSecondInstanceIsRefusedAndTheFirstStaysReachable() async throws {
        let agent = try AgentUnderTest()
        try agent.drop(agent.desiredState())
        _ = try await agent.waitFor(30) { $0.desiredState.generation == 1 }
        let second = try runAgent(["run", "--config", agent.configFile])
        #expect(second.exitCode == 1)
        #expect(second.stderr.contains("another cassandra-agent (pid \(agent.process.processIdentifier)) is running with the state directory"), "\(second.stderr)")
        #expect(try StatusClient.get("/v1/health", socket: agent.socket).status == 200)
        #expect(agent.stop() == 0)
    }

    @Test func restartPendingSurvivesARestartOfTheAgentUntilCassandraRestarts() async throws {
        let agent = try AgentUnderTest()
        try agent.drop(agent.desiredState())
        _ = try await agent.waitFor(30) { $0.desiredState.generation == 1 }
        try await Task.sleep(for: .milliseconds(1100))   // Cassandra's start (uptime, in seconds) is before the change
        try agent.drop(agent.desiredState(settings: ["compaction_throughput: 64MiB/s", "num_tokens: 8"]))
        let pending = try #require(try await agent.waitFor(30) { $0.restartPending?.settings.contains("num_tokens") == true })
        _ = pending
        #expect(agent.stop() == 0)
        let next = try BackgroundProcess(Paths.agentExecutable, ["run", "--config", agent.configFile], environment: ProcessInfo.processInfo.environment)
        defer { next.terminate(); next.waitUntilExit() }
        let after = try #require(try await agent.waitFor(30) { $0.checks.contains { $0.reason == "unit.active" } })
        #expect(after.restartPending?.settings == pending.restartPending?.settings, "the agent's restart is not Cassandra's")
        #expect(after.restartPending?.since == pending.restartPending?.since)
        _ = try runProcess(Paths.simulatorExecutable, ["systemctl", "--dir", agent.sim, "--node", agent.node, "restart", "cassandra"])
        let cleared = try await agent.waitFor(30) { $0.restartPending == nil }
        #expect(cleared != nil, "restart pending is cleared once Cassandra has restarted")
    }

    @Test func certificatesRotatedInPlaceAreReloadedNotReportedAsDrift() async throws {
        let pki = try #require(TLSStoreTests.pki)
        // No resync for five minutes: only watching the PEM files can find the rotation.
        let agent = try AgentUnderTest(resyncSeconds: 300)
        let tls = try agent.copyTLSMaterial(pki)
        try agent.drop(agent.desiredState(extra: agent.internodeTLS(tls)))
        _ = try #require(try await agent.waitFor(30) { $0.desiredState.generation == 1 })
        // certbot-style: the same paths, new contents written in place, key first.
        let key = try Data(contentsOf: URL(fileURLWithPath: "\(tls)/ec.key")), cert = try Data(contentsOf: URL(fileURLWithPath: "\(tls)/ec.pem"))
        try key.write(to: URL(fileURLWithPath: "\(tls)/node.key"))
        try cert.write(to: URL(fileURLWithPath: "\(tls)/node.pem"))
        let rotated = try #require(try await agent.waitFor(30) { doc in doc.stores.contains { $0.subject.contains("CN=cassandra-node-ec") } && doc.desiredState.lastRefused == nil })
        for _ in 0..<100 where (try? SimulationDirectory(agent.sim).load().node(agent.node)?.reloadSSLCount) ?? 0 < 2 { try await Task.sleep(for: .milliseconds(30)) }
        #expect(try SimulationDirectory(agent.sim).load().node(agent.node)?.reloadSSLCount == 2, "one reload for the first install, one for the rotation")
        let after = try #require(try agent.status())
        if try SimulationDirectory(agent.sim).load().node(agent.node)?.reloadSSLCount != 2 {
            Issue.record("status after rotation: \(try StatusClient.get("/v1/status", socket: agent.socket).body)")
        }
        #expect(after.reconcile.driftCorrected == 0, "a rotation is not a hand edit: \(String(describing: after.reconcile.lastDrift))")
        #expect(after.liveChanges.contains { $0.command == "nodetool reloadssl" && $0.succeeded })
        #expect(rotated.desiredState.generation ?? 0 >= 2)
        #expect(agent.stop() == 0)
    }
}
