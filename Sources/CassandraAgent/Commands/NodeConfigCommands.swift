#if canImport(Glibc)
import Glibc
#endif

/// `validate`, `render`, `plan`, `apply` and `rollback`: the commands that take a
/// desired-state file to files on the node.
public enum NodeConfigCommands {
    /// Checks a desired-state file; touches nothing.
    public static func validate(file: String) -> CommandOutput {
        switch DesiredStateFile.validate(file) {
        case .failure(let error):
            return .invalid(error)
        case .success(let validated):
            let state = validated.state
            return CommandOutput(
                stdout: "\(file): valid (Cassandra \(state.cassandraVersion), cluster '\(state.cluster.name.value)', \(validated.settings.count) settings, sha256:\(validated.hash))\n",
                stderr: DesiredStateFile.warnings(validated))
        }
    }

    /// Writes every artifact the agent would install into `output`; touches nothing else.
    public static func render(file: String, output: String) -> CommandOutput {
        switch DesiredStateFile.render(file) {
        case .failure(let error):
            return .invalid(error)
        case .success(let (validated, rendered)):
            do {
                try FileIO.makeDirectories(output)
                var written = ""
                for (name, contents) in rendered.files {
                    let path = "\(output)/\(name)"
                    try FileIO.writeAtomically(path, Array(contents.utf8), mode: 0o640)
                    written += "wrote \(path)\n"
                }
                return CommandOutput(stdout: written, stderr: DesiredStateFile.warnings(validated))
            } catch {
                return .failure(error.description)
            }
        }
    }

    /// What applying `file` would change in `configDirectory`: exit 0 none, 2 pending, 1 invalid.
    public static func plan(file: String, configDirectory: String) -> CommandOutput {
        switch DesiredStateFile.render(file) {
        case .failure(let error):
            return .invalid(error)
        case .success(let (validated, rendered)):
            let plan = ConfigPlan.make(
                rendered: rendered,
                installed: { try? FileIO.readText("\(configDirectory)/\($0)") },
                installedName: { "\(configDirectory)/\($0)" },
                version: validated.state.cassandraVersion)
            return CommandOutput(
                stdout: PlanReport.text(plan, validated: validated, configDirectory: configDirectory),
                stderr: DesiredStateFile.warnings(validated),
                exitCode: plan.hasChanges ? 2 : 0)
        }
    }

    /// Renders and installs `file` into the Cassandra config directory, recording a generation.
    public static func apply(file: String, configuration: AgentConfiguration) -> CommandOutput {
        switch DesiredStateFile.render(file) {
        case .failure(let error):
            return .invalid(error)
        case .success(let (validated, rendered)):
            let directory = configuration.cassandraConfigDirectory
            let plan = ConfigPlan.make(
                rendered: rendered, installed: { try? FileIO.readText("\(directory)/\($0)") },
                installedName: { "\(directory)/\($0)" }, version: validated.state.cassandraVersion)
            let installer = ConfigInstaller(stateDirectory: configuration.stateDirectory, keepGenerations: configuration.keepGenerations)
            let files = rendered.files.map {
                InstallFile(path: "\(directory)/\($0.name)", contents: Array($0.contents.utf8), ownership: configuration.files)
            }
            do {
                let outcome = try installer.install(files, desiredStateHash: validated.hash, installedAt: Int64(time(nil)))
                var out = ""
                if outcome.changedPaths.isEmpty {
                    out = "no change: \(directory) already holds what \(file) renders\n"
                } else {
                    out = outcome.changedPaths.map { "installed \($0)\n" }.joined()
                    out += "generation \(outcome.generation ?? 0) (desired state sha256:\(validated.hash))\n"
                    out += PlanReport.restartLine(plan)
                }
                return CommandOutput(stdout: out, stderr: DesiredStateFile.warnings(validated))
            } catch {
                return .failure(error.message)
            }
        }
    }

    /// Re-installs a kept generation (default: the one before the newest), or lists them.
    public static func rollback(generation: Int?, list: Bool, configuration: AgentConfiguration) -> CommandOutput {
        let installer = ConfigInstaller(stateDirectory: configuration.stateDirectory, keepGenerations: configuration.keepGenerations)
        do {
            if list {
                let lines = try installer.generations().map { g in
                    let what = g.generation == 0 ? "files found before the agent's first install" : "desired state sha256:\(g.desiredStateHash ?? "?")"
                    let when = g.generation == 0 ? "-" : Timestamp.iso8601(g.installedAt)
                    return "\(g.generation)\t\(when)\t\(what)\n"
                }
                return CommandOutput(stdout: lines.isEmpty ? "no generation has been installed yet\n" : lines.joined())
            }
            let outcome = try installer.rollback(to: generation, installedAt: Int64(time(nil)))
            let changed = outcome.changedPaths.map { "restored \($0)\n" }.joined()
            return CommandOutput(stdout: changed.isEmpty ? "no change: the files already match that generation\n" : changed + "a restart of Cassandra is needed for the restored files to take effect\n")
        } catch {
            return .failure(error.message)
        }
    }
}
