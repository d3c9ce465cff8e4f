import CassandraAgentTestSupport
import Foundation
import Logging
import Testing
@testable import CassandraAgent

/// The backup service in-process: a manual clock, nodetool scripted (snapshots
/// made as hard links in a temporary data directory), a file:// destination.
final class BackupHarness: Sendable {
    let directory = TemporaryDirectory()
    let clock: ManualClock
    let runner = ScriptedProcessRunner(prefix: ["nodetool"])
    let lease: NodeLease
    let snapshot = Published(JobSnapshot(kind: .backup))
    let listing = Published(BackupListing())
    let desired: Published<DesiredState?>
    var data: String { directory.path + "/data" }
    var destination: String { directory.path + "/dest" }
    var table: String { data + "/shop/orders-8d4a1b20c3f111ef9b2d4f6a7c8e9d01" }
    var configuration: AgentConfiguration {
        var c = AgentConfiguration()
        c.nodetool = ["nodetool"]
        c.stateDirectory = directory.path + "/state"
        c.cassandraConfigDirectory = directory.path + "/conf"
        return c
    }

    // 2026-12-01 03:00 UTC.
    static let at0300 = Double(CivilDate.days(year: 2026, month: 12, day: 1) * 86400 + 3 * 3600)

    /// `schedule`: "0 3 1 1 *" (New Year only) for a test that moves the clock by days and starts runs itself.
    init(leftover: String? = nil, backupExtra: String = "", schedule: String = "0 3 * * *") {
        clock = ManualClock(now: Self.at0300 - 60)
        lease = NodeLease(clock: clock)
        let text = desiredState(version: "4.1", settings: ["data_file_directories: [\(directory.path)/data]"],
                                extra: "backup:\n  enabled: true\n  schedule: \"\(schedule)\"\n  retention: 1d\n  splay: 0s\n  destination: file://\(directory.path)/dest\n" + backupExtra)
        guard case .success(let validated) = validate(text) else { fatalError("invalid test desired state: \(errors(text))") }
        desired = Published(validated.state)
        directory.write("conf/cassandra.yaml", "cluster_name: Test\n")
        for generation in 1...2 {
            for component in ["Data.db", "Index.db", "TOC.txt"] {
                directory.write("data/shop/orders-8d4a1b20c3f111ef9b2d4f6a7c8e9d01/nb-\(generation)-big-\(component)", "\(component) \(generation)")
            }
        }
        let table = table
        if let leftover { directory.write("data/shop/orders-8d4a1b20c3f111ef9b2d4f6a7c8e9d01/snapshots/\(leftover)/nb-1-big-Data.db", "old") }
        runner.on(["info"], fixture: "info-4.1.txt")
        runner.on(["listsnapshots"], .dynamic { _ in
            let tags = ((try? FileManager.default.contentsOfDirectory(atPath: table + "/snapshots")) ?? []).sorted()
            guard !tags.isEmpty else { return ("Snapshot Details: \nThere are no snapshots\n", "", 0) }
            let header = ["Snapshot name", "Keyspace name", "Column family name", "True size", "Size on disk"]
            let table = [header] + tags.map { [$0, "shop", "orders", "0 bytes", "13 bytes"] }
            let widths = (0..<header.count).map { c in table.map { $0[c].count }.max()! }
            let lines = table.map { row in row.enumerated().map { $0.element.padding(toLength: widths[$0.offset] + 1, withPad: " ", startingAt: 0) }.joined() + "\n" }
            return ("Snapshot Details: \n" + lines.joined() + "\nTotal TrueDiskSpaceUsed: 0 bytes\n\n", "", 0)
        })
        runner.on(["snapshot"], .dynamic { words in
            let tag = words[words.firstIndex(of: "-t")! + 1]
            let target = table + "/snapshots/" + tag
            try? FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            for file in (try? FileManager.default.contentsOfDirectory(atPath: table)) ?? [] where file.contains("-big-") {
                link(table + "/" + file, target + "/" + file)
            }
            FileManager.default.createFile(atPath: target + "/schema.cql", contents: Data("CREATE TABLE shop.orders (id uuid PRIMARY KEY);\n".utf8))
            return ("Requested creating snapshot(s) for [all keyspaces] with snapshot name [\(tag)] and options {skipFlush=false}\nSnapshot directory: \(tag)\n", "", 0)
        })
        runner.on(["clearsnapshot"], .dynamic { words in
            if let t = words.firstIndex(of: "-t") { try? FileManager.default.removeItem(atPath: table + "/snapshots/" + words[t + 1]) }
            return ("Requested clearing snapshot(s) for [all keyspaces]\n", "", 0)
        })
    }

