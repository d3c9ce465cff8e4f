import Logging
import ServiceLifecycle

/// `backup restore` as a job of the running agent (kind `restore`), so that it
/// holds the node like any job: it takes `NodeLease`'s job slot (refused, with the
/// holder named, while a repair, a backup or a patch turn holds the node), shows
/// in `jobs` and status while it runs, is journalled in
/// `<stateDirectory>/jobs/restore.json` before every step, and `job cancel restore`
/// kills its nodetool. The thin actor around `RestoreWorkflow`.
///
/// A request is checked before it is accepted (the backup exists, its host ID,
/// the tables, free space): a refusal is the request's answer and no run. A dry
/// run is only that check; it takes no lease, so it can be asked for while a job runs.
/// A restore is never retried by itself after a crash: half of a table may be loaded,
/// and an operator decides.
public actor RestoreService: Service {
    public enum Answer: Sendable, Equatable {
        case dryRun([String])
        case started(runID: String, message: String)
        case refused(String)
    }

    struct Accepted: Sendable {
        var run: JobRunRecord
        var workflow: RestoreWorkflow
        var restore: BackupRestore
    }

    let deps: BackupService.Dependencies
    let store: JobHistoryStore
    var history = JobHistory()
    nonisolated let wake = Doorbell()
    nonisolated let interrupt = Doorbell()
    nonisolated let cancelFlag = Published(false)
    nonisolated let stopFlag = Published(false)
    var accepted: Accepted?
    var running: JobRunRecord?
    /// A request being checked: one at a time, so two restores never pass the checks together.
    var checking = false

    /// `dependencies.snapshot` is the restore kind's snapshot.
    public init(_ dependencies: BackupService.Dependencies) {
        deps = dependencies
        store = JobHistoryStore(stateDirectory: dependencies.configuration.stateDirectory)
    }

    // MARK: requests

    public func request(_ request: BackupRestore.Request) async -> Answer {
        guard let desired = deps.desiredState() else { return .refused("no desired state is in force yet") }
        guard let backup = desired.backup, backup.target != nil else { return .refused("the desired state in force has no backup.destination to restore from") }
        if let running { return .refused("a restore is already running: \(running.id) (`cassandra-agent job cancel restore` stops it)") }
        if checking { return .refused("another restore request is being checked") }
        checking = true
        defer { checking = false }
        let now = deps.clock.now()
        let run = JobRunRecord(id: uniqueID(at: now), kind: .restore, trigger: .manual, startedAt: now)
        if !request.dryRun, let busy = await deps.lease.tryBeginJob(.restore, runID: run.id, reconcileBetweenSteps: true) {
            return .refused(busy.message)
        }
        let planned = await plan(request, desired: desired, backup: backup)
        switch planned {
        case .failure(let error):
            if !request.dryRun { await deps.lease.endJob(run.id) }
            return .refused(error.message)
        case .success(let (restore, tables)):
            if request.dryRun { return .dryRun(restore.describe(tables)) }
            cancelFlag.update { $0 = false }
            interrupt.reset()
            running = run
            history.start(run)
            let workflow = RestoreWorkflow(backupID: request.id, tables: tables, method: restore.method)
            accepted = Accepted(run: run, workflow: workflow, restore: restore)
            journal(workflow)
            deps.logger.notice("restore started", metadata: ["reason": "restore.started", "run": "\(run.id)", "backup": "\(request.id)"])
            wake.ring()
            let names = tables.map { "\($0.keyspace).\($0.table)" }.joined(separator: ", ")
            return .started(runID: run.id, message: "restore \(run.id) of backup \(request.id) started: \(names) (\(restore.method))")
        }
    }

    public func cancel() -> Bool {
        guard running != nil else { return false }
        cancelFlag.update { $0 = true }
        interrupt.ring()
        return true
    }

    func uniqueID(at now: Double) -> String {
        let base = JobID.make(.restore, at: now)
        let used = Set(history.runs.map(\.id))
        var id = base
        var n = 1
        while used.contains(id) {
            id = "\(base)-\(n)"
            n += 1
        }
        return id
    }

    /// The backup (this node's, or with --force another host's in the same destination) and the checked plan.
    func plan(_ request: BackupRestore.Request, desired: DesiredState, backup: DesiredState.Backup) async -> Result<(BackupRestore, [BackupRestore.TablePlan]), BackupError> {
        let nodetool = NodetoolClient(prefix: deps.configuration.nodetool, runner: deps.runner, version: desired.cassandraVersion, timeout: deps.configuration.nodetoolTimeout)
        var hostID = deps.hostID()
        if hostID == nil {
            do {
                hostID = try await nodetool.info().hostID
            } catch {
                return .failure(BackupError("cannot read this node's host ID (nodetool info): \(error.description)"))
            }
        }
        let host = hostID ?? ""
        let make = deps.makeStore
        let dataDirectories = SnapshotFiles.dataDirectories(desired)
        return await BlockingIO.run { () -> Result<(BackupRestore, [BackupRestore.TablePlan]), BackupError> in
            do throws(BackupError) {
                let repository = BackupRepository(store: try make(backup), host: host)
                guard let (manifest, owner) = try repository.findAnyHost(request.id) else {
                    throw BackupError("no complete backup \(request.id) in \(repository.store.description) (`cassandra-agent backup list` shows the complete ones)")
                }
                let restore = BackupRestore(repository: owner, nodetool: nodetool, dataDirectories: dataDirectories, hostID: host)
                return .success((restore, try restore.plan(request, manifest: manifest)))
            } catch {
                return .failure(error)
            }
        }
    }

    // MARK: the loop

    public func run() async throws {
        let (loaded, problem) = store.load(.restore)
        history = loaded
        if let problem { deps.logger.error("restore history unreadable", metadata: ["reason": "job.history_unreadable", "error": "\(problem)"]) }
        if let cut = history.recover(at: deps.clock.now()) {
            // Unlike a backup, a restore is not retried: part of a table may be loaded already.
            let backupID = cut.progress?.backupID ?? "ID"
            let step = cut.progress.map { " during \"\($0.step)\"" } ?? ""
            history.runs[history.runs.count - 1].reason = "the agent stopped\(step) before the restore ended (a crash, a restart of the agent or of the host); "
                + "it is not retried by itself: the table may be partly loaded and its staging directory (.cassandra-agent-restore-\(backupID)-*) left next to it; "
                + "check the table, then run `cassandra-agent backup restore \(backupID)` again (it replaces the staging directory)"
            deps.logger.warning("a restore was cut short by a stop of the agent", metadata: ["reason": "job.interrupted", "run": "\(cut.id)"])
            save()
        }
        publish(state: .idle)
        await withGracefulShutdownHandler {
            await loop()
        } onGracefulShutdown: {
            self.stopFlag.update { $0 = true }
            self.cancelFlag.update { $0 = true }
            self.interrupt.ring()
            self.wake.ring()
        }
    }

    func loop() async {
        while !stopFlag.value && !Task.isCancelled {
            guard let job = accepted else {
                await wake.wait()
                continue
            }
            accepted = nil
            await execute(job)
        }
        // A run accepted just before a stop never started: nothing was written.
        if let job = accepted {
            accepted = nil
            history.finish(.cancelled, reason: "the agent was stopped before the restore began; nothing was written", at: deps.clock.now())
            save()
            await deps.lease.endJob(job.run.id)
            running = nil
        }
    }

    func execute(_ job: Accepted) async {
        var workflow = job.workflow
        let restore = job.restore
        publish(state: .running)
        var action: RestoreWorkflow.Action? = workflow.start()
        while let next = action {
            journal(workflow)
            let event: RestoreWorkflow.Event
            switch next {
            case .checkGate:
                event = .gate(cancelled: cancelFlag.value)
            case .stage(let i):
                let table = workflow.tables[i]
                await deps.lease.beginStep(job.run.id, "staging \(table.keyspace).\(table.table)")
                let cancelled = cancelFlag
                let outcome = await BlockingIO.run { () -> BackupError? in
                    do throws(BackupError) {
                        try restore.stage(table, context: TransferContext(cancelled: { cancelled.value }))
                        return nil
                    } catch {
                        return error
                    }
                }
                event = outcome.map { .stageFailed(table: i, $0.message, cancelled: cancelFlag.value) } ?? .staged(table: i)
                await deps.lease.endStep(job.run.id)
            case .load(let i):
                let table = workflow.tables[i]
                await deps.lease.beginStep(job.run.id, "loading \(table.keyspace).\(table.table)")
                // A cancel (or a stop) rings the bell: the load's task is cancelled, which kills its nodetool.
                let outcome = await interrupt.interrupting { () async -> BackupError? in
                    do throws(BackupError) {
                        try await restore.load(table)
                        return nil
                    } catch {
                        return error
                    }
                }
                switch outcome {
                case nil: event = .loadFailed(table: i, "interrupted", cancelled: true)
                case .some(nil): event = cancelFlag.value ? .loadFailed(table: i, "cancelled", cancelled: true) : .loaded(table: i)
                case .some(let error?): event = .loadFailed(table: i, error.message, cancelled: cancelFlag.value)
                }
                await deps.lease.endStep(job.run.id)
            case .removeStaging(let i):
                let staging = workflow.tables[i].staging
                await BlockingIO.run { FileIO.removeTree(staging) }
                event = .stagingRemoved(table: i)
            case .finish(let result, let reason):
                finish(result, reason)
                await deps.lease.endJob(job.run.id)
                running = nil
                publish(state: .idle)
                return
            }
            action = workflow.handle(event) ?? .finish(.failed, reason: "the restore workflow could not continue from \(workflow.phase) (an internal error; please report it)")
        }
    }

    // MARK: journal and snapshot

    func journal(_ workflow: RestoreWorkflow) {
        guard history.current != nil else { return }
        history.current?.progress = workflow.progress()
        save()
        publish(state: .running)
    }

    func finish(_ result: JobResult, _ reason: String) {
        var result = result, reason = reason
        if stopFlag.value && result == .cancelled {
            result = .interrupted
            reason = reason.replacing("cancelled by an operator", with: "interrupted by a stop of the agent") + "; it is not retried by itself: check the table, then restore again"
        }
        history.finish(result, reason: reason, at: deps.clock.now())
        save()
        let level: Logger.Level = result == .succeeded ? .notice : .error
        deps.logger.log(level: level, "restore ended", metadata: ["reason": "restore.\(result.rawValue)", "detail": "\(reason)"])
    }

    func save() {
        store.save(history, .restore, reportingTo: deps.snapshot)
    }

    func publish(state: JobState) {
        let history = self.history
        let enabled = deps.desiredState()?.backup?.target != nil
        deps.snapshot.update { snapshot in
            snapshot.unavailable = nil
            snapshot.enabled = enabled
            snapshot.state = state
            snapshot.current = history.current
            snapshot.lastRun = history.lastRun
            snapshot.nextRun = nil
            snapshot.history = history
        }
    }
}
