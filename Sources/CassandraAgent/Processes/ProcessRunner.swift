/// An outside command as an argument vector: never a shell, always a timeout.
public struct ProcessCommand: Sendable, Equatable, CustomStringConvertible {
    /// The program's path (no PATH search) and its arguments.
    public var arguments: [String]
    public var timeout: Duration
    /// After a timeout, how long SIGTERM gets before SIGKILL.
    public var killGrace: Duration
    /// At most this many bytes of each stream are kept.
    public var outputLimit: Int
    /// nil: the agent's environment.
    public var environment: [String: String]?
    public var workingDirectory: String?

    public init(
        _ arguments: [String], timeout: Duration, killGrace: Duration = .seconds(5), outputLimit: Int = 4 << 20,
        environment: [String: String]? = nil, workingDirectory: String? = nil
    ) {
        self.arguments = arguments
        self.timeout = timeout
        self.killGrace = killGrace
        self.outputLimit = outputLimit
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    public var executable: String { arguments.first ?? "" }

    /// The command as an operator would type it (for messages; never run through a shell),
    /// with the value of a password option left out: the configured nodetool prefix may carry
    /// `-pw SECRET`, and these words end up in job reasons, status and the journal.
    public var description: String {
        var words: [String] = []
        for (index, word) in arguments.enumerated() {
            if index > 0, Self.passwordOptions.contains(arguments[index - 1]) { words.append(Redaction.placeholder); continue }
            if word.hasPrefix("--password=") { words.append("--password=" + Redaction.placeholder); continue }
            words.append(word.contains(where: { " '\"\\$".contains($0) }) || word.isEmpty ? "'\(word.replacing("'", with: "'\\''"))'" : word)
        }
        return words.joined(separator: " ")
    }

    /// nodetool's password options (its `-pwf FILE` names a file, which is no secret).
    static let passwordOptions: Set<String> = ["-pw", "--password"]
}

/// How a command ended and what it printed.
public struct ProcessOutput: Sendable, Equatable {
    public var exitCode: Int32?
    /// The signal that ended it, if one did.
    public var signal: Int32?
    public var stdout: String
    public var stderr: String
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool
    public var timedOut: Bool
    public var cancelled: Bool
    public var duration: Duration

    public init(
        exitCode: Int32?, signal: Int32? = nil, stdout: String = "", stderr: String = "", stdoutTruncated: Bool = false,
        stderrTruncated: Bool = false, timedOut: Bool = false, cancelled: Bool = false, duration: Duration = .zero
    ) {
        self.exitCode = exitCode
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
        self.timedOut = timedOut
        self.cancelled = cancelled
        self.duration = duration
    }

    public var succeeded: Bool { exitCode == 0 && !timedOut && !cancelled }

    /// How it ended, in words, with stderr: what a failure message quotes.
    public func failureDescription(of command: ProcessCommand) -> String {
        let how: String
        if timedOut {
            how = "timed out after \(command.timeout) and was killed"
        } else if cancelled {
            how = "was cancelled"
        } else if let signal {
            how = "was killed by signal \(signal)"
        } else {
            how = "exited with \(exitCode ?? -1)"
        }
        let err = stderr.split(separator: "\n").prefix(5).joined(separator: " | ")
        return "\(command) \(how)" + (err.isEmpty ? "" : ": \(err)")
    }
}

/// The command could not be started at all (missing or non-executable program).
public struct ProcessLaunchError: Error, Sendable, Equatable, CustomStringConvertible {
    public var command: String
    public var reason: String

    public var description: String { "cannot run \(command): \(reason)" }
}

/// Runs outside commands. A protocol only because tests replace it with a fake.
public protocol ProcessRunner: Sendable {
    func run(_ command: ProcessCommand) async throws(ProcessLaunchError) -> ProcessOutput
}
