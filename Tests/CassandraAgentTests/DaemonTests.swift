import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// `cassandra-agent run` as a real process against a simulated node.
final class AgentUnderTest: Sendable {
    let dir = TemporaryDirectory()
    let process: BackgroundProcess
    let node = "127.0.1.1"

    var sim: String { dir.path + "/sim" }
    var desiredStatePath: String { dir.path + "/etc/desired-state.yaml" }
    var socket: String { dir.path + "/run/agent.sock" }
    var configFile: String { dir.path + "/agent.yaml" }
    var conf: String { "\(sim)/nodes/\(node)/conf" }

    let version: String

    init(environment extra: [String: String] = [:], adminGroup: String = "root", socketMode: String = "0660", observeSeconds: Double = 0.3, version: String = "4.1",
         simulator: [String] = [], nodetoolTimeoutSeconds: Double = 30, resyncSeconds: Double = 0.5, before: (TemporaryDirectory) throws -> Void = { _ in }) throws {
        self.version = version
        chmod(dir.path, 0o755)
        let initProcess = try SimulatedClusterTests.Cluster.sim(["init", "--dir", dir.path + "/sim", "--version", version, "--datacenters", "DC1:3x1", "--name", "Demo", "--gossip-delay", "0.5"] + simulator)
        guard initProcess.exitCode == 0 else { throw SimulationError("init failed: \(initProcess.stderr)") }
        dir.write("agent.yaml", """
        desiredState: \(dir.path)/etc/desired-state.yaml
        cassandraConfigDirectory: \(dir.path)/sim/nodes/\(node)/conf
        stateDirectory: \(dir.path)/state
        socket: \(dir.path)/run/agent.sock
        socketMode: "\(socketMode)"
        adminGroup: \(adminGroup)
        nodetool: ["\(Paths.simulatorExecutable)", "nodetool", "--dir", "\(dir.path)/sim", "--node", "\(node)"]
        systemctl: ["\(Paths.simulatorExecutable)", "systemctl", "--dir", "\(dir.path)/sim", "--node", "\(node)"]
        files: {owner: root, group: root, mode: "0640"}
        observeSeconds: \(observeSeconds)
        resyncSeconds: \(resyncSeconds)
        nodetoolTimeoutSeconds: \(nodetoolTimeoutSeconds)

        """)
        try before(dir)
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = nil
        environment["JOURNAL_STREAM"] = nil
        for (key, value) in extra { environment[key] = value }
        process = try BackgroundProcess(Paths.agentExecutable, ["run", "--config", dir.path + "/agent.yaml"], environment: environment, log: dir.path + "/agent.log")
    }

    /// The agent's journal (its stderr), kept so that a wait that times out can say what the agent was doing.
    var logFile: String { dir.path + "/agent.log" }

    func logTail(_ lines: Int = 40) -> String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    func desiredState(settings: [String] = ["compaction_throughput: 64MiB/s"], extra: String = "") -> String {
        """
        apiVersion: cassandra-agent/v1
        cassandra: {version: "\(version)"}
        cluster: {name: Demo, seeds: ["127.0.1.1"]}
        node: {datacenter: DC1, rack: rack1, listenAddress: 127.0.1.1}
        settings:
        \(settings.map { "  " + $0 }.joined(separator: "\n"))
          data_file_directories: [\(sim)/nodes/\(node)/data]
          commitlog_directory: \(sim)/nodes/\(node)
        \(extra)
        """
    }

    /// Writes the desired state the way config tools do: temp file, then rename.
    func drop(_ text: String) throws {
        let temp = dir.path + "/etc/.desired-state.tmp"
        try FileManager.default.createDirectory(atPath: dir.path + "/etc", withIntermediateDirectories: true)
        try text.write(toFile: temp, atomically: false, encoding: .utf8)
        rename(temp, desiredStatePath)
    }

