/// A nodetool command that runs for hours (rebuild, decommission) while the
/// job keeps reading netstats: started at once, waited for in slices, killed
/// on demand (its process group gets SIGTERM, then SIGKILL).
final class LongCommand: Sendable {
    typealias Ended = (outcome: RebuildWorkflow.Outcome, stdout: String)

    let task: Task<Ended, Never>
    let killed: Published<Bool>
    /// Rung when the command ends: a wait that can be cancelled, unlike awaiting the task itself.
    let finished = Doorbell()

    init(nodetool: NodetoolClient, arguments: [String], timeout: Double) {
        let killed = Published(false)
        let finished = finished
        self.killed = killed
        task = Task {
            defer { finished.ring() }
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
        enum Wake: Sendable { case ended, timer, interrupted }
        let finished = finished
        // Every branch must end when cancelled: the group waits for all of them before it returns.
        let first = await withTaskGroup(of: Wake.self) { group in
            group.addTask { await finished.wait(); return .ended }
            group.addTask { try? await clock.sleep(until: deadline); return .timer }
            group.addTask { await interrupt.wait(); return .interrupted }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
        switch first {
        case .ended: return await task.value
        case .timer: return nil
        case .interrupted:
            kill()
            return await task.value
        }
    }
}
