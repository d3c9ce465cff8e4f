/// The kinds of job the contract names. Each runs under the same rules: one
/// job changes the node at a time (`NodeLease`), blackouts hold them, and their
/// history survives the agent.
public enum JobKind: String, Codable, Sendable, CaseIterable, Comparable {
    /// `restore`: `backup restore ID` run by the agent (it changes the node like any job).
    case repair, backup, patching, rebuild, decommission, restore

    public static func < (a: JobKind, b: JobKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The kinds that `status` and `jobs` always list (the contract's three).
    public static let reported: [JobKind] = [.repair, .backup, .patching]
}

/// How a run ended.
public enum JobResult: String, Codable, Sendable, CaseIterable {
    case succeeded, failed, cancelled, interrupted, skipped
}

/// Why a run started.
public enum JobTrigger: String, Codable, Sendable {
    /// Its scheduled time came.
    case schedule
    /// The scheduled time passed while the agent or host was down, within the grace period.
    case missed
    /// `cassandra-agent job start` or `POST /v1/jobs/KIND/start`.
    case manual
    /// A run cut short by a stop of the agent, picked up where it was.
    case resume
}

/// What a job's state is right now, in the contract's words.
public enum JobState: String, Codable, Sendable {
    case idle, queued, running, paused, blackout, disabled
}

/// One run of a job: what is journalled in the state directory while it runs
/// and kept in the history after.
public struct JobRunRecord: Codable, Sendable, Equatable {
    public var id: String
    public var kind: JobKind
    public var trigger: JobTrigger
    public var startedAt: Double
    public var endedAt: Double?
    public var result: JobResult?
    public var reason: String?
    public var progress: JobProgress?
    /// For a resumed run: the run it continues.
    public var resumes: String?
    /// The cron time this run was for (scheduled and missed runs).
    public var slot: Double?

    public init(id: String, kind: JobKind, trigger: JobTrigger, startedAt: Double, slot: Double? = nil, resumes: String? = nil) {
        self.id = id
        self.kind = kind
        self.trigger = trigger
        self.startedAt = startedAt
        self.slot = slot
        self.resumes = resumes
    }
}

/// Where a running job is: a sentence for humans and the numbers behind it.
public struct JobProgress: Codable, Sendable, Equatable {
    public var step: String
    public var keyspace: String?
    /// 1-based index of the segment in progress, of `segments`.
    public var segment: Int?
    public var segments: Int?
    public var segmentsDone: Int = 0
    public var segmentsFailed: Int = 0
    public var segmentsSkipped: Int = 0
    /// Set while the job waits for the node to allow it (pending compactions, a replica down).
    public var postponed: String?
    public var postponedSince: Double?
    /// The segment to start from when a cut-short run is resumed, and the plan it indexes.
    public var resumeAt: Int?
    public var planFingerprint: String?
    /// A repair that could not be stopped inside Cassandra after its client was killed.
    public var serverSideWarning: String?
    /// Patching: the node's turn as journalled before each step.
    public var patchTurn: PatchTurn.Journal?
    /// Backup: the backup's id and snapshot tag, and how far its upload is.
    public var backupID: String?
    public var snapshotTag: String?
    public var files: Int?
    public var filesDone: Int?
    public var bytes: Int64?
    public var bytesDone: Int64?
    /// Rebuild and decommission: each peer's part of the stream, from netstats.
    public var streams: [StreamPeer]?

    public init(step: String) {
        self.step = step
    }
}

/// A job id: the kind and the start time, readable and sortable (`repair-20261201T031500Z`).
enum JobID {
    static func make(_ kind: JobKind, at seconds: Double) -> String {
        let stamp = Timestamp.iso8601(Int64(seconds)).filter { $0 != "-" && $0 != ":" }
        return "\(kind.rawValue)-\(stamp)"
    }
}
