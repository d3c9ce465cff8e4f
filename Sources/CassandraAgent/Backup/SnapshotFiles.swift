import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The files of one snapshot on the node, found the way Cassandra lays them out:
/// `<data dir>/<keyspace>/<table>-<id>/snapshots/<tag>/` in every data directory
/// (JBOD), secondary-index SSTables one level deeper in `.<index>/`.
public struct SnapshotFile: Sendable, Equatable {
    public var keyspace: String
    public var table: String
    public var tableDirectory: String
    public var dataDirectory: Int
    /// Inside the snapshot directory.
    public var relativePath: String
    public var path: String
}

public enum SnapshotFiles {
    /// The data directories in force (`data_file_directories`, or the Debian default).
    public static func dataDirectories(_ desired: DesiredState) -> [String] {
        let settings = SettingsResolver(version: desired.cassandraVersion)
        var diagnostics = Diagnostics(file: "")
        let resolved = settings.resolve(desired.settings, &diagnostics)
        if case .list(let items)? = resolved.first(where: { $0.name == "data_file_directories" })?.value {
            let paths = items.compactMap { item -> String? in if case .string(let s) = item { s } else { nil } }
            if !paths.isEmpty { return paths }
        }
        return [CassandraConfigRenderer.debianDataRoot + "/data"]
    }

    /// Table directories of the keyspaces (every keyspace when empty), per data directory.
    static func tables(_ dataDirectories: [String], keyspaces: [String]) -> [(index: Int, keyspace: String, directory: String)] {
        var result: [(Int, String, String)] = []
        for (index, root) in dataDirectories.enumerated() {
            for keyspace in (try? FileIO.list(root)) ?? [] where !keyspace.hasPrefix(".") && (keyspaces.isEmpty || keyspaces.contains(keyspace)) {
                guard FileIO.isDirectory("\(root)/\(keyspace)") else { continue }
                for table in (try? FileIO.list("\(root)/\(keyspace)")) ?? [] where !table.hasPrefix(".") && table.contains("-") {
                    if FileIO.isDirectory("\(root)/\(keyspace)/\(table)") { result.append((index, keyspace, table)) }
                }
            }
        }
        return result
    }

    static func tableName(_ directory: String) -> String {
        guard let dash = directory.lastIndex(of: "-") else { return directory }
        return String(directory[..<dash])
    }

    public static func find(tag: String, dataDirectories: [String], keyspaces: [String]) -> [SnapshotFile] {
        var files: [SnapshotFile] = []
        for (index, keyspace, table) in tables(dataDirectories, keyspaces: keyspaces) {
            let base = "\(dataDirectories[index])/\(keyspace)/\(table)/snapshots/\(tag)"
            guard FileIO.isDirectory(base) else { continue }
            func walk(_ relative: String) {
                let directory = relative.isEmpty ? base : "\(base)/\(relative)"
                for name in (try? FileIO.list(directory)) ?? [] {
                    let inner = relative.isEmpty ? name : "\(relative)/\(name)"
                    let full = "\(base)/\(inner)"
                    guard let st = FileIO.status(full) else { continue }
                    if (st.st_mode & S_IFMT) == S_IFDIR {
                        if relative.isEmpty { walk(inner) }
                    } else if (st.st_mode & S_IFMT) == S_IFREG, name != "ephemeral.snapshot", !(relative.isEmpty && name == "manifest.json") {
                        // Cassandra's manifest.json only lists the Data.db files (ours lists every file) and carries
                        // the snapshot's creation time on 4.1+: stored, it would make every unchanged backup upload something.
                        files.append(SnapshotFile(keyspace: keyspace, table: tableName(table), tableDirectory: table, dataDirectory: index, relativePath: inner, path: full))
                    }
                }
            }
            walk("")
        }
        return files
    }

    /// Live SSTables (Data.db files) of the keyspaces: does the node hold data worth backing up?
    public static func liveSSTables(dataDirectories: [String], keyspaces: [String]) -> Int {
        tables(dataDirectories, keyspaces: keyspaces).reduce(0) { count, entry in
            let directory = "\(dataDirectories[entry.index])/\(entry.keyspace)/\(entry.directory)"
            return count + ((try? FileIO.list(directory)) ?? []).filter { $0.hasSuffix("-Data.db") }.count
        }
    }
}

/// SHA-256 of files already hashed, by device, inode, size and modification
/// time: SSTables never change once written, and a snapshot's files are hard
/// links of the live ones, so an unchanged SSTable is not read again by the
/// next backup. Kept in `<stateDirectory>/backup/hashes.json`.
public struct HashCache: Sendable {
    public var entries: [String: String] = [:]
    let path: String
    /// What the file held when read.
    let loaded: [String: String]?

    public init(stateDirectory: String) {
        path = stateDirectory + "/backup/hashes.json"
        if let bytes = try? FileIO.readIfPresent(path), let decoded = try? JSONDecoder().decode([String: String].self, from: Data(bytes)) {
            entries = decoded
            loaded = decoded
        } else {
            loaded = nil
        }
    }

