/// nodetool's `-h/--host` and `-p/--port`: JMX on another host. In the simulation
/// a host is a node of the cluster by its address; 127.0.0.1, localhost and the
/// node's own address are the local node. Anything else has no JMX to answer.
enum RemoteHost {
    static func find(in arguments: [String]) -> (host: String?, port: String?) {
        var host: String?, port: String?
        for (i, argument) in arguments.enumerated() where i + 1 < arguments.count {
            if argument == "-h" || argument == "--host" { host = arguments[i + 1] }
            if argument == "-p" || argument == "--port" { port = arguments[i + 1] }
        }
        return (host, port)
    }

    /// The node that answers, or nil when none does at that address.
    static func target(_ host: String?, local: Int, _ cluster: SimulatedCluster) -> Int? {
        guard let host, !["127.0.0.1", "localhost", "::1", cluster.nodes[local].address].contains(host) else { return local }
        return cluster.nodes.firstIndex { $0.address == host }
    }
}