    func status() throws -> StatusDocument? {
        guard let answer = try? StatusClient.get("/v1/status", socket: socket), answer.status == 200 else { return nil }
        return try JSONDecoder().decode(StatusDocument.self, from: Data(answer.body.utf8))
    }

    /// Polls the agent's status (never nodetool) until `condition` holds, for up to `seconds`;
    /// nil when it never did.
    func waitFor(_ seconds: Double = 10, _ condition: (StatusDocument) -> Bool) async throws -> StatusDocument? {
        let deadline = Date().addingTimeInterval(seconds)
        var last = Date(), longestGap = 0.0
        while Date() < deadline {
            if let document = try status(), condition(document) { return document }
            try await Task.sleep(for: .milliseconds(50))
            longestGap = max(longestGap, Date().timeIntervalSince(last))
            last = Date()
        }
        // One last look: the condition may have come true while this test was not scheduled
        // (a loaded machine starves the test's own task, not only the agent).
        if let document = try status(), condition(document) { return document }
        // Timed out: nil, so that `#require` fails here; the journal says what the agent did.
        let starved = longestGap > 5 ? " (this test itself was not scheduled for \(Int(longestGap)) s: the machine is loaded)" : ""
        FileHandle.standardError.write(Data("\(Test.current?.name ?? "?"): agent \(dir.path): condition not met within \(seconds) s\(starved); the end of its journal:\n\(logTail())\n".utf8))
        return nil
    }

    /// The test PKI's files in `<dir>/tls`, for a desired state's `tls` section.
    func copyTLSMaterial(_ pki: TestPKI) throws -> String {
        let tls = dir.path + "/tls"
        try FileManager.default.createDirectory(atPath: tls, withIntermediateDirectories: true)
        for file in ["node.pem", "node.key", "ec.pem", "ec.key", "ca.pem", "store.pass"] {
            try FileManager.default.copyItem(atPath: pki.file(file), toPath: "\(tls)/\(file)")
        }
        return tls
    }

    func internodeTLS(_ tls: String) -> String {
        """
        tls:
          internode:
            encryption: all
            certificate: \(tls)/node.pem
            privateKey: \(tls)/node.key
            trust: [\(tls)/ca.pem]
            storeType: PKCS12
            passwordFile: \(tls)/store.pass
        """
    }

    /// Command lines of this cluster's simulator processes running `word` (e.g. a repair).
    func simulatorProcesses(running word: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid -> String? in
            guard Int(pid) != nil, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return words.contains(sim) && words.contains(word) ? words.joined(separator: " ") : nil
        }
    }

    func stop() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

