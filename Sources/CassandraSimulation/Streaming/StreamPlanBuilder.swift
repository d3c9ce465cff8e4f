import CassandraAgent

/// Collects what a rebuild, bootstrap or decommission streams, range by range and
/// peer by peer, and turns it into a plan: one session per peer, and per keyspace
/// and table the bytes cut into the source's SSTables (its live Data.db files,
/// so the sending side names files that exist), each becoming a new SSTable
/// generation of the receiver.
struct StreamPlanBuilder {
    let operation: StreamPlan.Operation
    let owner: String
    let ownerReceives: Bool
    private var peers: [String] = []
    private var ranges: [String: [String: [[Int64]]]] = [:]
    private var bytes: [String: [String: Int64]] = [:]

    init(_ operation: StreamPlan.Operation, owner: String) {
        self.operation = operation
        self.owner = owner
        ownerReceives = operation != .unbootstrap
    }

    var isEmpty: Bool { peers.isEmpty }

    /// How many ranges `peer` already serves: sources are balanced, as RangeFetchMapCalculator does.
    func load(of peer: String) -> Int { ranges[peer]?.values.reduce(0) { $0 + $1.count } ?? 0 }

    mutating func add(_ range: TokenRing.Range, of keyspace: String, peer: String, bytes count: Int64) {
        if !peers.contains(peer) { peers.append(peer) }
        ranges[peer, default: [:]][keyspace, default: []].append([range.start, range.end])
        bytes[peer, default: [:]][keyspace, default: 0] += count
    }

    func build(_ cluster: inout SimulatedCluster, directory: SimulationDirectory, now: Double) -> StreamPlan {
        var random = SeededRandom(seed: UInt64(cluster.streamPlans.count + 1) ^ owner.hashValueStable ^ UInt64(max(0, now * 1000)))
        var sessions: [StreamPlan.Session] = []
        for peer in peers {
            let source = ownerReceives ? peer : owner, receiver = ownerReceives ? owner : peer
            var files: [StreamPlan.File] = []
            for (name, total) in (bytes[peer] ?? [:]).sorted(by: { $0.key < $1.key }) where total > 0 {
                guard let keyspace = cluster.keyspace(name), !keyspace.tables.isEmpty else { continue }
                for (t, table) in keyspace.tables.enumerated() {
                    let tableBytes = total / Int64(keyspace.tables.count) + (t == 0 ? total % Int64(keyspace.tables.count) : 0)
                    files += self.files(tableBytes, keyspace: name, table: table, source: source, receiver: receiver, &cluster, directory)
                }
            }
            sessions.append(.init(peer: peer, ownerReceives: ownerReceives, ranges: ranges[peer] ?? [:], files: files))
        }
        let total = sessions.reduce(0) { $0 + $1.bytes }
        return StreamPlan(
            id: random.uuid(), operation: operation, owner: owner, sessions: sessions, startedAt: now, lastUpdate: now,
            progressPerSecond: StreamPlan.pace(bytes: total, rate: cluster.streamBytesPerSecond), followsStreamRate: true)
    }

    private func files(_ total: Int64, keyspace: String, table: SimulatedCluster.Table, source: String, receiver: String,
                       _ cluster: inout SimulatedCluster, _ directory: SimulationDirectory) -> [StreamPlan.File] {
        guard total > 0, let r = cluster.nodes.firstIndex(where: { $0.address == receiver }) else { return [] }
        let sourceFiles = cluster.dataFiles(directory.dataDirectory(source))
        let targetFiles = cluster.dataFiles(directory.dataDirectory(receiver))
        let sourceTable = sourceFiles.tableDirectory(keyspace, table)
        var names = sourceFiles.liveDataFiles(sourceTable).sorted()
        if names.isEmpty { names = ["\(sourceFiles.formatPrefix)-1-big-Data.db"] }
        var result: [StreamPlan.File] = []
        for (n, name) in names.enumerated() {
            let share = total / Int64(names.count) + (n == 0 ? total % Int64(names.count) : 0)
            guard share > 0 else { continue }
            cluster.nodes[r].sstableGeneration += 1
            let generation = cluster.nodes[r].sstableGeneration
            result.append(.init(
                keyspace: keyspace, table: table.name, bytes: share, sourcePath: "\(sourceTable)/\(name)",
                targetPath: "\(targetFiles.tableDirectory(keyspace, table))/\(targetFiles.formatPrefix)-\(generation)-big-Data.db",
                targetGeneration: generation))
        }
        return result
    }
}
