import CassandraAgent

/// `nodetool rebuild [-ks KS] [-ts TOKENS] [-s SOURCES] [--exclude-local-dc] [SRC_DC]`,
/// as StorageService.rebuild and RangeStreamer run it (3.11.17, 4.0.15, 4.1.8, 5.0.3):
///
/// - checks, in order: 5.0 `--exclude-local-dc` with the local DC as source; the source DC
///   among the datacenters of the normal ring; tokens without a keyspace; a rebuild
///   already running ("Node is still rebuilding"). All are IllegalArgument/IllegalState:
///   nodetool's exit-1 usage form.
/// - keyspaces: the one given, or every keyspace but LocalStrategy ones (system_auth,
///   system_distributed and system_traces included); ranges: this node's ranges of each
///   (none when the keyspace does not replicate to this node's DC: nothing to stream).
/// - sources per range: the range's replicas that are alive, not this node, in the source
///   DC (and, with -ts, among -s), balanced over the candidates. A range with no candidate
///   fails the rebuild ("Unable to find sufficient sources for streaming range ... in keyspace
///   ...", exit 1) unless the keyspace's RF is 1 (then it is skipped with a warning).
///   3.11 counts this node itself as a found source (nothing streamed for that range).
/// - ranges already in system.available_ranges (exact ranges) are not streamed again.
/// - THE TRAP: sources that hold no data (the nodes of a new datacenter, e.g. the node's
///   own DC given by mistake) stream nothing, and the completed sessions still record their
///   ranges as available, so a later rebuild from the right DC skips them: it ends at once,
///   exit 0, with no data. Only deleting the rows (`cassandra-sim clear-available-ranges`) helps.
/// - the plan runs on the server; nodetool prints nothing and waits for it; a failed plan
///   prints "error: Error while rebuilding node: Stream failed" (exit 2).
enum SimulatedRebuild {
    static let frame = "org.apache.cassandra.service.StorageService.rebuild(StorageService.java:1530)"

