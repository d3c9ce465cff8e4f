/// What must hold before a node leaves the ring for good. Cassandra 4.0+
/// checks replica counts itself, 3.11 does not; the agent checks on every
/// version, and also refuses while another node is joining, leaving or moving
/// (two range movements at once is how data goes missing).
public enum DecommissionPreflight {
    public static func check(requested: [String], view: ClusterView) -> Refusal? {
        guard let me = view.myRow, let local = view.datacenter else {
            return Refusal("this node (\(view.me)) is not in nodetool status: it is not part of a ring to leave")
        }
        guard me.state == .normal, view.mode == .normal else {
            return Refusal("this node is \(me.liveness.rawValue)\(me.state.rawValue) in nodetool status and in mode \(view.mode.rawValue): a decommission needs a normal node (UN, NORMAL)")
        }
        let moving = view.status.nodes.filter { $0.state != .normal && $0.endpoint.address != view.me }
        if !moving.isEmpty {
            let names = moving.map { "\($0.endpoint.address) (\($0.datacenter), \(word($0.state)))" }
            return Refusal("another node is changing the ring: \(names.joined(separator: ", ")); wait until it is normal (UN) before this node leaves")
        }
        let down = view.status.nodes.filter { $0.liveness != .up && $0.endpoint.address != view.me && $0.datacenter == local }
        if !down.isEmpty {
            return Refusal("\(down.map(\.endpoint.address).joined(separator: ", ")) of datacenter \(local) \(down.count == 1 ? "is" : "are") down: the ranges this node gives away need live nodes to take them")
        }
        let others = view.status.nodes.filter { $0.endpoint.address != view.me && $0.state == .normal }
        guard !others.isEmpty else {
            return Refusal("this node is the only normal node of the ring: a decommission would leave nothing to hand its data to")
        }
        if requested.isEmpty && !view.keyspacesListed {
            return Refusal("Cassandra 3.11's nodetool cannot list keyspaces, and 3.11's decommission does not check replica counts: name every keyspace with --keyspace so the agent can check them")
        }
        let remainingInDC = view.nodes(in: local).count - 1
        let remainingInCluster = view.status.nodes.count - 1
        let keyspaces = requested.isEmpty ? view.keyspaces : view.keyspaces.filter { requested.contains($0.name) }
        for name in requested where !view.keyspaces.contains(where: { $0.name == name }) {
            return Refusal("keyspace \(name) does not exist")
        }
        for keyspace in keyspaces.sorted(by: { $0.name < $1.name }) where !keyspace.local {
            if let datacenters = keyspace.datacenters {
                let rf = datacenters[local] ?? 0
                if rf > remainingInDC {
                    return Refusal("keyspace \(keyspace.name) keeps \(rf) replicas in \(local), which would have \(remainingInDC) node(s) left: "
                        + (remainingInDC == 0
                            ? "to remove datacenter \(local), first ALTER KEYSPACE \(keyspace.name) to drop \(local) from its replication (\(keyspace.replicationText))"
                            : "lower its replication in \(local) first (ALTER KEYSPACE), or add a node"))
                }
            } else if let rf = keyspace.replicationFactor, rf > remainingInCluster {
                return Refusal("keyspace \(keyspace.name) (SimpleStrategy) keeps \(rf) replicas, and the cluster would have \(remainingInCluster) node(s) left: lower its replication_factor first")
            }
        }
        return nil
    }

    static func word(_ state: NodetoolStatus.State) -> String {
        switch state {
        case .joining: "joining"
        case .leaving: "leaving"
        case .moving: "moving"
        case .normal: "normal"
        }
    }
}
