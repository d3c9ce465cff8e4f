@testable import CassandraAgent
import Foundation
import Testing

/// A destination in front of a real one that remembers every document written to it and,
/// when told, fails to list the objects (garbage collection's listing, after retention has
/// deleted the manifests).
final class CountingStore: BackupObjectStore, @unchecked Sendable {
    let inner: FileObjectStore
    let lock = NSLock()
    private var written: [String] = []
    /// Runs before each document is written, on the thread writing it.
    let beforePut: @Sendable (String) -> Void
    init(root: String, beforePut: @escaping @Sendable (String) -> Void = { _ in }) {
        inner = FileObjectStore(root: root)
        self.beforePut = beforePut
    }

    let failObjectsListing = Published(false)

    var puts: [String] { lock.withLock { written } }

    var description: String { inner.description }
    var concurrency: Int { inner.concurrency }
    func checkWritable() throws(BackupError) { try inner.checkWritable() }
    func size(of key: String) throws(BackupError) -> Int64? { try inner.size(of: key) }
    func put(_ key: String, _ bytes: [UInt8]) throws(BackupError) {
        beforePut(key)
        lock.withLock { written.append(key) }
        try inner.put(key, bytes)
    }
    func get(_ key: String) throws(BackupError) -> [UInt8]? { try inner.get(key) }
    func list(_ prefix: String) throws(BackupError) -> [StoredObject] {
        if failObjectsListing.value && prefix.hasSuffix("/objects/") { throw BackupError("the destination stopped answering") }
        return try inner.list(prefix)
    }
    func hosts() throws(BackupError) -> [String] { try inner.hosts() }
    func delete(_ key: String) throws(BackupError) { try inner.delete(key) }
    func storeFile(_ path: String, host: String, knownSHA256: String?, context: TransferContext) throws(BackupError) -> StoredFile {
        try inner.storeFile(path, host: host, knownSHA256: knownSHA256, context: context)
    }
    func read(_ key: String, context: TransferContext, _ body: (UnsafeRawBufferPointer) throws(BackupError) -> Void) throws(BackupError) {
        try inner.read(key, context: context, body)
    }
}

/// An unchanged backup's budget is a few dozen milliseconds, most of it fsynced writes:
/// it writes only what says something new.
@Suite struct UnchangedBackupTests {
    static let host = "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41"

    func files(_ dir: TemporaryDirectory) -> [SnapshotFile] {
        (1...3).map { generation in
            dir.write("data/shop/orders-1/snapshots/t/nb-\(generation)-big-Data.db", "data \(generation)")
            return SnapshotFile(keyspace: "shop", table: "orders", tableDirectory: "orders-1", dataDirectory: 0,
                                relativePath: "nb-\(generation)-big-Data.db", path: dir.path + "/data/shop/orders-1/snapshots/t/nb-\(generation)-big-Data.db")
        }
    }

    func inode(_ path: String) -> UInt64? {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_ino) : nil
    }

    @Test func anUnchangedUploadRecordsWhatItReferencesOnceAndLeavesTheHashCacheAlone() throws {
        let dir = TemporaryDirectory()
        dir.write("conf/cassandra.yaml", "cluster_name: Test\n")
        let snapshot = files(dir)
        let store = CountingStore(root: dir.path + "/dest")
        let uploader = BackupUploader(repository: BackupRepository(store: store, host: Self.host), stateDirectory: dir.path + "/state")
        let yaml = dir.path + "/conf/cassandra.yaml"
        let pending1 = BackupLayout.pending(Self.host, "backup-1"), pending2 = BackupLayout.pending(Self.host, "backup-2")

        // The first run: what it knows before uploading (nothing), then what it stored.
        let first = try uploader.upload(snapshot, backupID: "backup-1", cassandraYAML: yaml, now: 1, context: TransferContext()) { _, _ in }
        #expect(first.upload.storedFiles == 3)
        #expect(store.puts.filter { $0 == pending1 }.count == 2)
        let cache = dir.path + "/state/backup/hashes.json"
        let cached = try #require(inode(cache))

        // Unchanged: every SSTable and cassandra.yaml known before the first byte, so one record.
        let second = try uploader.upload(snapshot, backupID: "backup-2", cassandraYAML: yaml, now: 2, context: TransferContext()) { _, _ in }
        #expect(second.upload.storedFiles == 0 && second.upload.skippedBytes == first.upload.bytes)
        #expect(second.cassandraYAML == first.cassandraYAML)
        #expect(store.puts.filter { $0 == pending2 }.count == 1)
        let record = try #require(try store.get(pending2))
        let referenced = try JSONDecoder().decode([String: [String]].self, from: Data(record))["objects"] ?? []
        #expect(Set(referenced) == Set(second.entries.map(\.sha256) + [second.cassandraYAML!]))
        #expect(inode(cache) == cached, "the hash cache was rewritten with what it held")

        // A new SSTable, unknown before its first byte, is recorded again once stored and rewrites the
        // cache; the changed cassandra.yaml, hashed first, is in the first record.
        dir.write("conf/cassandra.yaml", "cluster_name: Other\n")
        dir.write("data/shop/orders-1/snapshots/t/nb-4-big-Data.db", "data 4")
        let grown = snapshot + [SnapshotFile(keyspace: "shop", table: "orders", tableDirectory: "orders-1", dataDirectory: 0,
                                             relativePath: "nb-4-big-Data.db", path: dir.path + "/data/shop/orders-1/snapshots/t/nb-4-big-Data.db")]
        let third = try uploader.upload(grown, backupID: "backup-3", cassandraYAML: yaml, now: 3, context: TransferContext()) { _, _ in }
        #expect(third.upload.storedFiles == 1 && third.cassandraYAML != first.cassandraYAML)
        #expect(store.puts.filter { $0 == BackupLayout.pending(Self.host, "backup-3") }.count == 2)
        #expect(inode(cache) != cached)
    }
}

