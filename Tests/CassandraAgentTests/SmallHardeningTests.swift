import Foundation
import NIOCore
import Testing
@testable import CassandraAgent

/// Issue 8, items 14, 16, 17, 18.
@Suite struct SmallHardeningTests {
    @Test func statusWithAnUnreadableConfigIsUnknown() throws {
        let dir = TemporaryDirectory()
        let missing = try runAgent(["status", "--config", dir.path + "/no-such-agent.yaml"])
        #expect(missing.exitCode == 3, "\(missing.stderr)")
        let broken = try runAgent(["status", "--config", dir.write("agent.yaml", "socket: [\n")])
        #expect(broken.exitCode == 3, "\(broken.stderr)")
    }

    @Test func aPasswordFileWithSeveralLinesIsRefused() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.copyItem(atPath: Paths.examples + "/tls", toPath: dir.path + "/tls")
        let password = try String(contentsOfFile: dir.path + "/tls/store.pass", encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
        let file = dir.write("tls.yaml", desiredState(extra: TLSDesiredState.section))

        dir.write("tls/store.pass", password + "\n")
        let one = try runAgent(["validate", file])
        #expect(one.exitCode == 0, "\(one.stderr)")

        dir.write("tls/store.pass", password + "\nsecond-line\n")
        let several = try runAgent(["validate", file])
        #expect(several.exitCode == 1)
        #expect(several.stderr.contains("the password file has more than one line; it must hold the password alone on one line (a single trailing newline is fine)"), "\(several.stderr)")
        #expect(!several.stderr.contains("second-line"))
    }

    @Test func socketStartupErrorsSayWhatToDo() throws {
        let dir = TemporaryDirectory()
        let socket = dir.path + "/" + String(repeating: "s", count: 120) + ".sock"
        let config = dir.write("agent.yaml", """
        desiredState: \(dir.path)/desired-state.yaml
        cassandraConfigDirectory: \(dir.path)/etc
        stateDirectory: \(dir.path)/state
        socket: \(socket)
        nodetool: ["/bin/false"]
        systemctl: ["/bin/false"]

        """)
        let result = try runProcess(Paths.agentExecutable, ["run", "--config", config], environment: ["PATH": "/usr/bin:/bin"], timeout: .seconds(60))
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("cannot start: the socket path \(socket) is \(socket.utf8.count) bytes long; a unix socket path can have at most 107 bytes on Linux"), "\(result.stderr)")
        #expect(!result.stderr.contains("unixDomainSocketPathTooLong"))
    }

    @Test func anAddressInUseNamesThePathAndAnotherAgent() {
        let error = StatusServer.startupError(IOError(errnoCode: EADDRINUSE, reason: "bind"), path: "/run/cassandra-agent/agent.sock")
        #expect(error.description == "the socket /run/cassandra-agent/agent.sock is in use: another cassandra-agent may be running with this config (systemctl status cassandra-agent); stop it, or set `socket:` in the agent's config to another path")
    }

    /// The demo's hand-edit check, run the way the demo runs it, on a file where the edit was put back.
    @Test func theDemoDoesNotShowAFailureWhenTheHandEditIsGone() throws {
        let script = try String(contentsOfFile: Paths.packageRoot + "/scripts/demo.sh", encoding: .utf8).split(separator: "\n").map(String.init)
        let functions = script.filter { $0.range(of: #"^[a-z_]+\(\) \{.*\}$"#, options: .regularExpression) != nil }
        let check = try #require(script.first { $0.hasPrefix("step ") && $0.contains("concurrent_reads: 999") })
        let dir = TemporaryDirectory()
        dir.write("sim/nodes/127.0.1.1/conf/cassandra.yaml", "concurrent_reads: 32\n")
        let result = try runProcess("/bin/bash", ["-c", (["set -euo pipefail", "demo=\(dir.path)"] + functions + [check]).joined(separator: "\n")])
        #expect(result.exitCode == 0)
        #expect(result.stdout.hasSuffix("\n0\n"), "\(result.stdout)")
        #expect(!result.stdout.contains("(exit"), "\(result.stdout)")
    }
}
