import FoundationEssentials

/// What the socket answers, independent of the transport: tested directly,
/// served by `StatusServer`.
public struct StatusRoutes: Sendable {
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var contentType: String
        public var body: String
    }

    let snapshots: AgentSnapshots
    let jobControls: JobControls
    let adminGroup: String
    let requestReconcile: @Sendable () -> Void

    public init(snapshots: AgentSnapshots, jobs: JobControls, adminGroup: String, requestReconcile: @escaping @Sendable () -> Void) {
        self.snapshots = snapshots
        jobControls = jobs
        self.adminGroup = adminGroup
        self.requestReconcile = requestReconcile
    }

    public func respond(method: String, path: String, peer: PeerCredentials?) async -> Response {
        let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        switch (method, route) {
        case ("GET", "/v1/health"), ("HEAD", "/v1/health"):
            return json(200, StatusAssembler.health(snapshots.inputs()))
        case ("GET", "/v1/status"), ("HEAD", "/v1/status"):
            return json(200, StatusAssembler.document(snapshots.inputs()))
        case ("GET", "/v1/jobs"), ("HEAD", "/v1/jobs"):
            return json(200, StatusAssembler.jobs(snapshots.inputs()))
        case ("GET", "/v1/backups"), ("HEAD", "/v1/backups"):
            return json(200, snapshots.backups.value)
        case ("GET", "/metrics"):
            let inputs = snapshots.inputs()
            return Response(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                            body: Metrics.text(StatusAssembler.document(inputs)) + JobMetrics.text(inputs.jobs))
        case ("POST", _):
            // Changes need root or the admin group, known from the kernel, before anything else is said.
            guard let peer, peer.isAdmin(group: adminGroup) else {
                let who = peer.map { "uid \($0.uid), gid \($0.gid)" } ?? "an unidentified peer"
                return message(403, "forbidden: \(who) is neither root nor a member of the '\(adminGroup)' group")
            }
            if route == "/v1/reconcile" {
                requestReconcile()
                return message(202, "reconcile requested")
            }
            let parts = route.split(separator: "/").map(String.init)
            if parts.count == 4, parts[0] == "v1", parts[1] == "backups", parts[3] == "restore" {
                return await restore(parts[2], path)
            }
            guard parts.count == 4, parts[0] == "v1", parts[1] == "jobs", parts[3] == "start" || parts[3] == "cancel" else {
                return message(404, "no such action: \(route) (POST /v1/reconcile, /v1/jobs/KIND/start, /v1/jobs/KIND/cancel or /v1/backups/ID/restore)")
            }
            guard let kind = JobKind(rawValue: parts[2]) else {
                return message(404, "no such job kind '\(parts[2])': one of \(JobKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if parts[3] == "cancel" {
                return await jobControls.cancel(kind) ? message(200, "\(kind.rawValue) cancelled") : message(409, "no \(kind.rawValue) is running: nothing to cancel")
            }
            switch await jobControls.start(kind, keyspaces: Self.query(path, "keyspace"), sourceDC: Self.query(path, "source-dc").last) {
            case .success(let text): return message(202, text)
            case .failure(let busy): return message(409, busy.message)
            }
        case (_, "/v1/health"), (_, "/v1/status"), (_, "/metrics"), (_, "/v1/jobs"), (_, "/v1/backups"):
            return message(405, "method \(method) is not allowed on \(route)")
        default:
            return message(404, "not found: \(route) (try /v1/health, /v1/status, /v1/jobs or /metrics)")
        }
    }

    /// `POST /v1/backups/ID/restore?keyspace=KS&table=T&force=1&dry-run=1`.
    func restore(_ id: String, _ path: String) async -> Response {
        let flag = { (name: String) in Self.query(path, name).contains { $0 == "1" || $0 == "true" } }
        let request = BackupRestore.Request(id: id, keyspace: Self.query(path, "keyspace").first, table: Self.query(path, "table").first,
                                            dryRun: flag("dry-run"), force: flag("force"))
        switch await jobControls.restore(request) {
        case .dryRun(let lines): return message(200, lines.joined(separator: "\n"))
        case .started(let run, let text): return json(202, ["status": "202", "message": text, "run": run])
        case .refused(let reason): return message(409, reason)
        }
    }

    /// Every value of `name` in the query string (`?keyspace=a&keyspace=b`).
    static func query(_ path: String, _ name: String) -> [String] {
        guard let query = path.split(separator: "?", maxSplits: 1).dropFirst().first else { return [] }
        return query.split(separator: "&").compactMap { pair in
            let kv = pair.split(separator: "=", maxSplits: 1)
            return kv.count == 2 && kv[0] == name ? String(kv[1]) : nil
        }
    }

    func json(_ status: Int, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return Response(status: status, contentType: "application/json", body: body + "\n")
    }

    func message(_ status: Int, _ text: String) -> Response {
        json(status, ["status": String(status), "message": text])
    }
}

