/// The node's TLS material, read from the operator's files and checked, ready
/// to be written as a keystore and a truststore.
public struct NodeStoreMaterial: @unchecked Sendable {
    public var chain: [Certificate]
    public var key: PrivateKey
    /// Deduplicated by fingerprint, in the order first listed; each with its stable alias.
    public var trust: [(alias: String, certificate: Certificate)]
    public var password: String
    public var storeType: DesiredState.StoreType
    /// Warnings: certificates close to expiry.
    public var warnings: [String]

    public static let keyAlias = "node"

    /// The bytes of the keystore and the truststore in the configured type.
    public func storeFiles(createdAt: Int64) throws(TLSError) -> (keystore: [UInt8], truststore: [UInt8]) {
        switch storeType {
        case .pkcs12:
            return (try PKCS12Writer.keystore(key: key, chain: chain, alias: Self.keyAlias, password: password),
                    try PKCS12Writer.truststore(trust, password: password))
        case .jks:
            return (try JKSWriter.keystore(key: key, chain: chain, alias: Self.keyAlias, password: password, createdAt: createdAt),
                    JKSWriter.truststore(trust, password: password, createdAt: createdAt))
        }
    }

    /// A lower-case alias that survives both formats: the subject's CN as a slug plus
    /// the start of the SHA-256 fingerprint, so two CAs with one name stay apart.
    public static func alias(for certificate: Certificate) -> String {
        let name = (certificate.commonName ?? "cert").lowercased()
        var slug = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "-" })
        while slug.contains("--") { slug = slug.replacing("--", with: "-") }
        slug = String(slug.trimmingCharacters(in: "-").prefix(40))
        let print = certificate.fingerprint.replacing(":", with: "").lowercased().prefix(8)
        return "\(slug.isEmpty ? "cert" : slug)-\(print)"
    }
}

/// Reads and checks the PEM inputs of one store pair before anything is written.
public enum NodeStoreLoader {
    public struct Files: Sendable {
        public var certificate: String
        public var privateKey: String
        public var privateKeyPassword: String?
        public var trust: [String]
        public var password: String
        public var storeType: DesiredState.StoreType
    }

    /// Reads every input through `read` (a seam for tests) and checks: key matches
    /// leaf, chain in order, leaf valid now, chain anchored in trust, password usable.
    public static func load(_ files: Files, now: Int64, warnDays: Int = 30, read: (String) throws(SystemError) -> [UInt8]) throws(TLSError) -> NodeStoreMaterial {
        func bytes(_ path: String, _ what: String) throws(TLSError) -> [UInt8] {
            do { return try read(path) } catch { throw TLSError("cannot read the \(what) \(path): \(error)") }
        }
        let password = try passwordFrom(bytes(files.password, "store password file"), path: files.password)
        let chain: [Certificate]
        do { chain = try Certificate.readAll(pem: try bytes(files.certificate, "certificate")) } catch { throw TLSError("\(files.certificate): \(error.message)") }
        let keyPassword = try files.privateKeyPassword.map { path throws(TLSError) in Array(try passwordFrom(bytes(path, "private key password file"), path: path).utf8) }
        let key: PrivateKey
        do { key = try PrivateKey.read(pem: try bytes(files.privateKey, "private key"), passphrase: keyPassword) } catch { throw TLSError("\(files.privateKey): \(error.message)") }
        guard key.matches(chain[0]) else {
            throw TLSError("the private key in \(files.privateKey) does not belong to the certificate in \(files.certificate) (\(chain[0].subject))")
        }
        for i in 1..<max(1, chain.count) where !chain[i - 1].isIssued(by: chain[i]) {
            throw TLSError("\(files.certificate): certificate \(i + 1) (\(chain[i].subject)) did not issue certificate \(i) (\(chain[i - 1].subject)); list the leaf first, then each issuer")
        }
        let leaf = chain[0]
        if now > leaf.notAfter { throw TLSError("\(files.certificate): the certificate \(leaf.subject) expired on \(Timestamp.iso8601(leaf.notAfter))") }
        if now < leaf.notBefore { throw TLSError("\(files.certificate): the certificate \(leaf.subject) is not valid before \(Timestamp.iso8601(leaf.notBefore))") }

        var trust: [(alias: String, certificate: Certificate)] = []
        for path in files.trust {
            let certificates: [Certificate]
            do { certificates = try TrustSource.certificates(in: try bytes(path, "trust file")) } catch { throw TLSError("\(path): \(error.message)") }
            for certificate in certificates where !trust.contains(where: { $0.certificate.fingerprint == certificate.fingerprint }) {
                trust.append((NodeStoreMaterial.alias(for: certificate), certificate))
            }
        }
        // The node must trust its own chain, or it cannot talk to peers holding certificates from the same CA.
        let top = chain[chain.count - 1]
        let anchored = trust.contains { $0.certificate.fingerprint == top.fingerprint || top.isIssued(by: $0.certificate) }
            || chain.contains { link in trust.contains { $0.certificate.fingerprint == link.fingerprint } }
        guard anchored else {
            throw TLSError("\(files.certificate): the chain ends at \(top.subject) (issued by \(top.issuer)), which no certificate under trust is or issued; add that CA to trust, or peers with certificates from it will be refused")
        }
        var warnings: [String] = []
        let horizon = now + Int64(warnDays) * 86_400
        for (what, certificate) in [("the node certificate", leaf)] + trust.map({ ("trusted certificate \($0.alias)", $0.certificate) }) where certificate.notAfter < horizon {
            let days = max(0, (certificate.notAfter - now) / 86_400)
            warnings.append(now > certificate.notAfter
                ? "\(what) (\(certificate.subject)) expired on \(Timestamp.iso8601(certificate.notAfter))"
                : "\(what) (\(certificate.subject)) expires in \(days) day(s), on \(Timestamp.iso8601(certificate.notAfter))")
        }
        return NodeStoreMaterial(chain: chain, key: key, trust: trust, password: password, storeType: files.storeType, warnings: warnings)
    }

    /// The password a password file holds: one line, a single trailing newline allowed
    /// (what `echo` writes). More lines are refused rather than silently cut to the
    /// first: a file with a second line is not the file its writer meant. Never echoed in errors.
    static func passwordFrom(_ bytes: [UInt8], path: String) throws(TLSError) -> String {
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\r\n") { text.removeLast() } else if text.hasSuffix("\n") { text.removeLast() }
        if text.hasSuffix("\r") { text.removeLast() }
        if text.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            throw TLSError("\(path): the password file has more than one line; it must hold the password alone on one line (a single trailing newline is fine)")
        }
        let line = text
        guard line.count >= 6 else { throw TLSError("\(path): the password must have at least 6 characters (keytool and the JDK refuse shorter ones)") }
        guard line.unicodeScalars.allSatisfy({ (0x20...0x7E).contains($0.value) }) else {
            throw TLSError("\(path): the password must be printable ASCII; the JDK cannot open PKCS12 stores with other characters")
        }
        return line
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, set.contains(last) { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
