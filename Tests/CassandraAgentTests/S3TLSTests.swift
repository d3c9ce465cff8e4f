import Foundation
import Testing
@testable import CassandraAgent

/// `backup.s3.endpoint` and `backup.s3.caFile` as the desired-state reader and the store read them.
struct S3EndpointTests {
    @Test func readsHTTPSAndHTTPEndpointsWithTheirDefaultPortsAndRefusesWhatIsNotAHost() throws {
        #expect(try S3Endpoint.parse("https://s3.eu-west-1.amazonaws.com").get() == S3Endpoint(tls: true, host: "s3.eu-west-1.amazonaws.com", port: 443))
        #expect(try S3Endpoint.parse("https://s3.eu-west-1.amazonaws.com").get().hostHeader == "s3.eu-west-1.amazonaws.com")
        #expect(try S3Endpoint.parse("http://10.0.0.9:9000/").get() == S3Endpoint(tls: false, host: "10.0.0.9", port: 9000))
        #expect(try S3Endpoint.parse("http://10.0.0.9:9000").get().hostHeader == "10.0.0.9:9000")
        #expect(try S3Endpoint.parse("https://[::1]:9443").get() == S3Endpoint(tls: true, host: "::1", port: 9443))
        #expect(try S3Endpoint.parse("https://[::1]:9443").get().hostHeader == "[::1]:9443")
        #expect(try S3Endpoint.parse("https://minio.local:443").get().hostHeader == "minio.local")
        let refused: [(String, String)] = [
            ("s3.amazonaws.com", "must be an https:// URL"),
            ("ftp://s3.example.com", "must be an https:// URL"),
            ("https://s3.example.com/bucket", "names a host and port only"),
            ("https://AKID:secret@s3.example.com", "credentials go in backup.s3.credentialsFile"),
            ("https://s3.example.com:99999", "'99999' is not a port"),
            ("https://", "is not a host name"),
        ]
        for (text, reason) in refused {
            let message = S3Endpoint.parse(text).failureMessage
            #expect(message?.contains(reason) == true, "\(text): \(message ?? "accepted")")
            #expect(message?.contains("secret") != true || reason.contains("credentials"), "the URL's secret is not repeated")
        }
        #expect(S3Endpoint.parse("https://AKID:secret@s3.example.com").failureMessage?.contains("AKID:secret") == false)
    }

    func text(_ s3: String) -> String {
        desiredState(extra: """
        backup:
          enabled: true
          schedule: "0 3 * * *"
          retention: 48h
          destination: s3://cassandra-backups/prod
          s3:

        """ + s3)
    }

    /// "LINE:COLUMN:" of the value of `key` in the text.
    func mark(of key: String, in text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let index = lines.firstIndex { $0.contains(key + ":") } ?? 0
        let column = (lines[index].range(of: key + ": ").map { lines[index].distance(from: lines[index].startIndex, to: $0.upperBound) } ?? 0) + 1
        return "\(index + 1):\(column):"
    }

