#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An operating-system call that failed, with the path and errno text.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var code: Int32

    public init(_ operation: String, path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String {
        "cannot \(operation) \(path): \(String(cString: strerror(code)))"
    }

    public var isNotFound: Bool { code == ENOENT }
}

/// Small, direct file operations (no Foundation): the installer needs fsync,
/// fchown and rename semantics that higher-level APIs hide.
public enum FileIO {
    public static func read(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("read", path: path) }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path: path)
            }
            if n == 0 { break }
            result.append(contentsOf: buffer[0..<n])
        }
        return result
    }

    public static func readText(_ path: String) throws(SystemError) -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// The file's bytes, or nil when it does not exist.
    public static func readIfPresent(_ path: String) throws(SystemError) -> [UInt8]? {
        do {
            return try read(path)
        } catch where error.isNotFound {
            return nil
        }
    }

    /// Writes all of `text` to a descriptor (standard output and error from the executables).
    public static func writeAll(fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func status(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    /// Creates `path` and its parents as needed.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        if isDirectory(path) { return }
        let parent = directoryName(path)
        if parent != path, !parent.isEmpty { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw SystemError("create directory", path: path) }
    }

    public static func list(_ directory: String) throws(SystemError) -> [String] {
        guard let dir = opendir(directory) else { throw SystemError("list", path: directory) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func removeTree(_ path: String) {
        guard let st = status(path) else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in (try? list(path)) ?? [] { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    public static func fsyncDirectory(_ path: String) throws(SystemError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open directory", path: path) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw SystemError("fsync directory", path: path) }
    }

    /// Writes a whole new file (failing if it exists), then fsyncs it unless `durable` is false.
    public static func writeNew(_ path: String, _ bytes: [UInt8], mode: mode_t, owner: uid_t? = nil, group: gid_t? = nil, durable: Bool = true) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError("create", path: path) }
        var failure: SystemError?
        var offset = 0
        while offset < bytes.count, failure == nil {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno != EINTR { failure = SystemError("write", path: path) }
            } else {
                offset += n
            }
        }
        // The umask may have narrowed the mode; ownership before the rename so the file is never world-visible.
        if failure == nil, fchmod(fd, mode) != 0 { failure = SystemError("set the mode of", path: path) }
        if failure == nil, owner != nil || group != nil, fchown(fd, owner ?? uid_t.max, group ?? gid_t.max) != 0 {
            failure = SystemError("set the owner of", path: path)
        }
        if failure == nil, durable, fsync(fd) != 0 { failure = SystemError("fsync", path: path) }
        close(fd)
        if let failure {
            unlink(path)
            throw failure
        }
    }

    /// Replaces `path` atomically: temp file in the same directory, fsync, rename, fsync the directory.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t, owner: uid_t? = nil, group: gid_t? = nil) throws(SystemError) {
        let temp = temporaryPath(for: path)
        try writeNew(temp, bytes, mode: mode, owner: owner, group: group)
        if rename(temp, path) != 0 {
            let failure = SystemError("replace", path: path)
            unlink(temp)
            throw failure
        }
        try fsyncDirectory(directoryName(path))
    }

    /// Replaces `path` atomically (temp file and rename) without syncing to disk:
    /// for the simulated cluster's files, where readers need atomicity, not durability.
    public static func replace(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(SystemError) {
        let temp = temporaryPath(for: path)
        try writeNew(temp, bytes, mode: mode, durable: false)
        if rename(temp, path) != 0 {
            let failure = SystemError("replace", path: path)
            unlink(temp)
            throw failure
        }
    }

    static func temporaryPath(for path: String) -> String {
        "\(directoryName(path))/.\(baseName(path)).cassandra-agent-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
    }

    public static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
