#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle

/// Rolling-restart patch windows: the thin service around `PatchTurn`. It finds
/// the window (open now, or the next opening), asks `RackTurn` whose turn it is
/// from nodetool, takes the node from `NodeLease` when its rack goes (no
/// reconcile install between steps: a drained node gets none), performs the
/// turn's actions, journals the turn before each step, and publishes its
/// `JobSnapshot`.
public actor PatchService: Service {
    public struct Dependencies: Sendable {
        public var configuration: AgentConfiguration
        public var clock: any WallClock
        public var runner: any ProcessRunner
        public var lease: NodeLease
        public var desiredState: @Sendable () -> DesiredState?
        /// Whether reconcile recorded settings as restart pending (the turn's restart applies them).
        public var restartPending: @Sendable () -> Bool
        public var snapshot: Published<JobSnapshot>
        public var logger: Logger
        /// The agent's environment: NOTIFY_SOCKET or INVOCATION_ID means systemd runs it.
        public var environment: [String: String]

        public init(configuration: AgentConfiguration, clock: any WallClock, runner: any ProcessRunner, lease: NodeLease,
                    desiredState: @escaping @Sendable () -> DesiredState?, restartPending: @escaping @Sendable () -> Bool = { false },
                    snapshot: Published<JobSnapshot>, logger: Logger, environment: [String: String] = [:]) {
            self.configuration = configuration
            self.clock = clock
            self.runner = runner
            self.lease = lease
            self.desiredState = desiredState
            self.restartPending = restartPending
            self.snapshot = snapshot
            self.logger = logger
            self.environment = environment
        }
    }

    let deps: Dependencies
    let store: JobHistoryStore
    var history = JobHistory()
    nonisolated let wake = Doorbell()
    nonisolated let interrupt = Doorbell()
    nonisolated let stopFlag = Published(false)
    var stopping: Bool { stopFlag.value }
    var resume: JobRunRecord?
    /// `job start patching`: an ad-hoc window for this node, opened now.
    var adHoc: (start: Double, end: Double)?
    var cancelRequested = false
    var running: JobRunRecord?
    var tracker = RackTurn.UpTracker()
    var status = PatchingStatus()
    var selfUpSince: Double?
    var ownHostID: String?

    public init(_ dependencies: Dependencies) {
        deps = dependencies
        store = JobHistoryStore(stateDirectory: dependencies.configuration.stateDirectory)
    }

    /// The patch command's argument vector: outside the agent's sandbox under systemd.
    public static func commandLine(_ patching: DesiredState.Patching, environment: [String: String], runID: String) -> [String] {
        if let prefix = patching.commandPrefix { return prefix + patching.command }
        if environment["NOTIFY_SOCKET"] != nil || environment["INVOCATION_ID"] != nil {
            // The agent's unit has ProtectSystem=strict: a package manager needs the whole system writable.
            return ["/usr/bin/systemd-run", "--wait", "--pipe", "--collect", "--quiet", "--unit=cassandra-agent-\(runID)", "--"] + patching.command
        }
        return patching.command
    }

    // MARK: requests

    public func start() async -> Result<String, NodeLease.Busy> {
        guard let desired = deps.desiredState() else { return .failure(.init(message: "no desired state is in force yet")) }
        guard let patching = desired.patching, patching.enabled else {
            return .failure(.init(message: "patching is disabled in the desired state (patching.enabled is not true)"))
        }
        let now = deps.clock.now()
        if let until = BlackoutCheck.activeUntil(desired.blackouts, at: now) {
            return .failure(.init(message: "a blackout holds every job until \(Timestamp.iso8601(Int64(until.end))) (\(until.entry))"))
        }
        if let running { return .failure(.init(message: "a patch turn is already in progress: \(running.id)")) }
        let length = Double((patching.window?.lengthMinutes ?? 120) * 60)
        adHoc = (now, now + length)
        wake.ring()
        return .success("an ad-hoc patch window is open on this node until \(Timestamp.iso8601(Int64(now + length))); the node waits for its rack's turn")
    }

    public func cancel() -> Bool {
        guard running != nil else { return false }
        cancelRequested = true
        interrupt.ring()
        return true
    }

    public nonisolated func desiredStateChanged() { wake.ring() }

    // MARK: the loop

    public func run() async throws {
        let (loaded, problem) = store.load(.patching)
        history = loaded
        if let problem { deps.logger.error("patching history unreadable", metadata: ["reason": "job.history_unreadable", "error": "\(problem)"]) }
        if let cut = history.recover(at: deps.clock.now()) {
            deps.logger.warning("a patch turn was cut short by a stop of the agent or a reboot", metadata: ["reason": "job.interrupted", "run": "\(cut.id)"])
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

    /// The window open at `now`: its opening and closing.
    static func openWindow(_ window: PatchWindow, zone: TimeZoneRules, at now: Double) -> (start: Double, end: Double)? {
        let t = Int64(now)
        guard window.contains(t, in: zone) else { return nil }
        var opening: Int64?
        var probe = t - 2 * 86_400
        while let next = window.nextOpening(after: probe, in: zone), next <= t {
            opening = next
            probe = next
        }
        guard let opening else { return nil }
        return (Double(opening), Double(window.closing(of: opening, in: zone)))
    }

    func loop() async {
        while !stopping && !Task.isCancelled {
            let now = deps.clock.now()
            guard let desired = deps.desiredState(), let patching = desired.patching, patching.enabled, let window = patching.window else {
                publish(state: .disabled, reason: deps.desiredState() == nil ? "no desired state is in force yet" : "patching.enabled is not true in the desired state")
                await wake.wait(until: .infinity, clock: deps.clock)
                continue
            }
            // A turn cut short past its waiting step finishes, whatever the window says now.
            let scheduled = Self.openWindow(window, zone: patching.timeZone, at: now)
            if let cut = resume, let journal = cut.progress?.patchTurn {
                resume = nil
                var run = JobRunRecord(id: JobID.make(.patching, at: now), kind: .patching, trigger: .resume, startedAt: now, resumes: cut.id)
                run.slot = cut.slot
                if journal.step != .waiting && journal.step != .done {
                    await execute(run, window: (journal.windowStart, .infinity), patching: patching, resuming: journal)
                    continue
                }
                // Cut short while waiting for its rack: it waits again in the same window, if that is still open.
                let end = scheduled?.start == journal.windowStart ? scheduled!.end : journal.windowStart + Double(window.lengthMinutes * 60)
                if journal.step == .waiting, end > now {
                    await execute(run, window: (journal.windowStart, end), patching: patching, resuming: nil)
                    continue
                }
            }
            resume = nil
            let open: (start: Double, end: Double)?
            var trigger = JobTrigger.schedule
            if let adHoc, adHoc.end > now {
                open = adHoc
                trigger = .manual
            } else {
                adHoc = nil
                open = scheduled.flatMap { history.lastSlot == $0.start ? nil : $0 }
            }
            if let open {
                if let blackout = BlackoutCheck.activeUntil(desired.blackouts, at: now) {
                    status.open = true
                    publish(state: .blackout, reason: "the blackout \(blackout.entry) holds the patch window until \(Timestamp.iso8601(Int64(blackout.end)))", next: blackout.end)
                    await wake.wait(until: min(blackout.end, open.end), clock: deps.clock)
                    continue
                }
                adHoc = nil
                var run = JobRunRecord(id: JobID.make(.patching, at: now), kind: .patching, trigger: trigger, startedAt: now)
                // A scheduled window is a slot of the journal (handled once); an ad-hoc one is not.
                if trigger != .manual { run.slot = open.start }
                await execute(run, window: open, patching: patching, resuming: nil)
                continue
            }
            let after = scheduled?.end ?? now
            let next = window.nextOpening(after: Int64(after), in: patching.timeZone).map(Double.init)
            let turn = status.turn
            status = PatchingStatus()
            status.window = window.expression
            status.open = scheduled != nil
            status.closesAt = scheduled.map { Timestamp.iso8601(Int64($0.end)) }
            status.turn = scheduled != nil ? turn : nil
            status.step = scheduled != nil ? "this node's turn in this window is over" : nil
            status.opensAt = next.map { Timestamp.iso8601(Int64($0)) }
            publish(state: .idle, reason: scheduled != nil ? "this node's turn in the open window is over" : nil, next: next)
            await wake.wait(until: next ?? .infinity, clock: deps.clock)
        }
    }

    // MARK: one turn

    func execute(_ planned: JobRunRecord, window: (start: Double, end: Double), patching: DesiredState.Patching, resuming: PatchTurn.Journal?) async {
        var run = planned
        cancelRequested = false
        interrupt.reset()
        tracker = RackTurn.UpTracker()
        selfUpSince = nil
        running = run
        defer { running = nil }
        var leaseHeld = false
        if resuming != nil {
            // A resumed turn already had the node (it may be drained or stopped): it takes it back first.
            do { try await deps.lease.beginJob(.patching, runID: run.id, reconcileBetweenSteps: false) } catch { return }
            leaseHeld = true
        }
        status = PatchingStatus()
        status.window = patching.window?.expression
        status.open = window.end > deps.clock.now()
        status.closesAt = window.end.isFinite ? Timestamp.iso8601(Int64(window.end)) : nil
        run.startedAt = deps.clock.now()
        history.start(run)
        var turn = resuming.map { PatchTurn(resuming: $0, settings: patching.turn) }
            ?? PatchTurn(windowStart: window.start, settings: patching.turn, configPending: deps.restartPending())
        let nodetool = NodetoolClient(prefix: deps.configuration.nodetool, runner: deps.runner, version: deps.desiredState()?.cassandraVersion ?? .v4_1, timeout: deps.configuration.nodetoolTimeout)
        let systemctl = SystemctlClient(prefix: deps.configuration.systemctl, unit: deps.configuration.cassandraUnit, runner: deps.runner, timeout: .seconds(Int64(patching.turn.startTimeout)))
        var action: PatchTurn.Action? = turn.start(now: deps.clock.now())
        save(turn)
        publish(state: .running)
        deps.logger.notice("patch turn started", metadata: ["reason": "patching.started", "run": "\(run.id)", "trigger": "\(run.trigger.rawValue)"])
        while let next = action {
            journal(turn)
            let now = { self.deps.clock.now() }
            let event: PatchTurn.Event
            switch next {
            case .finish(let result, let reason):
                if stopping { return }  // journalled: resumed at the next start
                if leaseHeld { await deps.lease.endJob(run.id) }
                status.step = "finished: \(result.rawValue)"
                finish(result, reason)
                publish(state: .idle)
                return
            case .decide:
                if cancelRequested || stopping {
                    if stopping { return }
                    if leaseHeld { await deps.lease.endJob(run.id) }
                    finish(.cancelled, "cancelled by an operator before this node's turn")
                    publish(state: .idle)
                    return
                }
                var decided = await decide(nodetool: nodetool, window: window, patching: patching)
                if case .turn(.go, let open, nil, let at) = decided, open, !leaseHeld {
                    if let busy = await deps.lease.tryBeginJob(.patching, runID: run.id, reconcileBetweenSteps: false) {
                        decided = .turn(.wait("this rack's turn, but \(busy.message)", until: nil, heldBy: nil), windowOpen: true, preCheck: nil, now: at)
                    } else {
                        leaseHeld = true
                    }
                }
                event = decided
            case .wait(let until):
                await interrupt.wait(until: until, clock: deps.clock, or: wake)
                event = .timer(now: max(until, now()))
            case .probeDrained:
                let drained = (try? await nodetool.netstats().mode) == .drained
                let active = (try? await systemctl.isActive()) ?? true
                event = .drainProbe(drained: drained, unitActive: active, now: now())
            case .drain(let timeout):
                await deps.lease.beginStep(run.id, "draining for a patch turn")
                do throws(NodetoolError) {
                    try await nodetool.drain(timeout: .milliseconds(Int64(timeout * 1000)))
                    event = .ended(.drain, failure: nil, now: now())
                } catch {
                    event = .ended(.drain, failure: error.description, now: now())
                }
            case .stop(let timeout):
                event = .ended(.stop, failure: await command(deps.configuration.systemctl + ["stop", deps.configuration.cassandraUnit], timeout: timeout), now: now())
            case .patch(let timeout):
                let argv = Self.commandLine(patching, environment: deps.environment, runID: run.id)
                event = .ended(.patch, failure: await command(argv, timeout: timeout), now: now())
            case .checkRebootRequired:
                event = .rebootRequired(await rebootRequired(), now: now())
            case .reboot:
                deps.logger.notice("rebooting the host for the patch", metadata: ["reason": "patching.reboot", "run": "\(run.id)"])
                if let failure = await command(patching.rebootCommand, timeout: 120) {
                    event = .ended(.reboot, failure: failure, now: now())
                } else {
                    // The host goes down; the journal says `reboot` and the next start resumes at `start`.
                    await interrupt.wait(until: .infinity, clock: deps.clock)
                    return
                }
            case .start(let timeout):
                event = .ended(.start, failure: await command(deps.configuration.systemctl + ["start", deps.configuration.cassandraUnit], timeout: timeout), now: now())
            case .rollback:
                do {
                    let outcome = try ConfigInstaller(stateDirectory: deps.configuration.stateDirectory, keepGenerations: deps.configuration.keepGenerations)
                        .rollback(installedAt: Int64(now()))
                    deps.logger.warning("config rolled back after a failed start", metadata: ["reason": "patching.rolled_back", "generation": "\(outcome.generation)"])
                    event = .ended(.rollback, failure: nil, now: now())
                } catch {
                    event = .ended(.rollback, failure: "\(error)", now: now())
                }
            case .checkUp:
                event = .upCheck(missing: await missingForUp(nodetool: nodetool, settle: patching.turn.settle), now: now())
            }
            guard let following = turn.handle(event) else {
                if leaseHeld { await deps.lease.endJob(run.id) }
                finish(.failed, "the patch turn could not continue from \(turn.step) after \(event) (an internal error; please report it)")
                publish(state: .idle)
                return
            }
            status.heldBy = turn.heldBy
            action = following
        }
    }

    /// Runs an outside command; nil when it succeeded, otherwise why not.
    func command(_ argv: [String], timeout: Double) async -> String? {
        let command = ProcessCommand(argv, timeout: .milliseconds(Int64(timeout * 1000)))
        do {
            let output = try await deps.runner.run(command)
            return output.succeeded ? nil : output.failureDescription(of: command)
        } catch {
            return error.description
        }
    }

    func rebootRequired() async -> Bool {
        if FileIO.exists("/var/run/reboot-required") { return true }
        if FileIO.exists("/usr/bin/needs-restarting") {
            // RPM: exit 1 means a reboot is needed.
            let output = try? await deps.runner.run(ProcessCommand(["/usr/bin/needs-restarting", "-r"], timeout: .seconds(120)))
            return output?.exitCode == 1
        }
        return false
    }

    func decide(nodetool: NodetoolClient, window: (start: Double, end: Double), patching: DesiredState.Patching) async -> PatchTurn.Event {
        let now = deps.clock.now()
        let open = now < window.end && BlackoutCheck.activeUntil(deps.desiredState()?.blackouts ?? [], at: now) == nil
        do throws(NodetoolError) {
            let status = try await nodetool.status()
            let gossip = try? await nodetool.gossipInfo()
            // The host ID never changes: read once per turn (a poll is two nodetool calls, not three).
            if ownHostID == nil { ownHostID = (try? await nodetool.info())?.hostID }
            let hostID = ownHostID
            var up: [String: Bool] = [:]
            for node in status.nodes { up[node.endpoint.address] = node.liveness == .up && node.state == .normal }
            tracker.observe(up, now: now)
            let peers = RackTurn.peers(status: status, gossip: gossip, tracker: tracker)
            guard let me = status.nodes.first(where: { $0.hostID != nil && $0.hostID == hostID })?.endpoint.address else {
                return .turn(.wait("this node's host ID is not in its nodetool status yet", until: nil, heldBy: nil), windowOpen: open, preCheck: nil, now: now)
            }
            self.status.turn = RackTurn.currentRack(peers, windowStart: window.start)?.description
            let decision = RackTurn.decide(me: me, peers: peers, windowStart: window.start, now: now, settle: patching.turn.settle)
            var preCheck: String?
            if up[me] != true { preCheck = "this node is not UN in its own nodetool status" }
            if preCheck == nil, decision == .go, patching.localQuorumGate {
                let mine = peers.first { $0.address == me }!.rack
                let down = Set(peers.filter { $0.rack == mine || !$0.up }.map(\.address))
                preCheck = await quorumRefusal(nodetool: nodetool, down: down)
            }
            return .turn(decision, windowOpen: open, preCheck: preCheck, now: now)
        } catch {
            return .turn(.wait("cannot read nodetool status: \(error.description)", until: nil, heldBy: nil), windowOpen: open, preCheck: nil, now: now)
        }
    }

    func quorumRefusal(nodetool: NodetoolClient, down: Set<String>) async -> String? {
        do throws(NodetoolError) {
            let cluster = try await nodetool.describeCluster()
            var rings: [QuorumGate.Ring] = []
            for keyspace in cluster.keyspaces where RepairTargets.replicates(keyspace) {
                rings.append(QuorumGate.Ring(keyspace: keyspace.name, describeRing: try await nodetool.describeRing(keyspace: keyspace.name)))
            }
            return QuorumGate.refusal(rings, down: down)
        } catch {
            return "the LOCAL_QUORUM gate cannot read the ring: \(error.description)"
        }
    }

    /// What keeps the node from counting as back: UN, native transport, gossip, every peer UN, for the settle time.
    func missingForUp(nodetool: NodetoolClient, settle: Double) async -> String? {
        let now = deps.clock.now()
        var missing: String?
        do throws(NodetoolError) {
            let status = try await nodetool.status()
            if ownHostID == nil { ownHostID = try await nodetool.info().hostID }
            let me = status.nodes.first { $0.hostID == ownHostID }
            if let me, !(me.liveness == .up && me.state == .normal) {
                missing = "the node is \(me.liveness.rawValue)\(me.state.rawValue), not UN"
            } else if !(try await nodetool.nativeTransportRunning()) {
                missing = "native transport is not running yet"
            } else if !(try await nodetool.gossipRunning()) {
                missing = "gossip is not running yet"
            } else if let down = status.nodes.first(where: { !($0.liveness == .up && $0.state == .normal) && ($0.rack != me?.rack || $0.datacenter != me?.datacenter) }) {
                // Rack-mates go down together in a turn; one that does not come back is its own agent's failure.
                missing = "\(down.endpoint.address) is not UN as this node sees it: gossip has not settled"
            }
        } catch {
            missing = "the node does not answer nodetool yet (\(error.description))"
        }
        if missing != nil { selfUpSince = nil; return missing }
        let since = selfUpSince ?? now
        selfUpSince = since
        if now - since < settle { return "UN; waiting \(DurationText.format(settle)) (patching.settle) for gossip to carry it to every peer" }
        return nil
    }

    // MARK: journal and snapshot

    func journal(_ turn: PatchTurn) { save(turn) }

    func save(_ turn: PatchTurn) {
        guard history.current != nil else { return }
        var progress = turn.progress()
        progress.patchTurn = turn.journal
        history.current?.progress = progress
        status.step = progress.step
        save()
        publish(state: .running)
    }

    func finish(_ result: JobResult, _ reason: String) {
        history.finish(result, reason: reason, at: deps.clock.now())
        save()
        let level: Logger.Level = result == .succeeded || result == .skipped ? .notice : .error
        deps.logger.log(level: level, "patch turn ended", metadata: ["reason": "patching.\(result.rawValue)", "detail": "\(reason)"])
    }

    func save() {
        do {
            try store.save(history, .patching)
            deps.snapshot.update { $0.journalProblem = nil }
        } catch {
            deps.snapshot.update { $0.journalProblem = "cannot write the patching journal: \(error)" }
        }
    }

    func publish(state: JobState, reason: String? = nil, next: Double? = nil) {
        let patching = deps.desiredState()?.patching
        let history = self.history
        var status = self.status
        status.window = patching?.window?.expression
        // The last turn failed after the node was drained: it did not come back, and holds the window, until a turn succeeds.
        if let last = history.lastRun, last.result == .failed, last.progress?.patchTurn?.drained == true { status.haltedHere = last.reason }
        deps.snapshot.update { snapshot in
            snapshot.enabled = patching?.enabled ?? false
            snapshot.schedule = patching?.window?.expression
            snapshot.state = state
            snapshot.stateReason = reason ?? (state == .running ? history.current?.progress?.step : nil)
            snapshot.current = history.current
            snapshot.lastRun = history.lastRun
            snapshot.nextRun = next ?? (state == .running ? nil : snapshot.nextRun)
            snapshot.history = history
            snapshot.unavailable = nil
            snapshot.patching = patching?.enabled == true ? status : nil
        }
    }
}

extension RackTurn {
    /// The first rack, in turn order, with a node that has not restarted in the window.
    public static func currentRack(_ peers: [Peer], windowStart: Double) -> Rack? {
        order(peers).first { rack in peers.contains { $0.rack == rack && !$0.restarted(since: windowStart) } }
    }
}
