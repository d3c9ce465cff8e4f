/// Everything the status document is made from: each service's snapshot and
/// the time. Gathered by the socket's routes at request time.
public struct StatusInputs: Sendable {
    public var host: String
    public var reconcile: ReconcileSnapshot
    public var observation: NodeObservation?
    public var jobs: [JobSnapshot]
    public var observeInterval: Double
    public var expiryWarningDays: Int
    public var now: Double

    public init(host: String, reconcile: ReconcileSnapshot, observation: NodeObservation?, jobs: [JobSnapshot], observeInterval: Double, expiryWarningDays: Int, now: Double) {
        self.host = host
        self.reconcile = reconcile
        self.observation = observation
        self.jobs = jobs
        self.observeInterval = observeInterval
        self.expiryWarningDays = expiryWarningDays
        self.now = now
    }
}

/// The status document and the health checks, as a pure function of the
/// services' snapshots: no service knows about the others, and every check
/// is tested from plain values.
public enum StatusAssembler {
    public static func document(_ inputs: StatusInputs) -> StatusDocument {
        let now = inputs.now
        let checks = NodeChecks.all(inputs)
        let r = inputs.reconcile
        let iso = { (t: Double) in Timestamp.iso8601(Int64(t)) }
        var jobs: [String: StatusDocument.Job] = [:]
        for snapshot in inputs.jobs where JobKind.reported.contains(snapshot.kind) || snapshot.current != nil || snapshot.lastRun != nil {
            jobs[snapshot.kind.rawValue] = job(snapshot, now: now)
        }
        return StatusDocument(
            node: r.displayName(host: inputs.host, observed: inputs.observation),
            health: checks.map(\.level).max() ?? .ok,
            generatedAt: iso(now),
            checks: checks,
            desiredState: .init(
                file: r.desiredStatePath, hash: r.inForce?.hash, generation: r.inForce?.generation,
                appliedAt: r.inForce.map { iso($0.appliedAt) }, cassandraVersion: r.inForce?.version.rawValue,
                lastRefused: r.refused),
            restartPending: r.pendingRestart.map { .init(since: iso($0.since), settings: $0.settings) },
            liveChanges: r.liveChanges,
            stores: r.storeCertificates.map {
                .init(file: $0.store, alias: $0.certificate.alias, subject: $0.certificate.subject, fingerprint: $0.certificate.fingerprint,
                      notAfter: Timestamp.iso8601($0.certificate.notAfter), daysLeft: Int(($0.certificate.notAfter - Int64(now)) / 86_400))
            },
            jobs: jobs,
            reconcile: .init(count: r.count, lastAt: r.lastAt.map(iso), driftCorrected: r.driftCorrected,
                             lastDrift: r.lastDrift.map { "\(iso($0.at)): \($0.files.joined(separator: ", ")) edited outside the agent and restored" },
                             deferred: r.deferred.map { .init(since: iso($0.since), reason: $0.reason) }),
            hybrid: hybridChecklist(inputs))
    }

    static func hybridChecklist(_ inputs: StatusInputs) -> HybridChecklist? {
        HybridChecklist.make(desired: inputs.reconcile.inForce?.state, observation: inputs.observation, stores: inputs.reconcile.storeCertificates,
                             rebuildRunning: inputs.jobs.contains { $0.kind == .rebuild && $0.current != nil })
    }

    public static func health(_ inputs: StatusInputs) -> HealthDocument {
        HealthDocument(health: NodeChecks.all(inputs).map(\.level).max() ?? .ok, node: inputs.reconcile.displayName(host: inputs.host, observed: inputs.observation),
                       desiredStateGeneration: inputs.reconcile.inForce?.generation)
    }

    public static func jobs(_ inputs: StatusInputs) -> [String: StatusDocument.Job] {
        document(inputs).jobs
    }

    static func job(_ s: JobSnapshot, now: Double) -> StatusDocument.Job {
        let iso = { (t: Double) in Timestamp.iso8601(Int64(t)) }
        let current = s.current.map { run in
            StatusDocument.CurrentRun(
                id: run.id, trigger: run.trigger.rawValue, startedAt: iso(run.startedAt), elapsedSeconds: max(0, Int(now - run.startedAt)),
                step: run.progress?.step ?? "starting", keyspace: run.progress?.keyspace.flatMap { $0.isEmpty ? nil : $0 },
                segment: run.progress?.segment, segments: run.progress?.segments,
                segmentsDone: run.progress?.segmentsDone ?? 0, segmentsFailed: run.progress?.segmentsFailed ?? 0,
                segmentsSkipped: run.progress?.segmentsSkipped ?? 0, postponed: run.progress?.postponed, resumes: run.resumes,
                files: run.progress?.files, filesDone: run.progress?.filesDone, bytes: run.progress?.bytes, bytesDone: run.progress?.bytesDone,
                streams: run.progress?.streams)
        }
        let last = s.lastRun.map {
            StatusDocument.JobRun(id: $0.id, trigger: $0.trigger.rawValue, startedAt: iso($0.startedAt), endedAt: $0.endedAt.map(iso),
                                  result: $0.result?.rawValue ?? "unknown", reason: $0.reason)
        }
        return StatusDocument.Job(enabled: s.enabled, state: s.state, stateReason: s.unavailable ?? s.stateReason, schedule: s.schedule,
                                  current: current, lastRun: last, nextRun: s.nextRun.map(iso), splaySeconds: s.splaySeconds, patching: s.patching)
    }
}
