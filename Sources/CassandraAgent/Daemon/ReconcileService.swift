import Logging
import ServiceLifecycle

/// Why a reconcile runs.
public enum ReconcileTrigger: Sendable {
    case fileChanged, tick, reload, requested
}

/// The loop that keeps the node converged. It wakes on a change to the
/// desired-state file, on SIGHUP, on a request through the socket, and on a
/// timer (drift repair); and it pets the systemd watchdog from each pass, so a
/// stuck pass stops the petting and systemd restarts the agent.
public struct ReconcileService: Service {
    let reconciler: Reconciler
    let triggers: AsyncStream<ReconcileTrigger>
    let notifier: SystemdNotifier
    let snapshots: AgentSnapshots
    let logger: Logger
    /// Runs once, after the first pass (the end of start-up).
    let started: @Sendable () -> Void

    public init(reconciler: Reconciler, triggers: AsyncStream<ReconcileTrigger>, notifier: SystemdNotifier, snapshots: AgentSnapshots, logger: Logger,
                started: @escaping @Sendable () -> Void = {}) {
        self.started = started
        self.reconciler = reconciler
        self.triggers = triggers
        self.notifier = notifier
        self.snapshots = snapshots
        self.logger = logger
    }

    public func run() async throws {
        // READY=1 only once the first pass has run: systemd's "started" means converged (or refused, reported).
        guard await pass("start") else { return }
        notifier.ready(status: await summary())
        notifier.watchdog()
        started()
        for await trigger in triggers.cancelOnGracefulShutdown() {
            if case .reload = trigger { notifier.reloading() }
            guard await pass("\(trigger)") else { return }
            if case .reload = trigger { notifier.ready(status: await summary()) } else { notifier.status(await summary()) }
            notifier.watchdog()
        }
    }

    /// One pass, cut short at once by a stop (SIGTERM): its command's process group is
    /// killed rather than waited for. False when the agent is stopping.
    func pass(_ reason: String) async -> Bool {
        let started = ContinuousClock.now
        let reconciler = reconciler
        let cutShort = await cancelWhenGracefulShutdown {
            await reconciler.reconcile(reason: reason)
            return Task.isCancelled
        }
        if cutShort {
            logger.warning("reconcile pass cut short by the stop", metadata: [
                "reason": "reconcile.interrupted", "trigger": "\(reason)", "ranFor": "\(ContinuousClock.now - started)",
            ])
            return false
        }
        return !Task.isShuttingDownGracefully
    }

    func summary() async -> String {
        let health = StatusAssembler.health(snapshots.inputs())
        return "health \(health.health.rawValue), desired state generation \(health.desiredStateGeneration.map(String.init) ?? "none")"
    }
}

/// Merges the reconcile triggers into one stream: file events (debounced),
/// timer ticks, SIGHUP, and requests from the socket.
public final class ReconcileTriggers: Sendable {
    public let stream: AsyncStream<ReconcileTrigger>
    let continuation: AsyncStream<ReconcileTrigger>.Continuation

    public init() {
        (stream, continuation) = AsyncStream<ReconcileTrigger>.makeStream(bufferingPolicy: .bufferingNewest(8))
    }

    public func send(_ trigger: ReconcileTrigger) { continuation.yield(trigger) }

    /// Feeds file changes in at once: the watcher reports only completed changes
    /// (a rename into place, a close after writing), so there is nothing to wait for.
    public func watch(_ watcher: FileWatcher) async {
        for await _ in watcher.changes {
            send(.fileChanged)
        }
    }

    /// Ticks every `interval` until cancelled.
    public func tick(every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            send(.tick)
        }
    }

    public func finish() { continuation.finish() }
}
