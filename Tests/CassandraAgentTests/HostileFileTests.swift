import Foundation
import Testing
@testable import CassandraAgent

/// Issue 8, item 3: small hostile files, each refused by `cassandra-agent validate`
/// run as a process under an address-space limit and a CPU-time limit (the kernel
/// kills it past either), with a wall-clock bound for what would block.
@Suite struct HostileFileTests {
    /// CPU seconds `validate` may use: one, as the issue asks; the unoptimised debug build of the tests gets three.
    #if DEBUG
    static let cpuSeconds = 3
    #else
    static let cpuSeconds = 1
    #endif

    static let header = """
    apiVersion: cassandra-agent/v1
    cassandra:
      version: "4.1"
    cluster:
      name: Test
      seeds: ["10.0.0.1"]
    node:
      listenAddress: 10.0.0.1

    """

    /// `validate FILE` under 512 MiB of address space and the CPU limit (the load-independent
    /// bound on time); the wall-clock bound only catches a read that blocks, as on a FIFO,
    /// and is loose because this machine is shared with parallel tests and builds.
    func validateBounded(_ file: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
        let start = ContinuousClock.now
        let result = try runProcess("/usr/bin/prlimit", ["--as=\(512 << 20)", "--cpu=\(Self.cpuSeconds)", Paths.agentExecutable, "validate", file], timeout: .seconds(60))
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .seconds(30), "validate took \(elapsed)", sourceLocation: sourceLocation)
        // 128 + SIGXCPU (24) or SIGKILL: a limit stopped it instead of the agent refusing the file.
        #expect(result.exitCode == 1, "exit \(result.exitCode): \(result.stderr.prefix(500))", sourceLocation: sourceLocation)
        return result
    }

    @Test func aliasesNestedUnderSettingsAreRefusedByTheExpansionBudget() throws {
        let dir = TemporaryDirectory()
        var lines = ["settings:", "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1..<12 { lines.append("  a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        let file = dir.write("laughs.yaml", Self.header + lines.joined(separator: "\n") + "\n")
        let result = try validateBounded(file)
        #expect(result.stderr.contains("\(file):"), "\(result.stderr)")
        #expect(result.stderr.contains("expands the file beyond 250000 YAML nodes"), "\(result.stderr)")
    }

    @Test func deeplyNestedListsAreRefused() throws {
        let dir = TemporaryDirectory()
        let file = dir.write("deep.yaml", Self.header + "settings:\n  x: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n")
        let result = try validateBounded(file)
        #expect(result.stderr.contains("nested more than 64 levels deep"), "\(result.stderr.prefix(500))")
    }

    @Test(arguments: ["/dev/zero", "/dev/urandom"])
    func aSymlinkToADeviceIsRefused(device: String) throws {
        let dir = TemporaryDirectory()
        let file = dir.path + "/desired-state.yaml"
        try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: device)
        let result = try validateBounded(file)
        #expect(result.stderr == "\(file):1:1: error: cannot read \(file): it is a character device, not a regular file; the agent reads only regular files (a symlink to one is fine)\n")
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let dir = TemporaryDirectory()
        let file = dir.path + "/desired-state.yaml"
        #expect(mkfifo(file, 0o644) == 0)
        let result = try validateBounded(file)
        #expect(result.stderr.contains("it is a FIFO (named pipe), not a regular file"), "\(result.stderr)")
    }

    @Test func aSymlinkToARegularFileIsRead() throws {
        let dir = TemporaryDirectory()
        let target = dir.write("real.yaml", desiredState())
        let file = dir.path + "/desired-state.yaml"
        try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: target)
        let result = try runAgent(["validate", file])
        #expect(result.exitCode == 0, "\(result.stderr)")
    }

    @Test func aFileOverTheSizeLimitIsRefusedNamingTheLimit() throws {
        let dir = TemporaryDirectory()
        // A 50 MB value: refused by its size before anything is parsed.
        let file = dir.write("big.yaml", Self.header.replacingOccurrences(of: "name: Test", with: "name: " + String(repeating: "x", count: 50 << 20)))
        let result = try validateBounded(file)
        #expect(result.stderr.hasPrefix("\(file):1:1: error: cannot read \(file): it is 52428"), "\(result.stderr)")
        #expect(result.stderr.contains("bytes; the limit is 4 MiB"), "\(result.stderr)")
    }

    @Test func aLongValueUnderTheSizeLimitIsRefusedByTheValueLimit() throws {
        let dir = TemporaryDirectory()
        let file = dir.write("long.yaml", Self.header.replacingOccurrences(of: "name: Test", with: "name: " + String(repeating: "x", count: 3 << 20)))
        let result = try validateBounded(file)
        #expect(result.stderr == "\(file):5:9: error: this value is \(3 << 20) bytes long; the most the agent reads in one value is 64 KiB\n")
    }

    @Test func oneHundredThousandUnknownSettingsAreReportedQuickly() throws {
        let dir = TemporaryDirectory()
        let settings = (0..<100_000).map { "  unknown_setting_\(String(format: "%06d", $0)): 1\n" }.joined()
        let file = dir.write("many.yaml", Self.header + "settings:\n" + settings + "  concurent_reads: 8\n")
        let result = try validateBounded(file)
        #expect(result.stderr.hasPrefix("\(file):10:3: error: unknown setting 'unknown_setting_000000' for Cassandra 4.1\n"), "\(result.stderr.prefix(300))")
    }

    @Test func invalidUTF8IsRefusedAtTheBadByte() throws {
        let dir = TemporaryDirectory()
        let file = dir.path + "/utf8.yaml"
        var bytes = Array(Self.header.replacingOccurrences(of: "name: Test", with: "name: Cust").utf8)
        let at = bytes.firstIndex(of: UInt8(ascii: "C"))! + 4
        bytes.insert(contentsOf: [0xFF, 0xFE], at: at)
        bytes.insert(contentsOf: Array("omer".utf8), at: at + 2)
        #expect(FileManager.default.createFile(atPath: file, contents: Data(bytes)))
        let result = try validateBounded(file)
        #expect(result.stderr == "\(file):5:13: error: the file is not valid UTF-8: byte 0xFF at line 5, column 13 (offset 80) is not part of a UTF-8 character; save the file as UTF-8\n")
    }

    @Test func theAgentConfigIsReadTheSameWay() throws {
        let dir = TemporaryDirectory()
        let config = dir.path + "/agent.yaml"
        #expect(mkfifo(config, 0o644) == 0)
        let start = ContinuousClock.now
        let result = try runAgent(["plan", "--config", config])
        #expect(ContinuousClock.now - start < .seconds(30))
        #expect(result.exitCode == 1)
        #expect(result.stderr == "\(config):1:1: error: cannot read \(config): it is a FIFO (named pipe), not a regular file; the agent reads only regular files (a symlink to one is fine)\n")
    }

    @Test func tlsInputsAndPasswordFilesAreReadTheSameWay() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.copyItem(atPath: Paths.examples + "/tls", toPath: dir.path + "/tls")
        try FileManager.default.removeItem(atPath: dir.path + "/tls/store.pass")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/tls/store.pass", withDestinationPath: "/dev/zero")
        try FileManager.default.removeItem(atPath: dir.path + "/tls/ca.pem")
        #expect(mkfifo(dir.path + "/tls/ca.pem", 0o644) == 0)
        let file = dir.write("tls.yaml", desiredState(extra: TLSDesiredState.section))
        let result = try validateBounded(file)
        #expect(result.stderr.contains("tls.internode: cannot read the store password file \(dir.path)/tls/store.pass: cannot read \(dir.path)/tls/store.pass: it is a character device"), "\(result.stderr)")

        // The password file back; the trust file is a FIFO, which must not block either.
        try FileManager.default.removeItem(atPath: dir.path + "/tls/store.pass")
        try FileManager.default.copyItem(atPath: Paths.examples + "/tls/store.pass", toPath: dir.path + "/tls/store.pass")
        let fifo = try validateBounded(file)
        #expect(fifo.stderr.contains("cannot read \(dir.path)/tls/ca.pem: it is a FIFO (named pipe), not a regular file"), "\(fifo.stderr)")
    }
}

enum TLSDesiredState {
    static let section = """
    tls:
      internode:
        encryption: all
        certificate: tls/node.pem
        privateKey: tls/node.key
        trust: [tls/ca.pem]
        storeType: PKCS12
        passwordFile: tls/store.pass

    """
}
