/// A nodetool command that runs for hours (rebuild, decommission) while the
/// job keeps reading netstats: started at once, waited for in slices, killed
/// on demand (its process group gets SIGTERM, then SIGKILL).
final class LongCommand: Sendable {
    typealias Ended = (outcome: RebuildWorkflow.Outcome, stdout: String)

    let task: Task<Ended, Never>
    let killed: Published<Bool>

    init(nodetool: NodetoolClient, arguments: [String], timeout: Double) {
        let killed = Published(false)
        self.killed = killed
        task = Task {
            do throws(NodetoolError) {
                let stdout = try await nodetool.run(arguments, timeout: .milliseconds(Int64(min(timeout, 1e9) * 1000)))
                return (.succeeded, stdout)
            } catch {
                if killed.value || Task.isCancelled { return (.killed, "") }
                if case .failed(let failure) = error, failure.kind == .timedOut { return (.timedOut, "") }
                return (.failed(error.description), "")
            }
        }
    }

    func kill() {
        killed.update { $0 = true }
        task.cancel()
    }

    /// The command's end if it comes by `deadline`; nil if it is still running then.
    /// A ring of `interrupt` (a cancel, a stop) kills it and returns its end.
    func wait(until deadline: Double, clock: any WallClock, interrupt: Doorbell) async -> Ended? {
        enum Wake: Sendable { case ended(RebuildWorkflow.Outcome, String), timer, interrupted }
        let task = self.task
        let first = await withTaskGroup(of: Wake.self) { group in
            group.addTask { let ended = await task.value; return .ended(ended.outcome, ended.stdout) }
            group.addTask { try? await clock.sleep(until: deadline); return .timer }
            group.addTask { await interrupt.wait(); return .interrupted }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
        switch first {
        case .ended(let outcome, let stdout): return (outcome, stdout)
        case .timer: return nil
        case .interrupted:
            kill()
            return await task.value
        }
    }
}
