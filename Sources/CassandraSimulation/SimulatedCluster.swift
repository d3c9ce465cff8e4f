import CassandraAgent
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// The shared state of a simulated cluster, one JSON file in the cluster's
/// directory. Every `cassandra-sim` process reads and writes it under an
/// exclusive flock, so concurrent nodetool and systemctl calls stay consistent.
public struct SimulatedCluster: Codable, Sendable, Equatable {
    public struct Keyspace: Codable, Sendable, Equatable {
        public var name: String
        /// "NetworkTopologyStrategy", "SimpleStrategy" or "LocalStrategy".
        public var strategy: String
        /// dc -> replication factor (NTS), or "replication_factor" -> n.
        public var replication: [String: Int]
        public var tables: [Table]
    }

    public struct Table: Codable, Sendable, Equatable {
        public var name: String
        /// 32 hex digits, as in the table directory name.
        public var id: String
    }

    public struct Node: Codable, Sendable, Equatable {
        public var address: String
        public var datacenter: String
        public var rack: String
        public var hostID: String
        public var tokens: [Int64]
        public var loadBytes: Int64
        public var running: Bool
        /// Wall-clock seconds of the last start and stop: peers see a change only after the gossip delay.
        public var startedAt: Double
        public var stoppedAt: Double?
        public var generation: Int
        public var drained = false
        /// Bootstrapping: its tokens are pending, not yet in the ring.
        public var joining = false
        public var gossipEnabled = true
        public var binaryEnabled = true
        /// systemd's view of the unit: active, inactive or failed.
        public var unitState = "active"
        /// Injected faults by kind (value: seconds for "slow").
        public var faults: [String: Double] = [:]
        public var sstableGeneration = 0
        /// How often `nodetool reloadssl` ran, and the live setters applied, for tests to check.
        public var reloadSSLCount = 0
        public var liveCommands: [String] = []
        /// What `compactionstats` reports as pending (`cassandra-sim pending-compactions`).
        public var pendingCompactions = 0
        /// The generation before the last start: peers show it until the start has gossiped.
        public var previousGeneration: Int?
        /// What was done to the node, in order (drain, stop, start, patch), for tests to check.
        public var events: [String]?
        /// Bytes of each user keyspace the node holds; nil: its load shared by the user
        /// keyspaces that replicate to its datacenter (see `bytes(of:in:)`).
        public var keyspaceBytes: [String: Int64]?
        /// system.available_ranges: per keyspace, the ranges a rebuild or bootstrap
        /// recorded as streamed, whether or not any data came (the rebuild trap).
        public var availableRanges: [String: [[Int64]]] = [:]
        /// Decommissioning: its tokens still in the ring, every peer shows it UL.
        public var leaving = false
        /// 5.0's DECOMMISSION_FAILED mode after a failed decommission (earlier versions stay LEAVING).
        public var decommissionFailed = false
        /// Left the ring: peers no longer list it; its own netstats says DECOMMISSIONED.
        public var decommissioned = false

        /// Seconds from a start until the node is UN to itself (its JMX answers).
        func startTime(_ cluster: SimulatedCluster) -> Double { (cluster.startSeconds ?? 0) + (faults["slow-start"] ?? 0) }
        func starting(_ cluster: SimulatedCluster, at now: Double) -> Bool { startedAt > 0 && now - startedAt < startTime(cluster) }
    }

    public var version: CassandraVersion
    public var release: String
    public var name: String
    public var schemaVersion: String
    public var gossipDelay: Double
    public var repairSeconds: Double
    public var keyspaces: [Keyspace]
    public var nodes: [Node]
    public var repairCommands = 0
    /// Repairs as the servers run them, running or ended (see RepairSession).
    public var repairSessions: [RepairSession] = []
    /// Seconds added to the wall clock: tests move the cluster's time forward
    /// (`cassandra-sim clock --advance`) instead of sleeping through gossip delays.
    public var clockOffset: Double = 0
    /// Seconds a start takes before the node is UN (to itself; peers add the gossip delay).
    public var startSeconds: Double?
    /// Size of each SSTable's Data.db (`cassandra-sim init --sstable-bytes`): small for tests, hundreds of MiB for benchmarks.
    public var sstableBytes = 16_384
    /// Rebuilds, bootstraps and decommissions as the servers run them (see StreamPlan).
    public var streamPlans: [StreamPlan] = []
    /// How fast a stream plan moves (`cassandra-sim init --stream-bytes-per-second`, `stream-rate`):
    /// the default streams a simulated node's 1.5 GB in about three seconds.
    public var streamBytesPerSecond = 500_000_000.0

    /// The node's data directory, with this cluster's SSTable size.
    func dataFiles(_ root: String) -> SimulatedDataFiles {
        SimulatedDataFiles(root: root, version: version, sstableBytes: sstableBytes)
    }

    public func node(_ address: String) -> Node? {
        nodes.first { $0.address == address }
    }

