#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle
import UnixSignals

/// `cassandra-agent run`: the services that keep the node, in one group that
/// stops gracefully on SIGTERM/SIGINT and reconciles on SIGHUP.
public enum AgentDaemon {
    public static func run(configuration: AgentConfiguration, logger: Logger) async throws {
        let runner = SystemProcessRunner()
        let clock = SystemClock()
        let notifier = SystemdNotifier()
        let snapshots = AgentSnapshots(host: HostName.current(), desiredStatePath: configuration.desiredState, observeInterval: configuration.observeSeconds,
                                       expiryWarningDays: configuration.certificateWarningDays, clock: clock)
        let triggers = ReconcileTriggers()
        try FileIO.makeDirectories(FileIO.directoryName(configuration.desiredState))
        try FileIO.makeDirectories(configuration.stateDirectory, mode: 0o700)
        let instance = try InstanceLock(stateDirectory: configuration.stateDirectory)
        defer { withExtendedLifetime(instance) {} }
        // What a killed install left next to the installed files (never another live process's).
        for removed in ConfigInstaller(stateDirectory: configuration.stateDirectory, keepGenerations: configuration.keepGenerations)
            .removeLeftovers(in: [configuration.cassandraConfigDirectory]) {
            logger.notice("removed a leftover of an interrupted install", metadata: ["reason": "install.leftover_removed", "file": "\(removed)"])
        }
        let restartPending = RestartPendingStore(stateDirectory: configuration.stateDirectory)
        if let pending = restartPending.load() {
            snapshots.reconcile.update { $0.pendingRestart = pending }
        }
        let watcher = try FileWatcher(path: configuration.desiredState)
        let lease = NodeLease(clock: clock)
        // A reconcile pass deferred because a job held the node runs again as soon as the job lets it.
        await lease.whenReconcileMayRetry { triggers.send(.requested) }
        let observation = snapshots.observation
        let repair = RepairService(.init(
            configuration: configuration, clock: clock, runner: runner, lease: lease, desiredState: snapshots.desiredState,
            hostID: { observation.value?.info?.hostID }, snapshot: snapshots.jobs[.repair]!, logger: logger))
        let reconcileState = snapshots.reconcile
        let patching = PatchService(.init(
            configuration: configuration, clock: clock, runner: runner, lease: lease, desiredState: snapshots.desiredState,
            restartPending: { reconcileState.value.pendingRestart != nil }, snapshot: snapshots.jobs[.patching]!, logger: logger,
            environment: ProcessEnvironment.current()))
        let backup = BackupService(.init(
            configuration: configuration, clock: clock, runner: runner, lease: lease, desiredState: snapshots.desiredState,
            hostID: { observation.value?.info?.hostID }, tokens: { observation.value?.info?.tokens ?? [] },
            snapshot: snapshots.jobs[.backup]!, listing: snapshots.backups, logger: logger))
        var streaming: [JobKind: StreamingJobService] = [:]
        for kind in [JobKind.rebuild, .decommission] {
            streaming[kind] = StreamingJobService(.init(
                kind: kind, configuration: configuration, clock: clock, runner: runner, lease: lease, desiredState: snapshots.desiredState,
                snapshot: snapshots.jobs[kind]!, logger: logger))
        }
        let decommissionSnapshot = snapshots.jobs[.decommission]!
        await lease.retireWhen {
            NodeMembership.left(decommission: decommissionSnapshot.value, observation: observation.value)
                .map { "\($0): no job runs on it any more" }
        }
        let restore = RestoreService(.init(
            configuration: configuration, clock: clock, runner: runner, lease: lease, desiredState: snapshots.desiredState,
            hostID: { observation.value?.info?.hostID }, snapshot: snapshots.jobs[.restore]!, listing: snapshots.backups, logger: logger))
        let reconciler = Reconciler(configuration: configuration, state: snapshots.reconcile, observation: snapshots.observation, lease: lease,
                                    clock: clock, runner: runner, logger: logger, onApplied: {
            repair.desiredStateChanged()
            patching.desiredStateChanged()
            backup.desiredStateChanged()
            // The PEM files the new state names are watched too: a rotation in place is acted on at once.
            watcher.watch(reconcileState.value.inForce?.state.tlsInputPaths ?? [])
        })

        // Pets must come at least every half watchdog period; a tick guarantees a pass.
        var tick = Duration.milliseconds(Int64(configuration.resyncSeconds * 1000))
        if let watchdog = notifier.watchdogInterval, watchdog < tick { tick = watchdog }
        let routes = StatusRoutes(snapshots: snapshots, jobs: JobControls(repair: repair, patching: patching, backup: backup, restore: restore, streaming: streaming), adminGroup: configuration.adminGroup) { triggers.send(.requested) }
        let server = StatusServer(path: configuration.socket, mode: configuration.socketMode, group: configuration.adminGroup, routes: routes, logger: logger)
        let observer = ObservationService(configuration: configuration, published: snapshots.observation, desiredState: snapshots.desiredState,
                                          clock: clock, runner: runner, logger: logger)
        let reconcile = ReconcileService(reconciler: reconciler, triggers: triggers.stream, notifier: notifier, snapshots: snapshots, logger: logger) {
            // Start-up's code is not needed again: give its pages back (most of the agent's resident memory).
            if let bytes = StartupPages.release() {
                logger.debug("start-up pages released", metadata: ["advisedBytes": "\(bytes)"])
            }
        }
        let feeder = TriggerFeeder(triggers: triggers, watcher: watcher, tick: tick, notifier: notifier)

        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: server),
                .init(service: observer),
                .init(service: feeder),
                .init(service: reconcile),
                .init(service: repair),
                .init(service: patching),
                .init(service: backup),
                .init(service: streaming[.rebuild]!),
                .init(service: streaming[.decommission]!),
                .init(service: restore),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // A pass stuck on a command gets this long to finish; then it is cancelled,
        // which kills the command's process group.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(10)
        groupConfiguration.maximumCancellationDuration = .seconds(10)
        let group = ServiceGroup(configuration: groupConfiguration)
        logger.info("cassandra-agent starting", metadata: ["desiredState": "\(configuration.desiredState)", "socket": "\(configuration.socket)"])
        do {
            try await group.run()
        } catch is CancellationError {
            // A stop that had to cancel work in flight is still a clean stop: what was cut short was logged.
        }
        logger.info("cassandra-agent stopped", metadata: ["reason": "agent.stopped"])
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Feeds file events, timer ticks and SIGHUP into the reconcile loop.
struct TriggerFeeder: Service {
    let triggers: ReconcileTriggers
    let watcher: FileWatcher
    let tick: Duration
    let notifier: SystemdNotifier

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await withDiscardingTaskGroup { group in
            group.addTask { await triggers.watch(watcher) }
            group.addTask { await triggers.tick(every: tick) }
            group.addTask {
                for await _ in hangups { triggers.send(.reload) }
            }
            try? await gracefulShutdown()
            // Tell systemd at once, even if a pass is still finishing.
            notifier.stopping()
            group.cancelAll()
        }
        triggers.finish()
    }
}
