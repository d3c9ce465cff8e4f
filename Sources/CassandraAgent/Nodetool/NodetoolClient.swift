/// A nodetool run that failed: it could not start, it reported an error, or
/// its output could not be read. Each carries what an operator needs.
public enum NodetoolError: Error, Sendable, Equatable, CustomStringConvertible {
    case couldNotRun(ProcessLaunchError)
    case failed(NodetoolFailure)
    case unreadable(NodetoolParseError)

    public var description: String {
        switch self {
        case .couldNotRun(let error): error.description
        case .failed(let failure): failure.description
        case .unreadable(let error): error.description
        }
    }
}

/// Typed nodetool operations for one node, version-aware: the argument vector
/// prefix comes from the agent's config (`nodetool: [...]`), every call has a
/// timeout, and every answer is parsed or refused with a located error.
public struct NodetoolClient: Sendable {
    public let prefix: [String]
    public let runner: any ProcessRunner
    public let version: CassandraVersion
    /// For quick reads (status, info); operations pass their own.
    public let timeout: Duration

    public init(prefix: [String], runner: any ProcessRunner, version: CassandraVersion, timeout: Duration = .seconds(30)) {
        self.prefix = prefix
        self.runner = runner
        self.version = version
        self.timeout = timeout
    }

    /// Runs `nodetool ARGS` and returns its stdout, or the classified failure.
    public func run(_ arguments: [String], timeout: Duration? = nil) async throws(NodetoolError) -> String {
        let command = ProcessCommand(prefix + arguments, timeout: timeout ?? self.timeout)
        let output: ProcessOutput
        do {
            output = try await runner.run(command)
        } catch {
            throw .couldNotRun(error)
        }
        if output.timedOut || output.cancelled {
            throw .failed(NodetoolFailure(kind: .timedOut, message: output.failureDescription(of: command), exitCode: output.exitCode, stderr: output.stderr))
        }
        guard output.exitCode == 0 else {
            throw .failed(NodetoolFailure.classify(exitCode: output.exitCode, stdout: output.stdout, stderr: output.stderr))
        }
        return output.stdout
    }

    func parsed<T>(_ arguments: [String], timeout: Duration? = nil, _ parse: (String) throws(NodetoolParseError) -> T) async throws(NodetoolError) -> T {
        let text = try await run(arguments, timeout: timeout)
        do {
            return try parse(text)
        } catch {
            throw .unreadable(error)
        }
    }

    // MARK: observation

    public func status(keyspace: String? = nil) async throws(NodetoolError) -> NodetoolStatus {
        try await parsed(["status"] + (keyspace.map { [$0] } ?? []), NodetoolStatus.parse)
    }

    /// `tokens`: `info -T`, which lists the node's tokens as well (observation keeps them, so a
    /// backup's manifest needs no nodetool run of its own for them).
    public func info(tokens: Bool = false) async throws(NodetoolError) -> NodetoolInfo {
        try await parsed(tokens ? ["info", "-T"] : ["info"], NodetoolInfo.parse)
    }

    public func gossipInfo() async throws(NodetoolError) -> NodetoolGossipInfo {
        try await parsed(["gossipinfo"], NodetoolGossipInfo.parse)
    }

    public func describeCluster() async throws(NodetoolError) -> NodetoolDescribeCluster {
        try await parsed(["describecluster"], NodetoolDescribeCluster.parse)
    }

    public func describeRing(keyspace: String) async throws(NodetoolError) -> NodetoolDescribeRing {
        try await parsed(["describering", keyspace], NodetoolDescribeRing.parse)
    }

    public func releaseVersion() async throws(NodetoolError) -> NodetoolVersion {
        try await parsed(["version"], NodetoolVersion.parse)
    }

    public func nativeTransportRunning() async throws(NodetoolError) -> Bool {
        try await parsed(["statusbinary"]) { text throws(NodetoolParseError) in try NodetoolRunningState.parse(text, command: "statusbinary") }
    }

    public func gossipRunning() async throws(NodetoolError) -> Bool {
        try await parsed(["statusgossip"]) { text throws(NodetoolParseError) in try NodetoolRunningState.parse(text, command: "statusgossip") }
    }

    public func netstats() async throws(NodetoolError) -> NodetoolNetstats {
        try await parsed(["netstats"], NodetoolNetstats.parse)
    }