    @Test func validatesTheCAFileLikeTheOtherInputsAndAcceptsHTTPS() throws {
        let pki = try TestPKI()
        let s3 = "    endpoint: https://s3.eu-west-1.amazonaws.com\n    region: eu-west-1\n    credentialsFile: /etc/cassandra-agent/s3-credentials\n"
        #expect(errors(text(s3)) == [], "an https:// endpoint is valid")
        #expect(errors(text(s3 + "    caFile: \(pki.file("ca.pem"))\n")) == [])
        guard case .success(let validated) = validate(text(s3 + "    caFile: \(pki.file("ca.pem"))\n")) else { return }
        #expect(validated.state.backup?.s3?.caFile == pki.file("ca.pem"))
        #expect(errors(text(s3 + "    caFile: credential:s3-ca\n")) == [], "a systemd credential is read when the agent runs")
        let cases: [(String, String)] = [
            (pki.path, "backup.s3.caFile: cannot read \(pki.path): it is a directory, not a regular file"),
            (pki.file("node.key"), "no PEM certificate"),
            (pki.file("missing.pem"), "backup.s3.caFile: cannot read \(pki.file("missing.pem")): No such file or directory"),
            ("ca.pem", "backup.s3.caFile must be an absolute path or credential:NAME"),
        ]
        for (path, reason) in cases {
            let document = text(s3 + "    caFile: \(path)\n")
            let found = errors(document)
            #expect(found.count == 1 && found[0].contains(reason), "\(found)")
            #expect(found.first?.hasPrefix(mark(of: "caFile", in: document)) == true, "located at the value: \(found)")
        }
        let large = pki.dir.write("large.pem", String(repeating: "x", count: FileIO.inputSizeLimit + 1))
        #expect(errors(text(s3 + "    caFile: \(large)\n")).first?.contains("the limit is 4 MiB") == true)
        let http = "    endpoint: http://10.0.0.9:9000\n    region: eu-west-1\n    credentialsFile: /etc/cassandra-agent/s3-credentials\n"
        #expect(errors(text(http + "    caFile: \(pki.file("ca.pem"))\n")).first?.contains("backup.s3.caFile is only for https:// endpoints") == true)
        let withPath = text("    endpoint: https://s3.example.com/bucket\n    region: r\n    credentialsFile: /c\n")
        #expect(errors(withPath) == ["\(mark(of: "endpoint", in: withPath)) backup.s3.endpoint names a host and port only (requests are path-style, /BUCKET/KEY), found 'https://s3.example.com/bucket'"])
    }
}

struct CRC32Tests {
    /// The check value of CRC-32/ISO-HDLC, and zlib's crc32 (Python's) over a buffer that crosses every slice boundary.
    @Test func matchesTheCheckValueAndZlib() throws {
        var check = CRC32()
        Array("123456789".utf8).withUnsafeBytes { check.update($0) }
        #expect(check.value == 0xCBF4_3926)
        #expect(check.base64 == "y/Q5Jg==")
        var bytes = [UInt8](repeating: 0, count: 100_003)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 7) }
        var split = CRC32()
        bytes.withUnsafeBytes { raw in
            split.update(UnsafeRawBufferPointer(rebasing: raw[0..<13]))
            split.update(UnsafeRawBufferPointer(rebasing: raw[13...]))
        }
        let dir = TemporaryDirectory()
        let file = dir.path + "/bytes"
        FileManager.default.createFile(atPath: file, contents: Data(bytes))
        let zlib = try runProcess("/usr/bin/python3", ["-c", "import sys, zlib; print(zlib.crc32(open(sys.argv[1], 'rb').read()))", file])
        #expect(zlib.exitCode == 0)
        #expect(String(split.value) == zlib.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

extension Result where Failure == BackupError {
    var failureMessage: String? {
        if case .failure(let error) = self { return error.message }
        return nil
    }
}

/// The S3 store over https against moto_server serving a certificate of the test PKI, signature checks on.
@Suite(.serialized, .enabled(if: MotoServer.available, "moto is not installed: .ci/run creates its venv"))
struct S3TLSStoreTests {
    func store(_ moto: MotoServer, endpoint: String? = nil, caFile: String?, secret: String? = nil, state: String) throws -> S3ObjectStore {
        let signer = S3Signer(accessKeyID: moto.accessKeyID, secretAccessKey: secret ?? moto.secret, region: "us-east-1")
        return try S3ObjectStore(bucket: moto.bucket, prefix: "tls", endpoint: endpoint ?? moto.endpoint, caFile: caFile, signer: signer, stateDirectory: state,
                                 multipartThreshold: 6 << 20, partSize: 5 << 20)
    }

