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

    /// The package built the way it ships (`packaging/build-deb.sh` without `--binary`:
    /// a static release build), which `.ci/run` makes before the tests and names here.
    static let shippedPackage = ProcessInfo.processInfo.environment["CASSANDRA_AGENT_DEB"]

    @Test(.enabled(if: shippedPackage != nil, "set CASSANDRA_AGENT_DEB to a package built by packaging/build-deb.sh (.ci/run does)"))
    func theShippedBinaryRunsOnAHostWithoutSwift() throws {
        let deb = try #require(Self.shippedPackage)
        let root = TemporaryDirectory()
        #expect(try run("/usr/bin/dpkg-deb", ["-x", deb, root.path]).exitCode == 0)
        let binary = root.path + "/usr/bin/cassandra-agent"
        let needed = try run("/usr/bin/readelf", ["-d", binary]).stdout
        #expect(!needed.contains("libswift") && !needed.contains("libFoundation"), "\(needed)")
        // libstdc++ is linked in; libssl, libcrypto and libsystemd are loaded at their first call.
        for library in ["libstdc++", "libssl", "libcrypto", "libsystemd"] {
            #expect(!needed.contains("[\(library)"), "\(library) is loaded at every start: \(needed)")
        }
        // The toolchain (/opt/swift here) hidden in a private mount namespace: what a Cassandra host looks like to the binary.
        let example = Paths.examples + "/cassandra-4.1.yaml"
        let hidden = try run("/usr/bin/unshare", ["--mount", "--", "/bin/sh", "-c",
                                                  "mount -t tmpfs none /opt && exec \"$0\" validate \"$1\"", binary, example])
        #expect(hidden.exitCode == 0, "\(hidden.stderr)")
        #expect(hidden.stdout.contains("valid (Cassandra 4.1"), "\(hidden.stdout)")
        // And the control file names what it does need.
        let info = try run("/usr/bin/dpkg-deb", ["--info", deb]).stdout
        #expect(info.contains("Depends: libc6, libyaml-0-2, libssl3, libsystemd0\n"))
    }

    @Test func debianPackageHoldsWhatAnInstallNeeds() throws {
        let dir = TemporaryDirectory()
        // The debug binary of this build stands in (it needs the toolchain): the check of the Swift runtime is skipped.
        let build = try runProcess("/bin/bash", [Paths.packageRoot + "/packaging/build-deb.sh", "--binary", Paths.agentExecutable, "--version", "0.1.0", "--output", dir.path],
                                   environment: ProcessInfo.processInfo.environment.merging(["CASSANDRA_AGENT_ALLOW_DYNAMIC": "1"]) { $1 })
        #expect(build.exitCode == 0, "\(build.stderr)")
        let deb = build.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let contents = try run("/usr/bin/dpkg-deb", ["--contents", deb]).stdout
        for path in ["./usr/bin/cassandra-agent", "./lib/systemd/system/cassandra-agent.service", "./lib/systemd/system/cassandra-agent.socket",
                     "./usr/lib/sysusers.d/cassandra-agent.conf", "./usr/lib/tmpfiles.d/cassandra-agent.conf", "./etc/cassandra-agent/agent.yaml",
                     "./usr/share/bash-completion/completions/cassandra-agent"] {
            #expect(contents.contains(path), "\(path) missing from the package")
        }
        let info = try run("/usr/bin/dpkg-deb", ["--info", deb]).stdout
        #expect(info.contains("Package: cassandra-agent") && info.contains("Depends: libc6, libyaml-0-2, libssl3, libsystemd0\n"))
        // An operator's edits to agent.yaml survive an upgrade only if it is a conffile.
        let conffiles = try run("/usr/bin/dpkg-deb", ["--info", deb, "conffiles"])
        #expect(conffiles.stdout == "/etc/cassandra-agent/agent.yaml\n", "\(conffiles.stdout)\(conffiles.stderr)")
    }
}
