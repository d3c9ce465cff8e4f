import FoundationEssentials

/// `backup list` and `backup restore` ask the running agent (exit 3 when it does
/// not answer): a restore is a job that holds the node, so only the agent runs it.
/// `backup verify` reads the destination itself, with the agent's config and the
/// desired state in force (it changes nothing on the node).
public enum BackupCommands {
    public static func list(socket: String, json: Bool) -> CommandOutput {
        let answer: (status: Int, body: String)
        do {
            answer = try StatusClient.get("/v1/backups", socket: socket)
        } catch {
            return CommandOutput(stderr: "cassandra-agent: \(error.message)\n", exitCode: 3)
        }
        guard answer.status == 200, let listing = try? JSONDecoder().decode(BackupListing.self, from: Data(answer.body.utf8)) else {
            return CommandOutput(stderr: "cassandra-agent: the agent answered HTTP \(answer.status) without a backup list\n", exitCode: 3)
        }
        if json { return CommandOutput(stdout: answer.body) }
        var out = ""
        if let error = listing.error { out += "cannot read the destination: \(error)\n" }
        if listing.backups.isEmpty && listing.error == nil { out += "no complete backup\n" }
        for backup in listing.backups {
            out += "\(backup.id)  completed \(backup.completedAt)  \(backup.files) file(s)  \(ByteText.format(backup.bytes))  \(backup.keyspaces.joined(separator: ","))"
            out += backup.damaged.map { "  DAMAGED: \($0.split(separator: "\n").first ?? "")" } ?? ""
            out += "\n"
        }
        return CommandOutput(stdout: out)
    }

    enum Found<T> {
        case success(T)
        case failure(CommandOutput)
    }

    /// What verify and restore need: the backup section in force, the store, this node's host ID.
    struct Context {
        var desired: DesiredState
        var backup: DesiredState.Backup
        var repository: BackupRepository
        var nodetool: NodetoolClient
        var hostID: String
    }

    static func makeContext(_ configuration: AgentConfiguration, runner: any ProcessRunner) async -> Found<Context> {
        let text: String
        do {
            text = try FileIO.readText(configuration.desiredState)
        } catch {
            return .failure(CommandOutput(stderr: "cassandra-agent: \(error)\n", exitCode: 1))
        }
        guard case .success(let validated) = DesiredStateValidator.validate(text: text, file: configuration.desiredState) else {
            return .failure(CommandOutput(stderr: "cassandra-agent: \(configuration.desiredState) is not valid: `cassandra-agent validate \(configuration.desiredState)` says why\n", exitCode: 1))
        }
        let desired = validated.state
        guard let backup = desired.backup, backup.target != nil else {
            return .failure(CommandOutput(stderr: "cassandra-agent: the desired state has no backup.destination\n", exitCode: 1))
        }
        let nodetool = NodetoolClient(prefix: configuration.nodetool, runner: runner, version: desired.cassandraVersion, timeout: configuration.nodetoolTimeout)
        let hostID: String
        do {
            hostID = try await nodetool.info().hostID
        } catch {
            return .failure(CommandOutput(stderr: "cassandra-agent: cannot read this node's host ID (nodetool info): \(error.description)\n", exitCode: 1))
        }
        do {
            let store = try BackupStores.make(backup, stateDirectory: configuration.stateDirectory, environment: ProcessEnvironment.current())
            return .success(Context(desired: desired, backup: backup, repository: BackupRepository(store: store, host: hostID), nodetool: nodetool, hostID: hostID))
        } catch {
            return .failure(CommandOutput(stderr: "cassandra-agent: \(error.message)\n", exitCode: 1))
        }
    }

    /// The backup `id`: this node's, or another host's in the same destination.
    static func find(_ id: String, _ context: Context) -> Found<(BackupManifest, BackupRepository)> {
        do {
            if let found = try context.repository.findAnyHost(id) { return .success(found) }
        } catch {
            return .failure(CommandOutput(stderr: "cassandra-agent: \(error.message)\n", exitCode: 1))
        }
        return .failure(CommandOutput(stderr: "cassandra-agent: no complete backup \(id) in \(context.repository.store.description) (`cassandra-agent backup list` shows the complete ones)\n", exitCode: 1))
    }

