/// How bad something is. Ordered: the worst check sets the node's health.
public enum HealthLevel: String, Codable, Sendable, Comparable, CaseIterable {
    case ok, warning, critical

    public static func < (a: HealthLevel, b: HealthLevel) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One thing the agent checks, with a stable reason code and a sentence an
/// operator can act on.
public struct HealthCheck: Codable, Sendable, Equatable {
    public var name: String
    public var level: HealthLevel
    /// Stable across releases: alerting keys on it.
    public var reason: String
    public var message: String
    /// When what this check is based on was observed, and how old that is.
    public var observedAt: String?
    public var ageSeconds: Int?
}

/// `GET /v1/status`: the node as the agent last saw it. Served from memory;
/// answering never runs nodetool.
public struct StatusDocument: Codable, Sendable, Equatable {
    public struct DesiredStateInfo: Codable, Sendable, Equatable {
        public var file: String
        public var hash: String?
        public var generation: Int?
        public var appliedAt: String?
        public var cassandraVersion: String?
        public var lastRefused: RefusedFile?
    }

    public struct RefusedFile: Codable, Sendable, Equatable {
        public var file: String
        public var hash: String?
        public var at: String
        public var errors: [String]
    }

    public struct RestartPending: Codable, Sendable, Equatable {
        public var since: String
        public var settings: [String]
    }

    public struct LiveChange: Codable, Sendable, Equatable {
        public var command: String
        public var at: String
        public var succeeded: Bool
        public var error: String?
    }

    /// One certificate in a keystore or truststore the agent installed.
    public struct StoreEntry: Codable, Sendable, Equatable {
        public var file: String
        public var alias: String
        public var subject: String
        public var fingerprint: String
        public var notAfter: String
        public var daysLeft: Int
    }

    /// `jobs.KIND` (contract section 4).
    public struct Job: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var state: JobState
        /// Why the state is what it is, when that is not obvious.
        public var stateReason: String?
        public var schedule: String?
        public var current: CurrentRun?
        public var lastRun: JobRun?
        public var nextRun: String?
        /// This node's offset after each scheduled time.
        public var splaySeconds: Int?
        /// Patching: the window, whose turn it is, this node's step, what halts it.
        public var patching: PatchingStatus? = nil
    }

    public struct CurrentRun: Codable, Sendable, Equatable {
        public var id: String
        public var trigger: String
        public var startedAt: String
        public var elapsedSeconds: Int
        public var step: String
        public var keyspace: String?
        public var segment: Int?
        public var segments: Int?
        public var segmentsDone: Int
        public var segmentsFailed: Int
        public var segmentsSkipped: Int
        public var postponed: String?
        public var resumes: String?
        /// Backup: files and bytes of the upload in progress.
        public var files: Int?
        public var filesDone: Int?
        public var bytes: Int64?
        public var bytesDone: Int64?
        /// Rebuild and decommission: each peer's part of the stream (netstats).
        public var streams: [StreamPeer]? = nil
    }

    public struct JobRun: Codable, Sendable, Equatable {
        public var id: String
        public var trigger: String
        public var startedAt: String
        public var endedAt: String?
        public var result: String
        public var reason: String?
    }

    /// A reconcile pass that waits because a job holds the node.
    public struct Deferred: Codable, Sendable, Equatable {
        public var since: String
        public var reason: String
    }

    public struct Reconcile: Codable, Sendable, Equatable {
        public var count: Int
        public var lastAt: String?
        public var driftCorrected: Int
        public var lastDrift: String?
        public var deferred: Deferred?
    }

    public var node: String
    public var health: HealthLevel
    public var generatedAt: String
    public var checks: [HealthCheck]
    public var desiredState: DesiredStateInfo
    public var restartPending: RestartPending?
    public var liveChanges: [LiveChange]
    public var stores: [StoreEntry]
    public var jobs: [String: Job]
    public var reconcile: Reconcile
    /// The hybrid-cluster checklist, while the cluster or the seeds span datacenters.
    public var hybrid: HybridChecklist? = nil
}

/// `GET /v1/health`: small and cheap.
public struct HealthDocument: Codable, Sendable, Equatable {
    public var health: HealthLevel
    public var node: String
    public var desiredStateGeneration: Int?
}
