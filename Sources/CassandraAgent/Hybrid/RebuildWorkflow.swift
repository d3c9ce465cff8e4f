/// One rebuild of this node from another datacenter, as a value: events in,
/// actions out, no process, disk or clock. The service around it runs the
/// actions (nodetool reads, `nodetool rebuild`, waits) and feeds back what
/// came of them.
///
/// Read the cluster → preflight (`RebuildPreflight`) → wait for a turn in the
/// datacenter (`maxParallelPerDatacenter`, from the source nodes' netstats;
/// a node later in its datacenter's order waits a stagger before it takes a
/// free turn) → `nodetool rebuild` per keyspace asked for (one call for all
/// when none were), polling netstats for progress and stalls → done, unless
/// nothing came in although the source holds data.
public struct RebuildWorkflow: Sendable {
    public enum Action: Sendable, Equatable {
        case readCluster
        /// `nodetool -h ADDRESS netstats` of each.
        case readSources([String])
        case wait(until: Double)
        /// Start `nodetool <arguments>` and keep it running; then `.poll`.
        case rebuild(keyspace: String?, arguments: [String], timeout: Double)
        /// Wait until `until` or the rebuild's end, then read netstats (`.progress`) or report the end.
        case poll(until: Double)
        /// Kill the running nodetool: the run fails with `reason`.
        case kill(reason: String)
        case finish(JobResult, String)
    }

    public enum Outcome: Sendable, Equatable {
        case succeeded
        case failed(String)
        case timedOut
        /// Killed by `.kill`, a cancel or a stop.
        case killed
    }

    public enum Event: Sendable, Equatable {
        case cluster(Result<ClusterView, Refusal>, now: Double)
        /// The source nodes' netstats that could be read, and those that could not (address, why).
        case sources([NodetoolNetstats], unreadable: [String: String], now: Double)
        case timer(now: Double)
        case progress(NodetoolNetstats?, now: Double)
        case rebuildEnded(Outcome, loadBytes: Int64?, now: Double)
        case cancelled
    }

    public enum Phase: Sendable, Equatable {
        case reading, waitingTurn, rebuilding, done
    }

    public let sourceDC: String
    public let requested: [String]
    public let settings: StreamingSettings
    public private(set) var phase = Phase.reading
    public private(set) var view: ClusterView?
    /// nil entry: one call for every keyspace.
    public private(set) var steps: [String?] = []
    public private(set) var index = 0
    public private(set) var watch: StreamWatch?
    public private(set) var waitingFor: String?
    var staggered = false
    var killReason: String?
    /// The node's Load before the first rebuild, to tell afterwards whether anything came in.
    var loadBefore: Int64?
    var streamedAny = false

    public init(sourceDC: String, keyspaces: [String], settings: StreamingSettings) {
        self.sourceDC = sourceDC
        requested = keyspaces
        self.settings = settings
    }

    public mutating func start() -> Action { .readCluster }

