import CassandraAgent

#if canImport(Glibc)
import Glibc
#endif

/// A simulated node's data directory: small but real SSTable component files
/// per table, and snapshots made the way Cassandra makes them (hard links plus
/// manifest.json and schema.cql), so backup code has real files to copy.
struct SimulatedDataFiles {
    let root: String
    let version: CassandraVersion
    var sstableBytes = 16_384

    static let components = ["CompressionInfo.db", "Data.db", "Digest.crc32", "Filter.db", "Index.db", "Statistics.db", "Summary.db", "TOC.txt"]

    var formatPrefix: String { version == .v3_11 ? "me" : "nb" }

    /// 5.0's storage-attached index on shop.orders (orders_status_idx) adds its components to every SSTable.
    static let saiComponents = ["SAI+aa+GroupComplete.db", "SAI+aa+GroupMeta.db", "SAI+aa+RowToToken.db", "SAI+aa+RowToPartition.db", "SAI+aa+PartitionToSize.db",
                                "SAI+aa+PartitionKeyBlocks.db", "SAI+aa+PartitionKeyBlockOffsets.db", "SAI+aa+ClusteringKeyBlocks.db", "SAI+aa+ClusteringKeyBlockOffsets.db",
                                "SAI+aa+orders_status_idx+ColumnComplete.db", "SAI+aa+orders_status_idx+Meta.db", "SAI+aa+orders_status_idx+TermsData.db",
                                "SAI+aa+orders_status_idx+PostingLists.db"]

    /// The components of one SSTable of the table in `directory`, as the version writes them.
    func components(in directory: String) -> [String] {
        let table = FileIO.baseName(directory).split(separator: "-").first.map(String.init) ?? ""
        return Self.components + (version == .v5_0 && table == "orders" && FileIO.baseName(FileIO.directoryName(directory)) == "shop" ? Self.saiComponents : [])
    }

    func tableDirectory(_ keyspace: String, _ table: SimulatedCluster.Table) -> String {
        "\(root)/\(keyspace)/\(table.name)-\(table.id)"
    }

    func liveDataFiles(_ directory: String) -> [String] {
        ((try? FileIO.list(directory)) ?? []).filter { $0.hasSuffix("-Data.db") }
    }

    /// Writes one SSTable (every component) of generation `generation`.
    func writeSSTable(in directory: String, generation: Int) throws(SystemError) {
        try FileIO.makeDirectories(directory)
        let components = components(in: directory)
        for component in components {
            let name = "\(formatPrefix)-\(generation)-big-\(component)"
            var bytes: [UInt8]
            if component == "Data.db" {
                try writeData("\(directory)/\(name)", seed: UInt64(generation) &* 0x2545F4914F6CDD1D ^ directory.hashValueStable, size: sstableBytes + generation % 7 * 1024)
                continue
            } else if component == "TOC.txt" {
                bytes = Array(components.joined(separator: "\n").utf8)
            } else {
                bytes = Array("\(component) of generation \(generation)\n".utf8)
            }
            try FileIO.replace("\(directory)/\(name)", bytes, mode: 0o644)
        }
    }

