import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// Backups driven the way an operator drives them: `cassandra-agent run` on a
/// simulated node, `job start backup`, `backup list|verify|restore`.
@Suite(.serialized) struct DaemonBackupTests {
    static func backupSection(_ destination: String, extra: String = "") -> String {
        """
        backup:
          enabled: true
          schedule: "0 3 * * *"
          retention: 48h
          destination: file://\(destination)
          splay: 0s
        \(extra)
        """
    }

    func run(_ agent: AgentUnderTest, _ arguments: [String]) throws -> ProcessResult {
        try runAgent(arguments + ["--socket", agent.socket])
    }

    func local(_ agent: AgentUnderTest, _ arguments: [String]) throws -> ProcessResult {
        try runAgent(arguments + ["--config", agent.configFile])
    }

    func backupJob(_ agent: AgentUnderTest, within seconds: Double = 60, _ condition: (StatusDocument.Job) -> Bool) async throws -> StatusDocument.Job? {
        try await agent.waitFor(seconds) { $0.jobs["backup"].map(condition) ?? false }?.jobs["backup"]
    }

    func nodetool(_ agent: AgentUnderTest, _ arguments: [String]) throws -> ProcessResult {
        try runProcess(Paths.simulatorExecutable, ["nodetool", "--dir", agent.sim, "--node", agent.node] + arguments)
    }

    /// Runs a backup by hand and waits for its end; returns the run.
    func backUp(_ agent: AgentUnderTest) async throws -> StatusDocument.JobRun {
        let before = try agent.status()?.jobs["backup"]?.lastRun?.id
        let started = try run(agent, ["job", "start", "backup"])
        #expect(started.exitCode == 0, "\(started.stderr)")
        let done = try #require(try await backupJob(agent) { $0.lastRun != nil && $0.lastRun?.id != before && $0.current == nil })
        return try #require(done.lastRun)
    }

    var dataRoot: (AgentUnderTest) -> String { { "\($0.sim)/nodes/\($0.node)/data" } }

    /// SHA-256 of every live SSTable component of the node (name -> hash), outside snapshots.
    func liveFiles(_ agent: AgentUnderTest, keyspace: String? = nil) -> [String: String] {
        var result: [String: String] = [:]
        let root = dataRoot(agent)
        for ks in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where keyspace == nil || ks == keyspace {
            for table in (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(ks)")) ?? [] where !table.hasPrefix(".") {
                for file in (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(ks)/\(table)")) ?? [] where file.contains("-big-") {
                    if let data = FileManager.default.contents(atPath: "\(root)/\(ks)/\(table)/\(file)") {
                        result["\(ks)/\(table)/\(file)"] = SHA256.hex(Array(data))
                    }
                }
            }
        }
        return result
    }

    func objects(_ destination: String) -> [String] {
        (FileManager.default.enumerator(atPath: destination)?.allObjects as? [String] ?? []).filter { $0.contains("/objects/") && !$0.hasSuffix(".tmp") && BackupLayout.sha256(ofObjectKey: $0) != nil }
    }

