import CAgentShims
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle

/// Scheduled and on-demand backups: the thin service around `BackupWorkflow`.
/// It decides when a run is due (`RunSchedule`), takes the node from
/// `NodeLease` (the snapshot and the upload are steps), performs the workflow's
/// actions with nodetool and the destination, journals the run before every
/// step, and publishes its `JobSnapshot` and the backup list.
public actor BackupService: Service {
    public static let agentVersion = "0.1.0"

    public struct Dependencies: Sendable {
        public var configuration: AgentConfiguration
        public var clock: any WallClock
        public var runner: any ProcessRunner
        public var lease: NodeLease
        public var desiredState: @Sendable () -> DesiredState?
        public var hostID: @Sendable () -> String?
        /// The node's tokens as observation last read them (`info -T`); empty: read them for the manifest.
        public var tokens: @Sendable () -> [String]
        public var snapshot: Published<JobSnapshot>
        public var listing: Published<BackupListing>
        public var logger: Logger
        /// The destination of a backup section (the test seam is the store, not the filesystem).
        public var makeStore: @Sendable (DesiredState.Backup) throws(BackupError) -> any BackupObjectStore

        public init(configuration: AgentConfiguration, clock: any WallClock, runner: any ProcessRunner, lease: NodeLease,
                    desiredState: @escaping @Sendable () -> DesiredState?, hostID: @escaping @Sendable () -> String?,
                    tokens: @escaping @Sendable () -> [String] = { [] },
                    snapshot: Published<JobSnapshot>, listing: Published<BackupListing>, logger: Logger,
                    makeStore: (@Sendable (DesiredState.Backup) throws(BackupError) -> any BackupObjectStore)? = nil) {
            self.configuration = configuration
            self.clock = clock
            self.runner = runner
            self.lease = lease
            self.desiredState = desiredState
            self.hostID = hostID
            self.tokens = tokens
            self.snapshot = snapshot
            self.listing = listing
            self.logger = logger
            if let makeStore {
                self.makeStore = makeStore
            } else {
                let stateDirectory = configuration.stateDirectory
                self.makeStore = { (backup: DesiredState.Backup) throws(BackupError) -> any BackupObjectStore in
                    try BackupStores.make(backup, stateDirectory: stateDirectory, environment: ProcessEnvironment.current())
                }
            }
        }
    }

    let deps: Dependencies
    let store: JobHistoryStore
    var history = JobHistory()
    nonisolated let wake = Doorbell()
    nonisolated let interrupt = Doorbell()
    nonisolated let cancelFlag = Published(false)
    nonisolated let stopFlag = Published(false)
    var stopping: Bool { stopFlag.value }
    var manual: (run: JobRunRecord, keyspaces: [String])?
    var retry: JobRunRecord?
    var running: JobRunRecord?
    var listedDestination: String?
    /// Whether `deps.listing` was read from the destination in force (a failed read leaves it empty).
    var listingLoaded = false
    /// True while no snapshot of the agent's can be on the node: the start-up clear found none
    /// left (or cleared them), and every run since cleared its own. A run then skips listing the
    /// node's snapshots (one nodetool run less for every backup); any doubt lists them again.
    var snapshotsKnownClear = false
    /// The sampled verify's last slot and report (`<stateDirectory>/backup/verify.json`).
    var verifyJournal = VerifyJournal()
    /// Set by a backup asked for by hand: a sampled verify in progress stops for it.
    nonisolated let backupRequested = Published(false)
    nonisolated let uploadProgress = Published<(files: Int, bytes: Int64)>((0, 0))

    public init(_ dependencies: Dependencies) {
        deps = dependencies
        store = JobHistoryStore(stateDirectory: dependencies.configuration.stateDirectory)
    }

    // MARK: requests

    public func start(keyspaces: [String]) async -> Result<String, NodeLease.Busy> {
        guard let desired = deps.desiredState() else { return .failure(.init(message: "no desired state is in force yet")) }
        guard let backup = desired.backup, backup.enabled else {
            return .failure(.init(message: "backup is disabled in the desired state (backup.enabled is not true)"))
        }
        let now = deps.clock.now()
        if let until = BlackoutCheck.activeUntil(desired.blackouts, at: now) {
            return .failure(.init(message: "a blackout holds every job until \(Timestamp.iso8601(Int64(until.end))) (\(until.entry))"))
        }
        if let running { return .failure(.init(message: "a backup is already running: \(running.id)")) }
        if manual != nil { return .failure(.init(message: "a backup was already requested and is about to start")) }
        let run = JobRunRecord(id: uniqueID(at: now), kind: .backup, trigger: .manual, startedAt: now)
        if let busy = await deps.lease.tryBeginJob(.backup, runID: run.id, reconcileBetweenSteps: true) { return .failure(busy) }
        manual = (run, keyspaces)
        backupRequested.update { $0 = true }
        wake.ring()
        return .success("backup \(run.id) started")
    }

    public func cancel() -> Bool {
        guard running != nil else { return false }
        cancelFlag.update { $0 = true }
        interrupt.ring()
        return true
    }

    public nonisolated func desiredStateChanged() { wake.ring() }

    /// Backup ids are the start time to the second; a second run in the same second gets a suffix.
    func uniqueID(at now: Double) -> String {
        let base = JobID.make(.backup, at: now)
        let used = Set(history.runs.map(\.id) + [history.current?.id].compactMap { $0 } + deps.listing.value.backups.map(\.id))
        var id = base
        var n = 1
        while used.contains(id) {
            id = "\(base)-\(n)"
            n += 1
        }
        return id
    }

    // MARK: the loop

    public func run() async throws {
        let (loaded, problem) = store.load(.backup)
        history = loaded
        if let problem { deps.logger.error("backup history unreadable", metadata: ["reason": "job.history_unreadable", "error": "\(problem)"]) }
        if let cut = history.recover(at: deps.clock.now()) {
            deps.logger.warning("a backup was cut short by a stop of the agent", metadata: ["reason": "job.interrupted", "run": "\(cut.id)"])
            retry = cut
            save()
        }
        verifyJournal = VerifyJournal.load(deps.configuration.stateDirectory)
        deps.snapshot.update { $0.verify = verifyJournal.last }
        publish(state: .idle)
        await withGracefulShutdownHandler {
            await self.startUp()
            await loop()
        } onGracefulShutdown: {
            self.stopFlag.update { $0 = true }
            self.cancelFlag.update { $0 = true }
            self.interrupt.ring()
            self.wake.ring()
        }
    }

    /// A crash can leave the agent's snapshot behind: clear it before it fills the data disk.
    func startUp() async {
        var found = deps.desiredState()
        if found == nil { found = await waitForDesiredState() }
        guard let desired = found, desired.backup != nil else { return }
        listedDestination = desired.backup?.target?.description
        await refreshListing(desired)
        let nodetool = nodetoolClient(desired)
        let cleared = await clearLeftovers(nodetool, except: nil)
        snapshotsKnownClear = cleared.failure == nil
        if let failure = cleared.failure {
            deps.logger.warning("cannot clear the agent's leftover snapshots at start-up", metadata: ["reason": "backup.leftover_snapshot", "error": "\(failure)"])
        } else if !cleared.cleared.isEmpty {
            deps.logger.notice("cleared snapshots left by an earlier run", metadata: ["reason": "backup.leftover_snapshot", "tags": "\(cleared.cleared.joined(separator: ","))"])
        }
    }

    func waitForDesiredState() async -> DesiredState? {
        // The reconcile loop installs the first desired state shortly after start.
        for _ in 0..<50 where !stopping {
            if let desired = deps.desiredState() { return desired }
            await wake.wait(until: deps.clock.now() + 0.2, clock: deps.clock)
        }
        return nil
    }

    func loop() async {
        while !stopping && !Task.isCancelled {
            let now = deps.clock.now()
            if let request = manual {
                manual = nil
                backupRequested.update { $0 = false }
                await execute(request.run, keyspaces: request.keyspaces, leaseHeld: true)
                continue
            }
            guard let desired = deps.desiredState(), let backup = desired.backup, backup.enabled else {
                publish(state: .disabled, reason: deps.desiredState() == nil ? "no desired state is in force yet" : "backup.enabled is not true in the desired state")
                await wake.wait(until: .infinity, clock: deps.clock)
                continue
            }
            if history.trackedSince == nil {
                history.trackedSince = now
                history.lastSlot = history.lastSlot ?? now
                save()
            }
            // A new destination: the list shows its backups, not the old one's.
            if listedDestination != backup.target?.description {
                listedDestination = backup.target?.description
                await refreshListing(desired)
            }
            let blackout = BlackoutCheck.activeUntil(desired.blackouts, at: now)
            if let cut = retry, blackout == nil {
                retry = nil
                let run = JobRunRecord(id: uniqueID(at: now), kind: .backup, trigger: .resume, startedAt: now, resumes: cut.id)
                await execute(run, keyspaces: [], leaseHeld: false)
                continue
            }
            // A scheduled sampled verify: due now, or the time the loop must wake for it.
            var verifyWake = Double.infinity
            if let verify = backup.verify, let cron = verify.schedule {
                if verifyJournal.lastSlot == nil {
                    verifyJournal.lastSlot = now
                    verifyJournal.save(deps.configuration.stateDirectory)
                }
                switch RunSchedule(cron: cron, zone: backup.timeZone, missedRunGrace: backup.missedRunGrace).decide(now: now, lastSlot: verifyJournal.lastSlot) {
                case .run(let slot, _):
                    if let blackout {
                        verifyWake = blackout.end
                    } else {
                        await sampledVerify(desired, backup, run: "slot-\(Int64(slot))", slot: slot)
                        continue
                    }
                case .wait(let until, _):
                    verifyWake = until
                case .never:
                    break
                }
            }
            guard let cron = backup.schedule else {
                publish(state: .idle)
                await wake.wait(until: verifyWake, clock: deps.clock)
                continue
            }
            let schedule = schedule(for: backup, cron: cron, now: now)
            switch schedule.decide(now: now, lastSlot: history.lastSlot) {
            case .run(let slot, let missed):
                if let blackout {
                    publish(state: .blackout, reason: "the blackout \(blackout.entry) holds the run due at \(Timestamp.iso8601(Int64(slot))) until \(Timestamp.iso8601(Int64(blackout.end)))", next: blackout.end)
                    await wake.wait(until: min(blackout.end, verifyWake), clock: deps.clock)
                    continue
                }
                let run = JobRunRecord(id: uniqueID(at: now), kind: .backup, trigger: missed ? .missed : .schedule, startedAt: now, slot: slot)
                await execute(run, keyspaces: [], leaseHeld: false)
            case .wait(let until, _):
                publish(state: blackout == nil ? .idle : .blackout, reason: blackout.map { "inside the blackout \($0.entry) until \(Timestamp.iso8601(Int64($0.end)))" }, next: until, splay: schedule.splaySeconds)
                await wake.wait(until: min(until, verifyWake), clock: deps.clock)
            case .never:
                publish(state: .idle, reason: "the schedule \(cron.expression) never fires again")
                await wake.wait(until: verifyWake, clock: deps.clock)
            }
        }
    }

    func schedule(for backup: DesiredState.Backup, cron: CronSchedule, now: Double) -> RunSchedule {
        let splay = Splay.offset(hostID: deps.hostID() ?? deps.configuration.desiredState, kind: .backup, window: backup.splaySeconds, cron: cron, zone: backup.timeZone, now: now)
        return RunSchedule(cron: cron, zone: backup.timeZone, splaySeconds: splay, missedRunGrace: backup.missedRunGrace)
    }

    func nodetoolClient(_ desired: DesiredState) -> NodetoolClient {
        NodetoolClient(prefix: deps.configuration.nodetool, runner: deps.runner, version: desired.cassandraVersion, timeout: deps.configuration.nodetoolTimeout)
    }

    // MARK: one run

    func execute(_ planned: JobRunRecord, keyspaces: [String], leaseHeld: Bool) async {
        var run = planned
        cancelFlag.update { $0 = false }
        interrupt.reset()
        defer { running = nil }
        running = run
        if !leaseHeld {
            let busy = await deps.lease.busyMessage(for: .backup)
            publish(state: .queued, reason: busy?.message)
            guard await deps.lease.queue(.backup, runID: run.id, reconcileBetweenSteps: true, until: interrupt) else { return }
            if stopping || Task.isCancelled { await deps.lease.endJob(run.id); return }
            run.startedAt = deps.clock.now()
            running = run
        }
        history.start(run)
        save()
        publish(state: .running)
        deps.logger.notice("backup started", metadata: ["reason": "backup.started", "run": "\(run.id)", "trigger": "\(run.trigger.rawValue)"])
        await perform(run, keyspaces: keyspaces)
        await deps.lease.endJob(run.id)
        running = nil
        publish(state: .idle)
        // Without a schedule of its own, the sampled verify follows every successful backup
        // (after the node is let go: it reads only the destination).
        if let desired = deps.desiredState(), let backup = desired.backup, let verify = backup.verify, verify.schedule == nil,
           history.lastRun?.id == run.id, history.lastRun?.result == .succeeded, !stopping {
            await sampledVerify(desired, backup, run: run.id, slot: nil)
        }
    }

    /// Re-reads a sample of the complete backups' objects; records and publishes what it found.
    func sampledVerify(_ desired: DesiredState, _ backup: DesiredState.Backup, run label: String, slot: Double?) async {
        guard let settings = backup.verify else { return }
        var found = deps.hostID()
        if found == nil { found = try? await nodetoolClient(desired).info().hostID }
        guard let host = found else { return }
        let now = deps.clock.now()
        let seed = SampledVerify.seed(host: host, run: label)
        let make = deps.makeStore
        let stop = stopFlag, requested = backupRequested
        let report = await blocking { () -> SampledVerify.Report in
            do throws(BackupError) {
                let repository = BackupRepository(store: try make(backup), host: host)
                return try repository.sampledVerify(percent: settings.samplePercent, seed: seed, at: now,
                                                    context: TransferContext(cancelled: { stop.value || requested.value }))
            } catch {
                var failed = SampledVerify.Report(at: now)
                failed.failure = error.message
                return failed
            }
        }
        if let slot { verifyJournal.lastSlot = slot }
        verifyJournal.last = report
        verifyJournal.save(deps.configuration.stateDirectory)
        // The marks first, then the report: whoever sees the report sees the damaged backups too.
        await refreshListing(desired)
        deps.snapshot.update { $0.verify = report }
        if report.damaged.isEmpty && report.failure == nil {
            deps.logger.info("sampled verify: intact", metadata: ["reason": "backup.verified", "objects": "\(report.sampled)/\(report.objects)"])
        } else {
            deps.logger.error("sampled verify found damage", metadata: ["reason": report.failure == nil ? "backup.damaged" : "backup.verify_failed",
                                                                         "backups": "\(report.damaged.joined(separator: ","))", "detail": "\(report.failure ?? report.problems.joined(separator: "; "))"])
        }
    }

    func perform(_ run: JobRunRecord, keyspaces requested: [String]) async {
        guard let desired = deps.desiredState(), let backup = desired.backup else {
            return finish(.cancelled, "the desired state no longer has a backup section", upload: nil)
        }
        let repository: BackupRepository
        let nodetool = nodetoolClient(desired)
        let hostID: String
        // The host ID observation last read (it never changes for a node); nodetool only before the first observation.
        if let observed = deps.hostID() {
            hostID = observed
        } else {
            do {
                hostID = try await nodetool.info().hostID
            } catch {
                return finish(.failed, "cannot read the node's host ID (nodetool info): \(error.description)", upload: nil)
            }
        }
        do {
            let store = try deps.makeStore(backup)
            try await blocking { () throws(BackupError) in try store.checkWritable() }
            repository = BackupRepository(store: store, host: hostID)
        } catch {
            return finish(.failed, error.message, upload: nil)
        }
        let keyspaces = requested.isEmpty ? backup.keyspaces : requested
        let tag = "cassandra-agent-" + run.id.dropFirst("backup-".count)
        let plan = BackupWorkflow.Plan(id: run.id, tag: tag, keyspaces: keyspaces)
        let dataDirectories = SnapshotFiles.dataDirectories(desired)
        var workflow = BackupWorkflow(plan: plan)
        var files: [SnapshotFile] = []
        var uploaded: BackupUploader.Result?
        var tokens: Task<[String], Never>?
        // A run that ends before its manifest (a failure, a cancel) leaves no nodetool behind.
        defer { tokens?.cancel() }
        var retention: BackupWorkflow.Event?
        var clearing: Task<BackupWorkflow.Event, Never>?
        var storedManifest: BackupManifest?
        var retentionFailed = false
        var action: BackupWorkflow.Action? = workflow.start()
        while let next = action {
            journal(workflow, persist: Self.persistsStep(before: next, snapshotsKnownClear: snapshotsKnownClear, retentionDone: retention != nil))
            let event: BackupWorkflow.Event
            switch next {
            case .finish(let result, let reason):
                // After a backup whose retention ran to its end, the listing read from this destination
                // gains the manifest and loses what retention deleted; anything else reads it all again.
                let updated = result == .succeeded && !retentionFailed && listedDestination == backup.target?.description
                    ? await updateListing(storing: storedManifest, deleted: workflow.retentionDeleted, repository) : false
                if !updated { await refreshListing(desired) }
                return finish(result, reason, upload: workflow.upload, seconds: workflow.uploadSeconds)
            case .checkGate:
                event = .gate(gate(), now: deps.clock.now())
            case .wait(let until):
                await interrupt.wait(until: until, clock: deps.clock, or: wake)
                event = .timer(now: max(until, deps.clock.now()))
            case .clearLeftovers:
                if snapshotsKnownClear {
                    event = .leftoversCleared(cleared: [], failure: nil, now: deps.clock.now())
                } else {
                    let cleared = await clearLeftovers(nodetool, except: tag)
                    snapshotsKnownClear = cleared.failure == nil
                    event = .leftoversCleared(cleared: cleared.cleared, failure: cleared.failure, now: deps.clock.now())
                }
            case .snapshot(let tag, let keyspaces):
                await deps.lease.beginStep(run.id, "snapshot \(tag)")
                snapshotsKnownClear = false
                do {
                    _ = try await nodetool.snapshot(tag: tag, keyspaces: keyspaces)
                    // The tokens go into the manifest: observation's (a node's tokens change only when it
                    // moves, bootstraps or leaves, none of which runs beside a backup), else read while
                    // the files upload. For an unchanged backup, whose upload is a few stat calls, that
                    // nodetool run was a third of its time.
                    let observed = deps.tokens()
                    tokens = Task { observed.isEmpty ? await Self.tokens(nodetool) : observed }
                    files = SnapshotFiles.find(tag: tag, dataDirectories: dataDirectories, keyspaces: keyspaces)
                    let live = SnapshotFiles.liveSSTables(dataDirectories: dataDirectories, keyspaces: keyspaces)
                    event = .snapshotTaken(files: files.count, liveSSTables: live, now: deps.clock.now())
                } catch {
                    event = .snapshotFailed(error.description, now: deps.clock.now())
                }
                await deps.lease.endStep(run.id)
            case .upload:
                await deps.lease.beginStep(run.id, "upload \(tag)")
                let total = files.reduce(Int64(0)) { $0 + Int64(FileIO.status($1.path)?.st_size ?? 0) }
                uploadProgress.update { $0 = (0, 0) }
                progressTotals = (files.count, total)
                journal(workflow)
                let uploader = BackupUploader(repository: repository, stateDirectory: deps.configuration.stateDirectory)
                let cancelled = cancelFlag
                let progress = uploadProgress
                let context = TransferContext(cancelled: { cancelled.value }, limiter: backup.bandwidth.map { ByteRateLimiter(bytesPerSecond: $0) },
                                              progress: { bytes in progress.update { $0.bytes += bytes } })
                let yaml = deps.configuration.cassandraConfigDirectory + "/cassandra.yaml"
                let snapshotFiles = files
                let now = deps.clock.now()
                // The upload runs on a thread of its own; a sibling task publishes its progress meanwhile.
                let outcome = await withTaskGroup(of: Result<BackupUploader.Result, BackupError>?.self) { group in
                    group.addTask {
                        do throws(BackupError) {
                            return .success(try await self.blocking { () throws(BackupError) in
                                try IOPriority.idle()
                                return try uploader.upload(snapshotFiles, backupID: run.id, cassandraYAML: yaml, now: now, context: context) { done, _ in
                                    progress.update { $0.files = done }
                                }
                            })
                        } catch {
                            return .failure(error)
                        }
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .milliseconds(500))
                            await self.journalProgress()
                        }
                        return nil
                    }
                    var result: Result<BackupUploader.Result, BackupError>?
                    for await finished in group where finished != nil {
                        result = finished
                        group.cancelAll()
                    }
                    return result!
                }
                switch outcome {
                case .success(let result):
                    uploaded = result
                    event = .uploaded(result.upload, now: deps.clock.now())
                case .failure(let error):
                    event = .uploadFailed(error.message, cancelled: cancelFlag.value, now: deps.clock.now())
                }
                progressTotals = nil
                await deps.lease.endStep(run.id)
            case .storeManifest:
                // Every file is stored: the snapshot is not needed any more, whatever becomes of the
                // manifest, so Cassandra clears it while the manifest is written; the workflow's
                // clearSnapshot step then collects the result.
                let clock = deps.clock
                clearing = Task { await Self.clearSnapshot(nodetool, tag: tag, clock: clock) }
                let nodeTokens = await tokens?.value ?? []
                let manifest = BackupManifest(
                    id: run.id, hostID: hostID, host: AgentDaemon.hostName(), cassandraVersion: desired.cassandraVersion.rawValue, agentVersion: Self.agentVersion,
                    snapshotTag: tag, startedAt: run.startedAt, completedAt: deps.clock.now(), keyspaces: keyspaces, dataDirectories: dataDirectories,
                    tokens: nodeTokens, cassandraYAML: uploaded?.cassandraYAML, files: uploaded?.entries ?? [],
                    storedBytes: uploaded?.upload.storedBytes ?? 0, skippedBytes: uploaded?.upload.skippedBytes ?? 0)
                do {
                    try await blocking { () throws(BackupError) in
                        try repository.store.put(BackupLayout.manifest(hostID, run.id), manifest.encoded())
                        try? repository.clearPending(run.id)
                    }
                    storedManifest = manifest
                    event = .manifestStored(now: deps.clock.now())
                } catch {
                    event = .manifestFailed(error.message, now: deps.clock.now())
                }
            case .clearSnapshot(let tag):
                // Once the manifest is stored, retention needs nothing from the node: it runs while
                // Cassandra clears the snapshot, and its event is handed in when the workflow asks for it.
                async let retained: BackupWorkflow.Event? = workflow.manifestStored
                    ? Self.retain(repository, backup, running: run.id, clock: deps.clock) : nil
                let clock = deps.clock
                let cleared = clearing ?? Task { await Self.clearSnapshot(nodetool, tag: tag, clock: clock) }
                clearing = nil
                event = await cleared.value
                if case .snapshotCleared(true, _, _) = event { snapshotsKnownClear = true }
                retention = await retained
            case .applyRetention:
                if let done = retention {
                    event = done
                } else {
                    event = await Self.retain(repository, backup, running: run.id, clock: deps.clock)
                }
                // Retention deletes manifests before it fails: what it reports deleted may be short.
                if case .retentionApplied(_, _, _?, _) = event { retentionFailed = true }
            }
            guard let following = workflow.handle(event) else {
                return finish(.failed, "the backup workflow could not continue from \(workflow.phase) (an internal error; please report it)", upload: nil)
            }
            action = following
        }
    }

    var progressTotals: (files: Int, bytes: Int64)?

    /// Retention and garbage collection of the destination (it never touches the node).
    static func retain(_ repository: BackupRepository, _ backup: DesiredState.Backup, running id: String, clock: any WallClock) async -> BackupWorkflow.Event {
        let now = clock.now()
        let retention = Double(backup.retentionSeconds ?? Int.max / 2)
        do {
            let outcome = try await BlockingIO.run { () throws(BackupError) in
                try repository.applyRetention(now: now, retention: retention, minimumCount: backup.minimumCount, grace: backup.objectGrace, running: id)
            }
            return .retentionApplied(deleted: outcome.deleted, objectsDeleted: outcome.objectsDeleted, failure: nil, now: clock.now())
        } catch {
            return .retentionApplied(deleted: [], objectsDeleted: 0, failure: error.message, now: clock.now())
        }
    }

    /// `nodetool clearsnapshot -t TAG`, as the workflow's event.
    static func clearSnapshot(_ nodetool: NodetoolClient, tag: String, clock: any WallClock) async -> BackupWorkflow.Event {
        do {
            try await nodetool.clearSnapshot(tag: tag)
            return .snapshotCleared(ok: true, detail: "", now: clock.now())
        } catch {
            return .snapshotCleared(ok: false, detail: error.description, now: clock.now())
        }
    }

    /// The node's tokens (`nodetool info -T`); empty when they cannot be read.
    static func tokens(_ nodetool: NodetoolClient) async -> [String] {
        (try? await nodetool.info(tokens: true))?.tokens ?? []
    }

    func journalProgress() {
        guard var current = history.current, var progress = current.progress, let totals = progressTotals else { return }
        let done = uploadProgress.value
        progress.files = totals.files
        progress.bytes = totals.bytes
        progress.filesDone = done.files
        progress.bytesDone = done.bytes
        current.progress = progress
        history.current = current
        publish(state: .running)
    }

    func clearLeftovers(_ nodetool: NodetoolClient, except tag: String?) async -> (cleared: [String], failure: String?) {
        let names: [String]
        do {
            names = try await nodetool.listSnapshots().names.filter { $0.hasPrefix("cassandra-agent-") && $0 != tag }
        } catch {
            return ([], error.description)
        }
        var cleared: [String] = []
        for name in names {
            do {
                try await nodetool.clearSnapshot(tag: name)
                cleared.append(name)
            } catch {
                return (cleared, error.description)
            }
        }
        return (cleared, nil)
    }

    func gate() -> BackupWorkflow.Gate {
        if cancelFlag.value || stopping { return .cancelled }
        guard let desired = deps.desiredState(), let backup = desired.backup, backup.enabled else { return .disabled }
        if let blackout = BlackoutCheck.activeUntil(desired.blackouts, at: deps.clock.now()) {
            return .blackout(until: blackout.end, entry: blackout.entry)
        }
        return .open
    }

    /// The listing after a backup stored `manifest` and retention deleted `deleted`, with the
    /// damage marks read again (`backup verify` in a CLI process sets and clears them), but
    /// without reading and decoding every manifest back (thousands of files each on a real
    /// node, after every run). False when the listing was never read from this destination
    /// or the marks cannot be read: then it must be read whole.
    func updateListing(storing manifest: BackupManifest?, deleted: [String], _ repository: BackupRepository) async -> Bool {
        guard let manifest, listingLoaded, deps.listing.value.error == nil else { return false }
        guard let marks = await blocking({ () -> [String: String]? in try? repository.damaged() }) else { return false }
        deps.listing.update { $0 = $0.after(storing: manifest, deleting: deleted, damaged: marks) }
        let listing = deps.listing.value
        deps.snapshot.update {
            $0.newestBackupAt = max($0.newestBackupAt ?? 0, manifest.completedAt)
            $0.damagedBackups = listing.damagedFirstLines
        }
        return true
    }

    func refreshListing(_ desired: DesiredState) async {
        guard let backup = desired.backup else { return }
        let host: String? = deps.hostID()
        let nodetool = nodetoolClient(desired)
        var hostID = host
        if hostID == nil { hostID = try? await nodetool.info().hostID }
        // Not read: the next backup reads it whole rather than adding to an empty list.
        listingLoaded = false
        guard let hostID else { return }
        let make = deps.makeStore
        let (listing, newest) = await blocking { () -> (BackupListing, Double?) in
            do throws(BackupError) {
                let repository = BackupRepository(store: try make(backup), host: hostID)
                let listing = repository.listing()
                let damaged = Set(listing.backups.filter { $0.damaged != nil }.map(\.id))
                let newest = (try? repository.manifests())?.filter { !damaged.contains($0.id) }.last?.completedAt
                return (listing, newest)
            } catch {
                return (BackupListing(error: error.message), nil)
            }
        }
        deps.listing.update { $0 = listing }
        listingLoaded = listing.error == nil
        deps.snapshot.update {
            $0.newestBackupAt = newest
            $0.damagedBackups = listing.damagedFirstLines
        }
    }

    /// Runs a blocking body (file I/O on the destination) on a thread of its own.
    nonisolated func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(BackupError) -> T) async throws(BackupError) -> T {
        try await BlockingIO.run(body)
    }

    nonisolated func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await BlockingIO.run(body)
    }

    // MARK: journal and snapshot

    /// Publishes the run's step and, with `persist`, writes it to the journal (fsynced).
    func journal(_ workflow: BackupWorkflow, persist: Bool = true) {
        guard history.current != nil else { return }
        var progress = workflow.progress()
        if let totals = progressTotals {
            progress.files = totals.files
            progress.bytes = totals.bytes
        }
        history.current?.progress = progress
        if persist { save() }
        publish(state: .running)
    }

    /// Whether the step an action starts is written to the journal before it runs. The
    /// journal says which step a crash interrupted ("cut short during ..."), so a step that
    /// waits on nodetool, the destination or the clock is written; one that decides in
    /// memory is not: the run itself was journalled when it began, and a crash in a step
    /// of microseconds shows as the step before it. That is four fsynced writes fewer in
    /// an unchanged backup, whose whole budget is a few dozen milliseconds.
    static func persistsStep(before action: BackupWorkflow.Action, snapshotsKnownClear: Bool, retentionDone: Bool) -> Bool {
        switch action {
        case .checkGate, .finish: false                     // in memory; the finish journals itself
        case .clearLeftovers: !snapshotsKnownClear          // nodetool only when not known clear
        case .upload: false                                 // journalled inside, once its totals are known
        case .applyRetention: !retentionDone                // usually ran beside clearsnapshot
        case .snapshot, .storeManifest, .clearSnapshot, .wait: true
        }
    }

    func finish(_ result: JobResult, _ reason: String, upload: BackupWorkflow.Upload?, seconds: Double? = nil) {
        let now = deps.clock.now()
        if stopping && result == .cancelled {
            // A stop of the agent: the run stays journalled and is retried at the next start.
            return
        }
        history.finish(result, reason: reason, at: now)
        if let upload, result == .succeeded {
            var counters = history.counters.backup ?? [:]
            counters["files", default: 0] += upload.files
            counters["stored_files", default: 0] += upload.storedFiles
            counters["stored_bytes", default: 0] += Int(upload.storedBytes)
            counters["skipped_bytes", default: 0] += Int(upload.skippedBytes)
            history.counters.backup = counters
            deps.snapshot.update { $0.lastBackup = LastBackupStats(upload: upload, seconds: seconds ?? 0) }
        }
        save()
        let level: Logger.Level = result == .succeeded ? .notice : .error
        deps.logger.log(level: level, "backup ended", metadata: ["reason": "backup.\(result.rawValue)", "detail": "\(reason)"])
    }

    func save() {
        store.save(history, .backup, reportingTo: deps.snapshot)
    }

    func publish(state: JobState, reason: String? = nil, next: Double? = nil, splay: Int? = nil) {
        let backup = deps.desiredState()?.backup
        let history = self.history
        let now = deps.clock.now()
        var nextRun = next
        var period: Double?
        if let backup, let cron = backup.schedule, let first = cron.next(after: Int64(now), in: backup.timeZone), let second = cron.next(after: first, in: backup.timeZone) {
            period = Double(second - first)
        }
        if nextRun == nil, let backup, backup.enabled, let cron = backup.schedule {
            nextRun = schedule(for: backup, cron: cron, now: now).nextDue(after: now)
        }
        deps.snapshot.update { snapshot in
            snapshot.unavailable = nil
            snapshot.enabled = backup?.enabled ?? false
            snapshot.schedule = backup?.schedule?.expression
            snapshot.state = state
            snapshot.stateReason = reason
            snapshot.current = history.current
            snapshot.lastRun = history.lastRun
            snapshot.nextRun = snapshot.enabled ? nextRun : nil
            snapshot.splaySeconds = splay ?? snapshot.splaySeconds
            snapshot.history = history
            snapshot.schedulePeriod = period
        }
    }
}

