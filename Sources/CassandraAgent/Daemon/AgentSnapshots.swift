/// The snapshots every service publishes, in one place for the socket to read.
/// Nothing here decides anything: `StatusAssembler` does, from `inputs()`.
public struct AgentSnapshots: Sendable {
    public let host: String
    public let reconcile: Published<ReconcileSnapshot>
    public let observation: Published<NodeObservation?>
    public let jobs: [JobKind: Published<JobSnapshot>]
    /// The node's complete backups, as the backup service last read them.
    public let backups = Published(BackupListing())
    public let observeInterval: Double
    public let expiryWarningDays: Int
    public let clock: any WallClock

    public init(host: String, desiredStatePath: String, observeInterval: Double, expiryWarningDays: Int, clock: any WallClock) {
        self.host = host
        reconcile = Published(ReconcileSnapshot(desiredStatePath: desiredStatePath))
        observation = Published(nil)
        var jobs: [JobKind: Published<JobSnapshot>] = [:]
        for kind in JobKind.allCases {
            jobs[kind] = Published(JobSnapshot(kind: kind))
        }
        self.jobs = jobs
        self.observeInterval = observeInterval
        self.expiryWarningDays = expiryWarningDays
        self.clock = clock
    }

    /// The desired state in force, for services that act on it.
    public var desiredState: @Sendable () -> DesiredState? {
        let reconcile = reconcile
        return { reconcile.value.inForce?.state }
    }

    public func inputs() -> StatusInputs {
        var jobSnapshots = JobKind.allCases.compactMap { jobs[$0]?.value }
        // Unavailable kinds show whether the desired state asks for them.
        let desired = reconcile.value.inForce?.state
        for index in jobSnapshots.indices where jobSnapshots[index].unavailable != nil {
            switch jobSnapshots[index].kind {
            case .backup:
                jobSnapshots[index].enabled = desired?.backup?.enabled ?? false
                jobSnapshots[index].schedule = desired?.backup?.schedule?.expression
            case .patching:
                jobSnapshots[index].enabled = desired?.patching?.enabled ?? false
                jobSnapshots[index].schedule = desired?.patching?.window?.expression
            default: break
            }
        }
        return StatusInputs(host: host, reconcile: reconcile.value, observation: observation.value, jobs: jobSnapshots,
                            observeInterval: observeInterval, expiryWarningDays: expiryWarningDays, now: clock.now())
    }
}

/// What the socket's job actions reach: start and cancel per kind.
public struct JobControls: Sendable {
    let repair: RepairService?
    let patching: PatchService?
    let backup: BackupService?
    let restore: RestoreService?
    /// The hand-started streaming jobs, by kind (`rebuild`, `decommission`).
    let streaming: [JobKind: StreamingJobService]

    public init(repair: RepairService?, patching: PatchService? = nil, backup: BackupService? = nil, restore: RestoreService? = nil,
                streaming: [JobKind: StreamingJobService] = [:]) {
        self.repair = repair
        self.patching = patching
        self.backup = backup
        self.restore = restore
        self.streaming = streaming
    }

    /// `POST /v1/backups/ID/restore`: a restore (or its dry run) asked of the agent.
    public func restore(_ request: BackupRestore.Request) async -> RestoreService.Answer {
        guard let restore else { return .refused("restore is not running in this agent") }
        return await restore.request(request)
    }

    public func start(_ kind: JobKind, keyspaces: [String], sourceDC: String? = nil) async -> Result<String, NodeLease.Busy> {
        if kind != .rebuild, sourceDC != nil {
            return .failure(.init(message: "--source-dc is for rebuild only"))
        }
        switch kind {
        case .repair:
            guard let repair else { return .failure(.init(message: "repair is not running in this agent")) }
            return await repair.start(keyspaces: keyspaces)
        case .patching:
            guard let patching else { return .failure(.init(message: "patching is not running in this agent")) }
            return await patching.start()
        case .backup:
            guard let backup else { return .failure(.init(message: "backup is not running in this agent")) }
            return await backup.start(keyspaces: keyspaces)
        case .rebuild, .decommission:
            guard let service = streaming[kind] else { return .failure(.init(message: "\(kind.rawValue) is not running in this agent")) }
            return await service.start(keyspaces: keyspaces, sourceDC: sourceDC)
        case .restore:
            return .failure(.init(message: "a restore needs a backup to restore: `cassandra-agent backup restore ID [--keyspace KS [--table T]]`"))
        }
    }

    public func cancel(_ kind: JobKind) async -> Bool {
        switch kind {
        case .repair: await repair?.cancel() ?? false
        case .patching: await patching?.cancel() ?? false
        case .backup: await backup?.cancel() ?? false
        case .rebuild, .decommission: await streaming[kind]?.cancel() ?? false
        case .restore: await restore?.cancel() ?? false
        }
    }
}