extension UnchangedBackupTests {
    /// The journal names the step a crash interrupted: every step that waits on nodetool,
    /// the destination or the clock is written before it runs; decisions in memory are not.
    @Test func theJournalIsWrittenBeforeEveryStepThatWaitsAndOnlyThen() {
        let waits: [BackupWorkflow.Action] = [.snapshot(tag: "t", keyspaces: []), .storeManifest(.init()), .clearSnapshot(tag: "t"), .wait(until: 1)]
        for action in waits {
            #expect(BackupService.persistsStep(before: action, snapshotsKnownClear: true, retentionDone: true), "\(action)")
        }
        #expect(BackupService.persistsStep(before: .clearLeftovers, snapshotsKnownClear: false, retentionDone: true))
        #expect(BackupService.persistsStep(before: .applyRetention, snapshotsKnownClear: true, retentionDone: false))
        let decided: [BackupWorkflow.Action] = [.checkGate, .clearLeftovers, .applyRetention, .upload(tag: "t"), .finish(.succeeded, reason: "")]
        for action in decided {
            #expect(!BackupService.persistsStep(before: action, snapshotsKnownClear: true, retentionDone: true), "\(action)")
        }
    }
}

extension UnchangedBackupTests {
    /// Once every file is stored the snapshot is not needed: Cassandra clears it while the
    /// manifest is written. The manifest's write here waits until clearsnapshot has started.
    @Test func theSnapshotIsClearedWhileTheManifestIsWritten() async throws {
        let h = BackupHarness()
        let runner = h.runner
        let sawClear = Published<Bool?>(nil)
        let store = CountingStore(root: h.destination) { key in
            guard key.hasPrefix(Self.host + "/backups/") else { return }
            // Up to a minute: the clearing task runs on the cooperative pool, which other tests can hold.
            for _ in 0..<30000 where !runner.calls.contains(where: { $0.first == "clearsnapshot" }) { usleep(2000) }
            sawClear.update { $0 = runner.calls.contains(where: { $0.first == "clearsnapshot" }) }
        }
        let service = h.service(store: store)
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle }
        let last = try await h.backUp(service, "the backup")
        #expect(last.result == .succeeded, "\(last.reason ?? "")")
        #expect(sawClear.value == true, "the manifest was written before clearsnapshot started")
        #expect(try BackupRepository(store: store, host: Self.host).manifest(last.id) != nil)
        #expect(!FileManager.default.fileExists(atPath: h.table + "/snapshots/cassandra-agent-" + last.id.dropFirst("backup-".count)))
    }
}