/// The status document in Prometheus' text format.
enum Metrics {
    static func text(_ document: StatusDocument) -> String {
        var out = ""
        func metric(_ name: String, _ help: String, _ type: String, _ samples: [(labels: [(String, String)], value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                let labels = sample.labels.isEmpty ? "" : "{" + sample.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
                out += "\(name)\(labels) \(sample.value)\n"
            }
        }
        func level(_ h: HealthLevel) -> String { String(HealthLevel.allCases.firstIndex(of: h)!) }
        metric("cassandra_agent_health", "Health of the node: 0 ok, 1 warning, 2 critical.", "gauge", [([], level(document.health))])
        metric("cassandra_agent_check_level", "Level of each check: 0 ok, 1 warning, 2 critical.", "gauge",
               document.checks.map { ([("check", $0.name), ("reason", $0.reason)], level($0.level)) })
        metric("cassandra_agent_desired_state_generation", "Installed generation of the desired state in force.", "gauge",
               [([], String(document.desiredState.generation ?? 0))])
        metric("cassandra_agent_desired_state_refused", "1 when the latest desired-state file was refused.", "gauge",
               [([], document.desiredState.lastRefused == nil ? "0" : "1")])
        metric("cassandra_agent_reconcile_total", "Reconcile passes since the agent started.", "counter", [([], String(document.reconcile.count))])
        metric("cassandra_agent_drift_corrected_total", "Times files edited outside the agent were restored.", "counter",
               [([], String(document.reconcile.driftCorrected))])
        metric("cassandra_agent_restart_pending", "1 when Cassandra must restart to pick up installed settings.", "gauge",
               [([], document.restartPending == nil ? "0" : "1")])
        metric("cassandra_agent_live_changes", "Settings pushed to the running node, by result (recent).", "gauge", [
            ([("result", "ok")], String(document.liveChanges.filter(\.succeeded).count)),
            ([("result", "failed")], String(document.liveChanges.filter { !$0.succeeded }.count)),
        ])
        metric("cassandra_agent_job_enabled", "1 when the job is enabled in the desired state.", "gauge",
               document.jobs.sorted { $0.key < $1.key }.map { ([("job", $0.key)], $0.value.enabled ? "1" : "0") })
        return out
    }

    static func escape(_ text: String) -> String {
        text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }
}

/// The jobs' counters in Prometheus' text format.
enum JobMetrics {
    static func text(_ jobs: [JobSnapshot]) -> String {
        var out = ""
        func metric(_ name: String, _ help: String, _ type: String, _ samples: [(labels: [(String, String)], value: String)]) {
            guard !samples.isEmpty else { return }
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                out += "\(name){" + sample.labels.map { "\($0.0)=\"\(Metrics.escape($0.1))\"" }.joined(separator: ",") + "} \(sample.value)\n"
            }
        }
        let active = jobs.filter { $0.unavailable == nil }
        metric("cassandra_agent_job_running", "1 while a run of the job is in progress.", "gauge",
               active.map { ([("job", $0.kind.rawValue)], $0.current == nil ? "0" : "1") })
        metric("cassandra_agent_job_runs_total", "Runs that ended, by result (kept in the state directory).", "counter",
               active.flatMap { job in JobResult.allCases.map { ([("job", job.kind.rawValue), ("result", $0.rawValue)], String(job.history.counters.runs[$0.rawValue] ?? 0)) } })
        metric("cassandra_agent_job_run_seconds_total", "Time spent in runs that ended.", "counter",
               active.map { ([("job", $0.kind.rawValue)], String($0.history.counters.runSeconds)) })
        let repair = active.filter { $0.kind == .repair }
        metric("cassandra_agent_repair_segments_total", "Repair segments that ended, by result.", "counter",
               repair.flatMap { job in ["succeeded", "failed", "skipped"].map { ([("result", $0)], String(job.history.counters.segments[$0] ?? 0)) } })
        metric("cassandra_agent_repair_segment_seconds_total", "Time spent repairing segments that succeeded.", "counter",
               repair.map { _ in ([], String(repair[0].history.counters.segmentSeconds)) }.map { (labels: [("job", "repair")], value: $0.1) })
        metric("cassandra_agent_repair_postponements_total", "Times a segment was postponed, by reason.", "counter",
               repair.flatMap { job in ["pending_compactions", "replica_down"].map { ([("reason", $0)], String(job.history.counters.postponements[$0] ?? 0)) } })
        let backup = active.filter { $0.kind == .backup }
        metric("cassandra_agent_backup_bytes_total", "Bytes of successful backups: stored (new content) and skipped (already stored).", "counter",
               backup.flatMap { job in ["stored", "skipped"].map { ([("kind", $0)], String(job.history.counters.backup?["\($0)_bytes"] ?? 0)) } })
        metric("cassandra_agent_backup_files_total", "Files of successful backups, and how many of them were stored as new objects.", "counter",
               backup.flatMap { job in [("all", "files"), ("stored", "stored_files")].map { ([("kind", $0.0)], String(job.history.counters.backup?[$0.1] ?? 0)) } })
        if let last = backup.first?.lastBackup {
            metric("cassandra_agent_backup_last_seconds", "Upload time of the last successful backup.", "gauge", [([("job", "backup")], String(last.seconds))])
            metric("cassandra_agent_backup_last_bytes", "Bytes of the last successful backup, by kind.", "gauge",
                   [([("kind", "all")], String(last.bytes)), ([("kind", "stored")], String(last.storedBytes)), ([("kind", "skipped")], String(last.skippedBytes))])
        }
        if let newest = backup.first?.newestBackupAt {
            metric("cassandra_agent_backup_newest_timestamp_seconds", "When the newest complete, undamaged backup completed.", "gauge", [([("job", "backup")], String(Int64(newest)))])
        }
        if let progress = repair.first?.current?.progress {
            metric("cassandra_agent_repair_segment_current", "1-based segment in progress, of cassandra_agent_repair_segments.", "gauge",
                   [([("job", "repair")], String(progress.segment ?? 0))])
            metric("cassandra_agent_repair_segments", "Segments of the run in progress.", "gauge", [([("job", "repair")], String(progress.segments ?? 0))])
        }
        let streaming = active.filter { $0.kind == .rebuild || $0.kind == .decommission }
        let streams = streaming.flatMap { job in (job.current?.progress?.streams ?? []).map { (job.kind.rawValue, $0) } }
        metric("cassandra_agent_stream_bytes", "Bytes of the running rebuild or decommission's stream, per peer and direction (netstats).", "gauge",
               streams.map { ([("job", $0.0), ("peer", $0.1.peer), ("direction", $0.1.direction)], String($0.1.bytes)) })
        metric("cassandra_agent_stream_bytes_done", "Bytes streamed so far, per peer and direction (netstats).", "gauge",
               streams.map { ([("job", $0.0), ("peer", $0.1.peer), ("direction", $0.1.direction)], String($0.1.bytesDone)) })
        metric("cassandra_agent_stream_files_done", "Files streamed so far, per peer and direction (netstats).", "gauge",
               streams.map { ([("job", $0.0), ("peer", $0.1.peer), ("direction", $0.1.direction)], String($0.1.filesDone)) })
        return out
    }
}
