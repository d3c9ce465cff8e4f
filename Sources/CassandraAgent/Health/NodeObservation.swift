/// What the observer last saw of the node (systemctl, nodetool, free space), with when.
public struct NodeObservation: Sendable {
    public var at: Double
    public var unitActive: Bool?
    public var unitState: String?
    public var unitError: String?
    public var info: NodetoolInfo?
    public var status: NodetoolStatus?
    public var nativeTransport: Bool?
    public var gossip: Bool?
    public var mode: NodetoolNetstats.Mode?
    /// The node's stream plans (netstats): a rebuild it serves shows here.
    public var plans: [NodetoolNetstats.Plan] = []
    /// Read only while the cluster spans datacenters (the hybrid checklist): the snitch in force and every keyspace's replication.
    public var snitch: String?
    public var keyspaces: [KeyspaceReplication]?
    /// When those two were read: they change rarely, so they are read again only after `ObservationService.clusterRefresh`.
    public var clusterReadAt: Double?
    public var nodetoolError: String?
    public var disks: [DiskSpace] = []
    /// The first address the host's name resolves to: what Cassandra takes for a blank listen address.
    public var hostNameAddress: String?

    public init(at: Double) {
        self.at = at
    }

    /// This node's address as the cluster knows it: the row of `status` with `info`'s host ID.
    public var ownAddress: String? {
        guard let id = info?.hostID else { return nil }
        return status?.nodes.first { $0.hostID == id }?.endpoint.address
    }

    /// Cassandra's start, from its uptime: when it last read its config files.
    public var cassandraStartedAt: Double? {
        info.map { at - Double($0.uptimeSeconds) }
    }
}

public struct DiskSpace: Sendable, Equatable {
    public var path: String
    public var freeBytes: Int64?
    public var totalBytes: Int64?
    public var error: String?

    public init(path: String, freeBytes: Int64? = nil, totalBytes: Int64? = nil, error: String? = nil) {
        self.path = path
        self.freeBytes = freeBytes
        self.totalBytes = totalBytes
        self.error = error
    }

    public var freeFraction: Double? {
        guard let free = freeBytes, let total = totalBytes, total > 0 else { return nil }
        return Double(free) / Double(total)
    }
}
