import Foundation
import Testing
@testable import CassandraAgent

/// The executable driven the way an operator drives it.
@Suite struct CommandLineTests {
    func agentConfig(_ dir: TemporaryDirectory) -> String {
        dir.write("agent.yaml", """
        cassandraConfigDirectory: \(dir.path)/etc-cassandra
        stateDirectory: \(dir.path)/state
        desiredState: \(dir.path)/desired-state.yaml
        files:
          owner: root
          group: root
          mode: "0640"

        """)
    }

    @Test func validateListsEveryErrorAndExitsOne() throws {
        let dir = TemporaryDirectory()
        let file = dir.write("broken.yaml", desiredState(settings: ["num_tokens: many", "concurent_reads: 8", "read_request_timeout: 10"]))
        let result = try runAgent(["validate", file])
        #expect(result.exitCode == 1)
        #expect(result.stdout == "")
        #expect(result.stderr == """
        \(file):12:15: error: settings.num_tokens must be an integer, found a string 'many'
        \(file):13:3: error: unknown setting 'concurent_reads' for Cassandra 4.1; did you mean 'concurrent_reads'?
        \(file):14:25: error: settings.read_request_timeout needs a unit in Cassandra 4.1: a bare number is rejected; write 10ms

        """)
    }

    /// `validate FILE` skips ArgumentParser (start-up time); `validate -- FILE` is parsed by it.
    /// Both must print the same and exit the same, for a valid, an invalid and a missing file,
    /// and the forms the quick path must leave alone still reach ArgumentParser.
    @Test func validateGivesTheSameAnswerWithOrWithoutTheArgumentParser() throws {
        let dir = TemporaryDirectory()
        let valid = Paths.packageRoot + "/etc/examples/cassandra-4.1.yaml"
        let invalid = dir.write("broken.yaml", desiredState(settings: ["num_tokens: many", "concurent_reads: 8"]))
        for file in [valid, invalid, dir.path + "/missing.yaml"] {
            let quick = try runAgent(["validate", file])
            let parsed = try runAgent(["validate", "--", file])
            #expect(quick.exitCode == parsed.exitCode && quick.stdout == parsed.stdout && quick.stderr == parsed.stderr, "\(file): \(quick) vs \(parsed)")
        }
        #expect(try runAgent(["validate", valid]).exitCode == 0)
        #expect(try runAgent(["validate", invalid]).exitCode == 1)
        let help = try runAgent(["validate", "--help"])
        #expect(help.exitCode == 0 && help.stdout.contains("USAGE: cassandra-agent validate <file>"), "\(help)")
        let extra = try runAgent(["validate", valid, "second.yaml"])
        #expect(extra.exitCode == 64 && extra.stderr.contains("Unexpected argument 'second.yaml'"), "\(extra)")
    }

    @Test(arguments: GoldenRenderTests.examples)
    func renderWritesTheGoldenFiles(example: String) throws {
        let dir = TemporaryDirectory()
        let result = try runAgent(["validate", "etc/examples/\(example).yaml"], in: Paths.packageRoot)
        #expect(result.exitCode == 0)
        let render = try runAgent(["render", "etc/examples/\(example).yaml", "--output", dir.path + "/out"], in: Paths.packageRoot)
        #expect(render.exitCode == 0, "\(render.stderr)")
        for name in ["cassandra.yaml", "cassandra-rackdc.properties"] {
            let golden = try String(contentsOfFile: "\(Paths.golden)/\(example)/\(name)", encoding: .utf8)
            #expect(dir.read("out/\(name)").map(Redaction.redactDiff) == golden)
            let mode = try FileManager.default.attributesOfItem(atPath: "\(dir.path)/out/\(name)")[.posixPermissions] as? Int
            #expect(mode == 0o640)
        }
        if example.hasSuffix("hybrid") {
            let stores = ["internode-keystore.p12", "internode-truststore.p12", "client-keystore.p12", "client-truststore.p12"]
            #expect(stores.allSatisfy { FileManager.default.fileExists(atPath: "\(dir.path)/out/\($0)") })
            #expect(render.stdout.contains("wrote \(dir.path)/out/internode-truststore.p12"))
            // cassandra.yaml names the stores where they are installed.
            #expect(dir.read("out/cassandra.yaml")?.contains("  truststore: /etc/cassandra/internode-truststore.p12\n") == true)
        }
    }

    @Test func renderOfAnInvalidFileWritesNothing() throws {
        let dir = TemporaryDirectory()
        let file = dir.write("bad.yaml", desiredState(settings: ["no_such_thing: 1"]))
        let result = try runAgent(["render", file, "--output", dir.path + "/out"])
        #expect(result.exitCode == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/out"))
    }

    @Test func planApplyRollbackCycle() throws {
        let dir = TemporaryDirectory()
        let config = agentConfig(dir)
        let v1 = dir.write("desired-state.yaml", desiredState(settings: ["compaction_throughput: 64MiB/s"]))

        // Nothing installed: everything would be created.
        var plan = try runAgent(["plan", "--config", config])
        #expect(plan.exitCode == 2, "\(plan.stderr)")
        #expect(plan.stdout.contains("cassandra.yaml: created"))
        #expect(plan.stdout.hasSuffix("Restart needed: yes, for cassandra.yaml (new), cassandra-rackdc.properties (new)\n"))

        let apply = try runAgent(["apply", "--config", config])
        #expect(apply.exitCode == 0, "\(apply.stderr)")
        #expect(apply.stdout.contains("generation 1"))
        plan = try runAgent(["plan", "--config", config])
        #expect(plan.exitCode == 0)
        #expect(plan.stdout.hasSuffix("No changes.\n"))

        // A live-settable change and a restart-only change.
        let v2 = dir.write("v2.yaml", desiredState(settings: ["compaction_throughput: 128MiB/s", "num_tokens: 8"]))
        plan = try runAgent(["plan", v2, "--config", config])
        #expect(plan.exitCode == 2)
        #expect(plan.stdout.contains("  compaction_throughput: 64MiB/s -> 128MiB/s    [live: nodetool setcompactionthroughput (the file keeps it across restarts)]\n"))
        #expect(plan.stdout.contains("  num_tokens: 16 -> 8    [restart required]\n"))
        #expect(plan.stdout.contains("-compaction_throughput: 64MiB/s\n+compaction_throughput: 128MiB/s\n"))
        #expect(plan.stdout.hasSuffix("Restart needed: yes, for num_tokens\n"))

        #expect(try runAgent(["apply", v2, "--config", config]).exitCode == 0)
        #expect(dir.read("etc-cassandra/cassandra.yaml")?.contains("\nnum_tokens: 8\n") == true)

        // An invalid file changes nothing.
        let broken = dir.write("broken.yaml", "apiVersion: cassandra-agent/v1\n")
        let refused = try runAgent(["apply", broken, "--config", config])
        #expect(refused.exitCode == 1)
        #expect(dir.read("etc-cassandra/cassandra.yaml")?.contains("\nnum_tokens: 8\n") == true)

        let list = try runAgent(["rollback", "--list", "--config", config])
        #expect(list.stdout.split(separator: "\n").map { $0.split(separator: "\t")[0] } == ["0", "1", "2"])
        let rollback = try runAgent(["rollback", "--config", config])
        #expect(rollback.exitCode == 0, "\(rollback.stderr)")
        #expect(dir.read("etc-cassandra/cassandra.yaml")?.contains("\nnum_tokens: 16\n") == true)
        plan = try runAgent(["plan", v1, "--config", config])
        #expect(plan.exitCode == 0, "the rollback re-installed exactly what v1 renders")
    }

    @Test func planWithConfigDirOption() throws {
        let dir = TemporaryDirectory()
        let file = dir.write("ds.yaml", desiredState())
        #expect(try runAgent(["render", file, "--output", dir.path + "/conf"]).exitCode == 0)
        let plan = try runAgent(["plan", file, "--config-dir", dir.path + "/conf", "--config", agentConfig(dir)])
        #expect(plan.exitCode == 0)
        #expect(try runAgent(["plan", dir.path + "/missing.yaml", "--config-dir", dir.path + "/conf"]).exitCode == 1)
    }

    @Test func badAgentConfigIsReportedWithItsLine() throws {
        let dir = TemporaryDirectory()
        let config = dir.write("agent.yaml", "stateDirectory: relative/path\nfiles:\n  mode: \"0644\"\nnodetol: [x]\n")
        let result = try runAgent(["plan", "--config", config])
        #expect(result.exitCode == 1)
        #expect(result.stderr == """
        \(config):1:17: error: stateDirectory must be an absolute path, found 'relative/path'
        \(config):3:9: error: files.mode 0644 lets every user read the files; cassandra.yaml can hold store passwords (use 0640 or tighter)
        \(config):4:1: error: unknown key 'nodetol' in the agent's config; did you mean 'nodetool'?

        """)
    }
}
