/// What the reconcile loop has done, as it publishes it: the desired state in
/// force, the last refused file, what waits for a restart, live changes, drift,
/// and a pass that waits because a job holds the node. Plain data with the
/// few rules of how one pass's outcome updates it.
public struct ReconcileSnapshot: Sendable {
    public struct InForce: Sendable {
        public var hash: String
        public var generation: Int?
        public var appliedAt: Double
        public var version: CassandraVersion
        public var state: DesiredState
    }

    public struct PendingRestart: Sendable, Equatable {
        public var since: Double
        public var settings: [String]
    }

    /// A change the loop could not install because the node was busy.
    public struct Deferral: Sendable, Equatable {
        public var since: Double
        public var reason: String
    }

    public var desiredStatePath: String
    public var inForce: InForce?
    public var refused: StatusDocument.RefusedFile?
    /// The hash of the last refused file, so the same broken file is not re-reported.
    public var refusedHash: String?
    public var pendingRestart: PendingRestart?
    public var liveChanges: [StatusDocument.LiveChange] = []
    public var count = 0
    public var lastAt: Double?
    public var driftCorrected = 0
    public var lastDrift: (at: Double, files: [String])?
    public var storeCertificates: [(store: String, certificate: NodeArtifacts.StoreCertificate)] = []
    public var deferred: Deferral?
    /// The desired-state file (or a directory above it) may be written by others: refused until fixed.
    public var untrusted = false
    /// The last install that failed (a full disk, a read-only file system), until one succeeds.
    public struct InstallFailure: Sendable, Equatable {
        public var since: Double
        public var reason: String
        public var message: String
    }

    public var installFailure: InstallFailure?
    /// The pass in progress: since when, and why it started.
    public var passStartedAt: Double?
    public var passTrigger: String?

    public init(desiredStatePath: String) {
        self.desiredStatePath = desiredStatePath
    }

    mutating func applied(hash: String, generation: Int?, version: CassandraVersion, state: DesiredState, at now: Double) {
        if inForce?.hash != hash { inForce = InForce(hash: hash, generation: generation, appliedAt: now, version: version, state: state) }
        inForce?.generation = generation
        inForce?.state = state
        refused = nil
        refusedHash = nil
        deferred = nil
    }

    /// Every refusal states its own cause: one for other writers sets `untrusted` after this,
    /// so a file refused as untrusted and then deleted is no longer reported as untrusted.
    mutating func refusedFile(_ file: String, hash: String?, errors: [String], at now: Double) {
        refused = .init(file: file, hash: hash, at: Timestamp.iso8601(Int64(now)), errors: errors)
        refusedHash = hash
        untrusted = false
    }

    mutating func restartNeeded(for settings: [String], at now: Double) {
        guard !settings.isEmpty else { return }
        let known = pendingRestart?.settings ?? []
        pendingRestart = PendingRestart(since: pendingRestart?.since ?? now, settings: known + settings.filter { !known.contains($0) })
    }

    mutating func recordLive(_ command: String, error: String?, at now: Double) {
        liveChanges.append(.init(command: command, at: Timestamp.iso8601(Int64(now)), succeeded: error == nil, error: error))
        if liveChanges.count > 20 { liveChanges.removeFirst(liveChanges.count - 20) }
    }

    mutating func reconciled(at now: Double, drift: [String]) {
        count += 1
        lastAt = now
        if !drift.isEmpty {
            driftCorrected += 1
            lastDrift = (now, drift)
        }
    }

    /// Cassandra started after the restart became pending: it has read the new files.
    mutating func cassandraStarted(at started: Double?) {
        if let pending = pendingRestart, let started, started > pending.since { pendingRestart = nil }
    }

    /// The node as its peers know it: its listen address (or interface) once a desired state is in force.
    public func displayName(host: String, observed: NodeObservation? = nil) -> String {
        switch inForce?.state.node.listen.value {
        case .address(let address): address
        case .interface(let name): "\(host) (\(name))"
        case .hostName: observed?.ownAddress ?? observed?.hostNameAddress ?? host
        case nil: host
        }
    }
}
