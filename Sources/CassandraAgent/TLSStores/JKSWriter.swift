import COpenSSL

/// The JDK's JKS format, written directly: big-endian fields, entries, the
/// JDK key protector for private keys, and the keyed SHA-1 integrity trailer.
enum JKSWriter {
    /// One PrivateKeyEntry (the key protected with the store password, as JSSE expects).
    static func keystore(key: PrivateKey, chain: [Certificate], alias: String, password: String, createdAt: Int64) throws(TLSError) -> [UInt8] {
        var out = header(count: 1)
        out += u32(1) + utf(alias) + u64(UInt64(createdAt) * 1000)
        let protected = try protect(key.pkcs8DER, password: password)
        out += u32(UInt32(protected.count)) + protected
        out += u32(UInt32(chain.count))
        for certificate in chain { out += certificateField(certificate) }
        return out + trailer(out, password: password)
    }

    /// One trustedCertEntry per certificate.
    static func truststore(_ entries: [(alias: String, certificate: Certificate)], password: String, createdAt: Int64) -> [UInt8] {
        var out = header(count: entries.count)
        for entry in entries {
            out += u32(2) + utf(entry.alias) + u64(UInt64(createdAt) * 1000) + certificateField(entry.certificate)
        }
        return out + trailer(out, password: password)
    }

    static func header(count: Int) -> [UInt8] { [0xFE, 0xED, 0xFE, 0xED] + u32(2) + u32(UInt32(count)) }

    static func certificateField(_ certificate: Certificate) -> [UInt8] {
        let der = certificate.der
        return utf("X.509") + u32(UInt32(der.count)) + der
    }

    /// The password as UTF-16BE code units, as the JDK hashes it.
    static func passwordBytes(_ password: String) -> [UInt8] {
        password.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// Sun's key protector (OID 1.3.6.1.4.1.42.2.17.1.1): SHA-1 keystream XOR, salted, with a check digest.
    static func protect(_ plaintext: [UInt8], password: String) throws(TLSError) -> [UInt8] {
        guard !plaintext.isEmpty else { throw TLSError("could not encode the private key as PKCS#8") }
        let pw = passwordBytes(password)
        var salt = [UInt8](repeating: 0, count: 20)
        guard RAND_bytes(&salt, 20) == 1 else { throw TLSError("no random bytes for the key protector") }
        var mask: [UInt8] = []
        var digest = salt
        while mask.count < plaintext.count {
            digest = sha1(pw + digest)
            mask += digest
        }
        let body = zip(plaintext, mask).map { $0 ^ $1 }
        let octets = salt + body + sha1(pw + plaintext)
        let algorithm: [UInt8] = [0x30, 0x0E, 0x06, 0x0A, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x2A, 0x02, 0x11, 0x01, 0x01, 0x05, 0x00]
        return derSequence(algorithm + [0x04] + derLength(octets.count) + octets)
    }

    static func trailer(_ body: [UInt8], password: String) -> [UInt8] {
        sha1(passwordBytes(password) + Array("Mighty Aphrodite".utf8) + body)
    }

    static func sha1(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        bytes.withUnsafeBytes { _ = EVP_Digest($0.baseAddress, $0.count, &out, &length, EVP_sha1(), nil) }
        return out
    }

    static func derSequence(_ content: [UInt8]) -> [UInt8] { [0x30] + derLength(content.count) + content }

    static func derLength(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        var bytes: [UInt8] = []
        var value = n
        while value > 0 { bytes.insert(UInt8(value & 0xFF), at: 0); value >>= 8 }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    static func u32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    static func u64(_ v: UInt64) -> [UInt8] { u32(UInt32(v >> 32)) + u32(UInt32(v & 0xFFFF_FFFF)) }

    /// Java's modified UTF-8 with a u16 byte-length prefix (writeUTF).
    static func utf(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for unit in text.utf16 {
            switch unit {
            case 0x0001...0x007F: bytes.append(UInt8(unit))
            case 0x0000, 0x0080...0x07FF: bytes += [0xC0 | UInt8(unit >> 6), 0x80 | UInt8(unit & 0x3F)]
            default: bytes += [0xE0 | UInt8(unit >> 12), 0x80 | UInt8(unit >> 6 & 0x3F), 0x80 | UInt8(unit & 0x3F)]
            }
        }
        return [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
    }
}
