import FoundationEssentials

/// What a backup is: every file with its keyspace, table, size and SHA-256,
/// the schema Cassandra wrote into the snapshot (schema.cql files are entries
/// like the SSTables), the node's identity and the cassandra.yaml in force.
/// Stored last, as `<host ID>/backups/<id>.json`: a backup exists only when its
/// manifest does. Plain JSON, so an operator can read a backup without the agent.
public struct BackupManifest: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        public var keyspace: String
        public var table: String
        /// The table's directory name on the node (`table-<id>`).
        public var tableDirectory: String
        /// Index into `dataDirectories` of the data directory the file was in.
        public var dataDirectory: Int
        /// The file's path inside the snapshot directory (`nb-1-big-Data.db`, `.index/...`, `schema.cql`).
        public var path: String
        public var size: Int64
        public var sha256: String

        public init(keyspace: String, table: String, tableDirectory: String, dataDirectory: Int, path: String, size: Int64, sha256: String) {
            self.keyspace = keyspace
            self.table = table
            self.tableDirectory = tableDirectory
            self.dataDirectory = dataDirectory
            self.path = path
            self.size = size
            self.sha256 = sha256
        }

        /// An SSTable component, as opposed to the manifest.json and schema.cql Cassandra adds to a snapshot.
        public var isSSTableComponent: Bool {
            let name = FileIO.baseName(path)
            return name != "manifest.json" && name != "schema.cql" && !path.contains("/") && name.contains("-")
        }
    }

    public var format = 1
    public var id: String
    public var hostID: String
    public var host: String
    public var cassandraVersion: String
    public var agentVersion: String
    public var snapshotTag: String
    public var startedAt: Double
    public var completedAt: Double
    /// Empty: every keyspace.
    public var keyspaces: [String]
    public var dataDirectories: [String]
    public var tokens: [String]
    /// The cassandra.yaml in force, stored as an object like the files.
    public var cassandraYAML: String?
    public var files: [File]
    public var bytes: Int64
    /// What this run wrote (new content) and what it found stored already.
    public var storedBytes: Int64
    public var skippedBytes: Int64

    public init(id: String, hostID: String, host: String, cassandraVersion: String, agentVersion: String, snapshotTag: String,
                startedAt: Double, completedAt: Double, keyspaces: [String], dataDirectories: [String], tokens: [String],
                cassandraYAML: String?, files: [File], storedBytes: Int64, skippedBytes: Int64) {
        self.id = id
        self.hostID = hostID
        self.host = host
        self.cassandraVersion = cassandraVersion
        self.agentVersion = agentVersion
        self.snapshotTag = snapshotTag
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.keyspaces = keyspaces
        self.dataDirectories = dataDirectories
        self.tokens = tokens
        self.cassandraYAML = cassandraYAML
        self.files = files
        self.bytes = files.reduce(0) { $0 + $1.size }
        self.storedBytes = storedBytes
        self.skippedBytes = skippedBytes
    }

    /// Every object the backup needs (files and the cassandra.yaml), by SHA-256, with its size.
    public var objects: [String: Int64] {
        var result: [String: Int64] = [:]
        for file in files { result[file.sha256] = file.size }
        if let yaml = cassandraYAML, result[yaml] == nil { result[yaml] = -1 }
        return result
    }

    /// The keyspaces the backup holds files of.
    public var keyspacesStored: [String] { Array(Set(files.map(\.keyspace))).sorted() }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map(Array.init) ?? []
    }

    public static func decode(_ bytes: [UInt8]) throws(BackupError) -> BackupManifest {
        do {
            return try JSONDecoder().decode(BackupManifest.self, from: Data(bytes))
        } catch {
            throw BackupError("the manifest is not readable JSON of format 1: \(error)")
        }
    }
}

/// One line of `backup list`: a complete backup (and whether verify found it damaged).
public struct BackupSummary: Codable, Sendable, Equatable {
    public var id: String
    public var hostID: String
    public var startedAt: String
    public var completedAt: String
    public var keyspaces: [String]
    public var files: Int
    public var bytes: Int64
    public var damaged: String?

    public init(_ manifest: BackupManifest, damaged: String?) {
        id = manifest.id
        hostID = manifest.hostID
        startedAt = Timestamp.iso8601(Int64(manifest.startedAt))
        completedAt = Timestamp.iso8601(Int64(manifest.completedAt))
        keyspaces = manifest.keyspaces.isEmpty ? manifest.keyspacesStored : manifest.keyspaces
        files = manifest.files.count
        bytes = manifest.bytes
        self.damaged = damaged
    }
}

/// `backup list --json` and `GET /v1/backups`: newest last.
public struct BackupListing: Codable, Sendable, Equatable {
    public var backups: [BackupSummary]
    /// Set when the destination could not be read.
    public var error: String?

    public init(backups: [BackupSummary] = [], error: String? = nil) {
        self.backups = backups
        self.error = error
    }

    /// The listing after a backup stored `manifest` and retention deleted `deleted`, without
    /// reading every manifest back from the destination (a decode of each, thousands of
    /// files apiece on a real node, after every backup). Oldest first, as `manifests()` lists.
    /// `damaged`: the marks verify left (id -> what is wrong), read again.
    public func after(storing manifest: BackupManifest, deleting deleted: [String], damaged: [String: String]) -> BackupListing {
        let gone = Set(deleted + [manifest.id])
        var next = self
        next.backups = backups.filter { !gone.contains($0.id) } + [BackupSummary(manifest, damaged: nil)]
        for index in next.backups.indices { next.backups[index].damaged = damaged[next.backups[index].id] }
        return next
    }

    /// Damaged backups with the first line of what is wrong (the status check's text).
    public var damagedFirstLines: [String: String] {
        var result: [String: String] = [:]
        for backup in backups { if let what = backup.damaged { result[backup.id] = String(what.split(separator: "\n").first ?? "") } }
        return result
    }
}