    public func compactionStats() async throws(NodetoolError) -> NodetoolCompactionStats {
        try await parsed(["compactionstats"], NodetoolCompactionStats.parse)
    }

    public func listSnapshots() async throws(NodetoolError) -> NodetoolSnapshotList {
        try await parsed(["listsnapshots"], NodetoolSnapshotList.parse)
    }

    // MARK: operations

    /// Flushes, stops gossip, native transport and writes; Cassandra must then be stopped.
    public func drain(timeout: Duration = .seconds(600)) async throws(NodetoolError) {
        _ = try await run(["drain"], timeout: timeout)
    }

    public func flush(keyspace: String? = nil, tables: [String] = [], timeout: Duration = .seconds(600)) async throws(NodetoolError) {
        _ = try await run(["flush"] + (keyspace.map { [$0] + tables } ?? []), timeout: timeout)
    }

    public struct RepairOptions: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// Full repair of this node's primary ranges (`-pr -full`): run on every node in turn.
            case primaryRange
            case full
            /// The version's default, incremental.
            case incremental
        }

        public var kind: Kind
        public var keyspace: String?
        public var tables: [String] = []
        public var startToken: String?
        public var endToken: String?

        public init(kind: Kind, keyspace: String? = nil, tables: [String] = [], startToken: String? = nil, endToken: String? = nil) {
            self.kind = kind
            self.keyspace = keyspace
            self.tables = tables
            self.startToken = startToken
            self.endToken = endToken
        }

        var arguments: [String] {
            var args = ["repair"]
            switch kind {
            case .primaryRange: args += ["-pr", "-full"]
            case .full: args += ["-full"]
            case .incremental: break
            }
            if let startToken, let endToken { args += ["-st", startToken, "-et", endToken] }
            if let keyspace { args += [keyspace] + tables }
            return args
        }
    }

    /// Runs the words of one repair command (`RepairSegment.arguments`) and reads what it printed.
    public func repair(arguments: [String], timeout: Duration) async throws(NodetoolError) -> NodetoolRepairOutput {
        try await parsed(arguments, timeout: timeout, NodetoolRepairOutput.parse)
    }

    /// Runs a repair to its end. A repair that reports failure throws `.failed` with its reason.
    public func repair(_ options: RepairOptions, timeout: Duration) async throws(NodetoolError) -> NodetoolRepairOutput {
        try await parsed(options.arguments, timeout: timeout, NodetoolRepairOutput.parse)
    }

    /// Takes a snapshot and returns its tag. A TTL needs 4.1+.
    public func snapshot(tag: String, keyspaces: [String] = [], ttl: String? = nil, timeout: Duration = .seconds(600)) async throws(NodetoolError) -> String {
        var args = ["snapshot", "-t", tag]
        if let ttl, version >= .v4_1 { args += ["--ttl", ttl] }
        return try await parsed(args + keyspaces, timeout: timeout, NodetoolSnapshotOutput.tag)
    }

    /// Removes one snapshot, or every snapshot (`tag` nil): 3.11 without -t, 4.0+ with --all.
    public func clearSnapshot(tag: String?, keyspaces: [String] = []) async throws(NodetoolError) {
        var args = ["clearsnapshot"]
        if let tag { args += ["-t", tag] } else if version >= .v4_0 { args += ["--all"] }
        _ = try await run(args + keyspaces)
    }

    /// Asks Cassandra to reload its keystores and truststores (4.0+).
    public func reloadSSL() async throws(NodetoolError) {
        guard version >= .v4_0 else {
            throw .failed(NodetoolFailure(kind: .usage, message: "reloadssl does not exist in Cassandra 3.11; a restart is needed", exitCode: nil, stderr: ""))
        }
        _ = try await run(["reloadssl"])
    }

    /// Loads SSTables from directories into a table: `import` on 4.0+, `refresh` (files in the table directory) on 3.11.
    public func importSSTables(keyspace: String, table: String, directories: [String], timeout: Duration = .seconds(3600)) async throws(NodetoolError) {
        if version >= .v4_0 {
            _ = try await run(["import", keyspace, table] + directories, timeout: timeout)
        } else {
            _ = try await run(["refresh", keyspace, table], timeout: timeout)
        }
    }
}
