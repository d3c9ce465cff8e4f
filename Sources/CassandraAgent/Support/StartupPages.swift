#if canImport(Glibc)
import Glibc
#endif

/// Gives back the pages of code and read-only data that only start-up touched:
/// argument parsing, the settings schema, the first reconcile and its render.
///
/// Why: on a database host the agent's resident memory is mostly pages of its own
/// binary and of the libraries it maps, and the kernel maps them in blocks of
/// 64–256 KiB around each instruction run (fault-around and large page-cache
/// folios), so the one-off start-up code alone holds about 10 MiB resident.
/// `MADV_PAGEOUT` (Linux 5.4) reclaims those clean pages; the idle loop faults back
/// in only what it runs, from the page cache or the disk. Only mappings that are
/// file-backed and not writable are advised, and `MADV_PAGEOUT` never discards data:
/// a page the dynamic linker relocated goes to swap or stays, where `MADV_DONTNEED`
/// would silently revert it to the file's bytes. So this cannot change what the
/// process computes. It takes a few milliseconds, once.
/// Pages that another process also maps (libc) are left where they are.
public enum StartupPages {
    /// Advises every file-backed, read-only mapping of this process; returns the
    /// bytes advised, or nil where the kernel or the platform cannot.
    @discardableResult
    public static func release() -> Int? {
        #if os(Linux)
        guard let maps = try? FileIO.readText("/proc/self/maps") else { return nil }
        var advised = 0
        for range in releasableRanges(maps) {
            guard let start = UnsafeMutableRawPointer(bitPattern: range.start) else { continue }
            // Faults after this read the one page they need, not 128 KiB around it:
            // otherwise the idle loop would read its way back to most of the binary.
            _ = madvise(start, Int(range.end - range.start), MADV_RANDOM)
            // EINVAL on kernels before 5.4: nothing is released, nothing breaks.
            guard madvise(start, Int(range.end - range.start), pageOutAdvice) == 0 else { return advised == 0 ? nil : advised }
            advised += Int(range.end - range.start)
        }
        return advised
        #else
        return nil
        #endif
    }

    /// MADV_PAGEOUT, which Glibc's headers on older distributions do not name.
    static let pageOutAdvice: Int32 = 21

    /// The mappings of a /proc/PID/maps text that are backed by a file and not
    /// writable (code, constants, the Swift type metadata), without the kernel's own.
    static func releasableRanges(_ maps: String) -> [(start: UInt, end: UInt)] {
        maps.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5].hasPrefix("/"), fields[1].count == 4,
                  !fields[1].contains("w") else { return nil }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                  end > start else { return nil }
            return (start, end)
        }
    }
}
