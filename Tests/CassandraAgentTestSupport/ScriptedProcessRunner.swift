import CassandraAgent
import Synchronization

/// A process runner that answers from a script instead of spawning: each
/// rule matches the arguments after the configured prefix (`nodetool`'s
/// words) and gives the output, by default from the recorded nodetool
/// samples in `Tests/CassandraAgentTests/Fixtures/nodetool`. Every call is
/// recorded for the test to check; a rule may hang until cancelled, like a
/// stuck JMX call whose process the runner kills.
public final class ScriptedProcessRunner: ProcessRunner {
    public enum Reply: Sendable {
        case output(stdout: String, stderr: String = "", exitCode: Int32 = 0)
        /// Blocks until the caller cancels (the real runner kills the process group) or the timeout passes.
        case hang
        /// Computed from the command at call time.
        case dynamic(@Sendable ([String]) -> (stdout: String, stderr: String, exitCode: Int32))
    }

    struct Rule {
        var words: [String]
        var reply: Reply
    }

    let prefixLength: Int
    private let rules = Mutex<[Rule]>([])
    private let recorded = Mutex<[[String]]>([])

    /// - Parameter prefix: the words before the command's own (`nodetool: [...]` in the agent's config).
    public init(prefix: [String]) {
        prefixLength = prefix.count
    }

    /// Answers commands whose words start with `words`; later rules win over earlier ones.
    public func on(_ words: [String], _ reply: Reply) {
        rules.withLock { $0.append(Rule(words: words, reply: reply)) }
    }

    public func on(_ words: [String], fixture name: String) {
        on(words, .output(stdout: Self.fixture(name)))
    }

    /// The commands run so far, without the prefix.
    public var calls: [[String]] { recorded.withLock { $0 } }

    public func run(_ command: ProcessCommand) async throws(ProcessLaunchError) -> ProcessOutput {
        let words = Array(command.arguments.dropFirst(prefixLength))
        recorded.withLock { $0.append(words) }
        let rule = rules.withLock { rules in rules.last { words.starts(with: $0.words) } }
        guard let rule else {
            return ProcessOutput(exitCode: 1, stdout: "nodetool: Found unexpected parameters: \(words)\nSee 'nodetool help' or 'nodetool help <command>'.\n")
        }
        switch rule.reply {
        case .output(let stdout, let stderr, let exitCode):
            return ProcessOutput(exitCode: exitCode, stdout: stdout, stderr: stderr)
        case .dynamic(let answer):
            let (stdout, stderr, exitCode) = answer(words)
            return ProcessOutput(exitCode: exitCode, stdout: stdout, stderr: stderr)
        case .hang:
            do {
                try await Task.sleep(for: command.timeout)
                return ProcessOutput(exitCode: nil, signal: 15, timedOut: true, duration: command.timeout)
            } catch {
                return ProcessOutput(exitCode: nil, signal: 15, cancelled: true)
            }
        }
    }

    /// A recorded nodetool sample by file name (`status-4.1.txt`).
    public static func fixture(_ name: String) -> String {
        let path = fixtureDirectory + "/" + name
        return (try? FileIO.readText(path)) ?? "missing fixture \(path)"
    }

    public static let fixtureDirectory: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/CassandraAgentTests/Fixtures/nodetool"
    }()
}
