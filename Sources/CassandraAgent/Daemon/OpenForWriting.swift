#if canImport(Glibc)
import Glibc
#endif

/// Whether some process holds a file open for writing (from /proc/PID/fd and
/// fdinfo): a desired-state file being written in place is left alone until
/// its writer closes it, however slowly it writes.
enum OpenForWriting {
    static func check(_ path: String) -> Bool {
        var target = stat()
        guard stat(path, &target) == 0, let proc = opendir("/proc") else { return false }
        defer { closedir(proc) }
        while let entry = readdir(proc) {
            let pid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard pid.first?.isNumber == true else { continue }
            guard let fds = opendir("/proc/\(pid)/fd") else { continue }
            defer { closedir(fds) }
            while let fd = readdir(fds) {
                let name = withUnsafeBytes(of: fd.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                guard name.first?.isNumber == true else { continue }
                var info = stat()
                guard stat("/proc/\(pid)/fd/\(name)", &info) == 0, info.st_dev == target.st_dev, info.st_ino == target.st_ino else { continue }
                // "flags:\t0100001": the access mode is the low two bits of the octal flags.
                guard let text = try? FileIO.readText("/proc/\(pid)/fdinfo/\(name)"),
                      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags:") }),
                      let flags = Int(line.dropFirst("flags:".count).trimmingSpaces, radix: 8)
                else { continue }
                if flags & Int(O_ACCMODE) != Int(O_RDONLY) { return true }
            }
        }
        return false
    }
}