    static func run(_ args: [String], _ cluster: inout SimulatedCluster, index: Int, directory: SimulationDirectory, now: Double) -> SimulatedOutput {
        var keyspaceName: String?, tokens: String?, sources: String?, excludeLocal = false
        var positional: [String] = []
        var i = 0
        var afterDashes = false
        while i < args.count {
            let arg = args[i]
            func value() -> String? { i + 1 < args.count ? args[i + 1] : nil }
            switch arg {
            case "--" where !afterDashes: afterDashes = true
            case "-ks", "--keyspace", "-ts", "--tokens", "-s", "--sources":
                guard let v = value() else { return .usage("Required values for option '\(arg)' not provided") }
                if arg == "-ks" || arg == "--keyspace" { keyspaceName = v } else if arg == "-ts" || arg == "--tokens" { tokens = v } else { sources = v }
                i += 1
            case "--exclude-local-dc" where cluster.version == .v5_0: excludeLocal = true
            default:
                if arg.hasPrefix("-") && !afterDashes { return .usage("Found unexpected parameters: [\(arg)]") }
                positional.append(arg)
            }
            i += 1
        }
        guard positional.count <= 1 else { return .usage("Found unexpected parameters: [\(positional.dropFirst().joined(separator: ", "))]") }
        let sourceDC = positional.first
        let node = cluster.nodes[index]
        let format = NodetoolFormatters(cluster: cluster, observer: node.address, now: now, printPort: false)

        if excludeLocal, sourceDC == node.datacenter {
            return .usage("Cannot set source data center to be local data center, when excludeLocalDataCenter flag is set")
        }
        if let sourceDC {
            let available = format.datacenters.filter { dc in TokenRing(cluster).entries.contains { $0.node.datacenter == dc } }
            guard available.contains(sourceDC) else {
                return .usage("Provided datacenter '\(sourceDC)' is not a valid datacenter, available datacenters are: \(available.joined(separator: ","))")
            }
        }
        if keyspaceName == nil, tokens != nil { return .usage("Cannot specify tokens without keyspace.") }
        if cluster.streamPlans.contains(where: { $0.isRunning && $0.operation == .rebuild && $0.owner == node.address }) {
            return .usage("Node is still rebuilding. Check nodetool netstats.")
        }

        var keyspaces = cluster.distributedKeyspaces
        if let keyspaceName {
            // Keyspace.open asserts the keyspace exists (an Error through JMX: exit 2).
            guard let keyspace = cluster.keyspace(keyspaceName) else {
                return .server("Unknown keyspace \(keyspaceName)", exception: "java.lang.AssertionError", frame: "org.apache.cassandra.db.Keyspace.<init>(Keyspace.java:330)")
            }
            keyspaces = keyspace.strategy == "LocalStrategy" ? [] : [keyspace]
        }
        let ring = TokenRing(cluster)
        var requested: [String: [TokenRing.Range]] = [:]
        for keyspace in keyspaces { requested[keyspace.name] = cluster.localRanges(of: node, keyspace: keyspace, ring: ring) }
        var allowed: Set<String>?
        if let tokens, let keyspace = keyspaces.first {
            switch subranges(tokens, within: requested[keyspace.name] ?? []) {
            case .refused(let refusal): return refusal
            case .ranges(let ranges): requested[keyspace.name] = ranges
            }
            if let sources {
                let hosts = sources.split(separator: ",").map { String($0) }
                if hosts.contains(node.address) {
                    return .usage("This host was specified as a source for rebuilding. Sources for a rebuild can only be other nodes in the cluster.")
                }
                allowed = Set(hosts)
            }
        }

        var builder = StreamPlanBuilder(.rebuild, owner: node.address)
        var owned: [String: Double] = [:]
        for keyspace in keyspaces {
            let rf = keyspace.strategy == "SimpleStrategy" ? keyspace.replication["replication_factor"] ?? 1 : keyspace.replication.values.reduce(0, +)
            let available = node.availableRanges[keyspace.name, default: []]
            for range in requested[keyspace.name] ?? [] {
                let replicas = ring.replicas(of: ring.range(containing: range.end), keyspace: keyspace)
                let inDC = replicas.filter { sourceDC == nil || $0.datacenter == sourceDC }
                let candidates = inDC.filter { candidate in
                    candidate.address != node.address && format.seenUp(candidate)
                        && !(excludeLocal && candidate.datacenter == node.datacenter) && allowed.map { $0.contains(candidate.address) } ?? true
                }
                guard let source = candidates.min(by: { builder.load(of: $0.address) < builder.load(of: $1.address) }) else {
                    if cluster.version == .v3_11, inDC.contains(where: { $0.address == node.address }) { continue }
                    if rf == 1 { continue }
                    return .usage("Unable to find sufficient sources for streaming range \(format.rangeText(range)) in keyspace \(keyspace.name)")
                }
                if available.contains([range.start, range.end]) { continue }
                let key = source.address + "/" + keyspace.name
                if owned[key] == nil { owned[key] = cluster.localRanges(of: source, keyspace: keyspace, ring: ring).reduce(0) { $0 + $1.fraction } }
                let bytes = SimulatedCluster.share(of: cluster.bytes(of: keyspace, on: source), in: range, owned: owned[key] ?? 0)
                builder.add(range, of: keyspace.name, peer: source.address, bytes: bytes)
            }
        }
        guard !builder.isEmpty else { return SimulatedOutput() }
        let plan = builder.build(&cluster, directory: directory, now: now)
        cluster.streamPlans.append(plan)
        return SimulatedStreaming.waitForPlan(.init(planID: plan.id, failurePrefix: "Error while rebuilding node", frame: frame), &cluster, directory: directory, now: now)
    }

    /// -ts "(a,b],(c,d]": each range must lie inside one of this node's ranges.
    enum Subranges {
        case ranges([TokenRing.Range])
        case refused(SimulatedOutput)
    }

    static func subranges(_ text: String, within local: [TokenRing.Range]) -> Subranges {
        var result: [TokenRing.Range] = []
        var rest = Substring(text)
        while let match = rest.firstMatch(of: /\(\s*(-?\w+)\s*,\s*(-?\w+)\s*\]/) {
            guard let start = Int64(match.1), let end = Int64(match.2) else {
                return .refused(.server("For input string: \"\(match.1)\"", exception: "java.lang.NumberFormatException", frame: "java.lang.Long.parseLong(Long.java:589)"))
            }
            let range = TokenRing.Range(start: start, end: end)
            guard local.contains(where: { $0.contains(range) }) else {
                return .refused(.usage("The specified range (\(start),\(end)] is not a range that is owned by this node. Please ensure that all token ranges specified to be rebuilt belong to this node."))
            }
            result.append(range)
            rest = rest[match.range.upperBound...]
        }
        let leftover = rest.drop { $0 == "," || $0 == " " }
        if let word = leftover.split(separator: " ").first { return .refused(.usage("Unexpected string: \(word)")) }
        return .ranges(result)
    }
}

extension NodetoolFormatters {
    /// Range<Token>.toString: `(start,end]`.
    func rangeText(_ range: TokenRing.Range) -> String { "(\(range.start),\(range.end)]" }
}