/// The sampled verify's journal: the last slot handled and what the last run found.
struct VerifyJournal: Codable, Sendable {
    var lastSlot: Double?
    var last: SampledVerify.Report?

    static func path(_ stateDirectory: String) -> String { stateDirectory + "/backup/verify.json" }

    static func load(_ stateDirectory: String) -> VerifyJournal {
        guard let bytes = try? FileIO.readIfPresent(path(stateDirectory)), let journal = try? JSONDecoder().decode(VerifyJournal.self, from: Data(bytes)) else { return VerifyJournal() }
        return journal
    }

    func save(_ stateDirectory: String) {
        try? FileIO.makeDirectories(stateDirectory + "/backup", mode: 0o700)
        if let bytes = try? JSONEncoder().encode(self) { try? FileIO.writeAtomically(Self.path(stateDirectory), Array(bytes), mode: 0o600) }
    }
}

/// What the last successful backup moved, for status and metrics.
public struct LastBackupStats: Sendable, Equatable, Codable {
    public var files: Int
    public var bytes: Int64
    public var storedBytes: Int64
    public var skippedBytes: Int64
    public var seconds: Double

    init(upload: BackupWorkflow.Upload, seconds: Double) {
        files = upload.files
        bytes = upload.bytes
        storedBytes = upload.storedBytes
        skippedBytes = upload.skippedBytes
        self.seconds = seconds
    }
}

/// Makes the store a backup section names.
public enum BackupStores {
    public static func make(_ backup: DesiredState.Backup, stateDirectory: String, environment: [String: String]) throws(BackupError) -> any BackupObjectStore {
        switch backup.target {
        case .file(let path)?:
            return FileObjectStore(root: path)
        case .s3(let bucket, let prefix)?:
            guard let s3 = backup.s3 else { throw BackupError("backup.destination s3:// needs backup.s3 with endpoint, region and credentialsFile") }
            let credentials = try S3Credentials.load(s3.credentialsFile, environment: environment)
            let signer = S3Signer(accessKeyID: credentials.id, secretAccessKey: credentials.secret, sessionToken: credentials.token, region: s3.region)
            return try S3ObjectStore(bucket: bucket, prefix: prefix, endpoint: s3.endpoint, caFile: s3.caFile, environment: environment,
                                     signer: signer, stateDirectory: stateDirectory)
        case nil:
            throw BackupError("backup.destination is not set")
        }
    }
}

/// The I/O class of the agent's reads of the node's files.
enum IOPriority {
    /// Idle class for the calling thread: a backup's reads wait for Cassandra's. Best effort.
    static func idle() throws(BackupError) {
        _ = agent_ioprio_idle()
    }
}

