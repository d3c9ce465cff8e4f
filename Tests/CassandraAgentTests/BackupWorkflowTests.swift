import Foundation
import Testing
@testable import CassandraAgent

/// The backup state machine without processes: events in, actions out.
struct BackupWorkflowTests {
    let plan = BackupWorkflow.Plan(id: "backup-20261201T030000Z", tag: "cassandra-agent-20261201T030000Z", keyspaces: [])

    func upload(files: Int, stored: Int) -> BackupWorkflow.Upload {
        var u = BackupWorkflow.Upload()
        u.files = files
        u.bytes = Int64(files) * 100
        u.storedFiles = stored
        u.storedBytes = Int64(stored) * 100
        u.skippedBytes = Int64(files - stored) * 100
        return u
    }

    @Test func aRunClearsLeftoversSnapshotsUploadsStoresTheManifestLastThenClearsAndRetains() {
        var w = BackupWorkflow(plan: plan)
        #expect(w.start() == .checkGate)
        #expect(w.handle(.gate(.open, now: 0)) == .clearLeftovers)
        #expect(w.handle(.leftoversCleared(cleared: ["cassandra-agent-old"], failure: nil, now: 1)) == .snapshot(tag: plan.tag, keyspaces: []))
        #expect(w.handle(.snapshotTaken(files: 10, liveSSTables: 2, now: 2)) == .upload(tag: plan.tag))
        let u = upload(files: 10, stored: 4)
        #expect(w.handle(.uploaded(u, now: 12)) == .storeManifest(u))
        #expect(w.uploadSeconds == 10)
        #expect(w.handle(.manifestStored(now: 13)) == .clearSnapshot(tag: plan.tag))
        #expect(w.handle(.snapshotCleared(ok: true, detail: "", now: 14)) == .applyRetention)
        guard case .finish(.succeeded, let reason)? = w.handle(.retentionApplied(deleted: ["backup-old"], objectsDeleted: 3, failure: nil, now: 15)) else {
            Issue.record("expected success")
            return
        }
        #expect(reason.contains("10 file(s), 1000 B; stored 4 new file(s) (400 B), 600 B already stored"))
        #expect(reason.contains("retention removed 1 backup(s) and 3 unreferenced object(s)"))
        #expect(reason.contains("cleared 1 snapshot(s) left by an earlier run: cassandra-agent-old"))
    }

    @Test func anEmptySnapshotOfANodeWithDataIsAFailureAndTheSnapshotIsStillCleared() {
        var w = BackupWorkflow(plan: plan)
        _ = w.start()
        _ = w.handle(.gate(.open, now: 0))
        _ = w.handle(.leftoversCleared(cleared: [], failure: nil, now: 0))
        #expect(w.handle(.snapshotTaken(files: 0, liveSSTables: 5, now: 1)) == .clearSnapshot(tag: plan.tag))
        guard case .finish(.failed, let reason)? = w.handle(.snapshotCleared(ok: true, detail: "", now: 2)) else {
            Issue.record("expected a failure")
            return
        }
        #expect(reason.contains("holds no file while the node's data directories hold 5 SSTable(s)"))
        #expect(!w.manifestStored)
    }

    @Test func anEmptyNodeBacksUpNothingSuccessfully() {
        var w = BackupWorkflow(plan: plan)
        _ = w.start()
        _ = w.handle(.gate(.open, now: 0))
        _ = w.handle(.leftoversCleared(cleared: [], failure: nil, now: 0))
        #expect(w.handle(.snapshotTaken(files: 0, liveSSTables: 0, now: 1)) == .upload(tag: plan.tag))
    }

