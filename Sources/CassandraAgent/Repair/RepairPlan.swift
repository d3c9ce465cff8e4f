/// What one repair run covers: one segment per keyspace, or with
/// `segmentsPerNode`, this node's token ranges cut into about that many
/// subranges (`-st`/`-et`). Built from `describering`, so every segment knows
/// its replicas and can be held back while one of them is down.
public struct RepairPlan: Sendable, Equatable {
    public var kind: DesiredState.Repair.Kind
    public var segments: [RepairSegment]

    /// Names the plan's content, so a resumed run continues only the same plan.
    public var fingerprint: String {
        SHA256.hex(Array(segments.map { "\($0.keyspace):\($0.start ?? ""):\($0.end ?? "")" }.joined(separator: ";").utf8)).prefix(16).description
    }

    public struct Problem: Error, Sendable, Equatable {
        public var message: String
    }

    /// - Parameters:
    ///   - rings: the keyspaces to repair, each with its ring (needed for replicas and subranges).
    ///   - me: this node's address as describering lists it.
    public static func make(kind: DesiredState.Repair.Kind, rings: [(keyspace: String, ring: NodetoolDescribeRing)], me: String, segmentsPerNode: Int) throws(Problem) -> RepairPlan {
        var segments: [RepairSegment] = []
        for (keyspace, ring) in rings {
            // Primary ranges are the ones whose first replica is this node; the others it only holds copies of.
            let mine = ring.ranges.filter { kind == .primaryRange ? $0.endpoints.first == me : $0.endpoints.contains(me) }
            guard !mine.isEmpty else { continue }
            if segmentsPerNode <= 0 {
                let replicas = Set(mine.flatMap(\.endpoints)).sorted()
                segments.append(RepairSegment(keyspace: keyspace, start: nil, end: nil, replicas: replicas))
                continue
            }
            segments += try subranges(of: mine, keyspace: keyspace, count: segmentsPerNode)
        }
        return RepairPlan(kind: kind, segments: segments)
    }

    /// Cuts `ranges` into about `count` pieces in all, in proportion to their widths,
    /// at least one per range (ranges that are not adjacent cannot share a segment).
    static func subranges(of ranges: [NodetoolDescribeRing.Range], keyspace: String, count: Int) throws(Problem) -> [RepairSegment] {
        var parsed: [(start: Int64, end: Int64, replicas: [String])] = []
        for range in ranges {
            guard let start = Int64(range.start), let end = Int64(range.end) else {
                throw Problem(message: "subrange repair needs Murmur3Partitioner tokens; keyspace \(keyspace) has the range (\(range.start),\(range.end)]")
            }
            parsed.append((start, end, range.endpoints.sorted()))
        }
        // Widths on the ring, modulo 2^64, so a range that wraps around the minimum token works too.
        let widths = parsed.map { UInt64(bitPattern: $0.end &- $0.start) }
        let total = widths.reduce(0.0) { $0 + Double($1) }
        var segments: [RepairSegment] = []
        for (range, width) in zip(parsed, widths) {
            let pieces = max(1, Int((Double(count) * Double(width) / max(total, 1)).rounded()))
            var cuts: [Int64] = [range.start]
            for i in 1..<max(pieces, 1) where pieces > 1 {
                let (high, low) = width.multipliedFullWidth(by: UInt64(i))
                let step = UInt64(pieces).dividingFullWidth((high, low)).quotient
                cuts.append(range.start &+ Int64(bitPattern: step))
            }
            cuts.append(range.end)
            for (a, b) in zip(cuts, cuts.dropFirst()) where a != b {
                segments.append(RepairSegment(keyspace: keyspace, start: String(a), end: String(b), replicas: range.replicas))
            }
        }
        return segments
    }
}

/// A unit of repair work: a keyspace, or a token subrange of one.
public struct RepairSegment: Sendable, Equatable, Codable {
    public var keyspace: String
    public var start: String?
    public var end: String?
    /// Every node holding a replica of it (describering's endpoints).
    public var replicas: [String]

    public var description: String {
        if let start, let end { return "\(keyspace) (\(start),\(end)]" }
        return keyspace
    }

    /// The nodetool arguments for this segment, per the repair type and version.
    public func arguments(kind: DesiredState.Repair.Kind) -> [String] {
        var args = ["repair"]
        switch kind {
        // A subrange of primary ranges is named by its tokens: -pr would widen it again.
        case .primaryRange: args += start == nil ? ["-pr", "-full"] : ["-full"]
        case .full: args += ["-full"]
        case .incremental: break
        }
        if let start, let end { args += ["-st", start, "-et", end] }
        // An empty keyspace is 3.11's "every keyspace": nodetool repair without one.
        return keyspace.isEmpty ? args : args + [keyspace]
    }
}