    /// Random bytes of `size` (a 64 KiB seeded block, each copy stamped with its index so no two
    /// blocks and no two SSTables are alike), written in place with a temp file and rename.
    func writeData(_ path: String, seed: UInt64, size: Int) throws(SystemError) {
        var random = SeededRandom(seed: seed)
        var block = [UInt8](repeating: 0, count: 65_536)
        for i in stride(from: 0, to: block.count, by: 8) {
            withUnsafeBytes(of: random.next()) { for (j, b) in $0.enumerated() { block[i + j] = b } }
        }
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("create", path: temp) }
        defer { close(fd) }
        var written = 0
        var index: UInt64 = 0
        while written < size {
            withUnsafeBytes(of: index ^ seed) { for (j, b) in $0.enumerated() { block[j] = b } }
            let count = min(block.count, size - written)
            let n = block.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, count) }
            guard n == count else { throw SystemError("write", path: temp) }
            written += n
            index += 1
        }
        guard rename(temp, path) == 0 else { throw SystemError("rename", path: path) }
    }

    /// A compaction: every table with two SSTables or more gets one new generation in
    /// their place; the old components are removed (a snapshot's hard links keep them).
    func compact(_ keyspaces: [SimulatedCluster.Keyspace], nextGeneration: inout Int) throws(SystemError) {
        for keyspace in keyspaces where !NodetoolFormatters.systemKeyspaces.contains(keyspace.name) {
            for table in keyspace.tables {
                let directory = tableDirectory(keyspace.name, table)
                let live = liveDataFiles(directory)
                guard live.count >= 2 else { continue }
                let old = Set(live.map { $0.split(separator: "-")[1] })
                nextGeneration += 1
                try writeSSTable(in: directory, generation: nextGeneration)
                for file in (try? FileIO.list(directory)) ?? [] where file.contains("-big-") && old.contains(file.split(separator: "-")[1]) {
                    unlink("\(directory)/\(file)")
                }
            }
        }
    }

    /// Every table of the user keyspaces the node holds data of has SSTables
    /// (a node of a new datacenter has none until it is rebuilt).
    func ensureData(_ cluster: SimulatedCluster, node: SimulatedCluster.Node, nextGeneration: inout Int) throws(SystemError) {
        for keyspace in cluster.keyspaces where !NodetoolFormatters.systemKeyspaces.contains(keyspace.name) && cluster.bytes(of: keyspace, on: node) > 0 {
            for table in keyspace.tables {
                let directory = tableDirectory(keyspace.name, table)
                if liveDataFiles(directory).isEmpty {
                    for _ in 0..<2 {
                        nextGeneration += 1
                        try writeSSTable(in: directory, generation: nextGeneration)
                    }
                }
            }
        }
    }

    /// A flush writes one new SSTable per table of the keyspaces.
    func flush(_ keyspaces: [SimulatedCluster.Keyspace], nextGeneration: inout Int) throws(SystemError) {
        for keyspace in keyspaces where !NodetoolFormatters.systemKeyspaces.contains(keyspace.name) {
            for table in keyspace.tables {
                nextGeneration += 1
                try writeSSTable(in: tableDirectory(keyspace.name, table), generation: nextGeneration)
            }
        }
    }

    func snapshotDirectory(_ keyspace: String, _ table: SimulatedCluster.Table, _ tag: String) -> String {
        tableDirectory(keyspace, table) + "/snapshots/" + tag
    }

    func snapshotExists(_ tag: String, in keyspaces: [SimulatedCluster.Keyspace]) -> Bool {
        keyspaces.contains { keyspace in keyspace.tables.contains { FileIO.isDirectory(snapshotDirectory(keyspace.name, $0, tag)) } }
    }

    func takeSnapshot(_ tag: String, keyspaces: [SimulatedCluster.Keyspace], createdAt: Double, ttlSeconds: Int?) throws(SystemError) {
        for keyspace in keyspaces where !NodetoolFormatters.systemKeyspaces.contains(keyspace.name) {
            for table in keyspace.tables {
                let source = tableDirectory(keyspace.name, table)
                let target = snapshotDirectory(keyspace.name, table, tag)
                try FileIO.makeDirectories(target)
                let data = liveDataFiles(source).sorted()
                for file in ((try? FileIO.list(source)) ?? []) where file.contains("-big-") {
                    if link("\(source)/\(file)", "\(target)/\(file)") != 0 { throw SystemError("hard-link", path: "\(target)/\(file)") }
                }
                try FileIO.replace("\(target)/manifest.json", Array(manifest(data, createdAt: createdAt, ttlSeconds: ttlSeconds).utf8), mode: 0o644)
                let schema = "CREATE TABLE IF NOT EXISTS \(keyspace.name).\(table.name) (\n    id uuid PRIMARY KEY,\n    body text\n) WITH ID = \(uuidForm(table.id));\n"
                try FileIO.replace("\(target)/schema.cql", Array(schema.utf8), mode: 0o644)
            }
        }
    }

    func manifest(_ files: [String], createdAt: Double, ttlSeconds: Int?) -> String {
        let created = Self.instant(createdAt)
        let expires = ttlSeconds.map { "\"\(Self.instant(createdAt + Double($0)))\"" } ?? "null"
        switch version {
        case .v3_11, .v4_0:
            return "{\"files\":[\(files.map { "\"\($0)\"" }.joined(separator: ","))]}\n"
        case .v4_1:
            return "{\"files\":[\(files.map { "\"\($0)\"" }.joined(separator: ","))],\"created_at\":\"\(created)\",\"expires_at\":\(expires)}"
        case .v5_0:
            return "{\n  \"files\" : [ \(files.map { "\"\($0)\"" }.joined(separator: ", ")) ],\n  \"created_at\" : \"\(created)\",\n  \"expires_at\" : \(expires),\n  \"ephemeral\" : false\n}"
        }
    }

    struct Snapshot {
        var tag: String
        var keyspace: String
        var table: String
        var trueSize: Int64
        var sizeOnDisk: Int64
        var created: String?
        var expires: String?
    }

    func snapshots(_ cluster: SimulatedCluster) -> [Snapshot] {
        var result: [Snapshot] = []
        for keyspace in cluster.keyspaces {
            for table in keyspace.tables {
                let base = tableDirectory(keyspace.name, table) + "/snapshots"
                for tag in (try? FileIO.list(base)) ?? [] {
                    let directory = "\(base)/\(tag)"
                    var onDisk: Int64 = 0, trueSize: Int64 = 0
                    for file in (try? FileIO.list(directory)) ?? [] {
                        guard let st = FileIO.status("\(directory)/\(file)") else { continue }
                        onDisk += Int64(st.st_size)
                        // Bytes only the snapshot holds: files no longer linked from the live table.
                        if st.st_nlink == 1 && file.contains("-big-") { trueSize += Int64(st.st_size) }
                    }
                    let manifest = (try? FileIO.readText("\(directory)/manifest.json")) ?? ""
                    result.append(Snapshot(
                        tag: tag, keyspace: keyspace.name, table: table.name, trueSize: trueSize, sizeOnDisk: onDisk,
                        created: Self.field("created_at", in: manifest), expires: Self.field("expires_at", in: manifest)))
                }
            }
        }
        return result.sorted { ($0.tag, $0.keyspace, $0.table) < ($1.tag, $1.keyspace, $1.table) }
    }

    /// Removes snapshots (every tag when `tag` is nil) of the keyspaces.
    func clearSnapshots(_ tag: String?, keyspaces: [SimulatedCluster.Keyspace]) {
        for keyspace in keyspaces {
            for table in keyspace.tables {
                let base = tableDirectory(keyspace.name, table) + "/snapshots"
                if let tag { FileIO.removeTree("\(base)/\(tag)") } else { FileIO.removeTree(base) }
            }
        }
    }

    /// Moves the SSTables found in `directories` into the table as new generations.
    func importSSTables(_ directories: [String], keyspace: String, table: SimulatedCluster.Table, nextGeneration: inout Int) -> [String] {
        var failed: [String] = []
        let target = tableDirectory(keyspace, table)
        for directory in directories {
            guard FileIO.isDirectory(directory), let files = try? FileIO.list(directory) else {
                failed.append(directory)
                continue
            }
            let generations = Set(files.compactMap { name -> String? in
                let parts = name.split(separator: "-")
                return parts.count >= 4 && name.contains("-big-") ? String(parts[1]) : nil
            })
            for old in generations.sorted() {
                nextGeneration += 1
                for file in files where file.split(separator: "-").dropFirst().first.map(String.init) == old {
                    let component = file.split(separator: "-", maxSplits: 3).last.map(String.init) ?? file
                    let renamed = "\(formatPrefix)-\(nextGeneration)-big-\(component)"
                    try? FileIO.makeDirectories(target)
                    if rename("\(directory)/\(file)", "\(target)/\(renamed)") != 0 { failed.append(directory) }
                }
            }
        }
        return Array(Set(failed)).sorted()
    }

    static func field(_ name: String, in json: String) -> String? {
        guard let range = json.firstRange(of: "\"\(name)\"") else { return nil }
        let rest = json[range.upperBound...].drop { $0 == " " || $0 == ":" }
        guard rest.hasPrefix("\"") else { return nil }
        return String(rest.dropFirst().prefix { $0 != "\"" })
    }

    /// An ISO-8601 instant with milliseconds, omitted when zero (Java's Instant.toString).
    static func instant(_ seconds: Double) -> String {
        let whole = Int64(seconds.rounded(.down))
        let millis = Int((seconds - Double(whole)) * 1000)
        let base = Timestamp.iso8601(whole)
        guard millis > 0 else { return base }
        let digits = String(millis)
        return base.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    func uuidForm(_ hex: String) -> String {
        let h = Array(hex)
        return "\(String(h[0..<8]))-\(String(h[8..<12]))-\(String(h[12..<16]))-\(String(h[16..<20]))-\(String(h[20..<32]))"
    }
}
