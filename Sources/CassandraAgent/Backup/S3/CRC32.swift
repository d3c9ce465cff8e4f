import FoundationEssentials

/// CRC-32 (IEEE 802.3, zlib's), slicing by 8: the per-part checksum of a
/// multipart upload (`x-amz-checksum-crc32`). Parts go up UNSIGNED-PAYLOAD (the
/// file was hashed once already, to name it), so this is what lets the store
/// check every part's bytes as it receives them: S3 refuses a part that does
/// not match. OpenSSL has no CRC-32, and this is not cryptography.
struct CRC32 {
    private(set) var value: UInt32 = 0

    /// Eight tables of 256 entries, one after the other: table k advances the CRC over k more zero bytes.
    static let table: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            table[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 {
                let previous = table[(k - 1) * 256 + n]
                table[k * 256 + n] = (previous >> 8) ^ table[Int(previous & 0xff)]
            }
        }
        return table
    }()

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = ~value
        Self.table.withUnsafeBufferPointer { t in
            var index = 0
            while index + 8 <= bytes.count {
                let low = bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian ^ crc
                let high = bytes.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian
                crc = t[7 * 256 + Int(low & 0xff)] ^ t[6 * 256 + Int((low >> 8) & 0xff)] ^ t[5 * 256 + Int((low >> 16) & 0xff)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xff)] ^ t[2 * 256 + Int((high >> 8) & 0xff)] ^ t[256 + Int((high >> 16) & 0xff)] ^ t[Int(high >> 24)]
                index += 8
            }
            while index < bytes.count {
                crc = t[Int((crc ^ UInt32(bytes[index])) & 0xff)] ^ (crc >> 8)
                index += 1
            }
        }
        value = ~crc
    }

    /// Base64 of the big-endian value, as `x-amz-checksum-crc32` and `<ChecksumCRC32>` carry it.
    var base64: String {
        Data([UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]).base64EncodedString()
    }
}
