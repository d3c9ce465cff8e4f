#if canImport(Glibc)
import Glibc
#endif

/// Changes to a set of files, through inotify on their directories: editors and
/// config tools replace files by rename, delete them, or write them in place,
/// and every one of those must wake the agent. Only completed changes count: a
/// rename into place, a close after writing, a deletion; never each write of a
/// file being written (which would install its prefixes).
///
/// The desired-state file is watched from the start; the TLS inputs it names
/// are added as they become known (`watch(_:)`), so a certificate rotated in
/// place reaches Cassandra at once rather than at the next resync.
public final class FileWatcher: Sendable {
    public let path: String
    let fd: Int32
    let events: AsyncStream<Void>
    /// Watch descriptor -> the file names in that directory that matter.
    let watched = Published<[Int32: Set<String>]>([:])

    static let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)

    public init(path: String) throws(SystemError) {
        self.path = path
        fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { throw SystemError("watch", path: FileIO.directoryName(path)) }
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        events = stream
        do {
            try add(path)
        } catch {
            close(fd)
            throw error
        }
        let fd = self.fd
        let watched = self.watched
        DedicatedThread.start {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                // Walk the records; wake only for a watched file (or a watch itself going away).
                var offset = 0, relevant = false
                let names = watched.value
                while offset + 16 <= n {
                    let wd = Int32(buffer[offset]) | Int32(buffer[offset + 1]) << 8 | Int32(buffer[offset + 2]) << 16 | Int32(buffer[offset + 3]) << 24
                    let length = Int(buffer[offset + 12]) | Int(buffer[offset + 13]) << 8 | Int(buffer[offset + 14]) << 16 | Int(buffer[offset + 15]) << 24
                    let nameBytes = buffer[(offset + 16)..<min(n, offset + 16 + length)].prefix { $0 != 0 }
                    if length == 0 || names[wd]?.contains(String(decoding: nameBytes, as: UTF8.self)) == true { relevant = true }
                    offset += 16 + length
                }
                if relevant { continuation.yield() }
            }
            continuation.finish()
        }
    }

    func add(_ file: String) throws(SystemError) {
        let directory = FileIO.directoryName(file)
        let wd = inotify_add_watch(fd, directory, Self.mask)
        guard wd >= 0 else { throw SystemError("watch", path: directory) }
        watched.update { _ = $0[wd, default: []].insert(FileIO.baseName(file)) }
    }

    /// Also watch these files (absolute paths); ones that cannot be watched are left to the resync.
    public func watch(_ files: [String]) {
        for file in files where file.hasPrefix("/") {
            try? add(file)
        }
    }

    /// One element per burst of changes.
    public var changes: AsyncStream<Void> { events }

    deinit { close(fd) }
}
