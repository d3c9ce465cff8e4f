/// One backup run as a state machine: clear the agent's leftover snapshots,
/// snapshot under a unique tag, upload the snapshot's files content-addressed,
/// store the manifest (last: only then does the backup exist), clear the
/// snapshot, apply retention. It does no I/O and reads no clock: the times come
/// in with the events. `BackupService` performs the actions.
///
/// The invariants it holds: a snapshot it took is cleared whatever happens after
/// (failure, cancel); a backup that stores no file while the node holds SSTables
/// is a failure, never a success; the manifest is asked for only after every
/// file was stored.
public struct BackupWorkflow: Sendable, Equatable {
    public struct Plan: Sendable, Equatable {
        public var id: String
        public var tag: String
        /// Empty: every keyspace.
        public var keyspaces: [String]

        public init(id: String, tag: String, keyspaces: [String]) {
            self.id = id
            self.tag = tag
            self.keyspaces = keyspaces
        }
    }

    public enum Gate: Sendable, Equatable {
        case open
        case blackout(until: Double, entry: String)
        case disabled
        case cancelled
    }

    /// What an upload step stored.
    public struct Upload: Sendable, Equatable {
        public var files = 0
        public var bytes: Int64 = 0
        /// Files and bytes written to the destination (new content).
        public var storedFiles = 0
        public var storedBytes: Int64 = 0
        /// Bytes whose content the destination held already.
        public var skippedBytes: Int64 = 0

        public init() {}
    }

    public enum Event: Sendable, Equatable {
        case gate(Gate, now: Double)
        case leftoversCleared(cleared: [String], failure: String?, now: Double)
        /// The snapshot exists: how many files it holds, and how many live SSTables the node has in those keyspaces.
        case snapshotTaken(files: Int, liveSSTables: Int, now: Double)
        case snapshotFailed(String, now: Double)
        case uploaded(Upload, now: Double)
        case uploadFailed(String, cancelled: Bool, now: Double)
        case manifestStored(now: Double)
        case manifestFailed(String, now: Double)
        case snapshotCleared(ok: Bool, detail: String, now: Double)
        case retentionApplied(deleted: [String], objectsDeleted: Int, failure: String?, now: Double)
        case timer(now: Double)
    }

    public enum Action: Sendable, Equatable {
        case checkGate
        case clearLeftovers
        case snapshot(tag: String, keyspaces: [String])
        case upload(tag: String)
        case storeManifest(Upload)
        case clearSnapshot(tag: String)
        case applyRetention
        case wait(until: Double)
        case finish(JobResult, reason: String)
    }

    public enum Phase: Sendable, Equatable {
        case ready
        case gating
        case clearingLeftovers
        case snapshotting
        case uploading(since: Double)
        case storingManifest
        case clearingSnapshot
        case retaining
        case waiting(until: Double, why: String)
        case finished(JobResult)
    }

    public let plan: Plan
    public private(set) var phase: Phase = .ready
    public private(set) var snapshotTaken = false
    public private(set) var snapshotFiles = 0
    public private(set) var upload: Upload?
    public private(set) var uploadSeconds: Double?
    public private(set) var manifestStored = false
    /// Set once the run has failed or was cancelled: what the finish says after the snapshot is cleared.
    public private(set) var ending: (result: JobResult, reason: String)?
    public private(set) var warnings: [String] = []
    public private(set) var retentionDeleted: [String] = []

    public init(plan: Plan) {
        self.plan = plan
    }

    public static func == (a: BackupWorkflow, b: BackupWorkflow) -> Bool {
        a.plan == b.plan && a.phase == b.phase && a.snapshotTaken == b.snapshotTaken && a.upload == b.upload
            && a.manifestStored == b.manifestStored && a.ending?.result == b.ending?.result && a.ending?.reason == b.ending?.reason
            && a.warnings == b.warnings
    }

    public mutating func start() -> Action {
        phase = .gating
        return .checkGate
    }

