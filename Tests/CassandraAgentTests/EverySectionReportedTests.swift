import Foundation
import Testing
@testable import CassandraAgent

/// Issue 8, item 2: every section's errors in one run.
@Suite struct EverySectionReportedTests {
    @Test func aBadListenAddressDoesNotHideAnUnknownSetting() throws {
        let dir = TemporaryDirectory()
        let file = dir.write("ds.yaml", """
        apiVersion: cassandra-agent/v1
        cassandra:
          version: "4.1"
        cluster:
          name: Test
          seeds: ["10.0.0.1"]
        node:
          datacenter: dc1
          rack: rack1
          listenAddress: 10.0.0.999
        settings:
          concurent_reads: 8

        """)
        let result = try runAgent(["validate", file])
        #expect(result.exitCode == 1)
        #expect(result.stderr == """
        \(file):10:18: error: node.listenAddress '10.0.0.999' is not a valid IPv4 address
        \(file):12:3: error: unknown setting 'concurent_reads' for Cassandra 4.1; did you mean 'concurrent_reads'?

        """)
    }

    @Test func anErrorElsewhereDoesNotHideAMissingRack() {
        let text = desiredState(settings: ["num_tokens: many"]).replacingOccurrences(of: "  rack: rack1\n", with: "")
            .replacingOccurrences(of: "name: Test", with: "name: Test\n  colour: blue")
        #expect(errors(text) == [
            "6:3: unknown key 'colour' in cluster",
            "9:3: node.rack is missing: give node.datacenter and node.rack together",
            "12:15: settings.num_tokens must be an integer, found a string 'many'",
        ])
    }

    @Test func aDerivedKeyIsReportedEvenWhenItsSectionIsBroken() {
        let text = desiredState(settings: ["listen_address: 10.0.0.9"]).replacingOccurrences(of: "  listenAddress: 10.0.0.1\n", with: "  listenAddress: 10.0.0.1.5\n")
        #expect(errors(text) == [
            "10:18: node.listenAddress '10.0.0.1.5' is not a valid IPv4 address",
            "12:3: settings.listen_address is derived by the agent from node.listenAddress/node.listenInterface; set it there, not in settings",
        ])
        // Left out, the listen address is the host name's: setting it in settings is still a conflict.
        let blank = desiredState(settings: ["listen_address: 10.0.0.9"]).replacingOccurrences(of: "  listenAddress: 10.0.0.1\n", with: "")
        #expect(errors(blank) == ["11:3: settings.listen_address is derived by the agent from node.listenAddress/node.listenInterface (line 8); set it there, not in settings"])
    }
}