extension UnchangedBackupTests {
    /// After each backup the listing gains the new manifest and loses what retention deleted,
    /// without reading every manifest back: it matches what the destination holds.
    @Test func theListingAfterEachBackupIsWhatTheDestinationHolds() async throws {
        // Runs started here, two days apart (no scheduled slot in between: a test that waited for the
        // service to sleep before each slot was starved on CI's two threads): the retention of 1d lets
        // each earlier backup go but the newest.
        let h = BackupHarness(schedule: "0 3 1 1 *")
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle }
        let repository = BackupRepository(store: FileObjectStore(root: h.destination), host: Self.host)
        for day in [0, 2, 4] {
            if day > 0 { h.clock.advance(by: 2 * 86400) }
            let last = try await h.backUp(service, "the backup of day \(day)")
            #expect(last.result == .succeeded, "\(last.reason ?? "")")
            #expect(h.listing.value == repository.listing(), "after the backup of day \(day)")
            #expect(h.listing.value.backups.map(\.id) == [last.id])
            #expect(h.snapshot.value.newestBackupAt == (try repository.manifest(last.id))?.completedAt)
        }
    }
}

extension UnchangedBackupTests {
    /// The listing could not be read at start-up (no host ID yet, nodetool not answering):
    /// the next backup reads it whole rather than showing itself alone.
    @Test func aListingNeverReadIsReadWholeAfterTheNextBackup() async throws {
        let h = BackupHarness()
        let repository = BackupRepository(store: FileObjectStore(root: h.destination), host: Self.host)
        do {
            let service = h.service()
            let task = Task { try await service.run() }
            try await h.until("idle") { $0.state == .idle }
            #expect(try await h.backUp(service, "the first backup").result == .succeeded)
            task.cancel()
            _ = await task.result
        }
        let older = try repository.manifests().map(\.id)
        #expect(older.count == 1)
        // A restart of the agent while Cassandra does not answer: no host ID from observation, info fails.
        let known = Published(false)
        h.runner.on(["info"], .output(stdout: "", stderr: "nodetool: Failed to connect to '127.0.0.1:7199'", exitCode: 1))
        h.snapshot.update { $0 = JobSnapshot(kind: .backup) }
        h.listing.update { $0 = BackupListing() }
        let service = h.service(hostID: { known.value ? Self.host : nil })
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle }
        #expect(h.listing.value.backups.isEmpty)
        known.update { $0 = true }
        h.clock.advance(by: 1)
        let second = try await h.backUp(service, "the second backup")
        #expect(!older.contains(second.id))
        #expect(second.result == .succeeded, "\(second.reason ?? "")")
        #expect(h.listing.value == repository.listing())
        #expect(h.listing.value.backups.count == 2)
    }

    /// Retention deleted a manifest and then failed: the listing is read again, so it never
    /// shows a backup that is gone.
    @Test func aRetentionThatFailsMidwayLeavesNoGoneBackupListed() async throws {
        let h = BackupHarness(schedule: "0 3 1 1 *")
        let store = CountingStore(root: h.destination)
        let service = h.service(store: store)
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle }
        let firstRun = try await h.backUp(service, "the first backup")
        #expect(firstRun.result == .succeeded, "\(firstRun.reason ?? "")")
        let first = firstRun.id
        // Two days later the first is past the retention of 1d; garbage collection then fails.
        store.failObjectsListing.update { $0 = true }
        h.clock.advance(by: 2 * 86400)
        let last = try await h.backUp(service, "the second backup")
        #expect(last.result == .succeeded, "\(last.reason ?? "")")
        let repository = BackupRepository(store: FileObjectStore(root: h.destination), host: Self.host)
        #expect(try repository.manifest(first) == nil, "retention deleted the first backup's manifest")
        #expect(h.listing.value == repository.listing())
        #expect(h.listing.value.backups.map(\.id) == [last.id])
    }
}

extension UnchangedBackupTests {
    /// `backup verify` runs in a CLI process and marks what it finds damaged in the
    /// destination: the daemon's listing shows it after its next backup.
    @Test func damageMarkedByAnotherProcessShowsAfterTheNextBackup() async throws {
        let h = BackupHarness()
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle }
        let firstRun = try await h.backUp(service, "the first backup")
        #expect(firstRun.result == .succeeded, "\(firstRun.reason ?? "")")
        let first = firstRun.id
        let store = FileObjectStore(root: h.destination)
        try store.put(BackupLayout.damaged(Self.host, first), Array("object 0123 is missing\nsecond line".utf8))
        h.clock.advance(by: 1)
        _ = try await h.backUp(service, "the second backup")
        #expect(h.listing.value == BackupRepository(store: store, host: Self.host).listing())
        #expect(h.listing.value.backups.first { $0.id == first }?.damaged != nil)
        #expect(h.snapshot.value.damagedBackups == [first: "object 0123 is missing"])
    }
}
