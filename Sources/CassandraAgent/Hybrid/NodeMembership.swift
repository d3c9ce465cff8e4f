/// Whether this node has left the cluster: Cassandra says so (netstats mode
/// DECOMMISSIONED), or the agent's own decommission succeeded and Cassandra
/// has not come back as a normal node since (a decommissioned Cassandra
/// refuses to start again, so a stopped unit after it is the plan, not a fault).
public enum NodeMembership {
    public static func left(decommission: JobSnapshot?, observation: NodeObservation?) -> String? {
        if observation?.mode == .decommissioned {
            return "the node has left the cluster (nodetool netstats: DECOMMISSIONED)" + ended(decommission)
        }
        guard let last = decommission?.lastRun, last.result == .succeeded, let endedAt = last.endedAt else { return nil }
        // Back in the ring as a normal node since (its data cleared and bootstrapped again): it is a member.
        if let observation, observation.at > endedAt, observation.mode == .normal || observation.mode == .joining { return nil }
        return "the node has left the cluster" + ended(decommission)
    }

    static func ended(_ decommission: JobSnapshot?) -> String {
        guard let last = decommission?.lastRun, last.result == .succeeded, let at = last.endedAt else { return "" }
        return " by the decommission \(last.id), which ended at \(Timestamp.iso8601(Int64(at)))"
    }
}
