import CAgentShims
import Foundation
@testable import CassandraAgent

/// The S3-compatible server for the tests: moto_server on 127.0.0.1 with Signature V4
/// checks on (INITIAL_NO_AUTH_ACTION_COUNT=5, used up by the setup script), and
/// boto3 to read back what the agent stored. The venv comes from $CASSANDRA_AGENT_S3_VENV
/// (set by .ci/run), else .build/s3-venv (`python3 -m venv .build/s3-venv && .build/s3-venv/bin/pip install 'moto[server]' boto3`).
final class MotoServer: Sendable {
    static let venv: String = ProcessInfo.processInfo.environment["CASSANDRA_AGENT_S3_VENV"] ?? Paths.packageRoot + "/.build/s3-venv"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: venv + "/bin/moto_server") }
    static let fixtures = Paths.packageRoot + "/Tests/CassandraAgentTests/Fixtures/s3"

    let process: BackgroundProcess
    let port: Int
    let bucket = "cassandra-backups"
    let accessKeyID: String
    let secret: String
    var endpoint: String { "http://127.0.0.1:\(port)" }

    init() throws {
        port = Self.freePort()
        var environment = ProcessInfo.processInfo.environment
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "5"
        process = try BackgroundProcess(Self.venv + "/bin/moto_server", ["-H", "127.0.0.1", "-p", String(port)], environment: environment)
        let deadline = Date().addingTimeInterval(30)
        while !Self.answers(port) {
            guard Date() < deadline, process.isRunning else { throw SystemError("start moto_server", path: Self.venv, code: ETIMEDOUT) }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let setup = try runProcess(Self.venv + "/bin/python", [Self.fixtures + "/moto-setup.py", "http://127.0.0.1:\(port)", bucket])
        let lines = setup.stdout.split(separator: "\n").map(String.init)
        guard setup.exitCode == 0, lines.count == 2 else { throw SystemError("set up moto: \(setup.stderr)", path: Self.venv, code: EINVAL) }
        accessKeyID = lines[0]
        secret = lines[1]
    }

    deinit {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    /// Every object under `prefix` as boto3 reads it: key -> (size, SHA-256).
    func readBack(prefix: String) throws -> [String: (Int, String)] {
        let result = try runProcess(Self.venv + "/bin/python", [Self.fixtures + "/s3-read.py", endpoint, bucket, prefix, accessKeyID, secret])
        guard result.exitCode == 0 else { throw SystemError("boto3 read: \(result.stderr)", path: bucket, code: EIO) }
        var objects: [String: (Int, String)] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            if parts.count == 3 { objects[parts[0]] = (Int(parts[1]) ?? -1, parts[2]) }
        }
        return objects
    }

    func credentialsFile(in dir: TemporaryDirectory, secret: String? = nil) -> String {
        dir.write("s3-credentials", "[default]\naws_access_key_id = \(accessKeyID)\naws_secret_access_key = \(secret ?? self.secret)\n")
    }

    static func answers(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
