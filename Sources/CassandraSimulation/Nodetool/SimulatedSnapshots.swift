import CassandraAgent

/// snapshot, listsnapshots, clearsnapshot and import on a simulated node.
enum SimulatedSnapshots {
    static func files(_ cluster: SimulatedCluster, _ index: Int, _ directory: SimulationDirectory) -> SimulatedDataFiles {
        cluster.dataFiles(directory.dataDirectory(cluster.nodes[index].address))
    }

    static func snapshot(_ args: [String], _ cluster: inout SimulatedCluster, index: Int, directory: SimulationDirectory, now: Double) -> SimulatedOutput {
        var tag: String?, ttl: String?, skipFlush = false, names: [String] = []
        var i = 0
        while i < args.count {
            switch args[i] {
            case "-t", "--tag": tag = i + 1 < args.count ? args[i + 1] : nil; i += 1
            case "--ttl" where cluster.version >= .v4_1: ttl = i + 1 < args.count ? args[i + 1] : nil; i += 1
            case "-sf", "--skip-flush": skipFlush = true
            default: names.append(args[i])
            }
            i += 1
        }
        let tagText = tag ?? String(Int64(now * 1000))
        if cluster.version >= .v4_0, tagText.contains(":") {
            return .server("Snapshot name cannot contain :", exception: "java.lang.IllegalArgumentException", frame: "org.apache.cassandra.tools.nodetool.Snapshot.execute(Snapshot.java:70)")
        }
        var keyspaces = cluster.keyspaces
        if !names.isEmpty {
            keyspaces = []
            for name in names {
                guard let keyspace = cluster.keyspaces.first(where: { $0.name == name }) else {
                    if cluster.version == .v3_11 {
                        return .server("Keyspace \(name) does not exist", exception: "java.io.IOException", frame: "org.apache.cassandra.service.StorageService.getValidKeyspace(StorageService.java:3178)")
                    }
                    return .usage("Keyspace \(name) does not exist")
                }
                keyspaces.append(keyspace)
            }
        }
        var options = "skipFlush=\(skipFlush)"
        if let ttl { options += ", ttl=\(ttl)" }
        let requested = "Requested creating snapshot(s) for [\(names.isEmpty ? "all keyspaces" : names.joined(separator: ", "))] with snapshot name [\(tagText)] and options {\(options)}\n"
        let data = files(cluster, index, directory)
        if data.snapshotExists(tagText, in: keyspaces) {
            return .server("Snapshot \(tagText) already exists.", exception: "java.io.IOException", frame: "org.apache.cassandra.service.StorageService.takeSnapshot(StorageService.java:4237)", stdout: requested)
        }
        if cluster.nodes[index].drained && !skipFlush {
            return .server("Node is drained: it accepts no writes until restarted", exception: "java.lang.IllegalStateException", frame: "org.apache.cassandra.db.ColumnFamilyStore.forceFlush(ColumnFamilyStore.java:1003)", stdout: requested)
        }
        var generation = cluster.nodes[index].sstableGeneration
        do {
            try data.ensureData(cluster, node: cluster.nodes[index], nextGeneration: &generation)
            try data.takeSnapshot(tagText, keyspaces: keyspaces, createdAt: now, ttlSeconds: ttl.flatMap(seconds))
        } catch {
            return .server(error.description, exception: "java.io.IOException", frame: "org.apache.cassandra.service.StorageService.takeSnapshot(StorageService.java:4237)", stdout: requested)
        }
        cluster.nodes[index].sstableGeneration = generation
        return SimulatedOutput(stdout: requested + "Snapshot directory: \(tagText)\n")
    }

    static func seconds(_ duration: String) -> Int? {
        guard let unit = duration.last, let n = Int(duration.dropLast()) else { return nil }
        switch unit {
        case "s": return n
        case "m": return n * 60
        case "h": return n * 3600
        case "d": return n * 86400
        default: return nil
        }
    }