    /// `observedTokens`: what observation's `info -T` found (none: the backup reads them itself).
    func service(observedTokens: [String] = [], store: (any BackupObjectStore)? = nil,
                 hostID: @escaping @Sendable () -> String? = { "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41" }) -> BackupService {
        let desired = desired
        var makeStore: (@Sendable (DesiredState.Backup) throws(BackupError) -> any BackupObjectStore)?
        if let store { makeStore = { (_: DesiredState.Backup) throws(BackupError) -> any BackupObjectStore in store } }
        return BackupService(.init(configuration: configuration, clock: clock, runner: runner, lease: lease, desiredState: { desired.value },
                                   hostID: hostID, tokens: { observedTokens },
                                   snapshot: snapshot, listing: listing, logger: Logger(label: "test"), makeStore: makeStore))
    }

    /// Starts a backup the way `job start backup` does and waits for its end: the run it recorded.
    func backUp(_ service: BackupService, _ what: String) async throws -> JobRunRecord {
        let before = snapshot.value.lastRun?.id
        guard case .success = await service.start(keyspaces: []) else {
            Issue.record("\(what) did not start")
            throw CancellationError()
        }
        try await until("\(what) to end") { $0.lastRun != nil && $0.lastRun!.id != before && $0.current == nil }
        return snapshot.value.lastRun!
    }

    func until(_ what: String, _ condition: (JobSnapshot) -> Bool) async throws {
        for _ in 0..<2500 where !condition(snapshot.value) {
            try await Task.sleep(for: .milliseconds(2))
        }
        guard condition(snapshot.value) else {
            Issue.record("timed out waiting for \(what); snapshot: \(snapshot.value.state) \(String(describing: snapshot.value.current?.progress)) \(String(describing: snapshot.value.lastRun))")
            throw CancellationError()
        }
    }
}

@Suite struct BackupServiceTests {
    @Test func aScheduledBackupQueuesBehindARepairThenStoresTheSnapshotAndClearsLeftoversAndItsOwnSnapshot() async throws {
        let h = BackupHarness(leftover: "cassandra-agent-20261130T030000Z")
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle with the next run at 03:00") { $0.state == .idle && $0.nextRun == BackupHarness.at0300 }
        // The leftover of a crashed run is cleared at start-up.
        let cleared = ["clearsnapshot", "-t", "cassandra-agent-20261130T030000Z"]
        for _ in 0..<5000 where !h.runner.calls.contains(cleared) { try await Task.sleep(for: .milliseconds(2)) }
        #expect(h.runner.calls.contains(cleared))
        // A repair holds the node when the slot comes: the backup queues behind it.
        #expect(await h.lease.tryBeginJob(.repair, runID: "repair-1", reconcileBetweenSteps: true) == nil)
        #expect(await h.clock.waitForSleepers(timeout: .seconds(30)))
        h.clock.advance(to: BackupHarness.at0300)
        try await h.until("queued behind the repair") { $0.state == .queued }
        #expect(h.snapshot.value.stateReason?.contains("repair-1") == true)
        #expect(!h.runner.calls.contains { $0.first == "snapshot" })
        await h.lease.endJob("repair-1")
        try await h.until("the run to end") { $0.lastRun != nil }
        let last = try #require(h.snapshot.value.lastRun)
        #expect(last.result == .succeeded, "\(last.reason ?? "")")
        #expect(last.trigger == .schedule)
        #expect(last.id == "backup-20261201T030000Z")
        #expect(h.runner.calls.contains(["snapshot", "-t", "cassandra-agent-20261201T030000Z"]))
        #expect(h.runner.calls.contains(["clearsnapshot", "-t", "cassandra-agent-20261201T030000Z"]))
        #expect(!FileManager.default.fileExists(atPath: h.table + "/snapshots/cassandra-agent-20261201T030000Z"))
        // 6 SSTable components, schema.cql; plus the cassandra.yaml as an object.
        #expect(last.reason?.contains("7 file(s)") == true, "\(last.reason ?? "")")
        let repository = BackupRepository(store: FileObjectStore(root: h.destination), host: "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41")
        let manifest = try #require(try repository.manifest(last.id))
        #expect(manifest.files.count == 7)
        #expect(manifest.cassandraYAML == SHA256.hex(Array("cluster_name: Test\n".utf8)))
        #expect(repository.verify(manifest).isEmpty)
        #expect(h.listing.value.backups.map(\.id) == [last.id])
        #expect(h.snapshot.value.newestBackupAt != nil)
        // The journal survives: a new service reads the run back.
        #expect(JobHistoryStore(stateDirectory: h.configuration.stateDirectory).load(.backup).history.lastRun?.id == last.id)
    }

