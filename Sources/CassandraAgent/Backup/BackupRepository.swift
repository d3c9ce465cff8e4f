import FoundationEssentials

/// One node's backups in a destination: the complete ones (those with a
/// manifest), the damaged marks verify leaves, the references of runs in
/// progress, retention and garbage collection of unreferenced objects.
public struct BackupRepository: Sendable {
    public let store: any BackupObjectStore
    /// The node's host ID: its namespace in the destination.
    public let host: String

    public init(store: any BackupObjectStore, host: String) {
        self.store = store
        self.host = host
    }

    /// Complete backups, oldest first. A manifest that cannot be read is skipped, never guessed at.
    public func manifests() throws(BackupError) -> [BackupManifest] {
        var result: [BackupManifest] = []
        for object in try store.list(BackupLayout.backups(host)) where object.key.hasSuffix(".json") {
            guard let bytes = try store.get(object.key), let manifest = try? BackupManifest.decode(bytes) else { continue }
            result.append(manifest)
        }
        return result.sorted { ($0.completedAt, $0.id) < ($1.completedAt, $1.id) }
    }

    /// Backups verify found damaged: id -> what is wrong.
    public func damaged() throws(BackupError) -> [String: String] {
        var result: [String: String] = [:]
        for object in try store.list(BackupLayout.backups(host)) where object.key.hasSuffix(".damaged") {
            let id = String(FileIO.baseName(object.key).dropLast(".damaged".count))
            result[id] = (try store.get(object.key)).map { String(decoding: $0, as: UTF8.self) } ?? "damaged"
        }
        return result
    }

    public func listing() -> BackupListing {
        do {
            let damaged = try damaged()
            return BackupListing(backups: try manifests().map { BackupSummary($0, damaged: damaged[$0.id]) })
        } catch {
            return BackupListing(error: error.message)
        }
    }

    public func manifest(_ id: String) throws(BackupError) -> BackupManifest? {
        try store.get(BackupLayout.manifest(host, id)).map { bytes throws(BackupError) in try BackupManifest.decode(bytes) }
    }

    /// Backup `id`: this node's, or another host's in the same destination (a restore with --force),
    /// with the repository of the host it belongs to.
    public func findAnyHost(_ id: String) throws(BackupError) -> (BackupManifest, BackupRepository)? {
        if let manifest = try manifest(id) { return (manifest, self) }
        // One manifest read per host rather than a listing of every object in the destination.
        for other in try store.hosts() where other != host {
            let repository = BackupRepository(store: store, host: other)
            if let manifest = try repository.manifest(id) { return (manifest, repository) }
        }
        return nil
    }

    /// Records, before the first byte is uploaded, the objects a run is about to reference.
    public func recordPending(_ id: String, _ objects: Set<String>, at now: Double) throws(BackupError) {
        let document: [String: [String]] = ["objects": objects.sorted(), "startedAt": [String(Int64(now))]]
        let bytes = (try? JSONEncoder().encode(document)).map(Array.init) ?? []
        try store.put(BackupLayout.pending(host, id), bytes)
    }

    public func clearPending(_ id: String) throws(BackupError) {
        try store.delete(BackupLayout.pending(host, id))
    }

    // MARK: verify

