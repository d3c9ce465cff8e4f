#if canImport(Glibc)
import Glibc
#endif

/// `validate`, `render`, `plan`, `apply` and `rollback`: the commands that take a
/// desired-state file to files on the node.
public enum NodeConfigCommands {
    /// Checks a desired-state file (TLS inputs included); touches nothing.
    public static func validate(file: String, storeDirectory: String = AgentConfiguration().cassandraConfigDirectory) -> CommandOutput {
        switch DesiredStateFile.build(file, storeDirectory: storeDirectory) {
        case .failure(let error):
            return .invalid(error)
        case .success(let (validated, artifacts)):
            let state = validated.state
            return CommandOutput(
                stdout: "\(file): valid (Cassandra \(state.cassandraVersion), cluster '\(state.cluster.name.value)', \(validated.settings.count) settings\(artifacts.stores.isEmpty ? "" : ", \(artifacts.stores.count) stores"), sha256:\(validated.hash))\n",
                stderr: DesiredStateFile.warnings(artifacts))
        }
    }

    /// Writes every artifact the agent would install into `output`; touches nothing else.
    /// The paths inside cassandra.yaml are the install paths (`storeDirectory`).
    public static func render(file: String, output: String, storeDirectory: String = AgentConfiguration().cassandraConfigDirectory) -> CommandOutput {
        switch DesiredStateFile.build(file, storeDirectory: storeDirectory) {
        case .failure(let error):
            return .invalid(error)
        case .success(let (_, artifacts)):
            do {
                try FileIO.makeDirectories(output)
                var written = ""
                for (name, bytes) in artifacts.files {
                    let path = "\(output)/\(name)"
                    try FileIO.writeAtomically(path, bytes, mode: 0o640)
                    written += "wrote \(path)\n"
                }
                return CommandOutput(stdout: written, stderr: DesiredStateFile.warnings(artifacts))
            } catch {
                return .failure(error.description)
            }
        }
    }

    /// What applying `file` would change in `configDirectory`: exit 0 none, 2 pending, 1 invalid.
    public static func plan(file: String, configDirectory: String, stateDirectory: String = AgentConfiguration().stateDirectory) -> CommandOutput {
        switch DesiredStateFile.build(file, storeDirectory: configDirectory) {
        case .failure(let error):
            return .invalid(error)
        case .success(let (validated, artifacts)):
            var configuration = AgentConfiguration()
            configuration.stateDirectory = stateDirectory
            let plan = ConfigPipeline(configuration: configuration, directory: configDirectory).prepare(validated, artifacts).plan
            return CommandOutput(
                stdout: PlanReport.text(plan, validated: validated, configDirectory: configDirectory),
                stderr: DesiredStateFile.warnings(artifacts),
                exitCode: plan.hasChanges ? 2 : 0)
        }
    }

    /// Renders and installs `file` into the Cassandra config directory, recording a generation.
    public static func apply(file: String, configuration: AgentConfiguration, clock: any WallClock = SystemClock()) -> CommandOutput {
        let directory = configuration.cassandraConfigDirectory
        let now = clock.now()
        switch DesiredStateFile.build(file, storeDirectory: directory, permissions: .refuse(adminGroup: configuration.adminGroup), now: now) {
        case .failure(let error):
            return .invalid(error)
        case .success(let (validated, artifacts)):
            let pipeline = ConfigPipeline(configuration: configuration, directory: directory)
            let prepared = pipeline.prepare(validated, artifacts)
            let plan = prepared.plan
            do {
                let outcome = try pipeline.install(prepared, hash: validated.hash, at: now)
                var out = outcome.cleanedUp.map { "\($0)\n" }.joined()
                if outcome.changedPaths.isEmpty {
                    out += "no change: \(directory) already holds what \(file) renders\n"
                } else {
                    out += outcome.changedPaths.map { "installed \($0)\n" }.joined()
                    out += "generation \(outcome.generation ?? 0) (desired state sha256:\(validated.hash))\n"
                    out += PlanReport.restartLine(plan)
                }
                return CommandOutput(stdout: out, stderr: DesiredStateFile.warnings(artifacts))
            } catch {
                return .failure("install failed: \(error.message)")
            }
        }
    }

    /// Re-installs a kept generation (default: the one before the newest), or lists them.
    public static func rollback(generation: Int?, list: Bool, configuration: AgentConfiguration, clock: any WallClock = SystemClock()) -> CommandOutput {
        let installer = ConfigInstaller(stateDirectory: configuration.stateDirectory, keepGenerations: configuration.keepGenerations)
        do {
            if list {
                let scan = try installer.scanGenerations()
                let lines = scan.generations.map { g in
                    let what = g.generation == 0 ? "files found before the agent's first install" : "desired state sha256:\(g.desiredStateHash ?? "?")"
                    let when = g.generation == 0 ? "-" : Timestamp.iso8601(g.installedAt)
                    return "\(g.generation)\t\(when)\t\(what)\n"
                }
                return CommandOutput(
                    stdout: lines.isEmpty ? "no generation has been installed yet\n" : lines.joined(),
                    stderr: scan.damaged.map { "warning: \($0)\n" }.joined())
            }
            let outcome = try installer.rollback(to: generation, installedAt: Int64(clock.now()))
            let changed = outcome.changedPaths.map { "restored \($0)\n" }.joined()
            let cleaned = outcome.cleanedUp.map { "\($0)\n" }.joined()
            return CommandOutput(stdout: cleaned + (changed.isEmpty ? "no change: the files already match that generation\n" : changed + "a restart of Cassandra is needed for the restored files to take effect\n"))
        } catch {
            return .failure(error.message)
        }
    }
}
