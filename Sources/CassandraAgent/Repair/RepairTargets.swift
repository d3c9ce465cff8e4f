/// Reads what a repair run needs from the node before it starts: which
/// keyspaces replicate (RF > 1), this node's address in the ring, and each
/// keyspace's ring; then cuts the plan.
struct RepairTargets {
    let nodetool: NodetoolClient

    struct Failure: Error, Sendable {
        var message: String
    }

    func plan(for repair: DesiredState.Repair, keyspaces requested: [String]) async throws(Failure) -> RepairPlan {
        let version = nodetool.version
        var names = requested.isEmpty ? repair.keyspaces : requested
        do {
            if names.isEmpty {
                guard version >= .v4_0 else {
                    // 3.11 cannot list keyspaces: one `nodetool repair` covers all of them, as nodetool does.
                    let status = try await nodetool.status()
                    return RepairPlan(kind: repair.kind, segments: [RepairSegment(keyspace: "", start: nil, end: nil, replicas: status.nodes.map(\.endpoint.address).sorted())])
                }
                names = try await nodetool.describeCluster().keyspaces.filter(Self.replicates).map(\.name).sorted()
            }
            let me = try await ownAddress()
            var rings: [(keyspace: String, ring: NodetoolDescribeRing)] = []
            for name in names {
                rings.append((name, try await nodetool.describeRing(keyspace: name)))
            }
            return try RepairPlan.make(kind: repair.kind, rings: rings, me: me, segmentsPerNode: repair.segmentsPerNode)
        } catch let error as NodetoolError {
            throw Failure(message: "cannot plan the repair: \(error.description)")
        } catch let error as RepairPlan.Problem {
            throw Failure(message: "cannot plan the repair: \(error.message)")
        } catch {
            throw Failure(message: "cannot plan the repair: \(error)")
        }
    }

    /// This node's address as the ring lists it: the row of `status` with `info`'s host ID.
    func ownAddress() async throws(NodetoolError) -> String {
        let info = try await nodetool.info()
        let status = try await nodetool.status()
        guard let me = status.nodes.first(where: { $0.hostID == info.hostID }) else {
            throw .unreadable(NodetoolParseError("status", line: 0, text: "", reason: "no node has this node's host ID \(info.hostID)"))
        }
        return me.endpoint.address
    }

    /// Keyspaces that a repair can do anything for: not local, more than one replica.
    static func replicates(_ keyspace: NodetoolDescribeCluster.Keyspace) -> Bool {
        guard !keyspace.replicationClass.hasSuffix("LocalStrategy"), !keyspace.replicationClass.hasSuffix("EverywhereStrategy") else { return false }
        let factors = keyspace.options.filter { $0.key != "class" }.compactMap { Int($0.value) }
        return factors.reduce(0, +) > 1
    }

    /// The segment's replicas that `status` shows down.
    func downReplicas(_ segment: RepairSegment) async throws(NodetoolError) -> [String] {
        let status = try await nodetool.status()
        return status.nodes.filter { $0.liveness != .up && segment.replicas.contains($0.endpoint.address) }.map(\.endpoint.address).sorted()
    }

    /// nodetool was killed, but a repair runs inside Cassandra (nodetool is only its JMX
    /// client): stop it there. Incremental sessions on 4.0+ through `repair_admin cancel`;
    /// anything else by stopping this node's validation compactions, which fails the
    /// repair sessions it takes part in. Returns whether that worked, in words.
    func stopServerSide(incremental: Bool) async -> (ok: Bool, detail: String) {
        do {
            if incremental, nodetool.version >= .v4_0 {
                let listing = try await nodetool.run(["repair_admin", "list"])
                let sessions = RepairAdminListing.activeSessions(listing)
                for id in sessions {
                    _ = try await nodetool.run(["repair_admin", "cancel", "--session", id, "--force"])
                }
                return (true, sessions.isEmpty ? "no incremental repair session was left running" : "cancelled incremental repair session(s) \(sessions.joined(separator: ", ")) inside Cassandra")
            }
            _ = try await nodetool.run(["stop", "VALIDATION"])
            return (true, "stopped the validation compactions of the repair inside Cassandra")
        } catch {
            return (false, "the repair may still be running inside Cassandra after its nodetool was killed, and could not be stopped (\(error.description)); check `nodetool compactionstats`\(incremental ? " and `nodetool repair_admin list`" : "")")
        }
    }
}

/// `nodetool repair_admin list` (4.0+): the incremental repair sessions and their states.
enum RepairAdminListing {
    /// States of a session still holding or changing data (ConsistentSession.State).
    static let active: Set<String> = ["PREPARING", "PREPARED", "REPAIRING", "FINALIZE_PROMISED"]

    /// Session ids whose state is still active. The table's columns are read by
    /// header, so column order and padding do not matter.
    static func activeSessions(_ text: String) -> [String] {
        var ids: [String] = []
        for line in text.split(separator: "\n") {
            let cells = line.split(whereSeparator: { $0 == " " || $0 == "|" || $0 == "\t" }).map(String.init)
            guard let id = cells.first(where: isUUID), cells.contains(where: { active.contains($0) }) else { continue }
            ids.append(id)
        }
        return ids
    }

    static func isUUID(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.map(\.count) == [8, 4, 4, 4, 12] && parts.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }
}