    func refusal(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "accepted"
        } catch let error as BackupError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func storesOverHTTPSTrustingTheCAFileAndBoto3ReadsItBack() throws {
        let certificates = try S3TestCertificates()
        let moto = try MotoServer(tls: certificates)
        let dir = TemporaryDirectory()
        let s3 = try store(moto, caFile: certificates.caBundle, state: dir.path + "/state")
        try s3.checkWritable()
        let small = dir.write("small-Data.db", String(repeating: "sstable over tls ", count: 5000))
        #expect(try s3.storeFile(small, host: "h1", knownSHA256: nil, context: TransferContext()).uploaded)
        var big = [UInt8](repeating: 0, count: 12 << 20)
        for i in stride(from: 0, to: big.count, by: 4096) { big[i] = UInt8(truncatingIfNeeded: i / 4096 + 7) }
        let bigFile = dir.path + "/big-Data.db"
        FileManager.default.createFile(atPath: bigFile, contents: Data(big))
        let stored = try s3.storeFile(bigFile, host: "h1", knownSHA256: nil, context: TransferContext())
        #expect(stored.sha256 == SHA256.hex(big) && s3.partsSent == 3, "a multipart upload over TLS")
        #expect(try s3.storeFile(bigFile, host: "h1", knownSHA256: nil, context: TransferContext()).uploaded == false)
        #expect(try s3.list(BackupLayout.objects("h1")).count == 2)
        var read: [UInt8] = []
        try s3.read(BackupLayout.object("h1", stored.sha256), context: TransferContext()) { read += $0 }
        #expect(read == big, "a GET streamed back over TLS")

        let back = try moto.readBack(prefix: "tls/h1/objects/")
        #expect(back.count == 2)
        #expect(back.allSatisfy { $0.key.hasSuffix("/" + $0.value.1) }, "boto3 reads every object back with the SHA-256 it is named by")

        // Signatures are checked over https too.
        let wrong = "wrongSecretOverTLS1234567890"
        let message = refusal { try store(moto, caFile: certificates.caBundle, secret: wrong, state: dir.path + "/state").checkWritable() }
        #expect(message.contains("SignatureDoesNotMatch"), "\(message)")
        #expect(!message.contains(wrong) && !message.contains(moto.secret))
    }

    @Test func refusesAnUntrustedCertificateAndOneForAnotherHostWithThePreciseReason() throws {
        let certificates = try S3TestCertificates()
        let moto = try MotoServer(tls: certificates)
        let dir = TemporaryDirectory()
        let peer = "127.0.0.1:\(moto.port)"

        // The server's chain ends at a root this bundle does not hold.
        let untrusted = refusal { try store(moto, caFile: certificates.unrelatedCA, state: dir.path).checkWritable() }
        #expect(untrusted.hasPrefix("certificate verify failed: unable to get local issuer certificate for \(peer); "), "\(untrusted)")
        #expect(untrusted.contains("set backup.s3.caFile"))
        // Without caFile, the system's trust store, which does not hold the test CA either.
        let system = refusal { try store(moto, caFile: nil, state: dir.path).checkWritable() }
        #expect(system.hasPrefix("certificate verify failed: unable to get local issuer certificate for \(peer)"), "\(system)")

        // localhost is this very server, but its certificate names 127.0.0.1 only.
        let otherName = refusal { try store(moto, endpoint: "https://localhost:\(moto.port)", caFile: certificates.caBundle, state: dir.path).checkWritable() }
        #expect(otherName == "certificate verify failed: hostname mismatch for localhost:\(moto.port); the certificate the server presented is not for localhost", "\(otherName)")

        // An http:// server named as https://: said so, not a bare OpenSSL code.
        let plain = try MotoServer()
        let notTLS = refusal { try store(plain, endpoint: "https://127.0.0.1:\(plain.port)", caFile: certificates.caBundle, state: dir.path).checkWritable() }
        #expect(notTLS.hasPrefix("TLS handshake with 127.0.0.1:\(plain.port) failed:") && notTLS.contains("is it an http:// endpoint?"), "\(notTLS)")

        // The host name goes in the ClientHello (SNI: one endpoint, many names), an address does not (RFC 6066).
        let names = dir.path + "/sni-names"
        let probePort = MotoServer.freePort()
        let probe = try BackgroundProcess(MotoServer.venv + "/bin/python", [MotoServer.fixtures + "/tls-sni-probe.py", String(probePort), certificates.pki.file("node.pem"),
                                                                           certificates.pki.file("node.key"), names], environment: ProcessInfo.processInfo.environment)
        defer { kill(probe.processIdentifier, SIGTERM); probe.waitUntilExit() }
        let deadline = Date().addingTimeInterval(30)
        while !MotoServer.answers(probePort) && Date() < deadline && probe.isRunning { Thread.sleep(forTimeInterval: 0.05) }
        for host in ["localhost", "127.0.0.1"] {
            let message = refusal { try store(moto, endpoint: "https://\(host):\(probePort)", caFile: certificates.caBundle, state: dir.path).checkWritable() }
            #expect(message == "accepted", "\(host): \(message)")
        }
        #expect(try String(contentsOfFile: names, encoding: .utf8) == "localhost\n-\n")

        // A server that takes the connection and never answers the handshake: the read timeout ends it, with the reason.
        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(silent) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(silent, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(silent, 4)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(silent, $0, &length) } }
        let silentPort = Int(UInt16(bigEndian: address.sin_port))
        let signer = S3Signer(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secret, region: "us-east-1")
        let hung = refusal {
            try S3ObjectStore(bucket: moto.bucket, prefix: "tls", endpoint: "https://127.0.0.1:\(silentPort)", caFile: certificates.caBundle, signer: signer,
                              stateDirectory: dir.path, timeoutSeconds: 1).checkWritable()
        }
        #expect(hung == "TLS handshake with 127.0.0.1:\(silentPort) failed: no answer from 127.0.0.1:\(silentPort) within 1 s", "\(hung)")

