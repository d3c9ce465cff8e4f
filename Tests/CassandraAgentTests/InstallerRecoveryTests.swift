import Foundation
import Testing
@testable import CassandraAgent

/// Issue 8, item 8 (third to fifth bullets): what a crash, a second instance or a
/// full disk leaves behind must not wedge later installs, and a full disk is an
/// install failure, not a refused desired state.
@Suite struct InstallerRecoveryTests {
    func agentConfig(_ dir: TemporaryDirectory, configDirectory: String? = nil) -> String {
        dir.write("agent.yaml", """
        cassandraConfigDirectory: \(configDirectory ?? dir.path + "/etc")
        stateDirectory: \(dir.path)/state
        desiredState: \(dir.path)/desired-state.yaml
        files:
          owner: root
          group: root
          mode: "0640"

        """)
    }

    @Test func aGenerationWithoutItsManifestIsSkippedReportedAndRemoved() throws {
        let dir = TemporaryDirectory()
        let config = agentConfig(dir)
        dir.write("desired-state.yaml", desiredState(settings: ["concurrent_reads: 16"]))
        #expect(try runAgent(["apply", "--config", config]).exitCode == 0)
        dir.write("desired-state.yaml", desiredState(settings: ["concurrent_reads: 24"]))
        #expect(try runAgent(["apply", "--config", config]).exitCode == 0)
        // A crash (or a second instance) at the wrong moment: generation 2 without its manifest, 3 empty.
        try FileManager.default.removeItem(atPath: dir.path + "/state/generations/000002/manifest.json")
        try FileManager.default.createDirectory(atPath: dir.path + "/state/generations/000003", withIntermediateDirectories: false)

        let list = try runAgent(["rollback", "--list", "--config", config])
        #expect(list.exitCode == 0, "\(list.stderr)")
        #expect(list.stdout.split(separator: "\n").map { $0.split(separator: "\t").first ?? "" } == ["0", "1"])
        #expect(list.stderr == """
        warning: generation 2 is damaged (it has no manifest.json); removed
        warning: generation 3 is damaged (it has no manifest.json); removed

        """)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/state/generations/000002"))

        try FileManager.default.createDirectory(atPath: dir.path + "/state/generations/000007", withIntermediateDirectories: false)
        dir.write("desired-state.yaml", desiredState(settings: ["concurrent_reads: 32"]))
        let apply = try runAgent(["apply", "--config", config])
        #expect(apply.exitCode == 0, "\(apply.stderr)")
        #expect(apply.stdout.hasPrefix("generation 7 is damaged (it has no manifest.json); removed\n"), "\(apply.stdout)")
        #expect(apply.stdout.contains("generation 2 (desired state sha256:"), "\(apply.stdout)")
    }

    @Test func tempFilesOfAKilledInstallAreRemovedAtTheNextInstall() throws {
        let dir = TemporaryDirectory()
        let config = agentConfig(dir)
        dir.write("desired-state.yaml", desiredState())
        #expect(try runAgent(["apply", "--config", config]).exitCode == 0)
        // What kill -9 mid-install leaves (FileIO.temporaryPath), from a pid that cannot exist; next to
        // one of a live process and files that are not the agent's.
        let dead = dir.write("etc/.cassandra.yaml.cassandra-agent-4194305-123456.tmp", "partial")
        let live = dir.write("etc/.cassandra.yaml.cassandra-agent-\(getpid())-99.tmp", "in progress")
        let others = [dir.write("etc/.cassandra.yaml.swp", "vim"), dir.write("etc/notes.tmp", "mine")]

        let apply = try runAgent(["apply", "--config", config])
        #expect(apply.exitCode == 0, "\(apply.stderr)")
        #expect(apply.stdout.hasPrefix("removed \(dead), left by an install that was cut short (process 4194305)\n"), "\(apply.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(([live] + others).allSatisfy { FileManager.default.fileExists(atPath: $0) })
    }

    @Test func leftoverNamesAreTheInstallersOwn() {
        let temp = FileIO.baseName(FileIO.temporaryPath(for: "/etc/cassandra/cassandra-rackdc.properties"))
        #expect(ConfigInstaller.leftoverOwner(temp) == getpid())
        #expect(ConfigInstaller.leftoverOwner(".cassandra.yaml.tmp") == nil)
        #expect(ConfigInstaller.leftoverOwner(".x.cassandra-agent-12-ab.tmp") == nil)
        #expect(ConfigInstaller.leftoverOwner("x.cassandra-agent-12-34.tmp") == nil)
    }

    /// A full Cassandra config directory (a small tmpfs, filled, in a private mount namespace).
    @Test func aFullDiskIsAnInstallFailureWithTheErrnoText() throws {
        let dir = TemporaryDirectory()
        let mount = dir.path + "/small"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: false)
        let config = agentConfig(dir, configDirectory: mount + "/etc")
        let file = dir.write("desired-state.yaml", desiredState())
        let script = """
        mount -t tmpfs -o size=256k tmpfs "$1" || exit 99
        mkdir "$1/etc"
        dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null
        exec "$2" apply --config "$3"
        """
        let result = try runProcess("/usr/bin/unshare", ["-m", "/bin/sh", "-c", script, "sh", mount, Paths.agentExecutable, config], timeout: .seconds(60))
        try #require(result.exitCode != 99, "cannot mount a tmpfs here: \(result.stderr)")
        #expect(result.exitCode == 1)
        #expect(result.stderr.hasPrefix("error: install failed: nothing was changed: cannot "), "\(result.stderr)")
        #expect(result.stderr.contains("No space left on device; the file system holding \(mount)/etc is full: free space there"), "\(result.stderr)")
        #expect(!result.stderr.contains("\(file):1:1"))
        // Nothing recorded for the install that did not happen.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/state/generations"))?.filter { !$0.hasPrefix("000000") } ?? [] == [])
    }

    @Test func theInstallErrorKeepsTheErrno() {
        let full = InstallError("nothing was changed: ", SystemError("write", path: "/etc/cassandra/x", code: ENOSPC))
        #expect(full.isDiskFull && full.code == ENOSPC && full.reason == "install.disk_full")
        #expect(full.message == "nothing was changed: cannot write /etc/cassandra/x: No space left on device; the file system holding /etc/cassandra is full: free space there, and the agent installs at the next change or resync")
        let other = InstallError("", SystemError("write", path: "/x", code: EIO))
        #expect(!other.isDiskFull && other.reason == "install.failed")
    }
}
