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
    /// What is wrong, when the errno text alone would not say it (not a regular file, too large).
    public var detail: String?

    public init(_ operation: String, path: String, code: Int32 = errno, detail: String? = nil) {
        self.operation = operation
        self.path = path
        self.code = code
        self.detail = detail
    }

    public var description: String {
        "cannot \(operation) \(path): \(detail ?? String(cString: strerror(code)))"
    }

    public var isNotFound: Bool { code == ENOENT }
}

/// Small, direct file operations (no Foundation): the installer needs fsync,
/// fchown and rename semantics that higher-level APIs hide.
public enum FileIO {
    /// The largest input file the agent reads (desired state, agent.yaml, TLS inputs,
    /// password and credential files): far above any real one, small enough that a
    /// hostile file costs neither memory nor time.
    public static let inputSizeLimit = 4 << 20

    /// A regular file's bytes (a symlink to one is fine), at most `limit` bytes.
    /// Opened non-blocking and checked with fstat before anything is read, so a FIFO,
    /// a device (/dev/zero, /dev/urandom), a socket or a directory is refused at once
    /// instead of blocking or growing without end.
    public static func read(_ path: String, limit: Int = inputSizeLimit) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw SystemError("read", path: path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SystemError("read", path: path) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw SystemError("read", path: path, code: EINVAL, detail: "it is \(kind(of: st.st_mode)), not a regular file; the agent reads only regular files (a symlink to one is fine)")
        }
        guard st.st_size <= limit else {
            throw SystemError("read", path: path, code: EFBIG, detail: "it is \(st.st_size) bytes; the limit is \(sizeText(limit))")
        }
        var result: [UInt8] = []
        result.reserveCapacity(Int(st.st_size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path: path)
            }
            if n == 0 { break }
            // A file that grows while it is read is held to the limit too.
            guard result.count + n <= limit else {
                throw SystemError("read", path: path, code: EFBIG, detail: "it is larger than the limit of \(sizeText(limit))")
            }
            result.append(contentsOf: buffer[0..<n])
        }
        return result
    }

    static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }

    static func sizeText(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }

    /// The file as text, invalid UTF-8 replaced: for files the agent wrote itself.
    /// Input files go through `SourceText.decode`, which refuses invalid UTF-8.
    public static func readText(_ path: String, limit: Int = inputSizeLimit) throws(SystemError) -> String {
        String(decoding: try read(path, limit: limit), as: UTF8.self)
    }

    /// The file's bytes, or nil when it does not exist.
    public static func readIfPresent(_ path: String, limit: Int = inputSizeLimit) throws(SystemError) -> [UInt8]? {
        do {
            return try read(path, limit: limit)
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