    public mutating func handle(_ event: Event) -> Action? {
        switch (phase, event) {
        case (.gating, .gate(let gate, _)):
            return gated(gate)
        case (.waiting, .timer):
            phase = .gating
            return .checkGate
        case (.clearingLeftovers, .leftoversCleared(let cleared, let failure, _)):
            if let failure { warnings.append("leftover snapshots could not be cleared: \(failure)") }
            if !cleared.isEmpty { warnings.append("cleared \(cleared.count) snapshot(s) left by an earlier run: \(cleared.joined(separator: ", "))") }
            phase = .snapshotting
            return .snapshot(tag: plan.tag, keyspaces: plan.keyspaces)
        case (.snapshotting, .snapshotFailed(let reason, _)):
            // A failed snapshot may still have left files behind: clear the tag anyway.
            snapshotTaken = true
            return fail("nodetool snapshot failed: \(reason)")
        case (.snapshotting, .snapshotTaken(let files, let live, let now)):
            snapshotTaken = true
            snapshotFiles = files
            if files == 0 && live > 0 {
                return fail("the snapshot \(plan.tag) holds no file while the node's data directories hold \(live) SSTable(s) of \(keyspaceText): the data directories the agent reads (data_file_directories) are not the ones Cassandra writes, or the snapshot went elsewhere; nothing was stored")
            }
            phase = .uploading(since: now)
            return .upload(tag: plan.tag)
        case (.uploading(let since), .uploaded(let result, let now)):
            uploadSeconds = now - since
            upload = result
            if result.files == 0 && snapshotFiles > 0 {
                return fail("the snapshot \(plan.tag) held \(snapshotFiles) file(s) but none was stored")
            }
            phase = .storingManifest
            return .storeManifest(result)
        case (.uploading, .uploadFailed(let reason, let cancelled, _)):
            if cancelled { return end(.cancelled, "cancelled by an operator while uploading; no backup was recorded and the snapshot was cleared") }
            return fail("upload failed: \(reason); no backup was recorded (objects already stored are reused by the next run)")
        case (.storingManifest, .manifestStored):
            manifestStored = true
            phase = .clearingSnapshot
            return .clearSnapshot(tag: plan.tag)
        case (.storingManifest, .manifestFailed(let reason, _)):
            return fail("the manifest could not be stored: \(reason); the backup does not exist")
        case (.clearingSnapshot, .snapshotCleared(let ok, let detail, _)):
            if !ok { warnings.append("the snapshot \(plan.tag) could not be cleared (\(detail)); the next run clears it") }
            if let ending { return finish(ending.result, ending.reason) }
            phase = .retaining
            return .applyRetention
        case (.retaining, .retentionApplied(let deleted, let objects, let failure, _)):
            retentionDeleted = deleted
            if let failure { warnings.append("retention could not finish: \(failure); the next run finishes it") }
            var reason = summary()
            if !deleted.isEmpty || objects > 0 { reason += "; retention removed \(deleted.count) backup(s) and \(objects) unreferenced object(s)" }
            return finish(.succeeded, reason)
        default:
            return nil
        }
    }

    var keyspaceText: String { plan.keyspaces.isEmpty ? "every keyspace" : plan.keyspaces.joined(separator: ", ") }

    mutating func gated(_ gate: Gate) -> Action {
        switch gate {
        case .cancelled:
            return end(.cancelled, "cancelled by an operator before the snapshot")
        case .disabled:
            return end(.cancelled, "backup was disabled in the desired state (backup.enabled: false) before the snapshot")
        case .blackout(let until, let entry):
            phase = .waiting(until: until, why: "paused by the blackout \(entry) until \(Timestamp.iso8601(Int64(until)))")
            return .wait(until: until)
        case .open:
            phase = .clearingLeftovers
            return .clearLeftovers
        }
    }

    func summary() -> String {
        let u = upload ?? Upload()
        return "backup \(plan.id) of \(keyspaceText): \(u.files) file(s), \(ByteText.format(u.bytes)); stored \(u.storedFiles) new file(s) (\(ByteText.format(u.storedBytes))), \(ByteText.format(u.skippedBytes)) already stored"
    }

    mutating func fail(_ reason: String) -> Action {
        end(.failed, reason)
    }

    mutating func end(_ result: JobResult, _ reason: String) -> Action {
        ending = (result, reason)
        if snapshotTaken {
            phase = .clearingSnapshot
            return .clearSnapshot(tag: plan.tag)
        }
        return finish(result, reason)
    }

    mutating func finish(_ result: JobResult, _ reason: String) -> Action {
        phase = .finished(result)
        let text = ([reason] + warnings).joined(separator: "; ")
        return .finish(result, reason: text)
    }

    public func progress() -> JobProgress {
        let step: String
        switch phase {
        case .ready, .gating: step = "starting"
        case .clearingLeftovers: step = "clearing snapshots left by earlier runs"
        case .snapshotting: step = "taking the snapshot \(plan.tag)"
        case .uploading: step = "uploading the snapshot \(plan.tag)"
        case .storingManifest: step = "storing the manifest of \(plan.id)"
        case .clearingSnapshot: step = "clearing the snapshot \(plan.tag)"
        case .retaining: step = "applying retention"
        case .waiting(_, let why): step = why
        case .finished(let result): step = "finished: \(result.rawValue)"
        }
        var progress = JobProgress(step: step)
        progress.keyspace = plan.keyspaces.isEmpty ? nil : plan.keyspaces.joined(separator: ",")
        progress.backupID = plan.id
        progress.snapshotTag = plan.tag
        return progress
    }
}

/// Byte counts as people read them: 1536 -> "1.5 KiB".
public enum ByteText {
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let rounded = (value * 10).rounded() / 10
        return "\(rounded) \(units[unit])"
    }
}
