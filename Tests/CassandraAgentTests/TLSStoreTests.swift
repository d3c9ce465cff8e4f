import Foundation
import Testing
@testable import CassandraAgent

/// Every store we write, read by the real peer: keytool from the JDK.
@Suite(.serialized) struct TLSStoreTests {
    static let pkiResult = Result { try TestPKI() }
    static var pki: TestPKI? {
        if case .failure(let error) = pkiResult { Issue.record("cannot make the test PKI: \(error)") }
        return try? pkiResult.get()
    }

    func files(_ pki: TestPKI, certificate: String = "node.pem", key: String = "node.key", keyPassword: String? = nil,
               trust: [String] = ["ca.pem"], type: DesiredState.StoreType = .pkcs12) -> NodeStoreLoader.Files {
        NodeStoreLoader.Files(certificate: pki.file(certificate), privateKey: pki.file(key), privateKeyPassword: keyPassword.map(pki.file),
                              trust: trust.map(pki.file), password: pki.file("store.pass"), storeType: type)
    }

    func load(_ files: NodeStoreLoader.Files) throws -> NodeStoreMaterial {
        try NodeStoreLoader.load(files, now: Int64(Date().timeIntervalSince1970)) { (path: String) throws(SystemError) -> [UInt8] in try FileIO.read(path) }
    }

    func keytool(_ arguments: [String]) throws -> ProcessResult {
        try runProcess("/usr/bin/keytool", arguments, environment: ["LANG": "C", "PATH": "/usr/bin:/bin"])
    }

    struct Entry: Equatable {
        var alias: String
        var type: String
        var chainLength: Int?
        var fingerprints: [String]
    }

    /// `keytool -list -v`, as a set of entries.
    func entries(_ store: String, type: String, password: String = "store-secret-1") throws -> [Entry] {
        let result = try keytool(["-list", "-v", "-storetype", type, "-keystore", store, "-storepass", password])
        guard result.exitCode == 0 else { throw TLSError("keytool: \(result.stdout)\(result.stderr)") }
        var entries: [Entry] = []
        for block in result.stdout.components(separatedBy: "Alias name: ").dropFirst() {
            let lines = block.split(separator: "\n").map(String.init)
            let type = lines.first { $0.hasPrefix("Entry type: ") }.map { String($0.dropFirst(12)) } ?? ""
            let chain = lines.first { $0.hasPrefix("Certificate chain length: ") }.flatMap { Int($0.dropFirst(26)) }
            let prints = lines.filter { $0.contains("SHA256: ") }.map { String($0.split(separator: "SHA256: ").last ?? "") }
            entries.append(Entry(alias: lines[0], type: type, chainLength: chain, fingerprints: prints))
        }
        return entries.sorted { $0.alias < $1.alias }
    }

