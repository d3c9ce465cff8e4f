import COpenSSL

/// PKCS12 stores through OpenSSL 3.0, in the "modern" profile JDK 11.0.12+/17 read:
/// PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC with 10000 iterations, HMAC-SHA256 MAC.
enum PKCS12Writer {
    static let iterations: Int32 = 10_000

    /// One PrivateKeyEntry: the key and its chain (leaf first).
    static func keystore(key: PrivateKey, chain: [Certificate], alias: String, password: String) throws(TLSError) -> [UInt8] {
        guard let leaf = chain.first else { throw TLSError("no certificate for the key") }
        let rest = agent_x509_stack_new()
        defer { agent_x509_stack_free(rest) }
        for certificate in chain.dropFirst() { _ = agent_x509_stack_push(rest, certificate.x509) }
        guard let p12 = PKCS12_create(password, alias, key.pkey, leaf.x509, rest, NID_aes_256_cbc, NID_aes_256_cbc, iterations, iterations, 0) else {
            throw TLSError("OpenSSL could not build the PKCS12 keystore: \(OpenSSLError.drain())")
        }
        defer { PKCS12_free(p12) }
        return try der(p12)
    }

    /// One trustedCertEntry per certificate, each with the JDK's trust attribute.
    static func truststore(_ entries: [(alias: String, certificate: Certificate)], password: String) throws(TLSError) -> [UInt8] {
        var bags: OpaquePointer?
        var safes: OpaquePointer?
        defer {
            if let bags { agent_safebags_free(bags) }
            if let safes { agent_safes_free(safes) }
        }
        for entry in entries {
            guard let bag = PKCS12_add_cert(&bags, entry.certificate.x509),
                  PKCS12_add_friendlyname_utf8(bag, entry.alias, -1) == 1,
                  agent_add_jdk_trust(bag) == 1
            else { throw TLSError("OpenSSL could not add '\(entry.alias)' to the truststore: \(OpenSSLError.drain())") }
        }
        guard PKCS12_add_safe(&safes, bags, NID_aes_256_cbc, iterations, password) == 1,
              let p12 = PKCS12_add_safes(safes, 0)
        else { throw TLSError("OpenSSL could not build the PKCS12 truststore: \(OpenSSLError.drain())") }
        defer { PKCS12_free(p12) }
        guard PKCS12_set_mac(p12, password, -1, nil, 0, iterations, EVP_sha256()) == 1 else {
            throw TLSError("OpenSSL could not protect the PKCS12 truststore: \(OpenSSLError.drain())")
        }
        return try der(p12)
    }

    static func der(_ p12: OpaquePointer) throws(TLSError) -> [UInt8] {
        var pointer: UnsafeMutablePointer<UInt8>?
        let length = i2d_PKCS12(p12, &pointer)
        guard length > 0, let pointer else { throw TLSError("OpenSSL could not encode the PKCS12 file: \(OpenSSLError.drain())") }
        defer { CRYPTO_free(pointer, #file, #line) }
        return Array(UnsafeBufferPointer(start: pointer, count: Int(length)))
    }
}
