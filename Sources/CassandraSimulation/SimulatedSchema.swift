import CassandraAgent

extension SimulatedCluster {
    /// `ALTER KEYSPACE name WITH replication = ...` (`cassandra-sim keyspace NAME --replication
    /// DC1:3,DC2:3`, or `replication_factor:N` for SimpleStrategy). The schema gets a new
    /// version; the data stays where it is: a datacenter just added holds nothing of the
    /// keyspace until its nodes are rebuilt, one just removed keeps its files.
    public mutating func alterKeyspace(_ name: String, replication spec: String) throws(SimulationError) {
        guard let index = keyspaces.firstIndex(where: { $0.name == name }) else {
            throw SimulationError("no keyspace \(name) (keyspaces: \(keyspaces.map(\.name).joined(separator: ", ")))")
        }
        guard keyspaces[index].strategy != "LocalStrategy" else {
            throw SimulationError("Unable to use given strategy class: LocalStrategy is reserved for internal use.")
        }
        var replication: [String: Int] = [:]
        for part in spec.split(separator: ",") {
            let pieces = part.split(separator: ":")
            guard pieces.count == 2, let rf = Int(pieces[1]), rf >= 0 else {
                throw SimulationError("replication must look like DC1:3,DC2:3 or replication_factor:3; found '\(part)'")
            }
            replication[String(pieces[0])] = rf
        }
        let simple = replication.keys.contains("replication_factor")
        guard !replication.isEmpty, !simple || replication.count == 1 else {
            throw SimulationError("give datacenters (DC1:3,DC2:3) or replication_factor:N, not both")
        }
        let known = Set(nodes.map(\.datacenter))
        // 4.0+ refuses datacenters that do not exist (NetworkTopologyStrategy.validateExpectedOptions).
        if !simple, let unknown = replication.keys.sorted().first(where: { !known.contains($0) }) {
            throw SimulationError("Unrecognized strategy option {\(unknown)} passed to NetworkTopologyStrategy for keyspace \(name)")
        }
        // What every node holds is fixed before the replication changes under it.
        for i in nodes.indices where nodes[i].keyspaceBytes == nil {
            nodes[i].keyspaceBytes = Dictionary(uniqueKeysWithValues: keyspaces.map { ($0.name, bytes(of: $0, on: nodes[i])) })
        }
        keyspaces[index].strategy = simple ? "SimpleStrategy" : "NetworkTopologyStrategy"
        keyspaces[index].replication = replication.filter { simple || $0.value > 0 }
        var random = SeededRandom(seed: schemaVersion.hashValueStable ^ name.hashValueStable)
        schemaVersion = random.uuid()
    }
}