    @Test(arguments: [DesiredState.StoreType.pkcs12, .jks])
    func keytoolReadsKeystoresAndTruststores(type: DesiredState.StoreType) throws {
        let pki = try #require(Self.pki)
        for (certificate, key) in [("node.pem", "node.key"), ("ec.pem", "ec.key")] {
            let material = try load(files(pki, certificate: certificate, key: key, trust: ["ca.pem", "int.pem", "ca.pem", "managed-dc-gossip.json"], type: type))
            let (keystore, truststore) = try material.storeFiles(createdAt: 1_700_000_000)
            let dir = TemporaryDirectory()
            let ks = dir.path + "/keystore", ts = dir.path + "/truststore"
            FileManager.default.createFile(atPath: ks, contents: Data(keystore))
            FileManager.default.createFile(atPath: ts, contents: Data(truststore))
            let keyEntries = try entries(ks, type: type.rawValue)
            #expect(keyEntries.count == 1)
            #expect(keyEntries.first?.alias == "node" && keyEntries.first?.type == "PrivateKeyEntry")
            #expect(keyEntries.first?.chainLength == material.chain.count, "\(certificate): leaf + intermediates")
            #expect(keyEntries.first?.fingerprints.first == material.chain[0].fingerprint, "keytool's SHA-256 is ours")
            let trustEntries = try entries(ts, type: type.rawValue)
            // ca.pem listed twice counts once: root CA, intermediate, the managed datacenter's CA.
            #expect(trustEntries.count == 3, "\(trustEntries)")
            #expect(trustEntries.allSatisfy { $0.type == "trustedCertEntry" })
            #expect(Set(trustEntries.map(\.alias)) == Set(material.trust.map(\.alias)))
            #expect(material.trust.map(\.alias).contains { $0.hasPrefix("acme-root-ca-") })
            // The key opens with the store password (what JSSE does).
            let certreq = try keytool(["-certreq", "-alias", "node", "-keystore", ks, "-storetype", type.rawValue, "-storepass", "store-secret-1", "-file", "/dev/null"])
            #expect(certreq.exitCode == 0, "\(certreq.stdout)\(certreq.stderr)")
            let wrong = try keytool(["-list", "-storetype", type.rawValue, "-keystore", ts, "-storepass", "wrong-password"])
            #expect(wrong.exitCode != 0)
        }
    }

    @Test func inputsInEveryKeyForm() throws {
        let pki = try #require(Self.pki)
        #expect(try load(files(pki, key: "node-pkcs1.key")).key.matches(try load(files(pki)).chain[0]))
        #expect(try load(files(pki, key: "node-encrypted.key", keyPassword: "key.pass")).chain.count == 2)
    }

