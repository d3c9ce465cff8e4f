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
}