    /// The manifest's tokens come from observation when it has them: no `info -T` of its own,
    /// which for an unchanged backup (an upload of a few stat calls) was a third of its time.
    /// Without them (before the first observation) the backup reads them itself.
    @Test func theManifestTakesTheTokensObservationReadAndReadsThemOnlyWithout() async throws {
        for observed in [["-4611686018427387904", "0", "4611686018427387904"], []] {
            let h = BackupHarness()
            h.runner.on(["info", "-T"], .output(stdout: ScriptedProcessRunner.fixture("info-4.1.txt").replacing(
                "Token                  : (invoke with -T/--tokens to see all 16 tokens)", with: "Token                  : 77\nToken                  : 99")))
            let service = h.service(observedTokens: observed)
            let task = Task { try await service.run() }
            defer { task.cancel() }
            try await h.until("idle") { $0.state == .idle }
            let started = await service.start(keyspaces: [])
            guard case .success = started else { Issue.record("not started: \(started)"); return }
            try await h.until("the run to end") { $0.lastRun != nil }
            let last = try #require(h.snapshot.value.lastRun)
            #expect(last.result == .succeeded, "\(last.reason ?? "")")
            let repository = BackupRepository(store: FileObjectStore(root: h.destination), host: "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41")
            let manifest = try #require(try repository.manifest(last.id))
            #expect(manifest.tokens == (observed.isEmpty ? ["77", "99"] : observed))
            #expect(h.runner.calls.contains(["info", "-T"]) == observed.isEmpty, "\(h.runner.calls)")
        }
    }

    @Test func freshnessWarnsAtOneAndAHalfPeriodsAndIsCriticalAtThree() {
        var job = JobSnapshot(kind: .backup)
        job.enabled = true
        job.schedulePeriod = 86400
        job.history.trackedSince = 0
        func check(_ age: Double) -> HealthCheck? {
            job.newestBackupAt = 1_000_000
            let inputs = StatusInputs(host: "h", reconcile: ReconcileSnapshot(desiredStatePath: "/x"), observation: nil, jobs: [job], observeInterval: 10, expiryWarningDays: 30, now: 1_000_000 + age)
            return StatusAssembler.document(inputs).checks.first { $0.reason == "backup.stale" }
        }
        #expect(check(86400) == nil)
        #expect(check(1.6 * 86400)?.level == .warning)
        #expect(check(3.1 * 86400)?.level == .critical)
        #expect(check(3.1 * 86400)?.message.contains("`cassandra-agent job start backup`") == true)
    }

