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

/// Runs a program to its end with its output captured.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self), exitCode: process.terminationStatus)
}

/// Runs the real executable, the way an operator does.
func runAgent(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Paths.agentExecutable)
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(
        stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self),
        exitCode: process.terminationStatus)
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
