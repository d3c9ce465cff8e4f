/// The parts of a TZif file (RFC 8536) the agent needs: when the offset changes,
/// to what, and the footer rule for later instants. Version 1 files are read from
/// their 32-bit block; version 2 and later from the 64-bit block after it.
struct TZifFile: Sendable, Equatable {
    /// Ascending instants at which the offset changes.
    var transitions: [Int64]
    /// Seconds east of UTC from `transitions[i]` on.
    var offsets: [Int]
    /// Before the first transition (local time type 0), or always when there are none and no footer.
    var initialOffset: Int
    var footer: PosixTimeZoneRule?

    struct Malformed: Error {
        var reason: String
    }

    init(transitions: [Int64], offsets: [Int], initialOffset: Int, footer: PosixTimeZoneRule?) {
        (self.transitions, self.offsets, self.initialOffset, self.footer) = (transitions, offsets, initialOffset, footer)
    }

    init(parsing bytes: [UInt8]) throws(Malformed) {
        var reader = ByteReader(bytes: bytes)
        let header = try reader.header()
        guard header.version >= 2 else {
            try self.init(block: &reader, header, timeSize: 4)
            return
        }
        try reader.skip(header.blockSize(timeSize: 4))
        let second = try reader.header()
        try self.init(block: &reader, second, timeSize: 8)
        // The footer: newline, TZ string, newline. An empty string means "no rule".
        guard try reader.byte() == UInt8(ascii: "\n") else { throw Malformed(reason: "the footer does not start with a newline") }
        var text: [UInt8] = []
        while true {
            let c = try reader.byte()
            if c == UInt8(ascii: "\n") { break }
            text.append(c)
        }
        if !text.isEmpty {
            let string = String(decoding: text, as: UTF8.self)
            guard let rule = PosixTimeZoneRule(parsing: string) else {
                throw Malformed(reason: "its footer '\(string)' is not a POSIX TZ rule this agent understands")
            }
            footer = rule
        }
    }

    private init(block reader: inout ByteReader, _ header: Header, timeSize: Int) throws(Malformed) {
        guard header.leapCount == 0 else {
            throw Malformed(reason: "it counts leap seconds (a 'right/' zone); use the zone without the 'right/' prefix")
        }
        guard header.typeCount > 0 else { throw Malformed(reason: "it has no local time types") }
        var times: [Int64] = []
        for _ in 0..<header.timeCount {
            let t = timeSize == 8 ? try reader.int64() : Int64(try reader.int32())
            if let last = times.last, t <= last { throw Malformed(reason: "its transition times are not ascending") }
            times.append(t)
        }
        var typeIndices: [Int] = []
        for _ in 0..<header.timeCount {
            let index = Int(try reader.byte())
            guard index < header.typeCount else { throw Malformed(reason: "a transition names local time type \(index) of \(header.typeCount)") }
            typeIndices.append(index)
        }
        var typeOffsets: [Int] = []
        for _ in 0..<header.typeCount {
            let offset = Int(try reader.int32())
            // RFC 8536: -89999...93599; anything else is a corrupt file, and would break gap and fold arithmetic.
            guard (-89_999...93_599).contains(offset) else { throw Malformed(reason: "a local time type has offset \(offset) s") }
            typeOffsets.append(offset)
            try reader.skip(2) // isdst, abbreviation index
        }
        try reader.skip(header.charCount + header.standardCount + header.utCount)
        self.init(transitions: times, offsets: typeIndices.map { typeOffsets[$0] }, initialOffset: typeOffsets[0], footer: nil)
    }

    struct Header {
        var version: Int
        var utCount: Int, standardCount: Int, leapCount: Int, timeCount: Int, typeCount: Int, charCount: Int

        func blockSize(timeSize: Int) -> Int {
            timeCount * (timeSize + 1) + typeCount * 6 + charCount + leapCount * (timeSize + 4) + standardCount + utCount
        }
    }

    private struct ByteReader {
        let bytes: [UInt8]
        var index = 0

        mutating func header() throws(Malformed) -> Header {
            guard index + 44 <= bytes.count, bytes[index..<index + 4].elementsEqual("TZif".utf8) else {
                throw Malformed(reason: "it is not a TZif file (no 'TZif' header)")
            }
            let v = bytes[index + 4]
            let version: Int
            switch v {
            case 0: version = 1
            case UInt8(ascii: "2")...UInt8(ascii: "4"): version = Int(v - UInt8(ascii: "0"))
            default: throw Malformed(reason: "TZif version byte \(v) is not 1, 2, 3 or 4")
            }
            index += 20
            var counts: [Int] = []
            for _ in 0..<6 {
                let n = Int(try int32())
                // Sizes beyond the file would make the reads below fail anyway; refuse negative ones early.
                guard n >= 0, n <= bytes.count else { throw Malformed(reason: "its header counts are out of range") }
                counts.append(n)
            }
            let header = Header(version: version, utCount: counts[0], standardCount: counts[1], leapCount: counts[2],
                                timeCount: counts[3], typeCount: counts[4], charCount: counts[5])
            guard header.typeCount <= 256, header.utCount == 0 || header.utCount == header.typeCount,
                  header.standardCount == 0 || header.standardCount == header.typeCount
            else { throw Malformed(reason: "its header counts are inconsistent") }
            return header
        }

        mutating func skip(_ n: Int) throws(Malformed) {
            guard n >= 0, index + n <= bytes.count else { throw Malformed(reason: "it ends early") }
            index += n
        }

        mutating func byte() throws(Malformed) -> UInt8 {
            guard index < bytes.count else { throw Malformed(reason: "it ends early") }
            index += 1
            return bytes[index - 1]
        }

        mutating func int32() throws(Malformed) -> Int32 {
            var value: UInt32 = 0
            for _ in 0..<4 { value = value << 8 | UInt32(try byte()) }
            return Int32(bitPattern: value)
        }

        mutating func int64() throws(Malformed) -> Int64 {
            var value: UInt64 = 0
            for _ in 0..<8 { value = value << 8 | UInt64(try byte()) }
            return Int64(bitPattern: value)
        }
    }
}
