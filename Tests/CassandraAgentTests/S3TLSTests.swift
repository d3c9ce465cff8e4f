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

        // Nothing was stored through a refused connection.
        #expect(try store(moto, caFile: certificates.caBundle, state: dir.path).list("").isEmpty)
    }
}
