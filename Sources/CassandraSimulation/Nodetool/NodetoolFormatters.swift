import CassandraAgent

/// The text real nodetool prints, per version, for the cluster-state commands,
/// built from the simulated cluster as one node (`observer`) sees it at `now`.
struct NodetoolFormatters {
    let cluster: SimulatedCluster
    let observer: String
    let now: Double
    let printPort: Bool

    var version: CassandraVersion { cluster.version }
    static let systemKeyspaces: Set<String> = ["system", "system_schema", "system_auth", "system_distributed", "system_traces", "system_views", "system_virtual_schema"]

    func seenUp(_ node: SimulatedCluster.Node) -> Bool { cluster.isSeenUp(node, by: observer, at: now) }

    func address(_ node: SimulatedCluster.Node, port: Int = 7000) -> String {
        printPort ? "\(node.address):\(port)" : node.address
    }

    /// The nodes in gossip's ring: a decommissioned node has left it, for every observer
    /// (its own token metadata drops it too, StorageService.leaveRing).
    var members: [SimulatedCluster.Node] { cluster.nodes.filter { !$0.decommissioned } }

    var datacenters: [String] { Array(Set(members.map(\.datacenter))).sorted() }

    /// The state letter of `status`: joining, leaving, else normal.
    func stateLetter(_ node: SimulatedCluster.Node) -> String { node.joining ? "J" : node.leaving ? "L" : "N" }

    // MARK: status

    /// nil keyspace: effective ownership only when every user keyspace replicates alike.
    func status(keyspace: String?) -> (stdout: String, exit: Int32) {
        var ownershipKeyspace: SimulatedCluster.Keyspace?
        var note: String?
        if let keyspace {
            guard let ks = cluster.keyspaces.first(where: { $0.name == keyspace }) else {
                return ("\nError: The keyspace \(keyspace), does not exist\n", 1)
            }
            ownershipKeyspace = ks
            if ks.strategy == "LocalStrategy" { note = "Ownership values for keyspaces with LocalStrategy are meaningless" }
        } else {
            let user = cluster.keyspaces.filter { !Self.systemKeyspaces.contains($0.name) }
            if let first = user.first, user.allSatisfy({ $0.strategy == first.strategy && $0.replication == first.replication }) {
                ownershipKeyspace = first
            } else {
                note = "Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless"
            }
        }
        let ownership = ownershipKeyspace.map { TokenRing(cluster).effectiveOwnership($0) }
        let effective = ownership != nil && note == nil
        let ownsHeader = effective ? "Owns (effective)" : "Owns"

        func row(_ node: SimulatedCluster.Node) -> [String] {
            let owns = effective && !node.joining ? JavaFormat.percent(ownership?[node.address] ?? 0) : "?"
            return [(seenUp(node) ? "U" : "D") + stateLetter(node), address(node), NodetoolSize.format(cluster.load(of: node)), "\(node.tokens.count)", owns, node.hostID, node.rack]
        }
        let header = ["--", "Address", "Load", "Tokens", ownsHeader, "Host ID", "Rack"]
        var lines: [String] = []
        if version == .v3_11 {
            let addressWidth = max(members.map { address($0).count }.max() ?? 0, 7)
            let ownsWidth = effective ? 16 : 6
            func fixed(_ cells: [String]) -> String {
                "\(cells[0])  \(ColumnTable.left(cells[1], addressWidth))  \(ColumnTable.left(cells[2], 9))  \(ColumnTable.left(cells[3], 11))  "
                    + "\(ColumnTable.left(cells[4], ownsWidth))  \(ColumnTable.left(cells[5], 36))  \(cells[6])"
            }
            for dc in datacenters {
                lines += blockHeader(dc) + [fixed(header)] + nodes(in: dc).map { fixed(row($0)) }
            }
            lines.append("")
        } else {
            // One table for all datacenters, so widths are shared across blocks.
            let table = ColumnTable.format([header] + members.map(row), delimiter: "  ")
            let formattedHeader = table[0]
            var formattedRows: [String: String] = [:]
            for (node, line) in zip(members, table.dropFirst()) { formattedRows[node.address] = line }
            for dc in datacenters {
                lines += blockHeader(dc) + [formattedHeader] + nodes(in: dc).map { formattedRows[$0.address]! } + [""]
            }
        }
        if let note { lines.append("Note: \(note)") }
        return (lines.joined(separator: "\n") + "\n", 0)
    }

    func blockHeader(_ dc: String) -> [String] {
        let title = "Datacenter: \(dc)"
        return [title, String(repeating: "=", count: title.count), "Status=Up/Down", "|/ State=Normal/Leaving/Joining/Moving"]
    }

    func nodes(in dc: String) -> [SimulatedCluster.Node] {
        members.filter { $0.datacenter == dc }
    }

    // MARK: info

