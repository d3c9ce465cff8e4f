import FoundationEssentials

/// `jobs`, `job start KIND` and `job cancel KIND`: each asks the running agent
/// over its socket (exit 3 when it does not answer).
public enum JobCommands {
    public static func list(socket: String, json: Bool) -> CommandOutput {
        let answer: (status: Int, body: String)
        do {
            answer = try StatusClient.get("/v1/jobs", socket: socket)
        } catch {
            return CommandOutput(stderr: "cassandra-agent: \(error.message)\n", exitCode: 3)
        }
        guard answer.status == 200, let jobs = try? JSONDecoder().decode([String: StatusDocument.Job].self, from: Data(answer.body.utf8)) else {
            return CommandOutput(stderr: "cassandra-agent: the agent answered HTTP \(answer.status) without a job list\n", exitCode: 3)
        }
        return CommandOutput(stdout: json ? answer.body : table(jobs))
    }

    public static func start(_ kind: String, keyspaces: [String], sourceDC: String?, socket: String) -> CommandOutput {
        var query = keyspaces.map { "keyspace=\($0)" }
        if let sourceDC { query.append("source-dc=\(sourceDC)") }
        return post("/v1/jobs/\(kind)/start" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")), socket: socket)
    }

    public static func cancel(_ kind: String, socket: String) -> CommandOutput {
        post("/v1/jobs/\(kind)/cancel", socket: socket)
    }

    static func post(_ path: String, socket: String) -> CommandOutput {
        let answer: (status: Int, body: String)
        do {
            answer = try StatusClient.request("POST", path, socket: socket)
        } catch {
            return CommandOutput(stderr: "cassandra-agent: \(error.message)\n", exitCode: 3)
        }
        let message = (try? JSONDecoder().decode([String: String].self, from: Data(answer.body.utf8)))?["message"] ?? answer.body
        if (200..<300).contains(answer.status) { return CommandOutput(stdout: message + "\n") }
        return CommandOutput(stderr: "cassandra-agent: refused: \(message)\n", exitCode: 1)
    }

    /// One line per kind: state, current run with progress, last run, next run.
    static func table(_ jobs: [String: StatusDocument.Job]) -> String {
        var out = ""
        for kind in JobKind.allCases.map(\.rawValue) {
            guard let job = jobs[kind] else { continue }
            out += "\(kind): \(job.state.rawValue)" + (job.stateReason.map { " (\($0))" } ?? "") + "\n"
            if let run = job.current {
                var progress = run.step
                if let segment = run.segment, let segments = run.segments { progress += ", segment \(segment) of \(segments)" }
                if let keyspace = run.keyspace { progress += ", keyspace \(keyspace)" }
                if let bytes = run.bytes, let done = run.bytesDone { progress += ", \(done) of \(bytes) bytes" }
                if let streams = run.streams, !streams.isEmpty {
                    progress += " (" + streams.map { "\($0.direction) \($0.bytesDone)/\($0.bytes) bytes, \($0.filesDone)/\($0.files) files with \($0.peer)" }.joined(separator: "; ") + ")"
                }
                if let postponed = run.postponed { progress += "; \(postponed)" }
                out += "  running \(run.id) since \(run.startedAt) (\(run.elapsedSeconds) s): \(progress)\n"
            }
            if let last = job.lastRun {
                out += "  last \(last.id): \(last.result) at \(last.endedAt ?? last.startedAt)" + (last.reason.map { ": \($0)" } ?? "") + "\n"
            }
            if let next = job.nextRun {
                out += "  next \(next)" + (job.splaySeconds.map { " (this node's splay: \($0) s)" } ?? "") + "\n"
            }
        }
        return out
    }
}