    public static let releases: [CassandraVersion: String] = [.v3_11: "3.11.17", .v4_0: "4.0.15", .v4_1: "4.1.8", .v5_0: "5.0.3"]

    /// What a peer sees of `node` at `now`: up only once the change has had time to gossip.
    public func isSeenUp(_ node: Node, by observer: String, at now: Double) -> Bool {
        if node.address == observer { return node.running && !node.starting(self, at: now) }
        let gossiping = node.running && node.gossipEnabled && !node.drained
        if gossiping { return now - node.startedAt >= gossipDelay + node.startTime(self) || node.startedAt == 0 }
        guard let stopped = node.stoppedAt else { return false }
        return now - stopped < gossipDelay
    }

    // MARK: creating

    /// `WESTUS:3x2,EASTUS:3x2` -> two datacenters, each three racks of two nodes.
    public static func layout(_ spec: String) throws(SimulationError) -> [(dc: String, racks: Int, perRack: Int)] {
        var result: [(String, Int, Int)] = []
        for part in spec.split(separator: ",") {
            let pieces = part.split(separator: ":")
            let counts = pieces.count == 2 ? pieces[1].split(separator: "x") : []
            guard pieces.count == 2, counts.count == 2, let racks = Int(counts[0]), let perRack = Int(counts[1]),
                  racks > 0, perRack > 0, racks * perRack <= 254, NetworkAddress.problemInRackOrDC(String(pieces[0])) == nil
            else { throw SimulationError("datacenters must look like NAME:RACKSxNODES[,NAME:RACKSxNODES], e.g. WESTUS:3x2; found '\(part)'") }
            result.append((String(pieces[0]), racks, perRack))
        }
        guard !result.isEmpty, result.count <= 254 else { throw SimulationError("give between 1 and 254 datacenters") }
        return result
    }

    /// `newDatacenter`: that datacenter has just joined the ring (the hybrid-cluster
    /// start): its nodes hold no user data and no user keyspace replicates to it yet.
    public static func make(name: String, version: CassandraVersion, datacenters spec: String, gossipDelay: Double, repairSeconds: Double, now: Double, newDatacenter: String? = nil) throws(SimulationError) -> SimulatedCluster {
        let layout = try layout(spec)
        if let newDatacenter {
            guard layout.contains(where: { $0.dc == newDatacenter }) else { throw SimulationError("--new-datacenter \(newDatacenter) is not one of --datacenters") }
            guard layout.count > 1 else { throw SimulationError("--new-datacenter needs another datacenter that holds the data") }
        }
        var random = SeededRandom(seed: UInt64(truncatingIfNeeded: name.hashValueStable))
        var nodes: [Node] = []
        for (d, dc) in layout.enumerated() {
            // Racks filled in order: nodes 1-2 in rack1, 3-4 in rack2, ...
            for n in 0..<(dc.racks * dc.perRack) {
                let tokens = (0..<16).map { _ in Int64(bitPattern: random.next()) }.sorted()
                var node = Node(
                    address: "127.0.\(d + 1).\(n + 1)", datacenter: dc.dc, rack: "rack\(n / dc.perRack + 1)",
                    hostID: random.uuid(), tokens: tokens, loadBytes: Int64(random.next() % 400_000_000) + 1_300_000_000,
                    running: true, startedAt: 0, stoppedAt: nil, generation: Int(now) - 86_400 + d * 100 + n)
                if dc.dc == newDatacenter {
                    // System tables only: about 100 KiB.
                    node.loadBytes = 98_304 + Int64(n) * 1_536
                    node.keyspaceBytes = [:]
                } else {
                    node.keyspaceBytes = ["shop": node.loadBytes]
                }
                nodes.append(node)
            }
        }
        let dcs = Dictionary(uniqueKeysWithValues: layout.filter { $0.dc != newDatacenter }.map { ($0.dc, min(3, $0.racks * $0.perRack)) })
        func table(_ name: String) -> Table { Table(name: name, id: random.hex(32)) }
        let keyspaces: [Keyspace] = [
            Keyspace(name: "system", strategy: "LocalStrategy", replication: [:], tables: [table("local"), table("peers_v2")]),
            Keyspace(name: "system_schema", strategy: "LocalStrategy", replication: [:], tables: [table("tables")]),
            Keyspace(name: "system_auth", strategy: "SimpleStrategy", replication: ["replication_factor": 1], tables: [table("roles")]),
            Keyspace(name: "system_distributed", strategy: "SimpleStrategy", replication: ["replication_factor": 3], tables: [table("repair_history")]),
            Keyspace(name: "system_traces", strategy: "SimpleStrategy", replication: ["replication_factor": 2], tables: [table("sessions")]),
            Keyspace(name: "shop", strategy: "NetworkTopologyStrategy", replication: dcs, tables: [table("orders"), table("customers")]),
        ]
        return SimulatedCluster(
            version: version, release: releases[version]!, name: name, schemaVersion: random.uuid(),
            gossipDelay: gossipDelay, repairSeconds: repairSeconds, keyspaces: keyspaces, nodes: nodes)
    }
}