    func info(_ node: SimulatedCluster.Node, tokens: Bool = false) -> String {
        let gossip = node.gossipEnabled && !node.drained
        let native = node.binaryEnabled && !node.drained
        var lines: [(String, String)] = [("ID", node.hostID), ("Gossip active", "\(gossip)")]
        if version == .v3_11 { lines.append(("Thrift active", "false")) }
        lines += [("Native Transport active", "\(native)"), ("Load", NodetoolSize.format(cluster.load(of: node)))]
        if version == .v5_0 { lines.append(("Uncompressed load", NodetoolSize.format(cluster.load(of: node) * 17 / 10))) }
        lines += [
            ("Generation No", gossip ? "\(node.generation)" : "0"),
            ("Uptime (seconds)", "\(max(0, Int(now - max(node.startedAt, Double(node.generation)))))"),
            ("Heap Memory (MB)", "1024.00 / 7987.25"),
            ("Off Heap Memory (MB)", "38.17"),
            ("Data Center", node.datacenter), ("Rack", node.rack), ("Exceptions", "0"),
            ("Key Cache", "entries 0, size 0 bytes, capacity 100 MiB, 0 hits, 0 requests, NaN recent hit rate, 14400 save period in seconds"),
            ("Row Cache", "entries 0, size 0 bytes, capacity 0 bytes, 0 hits, 0 requests, NaN recent hit rate, 0 save period in seconds"),
            ("Counter Cache", "entries 0, size 0 bytes, capacity 50 MiB, 0 hits, 0 requests, NaN recent hit rate, 7200 save period in seconds"),
            ("Chunk Cache", "entries 0, size 0 bytes, capacity 480 MiB, 0 misses, 0 requests, NaN recent hit rate, NaN microseconds miss latency"),
        ]
        if version >= .v4_0 { lines.append(("Network Cache", "size 8 MiB, overflow size: 0 bytes, capacity 128 MiB")) }
        lines.append(("Percent Repaired", "100.0%"))
        // -T/--tokens: one "Token" line per token, as nodetool prints them; a node out of the
        // normal ring (joining, or decommissioned) is not joined (StorageService.isJoined).
        if node.joining || node.decommissioned {
            lines.append(("Token", "(node is not joined to the cluster)"))
        } else {
            lines += tokens ? node.tokens.map { ("Token", "\($0)") } : [("Token", "(invoke with -T/--tokens to see all \(node.tokens.count) tokens)")]
        }
        if version == .v5_0 {
            let bootstrap = node.decommissioned ? "DECOMMISSIONED" : node.joining ? "IN_PROGRESS" : "COMPLETED"
            let decommissioning = cluster.streamPlans.contains { $0.isRunning && $0.operation == .unbootstrap && $0.owner == node.address }
            lines += [("Bootstrap state", bootstrap), ("Bootstrap failed", "false"), ("Decommissioning", "\(decommissioning)"), ("Decommission failed", "\(node.decommissionFailed)")]
        }
        return lines.map { "\(ColumnTable.left($0.0, 23)): \($0.1)\n" }.joined()
    }

    // MARK: gossipinfo

    func gossipInfo() -> String {
        var out = ""
        for node in cluster.nodes {
            let up = seenUp(node)
            // A node that left keeps its LEFT state (with the expiry, three days on) in every peer's gossip.
            let status = node.decommissioned ? "LEFT,\(node.tokens[0]),\(Int64((node.stoppedAt ?? now) * 1000) + 259_200_000)"
                : !up ? "shutdown,true" : node.joining ? "BOOT,\(node.tokens[0])" : node.leaving ? "LEAVING,\(node.tokens[0])" : "NORMAL,\(node.tokens[0])"
            out += "/" + address(node) + "\n"
            // A restart reaches a peer with its new generation only once it has gossiped.
            let generation = node.address != observer && node.running && node.startedAt > 0 && !seenUp(node) ? node.previousGeneration ?? node.generation : node.generation
            out += "  generation:\(generation)\n"
            out += "  heartbeat:\(up ? max(1, Int(now) - node.generation) : 2_147_483_647)\n"
            var states: [(String, Int, String)] = [
                ("STATUS", up ? 19 : 98231, status), ("LOAD", 143409, JavaFormat.double(cluster.load(of: node))),
                ("SCHEMA", 87312, cluster.schemaVersion), ("DC", 8, node.datacenter), ("RACK", 10, node.rack),
                ("RELEASE_VERSION", 4, cluster.release), ("INTERNAL_IP", 7, node.address), ("RPC_ADDRESS", 3, node.address),
                ("NET_VERSION", 1, version == .v3_11 ? "11" : "12"), ("HOST_ID", 2, node.hostID),
                ("RPC_READY", up ? 31 : 98232, up ? "true" : "false"),
            ]
            if version >= .v4_0 {
                states += [
                    ("INTERNAL_ADDRESS_AND_PORT", 6, "\(node.address):7000"), ("NATIVE_ADDRESS_AND_PORT", 3, "\(node.address):9042"),
                    ("STATUS_WITH_PORT", up ? 18 : 98230, status),
                ]
            }
            states.append(("SSTABLE_VERSIONS", 5, version == .v3_11 ? "big-me" : "big-nb"))
            for (name, stateVersion, value) in states { out += "  \(name):\(stateVersion):\(value)\n" }
            out += "  TOKENS:17:<hidden>\n"
        }
        return out + "\n"
    }