    public mutating func handle(_ event: Event) -> Action {
        switch (phase, event) {
        case (_, .cancelled):
            phase = .done
            return .finish(.cancelled, "cancelled")
        case (.reading, .cluster(.failure(let refusal), _)):
            phase = .done
            return .finish(.failed, "refused before anything streamed: \(refusal.message)")
        case (.reading, .cluster(.success(let view), let now)):
            self.view = view
            loadBefore = view.loadBytes
            switch RebuildPreflight.keyspaces(sourceDC: sourceDC, requested: requested, view: view) {
            case .failure(let refusal):
                phase = .done
                return .finish(.failed, "refused before anything streamed: \(refusal.message)")
            case .success(let keyspaces):
                steps = requested.isEmpty ? [nil] : keyspaces.map { Optional($0) }
            }
            phase = .waitingTurn
            return turnOrStart(now: now)
        case (.waitingTurn, .timer(let now)):
            return turnOrStart(now: now)
        case (.waitingTurn, .sources(let netstats, let unreadable, let now)):
            guard let view else { return .finish(.failed, "internal error: no cluster view") }
            let busy = RebuildPreflight.rebuilding(peersOf: view, sourceNetstats: netstats)
            if busy.count >= settings.maxParallelPerDatacenter {
                waitingFor = "\(busy.joined(separator: ", ")) of \(view.datacenter ?? "?") \(busy.count == 1 ? "is" : "are") rebuilding (seen in the netstats of \(sourceDC)'s nodes); at most \(settings.maxParallelPerDatacenter) at once (rebuild.maxParallelPerDatacenter)"
                return .wait(until: now + settings.pollInterval)
            }
            if !unreadable.isEmpty {
                phase = .done
                let list = unreadable.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
                return .finish(.failed, "cannot tell whether another node of \(view.datacenter ?? "?") is rebuilding: the netstats of \(sourceDC)'s nodes could not be read over JMX (\(list)). "
                    + "Let this node reach their JMX port, or set rebuild.maxParallelPerDatacenter: 0 to rebuild without this bound")
            }
            let rank = RebuildPreflight.rank(of: view)
            if !staggered, rank > 0, settings.stagger > 0 {
                staggered = true
                waitingFor = "a free turn was seen; waiting \(DurationText.format(Double(rank) * settings.stagger)) (place \(rank + 1) in \(view.datacenter ?? "?")'s order) so that nodes started together do not rebuild together"
                return .wait(until: now + Double(rank) * settings.stagger)
            }
            waitingFor = nil
            phase = .rebuilding
            return startStep(now: now)
        case (.rebuilding, .progress(let netstats, let now)):
            watch?.observe(netstats?.transfers("Rebuild", .receiving), now: now)
            if let stalled = watch?.stalled(at: now) {
                killReason = "the rebuild\(stepName) stalled: \(stalled); nodetool was killed, but Cassandra may still be streaming (nodetool netstats) until it is restarted"
                return .kill(reason: killReason!)
            }
            return .poll(until: now + settings.pollInterval)
        case (.rebuilding, .rebuildEnded(let outcome, let load, let now)):
            if (watch?.bytesDone ?? 0) > 0 { streamedAny = true }
            switch outcome {
            case .killed:
                phase = .done
                return .finish(killReason == nil ? .cancelled : .failed, killReason ?? "cancelled; Cassandra may still be streaming (nodetool netstats) until the rebuild ends or Cassandra is restarted")
            case .timedOut:
                phase = .done
                return .finish(.failed, "nodetool rebuild\(stepName) ran longer than \(DurationText.format(settings.timeout)) (rebuild.timeout) and was killed; Cassandra may still be streaming (nodetool netstats)")
            case .failed(let message):
                phase = .done
                return .finish(.failed, "nodetool rebuild\(stepName) failed: \(message)")
            case .succeeded:
                index += 1
                if index < steps.count { return startStep(now: now) }
                phase = .done
                if let before = loadBefore, let after = load, after > before { streamedAny = true }
                if !streamedAny, let view, sourceHoldsData(view) {
                    return .finish(.failed, "nodetool rebuild from \(sourceDC) ended without streaming anything, although \(sourceDC) holds data: "
                        + "Cassandra skips ranges it lists in system.available_ranges (left by an earlier rebuild from a wrong datacenter); "
                        + "delete this node's rows for the keyspaces there (DELETE FROM system.available_ranges WHERE keyspace_name = '...') and rebuild again")
                }
                return .finish(.succeeded, "rebuilt \(requested.isEmpty ? "every keyspace" : requested.joined(separator: ", ")) from \(sourceDC): \(watch.map { "\($0.bytesDone) bytes in the last stream" } ?? "done")")
            }
        default:
            return .finish(.failed, "the rebuild workflow could not continue from \(phase) (an internal error; please report it)")
        }
    }

    var stepName: String {
        guard index < steps.count, let keyspace = steps[index] else { return "" }
        return " of \(keyspace)"
    }

    mutating func turnOrStart(now: Double) -> Action {
        guard settings.maxParallelPerDatacenter > 0, let view else {
            phase = .rebuilding
            return startStep(now: now)
        }
        let sources = view.nodes(in: sourceDC).filter { $0.liveness == .up && $0.state == .normal }.map(\.endpoint.address)
        return .readSources(sources)
    }

    mutating func startStep(now: Double) -> Action {
        watch = StreamWatch(stallTimeout: settings.stallTimeout, now: now)
        let keyspace = steps[index]
        return .rebuild(keyspace: keyspace, arguments: ["rebuild"] + (keyspace.map { ["-ks", $0] } ?? []) + [sourceDC], timeout: settings.timeout)
    }

    /// Whether the source datacenter has data to give (its nodes' Load): an empty cluster streams nothing, rightly.
    func sourceHoldsData(_ view: ClusterView) -> Bool {
        view.nodes(in: sourceDC).reduce(Int64(0)) { $0 + ($1.load ?? 0) } > 1 << 20
    }

    /// What status shows of the run.
    public func progress() -> JobProgress {
        var progress = JobProgress(step: phase == .waitingTurn ? "waiting for a turn to rebuild" : phase == .rebuilding ? "rebuilding\(stepName) from \(sourceDC)" : phase == .reading ? "checking the cluster" : "done")
        progress.keyspace = index < steps.count ? steps[index] : nil
        if steps.count > 1 { progress.segment = min(index + 1, steps.count); progress.segments = steps.count; progress.segmentsDone = index }
        progress.postponed = waitingFor
        // A finished run keeps its last stream's figures: the run's record then says what it moved.
        if let watch, phase == .rebuilding || phase == .done {
            progress.bytes = watch.bytes
            progress.bytesDone = watch.bytesDone
            progress.files = watch.files
            progress.filesDone = watch.filesDone
            progress.streams = watch.peers
        }
        return progress
    }
}
