import COpenSSL

/// SHA-256 through OpenSSL's libcrypto (the project's one crypto stack), with its
/// low-level API: no provider is loaded for it (see agent_sha256_init in COpenSSL).
public enum SHA256 {
    public static func hex<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        Hex.encode(digest(bytes))
    }

    public static func digest<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        let hasher = Hasher()
        let done: Void? = bytes.withContiguousStorageIfAvailable { hasher.update(UnsafeRawBufferPointer($0)) }
        if done == nil { hasher.update(Array(bytes)) }
        return hasher.finalDigest()
    }
}

extension SHA256 {
    /// Incremental SHA-256 for files hashed while they are copied (one read pass).
    public final class Hasher {
        private let context = UnsafeMutablePointer<SHA256_CTX>.allocate(capacity: 1)

        public init() {
            precondition(agent_sha256_init(context) == 1, "SHA256_Init failed")
        }

        deinit { context.deallocate() }

        public func update(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count > 0 else { return }
            precondition(agent_sha256_update(context, bytes.baseAddress, bytes.count) == 1, "SHA256_Update failed")
        }

        public func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { update($0) }
        }

        /// The digest; the hasher is spent afterwards.
        public func finalDigest() -> [UInt8] {
            var output = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
            precondition(agent_sha256_final(&output, context) == 1, "SHA256_Final failed")
            return output
        }

        /// The digest as lower-case hex; the hasher is spent afterwards.
        public func finalHex() -> String {
            Hex.encode(finalDigest())
        }
    }
}

/// HMAC-SHA256 through OpenSSL (AWS Signature Version 4 signs with it).
public enum HMACSHA256 {
    public static func authenticate(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count, &output, &length)
            }
        }
        precondition(result != nil, "HMAC(SHA-256) failed")
        return Array(output.prefix(Int(length)))
    }
}

/// Lower-case hexadecimal.
public enum Hex {
    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
