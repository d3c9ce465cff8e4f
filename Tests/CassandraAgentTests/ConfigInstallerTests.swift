import Foundation
import Synchronization
import Testing
@testable import CassandraAgent

@Suite struct ConfigInstallerTests {
    let ownership = FileOwnership(owner: "root", group: "root", mode: 0o640)

    func files(_ dir: TemporaryDirectory, yaml: String, rackdc: String) -> [InstallFile] {
        [
            InstallFile(path: dir.path + "/etc/cassandra.yaml", contents: Array(yaml.utf8), ownership: ownership),
            InstallFile(path: dir.path + "/etc/cassandra-rackdc.properties", contents: Array(rackdc.utf8), ownership: ownership),
        ]
    }

    func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func installsAtomicallyWithModeAndRecordsGenerations() throws {
        let dir = TemporaryDirectory()
        dir.write("etc/cassandra.yaml", "hand-made: true\n")
        let installer = ConfigInstaller(stateDirectory: dir.path + "/state")

        let first = try installer.install(files(dir, yaml: "a: 1\n", rackdc: "dc=x\n"), desiredStateHash: "h1", installedAt: 100)
        #expect(first.generation == 1)
        #expect(first.changedPaths.count == 2)
        #expect(dir.read("etc/cassandra.yaml") == "a: 1\n")
        #expect(try mode(dir.path + "/etc/cassandra.yaml") == 0o640)
        // No temp files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/etc").sorted() == ["cassandra-rackdc.properties", "cassandra.yaml"])

        // Generation 0 keeps what was there before the agent.
        let generations = try installer.generations()
        #expect(generations.map(\.generation) == [0, 1])
        #expect(generations[0].files.map(\.existed) == [true, false])
        #expect(generations[1].desiredStateHash == "h1")
        #expect(try mode(dir.path + "/state/generations") == 0o700)
        #expect(try mode(dir.path + "/state/generations/000001/files/cassandra.yaml") == 0o600)

        // The same contents again change nothing and record nothing.
        let again = try installer.install(files(dir, yaml: "a: 1\n", rackdc: "dc=x\n"), desiredStateHash: "h1", installedAt: 101)
        #expect(again.changedPaths == [])
        #expect(try installer.generations().count == 2)
    }

    @Test func keepsTheNewestGenerationsAndGenerationZero() throws {
        let dir = TemporaryDirectory()
        let installer = ConfigInstaller(stateDirectory: dir.path + "/state", keepGenerations: 5)
        for n in 1...8 {
            _ = try installer.install(files(dir, yaml: "n: \(n)\n", rackdc: "dc=x\n"), desiredStateHash: "h\(n)", installedAt: Int64(n))
        }
        #expect(try installer.generations().map(\.generation) == [0, 4, 5, 6, 7, 8])
        #expect(ConfigInstaller(stateDirectory: "/x", keepGenerations: 2).keepGenerations == 5)
    }

    @Test func rollbackRestoresThePreviousGeneration() throws {
        let dir = TemporaryDirectory()
        dir.write("etc/cassandra.yaml", "original: true\n")
        let installer = ConfigInstaller(stateDirectory: dir.path + "/state")
        _ = try installer.install(files(dir, yaml: "good: 1\n", rackdc: "dc=x\n"), desiredStateHash: "good", installedAt: 1)
        _ = try installer.install(files(dir, yaml: "bad: 1\n", rackdc: "dc=x\n"), desiredStateHash: "bad", installedAt: 2)

        let back = try installer.rollback(installedAt: 3)
        #expect(dir.read("etc/cassandra.yaml") == "good: 1\n")
        #expect(back.changedPaths == [dir.path + "/etc/cassandra.yaml"])

        // Generation 0: the hand-made file comes back, the file that did not exist goes.
        _ = try installer.rollback(to: 0, installedAt: 4)
        #expect(dir.read("etc/cassandra.yaml") == "original: true\n")
        #expect(dir.read("etc/cassandra-rackdc.properties") == nil)

        #expect(throws: InstallError.self) { try installer.rollback(to: 42, installedAt: 5) }
    }

    @Test func failureHalfWayLeavesEveryFileOld() throws {
        let dir = TemporaryDirectory()
        dir.write("etc/cassandra.yaml", "old: 1\n")
        dir.write("etc/cassandra-rackdc.properties", "dc=old\n")
        // The second rename fails (say, the disk went read-only) after the first succeeded.
        let calls = Mutex(0)
        let installer = ConfigInstaller(stateDirectory: dir.path + "/state", renameFile: { from, to in
            calls.withLock { $0 += 1; return $0 } == 2 ? { errno = EROFS; return -1 }() : rename(from, to)
        })

        do {
            _ = try installer.install(files(dir, yaml: "new: 1\n", rackdc: "dc=x\n"), desiredStateHash: "h", installedAt: 1)
            Issue.record("expected the install to fail")
        } catch {
            #expect(error.message.hasSuffix("Read-only file system; the 1 file(s) already replaced were restored; no file was changed"))
        }
        #expect(dir.read("etc/cassandra.yaml") == "old: 1\n")
        #expect(dir.read("etc/cassandra-rackdc.properties") == "dc=old\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/etc").sorted() == ["cassandra-rackdc.properties", "cassandra.yaml"])
        #expect(try installer.generations().map(\.generation) == [0], "a failed install records no generation")
    }

    @Test func unknownGroupChangesNothing() throws {
        let dir = TemporaryDirectory()
        dir.write("etc/cassandra.yaml", "old: 1\n")
        var bad = files(dir, yaml: "new: 1\n", rackdc: "dc=x\n")
        bad[1].ownership.group = "no-such-group-here"
        let installer = ConfigInstaller(stateDirectory: dir.path + "/state")
        do {
            _ = try installer.install(bad, desiredStateHash: "h", installedAt: 1)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.hasPrefix("group 'no-such-group-here' does not exist on this host"))
        }
        #expect(dir.read("etc/cassandra.yaml") == "old: 1\n")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/state"))
    }

    @Test func modeDriftIsRepaired() throws {
        let dir = TemporaryDirectory()
        let installer = ConfigInstaller(stateDirectory: dir.path + "/state")
        _ = try installer.install(files(dir, yaml: "a: 1\n", rackdc: "dc=x\n"), desiredStateHash: "h", installedAt: 1)
        chmod(dir.path + "/etc/cassandra.yaml", 0o644)
        let outcome = try installer.install(files(dir, yaml: "a: 1\n", rackdc: "dc=x\n"), desiredStateHash: "h", installedAt: 2)
        #expect(outcome.changedPaths == [dir.path + "/etc/cassandra.yaml"])
        #expect(try mode(dir.path + "/etc/cassandra.yaml") == 0o640)
    }
}
