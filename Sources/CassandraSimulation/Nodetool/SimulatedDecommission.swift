import CassandraAgent

/// `nodetool decommission [-f|--force]` as StorageService.decommission runs it:
///
/// - 3.11: not a ring member; fewer than 2 normal *tokens* after all leaving nodes left
///   (with vnodes a lone node still has 16, so this never fires); mode neither NORMAL nor
///   LEAVING; already decommissioning. No replication-factor check, no -f.
/// - 4.0/4.1: unless already LEAVING (a retry skips them): not a member; fewer than 2
///   normal nodes; mode not NORMAL. Then already decommissioning; then, unless -f, per
///   keyspace (LocalStrategy ones aside) RF in this node's DC (SimpleStrategy: RF) >= the
///   normal nodes of the DC (of the ring), this node counted: "Not enough live nodes...".
/// - 5.0: nodetool itself prints "This node is still decommissioning." or "Node was already
///   decommissioned." (exit 0) first; DECOMMISSION_FAILED counts as NORMAL for the checks.
/// - refusals are UnsupportedOperationException, which nodetool turns into
///   "nodetool: Unsupported operation: <reason>" (exit 1).
/// - then the node is LEAVING (UL everywhere) and streams each range it replicates to the
///   nodes that replicate it once it is gone (its DC's next nodes), over time proportional
///   to its data; at the end it has left the ring: DECOMMISSIONED, gossip and native
///   transport off, its JMX still up. A failed stream: "error: Error while decommissioning
///   node: Stream failed" (exit 2), and the node stays LEAVING (5.0: DECOMMISSION_FAILED)
///   until a retry or a restart. (The RING_DELAY sleeps before and after streaming are left out.)
enum SimulatedDecommission {
    static let frame = "org.apache.cassandra.service.StorageService.decommission(StorageService.java:5055)"

    static func run(_ args: [String], _ cluster: inout SimulatedCluster, index: Int, directory: SimulationDirectory, now: Double) -> SimulatedOutput {
        var force = false
        for arg in args {
            if (arg == "-f" || arg == "--force") && cluster.version >= .v4_0 { force = true } else { return .usage("Found unexpected parameters: [\(arg)]") }
        }
        let node = cluster.nodes[index]
        let version = cluster.version
        let decommissioning = cluster.streamPlans.contains { $0.isRunning && $0.operation == .unbootstrap && $0.owner == node.address }
        if version == .v5_0 {
            if decommissioning { return SimulatedOutput(stdout: "This node is still decommissioning.\n") }
            if node.decommissioned { return SimulatedOutput(stdout: "Node was already decommissioned.\n") }
        }
        func unsupported(_ reason: String) -> SimulatedOutput { .usage("Unsupported operation: \(reason)") }
        let format = NodetoolFormatters(cluster: cluster, observer: node.address, now: now, printPort: false)
        let mode = format.mode(node)
        let member = !node.joining && !node.decommissioned
        // TokenMetadata.cloneAfterAllLeft: the normal ring without the nodes now leaving.
        let afterAllLeft = cluster.nodes.filter { !$0.joining && !$0.decommissioned && !$0.leaving }
        let leavingAlready = mode == "LEAVING"
        if version == .v3_11 {
            if !member { return unsupported("local node is not a member of the token ring yet") }
            if afterAllLeft.reduce(0, { $0 + $1.tokens.count }) < 2 { return unsupported("no other normal nodes in the ring; decommission would be pointless") }
            if mode != "LEAVING" && mode != "NORMAL" { return unsupported("Node in \(mode) state; wait for status to become normal or restart") }
        } else if !leavingAlready {
            if !member { return unsupported("local node is not a member of the token ring yet") }
            if afterAllLeft.count < 2 { return unsupported("no other normal nodes in the ring; decommission would be pointless") }
            if mode != "NORMAL" && mode != "DECOMMISSION_FAILED" { return unsupported("Node in \(mode) state; wait for status to become normal or restart") }
        }
        if decommissioning { return .usage("Node is still decommissioning. Check nodetool netstats.") }
        if version >= .v4_0 && !leavingAlready && !force {
            for keyspace in cluster.distributedKeyspaces {
                let nts = keyspace.strategy == "NetworkTopologyStrategy"
                let rf = nts ? keyspace.replication[node.datacenter] ?? 0 : keyspace.replication["replication_factor"] ?? 1
                let counted = nts ? afterAllLeft.filter { $0.datacenter == node.datacenter }.count : afterAllLeft.count
                if counted <= rf {
                    return unsupported("Not enough live nodes to maintain replication factor in keyspace \(keyspace.name) (RF = \(rf), N = \(counted)). Perform a forceful decommission to ignore.")
                }
            }
        }

        cluster.nodes[index].leaving = true
        cluster.nodes[index].decommissionFailed = false
        let plan = unbootstrap(cluster, index: index).build(&cluster, directory: directory, now: now)
        cluster.streamPlans.append(plan)
        return SimulatedStreaming.waitForPlan(.init(planID: plan.id, failurePrefix: "Error while decommissioning node", frame: frame), &cluster, directory: directory, now: now)
    }

    /// getChangedReplicasForLeaving: each range of the node goes to the replicas it has
    /// once the node is out of the ring that it does not have now.
    static func unbootstrap(_ cluster: SimulatedCluster, index: Int) -> StreamPlanBuilder {
        let node = cluster.nodes[index]
        let before = TokenRing(cluster), after = TokenRing(cluster, excluding: node.address)
        var builder = StreamPlanBuilder(.unbootstrap, owner: node.address)
        for keyspace in cluster.distributedKeyspaces {
            let ranges = cluster.localRanges(of: node, keyspace: keyspace, ring: before)
            let owned = ranges.reduce(0) { $0 + $1.fraction }
            let held = cluster.bytes(of: keyspace, on: node)
            for range in ranges {
                let now = Set(before.replicas(of: range, keyspace: keyspace).map(\.address))
                let gaining = after.replicas(of: after.range(containing: range.end), keyspace: keyspace).filter { !now.contains($0.address) }
                for peer in gaining {
                    builder.add(range, of: keyspace.name, peer: peer.address, bytes: SimulatedCluster.share(of: held, in: range, owned: owned))
                }
            }
        }
        return builder
    }
}
