import Logging
import ServiceLifecycle

/// Scheduled and on-demand repair: the thin service around `RepairWorkflow`.
/// It decides when a run is due (`RunSchedule`), takes the node from
/// `NodeLease`, performs the workflow's actions with nodetool, journals the
/// run's progress before every step, and publishes its `JobSnapshot`.
public actor RepairService: Service {
    public struct Dependencies: Sendable {
        public var configuration: AgentConfiguration
        public var clock: any WallClock
        public var runner: any ProcessRunner
        public var lease: NodeLease
        /// The desired state in force (nil: none yet).
        public var desiredState: @Sendable () -> DesiredState?
        /// The node's host ID as last observed, for the splay.
        public var hostID: @Sendable () -> String?
        public var snapshot: Published<JobSnapshot>
        public var logger: Logger

        public init(configuration: AgentConfiguration, clock: any WallClock, runner: any ProcessRunner, lease: NodeLease,
                    desiredState: @escaping @Sendable () -> DesiredState?, hostID: @escaping @Sendable () -> String?,
                    snapshot: Published<JobSnapshot>, logger: Logger) {
            self.configuration = configuration
            self.clock = clock
            self.runner = runner
            self.lease = lease
            self.desiredState = desiredState
            self.hostID = hostID
            self.snapshot = snapshot
            self.logger = logger
        }
    }

    let deps: Dependencies
    let store: JobHistoryStore
    var history = JobHistory()
    /// Rung when something may change what is due (desired state, requests).
    nonisolated let wake = Doorbell()
    /// Rung by cancel and shutdown: interrupts the nodetool in flight and any wait.
    nonisolated let interrupt = Doorbell()
    var manual: (run: JobRunRecord, keyspaces: [String])?
    var resume: JobRunRecord?
    var cancelRequested = false
    /// Set on a graceful shutdown (SIGTERM): the run in flight is cut short and stays journalled.
    nonisolated let stopFlag = Published(false)
    var stopping: Bool { stopFlag.value }
    var running: JobRunRecord?

    public init(_ dependencies: Dependencies) {
        deps = dependencies
        store = JobHistoryStore(stateDirectory: dependencies.configuration.stateDirectory)
    }

    // MARK: requests (socket, CLI)

    /// `job start repair`: starts at once, or is refused with the reason.
    public func start(keyspaces: [String]) async -> Result<String, NodeLease.Busy> {
        guard let desired = deps.desiredState() else { return .failure(.init(message: "no desired state is in force yet")) }
        guard let repair = desired.repair, repair.enabled else {
            return .failure(.init(message: "repair is disabled in the desired state (repair.enabled is not true)"))
        }
        let now = deps.clock.now()
        if let until = BlackoutCheck.activeUntil(desired.blackouts, at: now) {
            return .failure(.init(message: "a blackout holds every job until \(Timestamp.iso8601(Int64(until.end))) (\(until.entry))"))
        }
        if let running { return .failure(.init(message: "a repair is already running: \(running.id)")) }
        if manual != nil { return .failure(.init(message: "a repair was already requested and is about to start")) }
        let run = JobRunRecord(id: JobID.make(.repair, at: now), kind: .repair, trigger: .manual, startedAt: now)
        if let busy = await deps.lease.tryBeginJob(.repair, runID: run.id, reconcileBetweenSteps: true) { return .failure(busy) }
        manual = (run, keyspaces)
        wake.ring()
        return .success("repair \(run.id) started")
    }

    /// `job cancel repair`: true if a run was cancelled (its nodetool is killed).
    public func cancel() -> Bool {
        guard running != nil else { return false }
        cancelRequested = true
        interrupt.ring()
        return true
    }

    /// The desired state changed: re-read the schedule, or pause at the next segment.
    public nonisolated func desiredStateChanged() { wake.ring() }

    // MARK: the loop

    public func run() async throws {
        let (loaded, problem) = store.load(.repair)
        history = loaded
        if let problem { deps.logger.error("repair history unreadable", metadata: ["reason": "job.history_unreadable", "error": "\(problem)"]) }
        if let cut = history.recover(at: deps.clock.now()) {
            deps.logger.warning("a repair was cut short by a stop of the agent", metadata: ["reason": "job.interrupted", "run": "\(cut.id)"])
            resume = cut
            save()
        }
        publish(state: .idle)
        await withGracefulShutdownHandler {
            await loop()
        } onGracefulShutdown: {
            self.stopFlag.update { $0 = true }
            self.interrupt.ring()
            self.wake.ring()
        }
    }

    func loop() async {
        while !stopping && !Task.isCancelled {
            let now = deps.clock.now()
            if let request = manual {
                manual = nil
                await execute(request.run, keyspaces: request.keyspaces, leaseHeld: true)
                continue
            }
            guard let desired = deps.desiredState(), let repair = desired.repair, repair.enabled else {
                publish(state: .disabled, reason: deps.desiredState() == nil ? "no desired state is in force yet" : "repair.enabled is not true in the desired state")
                await wake.wait(until: .infinity, clock: deps.clock)
                continue
            }
            if history.trackedSince == nil {
                history.trackedSince = now
                history.lastSlot = history.lastSlot ?? now
                save()
            }
            let blackout = BlackoutCheck.activeUntil(desired.blackouts, at: now)
            if let cut = resume, blackout == nil {
                resume = nil
                var run = JobRunRecord(id: JobID.make(.repair, at: now), kind: .repair, trigger: .resume, startedAt: now, resumes: cut.id)
                run.progress = cut.progress
                await execute(run, keyspaces: [], leaseHeld: false, resumeFrom: cut.progress)
                continue
            }
            guard let cron = repair.schedule else {
                publish(state: .idle)
                await wake.wait(until: .infinity, clock: deps.clock)
                continue
            }
            let schedule = schedule(for: repair, cron: cron, now: now)
            switch schedule.decide(now: now, lastSlot: history.lastSlot) {
            case .run(let slot, let missed):
                if let blackout {
                    publish(state: .blackout, reason: "the blackout \(blackout.entry) holds the run due at \(Timestamp.iso8601(Int64(slot))) until \(Timestamp.iso8601(Int64(blackout.end)))", next: blackout.end)
                    await wake.wait(until: blackout.end, clock: deps.clock)
                    continue
                }
                let run = JobRunRecord(id: JobID.make(.repair, at: now), kind: .repair, trigger: missed ? .missed : .schedule, startedAt: now, slot: slot)
                await execute(run, keyspaces: [], leaseHeld: false)
            case .wait(let until, _):
                publish(state: blackout == nil ? .idle : .blackout, reason: blackout.map { "inside the blackout \($0.entry) until \(Timestamp.iso8601(Int64($0.end)))" }, next: until, splay: schedule.splaySeconds)
                await wake.wait(until: until, clock: deps.clock)
            case .never:
                publish(state: .idle, reason: "the schedule \(cron.expression) never fires again")
                await wake.wait(until: .infinity, clock: deps.clock)
            }
        }
    }

    func schedule(for repair: DesiredState.Repair, cron: CronSchedule, now: Double) -> RunSchedule {
        let splay = Splay.offset(hostID: deps.hostID() ?? deps.configuration.desiredState, kind: .repair, window: repair.splaySeconds, cron: cron, zone: repair.timeZone, now: now)
        return RunSchedule(cron: cron, zone: repair.timeZone, splaySeconds: splay, missedRunGrace: repair.missedRunGrace)
    }

    // MARK: one run

    func execute(_ planned: JobRunRecord, keyspaces: [String], leaseHeld: Bool, resumeFrom: JobProgress? = nil) async {
        var run = planned
        cancelRequested = false
        interrupt.reset()
        defer { running = nil }
        running = run
        if !leaseHeld {
            let busy = await deps.lease.busyMessage(for: .repair)
            publish(state: .queued, reason: busy?.message)
            guard await deps.lease.queue(.repair, runID: run.id, reconcileBetweenSteps: true, until: interrupt) else { return }
            if stopping || Task.isCancelled { await deps.lease.endJob(run.id); return }
            run.startedAt = deps.clock.now()
            running = run
        }
        history.start(run)
        save()
        publish(state: .running)
        deps.logger.notice("repair started", metadata: ["reason": "repair.started", "run": "\(run.id)", "trigger": "\(run.trigger.rawValue)"])
        await perform(run, keyspaces: keyspaces, resumeFrom: resumeFrom)
        await deps.lease.endJob(run.id)
        publish(state: .idle)
    }

    func perform(_ run: JobRunRecord, keyspaces: [String], resumeFrom: JobProgress?) async {
        guard let desired = deps.desiredState(), let repair = desired.repair else {
            return finish(.cancelled, "the desired state no longer has a repair section")
        }
        let nodetool = NodetoolClient(prefix: deps.configuration.nodetool, runner: deps.runner, version: desired.cassandraVersion, timeout: deps.configuration.nodetoolTimeout)
        let targets = RepairTargets(nodetool: nodetool)
        let plan: RepairPlan
        do {
            plan = try await targets.plan(for: repair, keyspaces: keyspaces)
        } catch {
            return finish(.failed, error.message)
        }
        // A resumed run continues at its segment only if the ring still cuts the same way.
        let resumeAt = resumeFrom?.planFingerprint == plan.fingerprint ? resumeFrom?.resumeAt ?? 0 : 0
        var workflow = RepairWorkflow(plan: plan, settings: repair.workflow, resumeAt: resumeAt)
        var action: RepairWorkflow.Action? = workflow.start()
        while let next = action {
            journal(workflow)
            let event: RepairWorkflow.Event
            switch next {
            case .finish(let result, let reason):
                if stopping && result == .cancelled { return }   // a stop of the agent: left journalled, resumed at the next start
                countSegments(workflow)
                // A cycle is complete when every keyspace of the desired state was repaired, not a hand-picked few.
                if result == .succeeded, keyspaces.isEmpty { history.lastCompleteCycleAt = deps.clock.now() }
                return finish(result, reason)
            case .checkGate:
                event = .gate(gate(), now: deps.clock.now())
            case .checkBackPressure(let segment):
                event = await backPressure(segment, nodetool: nodetool, targets: targets)
            case .repair(let segment, let arguments, let timeout):
                await deps.lease.beginStep(run.id, "repairing \(segment.description)")
                let outcome = await repairSegment(arguments, timeout: timeout, nodetool: nodetool)
                await deps.lease.endStep(run.id)
                event = .repairEnded(outcome, now: deps.clock.now())
            case .stopServerSide:
                let (ok, detail) = await targets.stopServerSide(incremental: plan.kind == .incremental)
                if !ok { deps.logger.error("repair could not be stopped inside Cassandra", metadata: ["reason": "repair.server_side_running", "detail": "\(detail)"]) }
                event = .serverSideStopped(ok: ok, detail: detail, now: deps.clock.now())
            case .wait(let until):
                await interrupt.wait(until: until, clock: deps.clock, or: wake)
                event = .timer(now: max(until, deps.clock.now()))
            }
            guard let following = workflow.handle(event) else {
                return finish(.failed, "the repair workflow could not continue from \(workflow.phase) (an internal error; please report it)")
            }
            action = following
        }
    }

    func gate() -> RepairWorkflow.Gate {
        if cancelRequested || stopping { return .cancelled }
        guard let desired = deps.desiredState(), let repair = desired.repair, repair.enabled else { return .disabled }
        if let blackout = BlackoutCheck.activeUntil(desired.blackouts, at: deps.clock.now()) {
            return .blackout(until: blackout.end, entry: blackout.entry)
        }
        return .open
    }

    func backPressure(_ segment: RepairSegment, nodetool: NodetoolClient, targets: RepairTargets) async -> RepairWorkflow.Event {
        var pending: Int?
        var down: [String] = []
        do {
            pending = try await nodetool.compactionStats().pendingTasks
            down = try await targets.downReplicas(segment)
        } catch {
            // Cannot tell: the repair itself will say what is wrong.
            deps.logger.warning("cannot read back-pressure before a repair segment", metadata: ["reason": "repair.backpressure_unknown", "error": "\(error.description)"])
        }
        return .backPressure(pendingCompactions: pending, downReplicas: down, now: deps.clock.now())
    }

    func repairSegment(_ arguments: [String], timeout: Double, nodetool: NodetoolClient) async -> RepairWorkflow.Outcome {
        let result: Result<NodetoolRepairOutput, NodetoolError>? = await interrupt.interrupting {
            do throws(NodetoolError) { return .success(try await nodetool.repair(arguments: arguments, timeout: .milliseconds(Int64(timeout * 1000)))) } catch { return .failure(error) }
        }
        switch result {
        case .success(let output)?:
            // Exit 0 is not enough: nodetool must have said the repair completed (or that there was nothing to do).
            if output.succeeded || (output.commands.isEmpty && !output.skipped.isEmpty) { return .succeeded }
            return .failed("nodetool \(arguments.joined(separator: " ")) exited 0 but never printed 'Repair completed successfully'\(output.failure.map { ": \($0)" } ?? "")", timedOut: false)
        case .failure(let error)?:
            if cancelRequested || stopping { return .cancelled }
            if case .failed(let failure) = error, failure.kind == .timedOut {
                return .failed("nodetool \(arguments.joined(separator: " ")) timed out after \(DurationText.format(timeout)) (repair.segmentTimeout) and was killed", timedOut: true)
            }
            return .failed(error.description, timedOut: false)
        case nil:
            return .cancelled
        }
    }

    // MARK: journal and snapshot

    func journal(_ workflow: RepairWorkflow) {
        guard history.current != nil else { return }
        history.current?.progress = workflow.progress()
        save()
        publish(state: .running)
    }

    func countSegments(_ workflow: RepairWorkflow) {
        history.counters.segments["succeeded", default: 0] += workflow.done
        history.counters.segments["failed", default: 0] += workflow.failed.count
        history.counters.segments["skipped", default: 0] += workflow.skipped.count
        history.counters.segmentSeconds += workflow.segmentSeconds.reduce(0, +)
        for (code, count) in workflow.postponements { history.counters.postponements[code, default: 0] += count }
    }

    func finish(_ result: JobResult, _ reason: String) {
        let now = deps.clock.now()
        history.finish(result, reason: reason, at: now)
        save()
        let level: Logger.Level = result == .succeeded ? .notice : .error
        deps.logger.log(level: level, "repair ended", metadata: ["reason": "repair.\(result.rawValue)", "detail": "\(reason)"])
    }

    func save() {
        do {
            try store.save(history, .repair)
            deps.snapshot.update { $0.journalProblem = nil }
        } catch {
            deps.snapshot.update { $0.journalProblem = "cannot write the repair journal: \(error)" }
        }
    }

    func publish(state: JobState, reason: String? = nil, next: Double? = nil, splay: Int? = nil) {
        let desired = deps.desiredState()
        let repair = desired?.repair
        let history = self.history
        let now = deps.clock.now()
        var nextRun = next
        if nextRun == nil, let repair, repair.enabled, let cron = repair.schedule {
            nextRun = schedule(for: repair, cron: cron, now: now).nextDue(after: now)
        }
        deps.snapshot.update { snapshot in
            snapshot.enabled = repair?.enabled ?? false
            snapshot.schedule = repair?.schedule?.expression
            snapshot.state = state
            snapshot.stateReason = reason
            snapshot.current = history.current
            snapshot.lastRun = history.lastRun
            snapshot.nextRun = snapshot.enabled ? nextRun : nil
            snapshot.splaySeconds = splay ?? snapshot.splaySeconds
            snapshot.history = history
            snapshot.postponeWarning = repair?.postponeWarning ?? 1800
            snapshot.gcGraceSeconds = repair?.gcGraceSeconds
            snapshot.deadlineSeconds = repair.map { $0.gcGraceSeconds * $0.deadlineShare }
        }
    }
}

/// Whether a blackout holds jobs at a time, and until when.
enum BlackoutCheck {
    static func activeUntil(_ blackouts: [Blackout], at now: Double) -> (entry: String, end: Double)? {
        blackouts.compactMap { blackout in blackout.end(ifActiveAt: Int64(now)).map { (blackout.expression, Double($0)) } }
            .max { $0.end < $1.end }
    }
}

extension Doorbell {
    /// Waits until `deadline`, or a ring of this bell or `other`.
    func wait(until deadline: Double, clock: any WallClock, or other: Doorbell) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(until: deadline) }
            group.addTask { await self.wait() }
            group.addTask { await other.wait() }
            await group.next()
            group.cancelAll()
        }
    }
}