    @Test func aSampledVerifyAfterEachBackupFindsBitRotMarksEveryBackupUsingItAndRetentionNoLongerCountsThem() async throws {
        let h = BackupHarness(backupExtra: "  minimumCount: 2\n  verify: {sample: 50%}\n")
        let host = "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41"
        let repository = BackupRepository(store: FileObjectStore(root: h.destination), host: host)
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle with the next run at 03:00") { $0.state == .idle && $0.nextRun == BackupHarness.at0300 }
        #expect(await h.clock.waitForSleepers(timeout: .seconds(120)))
        h.clock.advance(to: BackupHarness.at0300)
        try await h.until("the first backup and its sampled verify") { $0.lastRun != nil && $0.verify != nil }
        let first = try #require(h.snapshot.value.lastRun)
        #expect(first.result == .succeeded, "\(first.reason ?? "")")
        let intact = try #require(h.snapshot.value.verify)
        #expect(intact.damaged.isEmpty && intact.backups == 1 && intact.objects == 8 && intact.sampled == 4, "\(intact)")
        func checks() -> [HealthCheck] {
            StatusAssembler.document(StatusInputs(host: "h", reconcile: ReconcileSnapshot(desiredStatePath: "/x"), observation: nil, jobs: [h.snapshot.value],
                                                  observeInterval: 10, expiryWarningDays: 30, now: h.clock.now())).checks
        }
        #expect(checks().contains { $0.reason == "backup.verified" && $0.level == .ok && $0.message.contains("re-read 4 of 8 object(s)") })

        // An hour later, a backup by hand. Its verify's sample is seeded from its id, so the test knows
        // it: one SSTable object in it rots (same size, other bytes; the upload cannot tell, a re-read can).
        h.clock.advance(to: BackupHarness.at0300 + 3600)
        let second = JobID.make(.backup, at: BackupHarness.at0300 + 3600)
        let files = Set(try #require(try repository.manifest(first.id)).files.map(\.sha256))
        let objects = Array(try #require(try repository.manifest(first.id)).objects.keys)
        let victim = try #require(SampledVerify.sample(objects, percent: 50, seed: SampledVerify.seed(host: host, run: second)).first { files.contains($0) })
        let path = h.destination + "/" + BackupLayout.object(host, victim)
        var bytes = Array(try #require(FileManager.default.contents(atPath: path)))
        bytes[0] ^= 0xff
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        #expect(await service.start(keyspaces: []) == .success("backup \(second) started"))
        try await h.until("the second backup and its sampled verify") { $0.lastRun?.id == second && ($0.verify?.at ?? 0) >= BackupHarness.at0300 + 3600 }
        #expect(h.snapshot.value.lastRun?.result == .succeeded)
        let found = try #require(h.snapshot.value.verify)
        #expect(found.damaged == [first.id, second], "one object damages every backup that references it")
        #expect(found.problems.count == 1 && found.problems[0].contains("object \(victim) has SHA-256"), "\(found.problems)")
        #expect(Set(try repository.damaged().keys) == [first.id, second])
        #expect(h.listing.value.backups.allSatisfy { $0.damaged != nil })
        #expect(!FileManager.default.fileExists(atPath: path), "the wrong object is deleted so that the next backup stores it again")
        let damaged = try #require(checks().first { $0.reason == "backup.damaged" })
        #expect(damaged.level == .warning && damaged.message.contains(first.id) && damaged.message.contains(second), "\(damaged.message)")

        // Two days on, the scheduled backup stores the object again. Retention (1d, minimumCount 2)
        // keeps it alone: the two damaged backups do not count as good, so both go
        // (undamaged, the newer of them would have been kept as the second).
        h.clock.advance(to: BackupHarness.at0300 + 2 * 86400)
        try await h.until("the third backup") { $0.lastRun?.trigger == .schedule && $0.lastRun?.id != first.id }
        let third = try #require(h.snapshot.value.lastRun)
        #expect(third.result == .succeeded)
        #expect(third.reason?.contains("stored 1 new file(s)") == true, "\(third.reason ?? "")")
        #expect(third.reason?.contains("retention removed 2 backup(s)") == true, "\(third.reason ?? "")")
        try await h.until("the third backup's verify") { ($0.verify?.at ?? 0) >= BackupHarness.at0300 + 2 * 86400 }
        #expect(h.listing.value.backups.map(\.id) == [third.id])
        #expect(h.listing.value.backups.first?.damaged == nil)
        #expect(!checks().contains { $0.reason == "backup.damaged" })
    }

    @Test func aScheduledSampledVerifyRunsAtItsOwnTimeWithoutABackupAndFindsAMissingObject() async throws {
        let h = BackupHarness(backupExtra: "  verify: {schedule: \"0 5 * * *\", sample: 100%}\n")
        let host = "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41"
        let service = h.service()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await h.until("idle") { $0.state == .idle && $0.nextRun == BackupHarness.at0300 }
        #expect(await h.clock.waitForSleepers(timeout: .seconds(120)))
        h.clock.advance(to: BackupHarness.at0300)
        try await h.until("the backup") { $0.lastRun?.result == .succeeded }
        #expect(h.snapshot.value.verify == nil, "with a schedule of its own, the verify does not follow the backup")
        // An object goes missing (someone cleaned the bucket by hand); at 05:00 the verify finds it.
        let repository = BackupRepository(store: FileObjectStore(root: h.destination), host: host)
        let id = try #require(h.snapshot.value.lastRun?.id)
        let lost = try #require(try repository.manifest(id)?.files.first?.sha256)
        try FileManager.default.removeItem(atPath: h.destination + "/" + BackupLayout.object(host, lost))
        #expect(await h.clock.waitForSleepers(timeout: .seconds(120)))
        h.clock.advance(to: BackupHarness.at0300 + 7200)
        try await h.until("the scheduled verify") { $0.verify != nil }
        let report = try #require(h.snapshot.value.verify)
        #expect(report.at == BackupHarness.at0300 + 7200 && report.sampled == report.objects && report.damaged == [id])
        #expect(report.problems == ["object \(lost) is missing"])
        #expect(h.snapshot.value.lastRun?.id == id, "no backup ran for the verify")
        #expect(VerifyJournal.load(h.configuration.stateDirectory).lastSlot == BackupHarness.at0300 + 7200, "the slot is journalled: a restart does not verify it again")
        try await h.until("the damaged mark in the listing") { $0.damagedBackups[id] != nil }
    }
}
