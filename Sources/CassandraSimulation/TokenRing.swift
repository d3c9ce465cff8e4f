import CassandraAgent

/// The Murmur3 token ring of a simulated cluster and NetworkTopologyStrategy
/// replica placement (rack-aware, per datacenter), for describering, effective
/// ownership and repair ranges.
struct TokenRing {
    struct Range: Equatable {
        /// Exclusive start, inclusive end, as Cassandra's (start, end].
        let start: Int64
        let end: Int64

        /// Whether `other` lies inside this range (both (start, end], either may wrap).
        func contains(_ other: Range) -> Bool {
            if start == end { return true }
            func offset(_ token: Int64) -> UInt64 { UInt64(bitPattern: token &- start) }
            let width = offset(end), from = offset(other.start), to = offset(other.end)
            return other.start != other.end && from < width && to <= width && to > 0 && from < to
        }

        /// The fraction of the whole ring this range covers.
        var fraction: Double {
            let width = end &- start
            return width == 0 ? 1 : Double(UInt64(bitPattern: width)) / 18_446_744_073_709_551_616.0
        }
    }

    let entries: [(token: Int64, node: SimulatedCluster.Node)]

    /// Nodes whose tokens are normal tokens of the ring: not joining (pending tokens),
    /// not decommissioned. `including` counts a joining node in (the ring after its
    /// bootstrap), `excluding` takes one out (the ring after its decommission).
    init(_ cluster: SimulatedCluster, including: String? = nil, excluding: String? = nil) {
        entries = cluster.nodes.filter { ($0.address == including || (!$0.joining && !$0.decommissioned)) && $0.address != excluding }
            .flatMap { node in node.tokens.map { ($0, node) } }.sorted { $0.token < $1.token }
    }

    /// The range of this ring that holds `token`: the one ending at the first token at or after it.
    func range(containing token: Int64) -> Range {
        let i = entries.firstIndex { $0.token >= token } ?? 0
        return Range(start: entries[(i + entries.count - 1) % entries.count].token, end: entries[i].token)
    }

    /// Every range of the ring, each ending at one node's token.
    var ranges: [Range] {
        entries.indices.map { i in Range(start: entries[(i + entries.count - 1) % entries.count].token, end: entries[i].token) }
    }

    /// The node that owns the token ending `range`: its primary replica.
    func primary(of range: Range) -> SimulatedCluster.Node {
        entries.first { $0.token == range.end }!.node
    }

    /// The replicas of a range under `keyspace`'s replication, in placement order.
    func replicas(of range: Range, keyspace: SimulatedCluster.Keyspace) -> [SimulatedCluster.Node] {
        guard let startIndex = entries.firstIndex(where: { $0.token == range.end }) else { return [] }
        var chosen: [SimulatedCluster.Node] = []
        func contains(_ node: SimulatedCluster.Node) -> Bool { chosen.contains { $0.address == node.address } }
        switch keyspace.strategy {
        case "NetworkTopologyStrategy":
            // Per datacenter: distinct racks first, then any node, in ring order.
            var byDC: [String: [SimulatedCluster.Node]] = [:]
            var skipped: [String: [SimulatedCluster.Node]] = [:]
            for step in 0..<entries.count {
                let node = entries[(startIndex + step) % entries.count].node
                guard let rf = keyspace.replication[node.datacenter], !contains(node) else { continue }
                var picked = byDC[node.datacenter, default: []]
                guard picked.count < rf else { continue }
                if picked.contains(where: { $0.rack == node.rack }) {
                    if !skipped[node.datacenter, default: []].contains(where: { $0.address == node.address }) {
                        skipped[node.datacenter, default: []].append(node)
                    }
                    continue
                }
                picked.append(node)
                byDC[node.datacenter] = picked
                chosen.append(node)
            }
            for (dc, rf) in keyspace.replication.sorted(by: { $0.key < $1.key }) {
                for node in skipped[dc, default: []] where byDC[dc, default: []].count < rf && !contains(node) {
                    byDC[dc, default: []].append(node)
                    chosen.append(node)
                }
            }
        case "SimpleStrategy":
            let rf = keyspace.replication["replication_factor"] ?? 1
            for step in 0..<entries.count where chosen.count < rf {
                let node = entries[(startIndex + step) % entries.count].node
                if !contains(node) { chosen.append(node) }
            }
        default:
            break
        }
        return chosen
    }

    /// Effective ownership in percent of every node for `keyspace`.
    func effectiveOwnership(_ keyspace: SimulatedCluster.Keyspace) -> [String: Double] {
        var owned: [String: Double] = [:]
        for range in ranges {
            for node in replicas(of: range, keyspace: keyspace) { owned[node.address, default: 0] += range.fraction * 100 }
        }
        return owned
    }
}