@Suite(.serialized) struct DaemonTests {
    @Test func reconcilesDroppedFilesRefusesBrokenOnesAndRepairsDrift() async throws {
        let agent = try AgentUnderTest()
        // (How fast a dropped file is installed is measured by bench/reconcile-latency.py, not here.)
        try agent.drop(agent.desiredState())
        let first = try await agent.waitFor(30) { $0.desiredState.generation == 1 }
        #expect(first?.desiredState.generation == 1)
        let yaml = try String(contentsOfFile: agent.conf + "/cassandra.yaml", encoding: .utf8)
        #expect(yaml.contains("\ncompaction_throughput: 64MiB/s\n"))

        // A live-settable change is pushed to the node with nodetool.
        try agent.drop(agent.desiredState(settings: ["compaction_throughput: 128MiB/s", "num_tokens: 8"]))
        let second = try #require(try await agent.waitFor { $0.desiredState.generation == 2 })
        #expect(second.liveChanges.last?.command == "nodetool setcompactionthroughput 128")
        #expect(second.restartPending?.settings.contains("num_tokens") == true)
        let simState = try SimulationDirectory(agent.sim).load()
        #expect(simState.node("127.0.1.1")?.liveCommands == ["setcompactionthroughput 128"])

        // A broken file changes nothing and its errors, with lines, show in status.
        let installed = try String(contentsOfFile: agent.conf + "/cassandra.yaml", encoding: .utf8)
        try agent.drop(agent.desiredState(settings: ["compaction_throughput: 128MiB/s", "num_tokens: many"]))
        let refused = try #require(try await agent.waitFor { $0.desiredState.lastRefused != nil })
        #expect(refused.desiredState.lastRefused?.errors == ["\(agent.desiredStatePath):7:15: error: settings.num_tokens must be an integer, found a string 'many'"])
        #expect(refused.desiredState.generation == 2)
        #expect(refused.health >= .warning)
        #expect(try String(contentsOfFile: agent.conf + "/cassandra.yaml", encoding: .utf8) == installed)

        // Fixing the file clears the refusal.
        try agent.drop(agent.desiredState(settings: ["compaction_throughput: 128MiB/s", "num_tokens: 8"]))
        #expect(try await agent.waitFor { $0.desiredState.lastRefused == nil }?.desiredState.lastRefused == nil)

        // A hand edit is reported and put back.
        try (installed + "concurrent_reads: 999\n").write(toFile: agent.conf + "/cassandra.yaml", atomically: false, encoding: .utf8)
        let repaired = try #require(try await agent.waitFor { $0.reconcile.driftCorrected > 0 })
        #expect(repaired.reconcile.lastDrift?.contains("cassandra.yaml edited outside the agent and restored") == true)
        #expect(try String(contentsOfFile: agent.conf + "/cassandra.yaml", encoding: .utf8) == installed)

        // A deleted file changes nothing either.
        try FileManager.default.removeItem(atPath: agent.desiredStatePath)
        let missing = try #require(try await agent.waitFor { $0.desiredState.lastRefused != nil })
        #expect(missing.desiredState.generation != nil)
        #expect(try String(contentsOfFile: agent.conf + "/cassandra.yaml", encoding: .utf8) == installed)

        #expect(agent.stop() == 0, "SIGTERM is a clean stop")
        #expect(!FileManager.default.fileExists(atPath: agent.socket))
    }

    @Test func statusGoesCriticalWhenCassandraStopsAndRecovers() async throws {
        let agent = try AgentUnderTest()
        try agent.drop(agent.desiredState())
        _ = try await agent.waitFor { $0.desiredState.generation == 1 }
        let systemctl = SystemctlClient(prefix: [Paths.simulatorExecutable, "systemctl", "--dir", agent.sim, "--node", agent.node], unit: "cassandra", runner: SystemProcessRunner())
        try await systemctl.stop()
        let down = try #require(try await agent.waitFor { doc in doc.checks.contains { $0.reason == "unit.inactive" } })
        #expect(down.health == .critical, "\(down.checks)")
        let check = try #require(down.checks.first { $0.name == "cassandra.service" })
        #expect(check.level == .critical && check.reason == "unit.inactive")
        #expect(check.message.contains("Cassandra is not running"))

        let cli = try runAgent(["status", "--config", agent.configFile])
        #expect(cli.exitCode == 2)
        #expect(cli.stdout.contains("CRITICAL cassandra.service: the Cassandra unit is inactive"))
        let json = try runAgent(["status", "--json", "--socket", agent.socket])
        #expect(json.exitCode == 2)
        #expect(try JSONDecoder().decode(StatusDocument.self, from: Data(json.stdout.utf8)).health == .critical)

        try await systemctl.start()
        let back = try #require(try await agent.waitFor { doc in doc.checks.first { $0.name == "cassandra.service" }?.level == .ok })
        #expect(back.checks.first { $0.name == "cassandra.service" }?.reason == "unit.active")
        _ = agent.stop()
        let gone = try runAgent(["status", "--socket", agent.socket])
        #expect(gone.exitCode == 3)
        #expect(gone.stdout.hasPrefix("UNKNOWN: the agent does not answer on \(agent.socket)"))
    }

