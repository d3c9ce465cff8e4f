/// The Cassandra unit through `systemctl`, as an argument vector with a timeout.
public struct SystemctlClient: Sendable {
    public struct UnitState: Sendable, Equatable {
        public var activeState: String
        public var subState: String
        public var mainPID: Int
        /// As systemd prints it (e.g. "Sun 2026-11-22 04:00:01 UTC"), empty if never started.
        public var startedAt: String

        public var isActive: Bool { activeState == "active" }
    }

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public let prefix: [String]
    public let unit: String
    public let runner: any ProcessRunner
    public let timeout: Duration

    public init(prefix: [String], unit: String, runner: any ProcessRunner, timeout: Duration = .seconds(120)) {
        self.prefix = prefix
        self.unit = unit
        self.runner = runner
        self.timeout = timeout
    }

    /// `systemctl is-active`: exit 0 means active; any other answer is not.
    public func isActive() async throws(Failure) -> Bool {
        let output = try await run(["is-active", unit], acceptAnyExit: true)
        return output.exitCode == 0 && output.stdout.trimmingSpaces == "active"
    }

    public func start() async throws(Failure) { _ = try await run(["start", unit]) }
    public func stop() async throws(Failure) { _ = try await run(["stop", unit]) }
    public func restart() async throws(Failure) { _ = try await run(["restart", unit]) }

    public func show() async throws(Failure) -> UnitState {
        let output = try await run(["show", unit, "--property=ActiveState,SubState,MainPID,ExecMainStartTimestamp"])
        var values: [String: String] = [:]
        for line in output.stdout.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let active = values["ActiveState"], let sub = values["SubState"] else {
            throw Failure(message: "systemctl show \(unit) printed no ActiveState/SubState: \(output.stdout.prefix(200))")
        }
        return UnitState(activeState: active, subState: sub, mainPID: Int(values["MainPID"] ?? "") ?? 0, startedAt: values["ExecMainStartTimestamp"] ?? "")
    }

    func run(_ arguments: [String], acceptAnyExit: Bool = false) async throws(Failure) -> ProcessOutput {
        let command = ProcessCommand(prefix + arguments, timeout: timeout)
        let output: ProcessOutput
        do {
            output = try await runner.run(command)
        } catch {
            throw Failure(message: error.description)
        }
        if output.timedOut || output.cancelled || (!acceptAnyExit && output.exitCode != 0) {
            throw Failure(message: output.failureDescription(of: command))
        }
        return output
    }
}