    /// Re-reads every object of the backup and checks its size and SHA-256; the problems found (empty: intact).
    public func verify(_ manifest: BackupManifest, context: TransferContext = TransferContext()) -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        var entries = manifest.files.map { ($0.sha256, $0.size, "\($0.keyspace).\($0.table)/\($0.path)") }
        if let yaml = manifest.cassandraYAML { entries.append((yaml, -1, "cassandra.yaml")) }
        for (sha, size, what) in entries where seen.insert(sha).inserted {
            let key = BackupLayout.object(host, sha)
            let hasher = SHA256.Hasher()
            var read: Int64 = 0
            do {
                guard try store.size(of: key) != nil else {
                    problems.append("\(what): object \(sha) is missing")
                    continue
                }
                try store.read(key, context: context) { chunk throws(BackupError) in
                    hasher.update(chunk)
                    read += Int64(chunk.count)
                }
            } catch {
                problems.append("\(what): \(error.message)")
                continue
            }
            let actual = hasher.finalHex()
            if size >= 0 && read != size {
                problems.append("\(what): object \(sha) holds \(read) bytes, the manifest says \(size)")
            } else if actual != sha {
                problems.append("\(what): object \(sha) has SHA-256 \(actual): its content is not what was stored")
            }
        }
        return problems
    }

    public func markDamaged(_ id: String, _ problems: [String]) throws(BackupError) {
        if problems.isEmpty {
            try store.delete(BackupLayout.damaged(host, id))
        } else {
            try store.put(BackupLayout.damaged(host, id), Array((problems.joined(separator: "\n") + "\n").utf8))
        }
    }

    // MARK: retention and garbage collection

    /// Deletes the manifests retention lets go (manifest first: the backup is gone
    /// at once), then objects no manifest or running backup references that are
    /// older than `grace`. Whatever an interruption leaves is finished next time.
    public func applyRetention(now: Double, retention: Double, minimumCount: Int, grace: Double, running: String?) throws(BackupError) -> (deleted: [String], objectsDeleted: Int) {
        let all = try manifests()
        let damaged = try damaged()
        let doomed = BackupRetention.expired(all.map { .init(id: $0.id, completedAt: $0.completedAt, damaged: damaged[$0.id] != nil) },
                                             now: now, retention: retention, minimumCount: minimumCount)
        for id in doomed {
            try store.delete(BackupLayout.manifest(host, id))
            try store.delete(BackupLayout.damaged(host, id))
        }
        var referenced = Set<String>()
        for manifest in all where !doomed.contains(manifest.id) { referenced.formUnion(manifest.objects.keys) }
        for pending in try store.list(BackupLayout.pendings(host)) {
            let id = String(FileIO.baseName(pending.key).dropLast(".json".count))
            // References of a run that died long ago protect nothing any more.
            if id != running && now - pending.modified > grace {
                try store.delete(pending.key)
                continue
            }
            if let bytes = try store.get(pending.key), let document = try? JSONDecoder().decode([String: [String]].self, from: Data(bytes)) {
                referenced.formUnion(document["objects"] ?? [])
            }
        }
        var deletedObjects = 0
        for object in try store.list(BackupLayout.objects(host)) where now - object.modified > grace {
            if let sha = BackupLayout.sha256(ofObjectKey: object.key), referenced.contains(sha) { continue }
            try store.delete(object.key)
            deletedObjects += 1
        }
        return (doomed, deletedObjects)
    }
}

/// Which complete backups retention deletes. Pure.
public enum BackupRetention {
    public struct Entry: Sendable, Equatable {
        public var id: String
        public var completedAt: Double
        public var damaged: Bool

        public init(id: String, completedAt: Double, damaged: Bool) {
            self.id = id
            self.completedAt = completedAt
            self.damaged = damaged
        }
    }

    /// Backups older than `retention`, except: the newest complete backup (damaged or
    /// not), and the newest `minimumCount` backups not known to be damaged. Only
    /// complete backups are ever counted: partial ones have no manifest to count.
    public static func expired(_ backups: [Entry], now: Double, retention: Double, minimumCount: Int) -> [String] {
        let newestFirst = backups.sorted { ($0.completedAt, $0.id) > ($1.completedAt, $1.id) }
        var keep = Set<String>()
        if let newest = newestFirst.first { keep.insert(newest.id) }
        for entry in newestFirst.filter({ !$0.damaged }).prefix(max(1, minimumCount)) { keep.insert(entry.id) }
        return newestFirst.filter { !keep.contains($0.id) && now - $0.completedAt > retention }.map(\.id).sorted()
    }
}