    @Test func nativeTransportDisabledIsCriticalWithItsRemedy() async throws {
        let agent = try AgentUnderTest()
        try agent.drop(agent.desiredState())
        _ = try await agent.waitFor { $0.desiredState.generation == 1 }
        let nodetool = NodetoolClient(prefix: [Paths.simulatorExecutable, "nodetool", "--dir", agent.sim, "--node", agent.node], runner: SystemProcessRunner(), version: .v4_1)
        _ = try await nodetool.run(["disablebinary"])
        let document = try #require(try await agent.waitFor { doc in doc.checks.contains { $0.reason == "native_transport.disabled" } })
        #expect(document.checks.first { $0.reason == "native_transport.disabled" }?.message
            == "native transport is disabled on this node: clients cannot connect; `nodetool enablebinary` or restart")
        _ = agent.stop()
    }

    @Test func readinessAndWatchdogThroughNotifySocket() async throws {
        let notify = try NotifySocket()
        let agent = try AgentUnderTest(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"])
        try agent.drop(agent.desiredState())
        let ready = notify.receive(until: { $0.contains("READY=1") }, seconds: 10)
        #expect(ready.contains { $0.contains("READY=1") && $0.contains("STATUS=health ") })
        // Pets at least every 200 ms (half of WATCHDOG_USEC).
        let pets = notify.receive(for: 1.5).filter { $0.contains("WATCHDOG=1") }
        #expect(pets.count >= 4, "\(pets.count) pets in 1.5 s")

        // A pass that hangs (nodetool never answers a live setter) must stop the petting.
        _ = try SimulatedClusterTests.Cluster.sim(["fault", "--dir", agent.sim, "--node", agent.node, "hang"])
        try agent.drop(agent.desiredState(settings: ["compaction_throughput: 96MiB/s"]))
        _ = notify.receive(for: 1.0)
        let whileStuck = notify.receive(for: 1.5).filter { $0.contains("WATCHDOG=1") }
        #expect(whileStuck.isEmpty, "a stuck reconcile loop still petted the watchdog \(whileStuck.count) times")

        agent.process.terminate()
        let stopping = notify.receive(until: { $0.contains("STOPPING=1") }, seconds: 10)
        #expect(stopping.contains { $0.contains("STOPPING=1") })
        agent.process.waitUntilExit()
    }

    @Test func onlyAdminsMayPost() async throws {
        // "daemon" (gid 1) is the admin group; uid 65534 is nobody.
        let agent = try AgentUnderTest(adminGroup: "daemon", socketMode: "0666")
        try agent.drop(agent.desiredState())
        _ = try await agent.waitFor { $0.desiredState.generation == 1 }
        func curl(_ gid: String, _ method: String, _ path: String) throws -> String {
            try runProcess("/usr/bin/setpriv", ["--reuid=65534", "--regid=\(gid)", "--clear-groups", "/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                                "-X", method, "--unix-socket", agent.socket, "http://localhost\(path)"]).stdout
        }
        #expect(try curl("65534", "GET", "/v1/status") == "200")
        #expect(try curl("65534", "GET", "/v1/health") == "200")
        #expect(try curl("65534", "GET", "/metrics") == "200")
        #expect(try curl("65534", "POST", "/v1/reconcile") == "403")
        #expect(try curl("1", "POST", "/v1/reconcile") == "202")
        #expect(try curl("65534", "DELETE", "/v1/status") == "405")
        _ = agent.stop()
    }

    @Test func badRequestsDoNotTakeTheSocketDown() async throws {
        let agent = try AgentUnderTest()
        try agent.drop(agent.desiredState())
        _ = try await agent.waitFor { $0.desiredState.generation == 1 }
        // Too many headers, an oversized body, and idle connections.
        let headers = (0..<100).map { "X-H\($0): v\r\n" }.joined()
        #expect(try rawRequest(agent.socket, "GET /v1/status HTTP/1.1\r\nHost: x\r\n\(headers)\r\n").hasPrefix("HTTP/1.1 431"))
        let body = String(repeating: "x", count: 70_000)
        #expect(try rawRequest(agent.socket, "POST /v1/reconcile HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n\(body)").hasPrefix("HTTP/1.1 413"))
        let idle = (0..<40).compactMap { _ in try? openConnection(agent.socket) }
        // Over the limit, extra connections are closed at once; the others wait for the read timeout.
        try await Task.sleep(for: .milliseconds(300))
        idle.prefix(32).forEach { close($0) }
        let document = try await agent.waitFor(5) { _ in true }
        #expect(document != nil, "the socket still answers")
        #expect(agent.stop() == 0, "idle connections do not hold up a clean stop")
        idle.dropFirst(32).forEach { close($0) }
    }
}

/// A datagram socket standing in for systemd's notify socket.
final class NotifySocket: @unchecked Sendable {
    let path: String
    let fd: Int32
    let dir = TemporaryDirectory()

    init() throws {
        path = dir.path + "/notify"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        let rc = withUnixAddress(path) { bind(fd, $0, $1) }
        guard rc == 0 else { throw SystemError("bind", path: path) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func receiveOne() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    func receive(for seconds: Double) -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        var messages: [String] = []
        while Date() < deadline { if let m = receiveOne() { messages.append(m) } }
        return messages
    }

    func receive(until condition: (String) -> Bool, seconds: Double) -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        var messages: [String] = []
        while Date() < deadline {
            if let m = receiveOne() {
                messages.append(m)
                if condition(m) { break }
            }
        }
        return messages
    }

    deinit { close(fd) }
}

/// Calls `body` with a sockaddr_un for `path`.
func withUnixAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        let bytes = Array(path.utf8)
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
}

func openConnection(_ path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    let rc = withUnixAddress(path) { connect(fd, $0, $1) }
    guard rc == 0 else { close(fd); throw SystemError("connect", path: path) }
    return fd
}

/// Sends raw bytes and returns what the server answers before closing.
func rawRequest(_ path: String, _ request: String, timeoutSeconds: Int = 5) throws -> String {
    let fd = try openConnection(path)
    defer { close(fd) }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    FileIO.writeAll(fd: fd, request)
    var response = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        response += buffer[0..<n]
    }
    return String(decoding: response, as: UTF8.self)
}


