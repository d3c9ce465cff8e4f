/// One node's turn in a patch window as a state machine: events in (a turn
/// decision, a command's end, a probe's answer, a timer), actions out (ask whose
/// turn it is, drain, stop, patch, reboot, start, check the node is back). It
/// does no I/O and reads no clock. `PatchService` performs the actions.
///
/// The step about to run is journalled before it runs (`Journal`), and a machine
/// made from a journal after a crash or a reboot (`init(resuming:)`) never
/// repeats a drain or a patch that may already have happened: a drain that was
/// started is checked (`probeDrained`) rather than run again, a patch command that
/// was started is not run again, a started reboot means the host rebooted.
public struct PatchTurn: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        public var drainTimeout: Double = 600
        public var stopTimeout: Double = 300
        public var patchTimeout: Double = 3600
        public var startTimeout: Double = 300
        /// From the start until peers see the node UN, native transport is up and gossip settled.
        public var upTimeout: Double = 900
        /// How long every node outside the rack must have been UN before the rack goes.
        public var settle: Double = 30
        public var pollInterval: Double = 5
        public var reboot: DesiredState.Patching.Reboot = .ifRequired

        public init() {}
    }

    public enum Step: String, Sendable, Codable, CaseIterable {
        case waiting, drain, stop, patch, reboot, start, rollback, waitUp, done
    }

    /// What is written to the state directory before each step.
    public struct Journal: Sendable, Equatable, Codable {
        /// The window this turn belongs to (its opening instant).
        public var windowStart: Double
        /// The step started last (it may or may not have finished).
        public var step: Step
        public var drained = false
        public var patched = false
        public var rolledBack = false
        /// The restart applies config changes recorded as restart pending; a failed start rolls back.
        public var configPending = false
        public var startedUpAt: Double?
        public var notes: [String] = []

        public init(windowStart: Double, step: Step) {
            self.windowStart = windowStart
            self.step = step
        }
    }

    public enum Event: Sendable, Equatable {
        /// The turn decision (`RackTurn.decide`), with the window's state and this node's pre-checks.
        case turn(RackTurn.Decision, windowOpen: Bool, preCheck: String?, now: Double)
        /// nil: the step's command succeeded; otherwise why it did not (timed out included).
        case ended(Step, failure: String?, now: Double)
        case drainProbe(drained: Bool, unitActive: Bool, now: Double)
        case rebootRequired(Bool, now: Double)
        /// nil: the node is back (UN to peers, native transport up, gossip settled); otherwise what is missing.
        case upCheck(missing: String?, now: Double)
        case timer(now: Double)
    }

    public enum Action: Sendable, Equatable {
        case decide
        case wait(until: Double)
        case probeDrained
        case drain(timeout: Double)
        case stop(timeout: Double)
        case patch(timeout: Double)
        case checkRebootRequired
        /// The host reboots: the agent does not see this action end; it resumes at `start`.
        case reboot
        case start(timeout: Double)
        /// Put the previous generation of the config files back (a start failed after a config change).
        case rollback
        case checkUp
        case finish(JobResult, reason: String)
    }

    public let settings: Settings
    public private(set) var journal: Journal
    public private(set) var waitingReason: String?
    public private(set) var heldBy: String?
    public private(set) var finished: JobResult?

    public init(windowStart: Double, settings: Settings, configPending: Bool = false) {
        self.settings = settings
        journal = Journal(windowStart: windowStart, step: .waiting)
        journal.configPending = configPending
    }

    /// A machine that continues a journalled turn.
    public init(resuming journal: Journal, settings: Settings) {
        self.settings = settings
        self.journal = journal
    }

    public var step: Step { journal.step }

    /// The first action; for a resumed turn, the step it was cut short in.
    public mutating func start(now: Double) -> Action {
        switch journal.step {
        case .waiting: return .decide
        case .drain:
            // Maybe drained already: ask the node rather than drain twice.
            return .probeDrained
        case .stop: return enter(.stop)
        case .patch:
            // The patch command was started and cut short (or ended unrecorded): it is never run twice.
            journal.patched = true
            journal.notes.append("the patch command was cut short by a stop of the agent and is not run again")
            return afterPatch()
        case .reboot:
            // A reboot that was started is what stopped the agent: the host came back.
            return enter(.start)
        case .start, .rollback: return enter(.start)
        case .waitUp:
            journal.startedUpAt = journal.startedUpAt ?? now
            return .checkUp
        case .done: return finish(.succeeded, "the turn had already ended")
        }
    }

    public mutating func handle(_ event: Event) -> Action? {
        guard finished == nil else { return nil }
        switch (journal.step, event) {
        case (.waiting, .turn(let decision, let open, let preCheck, let now)):
            switch decision {
            case .done:
                return finish(.skipped, "this node already restarted in this window (its gossip generation is newer than the window's opening), outside of a patch turn; it is patched in the next window")
            case .wait(let reason, let until, let held):
                guard open else { return finish(.skipped, "the window closed before this rack's turn: \(reason)") }
                waitingReason = reason
                heldBy = held
                return .wait(until: min(until ?? .infinity, now + settings.pollInterval))
            case .go:
                guard open else { return finish(.skipped, "the window closed before this rack's turn") }
                if let preCheck { return finish(.failed, "pre-check failed, the turn did not start: \(preCheck)") }
                waitingReason = nil
                heldBy = nil
                return enter(.drain)
            }
        case (.waiting, .timer):
            return .decide
        case (.drain, .drainProbe(let drained, let active, _)):
            if drained || !active {
                journal.drained = true
                return enter(.stop)
            }
            return .drain(timeout: settings.drainTimeout)
        case (.drain, .ended(.drain, let failure, _)):
            if let failure { return finish(.failed, "nodetool drain failed: \(failure)") }
            journal.drained = true
            return enter(.stop)
        case (.stop, .ended(.stop, let failure, _)):
            if let failure { return finish(.failed, "stopping the unit failed: \(failure)") }
            return enter(.patch)
        case (.patch, .ended(.patch, let failure, _)):
            journal.patched = true
            if let failure {
                // The node is stopped and drained: it is started again so the cluster is whole, then the run fails.
                journal.notes.append("the patch command failed: \(failure)")
                return enter(.start)
            }
            return afterPatch()
        case (.reboot, .rebootRequired(let required, _)):
            if required { return .reboot }
            return enter(.start)
        case (.reboot, .ended(.reboot, let failure, _)):
            // The reboot command failed: the node is started without it, and the run says so.
            journal.notes.append("the reboot command failed (\(failure ?? "no reason")); the node was started without a reboot")
            return enter(.start)
        case (.start, .ended(.start, let failure, let now)):
            if let failure {
                if journal.configPending && !journal.rolledBack {
                    journal.notes.append("the start failed after a config change (\(failure)); the previous generation of the config files was put back and the node started again")
                    return enter(.rollback)
                }
                let rolledBack = journal.rolledBack ? ", even after its config files were rolled back to the previous generation" : ""
                return finish(.failed, "the node did not start\(rolledBack): \(failure); it stays down and the window is halted for the cluster")
            }
            journal.startedUpAt = now
            return enter(.waitUp)
        case (.rollback, .ended(.rollback, let failure, _)):
            journal.rolledBack = true
            if let failure { return finish(.failed, "the start failed after a config change and the rollback failed too: \(failure); the window is halted") }
            return enter(.start)
        case (.waitUp, .upCheck(let missing, let now)):
            guard let missing else { return done() }
            let since = journal.startedUpAt ?? now
            if now - since >= settings.upTimeout {
                return finish(.failed, "the node did not come back within \(DurationText.format(settings.upTimeout)): \(missing); the window is halted for the cluster")
            }
            waitingReason = missing
            return .wait(until: now + settings.pollInterval)
        case (.waitUp, .timer):
            return .checkUp
        default:
            return nil
        }
    }

    mutating func enter(_ step: Step) -> Action {
        journal.step = step
        switch step {
        case .drain: return .probeDrained
        case .stop: return .stop(timeout: settings.stopTimeout)
        case .patch: return .patch(timeout: settings.patchTimeout)
        case .reboot: return .checkRebootRequired
        case .start: return .start(timeout: settings.startTimeout)
        case .rollback: return .rollback
        case .waitUp: return .checkUp
        case .waiting: return .decide
        case .done: return done()
        }
    }

    mutating func afterPatch() -> Action {
        switch settings.reboot {
        case .never: return enter(.start)
        case .always:
            journal.step = .reboot
            return .reboot
        case .ifRequired: return enter(.reboot)
        }
    }

    mutating func done() -> Action {
        journal.step = .done
        if let failure = journal.notes.first(where: { $0.hasPrefix("the patch command failed") }) {
            return finish(.failed, "\(failure); the node was started again and is back")
        }
        var text = "drained, stopped, patched and started; the node is UN to its peers"
        if journal.rolledBack { text += "; " + (journal.notes.first { $0.contains("previous generation") } ?? "config rolled back") }
        if let reboot = journal.notes.first(where: { $0.hasPrefix("the reboot command failed") }) { text += "; " + reboot }
        return finish(.succeeded, text)
    }

    mutating func finish(_ result: JobResult, _ reason: String) -> Action {
        finished = result
        if result != .skipped || journal.step != .waiting { journal.step = .done }
        return .finish(result, reason: reason)
    }

    /// Where the turn is, for status.
    public func progress() -> JobProgress {
        var text: String
        switch journal.step {
        case .waiting: text = "waiting for this rack's turn" + (waitingReason.map { ": \($0)" } ?? "")
        case .drain: text = "draining (nodetool drain)"
        case .stop: text = "stopping the unit"
        case .patch: text = "running the patch command"
        case .reboot: text = "rebooting"
        case .start: text = "starting the unit"
        case .rollback: text = "rolling back the config files after a failed start"
        case .waitUp: text = "waiting until peers see the node UN" + (waitingReason.map { ": \($0)" } ?? "")
        case .done: text = "finished"
        }
        return JobProgress(step: text)
    }
}
