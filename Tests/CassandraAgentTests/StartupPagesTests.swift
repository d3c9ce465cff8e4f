import Foundation
import Testing
@testable import CassandraAgent

/// The daemon gives back the pages only start-up used (issue 8, item 12). The
/// memory it saves is measured by bench/memory.py; here, that the mechanism
/// releases read-only file pages, leaves everything else alone, and changes no byte.
@Suite struct StartupPagesTests {
    @Test func onlyReadOnlyFileMappingsAreReleased() {
        let maps = """
        55d0c0000000-55d0c0533000 r--p 00000000 fe:01 1234 /usr/bin/cassandra-agent
        55d0c0533000-55d0c14df000 r-xp 00532000 fe:01 1234 /usr/bin/cassandra-agent
        55d0c14df000-55d0c156e000 rw-p 014dd000 fe:01 1234 /usr/bin/cassandra-agent
        55d0c2000000-55d0c2100000 rw-p 00000000 00:00 0    [heap]
        7f0000000000-7f0000021000 rw-p 00000000 00:00 0
        7f0000100000-7f0000128000 r--p 00000000 fe:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6
        7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0    [vdso]
        """
        let ranges = StartupPages.releasableRanges(maps)
        #expect(ranges.map(\.start) == [0x55d0c0000000, 0x55d0c0533000, 0x7f0000100000])
        #expect(ranges.map(\.end) == [0x55d0c0533000, 0x55d0c14df000, 0x7f0000128000])
    }

    @Test func releasedPagesLeaveResidentMemoryAndComeBackIntact() throws {
        // On the package's disk rather than /tmp, which may be a tmpfs: its pages
        // are swap-backed, and without swap the kernel keeps them resident.
        var template = Array((Paths.packageRoot + "/.build/startup-pages-XXXXXX").utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        defer { FileIO.removeTree(directory) }
        let size = 8 << 20
        var bytes = [UInt8](repeating: 0, count: size)
        var generator = SplitMix64(seed: 12)
        for index in stride(from: 0, to: size, by: 8) {
            withUnsafeBytes(of: generator.next()) { word in
                for offset in 0..<8 { bytes[index + offset] = word[offset] }
            }
        }
        let path = directory + "/code"
        try FileIO.writeNew(path, bytes, mode: 0o600)   // fsynced: clean pages the kernel may reclaim
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        let mapping = try #require(mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0))
        #expect(mapping != MAP_FAILED)
        defer { munmap(mapping, size) }
        let pointer = mapping.assumingMemoryBound(to: UInt8.self)
        func checksum() -> UInt64 {
            var sum: UInt64 = 0
            for index in stride(from: 0, to: size, by: 4096) { sum = sum &* 31 &+ UInt64(pointer[index]) }
            return sum
        }
        let before = checksum()
        let start = UInt(bitPattern: mapping)
        #expect(try residentKiB(of: start) >= 7 * 1024)

        let advised = try #require(StartupPages.release(), "MADV_PAGEOUT refused (Linux before 5.4?)")
        #expect(advised >= size)
        #expect(try residentKiB(of: start) < 1024)
        #expect(checksum() == before)
    }

    /// The Rss of the mapping that starts at an address, from /proc/self/smaps.
    func residentKiB(of start: UInt) throws -> Int {
        let smaps = try FileIO.readText("/proc/self/smaps", limit: 64 << 20)
        let header = String(start, radix: 16) + "-"
        var inMapping = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 5, fields[0].contains("-"), !fields[0].hasSuffix(":") {
                inMapping = line.hasPrefix(header)
            } else if inMapping, line.hasPrefix("Rss:") {
                return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
            }
        }
        throw SystemError("find the test's mapping in /proc/self/smaps", path: header, code: ENOENT)
    }
}
