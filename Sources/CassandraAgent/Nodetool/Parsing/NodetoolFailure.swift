/// Why a nodetool run failed, read from its exit code and its two streams the
/// way nodetool reports errors (usage errors on stdout, others on stderr).
public struct NodetoolFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// JMX not reachable: Cassandra is down or still starting (exit 1, stderr).
        case cannotConnect
        /// Bad arguments, unknown keyspace, a refused operation (exit 1, stdout `nodetool: ...`).
        case usage
        /// The server threw (exit 2, stderr `error: ...` and a stack trace).
        case server
        /// 5.0: the node is still starting and its MBeans are not registered.
        case notInitialized
        /// The command ran too long and was killed.
        case timedOut
        /// Anything else: killed by a signal, garbage, an exit code nodetool does not use.
        case other
    }

    public var kind: Kind
    /// The one line that says what went wrong.
    public var message: String
    public var exitCode: Int32?
    /// Everything nodetool wrote to stderr, for the record.
    public var stderr: String

    public var description: String {
        let code = exitCode.map { " (exit \($0))" } ?? ""
        return "nodetool failed\(code): \(message)"
    }

    public static func classify(exitCode: Int32?, stdout: String, stderr: String) -> NodetoolFailure {
        let errLines = stderr.split(separator: "\n").map(String.init)
        let outLines = stdout.split(separator: "\n").map(String.init)
        if let line = errLines.first(where: { $0.hasPrefix("nodetool: Failed to connect to ") }) {
            return NodetoolFailure(kind: .cannotConnect, message: String(line.dropFirst("nodetool: ".count)), exitCode: exitCode, stderr: stderr)
        }
        if let line = errLines.first(where: { $0.contains("Server is not initialized yet") }) {
            return NodetoolFailure(kind: .notInitialized, message: line.components(separatedBy: "IllegalArgumentException: ").last ?? line, exitCode: exitCode, stderr: stderr)
        }
        if let line = errLines.first(where: { $0.hasPrefix("error: ") }) {
            return NodetoolFailure(kind: .server, message: String(line.dropFirst("error: ".count)), exitCode: exitCode, stderr: stderr)
        }
        if let line = outLines.first(where: { $0.hasPrefix("nodetool: ") }) {
            return NodetoolFailure(kind: .usage, message: String(line.dropFirst("nodetool: ".count)), exitCode: exitCode, stderr: stderr)
        }
        if let line = outLines.first(where: { $0.hasPrefix("Error: ") }) {
            return NodetoolFailure(kind: .usage, message: String(line.dropFirst("Error: ".count)), exitCode: exitCode, stderr: stderr)
        }
        let last = errLines.last(where: { !$0.isEmpty }) ?? outLines.last(where: { !$0.isEmpty }) ?? "no output"
        return NodetoolFailure(kind: .other, message: last, exitCode: exitCode, stderr: stderr)
    }
}
