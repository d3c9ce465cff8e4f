import FoundationEssentials

/// Everything the agent knows about its node, in one actor: what reconcile
/// did, what observation saw, and the checks derived from both. The socket
/// reads from here; nothing here waits on a command.
public actor NodeState {
    public struct Observation: Sendable {
        public var at: Double
        public var unitActive: Bool?
        public var unitState: String?
        public var unitError: String?
        public var info: NodetoolInfo?
        public var status: NodetoolStatus?
        public var nativeTransport: Bool?
        public var gossip: Bool?
        public var mode: NodetoolNetstats.Mode?
        public var nodetoolError: String?
        public var disks: [DiskSpace] = []
    }

    public struct DiskSpace: Sendable, Equatable {
        public var path: String
        public var freeBytes: Int64?
        public var totalBytes: Int64?
        public var error: String?

        public var freeFraction: Double? {
            guard let free = freeBytes, let total = totalBytes, total > 0 else { return nil }
            return Double(free) / Double(total)
        }
    }

    let nodeName: String
    let desiredStatePath: String
    let observeInterval: Double
    var inForce: (hash: String, generation: Int?, appliedAt: Double, version: CassandraVersion, state: DesiredState)?
    var refused: StatusDocument.RefusedFile?
    var refusedHash: String?
    var pendingRestart: (since: Double, settings: [String])?
    var liveChanges: [StatusDocument.LiveChange] = []
    var observation: Observation?
    var reconcileCount = 0
    var lastReconcile: Double?
    var driftCorrected = 0
    var lastDrift: (at: Double, files: [String])?
    var jobRuns: [String: StatusDocument.JobRun] = [:]
    var storeCertificates: [(store: String, certificate: NodeArtifacts.StoreCertificate)] = []
    /// Warn when a certificate in a store expires within this many days.
    let expiryWarningDays: Int

    public init(nodeName: String, desiredStatePath: String, observeInterval: Double, expiryWarningDays: Int = 30) {
        self.expiryWarningDays = expiryWarningDays
        self.nodeName = nodeName
        self.desiredStatePath = desiredStatePath
        self.observeInterval = observeInterval
    }

    // MARK: updates

    func applied(hash: String, generation: Int?, version: CassandraVersion, state: DesiredState, at now: Double) {
        if inForce?.hash != hash { inForce = (hash, generation, now, version, state) }
        inForce?.generation = generation
        refused = nil
        refusedHash = nil
    }

    func refusedFile(_ file: String, hash: String?, errors: [String], at now: Double) {
        refused = .init(file: file, hash: hash, at: Timestamp.iso8601(Int64(now)), errors: errors)
        refusedHash = hash
    }

    /// The hash of the last refused file, so the same broken file is not re-reported.
    func lastRefusedHash() -> String? { refusedHash }
    func refusedErrors() -> [String]? { refused?.errors }
    func hashInForce() -> String? { inForce?.hash }
    func stateInForce() -> DesiredState? { inForce?.state }

    func stores(_ certificates: [(String, NodeArtifacts.StoreCertificate)]) {
        storeCertificates = certificates.map { (store: $0.0, certificate: $0.1) }
    }

    func restartNeeded(for settings: [String], at now: Double) {
        guard !settings.isEmpty else { return }
        let merged = (pendingRestart?.settings ?? []) + settings.filter { !(pendingRestart?.settings ?? []).contains($0) }
        pendingRestart = (pendingRestart?.since ?? now, merged)
    }

    func recordLive(_ command: String, error: String?, at now: Double) {
        liveChanges.append(.init(command: command, at: Timestamp.iso8601(Int64(now)), succeeded: error == nil, error: error))
        if liveChanges.count > 20 { liveChanges.removeFirst(liveChanges.count - 20) }
    }

    func reconciled(at now: Double, drift: [String]) {
        reconcileCount += 1
        lastReconcile = now
        if !drift.isEmpty {
            driftCorrected += 1
            lastDrift = (now, drift)
        }
    }

    func observed(_ observation: Observation) {
        self.observation = observation
        // Cassandra started after the restart became pending: it has read the new files.
        if let pending = pendingRestart, let uptime = observation.info?.uptimeSeconds,
           observation.at - Double(uptime) > pending.since {
            pendingRestart = nil
        }
    }

    // MARK: reading

    /// The node as its peers know it: its listen address (or interface) once a desired state is in force.
    var displayName: String {
        switch inForce?.state.node.listen.value {
        case .address(let address): address
        case .interface(let name): "\(nodeName) (\(name))"
        case nil: nodeName
        }
    }

    public func health() -> HealthDocument {
        let now = wallClockSeconds()
        return HealthDocument(health: checks(now: now).map(\.level).max() ?? .ok, node: displayName, desiredStateGeneration: inForce?.generation)
    }

    public func document() -> StatusDocument {
        let now = wallClockSeconds()
        let checks = checks(now: now)
        let state = inForce?.state
        func job(_ enabled: Bool?, _ schedule: CronSchedule?, _ kind: String) -> StatusDocument.Job {
            StatusDocument.Job(
                enabled: enabled ?? false, schedule: schedule?.expression, lastRun: jobRuns[kind],
                nextRun: enabled == true ? schedule.flatMap { $0.next(after: Int64(now), in: .utc) }.map(Timestamp.iso8601) : nil)
        }
        return StatusDocument(
            node: displayName,
            health: checks.map(\.level).max() ?? .ok,
            generatedAt: Timestamp.iso8601(Int64(now)),
            checks: checks,
            desiredState: .init(
                file: desiredStatePath, hash: inForce?.hash, generation: inForce?.generation,
                appliedAt: inForce.map { Timestamp.iso8601(Int64($0.appliedAt)) }, cassandraVersion: inForce?.version.rawValue,
                lastRefused: refused),
            restartPending: pendingRestart.map { .init(since: Timestamp.iso8601(Int64($0.since)), settings: $0.settings) },
            liveChanges: liveChanges,
            stores: storeCertificates.map {
                .init(file: $0.store, alias: $0.certificate.alias, subject: $0.certificate.subject, fingerprint: $0.certificate.fingerprint,
                      notAfter: Timestamp.iso8601($0.certificate.notAfter), daysLeft: Int(($0.certificate.notAfter - Int64(now)) / 86_400))
            },
            jobs: [
                "repair": job(state?.repair?.enabled, state?.repair?.schedule, "repair"),
                "backup": job(state?.backup?.enabled, state?.backup?.schedule, "backup"),
                "patching": StatusDocument.Job(enabled: state?.patching?.enabled ?? false, schedule: state?.patching?.window?.expression, lastRun: jobRuns["patching"], nextRun: nil),
            ],
            reconcile: .init(count: reconcileCount, lastAt: lastReconcile.map { Timestamp.iso8601(Int64($0)) }, driftCorrected: driftCorrected,
                             lastDrift: lastDrift.map { "\(Timestamp.iso8601(Int64($0.at))): \($0.files.joined(separator: ", ")) edited outside the agent and restored" }))
    }

    /// Checks in a fixed order, the worst first within equal names.
    func checks(now: Double) -> [HealthCheck] {
        var checks: [HealthCheck] = []
        func add(_ name: String, _ level: HealthLevel, _ reason: String, _ message: String, at: Double? = nil) {
            checks.append(HealthCheck(name: name, level: level, reason: reason, message: message,
                                      observedAt: at.map { Timestamp.iso8601(Int64($0)) }, ageSeconds: at.map { max(0, Int(now - $0)) }))
        }
        if inForce == nil {
            add("desired_state", .critical, "desired_state.none_applied",
                refused == nil ? "no desired state has been applied yet: write \(desiredStatePath)"
                    : "no valid desired state has been applied: \(desiredStatePath) was refused; fix the errors listed under desiredState.lastRefused")
        } else if let refused {
            add("desired_state", .warning, "desired_state.refused",
                "the latest \(refused.file) was refused (\(refused.errors.count) error(s)); the previous desired state stays in force until it is fixed")
        } else {
            add("desired_state", .ok, "desired_state.in_force", "desired state generation \(inForce?.generation.map(String.init) ?? "?") is in force")
        }
        for entry in storeCertificates {
            let left = entry.certificate.notAfter - Int64(now)
            if left < 0 {
                add("tls \(entry.store)", .critical, "tls.expired", "\(entry.certificate.subject) in \(entry.store) expired on \(Timestamp.iso8601(entry.certificate.notAfter)): peers and clients refuse it; replace the certificate file")
            } else if left < Int64(expiryWarningDays) * 86_400 {
                add("tls \(entry.store)", .warning, "tls.expiring",
                    "\(entry.certificate.subject) in \(entry.store) expires in \(left / 86_400) day(s), on \(Timestamp.iso8601(entry.certificate.notAfter)); renew it and update the file")
            }
        }
        if let pending = pendingRestart {
            add("restart", .warning, "restart.pending",
                "Cassandra must restart to pick up \(pending.settings.joined(separator: ", ")); the rolling restart does it in the patch window, or restart it yourself",
                at: pending.since)
        }
        guard let observation else {
            add("observation", .warning, "observation.none_yet", "the node has not been observed yet")
            return checks
        }
        let at = observation.at
        if now - at > max(3 * observeInterval, 30) {
            add("observation", .warning, "observation.stale", "the last observation is \(Int(now - at)) s old: nodetool or systemctl may be hanging", at: at)
        }
        if let error = observation.unitError {
            add("cassandra.service", .critical, "unit.unknown", "cannot ask systemd about Cassandra: \(error)", at: at)
        } else if observation.unitActive != true {
            add("cassandra.service", .critical, "unit.inactive",
                "the Cassandra unit is \(observation.unitState ?? "not active"): Cassandra is not running; `systemctl start cassandra` (or see `journalctl -u cassandra`)", at: at)
            return checks
        } else {
            add("cassandra.service", .ok, "unit.active", "the Cassandra unit is active", at: at)
        }
        if let error = observation.nodetoolError {
            add("cassandra.jmx", .critical, "jmx.unreachable", "nodetool cannot reach Cassandra: \(error); it may still be starting, or stuck", at: at)
            return checks
        }
        if observation.mode == .drained || observation.mode == .draining {
            add("cassandra.mode", .critical, "node.drained", "the node is drained: it serves no clients and accepts no writes until Cassandra is restarted", at: at)
        }
        if observation.nativeTransport == false {
            add("cassandra.native_transport", .critical, "native_transport.disabled",
                "native transport is disabled on this node: clients cannot connect; `nodetool enablebinary` or restart", at: at)
        }
        if observation.gossip == false {
            add("cassandra.gossip", .critical, "gossip.disabled",
                "gossip is not running on this node: the cluster sees it as down; `nodetool enablegossip` or restart", at: at)
        }
        if let status = observation.status {
            let me = observation.info?.hostID
            let down = status.nodes.filter { $0.liveness != .up && $0.hostID != me }
            if down.isEmpty {
                add("cluster.peers", .ok, "peers.up", "all \(status.nodes.count) nodes are up", at: at)
            } else {
                add("cluster.peers", .warning, "peers.down",
                    "\(down.count) of \(status.nodes.count) nodes are down: \(down.map { "\($0.endpoint.address) (\($0.datacenter)/\($0.rack))" }.joined(separator: ", "))", at: at)
            }
        }
        for disk in observation.disks {
            if let error = disk.error {
                add("disk \(disk.path)", .warning, "disk.unknown", "cannot check free space of \(disk.path): \(error)", at: at)
            } else if let fraction = disk.freeFraction {
                let percent = Int((fraction * 100).rounded(.down))
                let level: HealthLevel = fraction < 0.10 ? .critical : fraction < 0.20 ? .warning : .ok
                add("disk \(disk.path)", level, level == .ok ? "disk.ok" : "disk.low",
                    level == .ok ? "\(percent)% free" : "only \(percent)% free on \(disk.path): compaction needs room; clear snapshots (`nodetool clearsnapshot`) or add space", at: at)
            }
        }
        return checks
    }
}
