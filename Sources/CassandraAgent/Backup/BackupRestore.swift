#if canImport(Glibc)
import Glibc
#endif

/// `backup restore`: puts a backup's SSTables back through Cassandra. Checks
/// free space first, stages the files next to the table (same filesystem, so
/// Cassandra's move is a rename), verifies every staged byte against the
/// manifest, then `nodetool import` (4.0+) or, on 3.11, moves them into the
/// table directory and runs `nodetool refresh`.
public struct BackupRestore: Sendable {
    public struct Request: Sendable {
        public var id: String
        public var keyspace: String?
        public var table: String?
        public var dryRun = false
        public var force = false

        public init(id: String, keyspace: String? = nil, table: String? = nil, dryRun: Bool = false, force: Bool = false) {
            self.id = id
            self.keyspace = keyspace
            self.table = table
            self.dryRun = dryRun
            self.force = force
        }
    }

    public let repository: BackupRepository
    public let nodetool: NodetoolClient
    public let dataDirectories: [String]
    /// This node's host ID (the backup's may differ: then only with `force`).
    public let hostID: String

    public init(repository: BackupRepository, nodetool: NodetoolClient, dataDirectories: [String], hostID: String) {
        self.repository = repository
        self.nodetool = nodetool
        self.dataDirectories = dataDirectories
        self.hostID = hostID
    }

    /// One table of a restore: where its files go, and through which staging directory.
    public struct TablePlan: Sendable, Equatable {
        public var keyspace: String
        public var table: String
        public var target: String
        public var staging: String
        public var files: [BackupManifest.File]
        public var bytes: Int64 { files.reduce(0) { $0 + $1.size } }
    }

    /// How the files are loaded on this version.
    public var method: String { nodetool.version >= .v4_0 ? "nodetool import" : "copy into the table directory and nodetool refresh" }

    /// The staging directories of backup `id` (all tables) under `dataDirectories`: what a cut-short run may have left.
    public static func stagingPrefix(_ id: String) -> String { ".cassandra-agent-restore-\(id)-" }

    /// Checks everything that can be checked before a byte is written (host ID, the
    /// tables, free space per filesystem) and says which table goes where; a refusal throws.
    public func plan(_ request: Request, manifest: BackupManifest) throws(BackupError) -> [TablePlan] {
        if manifest.hostID != hostID && !request.force {
            throw BackupError("backup \(manifest.id) belongs to host ID \(manifest.hostID), not this node (\(hostID)): its SSTables hold another node's token ranges; restore it on that node, or pass --force to load it here anyway (Cassandra keeps only the rows this node owns after a cleanup)")
        }
        let selected = manifest.files.filter { file in
            file.isSSTableComponent && (request.keyspace == nil || file.keyspace == request.keyspace) && (request.table == nil || file.table == request.table)
        }
        guard !selected.isEmpty else {
            let what = [request.keyspace, request.table].compactMap { $0 }.joined(separator: ".")
            throw BackupError("backup \(manifest.id) holds no SSTable of \(what.isEmpty ? "any table" : what)")
        }
        var plans: [TablePlan] = []
        for (_, files) in Dictionary(grouping: selected, by: { "\($0.keyspace)\u{0}\($0.table)" }).sorted(by: { $0.key < $1.key }) {
            let keyspace = files[0].keyspace, table = files[0].table
            guard let target = tableDirectory(keyspace, table, preferring: files[0].tableDirectory) else {
                throw BackupError("the table \(keyspace).\(table) does not exist on this node: create it first (the backup's schema.cql has its CREATE TABLE), then restore")
            }
            let staging = FileIO.directoryName(target) + "/" + Self.stagingPrefix(manifest.id) + FileIO.baseName(target)
            plans.append(TablePlan(keyspace: keyspace, table: table, target: target, staging: staging, files: files))
        }
        // Free space, per filesystem, before anything is written.
        var needed: [String: (bytes: Int64, free: Int64)] = [:]
        for plan in plans {
            var fs = statvfs()
            guard statvfs(FileIO.directoryName(plan.target), &fs) == 0 else { throw BackupError("cannot check free space of \(plan.target): \(String(cString: strerror(errno)))") }
            let key = "\(fs.f_fsid)"
            needed[key, default: (0, Int64(fs.f_bavail) * Int64(fs.f_frsize))].bytes += plan.bytes
            if let entry = needed[key], entry.bytes > entry.free {
                throw BackupError("not enough free space for \(plan.target): the restore needs \(ByteText.format(entry.bytes)) and \(ByteText.format(entry.free)) are free; nothing was written")
            }
        }
        return plans
    }