/// Rotating certificates: new inputs rebuild the stores, swapped atomically;
/// 4.0+ reload them live, 3.11 needs a restart.
@Suite(.serialized) struct TLSRotationTests {
    @Test(arguments: ["4.1", "3.11"])
    func changingTheCertificateRebuildsAndReloadsTheStores(version: String) async throws {
        let pki = try #require(TLSStoreTests.pki)
        let agent = try AgentUnderTest(version: version)
        let tls = try agent.copyTLSMaterial(pki)
        try agent.drop(agent.desiredState(extra: agent.internodeTLS(tls)))
        let first = try #require(try await agent.waitFor(30) { $0.desiredState.generation == 1 })
        #expect(first.stores.contains { $0.file == "internode-keystore.p12" && $0.subject.contains("CN=cassandra-node-1") })
        #expect(first.stores.first { $0.file == "internode-keystore.p12" }?.daysLeft ?? 0 > 300)
        let keystore = agent.conf + "/internode-keystore.p12"
        let firstBytes = try Data(contentsOf: URL(fileURLWithPath: keystore))
        // Unchanged inputs: later passes keep the installed store (its bytes would differ on every build).
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try Data(contentsOf: URL(fileURLWithPath: keystore)) == firstBytes)
        #expect(try agent.status()?.desiredState.generation == 1)

