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
    /// Set when the server speaks https: boto3 trusts this CA bundle (AWS_CA_BUNDLE).
    let caBundle: String?
    var endpoint: String { "\(caBundle == nil ? "http" : "https")://127.0.0.1:\(port)" }
    /// What the Python scripts run with: boto3 verifies an https server against the test CA.
    var pythonEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let caBundle { environment["AWS_CA_BUNDLE"] = caBundle }
        return environment
    }

    /// `tls`: serve https with this certificate chain and key (moto_server's --ssl-cert/--ssl-key), trusted through `tls.caBundle`.
    init(tls: S3TestCertificates? = nil) throws {
        port = Self.freePort()
        caBundle = tls?.caBundle
        var environment = ProcessInfo.processInfo.environment
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "5"
        let serving = tls.map { ["--ssl-cert", $0.chain, "--ssl-key", $0.key] } ?? []
        process = try BackgroundProcess(Self.venv + "/bin/moto_server", ["-H", "127.0.0.1", "-p", String(port)] + serving, environment: environment)
        let deadline = Date().addingTimeInterval(30)
        while !Self.answers(port) {
            guard Date() < deadline, process.isRunning else { throw SystemError("start moto_server", path: Self.venv, code: ETIMEDOUT) }
            Thread.sleep(forTimeInterval: 0.1)
        }
        var python = ProcessInfo.processInfo.environment
        if let caBundle { python["AWS_CA_BUNDLE"] = caBundle }
        let setup = try runProcess(Self.venv + "/bin/python", [Self.fixtures + "/moto-setup.py", "\(caBundle == nil ? "http" : "https")://127.0.0.1:\(port)", bucket], environment: python)
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
        let result = try runProcess(Self.venv + "/bin/python", [Self.fixtures + "/s3-read.py", endpoint, bucket, prefix, accessKeyID, secret], environment: pythonEnvironment)
        guard result.exitCode == 0 else { throw SystemError("boto3 read: \(result.stderr)", path: bucket, code: EIO) }
        var objects: [String: (Int, String)] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            if parts.count == 3 { objects[parts[0]] = (Int(parts[1]) ?? -1, parts[2]) }
        }
        return objects
    }

    /// The desired state's backup section for this server: daily, to `s3://BUCKET/prod`.
    func backupSection(credentialsFile: String, caFile: String? = nil) -> String {
        """
        backup:
          enabled: true
          schedule: "0 3 * * *"
          retention: 48h
          destination: s3://\(bucket)/prod
          splay: 0s
          s3:
            endpoint: \(endpoint)
            region: us-east-1
            credentialsFile: \(credentialsFile)
        \(caFile.map { "    caFile: \($0)" } ?? "")
        """
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

/// Certificates from the test PKI for an https S3 server on 127.0.0.1: a leaf
/// from the intermediate whose only name is IP:127.0.0.1 (so `localhost`, which
/// resolves to the same server, is another host name), served with its chain.
struct S3TestCertificates: Sendable {
    let pki: TestPKI
    /// Leaf then intermediate, as the server sends them.
    let chain: String
    let key: String
    /// The root CA: what a client must trust.
    var caBundle: String { pki.file("ca.pem") }
    /// A CA that signed none of this.
    var unrelatedCA: String { pki.file("managed.pem") }

    init() throws {
        pki = try TestPKI()
        pki.dir.write("s3-ext.cnf", """
        [leaf]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature,keyEncipherment
        extendedKeyUsage = serverAuth
        subjectAltName = IP:127.0.0.1

        """)
        try pki.openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "s3.key", "-out", "s3.csr", "-subj", "/O=Acme/CN=s3 test server"])
        try pki.openssl(["x509", "-req", "-in", "s3.csr", "-CA", "int.pem", "-CAkey", "int.key", "-CAcreateserial", "-out", "s3-leaf.pem", "-days", "30",
                         "-extfile", pki.file("s3-ext.cnf"), "-extensions", "leaf"])
        try pki.concatenate(["s3-leaf.pem", "int.pem"], into: "s3-chain.pem")
        chain = pki.file("s3-chain.pem")
        key = pki.file("s3.key")
    }
}
