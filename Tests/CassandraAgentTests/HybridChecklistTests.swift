import Testing
@testable import CassandraAgent

/// The hybrid-cluster checklist and the status of a node that has left, from
/// plain snapshots (the sample cluster of ../shared/nodetool: dc1 and dc2).
struct HybridChecklistTests {
    func desired(seeds: String, repair: Bool = false, encryption: String? = nil) throws -> DesiredState {
        var text = """
        apiVersion: cassandra-agent/v1
        cassandra: {version: "4.1"}
        cluster: {name: acme-prod, seeds: [\(seeds)]}
        node: {datacenter: dc1, rack: rack1, listenAddress: 10.10.1.11}
        repair: {enabled: \(repair), schedule: "0 1 * * SUN"}

        """
        if let encryption {
            text += """
            tls:
              internode:
                encryption: \(encryption)
                certificate: /tls/node.pem
                privateKey: /tls/node.key
                trust: [/tls/ca.pem, /tls/managed.json]
                passwordFile: /tls/pass

            """
        }
        var diagnostics = Diagnostics(file: "ds.yaml")
        return try #require(DesiredStateLoader.load(text: text, diagnostics: &diagnostics), "\(diagnostics.sorted)")
    }

    func observation(joiningNormal: Bool = true) throws -> NodeObservation {
        var o = NodeObservation(at: 100)
        o.info = try NodetoolInfo.parse(sample("info-4.1.txt"))
        o.status = try NodetoolStatus.parse(sample("status-4.1.txt"))
        let cluster = try NodetoolDescribeCluster.parse(sample("describecluster-4.1.txt"))
        o.snitch = cluster.snitch
        o.keyspaces = cluster.keyspaces.map(KeyspaceReplication.init)
        o.mode = .normal
        return o
    }

    func cert(_ subject: String, issuer: String, _ fingerprint: String) -> NodeArtifacts.StoreCertificate {
        .init(alias: subject, subject: subject, fingerprint: fingerprint, notAfter: 2_000_000_000, issuer: issuer)
    }

    @Test func aSingleDatacenterHasNoChecklist() throws {
        var o = try observation()
        o.status?.nodes.removeAll { $0.datacenter == "dc2" }
        #expect(HybridChecklist.make(desired: try desired(seeds: "10.10.1.11"), observation: o, stores: [], rebuildRunning: false) == nil)
    }

    @Test func whatIsNotInPlaceIsListedByItem() throws {
        let stores = [("internode-keystore.p12", cert("CN=node1", issuer: "CN=Our CA", "AA")), ("internode-truststore.p12", cert("CN=Our CA", issuer: "CN=Our CA", "BB"))]
        let list = try #require(HybridChecklist.make(desired: try desired(seeds: "10.10.1.11, 10.9.9.9", repair: true, encryption: "all"), observation: try observation(), stores: stores, rebuildRunning: true))
        let missing = Dictionary(uniqueKeysWithValues: list.missing.map { ($0.item, $0.detail) })
        #expect(list.items.first { $0.item == "snitch" }?.inPlace == true)
        #expect(missing["seeds"]?.contains("cluster.seeds names no node of dc2") == true)
        #expect(missing["seeds"]?.contains("10.9.9.9 is not in the ring yet") == true)
        #expect(missing["truststore"]?.contains("holds only the CA of this node's own certificate (BB)") == true)
        #expect(missing["keyspaces"]?.contains("analytics has no replica in dc2 (dc1=2)") == true)
        #expect(missing["keyspaces"]?.contains("system_auth uses SimpleStrategy") == true)
        #expect(missing["repair"]?.contains("repair.enabled is true while a rebuild streams") == true)
    }

    @Test func theOtherDatacentersCertificatesInTheTruststoreAreSeenByFingerprint() throws {
        let stores = [("internode-keystore.p12", cert("CN=node1", issuer: "CN=Our Intermediate", "AA")),
                      ("internode-truststore.p12", cert("CN=Our Intermediate", issuer: "CN=Our Root", "B1")),
                      ("internode-truststore.p12", cert("CN=Our Root", issuer: "CN=Our Root", "B2")),
                      ("internode-truststore.p12", cert("CN=Managed Gossip", issuer: "CN=Managed Gossip", "CC"))]
        let list = try #require(HybridChecklist.make(desired: try desired(seeds: "10.10.1.11, 10.20.1.21", encryption: "all"), observation: try observation(), stores: stores, rebuildRunning: false))
        let trust = try #require(list.items.first { $0.item == "truststore" })
        #expect(trust.inPlace && trust.detail.contains("CN=Managed Gossip (CC)") && !trust.detail.contains("B2"))
        #expect(list.items.first { $0.item == "seeds" }?.inPlace == true)
        #expect(!list.items.contains { $0.item == "repair" })
    }

    @Test func theChecklistIsACheckInStatus() throws {
        var snapshot = ReconcileSnapshot(desiredStatePath: "/ds.yaml")
        snapshot.applied(hash: "h", generation: 1, version: .v4_1, state: try desired(seeds: "10.10.1.11"), at: 50)
        let inputs = StatusInputs(host: "h", reconcile: snapshot, observation: try observation(), jobs: [], observeInterval: 10, expiryWarningDays: 30, now: 110)
        let check = try #require(NodeChecks.all(inputs).first { $0.name == "hybrid.checklist" })
        #expect(check.level == .warning && check.reason == "hybrid.incomplete" && check.message.contains("seeds: cluster.seeds names no node of dc2"))
        #expect(StatusAssembler.document(inputs).hybrid?.datacenters == ["dc1", "dc2"])
    }

    @Test func aNodeThatHasLeftIsReportedAsGoneNotBroken() throws {
        var snapshot = ReconcileSnapshot(desiredStatePath: "/ds.yaml")
        snapshot.applied(hash: "h", generation: 1, version: .v4_1, state: try desired(seeds: "10.10.1.11"), at: 50)
        var decommission = JobSnapshot(kind: .decommission)
        var run = JobRunRecord(id: "decommission-1", kind: .decommission, trigger: .manual, startedAt: 60)
        run.endedAt = 90
        run.result = .succeeded
        decommission.lastRun = run
        // Afterwards the operator stopped Cassandra: a stopped unit is the plan, not a page.
        var stopped = NodeObservation(at: 100)
        stopped.unitActive = false
        stopped.unitState = "inactive"
        let inputs = StatusInputs(host: "h", reconcile: snapshot, observation: stopped, jobs: [decommission], observeInterval: 10, expiryWarningDays: 30, now: 110)
        let checks = NodeChecks.all(inputs)
        #expect(!checks.contains { $0.level == .critical })
        #expect(checks.first { $0.reason == "node.left" }?.message.contains("left the cluster by the decommission decommission-1") == true)
        // Without the decommission, the same observation pages.
        let member = StatusInputs(host: "h", reconcile: snapshot, observation: stopped, jobs: [], observeInterval: 10, expiryWarningDays: 30, now: 110)
        #expect(NodeChecks.all(member).contains { $0.reason == "unit.inactive" && $0.level == .critical })
        // Back in the ring as a normal node later: a member again.
        var rejoined = try observation()
        rejoined.at = 200
        #expect(NodeMembership.left(decommission: decommission, observation: rejoined) == nil)
    }
}