        // Nothing was stored through a refused connection.
        #expect(try store(moto, caFile: certificates.caBundle, state: dir.path).list("").isEmpty)
    }
}

/// A backup over https driven as an operator drives it: `cassandra-agent run`, `job start backup`, `backup verify`.
@Suite(.serialized, .enabled(if: MotoServer.available, "moto is not installed: .ci/run creates its venv"))
struct DaemonS3TLSTests {
    @Test func aBackupOverHTTPSTrustsTheSystemStoreOrOnlyTheCAFileAndIsReadBackByBoto3() async throws {
        let certificates = try S3TestCertificates()
        let moto = try MotoServer(tls: certificates)
        // The system's trust store as OpenSSL finds it, with the test CA in it (SSL_CERT_FILE, as if installed on the host).
        let agent = try AgentUnderTest(environment: ["SSL_CERT_FILE": certificates.caBundle])
        let backups = DaemonBackupTests()
        let credentials = moto.credentialsFile(in: agent.dir)
        try agent.drop(agent.desiredState(extra: moto.backupSection(credentialsFile: credentials, caFile: nil)))
        _ = try #require(try await backups.backupJob(agent) { $0.enabled && $0.state == .idle })
        let first = try await backups.backUp(agent)
        #expect(first.result == "succeeded", "\(first.reason ?? "")")
        let stored = try moto.readBack(prefix: "prod/")
        let objects = stored.filter { $0.key.contains("/objects/") }
        #expect(!objects.isEmpty && objects.allSatisfy { $0.key.hasSuffix("/" + $0.value.1) }, "boto3 reads every object back over https with the SHA-256 it is named by")
        #expect(Set(backups.liveFiles(agent).values).isSubset(of: Set(objects.values.map(\.1))))
        let verify = try runAgent(["backup", "verify", first.id, "--config", agent.configFile], environment: ["SSL_CERT_FILE": certificates.caBundle])
        #expect(verify.exitCode == 0, "backup verify reads every object over https: \(verify.stderr)")

        // caFile replaces the system's store: a bundle without the server's CA is refused, with the reason.
        try agent.drop(agent.desiredState(extra: moto.backupSection(credentialsFile: credentials, caFile: certificates.unrelatedCA)))
        try await Task.sleep(for: .seconds(1))
        let refused = try await backups.backUp(agent)
        #expect(refused.result == "failed")
        #expect(refused.reason?.contains("certificate verify failed: unable to get local issuer certificate for 127.0.0.1:\(moto.port)") == true, "\(refused.reason ?? "")")

        try agent.drop(agent.desiredState(extra: moto.backupSection(credentialsFile: credentials, caFile: certificates.caBundle)))
        try await Task.sleep(for: .seconds(1))
        let second = try await backups.backUp(agent)
        #expect(second.result == "succeeded" && second.reason?.contains("stored 0 new file(s)") == true, "\(second.reason ?? "")")
        #expect(agent.stop() == 0)
    }
}