    // MARK: describecluster

    func describeCluster() -> String {
        let reachable = members.filter(seenUp)
        let unreachable = members.filter { !seenUp($0) }
        var out = "Cluster Information:\n\tName: \(cluster.name)\n\tSnitch: org.apache.cassandra.locator.GossipingPropertyFileSnitch\n"
        out += "\tDynamicEndPointSnitch: enabled\n\tPartitioner: org.apache.cassandra.dht.Murmur3Partitioner\n\tSchema versions:\n"
        out += "\t\t\(cluster.schemaVersion): [\(reachable.map { address($0) }.joined(separator: ", "))]\n\n"
        if !unreachable.isEmpty { out += "\t\tUNREACHABLE: [\(unreachable.map { address($0) }.joined(separator: ", "))]\n" }
        out += "\n"
        guard version >= .v4_0 else { return out }
        out += "Stats for all nodes:\n\tLive: \(reachable.count)\n\tJoining: \(members.filter(\.joining).count)\n\tMoving: 0\n\tLeaving: \(members.filter(\.leaving).count)\n\tUnreachable: \(unreachable.count)\n\n"
        out += "Data Centers: \n"
        for dc in datacenters {
            out += "\t\(dc) #Nodes: \(nodes(in: dc).count) #Down: \(nodes(in: dc).filter { !seenUp($0) }.count)\n"
        }
        out += "\nDatabase versions:\n\t\(cluster.release): [\(members.map { "\($0.address):7000" }.joined(separator: ", "))]\n\n"
        out += "Keyspaces:\n"
        for keyspace in cluster.keyspaces {
            let options = keyspace.replication.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            out += "\t\(keyspace.name) -> Replication class: \(keyspace.strategy) {\(options)}\n"
        }
        return out
    }

    // MARK: describering

    func describeRing(_ keyspace: SimulatedCluster.Keyspace) -> String {
        let ring = TokenRing(cluster)
        var out = "Schema Version:\(cluster.schemaVersion)\nTokenRange: \n"
        for range in ring.ranges {
            let replicas = ring.replicas(of: range, keyspace: keyspace)
            let endpoints = replicas.map { address($0) }.joined(separator: ", ")
            let rpc = replicas.map { address($0, port: 9042) }.joined(separator: ", ")
            let details = replicas.map { "EndpointDetails(host:\(address($0)), datacenter:\($0.datacenter), rack:\($0.rack))" }.joined(separator: ", ")
            out += "\tTokenRange(start_token:\(range.start), end_token:\(range.end), endpoints:[\(endpoints)], rpc_endpoints:[\(rpc)], endpoint_details:[\(details)])\n"
        }
        return out
    }

    // MARK: small ones

    /// The node's pending tasks, spread over the user tables (only tables with pending work are listed).
    /// 3.11-4.1: `pending tasks: N`, `- ks.table: n` lines, an empty line; 5.0: one key/value table
    /// with the per-table rows right after `pending tasks` (samples compactionstats-idle-<v>.txt).
    func compactionStats(_ node: SimulatedCluster.Node) -> String {
        let tables = cluster.keyspaces.filter { !Self.systemKeyspaces.contains($0.name) }.flatMap { ks in ks.tables.map { (ks.name, $0.name) } }
        let total = max(0, node.pendingCompactions)
        var pending: [(String, String, Int)] = []
        for (i, table) in tables.enumerated() {
            let share = total / tables.count + (i < total % tables.count ? 1 : 0)
            if share > 0 { pending.append((table.0, table.1, share)) }
        }
        if tables.isEmpty && total > 0 { pending.append(("system", "local", total)) }
        guard version == .v5_0 else {
            return "pending tasks: \(total)\n" + pending.map { "- \($0.0).\($0.1): \($0.2)\n" }.joined() + "\n"
        }
        let rows = [["concurrent compactors", "2"], ["pending tasks", "\(total)"]] + pending.map { [$0.0, $0.1, "\($0.2)"] } + [
            ["compactions completed", "0"], ["data compacted", "0"],
            ["compactions aborted", "0"], ["compactions reduced", "0"], ["sstables dropped from compaction", "0"],
            ["15 minute rate", "0.00/minute"], ["mean rate", "0.00/hour"], ["compaction throughput (MiB/s)", "64.0"],
        ]
        return ColumnTable.format(rows, delimiter: " ").map { $0 + "\n" }.joined()
    }
}
