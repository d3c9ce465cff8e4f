import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A job's journal in the state directory (`jobs/KIND.json`, written atomically):
/// the run in progress with its progress, the last runs, the last scheduled slot
/// handled, and counters for metrics. After a crash or a restart of the host,
/// `recover` turns a run that was in progress into an `interrupted` one, so
/// nothing is ever shown `running` without a live process behind it.
public struct JobHistory: Codable, Sendable, Equatable {
    public var current: JobRunRecord?
    /// Newest last; at most `keep`.
    public var runs: [JobRunRecord] = []
    /// The cron time of the last scheduled run started (or deliberately skipped).
    public var lastSlot: Double?
    /// Repair: when a run over every keyspace last completed, and since when the agent has been counting.
    public var lastCompleteCycleAt: Double?
    public var trackedSince: Double?
    public var counters = Counters()

    public struct Counters: Codable, Sendable, Equatable {
        public var runs: [String: Int] = [:]
        public var segments: [String: Int] = [:]
        public var postponements: [String: Int] = [:]
        public var segmentSeconds: Double = 0
        public var runSeconds: Double = 0
        /// Backup: files and bytes of successful runs ("files", "stored_bytes", "skipped_bytes"...).
        public var backup: [String: Int]?
    }

    static let keep = 20

    public init() {}

    public var lastRun: JobRunRecord? { runs.last }

    mutating func start(_ run: JobRunRecord) {
        current = run
        if let slot = run.slot { lastSlot = max(lastSlot ?? slot, slot) }
    }

    mutating func finish(_ result: JobResult, reason: String?, at now: Double) {
        guard var run = current else { return }
        run.endedAt = now
        run.result = result
        run.reason = reason
        record(run)
        counters.runSeconds += max(0, now - run.startedAt)
        current = nil
    }

    mutating func record(_ run: JobRunRecord) {
        runs.append(run)
        if runs.count > Self.keep { runs.removeFirst(runs.count - Self.keep) }
        counters.runs[run.result?.rawValue ?? "unknown", default: 0] += 1
    }

    /// A run journalled as in progress when the agent starts was cut short: it is
    /// recorded `interrupted` and returned, so the job can resume or retry it.
    mutating func recover(at now: Double) -> JobRunRecord? {
        guard var run = current else { return nil }
        run.endedAt = now
        run.result = .interrupted
        let step = run.progress.map { " during \"\($0.step)\"" } ?? ""
        run.reason = "the agent stopped\(step) before the run ended (a crash, a restart of the agent or of the host); "
            + (run.kind == .repair ? "it resumes at its next segment" : run.kind == .patching ? "the turn resumes at the step it was in"
                : run.kind == .rebuild || run.kind == .decommission ? "streaming may go on inside Cassandra (nodetool netstats); start the job again once it has ended" : "it is retried")
        record(run)
        current = nil
        return run
    }
}

/// Reads and writes the journals; one file per kind, so jobs never contend on one file.
public struct JobHistoryStore: Sendable {
    public let directory: String

    public init(stateDirectory: String) {
        directory = stateDirectory + "/jobs"
    }

    func path(_ kind: JobKind) -> String { "\(directory)/\(kind.rawValue).json" }

    /// The journal, or an empty one; a damaged file is kept aside rather than lost.
    public func load(_ kind: JobKind) -> (history: JobHistory, problem: String?) {
        let file = path(kind)
        let read: [UInt8]?
        do {
            read = try FileIO.readIfPresent(file)
        } catch {
            return (JobHistory(), "cannot read \(file): \(error)")
        }
        guard let bytes = read else { return (JobHistory(), nil) }
        do {
            return (try JSONDecoder().decode(JobHistory.self, from: Data(bytes)), nil)
        } catch {
            let aside = file + ".damaged"
            _ = rename(file, aside)
            return (JobHistory(), "\(file) could not be read (\(error)); it was moved to \(aside) and the history starts anew")
        }
    }

    public func save(_ history: JobHistory, _ kind: JobKind) throws(SystemError) {
        try FileIO.makeDirectories(directory, mode: 0o700)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(history)).map(Array.init) ?? []
        try FileIO.writeAtomically(path(kind), bytes, mode: 0o600)
    }
}
