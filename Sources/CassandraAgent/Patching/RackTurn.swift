/// Whose turn it is in a patch window, decided by each agent alone from what
/// Cassandra's gossip shows it (`nodetool status` and `gossipinfo`): no server,
/// no messages between agents. Pure: the view and the times come in, a decision
/// comes out.
///
/// Why it never takes two racks down, whatever the delays of gossip:
/// racks go in one fixed order (datacenter, then rack name), and a rack goes only
/// when every node of the racks before it shows a gossip generation newer than
/// the window's start (it restarted in this window, so its turn is over and it
/// never takes another) and is UN. A node that is down or still coming back
/// cannot show both, so the rack after it cannot go. And every node outside the
/// rack must have been UN, as this node sees it, for a settle time at least as
/// long as gossip needs to spread: a node that went down (planned or not) a
/// moment ago is seen down within that time, so it holds the rack too.
public enum RackTurn {
    public struct Rack: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var datacenter: String
        public var rack: String

        public init(datacenter: String, rack: String) {
            self.datacenter = datacenter
            self.rack = rack
        }

        public static func < (a: Rack, b: Rack) -> Bool { (a.datacenter, a.rack) < (b.datacenter, b.rack) }
        public var description: String { "\(datacenter)/\(rack)" }
    }

    /// One node as this agent sees it.
    public struct Peer: Sendable, Equatable {
        public var address: String
        public var rack: Rack
        /// UN in this node's `nodetool status` (up and normal).
        public var up: Bool
        /// Since when this node has seen it UN without a break; nil while it is not.
        public var upSince: Double?
        /// Its gossip generation (the epoch second it started), nil if gossip does not know it.
        public var generation: Int?

        public init(address: String, rack: Rack, up: Bool, upSince: Double?, generation: Int?) {
            self.address = address
            self.rack = rack
            self.up = up
            self.upSince = upSince
            self.generation = generation
        }

        func restarted(since windowStart: Double) -> Bool { generation.map { Double($0) > windowStart } ?? false }
    }

    public enum Decision: Sendable, Equatable {
        /// This node's rack has the turn and the cluster is settled: this node may go.
        case go
        /// Not yet: the reason names the rack or node holding it; `until` when a settle time will have passed.
        case wait(String, until: Double?, heldBy: String?)
        /// This node already restarted in this window: its turn is over.
        case done
    }

    /// The racks in turn order.
    public static func order(_ peers: [Peer]) -> [Rack] { Set(peers.map(\.rack)).sorted() }

    /// The decision for `me`. `windowStart` is the window's opening (the same
    /// instant on every node: the window is read from the desired state).
    public static func decide(me: String, peers: [Peer], windowStart: Double, now: Double, settle: Double) -> Decision {
        guard let mine = peers.first(where: { $0.address == me }) else {
            return .wait("this node is not in its own nodetool status yet", until: nil, heldBy: nil)
        }
        if mine.restarted(since: windowStart) { return .done }
        // Every node outside this rack, earlier racks or later, must be UN (a down one is named: it holds the window).
        let outside = peers.filter { $0.rack != mine.rack }.sorted { $0.address < $1.address }
        if let down = outside.first(where: { !$0.up || $0.upSince == nil }) {
            return .wait("\(down.address) (rack \(down.rack)) is down as this node sees it; the window waits until it is back", until: nil, heldBy: down.address)
        }
        for rack in order(peers) where rack < mine.rack {
            let members = peers.filter { $0.rack == rack }.sorted { $0.address < $1.address }
            if let pending = members.first(where: { !$0.restarted(since: windowStart) }) {
                return .wait("rack \(rack) has the turn: \(pending.address) has not restarted in this window yet", until: nil, heldBy: nil)
            }
        }
        // And UN for the settle time.
        let settledAt = outside.compactMap(\.upSince).max().map { $0 + settle } ?? now
        if settledAt > now {
            let last = outside.max { ($0.upSince ?? 0) < ($1.upSince ?? 0) }!
            return .wait("settling: \(last.address) is UN since \(Timestamp.iso8601(Int64(last.upSince!))); the rack goes \(DurationText.format(settle)) after", until: settledAt, heldBy: nil)
        }
        return .go
    }

    /// Tracks, from successive views, since when each node has been UN without a break.
    public struct UpTracker: Sendable, Equatable, Codable {
        public var upSince: [String: Double] = [:]

        public init() {}

        public mutating func observe(_ up: [String: Bool], now: Double) {
            for (address, isUp) in up {
                if isUp { upSince[address] = upSince[address] ?? now } else { upSince[address] = nil }
            }
            for address in upSince.keys where up[address] == nil { upSince[address] = nil }
        }
    }

    /// The peers from `nodetool status` and `gossipinfo`, with the tracker's times.
    public static func peers(status: NodetoolStatus, gossip: NodetoolGossipInfo?, tracker: UpTracker) -> [Peer] {
        status.nodes.map { node in
            let address = node.endpoint.address
            let up = node.liveness == .up && node.state == .normal
            return Peer(address: address, rack: Rack(datacenter: node.datacenter, rack: node.rack), up: up,
                        upSince: up ? tracker.upSince[address] : nil, generation: gossip?.endpoint(address)?.generation)
        }
    }
}

/// The optional LOCAL_QUORUM gate: with this rack down (and whatever else is
/// down already), can every range of every keyspace still reach a quorum of its
/// replicas in each datacenter that holds it?
public enum QuorumGate {
    public struct Ring: Sendable, Equatable {
        public var keyspace: String
        /// Per range: (replica address, datacenter).
        public var ranges: [[(address: String, datacenter: String)]]

        public init(keyspace: String, ranges: [[(address: String, datacenter: String)]]) {
            self.keyspace = keyspace
            self.ranges = ranges
        }

        public static func == (a: Ring, b: Ring) -> Bool {
            a.keyspace == b.keyspace && a.ranges.map { $0.map(\.address) } == b.ranges.map { $0.map(\.address) }
        }

        public init(keyspace: String, describeRing: NodetoolDescribeRing) {
            self.keyspace = keyspace
            ranges = describeRing.ranges.map { range in
                range.endpoints.map { address in
                    (address, range.details.first { $0.host == address }?.datacenter ?? "")
                }
            }
        }
    }

    /// nil when every keyspace keeps LOCAL_QUORUM; otherwise a sentence naming the first that does not.
    public static func refusal(_ rings: [Ring], down: Set<String>) -> String? {
        for ring in rings.sorted(by: { $0.keyspace < $1.keyspace }) {
            for replicas in ring.ranges {
                for dc in Set(replicas.map(\.datacenter)).sorted() {
                    let inDC = replicas.filter { $0.datacenter == dc }
                    let quorum = inDC.count / 2 + 1
                    let left = inDC.filter { !down.contains($0.address) }.count
                    if left < quorum {
                        return "keyspace \(ring.keyspace) would lose LOCAL_QUORUM in \(dc): \(left) of \(inDC.count) replica(s) of a range stay up with this rack down, \(quorum) needed"
                    }
                }
            }
        }
        return nil
    }
}