        // The operator replaces the certificate and key (here: the EC pair issued by the root).
        try FileManager.default.removeItem(atPath: "\(tls)/node.pem")
        try FileManager.default.removeItem(atPath: "\(tls)/node.key")
        try FileManager.default.copyItem(atPath: "\(tls)/ec.pem", toPath: "\(tls)/node.pem")
        try FileManager.default.copyItem(atPath: "\(tls)/ec.key", toPath: "\(tls)/node.key")
        let rotated = try #require(try await agent.waitFor(30) { doc in doc.stores.contains { $0.subject.contains("CN=cassandra-node-ec") } })
        #expect(try Data(contentsOf: URL(fileURLWithPath: keystore)) != firstBytes)
        let sim = try SimulationDirectory(agent.sim).load()
        if version == "3.11" {
            #expect(sim.node(agent.node)?.reloadSSLCount == 0)
            #expect(rotated.restartPending?.settings.contains("internode-keystore.p12: key material") == true, "\(String(describing: rotated.restartPending))")
        } else {
            // One reload for the first install, one for the rotation (a rotation found by a resync used to be taken for drift and never reloaded).
            #expect(sim.node(agent.node)?.reloadSSLCount == 2)
            #expect(rotated.liveChanges.last?.command == "nodetool reloadssl" && rotated.liveChanges.last?.succeeded == true)
        }
        // A broken replacement (key of another certificate) is refused; the stores stay.
        let installed = try Data(contentsOf: URL(fileURLWithPath: keystore))
        // Renamed into place, as rotation tools do: a remove then a copy lets the agent see the key missing first.
        try FileManager.default.copyItem(atPath: pki.file("other.key"), toPath: "\(tls)/node.key.new")
        #expect(rename("\(tls)/node.key.new", "\(tls)/node.key") == 0)
        let refused = try #require(try await agent.waitFor(30) { $0.desiredState.lastRefused != nil })
        #expect(refused.desiredState.lastRefused?.errors.first?.contains("error: tls.internode: the private key in \(tls)/node.key does not belong to the certificate") == true)
        #expect(refused.desiredState.lastRefused?.errors.first?.contains(":13:") == true, "located at the privateKey line")
        if try Data(contentsOf: URL(fileURLWithPath: keystore)) != installed {
            let generations = try runAgent(["rollback", "--list", "--config", agent.configFile]).stdout
            Issue.record("keystore changed after a refused key; generations:\n\(generations)\nstatus: \(try StatusClient.get("/v1/status", socket: agent.socket).body.prefix(3000))")
        }
        _ = agent.stop()
    }
}

@Suite(.serialized) struct DaemonSystemdTests {
    @Test func sighupReloadsAndReportsReadyAgain() async throws {
        let notify = try NotifySocket()
        let agent = try AgentUnderTest(environment: ["NOTIFY_SOCKET": notify.path])
        try agent.drop(agent.desiredState())
        #expect(notify.receive(until: { $0.contains("READY=1") }, seconds: 20).contains { $0.contains("READY=1") })
        kill(agent.process.processIdentifier, SIGHUP)
        let messages = notify.receive(until: { $0.contains("READY=1") }, seconds: 20)
        #expect(messages.contains { $0.contains("RELOADING=1") && $0.contains("MONOTONIC_USEC=") })
        #expect(messages.last?.contains("READY=1") == true)
        #expect(agent.stop() == 0)
    }

    @Test func servesOnASocketSystemdPassesIn() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-socket-activate"), "systemd-socket-activate comes with the systemd package")
        let agent = try AgentUnderTest()
        // The agent's own socket path stays unused: systemd-socket-activate listens elsewhere and passes fd 3.
        let activated = agent.dir.path + "/activated.sock"
        _ = agent.stop()
        let process = try BackgroundProcess("/usr/bin/systemd-socket-activate", ["-l", activated, Paths.agentExecutable, "run", "--config", agent.configFile],
                                            environment: ProcessInfo.processInfo.environment)
        defer { process.terminate(); process.waitUntilExit() }
        try agent.drop(agent.desiredState())
        var answer: (status: Int, body: String)?
        let deadline = Date().addingTimeInterval(30)
        while answer == nil && Date() < deadline {
            answer = try? StatusClient.get("/v1/health", socket: activated, timeoutSeconds: 2)
            if answer == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(answer?.status == 200)
        #expect(!FileManager.default.fileExists(atPath: agent.socket), "no socket of its own when one is passed in")
    }
}