    @Test func aFailedUploadNeverAsksForTheManifestAndClearsTheSnapshot() {
        var w = BackupWorkflow(plan: plan)
        _ = w.start()
        _ = w.handle(.gate(.open, now: 0))
        _ = w.handle(.leftoversCleared(cleared: [], failure: nil, now: 0))
        _ = w.handle(.snapshotTaken(files: 3, liveSSTables: 1, now: 1))
        #expect(w.handle(.uploadFailed("SignatureDoesNotMatch", cancelled: false, now: 2)) == .clearSnapshot(tag: plan.tag))
        guard case .finish(.failed, let reason)? = w.handle(.snapshotCleared(ok: false, detail: "JMX down", now: 3)) else {
            Issue.record("expected a failure")
            return
        }
        #expect(reason.contains("upload failed: SignatureDoesNotMatch; no backup was recorded"))
        #expect(reason.contains("could not be cleared (JMX down); the next run clears it"))
    }

    @Test func cancelBeforeTheSnapshotEndsAtOnceAndABlackoutWaits() {
        var w = BackupWorkflow(plan: plan)
        _ = w.start()
        #expect(w.handle(.gate(.blackout(until: 500, entry: "SAT 18:00-23:59"), now: 0)) == .wait(until: 500))
        #expect(w.progress().step.contains("paused by the blackout"))
        #expect(w.handle(.timer(now: 500)) == .checkGate)
        guard case .finish(.cancelled, _)? = w.handle(.gate(.cancelled, now: 501)) else {
            Issue.record("expected cancelled")
            return
        }
        // Late events are ignored.
        #expect(w.handle(.manifestStored(now: 502)) == nil)
    }

    @Test func aSnapshotThatFailedIsClearedAnyway() {
        var w = BackupWorkflow(plan: plan)
        _ = w.start()
        _ = w.handle(.gate(.open, now: 0))
        _ = w.handle(.leftoversCleared(cleared: [], failure: "JMX down", now: 0))
        #expect(w.handle(.snapshotFailed("Snapshot exists", now: 1)) == .clearSnapshot(tag: plan.tag))
    }
}

struct BackupRetentionTests {
    typealias E = BackupRetention.Entry
    let day = 86_400.0

    @Test func theNewestCompleteBackupIsNeverDeletedEvenWhenEveryBackupIsOld() {
        let backups = [E(id: "a", completedAt: 0, damaged: false), E(id: "b", completedAt: day, damaged: false)]
        #expect(BackupRetention.expired(backups, now: 100 * day, retention: day, minimumCount: 1) == ["a"])
    }

    @Test func theMinimumCountCountsOnlyUndamagedBackups() {
        let backups = [E(id: "a", completedAt: 0, damaged: false), E(id: "b", completedAt: day, damaged: true), E(id: "c", completedAt: 2 * day, damaged: true)]
        // c is the newest (kept); b is damaged so a is kept to make the minimum of 1 good backup... and a second.
        #expect(BackupRetention.expired(backups, now: 100 * day, retention: day, minimumCount: 1) == ["b"])
        #expect(BackupRetention.expired(backups, now: 100 * day, retention: day, minimumCount: 2) == ["b"])
    }

    @Test func backupsWithinTheRetentionAreKept() {
        let backups = (0..<10).map { E(id: "b\($0)", completedAt: Double($0) * day, damaged: false) }
        #expect(BackupRetention.expired(backups, now: 10 * day, retention: 2.5 * day, minimumCount: 1) == ["b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"])
        #expect(BackupRetention.expired([], now: 0, retention: 1, minimumCount: 1) == [])
    }

