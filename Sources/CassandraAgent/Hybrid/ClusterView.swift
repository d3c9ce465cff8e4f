/// Where a keyspace keeps replicas, as the agent can read it from nodetool:
/// `describecluster` (4.0+: class and options) or `describering` (the
/// datacenters of the endpoints; 3.11 has nothing else).
public struct KeyspaceReplication: Sendable, Equatable {
    public var name: String
    /// LocalStrategy (and the virtual keyspaces): every node its own copy; nothing to stream or to keep.
    public var local: Bool
    /// datacenter -> replication factor; nil: replicas in every datacenter (SimpleStrategy).
    public var datacenters: [String: Int]?
    /// SimpleStrategy's replication_factor (cluster-wide).
    public var replicationFactor: Int?

    public init(name: String, local: Bool = false, datacenters: [String: Int]?, replicationFactor: Int? = nil) {
        self.name = name
        self.local = local
        self.datacenters = datacenters
        self.replicationFactor = replicationFactor
    }

    public func replicates(to datacenter: String) -> Bool {
        guard !local else { return false }
        guard let datacenters else { return (replicationFactor ?? 1) > 0 }
        return (datacenters[datacenter] ?? 0) > 0
    }

    public var isSystem: Bool { name.hasPrefix("system") }

    /// `{dc1=3, dc2=3}` as an operator reads it.
    public var replicationText: String {
        if local { return "LocalStrategy" }
        guard let datacenters else { return "SimpleStrategy, replication_factor \(replicationFactor ?? 0)" }
        return datacenters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    }

    /// From `describecluster`'s `Keyspaces:` block (4.0+).
    public init(_ keyspace: NodetoolDescribeCluster.Keyspace) {
        name = keyspace.name
        let strategy = keyspace.replicationClass.split(separator: ".").last.map(String.init) ?? keyspace.replicationClass
        local = false
        switch strategy {
        case "NetworkTopologyStrategy":
            datacenters = keyspace.options.compactMapValues { Int($0) }
        case "SimpleStrategy":
            datacenters = nil
            replicationFactor = keyspace.options["replication_factor"].flatMap { Int($0) }
        default:
            // LocalStrategy and anything unknown: treated as held by every node, streamed by none.
            local = true
            datacenters = nil
        }
    }

    /// From `describering` alone: the datacenters its replicas are in (3.11).
    public init(name: String, ring: NodetoolDescribeRing) {
        self.name = name
        local = false
        var counts: [String: Int] = [:]
        for range in ring.ranges {
            var perDC: [String: Int] = [:]
            for detail in range.details { perDC[detail.datacenter, default: 0] += 1 }
            for (dc, n) in perDC { counts[dc] = max(counts[dc] ?? 0, n) }
        }
        datacenters = counts
    }
}

/// What a streaming job reads of the cluster before it decides anything.
public struct ClusterView: Sendable, Equatable {
    public var status: NodetoolStatus
    /// This node's address as the ring knows it.
    public var me: String
    /// Every keyspace, when nodetool can list them (4.0+), or those asked for (3.11).
    public var keyspaces: [KeyspaceReplication]
    /// False on 3.11 without named keyspaces: nodetool there cannot list them.
    public var keyspacesListed: Bool
    public var mode: NodetoolNetstats.Mode
    /// The node's Load, to tell afterwards whether anything came in.
    public var loadBytes: Int64?

    public init(status: NodetoolStatus, me: String, keyspaces: [KeyspaceReplication], keyspacesListed: Bool, mode: NodetoolNetstats.Mode, loadBytes: Int64? = nil) {
        self.status = status
        self.me = me
        self.keyspaces = keyspaces
        self.keyspacesListed = keyspacesListed
        self.mode = mode
        self.loadBytes = loadBytes
    }

    public var myRow: NodetoolStatus.Node? { status.nodes.first { $0.endpoint.address == me } }
    public var datacenter: String? { myRow?.datacenter }

    func nodes(in datacenter: String) -> [NodetoolStatus.Node] { status.nodes.filter { $0.datacenter == datacenter } }
}

/// Why a job will not start, in a sentence that says what to do.
public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
