/// The one place that decides who may change the node now.
///
/// Two levels, because jobs are long and reconcile passes are short:
/// - a **job slot**: at most one job run (repair, backup, patching, ...) owns the
///   node from its start to its end. Scheduled runs queue for it in order;
///   a run started by hand is refused while it is taken, with the holder named.
/// - a **change**: one thing at a time actually touches the node: a reconcile
///   install (config files, live setters, a certificate swap) or a job's step
///   (a repair segment, a snapshot and its upload, a drain/stop/start).
///   A job that can be interrupted between its steps (`reconcileBetweenSteps`)
///   lets reconcile changes in between; one that keeps the node in a special
///   state across steps (a drained node in a rolling restart) does not.
///
/// A reconcile pass never waits here (it would stall the watchdog behind a
/// long job): it asks, and when refused it is deferred, and the lease calls
/// `onChangeAllowed` when a deferred pass may try again.
public actor NodeLease {
    public struct JobHold: Sendable, Equatable {
        public var kind: JobKind
        public var runID: String
        public var since: Double
        public var reconcileBetweenSteps: Bool
        public var stepActive = false
        public var step: String?
    }

    public struct Busy: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    struct Waiter {
        var id: Int
        var kind: JobKind
        var continuation: CheckedContinuation<Void, Never>
    }

    let clock: any WallClock
    public private(set) var job: JobHold?
    public private(set) var reconcileActive = false
    var deferredReconcile = false
    var jobWaiters: [Waiter] = []
    var stepWaiters: [CheckedContinuation<Void, Never>] = []
    var nextWaiterID = 0
    var onChangeAllowed: (@Sendable () -> Void)?
    /// Set when the node has left the cluster (a decommission): why no job may start.
    var retired: (@Sendable () -> String?)?

    public init(clock: any WallClock) {
        self.clock = clock
    }

    /// Called when a reconcile pass that was deferred may try again.
    public func whenReconcileMayRetry(_ callback: @escaping @Sendable () -> Void) {
        onChangeAllowed = callback
    }

    /// After a decommission the node is out of the ring: jobs that would change it are refused, and scheduled ones wait.
    public func retireWhen(_ reason: @escaping @Sendable () -> String?) {
        retired = reason
    }

    // MARK: reconcile

    /// Starts a reconcile change, or says why the node is busy (the pass is then deferred).
    public func beginReconcileChange() -> Busy? {
        if let job, !job.reconcileBetweenSteps || job.stepActive {
            deferredReconcile = true
            let what = job.stepActive ? "is in its step \"\(job.step ?? "?")\"" : "keeps the node in its state until it ends"
            return Busy(message: "the \(job.kind.rawValue) run \(job.runID) holds the node and \(what)")
        }
        reconcileActive = true
        return nil
    }

    public func endReconcileChange() {
        reconcileActive = false
        resumeStepWaiters()
    }

    // MARK: jobs

    /// Takes the job slot at once, or says who holds the node (a run started by hand).
    public func tryBeginJob(_ kind: JobKind, runID: String, reconcileBetweenSteps: Bool) -> Busy? {
        if let busy = busyMessage(for: kind) { return busy }
        job = JobHold(kind: kind, runID: runID, since: clock.now(), reconcileBetweenSteps: reconcileBetweenSteps)
        return nil
    }

    /// Waits in line for the job slot (a scheduled run that finds the node busy is queued).
    public func beginJob(_ kind: JobKind, runID: String, reconcileBetweenSteps: Bool) async throws {
        while retired?() != nil {
            try await clock.sleep(for: 30)
        }
        while job != nil || reconcileActive {
            let id = nextWaiterID
            nextWaiterID += 1
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    if Task.isCancelled { continuation.resume(); return }
                    jobWaiters.append(Waiter(id: id, kind: kind, continuation: continuation))
                }
            } onCancel: {
                Task { await self.cancelWaiter(id) }
            }
            try Task.checkCancellation()
        }
        job = JobHold(kind: kind, runID: runID, since: clock.now(), reconcileBetweenSteps: reconcileBetweenSteps)
    }

    /// Whether a job of `kind` would be queued, and behind what.
    public func busyMessage(for kind: JobKind) -> Busy? {
        if let reason = retired?() { return Busy(message: reason) }
        if let job {
            return Busy(message: "the node is busy: the \(job.kind.rawValue) run \(job.runID) holds it since \(Timestamp.iso8601(Int64(job.since)))\(job.kind == kind ? " (one \(kind.rawValue) at a time)" : "")")
        }
        if reconcileActive { return Busy(message: "the node is busy: a reconcile pass is installing the desired state") }
        return nil
    }

    /// A job's step: waits until no reconcile change is under way.
    public func beginStep(_ runID: String, _ step: String) async {
        guard job?.runID == runID else { return }
        while reconcileActive {
            await withCheckedContinuation { stepWaiters.append($0) }
        }
        job?.stepActive = true
        job?.step = step
    }

    public func endStep(_ runID: String) {
        guard job?.runID == runID else { return }
        job?.stepActive = false
        job?.step = nil
        retryDeferredReconcile()
    }

    public func endJob(_ runID: String) {
        guard job?.runID == runID else { return }
        job = nil
        retryDeferredReconcile()
        // Reconcile first, then the next job in line.
        if !jobWaiters.isEmpty { jobWaiters.removeFirst().continuation.resume() }
    }

    /// Queued job kinds, in order.
    public func queued() -> [JobKind] { jobWaiters.map(\.kind) }

    func cancelWaiter(_ id: Int) {
        if let at = jobWaiters.firstIndex(where: { $0.id == id }) {
            jobWaiters.remove(at: at).continuation.resume()
        }
    }

    func resumeStepWaiters() {
        let waiters = stepWaiters
        stepWaiters = []
        waiters.forEach { $0.resume() }
        if job == nil, !jobWaiters.isEmpty { jobWaiters.removeFirst().continuation.resume() }
    }

    func retryDeferredReconcile() {
        guard deferredReconcile else { return }
        deferredReconcile = false
        onChangeAllowed?()
    }
}

extension NodeLease {
    /// Waits in line for the job slot until `bell` rings (a cancel, a stop): true once the slot is held.
    public nonisolated func queue(_ kind: JobKind, runID: String, reconcileBetweenSteps: Bool, until bell: Doorbell) async -> Bool {
        let acquired: Void?
        do {
            acquired = try await bell.interrupting { try await self.beginJob(kind, runID: runID, reconcileBetweenSteps: reconcileBetweenSteps) }
        } catch {
            return false
        }
        return acquired != nil
    }
}
