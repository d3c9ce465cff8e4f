import CAgentShims
#if canImport(Glibc)
import Glibc
#endif

/// A `file:///PATH` destination (an NFS mount, as a rule). Every write goes to
/// a temporary name in the destination, is fsynced, then renamed into place and
/// the directory fsynced: a crash leaves a whole object or none, never a partial
/// one under an object's name.
public struct FileObjectStore: BackupObjectStore {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public var description: String { "file://\(root)" }

    /// Two files at once: one hashes while the other waits on the disk.
    public var concurrency: Int { 2 }

    func path(_ key: String) -> String { "\(root)/\(key)" }

    public func checkWritable() throws(BackupError) {
        do {
            try FileIO.makeDirectories(root, mode: 0o750)
        } catch {
            throw explain(error, "create the destination directory")
        }
        let probe = "\(root)/.cassandra-agent-write-test-\(getpid())"
        do {
            // A probe of the permissions, deleted at once: nothing to make durable.
            try FileIO.writeNew(probe, [], mode: 0o600, durable: false)
            unlink(probe)
        } catch {
            throw explain(error, "write into the destination")
        }
    }

    /// EROFS under the unit's sandbox is the common case; say what to do about it.
    func explain(_ error: SystemError, _ what: String) -> BackupError {
        var text = "cannot \(what) \(description): \(error)"
        if error.code == EROFS || error.code == EACCES || error.code == EPERM {
            text += ". The agent runs with ProtectSystem=strict: a file:// destination outside /var/backups/cassandra-agent and /var/lib/cassandra-agent needs a drop-in with ReadWritePaths=\(root) (systemctl edit cassandra-agent), and the directory must be writable by the agent's user"
        }
        return BackupError(text)
    }

    public func size(of key: String) throws(BackupError) -> Int64? {
        var st = stat()
        guard stat(path(key), &st) == 0 else {
            if errno == ENOENT { return nil }
            throw BackupError("cannot read \(description)/\(key): \(String(cString: strerror(errno)))")
        }
        return Int64(st.st_size)
    }

    public func put(_ key: String, _ bytes: [UInt8]) throws(BackupError) {
        let file = path(key)
        do {
            try FileIO.makeDirectories(FileIO.directoryName(file), mode: 0o750)
            try FileIO.writeAtomically(file, bytes, mode: 0o640)
        } catch {
            throw explain(error, "store \(key) in")
        }
    }

    public func get(_ key: String) throws(BackupError) -> [UInt8]? {
        do {
            return try FileIO.readIfPresent(path(key))
        } catch {
            throw BackupError("cannot read \(description)/\(key): \(error)")
        }
    }

    public func hosts() throws(BackupError) -> [String] {
        do {
            return try FileIO.list(root).filter { !$0.hasPrefix(".") && FileIO.isDirectory(path($0)) }.sorted()
        } catch where error.isNotFound {
            return []
        } catch {
            throw BackupError("cannot list \(description): \(error)")
        }
    }

