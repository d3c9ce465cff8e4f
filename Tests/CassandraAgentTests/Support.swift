import CAgentShims
import Foundation
import Testing
@testable import CassandraAgent

/// Paths of the package, found from this file so tests run from any directory.
enum Paths {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let examples = packageRoot + "/etc/examples"
    static let golden = packageRoot + "/Tests/CassandraAgentTests/Golden"

    /// The `cassandra-agent` executable built next to this test bundle.
    static let agentExecutable: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The test bundle may sit inside a .xctest directory.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("cassandra-agent").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("cassandra-agent").path
    }()

    static let simulatorExecutable = (agentExecutable as NSString).deletingLastPathComponent + "/cassandra-sim"
}

/// A fresh directory removed when the test ends.
final class TemporaryDirectory: Sendable {
    let path: String

    init() {
        let template = NSTemporaryDirectory() + "cassandra-agent-test-XXXXXX"
        var bytes = Array(template.utf8CString)
        path = String(cString: mkdtemp(&bytes)!)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let file = path + "/" + name
        try? FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
        return file
    }

    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: path + "/" + name).map { String(decoding: $0, as: UTF8.self) }
    }
}

struct ProcessResult {
    var stdout: String
    var stderr: String
    var exitCode: Int32
}

/// Runs a program to its end with its output captured, through the project's own
/// runner (posix_spawn, waitpid on the child's pid). Foundation's Process is not
/// used: under many parallel spawns its waitUntilExit can miss a child's exit and
/// wait forever.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil, timeout: Duration = .seconds(300)) throws -> ProcessResult {
    let command = ProcessCommand([executable] + arguments, timeout: timeout, environment: environment, workingDirectory: directory)
    let output = try SystemProcessRunner.runBlocking(command, cancelled: .init()).get()
    return ProcessResult(stdout: output.stdout, stderr: output.stderr, exitCode: output.exitCode ?? -1)
}

/// Runs the real executable, the way an operator does.
func runAgent(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
    let merged = environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 }
    return try runProcess(Paths.agentExecutable, arguments, environment: merged, directory: directory)
}

/// A long-running child (an agent, a socket activator), spawned and reaped by pid.
final class BackgroundProcess: @unchecked Sendable {
    let processIdentifier: pid_t
    private let lock = NSLock()
    private var status: Int32?

    /// `log`: a file that keeps the child's stderr (its journal), for a failing test to show.
    init(_ executable: String, _ arguments: [String], environment: [String: String], log: String? = nil) throws {
        let devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(devnull) }
        let errors = log.map { open($0, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600) } ?? -1
        defer { if errors >= 0 { close(errors) } }
        var pid: pid_t = 0
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        let rc = argv.withUnsafeBufferPointer { a in envp.withUnsafeBufferPointer { e in
            agent_spawn(&pid, executable, a.baseAddress, e.baseAddress, devnull, errors >= 0 ? errors : devnull, nil)
        } }
        guard rc == 0 else { throw SystemError("spawn", path: executable, code: rc) }
        processIdentifier = pid
    }

    var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        if status != nil { return false }
        var raw: Int32 = 0
        if waitpid(processIdentifier, &raw, WNOHANG) == processIdentifier { status = raw; return false }
        return true
    }

    func terminate() { if isRunning { kill(processIdentifier, SIGTERM) } }

    func waitUntilExit() {
        lock.lock(); defer { lock.unlock() }
        guard status == nil else { return }
        var raw: Int32 = 0
        while waitpid(processIdentifier, &raw, 0) < 0 && errno == EINTR {}
        status = raw
    }

    /// The exit code, or 128 + the signal, like a shell reports it.
    var terminationStatus: Int32 {
        waitUntilExit()
        let raw = status ?? 0
        return raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }

    deinit {
        if isRunning {
            kill(processIdentifier, SIGKILL)
            waitUntilExit()
        }
    }
}

/// A minimal valid desired state for `version`, with extra lines under `settings:`.
func desiredState(version: String = "4.1", settings: [String] = [], extra: String = "") -> String {
    var text = """
    apiVersion: cassandra-agent/v1
    cassandra:
      version: "\(version)"
    cluster:
      name: Test
      seeds: ["10.0.0.1", "10.0.0.2"]
    node:
      datacenter: dc1
      rack: rack1
      listenAddress: 10.0.0.1

    """
    if !settings.isEmpty {
        text += "settings:\n" + settings.map { "  \($0)\n" }.joined()
    }
    return text + extra
}

/// The validation result of a desired-state text.
func validate(_ text: String) -> Result<ValidatedDesiredState, InvalidInput> {
    DesiredStateValidator.validate(text: text, file: "ds.yaml")
}

/// The error lines of an invalid text ("LINE:COLUMN: MESSAGE"), or [] if valid.
func errors(_ text: String) -> [String] {
    guard case .failure(let invalid) = validate(text) else { return [] }
    return invalid.diagnostics.filter { $0.severity == .error }.map { "\($0.mark.line):\($0.mark.column): \($0.message)" }
}

/// The rendered settings of a valid text (top-level key -> value), failing the test otherwise.
func rendered(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> RenderedNodeConfig? {
    switch validate(text) {
    case .failure(let invalid):
        Issue.record("expected valid, got: \(invalid)", sourceLocation: sourceLocation)
        return nil
    case .success(let validated):
        var diagnostics = Diagnostics(file: "ds.yaml")
        return CassandraConfigRenderer.render(validated, &diagnostics)
    }
}

extension RenderedNodeConfig {
    func value(_ key: String) -> YAMLValue? {
        entries.first { $0.name == key }?.value
    }
}

/// `rendered(_:)` under a name that does not clash with local variables.
func renderedFiles(_ text: String) -> RenderedNodeConfig? {
    rendered(text)
}
