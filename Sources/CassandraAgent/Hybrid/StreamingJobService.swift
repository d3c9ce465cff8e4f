import Logging
import ServiceLifecycle

/// `rebuild` and `decommission`: jobs an operator starts by hand (never on a
/// schedule) that stream data for hours. One instance per kind, each the thin
/// service around its workflow: it takes the node from `NodeLease`, runs the
/// long nodetool command while it polls netstats, journals the run before
/// every step and publishes its own `JobSnapshot`.
public actor StreamingJobService: Service {
    public struct Dependencies: Sendable {
        public var kind: JobKind
        public var configuration: AgentConfiguration
        public var clock: any WallClock
        public var runner: any ProcessRunner
        public var lease: NodeLease
        public var desiredState: @Sendable () -> DesiredState?
        public var snapshot: Published<JobSnapshot>
        public var logger: Logger

        public init(kind: JobKind, configuration: AgentConfiguration, clock: any WallClock, runner: any ProcessRunner, lease: NodeLease,
                    desiredState: @escaping @Sendable () -> DesiredState?, snapshot: Published<JobSnapshot>, logger: Logger) {
            precondition(kind == .rebuild || kind == .decommission)
            self.kind = kind
            self.configuration = configuration
            self.clock = clock
            self.runner = runner
            self.lease = lease
            self.desiredState = desiredState
            self.snapshot = snapshot
            self.logger = logger
        }
    }

    struct Request {
        var run: JobRunRecord
        var keyspaces: [String]
        var sourceDC: String?
    }

    let deps: Dependencies
    let store: JobHistoryStore
    var history = JobHistory()
    nonisolated let wake = Doorbell()
    /// Rung by cancel and shutdown: kills the nodetool in flight and ends any wait.
    nonisolated let interrupt = Doorbell()
    nonisolated let stopFlag = Published(false)
    var request: Request?
    var running: JobRunRecord?
    var cancelRequested = false
    var kind: JobKind { deps.kind }

    public init(_ dependencies: Dependencies) {
        deps = dependencies
        store = JobHistoryStore(stateDirectory: dependencies.configuration.stateDirectory)
    }

    // MARK: requests

    /// `job start rebuild --source-dc DC [--keyspace KS]...` / `job start decommission`.
    public func start(keyspaces: [String], sourceDC: String?) async -> Result<String, NodeLease.Busy> {
        guard let desired = deps.desiredState() else { return .failure(.init(message: "no desired state is in force yet")) }
        if kind == .rebuild, sourceDC?.isEmpty ?? true {
            return .failure(.init(message: "a rebuild needs the datacenter to copy from: cassandra-agent job start rebuild --source-dc DC"))
        }
        if kind == .decommission, sourceDC != nil {
            return .failure(.init(message: "--source-dc is for rebuild; a decommission hands this node's data to the rest of its datacenter"))
        }
        let now = deps.clock.now()
        if let until = BlackoutCheck.activeUntil(desired.blackouts, at: now) {
            return .failure(.init(message: "a blackout holds every job until \(Timestamp.iso8601(Int64(until.end))) (\(until.entry))"))
        }
        if let running { return .failure(.init(message: "a \(kind.rawValue) is already running: \(running.id)")) }
        if request != nil { return .failure(.init(message: "a \(kind.rawValue) was already requested and is about to start")) }
        let run = JobRunRecord(id: JobID.make(kind, at: now), kind: kind, trigger: .manual, startedAt: now)
        if let busy = await deps.lease.tryBeginJob(kind, runID: run.id, reconcileBetweenSteps: true) { return .failure(busy) }
        request = Request(run: run, keyspaces: keyspaces, sourceDC: sourceDC)
        wake.ring()
        return .success("\(kind.rawValue) \(run.id) started" + (sourceDC.map { " from \($0)" } ?? ""))
    }

    public func cancel() -> Bool {
        guard running != nil else { return false }
        cancelRequested = true
        interrupt.ring()
        return true
    }

    // MARK: the loop

    public func run() async throws {
        let (loaded, problem) = store.load(kind)
        history = loaded
        if let problem { deps.logger.error("\(kind.rawValue) history unreadable", metadata: ["reason": "job.history_unreadable", "error": "\(problem)"]) }
        if let cut = history.recover(at: deps.clock.now()) {
            deps.logger.warning("a \(kind.rawValue) was cut short by a stop of the agent", metadata: ["reason": "job.interrupted", "run": "\(cut.id)"])
            save()
        }
        publish(.idle)
        await withGracefulShutdownHandler {
            await loop()
        } onGracefulShutdown: {
            self.stopFlag.update { $0 = true }
            self.interrupt.ring()
            self.wake.ring()
        }
    }

    func loop() async {
        while !stopFlag.value && !Task.isCancelled {
            if let next = request {
                request = nil
                await execute(next)
                continue
            }
            publish(.idle)
            await wake.wait()
        }
    }

    func execute(_ request: Request) async {
        interrupt.reset()
        cancelRequested = false
        running = request.run
        defer { running = nil }
        history.start(request.run)
        save()
        publish(.running)
        deps.logger.notice("\(kind.rawValue) started", metadata: ["reason": "\(kind.rawValue).started", "run": "\(request.run.id)", "source": "\(request.sourceDC ?? "-")"])
        guard let desired = deps.desiredState() else {
            finish(.cancelled, "the desired state is gone")
            await deps.lease.endJob(request.run.id)
            return
        }
        let nodetool = NodetoolClient(prefix: deps.configuration.nodetool, runner: deps.runner, version: desired.cassandraVersion, timeout: deps.configuration.nodetoolTimeout)
        let reader = ClusterReader(nodetool: nodetool)
        if kind == .rebuild {
            await rebuild(request, desired.rebuildSettings, nodetool, reader)
        } else {
            await decommission(request, desired.decommissionSettings, nodetool, reader)
        }
        await deps.lease.endJob(request.run.id)
        publish(.idle)
    }

    func rebuild(_ request: Request, _ settings: StreamingSettings, _ nodetool: NodetoolClient, _ reader: ClusterReader) async {
        var workflow = RebuildWorkflow(sourceDC: request.sourceDC ?? "", keyspaces: request.keyspaces, settings: settings)
        var action = workflow.start()
        var child: LongCommand?
        while true {
            journal(workflow.progress())
            let event: RebuildWorkflow.Event
            if case .finish = action {} else if interrupted && child == nil {
                if stopFlag.value { return }   // a stop of the agent: journalled, recorded interrupted at the next start
                action = workflow.handle(.cancelled)
            }
            switch action {
            case .finish(let result, let reason):
                return finish(result, reason)
            case .readCluster:
                event = .cluster(await reader.view(requested: request.keyspaces), now: deps.clock.now())
            case .readSources(let peers):
                let (read, unreadable) = await reader.remoteNetstats(peers)
                event = .sources(read, unreadable: unreadable, now: deps.clock.now())
            case .wait(let until):
                await interrupt.wait(until: until, clock: deps.clock)
                event = .timer(now: max(until, deps.clock.now()))
            case .rebuild(_, let arguments, let timeout):
                child = await launch(arguments, timeout: timeout, runID: request.run.id, nodetool: nodetool)
                event = .progress(nil, now: deps.clock.now())
            case .poll(let until):
                switch await poll(&child, until: until, runID: request.run.id, nodetool: nodetool) {
                case .stopped: return
                case .progress(let netstats): event = .progress(netstats, now: deps.clock.now())
                case .ended(let ended):
                    let load = try? await nodetool.info().load
                    event = .rebuildEnded(ended.outcome, loadBytes: load, now: deps.clock.now())
                }
            case .kill:
                child?.kill()
                action = .poll(until: .infinity)
                continue
            }
            action = workflow.handle(event)
        }
    }

    func decommission(_ request: Request, _ settings: StreamingSettings, _ nodetool: NodetoolClient, _ reader: ClusterReader) async {
        var workflow = DecommissionWorkflow(keyspaces: request.keyspaces, settings: settings)
        var action = workflow.start()
        var child: LongCommand?
        while true {
            journal(workflow.progress())
            let event: DecommissionWorkflow.Event
            if case .finish = action {} else if interrupted && child == nil {
                if stopFlag.value { return }
                action = workflow.handle(.cancelled)
            }
            switch action {
            case .finish(let result, let reason):
                return finish(result, reason)
            case .readCluster:
                event = .cluster(await reader.view(requested: request.keyspaces), now: deps.clock.now())
            case .decommission(let arguments, let timeout):
                child = await launch(arguments, timeout: timeout, runID: request.run.id, nodetool: nodetool)
                event = .progress(nil, now: deps.clock.now())
            case .poll(let until):
                switch await poll(&child, until: until, runID: request.run.id, nodetool: nodetool) {
                case .stopped: return
                case .progress(let netstats): event = .progress(netstats, now: deps.clock.now())
                case .ended(let ended): event = .ended(ended.outcome, stdout: ended.stdout, now: deps.clock.now())
                }
            case .kill:
                child?.kill()
                action = .poll(until: .infinity)
                continue
            }
            action = workflow.handle(event)
        }
    }

    var interrupted: Bool { cancelRequested || stopFlag.value }

    // MARK: the long command, shared by both workflows

    enum Polled {
        case ended(LongCommand.Ended)
        case progress(NodetoolNetstats?)
        /// The agent is stopping: the run stays journalled and is recorded interrupted at the next start.
        case stopped
    }

    /// Starts the long nodetool command as the job's step (a reconcile install waits for it).
    func launch(_ arguments: [String], timeout: Double, runID: String, nodetool: NodetoolClient) async -> LongCommand {
        await deps.lease.beginStep(runID, "nodetool \(arguments.joined(separator: " "))")
        return LongCommand(nodetool: nodetool, arguments: arguments, timeout: timeout)
    }

    /// Waits until `until` or the command's end; then its end, or a netstats reading. Without
    /// a command (a decommission already under way, followed), only the reading.
    func poll(_ child: inout LongCommand?, until: Double, runID: String, nodetool: NodetoolClient) async -> Polled {
        guard let running = child else {
            await interrupt.wait(until: until, clock: deps.clock)
            return .progress(try? await nodetool.netstats())
        }
        guard let ended = await running.wait(until: until, clock: deps.clock, interrupt: interrupt) else {
            return .progress(try? await nodetool.netstats())
        }
        child = nil
        await deps.lease.endStep(runID)
        return stopFlag.value ? .stopped : .ended(ended)
    }

    // MARK: journal and snapshot

    func journal(_ progress: JobProgress) {
        guard history.current != nil, history.current?.progress != progress else { return }
        // Why a started run has not begun streaming belongs in the journal, once per reason.
        if let waiting = progress.postponed, waiting != history.current?.progress?.postponed {
            deps.logger.notice("\(kind.rawValue) waits", metadata: ["reason": "\(kind.rawValue).postponed", "detail": "\(waiting)"])
        }
        history.current?.progress = progress
        save()
        publish(.running)
    }

    func finish(_ result: JobResult, _ reason: String) {
        history.finish(result, reason: reason, at: deps.clock.now())
        save()
        let level: Logger.Level = result == .succeeded ? .notice : .error
        deps.logger.log(level: level, "\(kind.rawValue) ended", metadata: ["reason": "\(kind.rawValue).\(result.rawValue)", "detail": "\(reason)"])
    }

    func save() {
        do {
            try store.save(history, kind)
            deps.snapshot.update { $0.journalProblem = nil }
        } catch {
            deps.snapshot.update { [kind] in $0.journalProblem = "cannot write the \(kind.rawValue) journal: \(error)" }
        }
    }

    func publish(_ state: JobState) {
        let history = self.history
        deps.snapshot.update { snapshot in
            snapshot.enabled = true
            snapshot.schedule = nil
            snapshot.state = state
            snapshot.stateReason = state == .idle ? "runs only when started: cassandra-agent job start \(snapshot.kind.rawValue)\(snapshot.kind == .rebuild ? " --source-dc DC" : "")" : nil
            snapshot.current = history.current
            snapshot.lastRun = history.lastRun
            snapshot.nextRun = nil
            snapshot.history = history
        }
    }
}