    /// What a dry run prints: one line per table.
    public func describe(_ plans: [TablePlan]) -> [String] {
        plans.map { "would restore \($0.keyspace).\($0.table): \($0.files.count) file(s), \(ByteText.format($0.bytes)) into \($0.target) (\(method))" }
    }

    /// Loads a staged table through Cassandra. Cancelling the calling task kills the nodetool.
    public func load(_ plan: TablePlan) async throws(BackupError) {
        do {
            if nodetool.version >= .v4_0 {
                try await nodetool.importSSTables(keyspace: plan.keyspace, table: plan.table, directories: [plan.staging])
            } else {
                try moveIntoTable(plan)
                try await nodetool.importSSTables(keyspace: plan.keyspace, table: plan.table, directories: [])
            }
        } catch let error as NodetoolError {
            throw BackupError("\(error.description)")
        } catch {
            throw error as? BackupError ?? BackupError("\(error)")
        }
    }

    /// The table's live directory: the backup's own (same table id) if it exists, else the table's current one.
    func tableDirectory(_ keyspace: String, _ table: String, preferring name: String) -> String? {
        var found: [String] = []
        for root in dataDirectories {
            let directory = "\(root)/\(keyspace)"
            if FileIO.isDirectory("\(directory)/\(name)") { return "\(directory)/\(name)" }
            for entry in (try? FileIO.list(directory)) ?? [] where SnapshotFiles.tableName(entry) == table && !entry.hasPrefix(".") {
                found.append("\(directory)/\(entry)")
            }
        }
        return found.first
    }

    /// Writes the table's files into its staging directory and checks every byte against the manifest.
    public func stage(_ plan: TablePlan, context: TransferContext = TransferContext()) throws(BackupError) {
        FileIO.removeTree(plan.staging)
        do {
            try FileIO.makeDirectories(plan.staging, mode: 0o755)
        } catch {
            throw BackupError("cannot create the staging directory \(plan.staging): \(error)")
        }
        // Cassandra (its own user) moves the staged files: they belong to the table directory's owner.
        let owner = FileIO.status(plan.target)
        if let owner { _ = chown(plan.staging, owner.st_uid, owner.st_gid) }
        for file in plan.files {
            let path = "\(plan.staging)/\(FileIO.baseName(file.path))"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw BackupError("cannot create \(path): \(String(cString: strerror(errno)))") }
            if let owner { _ = fchown(fd, owner.st_uid, owner.st_gid) }
            let hasher = SHA256.Hasher()
            var written: Int64 = 0
            do throws(BackupError) {
                try repository.store.read(BackupLayout.object(repository.host, file.sha256), context: context) { chunk throws(BackupError) in
                    hasher.update(chunk)
                    var offset = 0
                    while offset < chunk.count {
                        let n = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                        if n < 0 {
                            if errno == EINTR { continue }
                            throw BackupError("cannot write \(path): \(String(cString: strerror(errno)))")
                        }
                        offset += n
                    }
                    written += Int64(chunk.count)
                }
                guard fsync(fd) == 0 else { throw BackupError("cannot fsync \(path): \(String(cString: strerror(errno)))") }
            } catch {
                close(fd)
                FileIO.removeTree(plan.staging)
                throw error
            }
            close(fd)
            let sha = hasher.finalHex()
            guard written == file.size, sha == file.sha256 else {
                FileIO.removeTree(plan.staging)
                throw BackupError("the stored object of \(file.keyspace).\(file.table)/\(file.path) is damaged (\(written) bytes, SHA-256 \(sha); the manifest says \(file.size) bytes, \(file.sha256)): nothing of this table was loaded; `cassandra-agent backup verify` says what else is damaged")
            }
        }
    }

    /// 3.11: the staged files go into the table directory under their own names; a name
    /// already there must hold the same bytes (then it is left), or the restore stops.
    func moveIntoTable(_ plan: TablePlan) throws(BackupError) {
        for file in plan.files {
            let name = FileIO.baseName(file.path)
            let target = "\(plan.target)/\(name)"
            if FileIO.exists(target) {
                let bytes = (try? FileIO.read(target)) ?? []
                if Int64(bytes.count) == file.size && SHA256.hex(bytes) == file.sha256 { continue }
                throw BackupError("\(target) exists with other content: Cassandra 3.11 loads restored SSTables by name, so the restore stops rather than overwrite it; move that SSTable generation away first")
            }
        }
        for file in plan.files {
            let name = FileIO.baseName(file.path)
            let target = "\(plan.target)/\(name)"
            if FileIO.exists(target) { continue }
            guard rename("\(plan.staging)/\(name)", target) == 0 else {
                throw BackupError("cannot move \(name) into \(plan.target): \(String(cString: strerror(errno)))")
            }
        }
        try? FileIO.fsyncDirectory(plan.target)
    }
}
