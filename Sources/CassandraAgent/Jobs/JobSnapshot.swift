/// What one job service publishes: its state, the run in progress, the last
/// run, the next one, and what its checks and metrics are made from.
public struct JobSnapshot: Sendable, Equatable {
    public var kind: JobKind
    public var enabled = false
    public var schedule: String?
    public var state: JobState = .disabled
    /// Why the state is what it is, when that is not obvious (a blackout, the run it queues behind).
    public var stateReason: String?
    public var current: JobRunRecord?
    public var lastRun: JobRunRecord?
    public var nextRun: Double?
    public var splaySeconds: Int?
    public var history = JobHistory()
    /// Set for kinds this agent does not run (yet): what an operator should know.
    public var unavailable: String?
    /// Repair only: what the deadline and postponement checks compare against.
    public var postponeWarning: Double = 1800
    public var deadlineSeconds: Double?
    public var gcGraceSeconds: Double?
    /// A problem with the job's journal (damaged, unwritable).
    public var journalProblem: String?
    /// Patching only: the window, the turn, and what halts it.
    public var patching: PatchingStatus?
    /// Backup: when the newest complete, undamaged backup completed; the schedule's period; the last run's numbers.
    public var newestBackupAt: Double?
    public var schedulePeriod: Double?
    public var lastBackup: LastBackupStats?
    /// Backup: the last sampled verify, and the complete backups marked damaged (id -> what is wrong).
    public var verify: SampledVerify.Report?
    public var damagedBackups: [String: String] = [:]

    public init(kind: JobKind) {
        self.kind = kind
    }
}

/// Wakes a waiting loop early (a request came in, the desired state changed).
/// A ring while nobody waits is kept, so a wake-up is never lost.
public final class Doorbell: Sendable {
    private let state = Published<(rung: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    public init() {}

    public func ring() {
        let waiter = state.update { value -> CheckedContinuation<Void, Never>? in
            guard let waiter = value.waiter else { value.rung = true; return nil }
            value.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Forgets a ring nobody waited for.
    public func reset() {
        state.update { $0.rung = false }
    }

    /// Returns at the next ring (or at once if one is pending), or when cancelled.
    public func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.update { value -> Bool in
                    if value.rung || Task.isCancelled { value.rung = false; return true }
                    value.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.update { value -> CheckedContinuation<Void, Never>? in
                defer { value.waiter = nil }
                return value.waiter
            }
            waiter?.resume()
        }
    }

    /// Waits until `deadline` on `clock` or a ring, whichever comes first.
    public func wait(until deadline: Double, clock: any WallClock) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(until: deadline) }
            group.addTask { await self.wait() }
            await group.next()
            group.cancelAll()
        }
    }
}

extension Doorbell {
    /// Runs `body`, cancelling it when this bell rings (a cancel, a stop); nil if it was
    /// interrupted before it returned. A cancelled command's own answer (killed) still counts.
    public func interrupting<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async rethrows -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask { await self.wait(); return nil }
            let first = try await group.next()!
            group.cancelAll()
            if let first { return first }
            return try await group.next() ?? nil
        }
    }
}
