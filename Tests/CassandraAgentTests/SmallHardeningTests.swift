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
}