    public static func key(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return "\(st.st_dev):\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }

    /// Keeps only `used` (the files of the last run), so the cache never outgrows the node's
    /// data; when that is what the file already holds (an unchanged backup), nothing is written.
    public func save(keeping used: [String: String]) {
        if used == loaded { return }
        try? FileIO.makeDirectories(FileIO.directoryName(path), mode: 0o700)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if let bytes = try? encoder.encode(used) { try? FileIO.writeAtomically(path, Array(bytes), mode: 0o600) }
    }
}

/// The upload step: every snapshot file stored content-addressed, the objects it
/// is about to reference recorded first, progress reported as it goes.
public struct BackupUploader: Sendable {
    public let repository: BackupRepository
    public let stateDirectory: String

    public init(repository: BackupRepository, stateDirectory: String) {
        self.repository = repository
        self.stateDirectory = stateDirectory
    }

    public struct Result: Sendable {
        public var entries: [BackupManifest.File] = []
        public var upload = BackupWorkflow.Upload()
        public var cassandraYAML: String?
    }

    public func upload(_ files: [SnapshotFile], backupID: String, cassandraYAML: String?, now: Double, context: TransferContext,
                       fileDone: @escaping @Sendable (Int, Int64) -> Void) throws(BackupError) -> Result {
        var cache = HashCache(stateDirectory: stateDirectory)
        var used: [String: String] = [:]
        let keys = files.map { HashCache.key($0.path) }
        // cassandra.yaml (a few KiB) is hashed first, so that when every SSTable is known
        // (an unchanged backup) the first record of what this run references is the whole of it.
        let yaml: (path: String, sha256: String)? = try cassandraYAML.flatMap { path throws(BackupError) in
            guard FileIO.exists(path) else { return nil }
            do { return (path, SHA256.hex(try FileIO.read(path))) } catch { throw BackupError("cannot read \(path): \(error)") }
        }
        var known = Set(keys.compactMap { $0.flatMap { cache.entries[$0] } })
        if let yaml { known.insert(yaml.sha256) }
        try repository.recordPending(backupID, known, at: now)
        var result = Result()
        var referenced = known
        // Files are stored `concurrency` at a time; the first failure stops the others.
        let outcomes = Published([Swift.Result<StoredFile, BackupError>?](repeating: nil, count: files.count))
        let failed = Published(false)
        let done = Published(0)
        let store = repository.store, host = repository.host
        let knownHashes = keys.map { $0.flatMap { cache.entries[$0] } }
        var inner = context
        let outer = context.cancelled
        inner.cancelled = { failed.value || outer() }
        let shared = inner
        Parallel.forEach(files.count, width: store.concurrency) { index in
            if failed.value { return }
            let outcome: Swift.Result<StoredFile, BackupError>
            do throws(BackupError) {
                outcome = .success(try store.storeFile(files[index].path, host: host, knownSHA256: knownHashes[index], context: shared))
            } catch {
                outcome = .failure(error)
                failed.update { $0 = true }
            }
            outcomes.update { $0[index] = outcome }
            if case .success(let stored) = outcome { fileDone(done.update { $0 += 1; return $0 }, stored.size) }
        }
        let stored = outcomes.value
        // The first real failure (not the others it cancelled).
        if let failure = stored.compactMap({ entry -> BackupError? in if case .failure(let e)? = entry { e } else { nil } }).first(where: { $0.message != "cancelled" })
            ?? stored.compactMap({ entry -> BackupError? in if case .failure(let e)? = entry { e } else { nil } }).first {
            throw failure
        }
        for (index, file) in files.enumerated() {
            guard case .success(let stored)? = stored[index] else { throw BackupError("\(file.path) was not stored") }
            if let key = keys[index] { used[key] = stored.sha256; cache.entries[key] = stored.sha256 }
            referenced.insert(stored.sha256)
            result.entries.append(BackupManifest.File(keyspace: file.keyspace, table: file.table, tableDirectory: file.tableDirectory, dataDirectory: file.dataDirectory,
                                                      path: file.relativePath, size: stored.size, sha256: stored.sha256))
            result.upload.files += 1
            result.upload.bytes += stored.size
            if stored.uploaded {
                result.upload.storedFiles += 1
                result.upload.storedBytes += stored.size
            } else {
                result.upload.skippedBytes += stored.size
            }
        }
        if let yaml {
            // Hashed again as it is stored (from the descriptor it is read through): a file
            // replaced in between is stored as what was read, and recorded again below.
            let stored = try repository.store.storeFile(yaml.path, host: repository.host, knownSHA256: nil, context: context)
            result.cassandraYAML = stored.sha256
            referenced.insert(stored.sha256)
        }
        // Recorded again only when the run references more than the first record said.
        if !referenced.isSubset(of: known) { try repository.recordPending(backupID, referenced, at: now) }
        cache.save(keeping: used)
        return result
    }
}
