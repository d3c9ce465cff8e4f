import Foundation
import Testing

/// The units and the package, checked by the real tools.
@Suite struct PackagingTests {
    func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        try runProcess(executable, arguments)
    }

    @Test func unitsPassSystemdAnalyzeVerify() throws {
        let dir = TemporaryDirectory()
        let service = try String(contentsOfFile: Paths.packageRoot + "/packaging/systemd/cassandra-agent.service", encoding: .utf8)
        // verify checks that ExecStart's program exists: point it at the one just built.
        dir.write("cassandra-agent.service", service.replacingOccurrences(of: "/usr/bin/cassandra-agent", with: Paths.agentExecutable))
        dir.write("cassandra-agent.socket", try String(contentsOfFile: Paths.packageRoot + "/packaging/systemd/cassandra-agent.socket", encoding: .utf8))
        let result = try run("/usr/bin/systemd-analyze", ["verify", "--man=no", dir.path + "/cassandra-agent.service", dir.path + "/cassandra-agent.socket"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("cassandra-agent"), "\(result.stderr)")
        #expect(service.contains("Type=notify") && service.contains("WatchdogSec=") && service.contains("Restart=on-failure"))
    }

    @Test func sysusersEntryIsValid() throws {
        let result = try run("/usr/bin/systemd-sysusers", ["--dry-run", Paths.packageRoot + "/packaging/systemd/cassandra-agent.sysusers"])
        #expect(result.exitCode == 0, "\(result.stderr)")
    }

    @Test func debianPackageHoldsWhatAnInstallNeeds() throws {
        let dir = TemporaryDirectory()
        let build = try run("/bin/bash", [Paths.packageRoot + "/packaging/build-deb.sh", "--binary", Paths.agentExecutable, "--version", "0.1.0", "--output", dir.path])
        #expect(build.exitCode == 0, "\(build.stderr)")
        let deb = build.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let contents = try run("/usr/bin/dpkg-deb", ["--contents", deb]).stdout
        for path in ["./usr/bin/cassandra-agent", "./lib/systemd/system/cassandra-agent.service", "./lib/systemd/system/cassandra-agent.socket",
                     "./usr/lib/sysusers.d/cassandra-agent.conf", "./usr/lib/tmpfiles.d/cassandra-agent.conf", "./etc/cassandra-agent/agent.yaml",
                     "./usr/share/bash-completion/completions/cassandra-agent"] {
            #expect(contents.contains(path), "\(path) missing from the package")
        }
        let info = try run("/usr/bin/dpkg-deb", ["--info", deb]).stdout
        #expect(info.contains("Package: cassandra-agent") && info.contains("Depends: libc6, libyaml-0-2, libssl3, libsystemd0"))
        // An operator's edits to agent.yaml survive an upgrade only if it is a conffile.
        let conffiles = try run("/usr/bin/dpkg-deb", ["--info", deb, "conffiles"])
        #expect(conffiles.stdout == "/etc/cassandra-agent/agent.yaml\n", "\(conffiles.stdout)\(conffiles.stderr)")
    }
}
