import CassandraAgent

extension SimulatedCluster {
    /// `cassandra-sim bootstrap NODE --seconds N`: the node bootstraps again, as a
    /// replacement of its own data would: its tokens are pending (UJ everywhere,
    /// `?` ownership, `Joining: 1`, gossip BOOT), its Mode JOINING, and a Bootstrap
    /// plan streams what it holds from the other replicas of its ranges in its DC
    /// (their netstats show the sending side) for `seconds`; then it is NORMAL.
    public mutating func startBootstrap(_ address: String, seconds: Double, now: Double, directory: SimulationDirectory) throws(SimulationError) {
        settleStreams(now: now, directory: directory)
        guard let index = nodes.firstIndex(where: { $0.address == address }) else { throw SimulationError("no node \(address)") }
        let node = nodes[index]
        guard node.running, !node.joining, !node.leaving, !node.decommissioned else {
            throw SimulationError("\(address) must be a running node in NORMAL state to bootstrap")
        }
        guard seconds > 0 else { throw SimulationError("--seconds must be more than 0") }
        let before = TokenRing(self, excluding: address), after = TokenRing(self)
        let format = NodetoolFormatters(cluster: self, observer: address, now: now, printPort: false)
        var builder = StreamPlanBuilder(.bootstrap, owner: address)
        var streamed: Int64 = 0
        for keyspace in distributedKeyspaces {
            let ranges = localRanges(of: node, keyspace: keyspace, ring: after)
            let owned = ranges.reduce(0) { $0 + $1.fraction }
            let held = bytes(of: keyspace, on: node)
            for range in ranges {
                let candidates = before.replicas(of: before.range(containing: range.end), keyspace: keyspace)
                    .filter { $0.datacenter == node.datacenter && $0.address != address && format.seenUp($0) }
                guard let source = candidates.min(by: { builder.load(of: $0.address) < builder.load(of: $1.address) }) else { continue }
                let share = Self.share(of: held, in: range, owned: owned)
                builder.add(range, of: keyspace.name, peer: source.address, bytes: share)
                streamed += share
            }
        }
        // What it streams it does not hold until the plan completes (its Load grows meanwhile).
        nodes[index].keyspaceBytes = Dictionary(uniqueKeysWithValues: keyspaces.map { ($0.name, Int64(0)) })
        nodes[index].loadBytes = max(0, node.loadBytes - streamed)
        nodes[index].joining = true
        var plan = builder.build(&self, directory: directory, now: now)
        plan.progressPerSecond = 1 / seconds
        plan.followsStreamRate = false
        streamPlans.append(plan)
    }
}
