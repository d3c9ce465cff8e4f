/// This node leaving the ring, as a value: read the cluster → preflight
/// (`DecommissionPreflight`) → `nodetool decommission`, polling netstats for
/// progress (the node's `Unbootstrap` stream) and stalls → the node has left.
public struct DecommissionWorkflow: Sendable {
    public enum Action: Sendable, Equatable {
        case readCluster
        case decommission(arguments: [String], timeout: Double)
        case poll(until: Double)
        case kill(reason: String)
        case finish(JobResult, String)
    }

    public enum Event: Sendable, Equatable {
        case cluster(Result<ClusterView, Refusal>, now: Double)
        case progress(NodetoolNetstats?, now: Double)
        /// What nodetool printed on success matters on 5.0 ("This node is still decommissioning.").
        case ended(RebuildWorkflow.Outcome, stdout: String, now: Double)
        case cancelled
    }

    public enum Phase: Sendable, Equatable {
        case reading, leaving, following, done
    }

    public let requested: [String]
    public let settings: StreamingSettings
    public private(set) var phase = Phase.reading
    public private(set) var watch: StreamWatch?
    public private(set) var mode: NodetoolNetstats.Mode?
    var killReason: String?

    public init(keyspaces: [String], settings: StreamingSettings) {
        requested = keyspaces
        self.settings = settings
    }

    public mutating func start() -> Action { .readCluster }

    public mutating func handle(_ event: Event) -> Action {
        switch (phase, event) {
        case (_, .cancelled):
            phase = .done
            return .finish(.cancelled, "cancelled; nodetool was killed, but a decommission under way goes on inside Cassandra (nodetool netstats shows LEAVING) until it ends")
        case (.reading, .cluster(.failure(let refusal), _)):
            phase = .done
            return .finish(.failed, "refused, nothing changed: \(refusal.message)")
        case (.reading, .cluster(.success(let view), let now)):
            // Already leaving (a run cut short by a restart of the agent): follow it to its end, start nothing new.
            if view.mode == .leaving, view.myRow?.state == .leaving {
                phase = .following
                watch = StreamWatch(stallTimeout: settings.stallTimeout, now: now)
                return .poll(until: now)
            }
            if let refusal = DecommissionPreflight.check(requested: requested, view: view) {
                phase = .done
                return .finish(.failed, "refused, nothing changed: \(refusal.message)")
            }
            phase = .leaving
            watch = StreamWatch(stallTimeout: settings.stallTimeout, now: now)
            return .decommission(arguments: ["decommission"], timeout: settings.timeout)
        case (.leaving, .progress(let netstats, let now)), (.following, .progress(let netstats, let now)):
            mode = netstats?.mode ?? mode
            if phase == .following, mode == .decommissioned {
                phase = .done
                return .finish(.succeeded, left)
            }
            watch?.observe(netstats?.transfers("Unbootstrap", .sending), now: now)
            if let stalled = watch?.stalled(at: now) {
                killReason = "the decommission stalled: \(stalled); nodetool was killed, but the node stays LEAVING inside Cassandra until its streams end or it is restarted"
                return phase == .leaving ? .kill(reason: killReason!) : finishStalled()
            }
            return .poll(until: now + settings.pollInterval)
        case (.leaving, .ended(let outcome, let stdout, let now)):
            switch outcome {
            case .killed:
                phase = .done
                return .finish(killReason == nil ? .cancelled : .failed, killReason ?? "cancelled; the decommission goes on inside Cassandra until it ends")
            case .timedOut:
                phase = .done
                return .finish(.failed, "nodetool decommission ran longer than \(DurationText.format(settings.timeout)) (decommission.timeout) and was killed; the node may still be LEAVING (nodetool netstats)")
            case .failed(let message):
                phase = .done
                return .finish(.failed, "nodetool decommission failed: \(message)")
            case .succeeded:
                // 5.0 returns at once when a decommission is already under way: follow it to its end.
                if stdout.contains("This node is still decommissioning.") {
                    phase = .following
                    return .poll(until: now + settings.pollInterval)
                }
                phase = .done
                return .finish(.succeeded, left)
            }
        default:
            return .finish(.failed, "the decommission workflow could not continue from \(phase) (an internal error; please report it)")
        }
    }

    mutating func finishStalled() -> Action {
        phase = .done
        return .finish(.failed, killReason ?? "stalled")
    }

    var left: String {
        "the node has left the cluster\(watch.map { $0.bytesDone > 0 ? " (\($0.bytesDone) bytes handed to \($0.peers.map(\.peer).joined(separator: ", ")))" : "" } ?? ""); "
            + "stop Cassandra and retire the host, or clear its data directories before it joins again"
    }

    public func progress() -> JobProgress {
        var progress = JobProgress(step: phase == .reading ? "checking the cluster" : phase == .done ? "done" : "leaving the ring (streaming this node's data to the nodes that take its ranges)")
        if let watch, phase != .reading {
            progress.bytes = watch.bytes
            progress.bytesDone = watch.bytesDone
            progress.files = watch.files
            progress.filesDone = watch.filesDone
            progress.streams = watch.peers
        }
        return progress
    }
}