    @Test func garbageCollectionSparesReferencedPendingAndYoungObjects() throws {
        let dir = TemporaryDirectory()
        let store = FileObjectStore(root: dir.path + "/dest")
        let repository = BackupRepository(store: store, host: "h1")
        func put(_ text: String) throws -> String {
            let file = dir.write("src-\(text)", text)
            return try store.storeFile(file, host: "h1", knownSHA256: nil, context: TransferContext()).sha256
        }
        let kept = try put("kept"), pending = try put("pending"), orphan = try put("orphan")
        let manifest = BackupManifest(id: "b1", hostID: "h1", host: "n", cassandraVersion: "4.1", agentVersion: "t", snapshotTag: "t", startedAt: 0, completedAt: 1,
                                      keyspaces: [], dataDirectories: [], tokens: [], cassandraYAML: nil,
                                      files: [.init(keyspace: "k", table: "t", tableDirectory: "t-1", dataDirectory: 0, path: "nb-1-big-Data.db", size: 4, sha256: kept)],
                                      storedBytes: 4, skippedBytes: 0)
        try store.put(BackupLayout.manifest("h1", "b1"), manifest.encoded())
        try repository.recordPending("b2", [pending], at: 0)
        let now = Date().timeIntervalSince1970
        // Young objects survive a grace period...
        #expect(try repository.applyRetention(now: now, retention: 1e9, minimumCount: 1, grace: 3600, running: "b2").objectsDeleted == 0)
        // ...and once it has passed, only the unreferenced one goes.
        let outcome = try repository.applyRetention(now: now + 7200, retention: 1e9, minimumCount: 1, grace: 3600, running: "b2")
        #expect(outcome.objectsDeleted == 1)
        #expect(try store.size(of: BackupLayout.object("h1", orphan)) == nil)
        #expect(try store.size(of: BackupLayout.object("h1", kept)) == 4)
        #expect(try store.size(of: BackupLayout.object("h1", pending)) == 7)
        #expect(repository.verify(manifest).isEmpty)
        // A corrupt object is found by re-reading it.
        _ = dir.write("dest/" + BackupLayout.object("h1", kept), "KEPT")
        #expect(repository.verify(manifest) == ["k.t/nb-1-big-Data.db: object \(kept) has SHA-256 \(SHA256.hex(Array("KEPT".utf8))): its content is not what was stored"])
    }
}

struct HMACTests {
    /// RFC 4231 test case 2 and the AWS Signature V4 signing-key example.
    @Test func hmacSHA256MatchesTheRFCVectors() {
        let mac = HMACSHA256.authenticate(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
        #expect(Hex.encode(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        let hasher = SHA256.Hasher()
        hasher.update(Array("ab".utf8))
        hasher.update(Array("c".utf8))
        #expect(hasher.finalHex() == SHA256.hex(Array("abc".utf8)))
    }
}

struct BackupSectionTests {
    func section(_ lines: String) -> String {
        desiredState(extra: "backup:\n  enabled: true\n  schedule: \"0 3 * * *\"\n" + lines)
    }

    @Test func theBackupKeysAreReadWithCassandrasDurationUnits() throws {
        let text = section("""
          retention: 36h
          minimumCount: 3
          destination: s3://cassandra-backups/prod/dc1
          bandwidth: 50MiB/s
          objectGrace: 2h
          keyspaces: [shop]
          s3: {endpoint: "http://10.0.0.9:9000", region: eu-west-1, credentialsFile: "credential:s3"}

        """)
        guard case .success(let validated) = validate(text), let backup = validated.state.backup else {
            Issue.record("\(errors(text))")
            return
        }
        #expect(backup.retentionSeconds == 36 * 3600)
        #expect(backup.minimumCount == 3)
        #expect(backup.target == .s3(bucket: "cassandra-backups", prefix: "prod/dc1"))
        #expect(backup.bandwidth == 50 << 20)
        #expect(backup.objectGrace == 7200)
        #expect(backup.keyspaces == ["shop"])
        #expect(backup.s3 == DesiredState.S3Settings(endpoint: "http://10.0.0.9:9000", region: "eu-west-1", credentialsFile: "credential:s3"))
    }

