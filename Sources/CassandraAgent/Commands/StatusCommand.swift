import FoundationEssentials

/// `cassandra-agent status`: the running agent's report, in the
/// monitoring-plugin convention (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
public enum StatusCommand {
    public static func run(socket: String, json: Bool, color: Bool) -> CommandOutput {
        let answer: (status: Int, body: String)
        do {
            answer = try StatusClient.get("/v1/status", socket: socket)
        } catch {
            return CommandOutput(stdout: "UNKNOWN: \(error.message)\n", exitCode: 3)
        }
        guard answer.status == 200, let document = try? JSONDecoder().decode(StatusDocument.self, from: Data(answer.body.utf8)) else {
            return CommandOutput(stdout: "UNKNOWN: the agent answered HTTP \(answer.status) without a status document\n", exitCode: 3)
        }
        let code: Int32 = switch document.health {
        case .ok: 0
        case .warning: 1
        case .critical: 2
        }
        return CommandOutput(stdout: json ? answer.body : report(document, color: color), exitCode: code)
    }

    static func report(_ d: StatusDocument, color: Bool) -> String {
        func paint(_ level: HealthLevel, _ text: String) -> String {
            guard color else { return text }
            let code = level == .ok ? "32" : level == .warning ? "33" : "31"
            return "\u{1B}[\(code)m\(text)\u{1B}[0m"
        }
        var out = "\(d.node): \(paint(d.health, d.health.rawValue.uppercased()))\n"
        // Problems, and the one fact an operator must not miss even when it is fine: the node has left the cluster.
        for check in d.checks where check.level != .ok || check.reason == "node.left" {
            let age = check.ageSeconds.map { " (\($0) s ago)" } ?? ""
            out += "  \(paint(check.level, check.level.rawValue.uppercased())) \(check.name): \(check.message)\(age)\n"
        }
        let ds = d.desiredState
        if let hash = ds.hash {
            out += "desired state: \(ds.file) sha256:\(hash.prefix(12)) generation \(ds.generation.map(String.init) ?? "?"), Cassandra \(ds.cassandraVersion ?? "?"), applied \(ds.appliedAt ?? "?")\n"
        } else {
            out += "desired state: none applied (\(ds.file))\n"
        }
        if let refused = ds.lastRefused {
            out += "  last refused at \(refused.at):\n" + refused.errors.map { "    \($0)\n" }.joined()
        }
        if let pending = d.restartPending {
            out += "restart pending since \(pending.since): \(pending.settings.joined(separator: ", "))\n"
        }
        for change in d.liveChanges.suffix(3) {
            out += "applied live at \(change.at): \(change.command)\(change.succeeded ? "" : " (failed: \(change.error ?? "?"))")\n"
        }
        for (name, job) in d.jobs.sorted(by: { $0.key < $1.key }) {
            let last = job.lastRun.map { "\($0.result) at \($0.endedAt ?? $0.startedAt)" } ?? "never run"
            let next = job.enabled ? (job.nextRun.map { "next \($0)" } ?? (job.schedule.map { "window \($0)" } ?? "")) : "disabled"
            out += "\(name): \(job.state.rawValue); last \(last); \(next)\n"
            if let run = job.current {
                let segment = run.segment.map { ", segment \($0) of \(run.segments ?? 0)" } ?? ""
                out += "  running \(run.id) for \(run.elapsedSeconds) s\(segment): \(run.step)\n"
            }
        }
        if let drift = d.reconcile.lastDrift { out += "drift: \(drift)\n" }
        return out
    }
}