    static func list(_ args: [String], _ cluster: SimulatedCluster, index: Int, directory: SimulationDirectory) -> SimulatedOutput {
        let snapshots = files(cluster, index, directory).snapshots(cluster)
        guard !snapshots.isEmpty else { return SimulatedOutput(stdout: "Snapshot Details: \nThere are no snapshots\n") }
        let withTimes = cluster.version >= .v4_1
        let ephemeral = cluster.version == .v5_0 && args.contains("-e")
        var header = ["Snapshot name", "Keyspace name", "Column family name", "True size", "Size on disk"]
        if withTimes { header += ["Creation time", "Expiration time"] }
        if ephemeral { header.append("Ephemeral") }
        var rows = [header]
        for s in snapshots {
            var row = [s.tag, s.keyspace, s.table, NodetoolSize.format(s.trueSize), NodetoolSize.format(s.sizeOnDisk)]
            if withTimes { row += [s.created ?? "", s.expires ?? ""] }
            if ephemeral { row.append("false") }
            rows.append(row)
        }
        let total = snapshots.reduce(Int64(0)) { $0 + $1.trueSize }
        let table = ColumnTable.format(rows, delimiter: " ").map { $0 + "\n" }.joined()
        return SimulatedOutput(stdout: "Snapshot Details: \n\(table)\nTotal TrueDiskSpaceUsed: \(NodetoolSize.format(total))\n\n")
    }

    static func clear(_ args: [String], _ cluster: SimulatedCluster, index: Int, directory: SimulationDirectory) -> SimulatedOutput {
        var tag: String?, all = false, names: [String] = []
        var i = 0
        while i < args.count {
            switch args[i] {
            case "-t", "--tag": tag = i + 1 < args.count ? args[i + 1] : nil; i += 1
            case "--all" where cluster.version >= .v4_0: all = true
            default: names.append(args[i])
            }
            i += 1
        }
        if tag == nil && !all && cluster.version >= .v4_0 {
            if cluster.version == .v5_0 { return .usage("Specify snapshot name or --all") }
            return .server("Specify snapshot name or --all", frame: "org.apache.cassandra.tools.nodetool.ClearSnapshot.execute(ClearSnapshot.java:50)")
        }
        var keyspaces = cluster.keyspaces
        if !names.isEmpty {
            keyspaces = cluster.keyspaces.filter { names.contains($0.name) }
            if let unknown = names.first(where: { name in !cluster.keyspaces.contains { $0.name == name } }) {
                return .usage("Keyspace [\(unknown)] does not exist.")
            }
        }
        files(cluster, index, directory).clearSnapshots(tag, keyspaces: keyspaces)
        var line = "Requested clearing snapshot(s) for [\(names.isEmpty ? "all keyspaces" : names.joined(separator: ", "))]"
        if let tag { line += " with snapshot name [\(tag)]" } else if all { line += " with [all snapshots]" }
        return SimulatedOutput(stdout: line + "\n")
    }

    static func importSSTables(_ args: [String], _ cluster: inout SimulatedCluster, index: Int, directory: SimulationDirectory) -> SimulatedOutput {
        let quick = args.contains("-q") || args.contains("--quick")
        let positional = args.filter { !$0.hasPrefix("-") }
        guard positional.count >= 3 else { return .usage("import needs a keyspace, a table and at least one directory") }
        guard let keyspace = cluster.keyspaces.first(where: { $0.name == positional[0] }),
              let table = keyspace.tables.first(where: { $0.name == positional[1] })
        else { return SimulatedOutput(stderr: "ColumnFamilyStore for \(positional[0])/\(positional[1]) not found.\n", exitCode: 1) }
        var generation = cluster.nodes[index].sstableGeneration
        let failed = files(cluster, index, directory).importSSTables(Array(positional.dropFirst(2)), keyspace: keyspace.name, table: table, nextGeneration: &generation)
        cluster.nodes[index].sstableGeneration = generation
        let prefix = quick ? "Doing a quick import - skipping sstable verification and row cache invalidation\n" : ""
        if !failed.isEmpty {
            return SimulatedOutput(stdout: prefix, stderr: "Some directories failed to import, check server logs for details:\n" + failed.map { $0 + "\n" }.joined(), exitCode: 1)
        }
        return SimulatedOutput(stdout: prefix)
    }
}