    @Test func badInputsAreRefusedWithAReason() throws {
        let pki = try #require(Self.pki)
        func error(_ files: NodeStoreLoader.Files) -> String {
            do {
                _ = try load(files)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(error(files(pki, key: "other.key")).contains("does not belong to the certificate"))
        #expect(error(files(pki, certificate: "expired.pem", key: "expired.key")).contains("expired on 2021-01-01T00:00:00Z"))
        pki.dir.write("reversed.pem", try String(contentsOfFile: pki.file("int.pem"), encoding: .utf8) + (try String(contentsOfFile: pki.file("node-leaf.pem"), encoding: .utf8)))
        #expect(error(files(pki, certificate: "reversed.pem")).contains("does not belong") || error(files(pki, certificate: "reversed.pem")).contains("did not issue"))
        pki.dir.write("leaf-then-root.pem", try String(contentsOfFile: pki.file("node-leaf.pem"), encoding: .utf8) + (try String(contentsOfFile: pki.file("ca.pem"), encoding: .utf8)))
        #expect(error(files(pki, certificate: "leaf-then-root.pem")).contains("did not issue certificate 1"))
        pki.dir.write("garbage.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        #expect(error(files(pki, key: "garbage.key")).contains("cannot read the private key"))
        pki.dir.write("not-a-key.key", "hello\n")
        #expect(error(files(pki, key: "not-a-key.key")).contains("not a PEM private key"))
        pki.dir.write("wrong.pass", "not-the-passphrase\n")
        #expect(error(files(pki, key: "node-encrypted.key", keyPassword: "wrong.pass")).contains("wrong passphrase"))
        #expect(error(files(pki, key: "node-encrypted.key")).contains("the private key is encrypted: give privateKeyPasswordFile"))
        #expect(error(files(pki, trust: ["managed-dc-gossip.json"])).contains("which no certificate under trust is or issued"))
        pki.dir.write("bad.json", "{\"properties\": {\"gossipCertificates\": [{\"pem\": \"-----BEGIN CERTIFICATE-----\\\\r\\\\nnot base64\\\\r\\\\n-----END CERTIFICATE-----\"}]}}")
        #expect(error(files(pki, trust: ["ca.pem", "bad.json"])).contains("bad.json: gossip certificate 1 of 1"))
        pki.dir.write("shape.json", "{\"seedNodes\": []}")
        #expect(error(files(pki, trust: ["ca.pem", "shape.json"])).contains("JSON of an unexpected shape"))
        pki.dir.write("broken.json", "{\"gossipCertificates\": [")
        #expect(error(files(pki, trust: ["ca.pem", "broken.json"])).contains("not valid JSON"))
        pki.dir.write("short.pass", "abc\n")
        var short = files(pki)
        short.password = pki.file("short.pass")
        #expect(error(short).contains("at least 6 characters"))
        // No secret in any message.
        for message in [error(files(pki, key: "node-encrypted.key", keyPassword: "wrong.pass")), error(short)] {
            #expect(!message.contains("not-the-passphrase") && !message.contains("abc\n") && !message.contains("store-secret-1"))
        }
    }

    @Test func azureJSONWithEscapedLineBreaks() throws {
        let pki = try #require(Self.pki)
        // The same certificate pasted with literal "\r\n" text, as `jq .pem` without -r leaves it.
        let pem = try String(contentsOfFile: pki.file("managed.pem"), encoding: .utf8).replacingOccurrences(of: "\n", with: "\\r\\n")
        let escaped = Array("[{\"pem\": \"\(pem.replacingOccurrences(of: "\\", with: "\\\\"))\"}]".utf8)
        let fromEscaped = try TrustSource.certificates(in: escaped)
        let fromFile = try TrustSource.certificates(in: Array(try Data(contentsOf: URL(fileURLWithPath: pki.file("managed-dc-gossip.json")))))
        #expect(fromEscaped.map(\.fingerprint) == fromFile.map(\.fingerprint))
        #expect(fromFile.first?.commonName == "Managed Gossip CA")
        // UTF-16 with a BOM (PowerShell redirection).
        let json = try String(contentsOfFile: pki.file("managed-dc-gossip.json"), encoding: .utf8)
        let utf16: [UInt8] = [0xFF, 0xFE] + json.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(try TrustSource.certificates(in: utf16).map(\.fingerprint) == fromFile.map(\.fingerprint))
    }
}

/// JSSE, the TLS stack Cassandra runs on, completes a mutual-TLS handshake with our stores.
@Suite(.serialized) struct MutualTLSTests {
    func java(_ arguments: [String]) throws -> ProcessResult {
        try runProcess("/usr/bin/java", [Paths.packageRoot + "/Tests/CassandraAgentTests/Fixtures/java/MutualTLS.java"] + arguments)
    }

    @Test(arguments: [DesiredState.StoreType.pkcs12, .jks])
    func handshakeWithOurStores(type: DesiredState.StoreType) throws {
        let pki = try #require(TLSStoreTests.pki)
        let files = NodeStoreLoader.Files(certificate: pki.file("node.pem"), privateKey: pki.file("node.key"), privateKeyPassword: nil,
                                          trust: [pki.file("ca.pem")], password: pki.file("store.pass"), storeType: type)
        let material = try NodeStoreLoader.load(files, now: Int64(Date().timeIntervalSince1970)) { (path: String) throws(SystemError) -> [UInt8] in try FileIO.read(path) }
        let (keystore, truststore) = try material.storeFiles(createdAt: 1_700_000_000)
        let dir = TemporaryDirectory()
        FileManager.default.createFile(atPath: dir.path + "/ks", contents: Data(keystore))
        FileManager.default.createFile(atPath: dir.path + "/ts", contents: Data(truststore))
        let result = try java([type.rawValue, dir.path + "/ks", dir.path + "/ts", "store-secret-1"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("handshake ok TLSv1.3 CN=cassandra-node-1,O=Acme"), "\(result.stdout)\(result.stderr)")

        // The trap: a truststore written the obvious OpenSSL 3.0 way has no trust attribute,
        // so the JDK reads it as empty and the handshake fails. The check has teeth.
        if type == .pkcs12 {
            try pki.openssl(["pkcs12", "-export", "-nokeys", "-in", "ca.pem", "-out", dir.path + "/empty", "-passout", "pass:store-secret-1"])
            let refused = try java(["PKCS12", dir.path + "/ks", dir.path + "/empty", "store-secret-1"])
            #expect(refused.exitCode != 0)
            #expect(refused.stderr.contains("trustAnchors parameter must be non-empty"))
        }
    }
}

@Suite(.serialized) struct TLSDesiredStateTests {
    func tlsState(_ pki: TestPKI, version: String = "4.1", certificate: String = "node.pem", key: String = "node.key", password: String? = nil, extra: String = "") -> String {
        desiredState(version: version, extra: """
        tls:
          internode:
            encryption: dc
            certificate: \(pki.file(certificate))
            privateKey: \(pki.file(key))
            trust: [\(pki.file("ca.pem"))]
            passwordFile: \(password ?? pki.file("store.pass"))
        \(extra)
        """)
    }

    @Test func stagedCARotationNeverLeavesTheNodeUntrusting() throws {
        let pki = try #require(TLSStoreTests.pki)
        if !FileManager.default.fileExists(atPath: pki.file("node2.pem")) {
            try pki.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca2.key", "-out", "ca2.pem", "-days", "3650", "-subj", "/O=Acme/CN=Acme Root CA 2026"])
            try pki.openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node2.key", "-out", "node2.csr", "-subj", "/O=Acme/CN=cassandra-node-1"])
            try pki.openssl(["x509", "-req", "-in", "node2.csr", "-CA", "ca2.pem", "-CAkey", "ca2.key", "-CAcreateserial", "-out", "node2.pem", "-days", "365", "-extfile", pki.file("ext.cnf"), "-extensions", "leaf"])
        }
        func build(certificate: String, key: String, trust: [String]) -> Result<NodeStoreMaterial, TLSError> {
            Result { () throws(TLSError) -> NodeStoreMaterial in
                try NodeStoreLoader.load(.init(certificate: pki.file(certificate), privateKey: pki.file(key), privateKeyPassword: nil,
                                               trust: trust.map(pki.file), password: pki.file("store.pass"), storeType: .pkcs12),
                                         now: Int64(Date().timeIntervalSince1970)) { (path: String) throws(SystemError) -> [UInt8] in try FileIO.read(path) }
            }
        }
        // 1. trust the old and the new CA; 2. switch the node certificate; 3. drop the old CA.
        #expect(try build(certificate: "node.pem", key: "node.key", trust: ["ca.pem", "ca2.pem"]).get().trust.count == 2)
        #expect(try build(certificate: "node2.pem", key: "node2.key", trust: ["ca.pem", "ca2.pem"]).get().trust.count == 2)
        #expect(try build(certificate: "node2.pem", key: "node2.key", trust: ["ca2.pem"]).get().trust.count == 1)
        // Skipping step 1 would leave the node unable to trust its peers: refused.
        guard case .failure(let error) = build(certificate: "node2.pem", key: "node2.key", trust: ["ca.pem"]) else {
            Issue.record("a certificate its own truststore does not anchor was accepted")
            return
        }
        #expect(error.message.contains("which no certificate under trust is or issued"))
    }

    @Test func validateLocatesTLSErrorsAtTheirField() throws {
        let pki = try #require(TLSStoreTests.pki)
        let dir = TemporaryDirectory()
        let file = dir.write("ds.yaml", tlsState(pki, key: "other.key"))
        let result = try runAgent(["validate", file])
        #expect(result.exitCode == 1)
        #expect(result.stderr.hasPrefix("\(file):15:17: error: tls.internode: the private key in \(pki.file("other.key")) does not belong to the certificate in \(pki.file("node.pem"))"), "\(result.stderr)")
        let good = dir.write("good.yaml", tlsState(pki))
        let valid = try runAgent(["validate", good])
        #expect(valid.exitCode == 0, "\(valid.stderr)")
        #expect(valid.stdout.contains("2 stores"))
    }

    @Test func passwordsFromSystemdCredentials() throws {
        let pki = try #require(TLSStoreTests.pki)
        let dir = TemporaryDirectory()
        let credentials = TemporaryDirectory()
        credentials.write("store-password", "credential-pass-1\n")
        let file = dir.write("ds.yaml", tlsState(pki, password: "credential:store-password"))
        #expect(try runAgent(["validate", file], environment: ["CREDENTIALS_DIRECTORY": credentials.path]).exitCode == 0)
        let without = try runAgent(["validate", file])
        #expect(without.exitCode == 1)
        #expect(without.stderr.contains("no $CREDENTIALS_DIRECTORY: give the unit LoadCredential="))
        #expect(!without.stderr.contains("credential-pass-1"))
    }

    /// The CI failure this guards: the key was replaced between the loader's read and the
    /// fingerprint's, so a store built from the old key was recorded under the new inputs' name,
    /// rebuilt (new salts, new bytes) and reloaded although nothing valid had changed.
    @Test func aStoreIsFingerprintedFromTheBytesItWasBuiltFrom() throws {
        let pki = try #require(TLSStoreTests.pki)
        let validated = try DesiredStateValidator.validate(text: tlsState(pki), file: "ds.yaml").get()
        final class Reads { var count: [String: Int] = [:] }
        func build(replacingKeyAfterFirstRead: Bool) throws -> (NodeArtifacts, Reads) {
            let reads = Reads()
            let artifacts = try NodeArtifactsBuilder.build(validated, storeDirectory: "/etc/cassandra", now: Int64(Date().timeIntervalSince1970), read: { (path: String) throws(SystemError) -> [UInt8] in
                reads.count[path, default: 0] += 1
                // The operator copies another key into place right after the agent's first read.
                if replacingKeyAfterFirstRead, path == pki.file("node.key"), reads.count[path]! > 1 { return try FileIO.read(pki.file("other.key")) }
                return try FileIO.read(path)
            }).get()
            return (artifacts, reads)
        }
        let (steady, _) = try build(replacingKeyAfterFirstRead: false)
        let (raced, reads) = try build(replacingKeyAfterFirstRead: true)
        #expect(raced.stores.map(\.inputs) == steady.stores.map(\.inputs))
        #expect(reads.count.values.allSatisfy { $0 == 1 }, "\(reads.count)")
    }

    @Test func protocolsAndCiphersPerVersion() throws {
        let pki = try #require(TLSStoreTests.pki)
        let extra = "    protocols: [TLSv1.2, TLSv1.3]\n    cipherSuites: [TLS_AES_256_GCM_SHA384]"
        for (version, expected) in [("4.1", "accepted_protocols:\n  - TLSv1.2\n  - TLSv1.3"), ("3.11", "protocol: TLSv1.2")] {
            let text = tlsState(pki, version: version).replacingOccurrences(of: "    passwordFile:", with: extra + "\n    passwordFile:")
            let validated = try DesiredStateValidator.validate(text: text, file: "ds.yaml").get()
            let artifacts = try NodeArtifactsBuilder.build(validated, storeDirectory: "/etc/cassandra", now: Int64(Date().timeIntervalSince1970)).get()
            #expect(artifacts.config.cassandraYAML.contains(expected), "\(version)")
            #expect(artifacts.config.cassandraYAML.contains("cipher_suites:\n  - TLS_AES_256_GCM_SHA384"))
            #expect(artifacts.config.cassandraYAML.contains("  internode_encryption: dc\n"))
        }
        #expect(errors(tlsState(pki).replacingOccurrences(of: "    passwordFile:", with: "    protocols: [SSLv3]\n    passwordFile:")).first?.contains("'SSLv3' is not allowed") == true)
    }
}