    @Test func badBackupKeysAreLocated() {
        let text = section("""
          retention: 2weeks
          minimumCount: 0
          destination: s3://B/x
          bandwidth: fast
          s3: {endpoint: "https://s3.eu-west-1.amazonaws.com", region: eu-west-1, credentialsFile: relative/path}

        """)
        let found = errors(text)
        #expect(found.contains { $0.contains("backup.retention '2weeks' is not a duration") })
        #expect(found.contains { $0.contains("backup.minimumCount must be from 1") })
        #expect(found.contains { $0.contains("'B' is not an S3 bucket name") })
        #expect(found.contains { $0.contains("backup.bandwidth 'fast' is not a rate") })
        #expect(found.contains { $0.contains("backup.s3.credentialsFile must be an absolute path or credential:NAME") }, "an https:// endpoint is valid; the relative path is not")
    }

    @Test func theSampledVerifyIsReadAndItsErrorsAreLocated() {
        let good = section("""
          retention: 2d
          destination: file:///backups
          verify: {schedule: "0 5 * * SUN", sample: 2.5%}

        """)
        guard case .success(let validated) = validate(good), let verify = validated.state.backup?.verify else {
            Issue.record("\(errors(good))")
            return
        }
        #expect(verify.samplePercent == 2.5)
        #expect(verify.schedule?.expression == "0 5 * * SUN")
        guard case .success(let afterEvery) = validate(section("  retention: 2d\n  destination: file:///b\n  verify: {sample: 10%}\n")) else {
            Issue.record("a verify without a schedule is valid (it follows every backup)")
            return
        }
        #expect(afterEvery.state.backup?.verify == SampledVerify.Settings(schedule: nil, samplePercent: 10))

        let bad = section("""
          retention: 2d
          destination: file:///backups
          verify:
            schedule: "every sunday"
            sample: 0%
            samples: 3

        """)
        #expect(errors(bad) == [
            "17:15: backup.verify.schedule: \(errorText("every sunday"))",
            "18:13: backup.verify.sample '0%' is not a percentage above 0% and at most 100% (e.g. 10% re-reads a tenth of the stored objects per run)",
            "19:5: unknown key 'samples' in backup.verify; did you mean 'sample'?",
        ])
        #expect(errors(section("  retention: 2d\n  destination: file:///b\n  verify: {schedule: \"0 5 * * *\"}\n")).contains { $0.contains("backup.verify") && $0.contains("sample") })
    }

    func errorText(_ cron: String) -> String {
        do {
            _ = try CronSchedule(parsing: cron)
            return "parsed"
        } catch {
            return error.message
        }
    }
}

struct SampledVerifyTests {
    let objects = (0..<200).map { SHA256.hex(Array("object \($0)".utf8)) }

    @Test func theSampleIsTheSameForTheSameSeedDiffersBetweenRunsAndHasTheAskedShare() {
        let a = SampledVerify.sample(objects, percent: 10, seed: SampledVerify.seed(host: "h1", run: "backup-1"))
        #expect(a.count == 20 && Set(a).count == 20 && Set(a).isSubset(of: Set(objects)))
        #expect(SampledVerify.sample(Array(objects.reversed()), percent: 10, seed: SampledVerify.seed(host: "h1", run: "backup-1")) == a, "the order the objects are listed in does not matter")
        #expect(SampledVerify.sample(objects, percent: 10, seed: SampledVerify.seed(host: "h1", run: "backup-2")) != a)
        #expect(SampledVerify.sample(objects, percent: 10, seed: SampledVerify.seed(host: "h2", run: "backup-1")) != a)
        #expect(SampledVerify.sample(objects, percent: 0.1, seed: 7).count == 1, "at least one object per run")
        #expect(Set(SampledVerify.sample(objects, percent: 100, seed: 7)) == Set(objects))
        #expect(SampledVerify.sample([], percent: 50, seed: 7).isEmpty)
        // Successive runs cover everything: 40 runs of 10 % leave (almost surely) nothing unread.
        var seen = Set<String>()
        for run in 0..<40 { seen.formUnion(SampledVerify.sample(objects, percent: 10, seed: SampledVerify.seed(host: "h1", run: "backup-\(run)"))) }
        #expect(seen.count >= 195, "\(seen.count) of 200")
    }
}
