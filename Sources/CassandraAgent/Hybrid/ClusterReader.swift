/// Reads what the streaming jobs decide from: this node's place in the ring,
/// every keyspace's replication, the node's mode; and the netstats of other
/// nodes over JMX (`nodetool -h PEER`), which is how a node sees that another
/// node of its datacenter is rebuilding: the stream shows at its sources.
struct ClusterReader {
    let nodetool: NodetoolClient

    func view(requested: [String]) async -> Result<ClusterView, Refusal> {
        do {
            let info = try await nodetool.info()
            let status = try await nodetool.status()
            let mode = try await nodetool.netstats().mode
            guard let me = status.nodes.first(where: { $0.hostID == info.hostID })?.endpoint.address else {
                return .failure(Refusal("this node (host ID \(info.hostID)) is not in nodetool status: it is not part of the ring"))
            }
            var keyspaces: [KeyspaceReplication] = []
            let listed = nodetool.version >= .v4_0
            if listed {
                keyspaces = try await nodetool.describeCluster().keyspaces.map(KeyspaceReplication.init)
            } else {
                for name in requested {
                    do throws(NodetoolError) {
                        keyspaces.append(KeyspaceReplication(name: name, ring: try await nodetool.describeRing(keyspace: name)))
                    } catch {
                        return .failure(Refusal("cannot read the replication of keyspace \(name) (nodetool describering): \(error.description)"))
                    }
                }
            }
            return .success(ClusterView(status: status, me: me, keyspaces: keyspaces, keyspacesListed: listed, mode: mode, loadBytes: info.load))
        } catch {
            return .failure(Refusal("cannot read the cluster from nodetool: \(error.description)"))
        }
    }

    /// Each peer's netstats, or why it could not be read.
    func remoteNetstats(_ peers: [String]) async -> (read: [NodetoolNetstats], unreadable: [String: String]) {
        var read: [NodetoolNetstats] = []
        var unreadable: [String: String] = [:]
        for peer in peers {
            let remote = NodetoolClient(prefix: Self.prefix(nodetool.prefix, host: peer), runner: nodetool.runner, version: nodetool.version, timeout: nodetool.timeout)
            do {
                read.append(try await remote.netstats())
            } catch {
                unreadable[peer] = error.description
            }
        }
        return (read, unreadable)
    }

    /// The configured argument vector aimed at `host`: its `-h`/`--host` replaced, or one added.
    static func prefix(_ prefix: [String], host: String) -> [String] {
        var words = prefix
        if let at = words.firstIndex(where: { $0 == "-h" || $0 == "--host" }), at + 1 < words.count {
            words[at + 1] = host
            return words
        }
        return words + ["-h", host]
    }
}