    @Test(arguments: ["4.1", "3.11"])
    func aBackupStoresEverySSTableByteIdenticalASecondUploadsNothingAndRestoreBringsFilesBack(version: String) async throws {
        let agent = try AgentUnderTest(version: version)
        let destination = agent.dir.path + "/backups"
        try agent.drop(agent.desiredState(extra: Self.backupSection(destination)))
        _ = try #require(try await backupJob(agent) { $0.enabled && $0.state == .idle })
        #expect(try run(agent, ["backup", "list"]).stdout == "no complete backup\n")

        let first = try await backUp(agent)
        #expect(first.result == "succeeded", "\(first.reason ?? "")")
        let live = liveFiles(agent)
        #expect(!live.isEmpty)
        // Every live SSTable component is stored, byte-identical, named by its SHA-256.
        let stored = Set(objects(destination).map { FileManager.default.contents(atPath: destination + "/" + $0).map { SHA256.hex(Array($0)) } ?? "" })
        let storedNames = Set(objects(destination).map { ($0 as NSString).lastPathComponent })
        #expect(stored == storedNames, "every object's content hashes to its name")
        #expect(Set(live.values).isSubset(of: stored))
        // The snapshot is gone once stored.
        #expect(try nodetool(agent, ["listsnapshots"]).stdout.contains("There are no snapshots"))

        let list = try run(agent, ["backup", "list", "--json"])
        let listing = try JSONDecoder().decode(BackupListing.self, from: Data(list.stdout.utf8))
        #expect(listing.backups.map(\.id) == [first.id])
        #expect(listing.backups.first?.files ?? 0 >= live.count)
        // The manifest carries the node's tokens, as `nodetool info -T` lists them.
        let hostDirectory = try #require(try FileManager.default.contentsOfDirectory(atPath: destination).first)
        let manifest = try BackupManifest.decode(Array(try Data(contentsOf: URL(fileURLWithPath: "\(destination)/\(hostDirectory)/backups/\(first.id).json"))))
        let cluster = try SimulationDirectory(agent.sim).load()
        #expect(manifest.tokens == cluster.node(agent.node)?.tokens.map(String.init))
        #expect(manifest.hostID == cluster.node(agent.node)?.hostID)

        // Unchanged: the second backup stores nothing new.
        let objectCount = objects(destination).count
        let second = try await backUp(agent)
        #expect(second.result == "succeeded")
        #expect(second.reason?.contains("stored 0 new file(s)") == true, "\(second.reason ?? "")")
        #expect(objects(destination).count == objectCount)

        // A flush adds SSTables: only they are uploaded.
        #expect(try nodetool(agent, ["flush"]).exitCode == 0)
        let added = Set(liveFiles(agent).values).subtracting(live.values)
        #expect(!added.isEmpty)
        let third = try await backUp(agent)
        #expect(third.result == "succeeded")
        #expect(third.reason?.contains("stored \(added.count) new file(s)") == true, "\(third.reason ?? "") added \(added.count)")

        #expect(try local(agent, ["backup", "verify", third.id]).exitCode == 0)

        // Delete the shop keyspace's files and restore them.
        let shop = liveFiles(agent, keyspace: "shop")
        for path in shop.keys { try FileManager.default.removeItem(atPath: dataRoot(agent) + "/" + path) }
        let dry = try local(agent, ["backup", "restore", third.id, "--keyspace", "shop", "--dry-run"])
        #expect(dry.exitCode == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would restore shop."))
        #expect(liveFiles(agent, keyspace: "shop").isEmpty, "a dry run changes nothing")
        let restored = try local(agent, ["backup", "restore", third.id, "--keyspace", "shop"])
        #expect(restored.exitCode == 0, "\(restored.stderr)")
        #expect(Set(liveFiles(agent, keyspace: "shop").values) == Set(shop.values), "the table's files are the backup's, byte for byte")

        // A corrupted object makes verify fail, and the list says so.
        let victim = destination + "/" + objects(destination).sorted()[0]
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: victim))
        let verify = try local(agent, ["backup", "verify", third.id])
        #expect(verify.exitCode == 1)
        #expect(verify.stdout.contains("damaged:"))
        #expect(agent.stop() == 0)
    }

    @Test func aNodeWithDataWhoseSnapshotHoldsNothingFailsAndAnUnwritableDestinationSaysWhy() async throws {
        let agent = try AgentUnderTest()
        // The agent reads a data directory Cassandra does not write: the snapshot it finds is empty.
        let destination = agent.dir.path + "/backups"
        var text = agent.desiredState(extra: Self.backupSection(destination))
        text = text.replacingOccurrences(of: "data_file_directories: [\(agent.sim)/nodes/\(agent.node)/data]", with: "data_file_directories: [\(agent.dir.path)/elsewhere]")
        try FileManager.default.createDirectory(atPath: agent.dir.path + "/elsewhere/shop/orders-0123456789abcdef0123456789abcdef", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: agent.dir.path + "/elsewhere/shop/orders-0123456789abcdef0123456789abcdef/nb-1-big-Data.db", contents: Data("x".utf8))
        try agent.drop(text)
        _ = try #require(try await backupJob(agent) { $0.enabled && $0.state == .idle })
        let failed = try await backUp(agent)
        #expect(failed.result == "failed")
        #expect(failed.reason?.contains("holds no file while the node's data directories hold 1 SSTable(s)") == true, "\(failed.reason ?? "")")
        #expect(try run(agent, ["backup", "list"]).stdout == "no complete backup\n")

        // A destination that cannot be written fails at once with the reason.
        try agent.drop(agent.desiredState(extra: Self.backupSection("/proc/cassandra-agent-backups")))
        try await Task.sleep(for: .seconds(1))
        let unwritable = try await backUp(agent)
        #expect(unwritable.result == "failed")
        #expect(unwritable.reason?.contains("cannot create the destination directory file:///proc/cassandra-agent-backups") == true, "\(unwritable.reason ?? "")")
        #expect(agent.stop() == 0)
    }

    @Test(.enabled(if: MotoServer.available, "moto is not installed: .ci/run creates its venv"))
    func aBackupToS3StoresEverySSTableAndAWrongSecretFailsWithAReasonAndNoSecretAnywhere() async throws {
        let moto = try MotoServer()
        let agent = try AgentUnderTest()
        let credentials = moto.credentialsFile(in: agent.dir)
        try agent.drop(agent.desiredState(extra: moto.backupSection(credentialsFile: credentials)))
        _ = try #require(try await backupJob(agent) { $0.enabled && $0.state == .idle })
        let first = try await backUp(agent)
        #expect(first.result == "succeeded", "\(first.reason ?? "")")
        let live = liveFiles(agent)
        let stored = try moto.readBack(prefix: "prod/")
        let objects = stored.filter { $0.key.contains("/objects/") }
        #expect(objects.allSatisfy { $0.key.hasSuffix("/" + $0.value.1) }, "boto3 reads every object back with the SHA-256 it is named by")
        #expect(Set(live.values).isSubset(of: Set(objects.values.map(\.1))))
        #expect(stored.keys.contains { $0.hasSuffix("/backups/\(first.id).json") })
        let second = try await backUp(agent)
        #expect(second.reason?.contains("stored 0 new file(s)") == true, "\(second.reason ?? "")")
        let listing = try JSONDecoder().decode(BackupListing.self, from: Data(try run(agent, ["backup", "list", "--json"]).stdout.utf8))
        #expect(listing.backups.map(\.id) == [first.id, second.id])
        #expect(try local(agent, ["backup", "verify", second.id]).exitCode == 0)

        // A wrong secret: the run fails with the reason; the secret is in no output.
        let wrongSecret = "NotTheSecret0123456789abcdefXYZ"
        let wrong = agent.dir.write("wrong-credentials", "[default]\naws_access_key_id = \(moto.accessKeyID)\naws_secret_access_key = \(wrongSecret)\n")
        try agent.drop(agent.desiredState(extra: moto.backupSection(credentialsFile: wrong)))
        try await Task.sleep(for: .seconds(1))
        let failed = try await backUp(agent)
        #expect(failed.result == "failed")
        #expect(failed.reason?.contains("SignatureDoesNotMatch") == true, "\(failed.reason ?? "")")
        var outputs = [try StatusClient.get("/v1/status", socket: agent.socket).body, try StatusClient.get("/metrics", socket: agent.socket).body,
                       try run(agent, ["jobs", "--json"]).stdout, try local(agent, ["backup", "verify", second.id]).stderr]
        for file in FileManager.default.enumerator(atPath: agent.dir.path + "/state")?.allObjects as? [String] ?? [] {
            outputs.append((try? String(contentsOfFile: agent.dir.path + "/state/" + file, encoding: .utf8)) ?? "")
        }
        for text in outputs {
            #expect(!text.contains(wrongSecret) && !text.contains(moto.secret))
        }
        #expect(agent.stop() == 0)
    }

    @Test func killNineAtRandomPointsNeverLeavesAListedBackupThatDoesNotVerifyNorASnapshotAfterTheNextRun() async throws {
        let agent = try AgentUnderTest()
        let destination = agent.dir.path + "/backups"
        try agent.drop(agent.desiredState(extra: Self.backupSection(destination)))
        _ = try #require(try await backupJob(agent) { $0.enabled && $0.state == .idle })
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = nil
        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()
        var process: BackgroundProcess?
        // 50 kill points, as the issue asks; 16 KiB SSTables keep a backup short enough that the
        // random delays land before, inside and after its steps.
        for round in 0..<50 {
            process = try BackgroundProcess(Paths.agentExecutable, ["run", "--config", agent.configFile], environment: environment)
            _ = try await agent.waitFor(20) { $0.jobs["backup"]?.enabled == true }
            // Every other round starts a backup by hand; the others kill the retry of the interrupted one.
            if round % 2 == 0 { _ = try? run(agent, ["job", "start", "backup"]) }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...250)))
            kill(process!.processIdentifier, SIGKILL)
            process!.waitUntilExit()
        }
        process = try BackgroundProcess(Paths.agentExecutable, ["run", "--config", agent.configFile], environment: environment)
        // The next run ends (the retry of an interrupted one, or one started now) and leaves no snapshot.
        _ = try await agent.waitFor(20) { $0.jobs["backup"]?.enabled == true }
        _ = try? run(agent, ["job", "start", "backup"])
        let settled = try #require(try await backupJob(agent) { $0.current == nil && $0.lastRun?.result == "succeeded" && $0.state == .idle })
        #expect(settled.lastRun?.result == "succeeded")
        #expect(try nodetool(agent, ["listsnapshots"]).stdout.contains("There are no snapshots"))
        let listing = try JSONDecoder().decode(BackupListing.self, from: Data(try run(agent, ["backup", "list", "--json"]).stdout.utf8))
        #expect(!listing.backups.isEmpty)
        for backup in listing.backups {
            let verify = try local(agent, ["backup", "verify", backup.id])
            #expect(verify.exitCode == 0, "\(backup.id): \(verify.stdout) \(verify.stderr)")
        }
        process!.terminate()
        process!.waitUntilExit()
    }

    @Test func aCompactionThatRemovesSSTablesMidUploadNeitherFailsTheBackupNorStoresAPartialFile() async throws {
        // 4 MiB SSTables and a 8 MiB/s limit: the upload takes a few seconds, and the compaction lands inside it.
        let agent = try AgentUnderTest(simulator: ["--sstable-bytes", String(4 << 20)])
        let destination = agent.dir.path + "/backups"
        try agent.drop(agent.desiredState(extra: Self.backupSection(destination, extra: "  bandwidth: 8MiB/s")))
        _ = try #require(try await backupJob(agent) { $0.enabled && $0.state == .idle })
        let before = liveFiles(agent)
        let started = try run(agent, ["job", "start", "backup"])
        #expect(started.exitCode == 0)
        _ = try await backupJob(agent) { $0.current?.step.hasPrefix("uploading") == true }
        #expect(try nodetool(agent, ["compact"]).exitCode == 0)
        let after = liveFiles(agent)
        #expect(!Set(before.values).isSubset(of: Set(after.values)), "the compaction removed SSTables")
        let done = try #require(try await backupJob(agent, within: 120) { $0.current == nil && $0.lastRun != nil })
        #expect(done.lastRun?.result == "succeeded", "\(done.lastRun?.reason ?? "")")
        // The backup holds the SSTables as they were at the snapshot, whole.
        let manifest = try #require(try JSONDecoder().decode(BackupListing.self, from: Data(try run(agent, ["backup", "list", "--json"]).stdout.utf8)).backups.first)
        #expect(try local(agent, ["backup", "verify", manifest.id]).exitCode == 0)
        let stored = Set(objects(destination).map { ($0 as NSString).lastPathComponent })
        #expect(Set(before.values).isSubset(of: stored))
        #expect(!FileManager.default.fileExists(atPath: destination) || (FileManager.default.enumerator(atPath: destination)?.allObjects as? [String] ?? []).allSatisfy { !$0.hasSuffix(".tmp") })
        #expect(agent.stop() == 0)
    }
}
