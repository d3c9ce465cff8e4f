import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// Streaming through the `cassandra-sim` binary, the way end-to-end tests and
/// the agent drive it: the hybrid start, ALTER KEYSPACE, the trap and its manual fix,
/// and a rebuild that outlives its killed nodetool.
@Suite struct SimulatedStreamingBinaryTests {
    static func sim(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(Paths.simulatorExecutable, arguments)
    }

    static func plans(_ dir: String) throws -> [StreamPlan] {
        let result = try sim(["streams", "--dir", dir, "--json"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        return try JSONDecoder().decode([StreamPlan].self, from: Data(result.stdout.utf8))
    }

    @Test func theTrapItsFixAndARebuildThatOutlivesItsNodetool() throws {
        let temporary = TemporaryDirectory()
        let dir = temporary.path + "/c"
        let created = try Self.sim(["init", "--dir", dir, "--version", "4.1", "--datacenters", "DC1:3x1,DC2:3x1", "--new-datacenter", "DC2",
                                    "--gossip-delay", "0", "--stream-bytes-per-second", "1000"])
        #expect(created.exitCode == 0, "\(created.stderr)")
        func nodetool(_ arguments: [String]) throws -> ProcessResult {
            try runProcess(Paths.simulatorExecutable, ["nodetool", "--dir", dir, "--node", "127.0.2.1"] + arguments)
        }
        #expect(try nodetool(["describecluster"]).stdout.contains("\tshop -> Replication class: NetworkTopologyStrategy {DC1=3}\n"))
        #expect(try Self.sim(["keyspace", "--dir", dir, "shop", "--replication", "DC1:3,DC2:3"]).exitCode == 0)
        #expect(try nodetool(["describecluster"]).stdout.contains("\tshop -> Replication class: NetworkTopologyStrategy {DC1=3, DC2=3}\n"))

        let wrong = try nodetool(["rebuild", "-ks", "shop", "--", "DC2"])
        #expect(wrong.exitCode == 0 && wrong.stdout.isEmpty && wrong.stderr.isEmpty)
        let marked = try Self.sim(["available-ranges", "--dir", dir, "127.0.2.1"]).stdout.split(separator: "\n")
        #expect(!marked.isEmpty && marked.allSatisfy { $0.hasPrefix("shop\t(") && $0.hasSuffix("]") })
        #expect(try Self.plans(dir).allSatisfy { $0.bytes == 0 && $0.state == .completed })
        #expect(try Self.sim(["clear-available-ranges", "--dir", dir, "127.0.2.1", "shop"]).exitCode == 0)
        #expect(try Self.sim(["available-ranges", "--dir", dir, "127.0.2.1"]).stdout.isEmpty)

        // At 1000 bytes a second this rebuild takes weeks: the clock is moved instead.
        let rebuild = try BackgroundProcess(Paths.simulatorExecutable, ["nodetool", "--dir", dir, "--node", "127.0.2.1", "rebuild", "-ks", "shop", "DC1"], environment: [:])
        var plan: StreamPlan?
        for _ in 0..<400 where plan == nil {
            plan = try Self.plans(dir).first { $0.bytes > 0 }
            if plan == nil { usleep(50_000) }
        }
        let started = try #require(plan)
        #expect(rebuild.isRunning, "nodetool blocks while the plan streams")
        rebuild.terminate()
        #expect(rebuild.terminationStatus == 128 + SIGTERM)
        #expect(try Self.plans(dir).first { $0.id == started.id }?.state == .running, "killing nodetool does not stop the rebuild")
        #expect(try nodetool(["netstats"]).stdout.contains("Rebuild \(started.id)\n"))
        #expect(try runProcess(Paths.simulatorExecutable, ["nodetool", "--dir", dir, "--node", "127.0.1.1", "-h", "127.0.1.2", "netstats"]).stdout
            .contains(started.sessions.contains { $0.peer == "127.0.1.2" } ? "    /127.0.2.1\n        Sending " : "Not sending any streams."), "a source's netstats over -h")

        #expect(try Self.sim(["clock", "--dir", dir, "--advance", "\(Double(started.bytes) / 1000 + 1)"]).exitCode == 0)
        #expect(try Self.plans(dir).first { $0.id == started.id }?.state == .completed, "it ended on its own")
        #expect(try nodetool(["netstats"]).stdout.hasPrefix("Mode: NORMAL\nNot sending any streams.\n"))

        // A rebuild that ends while its nodetool waits: exit 0, nothing printed.
        #expect(try Self.sim(["clear-available-ranges", "--dir", dir, "127.0.2.1", "shop"]).exitCode == 0)
        #expect(try Self.sim(["stream-rate", "--dir", dir, "\(Double(started.bytes) * 4)"]).exitCode == 0)
        let quick = try nodetool(["rebuild", "--keyspace", "shop", "DC1"])
        #expect(quick.exitCode == 0 && quick.stdout.isEmpty && quick.stderr.isEmpty, "\(quick.stderr)")
        #expect(try Self.sim(["nodes", "--dir", dir]).stdout.contains("127.0.2.1\tDC2\track1\trunning\n"))

        // A bootstrap shows as joining until its seconds are up.
        #expect(try Self.sim(["bootstrap", "--dir", dir, "127.0.1.3", "--seconds", "30"]).exitCode == 0)
        #expect(try nodetool(["status"]).stdout.contains("UJ  127.0.1.3"))
        #expect(try Self.sim(["nodes", "--dir", dir]).stdout.contains("127.0.1.3\tDC1\track3\tjoining\n"))
        #expect(try Self.sim(["clock", "--dir", dir, "--advance", "31"]).exitCode == 0)
        #expect(try nodetool(["status"]).stdout.contains("UN  127.0.1.3"))
        // DC2 now holds shop with RF 3 on three nodes: a decommission there is refused.
        let refused = try nodetool(["decommission"])
        #expect(refused.exitCode == 1 && refused.stdout.hasPrefix("nodetool: Unsupported operation: Not enough live nodes to maintain replication factor in keyspace shop (RF = 3, N = 3)."))
    }
}
