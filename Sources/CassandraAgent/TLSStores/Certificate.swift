import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// An X.509 certificate (OpenSSL's X509, freed with the object).
public final class Certificate: @unchecked Sendable {
    // Immutable after init; OpenSSL's X509 is safe to read from several threads.
    let x509: OpaquePointer

    init(taking x509: OpaquePointer) {
        self.x509 = x509
    }

    deinit { X509_free(x509) }

    /// Every certificate in a PEM text (bundles included); none found is an error.
    public static func readAll(pem: [UInt8]) throws(TLSError) -> [Certificate] {
        var certificates: [Certificate] = []
        withReadBIO(pem) { bio in
            while let x509 = PEM_read_bio_X509(bio, nil, nil, nil) {
                certificates.append(Certificate(taking: x509))
            }
        }
        ERR_clear_error()  // the loop ends on "no start line"
        guard !certificates.isEmpty else { throw TLSError("no PEM certificate (-----BEGIN CERTIFICATE-----) found") }
        return certificates
    }

    public var der: [UInt8] {
        var pointer: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(x509, &pointer)
        guard length > 0, let pointer else { return [] }
        defer { CRYPTO_free(pointer, #file, #line) }
        return Array(UnsafeBufferPointer(start: pointer, count: Int(length)))
    }

    /// SHA-256 of the DER, upper-case hex joined by ':' as keytool prints it.
    public var fingerprint: String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        X509_digest(x509, EVP_sha256(), &digest, &length)
        return digest.prefix(Int(length)).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return byte < 16 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    public var subject: String { Self.name(X509_get_subject_name(x509)) }
    public var issuer: String { Self.name(X509_get_issuer_name(x509)) }

    /// The subject's common name, when it has one.
    public var commonName: String? {
        subject.split(separator: ",").map { $0.trimmingSpaces }.first { $0.hasPrefix("CN=") }.map { String($0.dropFirst(3)) }
    }

    public var notBefore: Int64 { Self.epoch(X509_get0_notBefore(x509)) }
    public var notAfter: Int64 { Self.epoch(X509_get0_notAfter(x509)) }

    public var isSelfSigned: Bool { X509_check_issued(x509, x509) == X509_V_OK }

    /// True when `issuer` issued this certificate and its signature checks out.
    public func isIssued(by issuer: Certificate) -> Bool {
        guard X509_check_issued(issuer.x509, x509) == X509_V_OK, let key = X509_get0_pubkey(issuer.x509) else { return false }
        let ok = X509_verify(x509, key) == 1
        ERR_clear_error()
        return ok
    }

    static func name(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        X509_NAME_print_ex(bio, name, 0, agent_xn_flag_rfc2253())
        var pointer: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
        guard length > 0, let pointer else { return "" }
        // RFC 2253 order, most specific RDN first: "CN=node,O=Acme", as keytool prints owners.
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    static func epoch(_ time: UnsafePointer<ASN1_TIME>?) -> Int64 {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return 0 }
        return Int64(timegm(&parts))
    }
}

/// A private key (OpenSSL's EVP_PKEY).
public final class PrivateKey: @unchecked Sendable {
    let pkey: OpaquePointer

    init(taking pkey: OpaquePointer) {
        self.pkey = pkey
    }

    deinit { EVP_PKEY_free(pkey) }

    /// Reads PKCS#8, PKCS#1 (RSA) or SEC1 (EC) PEM, encrypted or not. The passphrase
    /// comes from a file; without one an encrypted key is an error (never a terminal prompt).
    public static func read(pem: [UInt8], passphrase: [UInt8]?) throws(TLSError) -> PrivateKey {
        let text = String(decoding: pem, as: UTF8.self)
        guard text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") else {
            throw TLSError("not a PEM private key: expected a PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY or ENCRYPTED PRIVATE KEY block")
        }
        let encrypted = text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED")
        if encrypted && passphrase == nil {
            throw TLSError("the private key is encrypted: give privateKeyPasswordFile")
        }
        final class Passphrase { let bytes: [UInt8]; init(_ b: [UInt8]) { bytes = b } }
        let box = Passphrase(passphrase ?? [])
        let key: OpaquePointer? = withReadBIO(pem) { bio in
            withExtendedLifetime(box) {
                PEM_read_bio_PrivateKey(bio, nil, { buffer, size, _, context in
                    guard let buffer, let context else { return -1 }
                    let bytes = Unmanaged<Passphrase>.fromOpaque(context).takeUnretainedValue().bytes
                    guard bytes.count <= Int(size) else { return -1 }
                    bytes.withUnsafeBytes { raw in
                        UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
                    }
                    return Int32(bytes.count)
                }, Unmanaged.passUnretained(box).toOpaque())
            }
        }
        guard let key else {
            let reason = OpenSSLError.drain()
            if encrypted { throw TLSError("cannot decrypt the private key: wrong passphrase (\(reason))") }
            throw TLSError("cannot read the private key: \(reason)")
        }
        return PrivateKey(taking: key)
    }

    public func matches(_ certificate: Certificate) -> Bool {
        let ok = X509_check_private_key(certificate.x509, pkey) == 1
        ERR_clear_error()
        return ok
    }

    /// PKCS#8 PrivateKeyInfo DER (what JKS protects).
    var pkcs8DER: [UInt8] {
        guard let info = EVP_PKEY2PKCS8(pkey) else { return [] }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        var pointer: UnsafeMutablePointer<UInt8>?
        let length = i2d_PKCS8_PRIV_KEY_INFO(info, &pointer)
        guard length > 0, let pointer else { return [] }
        defer { CRYPTO_free(pointer, #file, #line) }
        return Array(UnsafeBufferPointer(start: pointer, count: Int(length)))
    }
}

/// A problem with TLS material, in words for the operator (never with a secret in it).
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
