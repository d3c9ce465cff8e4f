/// One repair run as a state machine: it takes events (a gate answered, a
/// nodetool run ended, a timer fired) and returns the next action (check the
/// gates, read back-pressure, run this segment, stop a repair inside
/// Cassandra, wait until, finish). It does no I/O and reads no clock: the
/// times come in with the events. `RepairService` performs the actions.
///
/// Every action is answered by exactly one event, so a driver is a loop:
/// `var action = start(now); while let a = action { action = handle(await perform(a)) }`.
public struct RepairWorkflow: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        public var segmentTimeout: Double = 1800
        public var retries: Int = 3
        /// The first retry waits this long, each further one twice as long.
        public var retryBackoff: Double = 60
        /// 0 < intensity <= 1: after a segment that took d, pause d/intensity - d.
        public var intensity: Double = 1
        public var maxPendingCompactions: Int? = 20
        /// Check again this often while a segment is postponed.
        public var pollInterval: Double = 60
        /// A segment postponed this long is skipped, so a run always ends.
        public var postponeLimit: Double = 6 * 3600

        public init() {}
    }

    /// What the service found when asked whether the run may take its next step.
    public enum Gate: Sendable, Equatable {
        case open
        case blackout(until: Double, entry: String)
        /// `repair.enabled: false` in the desired state now in force.
        case disabled
        case cancelled
    }

    public enum Outcome: Sendable, Equatable {
        case succeeded
        case failed(String, timedOut: Bool)
        /// The run was cancelled while nodetool ran; its process group was killed.
        case cancelled
    }

    public enum Event: Sendable, Equatable {
        case gate(Gate, now: Double)
        case backPressure(pendingCompactions: Int?, downReplicas: [String], now: Double)
        case repairEnded(Outcome, now: Double)
        case serverSideStopped(ok: Bool, detail: String, now: Double)
        case timer(now: Double)
    }

    public enum Action: Sendable, Equatable {
        case checkGate
        case checkBackPressure(RepairSegment)
        case repair(RepairSegment, arguments: [String], timeout: Double)
        /// nodetool was killed: stop what it started inside Cassandra.
        case stopServerSide(RepairSegment)
        case wait(until: Double)
        case finish(JobResult, reason: String)
    }

    public enum Phase: Sendable, Equatable {
        case ready
        case gating
        case checking
        case repairing(since: Double)
        case stopping(cancelled: Bool, failure: String?)
        case waiting(until: Double, why: String)
        case finished(JobResult)
    }

    public let plan: RepairPlan
    public let settings: Settings
    public private(set) var phase: Phase = .ready
    /// Index of the segment in progress or next.
    public private(set) var next: Int
    public private(set) var attempt = 0
    public private(set) var done = 0
    public private(set) var failed: [String] = []
    public private(set) var skipped: [String] = []
    public private(set) var postponedSince: Double?
    public private(set) var postponedReason: String?
    /// Postponements by reason code, for metrics.
    public private(set) var postponements: [String: Int] = [:]
    public private(set) var segmentSeconds: [Double] = []
    /// Set when a killed repair could not be stopped inside Cassandra.
    public private(set) var serverSideWarning: String?

    public init(plan: RepairPlan, settings: Settings, resumeAt: Int = 0) {
        self.plan = plan
        self.settings = settings
        next = min(max(0, resumeAt), plan.segments.count)
    }

    var segment: RepairSegment? { next < plan.segments.count ? plan.segments[next] : nil }

    public mutating func start() -> Action {
        phase = .gating
        return .checkGate
    }

    public mutating func handle(_ event: Event) -> Action? {
        switch (phase, event) {
        case (.gating, .gate(let gate, let now)):
            return gated(gate, now: now)
        case (.checking, .backPressure(let pending, let down, let now)):
            return pressure(pending: pending, down: down, now: now)
        case (.repairing(let since), .repairEnded(let outcome, let now)):
            return ended(outcome, seconds: now - since, now: now)
        case (.stopping(let cancelled, let failure), .serverSideStopped(let ok, let detail, let now)):
            if !ok { serverSideWarning = detail }
            if cancelled { return finish(.cancelled, "cancelled by an operator during \(segment?.description ?? "the run")", now: now) }
            // A stop that worked is part of what happened to the segment; one that failed is a warning of its own.
            let what = failure ?? "the repair failed"
            return retryOrFail(ok && !detail.isEmpty ? "\(what); \(detail)" : what, now: now)
        case (.waiting, .timer):
            phase = .gating
            return .checkGate
        default:
            // An event that does not belong to the phase (a late timer): ignored, the run stays where it is.
            return nil
        }
    }

    mutating func gated(_ gate: Gate, now: Double) -> Action {
        switch gate {
        case .cancelled:
            return finish(.cancelled, "cancelled by an operator after \(done) of \(plan.segments.count) segment(s)", now: now)
        case .disabled:
            return finish(.cancelled, "repair was disabled in the desired state (repair.enabled: false); stopped at a segment boundary after \(done) of \(plan.segments.count) segment(s)", now: now)
        case .blackout(let until, let entry):
            phase = .waiting(until: until, why: "paused by the blackout \(entry) until \(Timestamp.iso8601(Int64(until)))")
            return .wait(until: until)
        case .open:
            guard let segment else { return finish(nil, nil, now: now) }
            phase = .checking
            return .checkBackPressure(segment)
        }
    }

    mutating func pressure(pending: Int?, down: [String], now: Double) -> Action {
        guard let segment else { return finish(nil, nil, now: now) }
        var reason: (code: String, text: String)?
        if !down.isEmpty {
            reason = ("replica_down", "a replica of \(segment.description) is down (\(down.joined(separator: ", ")))")
        } else if let limit = settings.maxPendingCompactions, let pending, pending > limit {
            reason = ("pending_compactions", "\(pending) compactions are pending, more than repair.maxPendingCompactions (\(limit))")
        }
        guard let reason else {
            postponedSince = nil
            postponedReason = nil
            phase = .repairing(since: now)
            return .repair(segment, arguments: segment.arguments(kind: plan.kind), timeout: settings.segmentTimeout)
        }
        postponements[reason.code, default: 0] += 1
        let since = postponedSince ?? now
        postponedSince = since
        postponedReason = reason.text
        if now - since >= settings.postponeLimit {
            skipped.append("\(segment.description): \(reason.text) for \(DurationText.format((now - since).rounded()))")
            advance()
            phase = .gating
            return .checkGate
        }
        phase = .waiting(until: now + settings.pollInterval, why: "postponed: \(reason.text)")
        return .wait(until: now + settings.pollInterval)
    }

    mutating func ended(_ outcome: Outcome, seconds: Double, now: Double) -> Action {
        switch outcome {
        case .succeeded:
            segmentSeconds.append(seconds)
            done += 1
            advance()
            let pause = settings.intensity < 1 ? seconds / settings.intensity - seconds : 0
            if pause > 0 {
                phase = .waiting(until: now + pause, why: "pausing \(DurationText.format(pause.rounded())) for repair.intensity \(settings.intensity)")
                return .wait(until: now + pause)
            }
            phase = .gating
            return .checkGate
        case .cancelled:
            phase = .stopping(cancelled: true, failure: nil)
            return .stopServerSide(segment!)
        case .failed(let reason, let timedOut):
            if timedOut {
                phase = .stopping(cancelled: false, failure: reason)
                return .stopServerSide(segment!)
            }
            return retryOrFail(reason, now: now)
        }
    }

    mutating func retryOrFail(_ reason: String, now: Double) -> Action {
        if attempt < settings.retries {
            attempt += 1
            let delay = settings.retryBackoff * Double(1 << min(attempt - 1, 16))
            phase = .waiting(until: now + delay, why: "retry \(attempt) of \(settings.retries) of \(segment?.description ?? "") in \(DurationText.format(delay.rounded())) after: \(reason)")
            return .wait(until: now + delay)
        }
        failed.append("\(segment?.description ?? "?"): \(reason)")
        advance()
        phase = .gating
        return .checkGate
    }

    mutating func advance() {
        next += 1
        attempt = 0
        postponedSince = nil
        postponedReason = nil
    }

    mutating func finish(_ forced: JobResult?, _ reason: String?, now: Double) -> Action {
        let total = plan.segments.count
        var result = forced ?? .succeeded
        var text = reason ?? ""
        if forced == nil {
            if !failed.isEmpty {
                result = .failed
                text = "\(failed.count) of \(total) segment(s) failed after \(settings.retries) retries; first: \(failed[0])"
            } else if !skipped.isEmpty {
                result = skipped.count == total ? .skipped : .failed
                text = "\(skipped.count) of \(total) segment(s) skipped, postponed past repair.postponeLimit; first: \(skipped[0])"
            } else {
                text = total == 0 ? "nothing to repair: no keyspace replicates to this node with more than one replica"
                    : "repaired \(total) segment(s) of \(Set(plan.segments.map(\.keyspace)).sorted().joined(separator: ", "))"
            }
        }
        if let warning = serverSideWarning { text += "; \(warning)" }
        phase = .finished(result)
        return .finish(result, reason: text)
    }

    /// Where the run is, for status and the journal.
    public func progress() -> JobProgress {
        var step: String
        switch phase {
        case .ready, .gating: step = "between segments"
        case .checking: step = "checking pending compactions and replicas"
        case .repairing: step = "repairing \(segment?.description ?? "")" + (attempt > 0 ? " (retry \(attempt))" : "")
        case .stopping: step = "stopping the repair inside Cassandra"
        case .waiting(_, let why): step = why
        case .finished(let result): step = "finished: \(result.rawValue)"
        }
        var progress = JobProgress(step: step)
        progress.keyspace = segment?.keyspace
        progress.segment = segment == nil ? nil : next + 1
        progress.segments = plan.segments.count
        progress.segmentsDone = done
        progress.segmentsFailed = failed.count
        progress.segmentsSkipped = skipped.count
        progress.postponed = postponedReason
        progress.postponedSince = postponedSince
        progress.resumeAt = next
        progress.planFingerprint = plan.fingerprint
        progress.serverSideWarning = serverSideWarning
        return progress
    }
}
