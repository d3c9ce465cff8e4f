import Foundation
@testable import CassandraAgent

/// A small PKI made with the openssl CLI for the TLS tests: a root CA, an
/// intermediate, node certificates (RSA and EC) for client and server auth,
/// and the broken inputs operators produce.
final class TestPKI: Sendable {
    let dir = TemporaryDirectory()
    var path: String { dir.path }

    init() throws {
        let ext = dir.write("ext.cnf", """
        [ca]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        [leaf]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature,keyEncipherment
        extendedKeyUsage = serverAuth,clientAuth
        subjectAltName = IP:127.0.0.1,DNS:localhost

        """)
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj", "/O=Acme/CN=Acme Root CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "int.key", "-out", "int.csr", "-subj", "/O=Acme/CN=Acme Intermediate"])
        try openssl(["x509", "-req", "-in", "int.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "int.pem", "-days", "1825", "-extfile", ext, "-extensions", "ca"])
        // RSA node key (PKCS#8), certificate from the intermediate.
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr", "-subj", "/O=Acme/CN=cassandra-node-1"])
        try openssl(["x509", "-req", "-in", "node.csr", "-CA", "int.pem", "-CAkey", "int.key", "-CAcreateserial", "-out", "node-leaf.pem", "-days", "365", "-extfile", ext, "-extensions", "leaf"])
        try concatenate(["node-leaf.pem", "int.pem"], into: "node.pem")
        // EC node key (SEC1 form), straight from the root.
        try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.key"])
        try openssl(["req", "-new", "-key", "ec.key", "-out", "ec.csr", "-subj", "/O=Acme/CN=cassandra-node-ec"])
        try openssl(["x509", "-req", "-in", "ec.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "ec.pem", "-days", "365", "-extfile", ext, "-extensions", "leaf"])
        // The RSA key as PKCS#1, and encrypted PKCS#8.
        try openssl(["rsa", "-in", "node.key", "-out", "node-pkcs1.key", "-traditional"])
        try openssl(["pkcs8", "-topk8", "-in", "node.key", "-out", "node-encrypted.key", "-passout", "pass:key-secret-1"])
        dir.write("key.pass", "key-secret-1\n")
        dir.write("store.pass", "store-secret-1\n")
        // An unrelated key, and a certificate that expired.
        try openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "other.key"])
        dir.write("expired.cnf", """
        [ca]
        default_ca = test
        [test]
        database = \(path)/index.txt
        new_certs_dir = \(path)
        serial = \(path)/serial
        default_md = sha256
        policy = anything
        [anything]
        commonName = supplied

        """)
        dir.write("index.txt", "")
        dir.write("serial", "1000\n")
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=cassandra-expired"])
        try openssl(["ca", "-batch", "-config", "expired.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "expired.csr", "-out", "expired.pem",
                     "-startdate", "20200101000000Z", "-enddate", "20210101000000Z", "-notext"])
        // A managed datacenter's certificates as `az managed-cassandra cluster show` prints them.
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "managed.key", "-out", "managed.pem", "-days", "365", "-subj", "/CN=Managed Gossip CA"])
        let managed = try String(contentsOfFile: path + "/managed.pem", encoding: .utf8).replacingOccurrences(of: "\n", with: "\r\n")
        let json = try JSONSerialization.data(withJSONObject: ["id": "/subscriptions/x", "properties": ["gossipCertificates": [["pem": managed]], "seedNodes": [["ipAddress": "10.20.0.5"]]]], options: [.prettyPrinted])
        FileManager.default.createFile(atPath: path + "/managed-dc-gossip.json", contents: json)
    }

    func openssl(_ arguments: [String]) throws {
        let result = try runProcess("/usr/bin/openssl", arguments, directory: path)
        guard result.exitCode == 0 else {
            throw TLSError("openssl \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
    }

    func concatenate(_ files: [String], into target: String) throws {
        let text = try files.map { try String(contentsOfFile: path + "/" + $0, encoding: .utf8) }.joined()
        dir.write(target, text)
    }

    func file(_ name: String) -> String { path + "/" + name }
}
