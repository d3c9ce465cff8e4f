/// What must hold before a rebuild streams anything. This is how the runbook's
/// worst trap never happens: `nodetool rebuild` from a datacenter that a
/// keyspace does not replicate to finds no source for its ranges, marks them
/// available anyway (`system.available_ranges`) and copies nothing, and every
/// later rebuild of that keyspace then copies nothing either.
public enum RebuildPreflight {
    /// The keyspaces to rebuild, in order, or why not.
    public static func keyspaces(sourceDC: String?, requested: [String], view: ClusterView) -> Result<[String], Refusal> {
        guard let sourceDC, !sourceDC.isEmpty else {
            return .failure(Refusal("a rebuild needs the datacenter to copy from: `cassandra-agent job start rebuild --source-dc DC`"))
        }
        guard let local = view.datacenter else {
            return .failure(Refusal("this node (\(view.me)) is not in nodetool status: it cannot be rebuilt before it has joined the ring"))
        }
        let datacenters = view.status.datacenters
        guard sourceDC != local else {
            return .failure(Refusal("the source datacenter \(sourceDC) is this node's own: a rebuild copies from another datacenter (one of \(datacenters.filter { $0 != local }.joined(separator: ", ")))"))
        }
        guard datacenters.contains(sourceDC) else {
            return .failure(Refusal("datacenter '\(sourceDC)' is not in the cluster: nodetool status shows \(datacenters.joined(separator: ", ")) (names are case-sensitive)"))
        }
        let upNormal = view.nodes(in: sourceDC).filter { $0.liveness == .up && $0.state == .normal }
        guard !upNormal.isEmpty else {
            return .failure(Refusal("no node of datacenter \(sourceDC) is up and normal (UN) in nodetool status: there is nothing to copy from"))
        }
        // A datacenter that replicates but holds next to nothing has not been rebuilt itself: copying from it
        // copies nothing and marks the ranges available all the same.
        let average = { (dc: String) -> Double in
            let loads = view.nodes(in: dc).compactMap(\.load)
            return loads.isEmpty ? 0 : Double(loads.reduce(0, +)) / Double(loads.count)
        }
        let fullest = datacenters.map(average).max() ?? 0
        if fullest > Double(64 << 20), average(sourceDC) < fullest / 10 {
            return .failure(Refusal("datacenter \(sourceDC) holds almost no data (\(Int64(average(sourceDC))) bytes per node on average, against \(Int64(fullest)) in the fullest datacenter): "
                + "it has not been rebuilt itself; a rebuild from it would copy nothing and mark this node's ranges as available. Rebuild from the datacenter that holds the data"))
        }
        guard view.mode == .normal else {
            return .failure(Refusal("this node is in mode \(view.mode.rawValue) (nodetool netstats); a rebuild needs NORMAL"))
        }
        if requested.isEmpty && !view.keyspacesListed {
            return .failure(Refusal("Cassandra 3.11's nodetool cannot list keyspaces: name each keyspace to rebuild with --keyspace, so the agent can check its replication first"))
        }
        var chosen: [String] = []
        for name in requested {
            guard let keyspace = view.keyspaces.first(where: { $0.name == name }) else {
                return .failure(Refusal("keyspace \(name) does not exist (known: \(view.keyspaces.filter { !$0.local }.map(\.name).sorted().joined(separator: ", ")))"))
            }
            if keyspace.local { return .failure(Refusal("keyspace \(name) uses LocalStrategy: every node keeps its own, there is nothing to rebuild")) }
            if !keyspace.replicates(to: local) {
                return .failure(Refusal("keyspace \(name) does not replicate to this node's datacenter \(local) (replication: \(keyspace.replicationText)): "
                    + "add \(local) to its replication first (ALTER KEYSPACE \(name) WITH replication = {'class': 'NetworkTopologyStrategy', ...}), then rebuild"))
            }
            chosen.append(name)
        }
        if requested.isEmpty {
            // Every keyspace that has replicas here; those that do not are none of this node's business.
            chosen = view.keyspaces.filter { !$0.local && $0.replicates(to: local) }.map(\.name).sorted()
        }
        for name in chosen {
            let keyspace = view.keyspaces.first { $0.name == name }!
            if keyspace.datacenters == nil {
                return .failure(Refusal("keyspace \(name) uses SimpleStrategy, which places replicas without regard to datacenters: a rebuild from \(sourceDC) finds no source for some of its ranges. "
                    + "ALTER KEYSPACE \(name) WITH replication = {'class': 'NetworkTopologyStrategy', '\(sourceDC)': N, '\(local)': N} first (the runbooks do this for system_auth, system_distributed and system_traces), or name the keyspaces to rebuild with --keyspace"))
            }
            if !keyspace.replicates(to: sourceDC) {
                return .failure(Refusal("keyspace \(name) does not replicate to the source datacenter \(sourceDC) (replication: \(keyspace.replicationText)): "
                    + "a rebuild from \(sourceDC) would mark its ranges as available without copying any data, and every later rebuild of it would copy nothing. "
                    + "Pick the datacenter that holds its data, or leave it out with --keyspace"))
            }
        }
        guard !chosen.isEmpty else {
            return .failure(Refusal("no keyspace replicates to this node's datacenter \(local) yet: ALTER KEYSPACE each one to add \(local) to its replication, then rebuild"))
        }
        return .success(chosen)
    }

    /// The nodes of this node's datacenter that the source datacenter's netstats show rebuilding
    /// (a `Rebuild` plan sending to them), this node left out.
    public static func rebuilding(peersOf view: ClusterView, sourceNetstats: [NodetoolNetstats]) -> [String] {
        guard let local = view.datacenter else { return [] }
        let localNodes = Set(view.nodes(in: local).map(\.endpoint.address))
        var found: Set<String> = []
        for netstats in sourceNetstats {
            for transfer in netstats.transfers("Rebuild", .sending) where localNodes.contains(transfer.peer) && transfer.peer != view.me {
                found.insert(transfer.peer)
            }
        }
        return found.sorted()
    }

    /// This node's place among its datacenter's nodes (by address): how many staggers it waits.
    public static func rank(of view: ClusterView) -> Int {
        guard let local = view.datacenter else { return 0 }
        return view.nodes(in: local).map(\.endpoint.address).sorted().firstIndex(of: view.me) ?? 0
    }
}
