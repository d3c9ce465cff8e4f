/// The hybrid-cluster runbook's checklist (a managed or new datacenter joined
/// to this one, or a migration between them), as a pure function of what the
/// agent holds: the desired state in force, the installed truststore, and the
/// cluster as nodetool last showed it. It applies when the cluster, or the
/// seeds, span more than one datacenter.
public struct HybridChecklist: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        public var item: String
        public var inPlace: Bool
        public var detail: String
    }

    public var datacenters: [String]
    public var items: [Item]

    public var missing: [Item] { items.filter { !$0.inPlace } }

    public static let snitch = "org.apache.cassandra.locator.GossipingPropertyFileSnitch"

    public static func make(desired: DesiredState?, observation: NodeObservation?, stores: [(store: String, certificate: NodeArtifacts.StoreCertificate)],
                            rebuildRunning: Bool) -> HybridChecklist? {
        guard let desired, let status = observation?.status else { return nil }
        let dcOf = Dictionary(status.nodes.map { ($0.endpoint.address, $0.datacenter) }, uniquingKeysWith: { a, _ in a })
        let seedDCs = Set(desired.cluster.seeds.compactMap { dcOf[$0.value.host] })
        let outside = desired.cluster.seeds.map(\.value.host).filter { dcOf[$0] == nil }
        let datacenters = Array(Set(status.datacenters).union(seedDCs)).sorted()
        guard datacenters.count > 1 || !outside.isEmpty else { return nil }
        var items: [Item] = []

        // The snitch Cassandra runs with (describecluster), not only the one rendered.
        if let running = observation?.snitch {
            items.append(Item(item: "snitch", inPlace: running == snitch,
                              detail: running == snitch ? "GossipingPropertyFileSnitch: each node announces its own datacenter and rack"
                                  : "Cassandra runs \(running); a hybrid cluster needs GossipingPropertyFileSnitch (the agent renders it; Cassandra picks it up at its next restart)"))
        }

        // Every datacenter reachable through at least one seed.
        let unseeded = status.datacenters.filter { !seedDCs.contains($0) }
        var seedProblems: [String] = []
        if !unseeded.isEmpty { seedProblems.append("cluster.seeds names no node of \(unseeded.joined(separator: ", ")): add two or three of each datacenter's nodes, on every node") }
        if !outside.isEmpty { seedProblems.append("\(outside.joined(separator: ", ")) \(outside.count == 1 ? "is" : "are") not in the ring yet (another datacenter's seeds, before it has joined?)") }
        items.append(Item(item: "seeds", inPlace: seedProblems.isEmpty,
                          detail: seedProblems.isEmpty ? "cluster.seeds names nodes of every datacenter (\(datacenters.joined(separator: ", ")))" : seedProblems.joined(separator: "; ")))

        items.append(trustItem(desired: desired, stores: stores))

        // Keyspaces that do not keep replicas in every datacenter.
        if let keyspaces = observation?.keyspaces {
            var gaps: [String] = []
            for keyspace in keyspaces.sorted(by: { $0.name < $1.name }) where !keyspace.local {
                if let perDC = keyspace.datacenters {
                    let absent = datacenters.filter { (perDC[$0] ?? 0) == 0 }
                    if !absent.isEmpty { gaps.append("\(keyspace.name) has no replica in \(absent.joined(separator: ", ")) (\(keyspace.replicationText))") }
                } else {
                    gaps.append("\(keyspace.name) uses SimpleStrategy, which ignores datacenters")
                }
            }
            items.append(Item(item: "keyspaces", inPlace: gaps.isEmpty,
                              detail: gaps.isEmpty ? "every keyspace keeps replicas in every datacenter"
                                  : gaps.joined(separator: "; ") + ": ALTER KEYSPACE each to NetworkTopologyStrategy with every datacenter before rebuilding"))
        } else if desired.cassandraVersion == .v3_11 {
            items.append(Item(item: "keyspaces", inPlace: false,
                              detail: "Cassandra 3.11's nodetool cannot list keyspaces: check with DESCRIBE KEYSPACES in cqlsh that each keeps replicas in every datacenter"))
        }

        let rebuilding = rebuildRunning || (observation?.plans.contains { $0.operation == "Rebuild" } ?? false)
        if rebuilding {
            let repairOn = desired.repair?.enabled ?? false
            items.append(Item(item: "repair", inPlace: !repairOn,
                              detail: repairOn ? "repair.enabled is true while a rebuild streams: set repair.enabled: false on every node until the rebuilds end"
                                  : "repair is paused (repair.enabled: false) while the rebuild streams"))
        }
        return HybridChecklist(datacenters: datacenters, items: items)
    }

    /// The internode truststore must hold more than the CA chain of this node's own certificate:
    /// the other datacenters' certificates (a managed datacenter's gossip certificates).
    static func trustItem(desired: DesiredState, stores: [(store: String, certificate: NodeArtifacts.StoreCertificate)]) -> Item {
        guard let internode = desired.tls?.internode, internode.encryption != .none else {
            return Item(item: "truststore", inPlace: true, detail: "internode encryption is off, so no certificates are exchanged (a managed datacenter requires tls.internode.encryption: all)")
        }
        let trust = stores.filter { $0.store.hasPrefix("internode-truststore") }.map(\.certificate)
        guard let leaf = stores.first(where: { $0.store.hasPrefix("internode-keystore") })?.certificate else {
            return Item(item: "truststore", inPlace: false, detail: "the internode stores have not been built yet")
        }
        // Walk up from this node's certificate: its issuer, that one's issuer, ...
        var own: Set<String> = []
        var next = leaf.issuer
        while let subject = next, !own.contains(subject), let cert = trust.first(where: { $0.subject == subject }) {
            own.insert(subject)
            next = cert.issuer == cert.subject ? nil : cert.issuer
        }
        let others = trust.filter { !own.contains($0.subject) }
        guard !others.isEmpty else {
            return Item(item: "truststore", inPlace: false,
                        detail: "the internode truststore holds only the CA of this node's own certificate (\(trust.map(\.fingerprint).joined(separator: ", "))): "
                            + "add the other datacenter's certificates to tls.internode.trust (for a managed datacenter, the JSON `az managed-cassandra cluster show` prints)")
        }
        return Item(item: "truststore", inPlace: true,
                    detail: "the internode truststore holds \(others.count) certificate(s) beside this node's own CA: " + others.map { "\($0.subject) (\($0.fingerprint))" }.joined(separator: ", "))
    }
}
