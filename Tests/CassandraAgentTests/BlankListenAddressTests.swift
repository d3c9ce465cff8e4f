import Testing
@testable import CassandraAgent

/// The self-hosted runbook's blank listen_address: one desired state for every node of a rack.
struct BlankListenAddressTests {
    let text = """
    apiVersion: cassandra-agent/v1
    cassandra:
      version: "4.1"
    cluster:
      name: Test
      seeds: ["10.0.0.1"]
    node:
      datacenter: dc1
      rack: rack1

    """

    @Test func noListenAddressRendersBlankAddressesForCassandraToResolve() throws {
        let config = try #require(rendered(text))
        #expect(config.value("listen_address") == .null)
        #expect(config.value("rpc_address") == .null)
        #expect(config.value("listen_interface") == nil)
        let yaml = try #require(config.files.first { $0.name == "cassandra.yaml" }?.contents)
        #expect(yaml.contains("\nlisten_address:\n") && yaml.contains("\nrpc_address:\n"))
        // An explicit rpc address still works with a blank listen address.
        let withRPC = try #require(rendered(text.replacing("  rack: rack1\n", with: "  rack: rack1\n  rpcAddress: 10.0.0.7\n")))
        #expect(withRPC.value("rpc_address") == .string("10.0.0.7"))
        #expect(withRPC.value("listen_address") == .null)
    }

    func observation(resolved: String, known: String) throws -> NodeObservation {
        var o = NodeObservation(at: 100)
        o.unitActive = true
        o.hostNameAddress = resolved
        o.info = try NodetoolInfo.parse(ScriptedFixture.text("info-4.1.txt"))
        o.status = try NodetoolStatus.parse(ScriptedFixture.text("status-4.1.txt").replacing("10.10.1.11 ", with: "\(known) "))
        return o
    }

    @Test func theAgentFindsItselfByHostNameAndChecksItAgainstTheCluster() throws {
        guard case .success(let validated) = validate(text) else { Issue.record("invalid"); return }
        var reconcile = ReconcileSnapshot(desiredStatePath: "/x")
        reconcile.inForce = .init(hash: "h", generation: 1, appliedAt: 0, version: .v4_1, state: validated.state)
        func inputs(_ o: NodeObservation) -> StatusInputs {
            StatusInputs(host: "cass-1", reconcile: reconcile, observation: o, jobs: [], observeInterval: 10, expiryWarningDays: 30, now: 100)
        }
        let same = try observation(resolved: "10.10.1.11", known: "10.10.1.11")
        #expect(StatusAssembler.document(inputs(same)).node == "10.10.1.11")
        #expect(NodeChecks.all(inputs(same)).contains { $0.reason == "node.address_resolved" && $0.level == .ok })
        // Debian's 127.0.1.1 line in /etc/hosts is the classic trap: Cassandra would bind to it.
        let trap = try observation(resolved: "127.0.1.1", known: "10.10.1.11")
        let check = try #require(NodeChecks.all(inputs(trap)).first { $0.reason == "node.address_mismatch" })
        #expect(check.level == .warning)
        #expect(check.message.contains("resolves to 127.0.1.1, but the cluster knows this node"))
    }
}

/// The recorded nodetool samples, for parsers in tests that need no runner.
enum ScriptedFixture {
    static func text(_ name: String) -> String {
        (try? FileIO.readText(Paths.packageRoot + "/Tests/CassandraAgentTests/Fixtures/nodetool/" + name)) ?? ""
    }
}
