import FoundationEssentials

/// What the socket answers, independent of the transport: tested directly,
/// served by `StatusServer`.
public struct StatusRoutes: Sendable {
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var contentType: String
        public var body: String
    }

    let state: NodeState
    let adminGroup: String
    let requestReconcile: @Sendable () -> Void

    public init(state: NodeState, adminGroup: String, requestReconcile: @escaping @Sendable () -> Void) {
        self.state = state
        self.adminGroup = adminGroup
        self.requestReconcile = requestReconcile
    }

    public func respond(method: String, path: String, peer: PeerCredentials?) async -> Response {
        let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        switch (method, route) {
        case ("GET", "/v1/health"), ("HEAD", "/v1/health"):
            return json(200, await state.health())
        case ("GET", "/v1/status"), ("HEAD", "/v1/status"):
            return json(200, await state.document())
        case ("GET", "/metrics"):
            return Response(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Metrics.text(await state.document()))
        case ("POST", _):
            // Changes need root or the admin group, known from the kernel, before anything else is said.
            guard let peer, peer.isAdmin(group: adminGroup) else {
                let who = peer.map { "uid \($0.uid), gid \($0.gid)" } ?? "an unidentified peer"
                return message(403, "forbidden: \(who) is neither root nor a member of the '\(adminGroup)' group")
            }
            switch route {
            case "/v1/reconcile":
                requestReconcile()
                return message(202, "reconcile requested")
            default:
                return message(404, "no such action: \(route)")
            }
        case (_, "/v1/health"), (_, "/v1/status"), (_, "/metrics"):
            return message(405, "method \(method) is not allowed on \(route)")
        default:
            return message(404, "not found: \(route) (try /v1/health, /v1/status or /metrics)")
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
