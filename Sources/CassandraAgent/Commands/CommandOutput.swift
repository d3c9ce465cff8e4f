/// What a command prints and how it exits; the executable only forwards it, so
/// every command is tested without spawning a process (and with one, end to end).
public struct CommandOutput: Sendable, Equatable {
    public var stdout = ""
    public var stderr = ""
    public var exitCode: Int32 = 0

    public init(stdout: String = "", stderr: String = "", exitCode: Int32 = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
    }

    static func invalid(_ error: InvalidInput) -> CommandOutput {
        CommandOutput(stderr: error.diagnostics.map { $0.description + "\n" }.joined(), exitCode: 1)
    }

    static func failure(_ message: String) -> CommandOutput {
        CommandOutput(stderr: "error: \(message)\n", exitCode: 1)
    }
}

/// Reading and validating a desired-state file, the first step of every command.
enum DesiredStateFile {
    /// What a desired-state file that others can write gets: `validate` and the commands
    /// that touch nothing warn (operators check files in their home directories);
    /// `apply`, which installs as root like the daemon, refuses it.
    enum PermissionRule {
        case warn(adminGroup: String?)
        case refuse(adminGroup: String?)
    }

    static func validate(_ path: String, permissions: PermissionRule = .warn(adminGroup: AgentConfiguration().adminGroup)) -> Result<ValidatedDesiredState, InvalidInput> {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path)
        } catch {
            return .failure(InvalidInput([Diagnostic(.error, file: path, mark: SourceMark(line: 1, column: 1), message: error.description)]))
        }
        let findings: [Diagnostic]
        switch permissions {
        case .warn(let group):
            findings = TrustedPath.problems(path, adminGroup: group).map { Diagnostic(.warning, file: path, mark: SourceMark(line: 1, column: 1), message: $0.message) }
        case .refuse(let group):
            findings = TrustedPath.problems(path, adminGroup: group).map { Diagnostic(.error, file: path, mark: SourceMark(line: 1, column: 1), message: $0.message) }
            if !findings.isEmpty { return .failure(InvalidInput(findings)) }
        }
        switch DesiredStateValidator.validate(bytes: bytes, file: path) {
        case .failure(let invalid):
            return .failure(InvalidInput(findings + invalid.diagnostics))
        case .success(var validated):
            validated.warnings = findings + validated.warnings
            return .success(validated)
        }
    }

    /// Validates and builds every artifact (TLS inputs read and checked too).
    static func build(_ path: String, storeDirectory: String, permissions: PermissionRule = .warn(adminGroup: AgentConfiguration().adminGroup), now: Double = SystemClock().now()) -> Result<(ValidatedDesiredState, NodeArtifacts), InvalidInput> {
        switch validate(path, permissions: permissions) {
        case .failure(let error):
            return .failure(error)
        case .success(let validated):
            return NodeArtifactsBuilder.build(validated, storeDirectory: storeDirectory, now: Int64(now))
                .map { (validated, $0) }
                .mapError { InvalidInput(validated.warnings + $0.diagnostics) }
        }
    }

    static func warnings(_ artifacts: NodeArtifacts) -> String {
        artifacts.warnings.map { $0.description + "\n" }.joined()
    }
}