    public static func verify(_ id: String, configuration: AgentConfiguration, runner: any ProcessRunner = SystemProcessRunner()) async -> CommandOutput {
        let context: Context
        switch await makeContext(configuration, runner: runner) {
        case .failure(let output): return output
        case .success(let found): context = found
        }
        let manifest: BackupManifest, repository: BackupRepository
        switch find(id, context) {
        case .failure(let output): return output
        case .success(let found): (manifest, repository) = found
        }
        let problems = repository.verify(manifest)
        do {
            try repository.markDamaged(manifest.id, problems)
        } catch {
            return CommandOutput(stderr: "cassandra-agent: \(error.message)\n", exitCode: 1)
        }
        let objects = manifest.objects.count
        if problems.isEmpty {
            return CommandOutput(stdout: "backup \(manifest.id) is intact: \(manifest.files.count) file(s), \(objects) object(s), \(ByteText.format(manifest.bytes)) re-read, sizes and SHA-256 match\n")
        }
        return CommandOutput(stdout: problems.map { "damaged: \($0)\n" }.joined(),
                             stderr: "cassandra-agent: backup \(manifest.id) is damaged: \(problems.count) of \(objects) object(s) missing or wrong; retention no longer counts it as a good backup\n",
                             exitCode: 1)
    }

    /// Asks the running agent to restore (a job: it holds the node) and waits for the run's end,
    /// polling `GET /v1/jobs`; a dry run is answered at once. 0 restored, 1 refused or failed, 3 unreachable.
    public static func restore(_ request: BackupRestore.Request, socket: String, poll: Duration = .milliseconds(250)) async -> CommandOutput {
        var query = ["keyspace": request.keyspace, "table": request.table].compactMap { key, value in value.map { "\(key)=\($0)" } }.sorted()
        if request.force { query.append("force=1") }
        if request.dryRun { query.append("dry-run=1") }
        let path = "/v1/backups/\(request.id)/restore" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        let answer: (status: Int, body: String)
        do {
            answer = try StatusClient.request("POST", path, socket: socket)
        } catch {
            return CommandOutput(stderr: "cassandra-agent: \(error.message)\n", exitCode: 3)
        }
        let fields = (try? JSONDecoder().decode([String: String].self, from: Data(answer.body.utf8))) ?? [:]
        let message = fields["message"] ?? answer.body
        guard (200..<300).contains(answer.status) else {
            return CommandOutput(stderr: "cassandra-agent: restore of \(request.id) refused: \(message)\n", exitCode: 1)
        }
        guard let run = fields["run"] else { return CommandOutput(stdout: message + "\n") }
        FileIO.writeAll(fd: 2, message + "; `cassandra-agent job cancel restore` stops it\n")
        while true {
            try? await Task.sleep(for: poll)
            let jobs: [String: StatusDocument.Job]
            do {
                let listed = try StatusClient.get("/v1/jobs", socket: socket)
                guard listed.status == 200, let decoded = try? JSONDecoder().decode([String: StatusDocument.Job].self, from: Data(listed.body.utf8)) else { continue }
                jobs = decoded
            } catch {
                return CommandOutput(stderr: "cassandra-agent: the agent stopped answering while \(run) ran (\(error.message)); `cassandra-agent jobs` shows how it ended\n", exitCode: 3)
            }
            guard let last = jobs["restore"]?.lastRun, last.id == run else { continue }
            let reason = last.reason ?? ""
            if last.result == "succeeded" { return CommandOutput(stdout: reason + "\n") }
            return CommandOutput(stderr: "cassandra-agent: restore of \(request.id) \(last.result): \(reason)\n", exitCode: 1)
        }
    }
}
