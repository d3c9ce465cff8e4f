import CassandraAgent

/// Stream plans move on the cluster's clock whenever someone looks at the state,
/// like repair sessions: a plan whose time has come completes (with its effects on
/// the receivers' data and the owner's ring state) whether or not a nodetool is
/// still waiting for it.
extension SimulatedCluster {
    /// Every reader of the state calls this first (after `settleRepairs`). `directory`
    /// receives the SSTables of completed plans.
    public mutating func settleStreams(now: Double, directory: SimulationDirectory) {
        for i in streamPlans.indices where streamPlans[i].isRunning {
            let plan = streamPlans[i]
            let participants = plan.participants.compactMap { address in nodes.first { $0.address == address } }
            // A participant that dies or has the stream-fail fault fails the plan
            // (StreamSession.onError: "Stream failed" is StreamException's message).
            if participants.contains(where: { !$0.running || $0.faults["stream-fail"] != nil }) {
                failStream(i, at: now, reason: "Stream failed")
                continue
            }
            if participants.contains(where: { $0.faults["stream-stall"] != nil }) {
                // Stalled: no bytes move, netstats keeps showing the same numbers.
                streamPlans[i].lastUpdate = max(plan.lastUpdate, now)
                continue
            }
            let end = plan.lastUpdate + (1 - plan.progress) / plan.progressPerSecond
            if end <= now {
                completeStream(i, at: end, directory: directory)
            } else if now > plan.lastUpdate {
                streamPlans[i].progress = min(1, plan.progress + (now - plan.lastUpdate) * plan.progressPerSecond)
                streamPlans[i].lastUpdate = now
            }
        }
    }

    /// A new stream rate for the running plans that follow it, from `now` on.
    public mutating func setStreamRate(_ bytesPerSecond: Double, now: Double, directory: SimulationDirectory) {
        settleStreams(now: now, directory: directory)
        streamBytesPerSecond = bytesPerSecond
        for i in streamPlans.indices where streamPlans[i].isRunning && streamPlans[i].followsStreamRate {
            let remaining = Int64(Double(streamPlans[i].bytes) * (1 - streamPlans[i].progress))
            streamPlans[i].progressPerSecond = remaining > 0 ? bytesPerSecond / Double(streamPlans[i].bytes) : StreamPlan.instant
        }
    }

    mutating func completeStream(_ i: Int, at end: Double, directory: SimulationDirectory) {
        streamPlans[i].state = .completed
        streamPlans[i].progress = 1
        streamPlans[i].lastUpdate = end
        streamPlans[i].endedAt = end
        let plan = streamPlans[i]
        for session in plan.sessions {
            let receiver = session.ownerReceives ? plan.owner : session.peer
            guard let r = nodes.firstIndex(where: { $0.address == receiver }) else { continue }
            let files = dataFiles(directory.dataDirectory(receiver))
            for file in session.files {
                addBytes(file.bytes, of: file.keyspace, to: r)
                try? files.writeSSTable(in: FileIO.directoryName(file.targetPath), generation: file.targetGeneration)
            }
            // StreamStateStore: a completed session records its ranges in system.available_ranges,
            // however many bytes came (none, when the sources hold nothing: the rebuild trap).
            if plan.operation == .rebuild {
                for (keyspace, ranges) in session.ranges {
                    let known = nodes[r].availableRanges[keyspace, default: []]
                    nodes[r].availableRanges[keyspace] = known + ranges.filter { !known.contains($0) }
                }
            }
        }
        guard let owner = nodes.firstIndex(where: { $0.address == plan.owner }) else { return }
        switch plan.operation {
        case .rebuild:
            break
        case .bootstrap:
            nodes[owner].joining = false
        case .unbootstrap:
            // StorageService.decommission's finishLeaving: out of the ring, client servers
            // and gossip stopped, mode DECOMMISSIONED; the process (and its JMX) stays up.
            nodes[owner].leaving = false
            nodes[owner].decommissioned = true
            nodes[owner].gossipEnabled = false
            nodes[owner].binaryEnabled = false
            nodes[owner].stoppedAt = end
            nodes[owner].events = (nodes[owner].events ?? []) + ["decommissioned"]
        }
    }

    mutating func failStream(_ i: Int, at now: Double, reason: String) {
        streamPlans[i].state = .failed
        streamPlans[i].lastUpdate = max(streamPlans[i].lastUpdate, now)
        streamPlans[i].endedAt = now
        streamPlans[i].failure = reason
        let plan = streamPlans[i]
        // A failed decommission leaves the node LEAVING (3.11-4.1 never reset the mode;
        // 5.0 sets DECOMMISSION_FAILED); a retry or a restart gets it out of there.
        if plan.operation == .unbootstrap, let owner = nodes.firstIndex(where: { $0.address == plan.owner }), version == .v5_0 {
            nodes[owner].decommissionFailed = true
        }
    }

    /// How one node sees one session of a plan: the other end and the direction.
    struct SessionView {
        var peer: String
        var receiving: Bool
        var session: StreamPlan.Session
    }

    /// The running plans `node` takes part in, with the sessions it sees: all of them
    /// on the owner, only the one with the owner on a peer (as the peer's own view).
    func streams(seenBy node: String) -> [(plan: StreamPlan, sessions: [SessionView])] {
        var result: [(plan: StreamPlan, sessions: [SessionView])] = []
        for plan in streamPlans where plan.isRunning {
            if plan.owner == node {
                result.append((plan, plan.sessions.map { SessionView(peer: $0.peer, receiving: $0.ownerReceives, session: $0) }))
                continue
            }
            let mine = plan.sessions.filter { $0.peer == node }.map { SessionView(peer: plan.owner, receiving: !$0.ownerReceives, session: $0) }
            if !mine.isEmpty { result.append((plan, mine)) }
        }
        return result
    }
}

extension SimulatedCluster {
    /// `cassandra-sim fault`: sets (value) or clears (nil) a fault, after moving the
    /// streams up to `now` under the faults that held until then.
    public mutating func setFault(_ kind: String, value: Double?, on address: String, now: Double, directory: SimulationDirectory) throws(SimulationError) {
        guard let index = nodes.firstIndex(where: { $0.address == address }) else { throw SimulationError("no node \(address)") }
        settleStreams(now: now, directory: directory)
        if kind == "all" && value == nil { nodes[index].faults = [:] } else { nodes[index].faults[kind] = value }
    }
}
