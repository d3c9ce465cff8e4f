import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// Repairs run on the simulated servers, as in Cassandra: nodetool only starts
/// them and listens. Driven through the real executables; time passes on the
/// cluster's movable clock, so a repair of ten minutes costs no waiting.
@Suite struct SimulatedRepairTests {
    typealias Cluster = SimulatedClusterTests.Cluster

    static let long = 600.0

    /// nodetool on a node as a plain process: its exact output and exit code.
    static func nodetool(_ cluster: Cluster, _ node: String, _ arguments: [String]) throws -> ProcessResult {
        try runProcess(Paths.simulatorExecutable, ["nodetool", "--dir", cluster.path, "--node", node] + arguments)
    }

    static func sessions(_ cluster: Cluster) throws -> [RepairSession] {
        let result = try Cluster.sim(["repairs", "--dir", cluster.path, "--json"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        return try JSONDecoder().decode([RepairSession].self, from: Data(result.stdout.utf8))
    }

    /// Starts a repair whose nodetool the agent's timeout kills after a second.
    static func startAndKill(_ cluster: Cluster, _ node: String, _ kind: NodetoolClient.RepairOptions.Kind, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            _ = try await cluster.nodetool(node).repair(.init(kind: kind, keyspace: "shop"), timeout: .seconds(1))
            Issue.record("expected the repair's nodetool to be killed", sourceLocation: sourceLocation)
        } catch {
            guard case .failed(let failure) = error, failure.kind == .timedOut else {
                Issue.record("expected a timeout, got \(error)", sourceLocation: sourceLocation)
                return
            }
        }
    }

    static func usage(_ message: String) -> String {
        "nodetool: \(message)\nSee 'nodetool help' or 'nodetool help <command>'.\n"
    }

    @Test func aKilledNodetoolLeavesTheSessionRunningToItsEnd() async throws {
        // An hour-long repair: wall time that passes on a loaded machine stays far from its end.
        let hour = 3600.0
        let cluster = try Cluster(datacenters: "DC1:3x1", repairSeconds: hour)
        await Self.startAndKill(cluster, "127.0.1.1", .incremental)
        var sessions = try Self.sessions(cluster)
        #expect(sessions.count == 1)
        let session = try #require(sessions.first)
        #expect(session.state == .running && session.coordinator == "127.0.1.1" && session.keyspace == "shop" && session.incremental)
        #expect(session.participants == ["127.0.1.1", "127.0.1.2", "127.0.1.3"])
        #expect(session.endsAt - session.startedAt == hour)

        try cluster.advance(hour - 900)
        #expect(try Self.sessions(cluster).first?.state == .running, "not yet at its end time")
        try cluster.advance(901)
        sessions = try Self.sessions(cluster)
        #expect(sessions.first?.state == .completed, "completed with nobody listening")
        #expect(sessions.first?.lastUpdate == session.endsAt)
        // The next incremental repair of the keyspace is no longer refused.
        await Self.startAndKill(cluster, "127.0.1.2", .incremental)
        #expect(try Self.sessions(cluster).last?.state == .running)
    }

    @Test(arguments: [CassandraVersion.v4_0, .v4_1, .v5_0])
    func repairAdminListsAndCancelsIncrementalSessions(version: CassandraVersion) async throws {
        let cluster = try Cluster(version: version, datacenters: "DC1:3x1", repairSeconds: Self.long)
        #expect(try Self.nodetool(cluster, "127.0.1.2", ["repair_admin"]).stdout == "no sessions\n")
        await Self.startAndKill(cluster, "127.0.1.1", .incremental)
        await Self.startAndKill(cluster, "127.0.1.3", .full)
        let id = try #require(try Self.sessions(cluster).first { $0.incremental }?.id)

        // Every participant lists the incremental session; the full repair has none.
        for arguments in [["repair_admin"], ["repair_admin", "list"]] {
            let list = try Self.nodetool(cluster, "127.0.1.2", arguments)
            let lines = list.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.count == 3 && lines[2] == "", "\(list.stdout)")
            #expect(lines[0].components(separatedBy: " | ").map { $0.trimmingCharacters(in: .whitespaces) }
                == ["id", "state", "last activity", "coordinator", "participants", "participants_wp"])
            // Last activity: whole seconds since the session's last change, on a machine of any speed.
            #expect(lines[1].components(separatedBy: " | ").map { $0.trimmingCharacters(in: .whitespaces).replacing(/^\d+ \(s\)$/, with: "N (s)") }
                == [id, "REPAIRING", "N (s)", "/127.0.1.1:7000", "127.0.1.1,127.0.1.2,127.0.1.3", "127.0.1.1:7000,127.0.1.2:7000,127.0.1.3:7000"])
            #expect(lines[0].count == lines[1].count, "every column padded, the last one too")
            #expect(lines[0].hasPrefix("id                                   | state     | last activity | coordinator     | "))
        }

        // Cancelling: from the coordinator, or anywhere with --force.
        let refused = try Self.nodetool(cluster, "127.0.1.2", ["repair_admin", "cancel", "--session", id])
        #expect(refused.stdout == Self.usage("Cancel session \(id) from it's coordinator (/127.0.1.1:7000) or use --force") && refused.exitCode == 1)
        let unknown = "0b1c2d3e-0000-4000-8000-000000000000"
        #expect(try Self.nodetool(cluster, "127.0.1.2", ["repair_admin", "cancel", "-s", unknown]).stdout == Self.usage("Session {} does not exist [\(unknown)]"))
        #expect(try Self.nodetool(cluster, "127.0.1.2", ["repair_admin", "cancel"]).stdout == Self.usage("Required option '-s' is missing"))
        let cancelled = try Self.nodetool(cluster, "127.0.1.2", ["repair_admin", "cancel", "-s", id, "-f"])
        #expect(cancelled.exitCode == 0 && cancelled.stdout.isEmpty && cancelled.stderr.isEmpty)
        #expect(try Self.sessions(cluster).first { $0.id == id }?.state == .cancelled)
        #expect(try Self.nodetool(cluster, "127.0.1.1", ["repair_admin", "list"]).stdout == "no sessions\n")
        #expect(try Self.nodetool(cluster, "127.0.1.1", ["repair_admin", "list", "--all"]).stdout.contains("\(id) | FAILED "))
        #expect(try Self.nodetool(cluster, "127.0.1.1", ["repair_admin", "cancel", "-s", id]).exitCode == 0, "failing a failed session again is allowed")

        // A finished session cannot be failed.
        await Self.startAndKill(cluster, "127.0.1.1", .incremental)
        let second = try #require(try Self.sessions(cluster).last { $0.incremental && $0.state == .running }?.id)
        try cluster.advance(Self.long + 1)
        #expect(try Self.nodetool(cluster, "127.0.1.1", ["repair_admin", "list", "-a"]).stdout.contains("\(second) | FINALIZED "))
        #expect(try Self.nodetool(cluster, "127.0.1.1", ["repair_admin", "cancel", "-s", second]).stdout == Self.usage("Invalid state transition FINALIZED -> FAILED"))
    }

    @Test func repairAdminDoesNotExistOn311() throws {
        let cluster = try Cluster(version: .v3_11, datacenters: "DC1:3x1")
        let bare = try Self.nodetool(cluster, "127.0.1.1", ["repair_admin"])
        #expect(bare.stdout == Self.usage("Found unexpected parameters: [repair_admin]") && bare.exitCode == 1)
        #expect(try Self.nodetool(cluster, "127.0.1.1", ["repair_admin", "list"]).stdout == Self.usage("Found unexpected parameters: [repair_admin, list]"))
    }

    @Test(arguments: CassandraVersion.allCases)
    func anOverlappingIncrementalRepairIsRefusedAFullOneIsNot(version: CassandraVersion) async throws {
        let cluster = try Cluster(version: version, datacenters: "DC1:3x1", repairSeconds: Self.long)
        await Self.startAndKill(cluster, "127.0.1.1", .incremental)
        do {
            _ = try await cluster.nodetool("127.0.1.2").repair(.init(kind: .incremental, keyspace: "shop"), timeout: .seconds(30))
            Issue.record("expected the overlapping repair to fail")
        } catch {
            guard case .failed(let failure) = error else { Issue.record("\(error)"); return }
            #expect(failure.kind == .server && failure.exitCode == 2)
            let refused = try #require(try Self.sessions(cluster).last)
            #expect(refused.state == .failed && refused.coordinator == "127.0.1.2")
            let reason = version >= .v4_0 ? "Incremental repair session \(refused.id) has failed" : "Cannot start multiple repair sessions over the same sstables"
            #expect(failure.message.contains("Repair command #\(refused.command) failed with error \(reason)"), "\(failure.message)")
        }
        await Self.startAndKill(cluster, "127.0.1.2", .full)
        #expect(try Self.sessions(cluster).filter(\.isRunning).count == 2, "a full repair may run alongside")
    }

    @Test(arguments: CassandraVersion.allCases)
    func stopValidationFailsEverySessionTheNodeTakesPartIn(version: CassandraVersion) async throws {
        let cluster = try Cluster(version: version, datacenters: "DC1:3x1", repairSeconds: Self.long)
        // Two repairs: one listened to by a live nodetool, one whose nodetool is gone.
        await Self.startAndKill(cluster, "127.0.1.3", .incremental)
        let listened = Task { () async -> Result<NodetoolRepairOutput, NodetoolError> in
            do { return .success(try await cluster.nodetool("127.0.1.1").repair(.init(kind: .full, keyspace: "shop"), timeout: .seconds(60))) } catch let error as NodetoolError { return .failure(error) } catch { return .failure(.failed(NodetoolFailure(kind: .usage, message: "\(error)", exitCode: -1, stderr: ""))) }
        }
        while try Self.sessions(cluster).count < 2 { try await Task.sleep(for: .milliseconds(50)) }

        let stop = try Self.nodetool(cluster, "127.0.1.2", ["stop", "VALIDATION"])
        #expect(stop.exitCode == 0 && stop.stdout.isEmpty)
        let endpoint = version >= .v4_0 ? "/127.0.1.2:7000" : "/127.0.1.2"
        guard case .failure(.failed(let failure)) = await listened.value else { Issue.record("expected the repair to fail"); return }
        #expect(failure.kind == .server && failure.message.contains("Validation failed in \(endpoint)"), "\(failure.message)")
        let sessions = try Self.sessions(cluster)
        #expect(sessions.count == 2 && sessions.allSatisfy { $0.state == .failed })
        #expect(sessions.allSatisfy { $0.failure?.hasSuffix("] Validation failed in \(endpoint)") == true })
    }

    @Test func repairHangNeverEndsWhileOtherCommandsWork() async throws {
        let cluster = try Cluster(datacenters: "DC1:3x1", repairSeconds: 1)
        try cluster.fault("127.0.1.1", "repair-hang")
        await Self.startAndKill(cluster, "127.0.1.1", .full)
        #expect(try await cluster.nodetool("127.0.1.1").status().nodes.count == 3)
        try cluster.advance(86_400)
        let session = try #require(try Self.sessions(cluster).first)
        #expect(session.state == .running && session.hung)
        // Stopping validation is how an operator ends it on every version.
        #expect(try Self.nodetool(cluster, "127.0.1.1", ["stop", "VALIDATION"]).exitCode == 0)
        #expect(try Self.sessions(cluster).first?.state == .failed)
    }

    @Test(arguments: CassandraVersion.allCases)
    func pendingCompactionsRoundTripThroughTheParser(version: CassandraVersion) async throws {
        let cluster = try Cluster(version: version, datacenters: "DC1:3x1")
        let client = cluster.nodetool("127.0.1.2")
        #expect(try await client.compactionStats().pendingTasks == 0)
        for count in [1, 5, 0, 17] {
            let set = try Cluster.sim(["pending-compactions", "--dir", cluster.path, "127.0.1.2", "\(count)"])
            #expect(set.exitCode == 0, "\(set.stderr)")
            let stats = try await client.compactionStats()
            #expect(stats.pendingTasks == count)
            #expect(stats.pendingByTable.values.reduce(0, +) == count)
            #expect(stats.activeCompactions == 0)
        }
        #expect(try await cluster.nodetool("127.0.1.1").compactionStats().pendingTasks == 0, "per node")
        let text = try Self.nodetool(cluster, "127.0.1.2", ["compactionstats"]).stdout
        if version == .v5_0 {
            #expect(!text.contains("pending tasks:") && text.contains("\n" + "pending tasks".padding(toLength: 33, withPad: " ", startingAt: 0) + "17 "))
            #expect(Set(text.split(separator: "\n").map(\.count)).count == 1, "one table: every row as wide")
        } else {
            #expect(text.hasPrefix("pending tasks: 17\n- shop.orders: 9\n- shop.customers: 8\n\n"))
        }
    }
}