    public func list(_ prefix: String) throws(BackupError) -> [StoredObject] {
        // Keys are listed from the directory the prefix names; a prefix ends at a '/'.
        let directory = prefix.hasSuffix("/") ? String(prefix.dropLast()) : FileIO.directoryName(prefix)
        var result: [StoredObject] = []
        func walk(_ relative: String) throws(BackupError) {
            let full = path(relative)
            let names: [String]
            do {
                names = try FileIO.list(full)
            } catch where error.isNotFound {
                return
            } catch {
                throw BackupError("cannot list \(description)/\(relative): \(error)")
            }
            for name in names {
                let key = "\(relative)/\(name)"
                guard let st = FileIO.status(path(key)) else { continue }
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    try walk(key)
                } else if (st.st_mode & S_IFMT) == S_IFREG, key.hasPrefix(prefix) {
                    result.append(StoredObject(key: key, size: Int64(st.st_size), modified: Double(st.st_mtim.tv_sec)))
                }
            }
        }
        try walk(directory)
        return result.sorted { $0.key < $1.key }
    }

    public func delete(_ key: String) throws(BackupError) {
        if unlink(path(key)) != 0 && errno != ENOENT {
            throw BackupError("cannot delete \(description)/\(key): \(String(cString: strerror(errno)))")
        }
    }

    public func storeFile(_ source: String, host: String, knownSHA256: String?, context: TransferContext) throws(BackupError) -> StoredFile {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BackupError("cannot read \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        var st = stat()
        fstat(input, &st)
        let expected = Int64(st.st_size)
        if let knownSHA256, try size(of: BackupLayout.object(host, knownSHA256)) == expected {
            return StoredFile(sha256: knownSHA256, size: expected, uploaded: false)
        }
        let objects = path(BackupLayout.objects(host))
        do {
            try FileIO.makeDirectories(objects, mode: 0o750)
        } catch {
            throw explain(error, "create the objects directory of")
        }
        let temp = "\(objects)/.upload-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let output = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard output >= 0 else { throw explain(SystemError("create", path: temp), "write into") }
        var keep = false
        defer {
            close(output)
            if !keep { unlink(temp) }
        }
        let hasher = SHA256.Hasher()
        var total: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: TransferContext.chunk)
        // Write-behind (Linux): what is written is sent to the disk while the next range is read and
        // hashed, so the fsync below finds little left; without it, hashing and the disk took turns.
        var writeBehind = WriteBehind(fd: output)
        while true {
            if context.cancelled() { throw BackupError("cancelled") }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BackupError("cannot read \(source): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            context.limiter?.consume(n)
            let failure = buffer.withUnsafeBytes { raw -> BackupError? in
                let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<n])
                hasher.update(chunk)
                var offset = 0
                while offset < n {
                    let written = Glibc.write(output, chunk.baseAddress! + offset, n - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return explain(SystemError("write", path: temp), "write into")
                    }
                    offset += written
                }
                return nil
            }
            if let failure { throw failure }
            total += Int64(n)
            writeBehind.wrote(upTo: total)
            context.progress(Int64(n))
        }
        // SSTables never change once written: a size that moved means this is not one, or the disk lies.
        guard total == expected else {
            throw BackupError("\(source) changed while it was read (\(expected) bytes at open, \(total) read); it is not stored")
        }
        let sha = hasher.finalHex()
        let key = BackupLayout.object(host, sha)
        if try size(of: key) == total {
            return StoredFile(sha256: sha, size: total, uploaded: false)
        }
        guard fsync(output) == 0 else { throw explain(SystemError("fsync", path: temp), "write into") }
        let final = path(key)
        do {
            try FileIO.makeDirectories(FileIO.directoryName(final), mode: 0o750)
        } catch {
            throw explain(error, "create a directory in")
        }
        guard rename(temp, final) == 0 else { throw explain(SystemError("rename", path: final), "store an object in") }
        keep = true
        do {
            try FileIO.fsyncDirectory(FileIO.directoryName(final))
        } catch {
            throw explain(error, "sync")
        }
        return StoredFile(sha256: sha, size: total, uploaded: true)
    }

    public func read(_ key: String, context: TransferContext, _ body: (UnsafeRawBufferPointer) throws(BackupError) -> Void) throws(BackupError) {
        let file = path(key)
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BackupError("cannot read \(description)/\(key): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: TransferContext.chunk)
        while true {
            if context.cancelled() { throw BackupError("cancelled") }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BackupError("cannot read \(description)/\(key): \(String(cString: strerror(errno)))")
            }
            if n == 0 { return }
            context.limiter?.consume(n)
            let failure = buffer.withUnsafeBytes { raw -> BackupError? in
                do throws(BackupError) { try body(UnsafeRawBufferPointer(rebasing: raw[0..<n])) } catch { return error }
                return nil
            }
            if let failure { throw failure }
            context.progress(Int64(n))
        }
    }
}

/// Sends a file being written in sequence to the disk a window at a time, and lets
/// the window before go from the page cache once it is there: a backup of hundreds
/// of GiB neither piles up dirty pages nor evicts the database's cached data with
/// its own copies. A filesystem that cannot (NFS may not) just skips it; the final
/// fsync still makes the file durable.
struct WriteBehind {
    static let window: Int64 = 8 << 20
    let fd: Int32
    var started: Int64 = 0
    var settled: Int64 = 0
    var supported = true

    init(fd: Int32) { self.fd = fd }

    mutating func wrote(upTo end: Int64) {
        guard supported, end - started >= Self.window else { return }
        #if os(Linux)
        supported = agent_write_behind(fd, started, end - started, settled, started - settled) == 0
        #endif
        settled = started
        started = end
    }
}
