import CassandraAgent

/// Where the simulated data is: how many bytes of a keyspace a node holds, and
/// how much of that belongs to one token range. A node's bytes of a keyspace are
/// spread evenly over the ranges it replicates, so streaming a range moves the
/// source's share of it, and a node of a datacenter that holds nothing (a new one)
/// streams nothing.
extension SimulatedCluster {
    static func isSystem(_ keyspace: String) -> Bool { NodetoolFormatters.systemKeyspaces.contains(keyspace) }

    /// What Cassandra streams for a rebuild, bootstrap or decommission: every keyspace
    /// but LocalStrategy ones (3.11 getNonLocalStrategyKeyspaces, 4.0+ distributedKeyspaces),
    /// system_auth, system_distributed and system_traces included.
    var distributedKeyspaces: [Keyspace] { keyspaces.filter { $0.strategy != "LocalStrategy" } }

    func keyspace(_ name: String) -> Keyspace? { keyspaces.first { $0.name == name } }

    /// Bytes of `keyspace` that `node` holds. System keyspaces hold next to nothing.
    func bytes(of keyspace: Keyspace, on node: Node) -> Int64 {
        guard !Self.isSystem(keyspace.name) else { return 0 }
        if let held = node.keyspaceBytes { return held[keyspace.name] ?? 0 }
        let user = keyspaces.filter { !Self.isSystem($0.name) && $0.replication[node.datacenter] != nil }
        return user.contains { $0.name == keyspace.name } ? node.loadBytes / Int64(user.count) : 0
    }

    /// The part of `node`'s bytes of a keyspace that falls in `range`, given the
    /// fraction of the ring it replicates for that keyspace (`localRanges`).
    static func share(of held: Int64, in range: TokenRing.Range, owned: Double) -> Int64 {
        guard held > 0, owned > 0 else { return 0 }
        return Int64((Double(held) * min(1, range.fraction / owned)).rounded())
    }

    /// Adds streamed bytes to what a node holds and to its Load.
    mutating func addBytes(_ bytes: Int64, of keyspace: String, to index: Int) {
        guard bytes > 0, let ks = self.keyspace(keyspace) else { return }
        var held = nodes[index].keyspaceBytes ?? Dictionary(uniqueKeysWithValues: keyspaces.map { ($0.name, self.bytes(of: $0, on: nodes[index])) })
        held[ks.name, default: 0] += bytes
        nodes[index].keyspaceBytes = held
        nodes[index].loadBytes += bytes
    }

    /// The Load nodetool shows: what the node holds plus what it has received so far in running streams.
    func load(of node: Node) -> Int64 {
        node.loadBytes + streamPlans.filter(\.isRunning).reduce(0) { $0 + $1.bytesReceived(by: node.address) }
    }

    /// The ranges `node` replicates for `keyspace` in the current ring.
    func localRanges(of node: Node, keyspace: Keyspace, ring: TokenRing) -> [TokenRing.Range] {
        ring.ranges.filter { ring.replicas(of: $0, keyspace: keyspace).contains { $0.address == node.address } }
    }
}