public struct SimulationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The cluster directory: state file, lock, and one directory per node.
public struct SimulationDirectory: Sendable {
    public let path: String

    public init(_ path: String) {
        self.path = path
    }

    var stateFile: String { path + "/cluster.json" }
    var lockFile: String { path + "/cluster.lock" }
    public func nodeDirectory(_ address: String) -> String { "\(path)/nodes/\(address)" }
    public func configDirectory(_ address: String) -> String { nodeDirectory(address) + "/conf" }
    public func dataDirectory(_ address: String) -> String { nodeDirectory(address) + "/data" }

    /// Runs `body` on the state under an exclusive lock, saving what it returns.
    public func withState<T>(_ body: (inout SimulatedCluster) throws(SimulationError) -> T) throws(SimulationError) -> T {
        let lock = open(lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw SimulationError("no simulated cluster in \(path) (run cassandra-sim init first)") }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw SimulationError("cannot lock \(lockFile)") }
        defer { flock(lock, LOCK_UN) }
        var state = try load()
        let before = state
        let result = try body(&state)
        if state != before { try save(state) }
        return result
    }

    public func load() throws(SimulationError) -> SimulatedCluster {
        do {
            let bytes = try FileIO.read(stateFile, limit: 256 << 20)
            return try JSONDecoder().decode(SimulatedCluster.self, from: Data(bytes))
        } catch let error as SystemError where error.isNotFound {
            throw SimulationError("no simulated cluster in \(path) (run cassandra-sim init first)")
        } catch {
            throw SimulationError("cannot read \(stateFile): \(error)")
        }
    }

    public func save(_ state: SimulatedCluster) throws(SimulationError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try FileIO.replace(stateFile, Array(try encoder.encode(state)), mode: 0o644)
        } catch {
            throw SimulationError("cannot write \(stateFile): \(error)")
        }
    }
}

/// The simulation's randomness, reproducible from the cluster name (and the
/// tests' random inputs from their seeds): SplitMix64 with hex and UUIDs on top.
struct SeededRandom: RandomNumberGenerator {
    var generator: SplitMix64

    init(seed: UInt64) {
        generator = SplitMix64(seed: seed)
    }

    mutating func next() -> UInt64 { generator.next() }

    mutating func hex(_ digits: Int) -> String {
        var out = ""
        while out.count < digits {
            let word = String(next(), radix: 16)
            out += String(repeating: "0", count: 16 - word.count) + word
        }
        return String(out.prefix(digits))
    }

    /// A version-4 UUID.
    mutating func uuid() -> String {
        let h = Array(hex(32))
        let variant = "89ab"[("89ab".index("89ab".startIndex, offsetBy: Int(next() % 4)))]
        return "\(String(h[0..<8]))-\(String(h[8..<12]))-4\(String(h[13..<16]))-\(variant)\(String(h[17..<20]))-\(String(h[20..<32]))"
    }
}

extension String {
    /// A hash that is the same in every process (Swift's hashValue is seeded per process).
    var hashValueStable: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}

/// Wall-clock seconds (the simulation's gossip delays are real time, across processes).
public func wallClockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

extension SimulationDirectory {
    /// Lays out a new cluster: state, per-node config and data directories with
    /// some SSTables, and `bin/nodetool` / `bin/systemctl` wrappers per node.
    public func create(_ cluster: SimulatedCluster, simulator: String) throws(SimulationError) {
        do {
            if FileIO.exists(stateFile) { throw SimulationError("\(path) already holds a simulated cluster") }
            try FileIO.makeDirectories(path)
            var cluster = cluster
            let absolute = simulator.hasPrefix("/") ? simulator : Self.currentDirectory() + "/" + simulator
            for node in cluster.nodes {
                try FileIO.makeDirectories(configDirectory(node.address))
                try FileIO.makeDirectories(nodeDirectory(node.address) + "/bin")
                var generation = 0
                try cluster.dataFiles(dataDirectory(node.address)).ensureData(cluster, node: node, nextGeneration: &generation)
                cluster.nodes[cluster.nodes.firstIndex(of: node)!].sstableGeneration = generation
                for tool in ["nodetool", "systemctl"] {
                    // A test fixture for humans and scripts; the agent itself takes an argument vector.
                    let script = "#!/bin/sh\nexec '\(absolute)' \(tool) --dir '\(path)' --node '\(node.address)' \"$@\"\n"
                    try FileIO.replace(nodeDirectory(node.address) + "/bin/" + tool, Array(script.utf8), mode: 0o755)
                }
            }
            try save(cluster)
        } catch let error as SimulationError {
            throw error
        } catch {
            throw SimulationError("\(error)")
        }
    }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        return getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
    }
}
