import ArgumentParser
import CassandraAgent
import Logging

#if canImport(Glibc)
import Glibc
#endif

// Every command names itself: without `commandName` ArgumentParser derives it with
// String(describing:) of the type, whose protocol-conformance scans of this large
// binary were 5 % of a `validate` run.
/// `validate FILE`, what scripts, CI and configuration tools run again and again, is
/// dispatched before ArgumentParser builds its command tree: building it (each command's
/// options through reflection, plus the completion-script parsers it tries first) was
/// 2 ms of an 11 ms run. Any other form, `validate --help` or `validate -- FILE` included,
/// is ArgumentParser's, and a test checks that both paths print the same.
@main
enum Entry {
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.count == 2, arguments.first == "validate", let file = arguments.last, !file.hasPrefix("-") {
            let output = NodeConfigCommands.validate(file: file)
            write(output)
            exit(output.exitCode)
        }
        await CassandraAgentCommand.main()
    }
}

struct CassandraAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cassandra-agent",
        abstract: "Keeps a Cassandra node the way its desired-state file declares it.",
        subcommands: [Run.self, Status.self, Jobs.self, Job.self, Backup.self, Validate.self, Render.self, Plan.self, Apply.self, Rollback.self])
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "The daemon (systemd Type=notify). Exit 0 on a clean stop, 1 on a fatal start-up error.")

    @OptionGroup var config: AgentConfigOption

    func run() async throws {
        let settings = try config.load()
        JournalLogHandler.bootstrap()
        let logger = Logger(label: "cassandra-agent")
        do {
            try await AgentDaemon.run(configuration: settings, logger: logger)
        } catch {
            logger.critical("cannot start: \(error)", metadata: ["reason": "startup.failed"])
            try finish(CommandOutput(stderr: "cassandra-agent: cannot start: \(error)\n", exitCode: 1))
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "The node's health from the running agent. Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (agent unreachable).")

    @Flag(help: "Print the socket's JSON document unchanged.") var json = false
    @Option(help: ArgumentHelp("The agent's socket (default: from the agent's config).", valueName: "PATH")) var socket: String?
    @OptionGroup var config: AgentConfigOption

    func run() throws {
        // Without its config the agent's socket is unknown, so is the node's health: UNKNOWN (3), not 1 (WARNING).
        let path = try socket ?? config.load(failureExitCode: 3).socket
        try finish(StatusCommand.run(socket: path, json: json, color: isatty(1) == 1))
    }
}

/// Prints a command's output and exits with its code.
func finish(_ output: CommandOutput) throws {
    write(output)
    if output.exitCode != 0 { throw ExitCode(output.exitCode) }
}

func write(_ output: CommandOutput) {
    FileIO.writeAll(fd: 1, output.stdout)
    FileIO.writeAll(fd: 2, output.stderr)
}

struct AgentConfigOption: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("The agent's config file.", valueName: "FILE"))
    var path: String?

    func load(failureExitCode: Int32 = 1) throws -> AgentConfiguration {
        do {
            return try AgentConfiguration.load(path: path)
        } catch {
            try finish(CommandOutput(stderr: error.description + "\n", exitCode: failureExitCode))
            throw ExitCode(failureExitCode)
        }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check a desired-state file (and the TLS files it names); touches nothing. Exit 0 valid, 1 invalid.")

    @Argument(help: "The desired-state file.") var file: String

    func run() throws { try finish(NodeConfigCommands.validate(file: file)) }
}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "render", abstract: "Write every artifact the agent would install into a directory; touches nothing else.")

    @Argument(help: "The desired-state file.") var file: String
    @Option(help: ArgumentHelp("Where to write the files.", valueName: "DIR")) var output: String
    @OptionGroup var config: AgentConfigOption

    func run() throws {
        // cassandra.yaml names the stores where they will be installed, not where this writes them.
        try finish(NodeConfigCommands.render(file: file, output: output, storeDirectory: try config.load().cassandraConfigDirectory))
    }
}

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Show what applying a desired-state file would change on this node. Exit 0 no change, 2 changes pending, 1 invalid.")

    @Argument(help: "The desired-state file (default: the installed one, from the agent's config).") var file: String?
    @OptionGroup var config: AgentConfigOption
    @Option(name: .customLong("config-dir"), help: ArgumentHelp("The Cassandra config directory to compare with.", valueName: "DIR"))
    var configDirectory: String?

    func run() throws {
        let settings = try config.load()
        try finish(NodeConfigCommands.plan(file: file ?? settings.desiredState, configDirectory: configDirectory ?? settings.cassandraConfigDirectory, stateDirectory: settings.stateDirectory))
    }
}

struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Render a desired-state file and install it into the Cassandra config directory, atomically, keeping the previous generation.")

    @Argument(help: "The desired-state file (default: the installed one, from the agent's config).") var file: String?
    @OptionGroup var config: AgentConfigOption
    @Option(name: .customLong("config-dir"), help: ArgumentHelp("Install into this directory instead.", valueName: "DIR"))
    var configDirectory: String?
    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Keep generations here instead.", valueName: "DIR"))
    var stateDirectory: String?

    func run() throws {
        var settings = try config.load()
        if let configDirectory { settings.cassandraConfigDirectory = configDirectory }
        if let stateDirectory { settings.stateDirectory = stateDirectory }
        try finish(NodeConfigCommands.apply(file: file ?? settings.desiredState, configuration: settings))
    }
}

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rollback", abstract: "Re-install a kept generation of the node's config files, or list them.")

    @Option(help: "The generation to restore (default: the one before the newest).") var generation: Int?
    @Flag(help: "List the kept generations.") var list = false
    @OptionGroup var config: AgentConfigOption
    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where generations are kept.", valueName: "DIR"))
    var stateDirectory: String?

    func run() throws {
        var settings = try config.load()
        if let stateDirectory { settings.stateDirectory = stateDirectory }
        try finish(NodeConfigCommands.rollback(generation: generation, list: list, configuration: settings))
    }
}

/// The socket path: `--socket`, else the agent's config; an unreadable config is "agent unknown" (exit 3).
struct SocketOption: ParsableArguments {
    @Option(help: ArgumentHelp("The agent's socket (default: from the agent's config).", valueName: "PATH")) var socket: String?
    @OptionGroup var config: AgentConfigOption

    func path() throws -> String {
        if let socket { return socket }
        do {
            return try AgentConfiguration.load(path: config.path).socket
        } catch {
            try finish(CommandOutput(stderr: error.description + "\n", exitCode: 3))
            throw ExitCode(3)
        }
    }
}

struct Jobs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "Every job kind: state, current run with progress, last run, next run. Exit 0, 3 if the agent does not answer.")

    @Flag(help: "Print the socket's JSON (GET /v1/jobs) unchanged.") var json = false
    @OptionGroup var socket: SocketOption

    func run() throws { try finish(JobCommands.list(socket: try socket.path(), json: json)) }
}

struct Job: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "Start or cancel a job on the running agent.", subcommands: [Start.self, Cancel.self])

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start", abstract: "Run a job now, under the same rules as a scheduled run. Exit 0 accepted, 1 refused with the reason, 3 agent unreachable.")

        @Argument(help: "repair, backup, patching, rebuild or decommission.") var kind: String
        @Option(name: .customLong("keyspace"), help: ArgumentHelp("Only this keyspace (repeatable).", valueName: "KS")) var keyspaces: [String] = []
        @Option(name: .customLong("source-dc"), help: ArgumentHelp("The datacenter to stream from (rebuild).", valueName: "DC")) var sourceDC: String?
        @OptionGroup var socket: SocketOption

        func validate() throws {
            guard JobKind(rawValue: kind) != nil else {
                throw ValidationError("unknown job kind '\(kind)': one of \(JobKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() throws { try finish(JobCommands.start(kind, keyspaces: keyspaces, sourceDC: sourceDC, socket: try socket.path())) }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Stop the running job of KIND; its outside commands are killed. Exit 0 cancelled, 1 nothing to cancel, 3 agent unreachable.")

        @Argument(help: "repair, backup, patching, rebuild or decommission.") var kind: String
        @OptionGroup var socket: SocketOption

        func validate() throws {
            guard JobKind(rawValue: kind) != nil else {
                throw ValidationError("unknown job kind '\(kind)': one of \(JobKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() throws { try finish(JobCommands.cancel(kind, socket: try socket.path())) }
    }
}

struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup", abstract: "The node's backups: list, verify, restore.", subcommands: [List.self, Verify.self, Restore.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "The node's complete backups, newest last. Exit 0, 3 if the agent does not answer.")

        @Flag(help: "Print {\"backups\": [...]} (GET /v1/backups).") var json = false
        @OptionGroup var socket: SocketOption

        func run() throws { try finish(BackupCommands.list(socket: try socket.path(), json: json)) }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", abstract: "Re-read every object of backup ID and check its size and SHA-256. Exit 0 intact, 1 damaged or missing.")

        @Argument(help: "The backup's id (from `backup list`).") var id: String
        @OptionGroup var config: AgentConfigOption

        func run() async throws { try finish(await BackupCommands.verify(id, configuration: try config.load())) }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore", abstract: "Put a backup's SSTables back on this node through Cassandra (nodetool import; refresh on 3.11), as a job of the running agent. Exit 0 restored, 1 refused or failed, 3 agent unreachable.")

        @Argument(help: "The backup's id (from `backup list`).") var id: String
        @Option(help: ArgumentHelp("Only this keyspace.", valueName: "KS")) var keyspace: String?
        @Option(help: ArgumentHelp("Only this table of the keyspace.", valueName: "T")) var table: String?
        @Flag(name: .customLong("dry-run"), help: "Say what would be restored; change nothing.") var dryRun = false
        @Flag(help: "Restore a backup of another host ID onto this node.") var force = false
        @OptionGroup var socket: SocketOption

        func validate() throws {
            if table != nil && keyspace == nil { throw ValidationError("--table needs --keyspace") }
        }

        func run() async throws {
            let request = BackupRestore.Request(id: id, keyspace: keyspace, table: table, dryRun: dryRun, force: force)
            try finish(await BackupCommands.restore(request, socket: try socket.path()))
        }
    }
}
