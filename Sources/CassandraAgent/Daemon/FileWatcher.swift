#if canImport(Glibc)
import Glibc
#endif

/// Changes to one file, through inotify on its directory: editors and config
/// tools replace files by rename, delete them, or write them in place, and
/// every one of those must wake the agent. Only completed changes count: a
/// rename into place, a close after writing, a deletion; never each write of a
/// file being written (which would install its prefixes).
public final class FileWatcher: Sendable {
    public let path: String
    let fd: Int32
    let events: AsyncStream<Void>

    public init(path: String) throws(SystemError) {
        self.path = path
        let directory = FileIO.directoryName(path)
        let name = FileIO.baseName(path)
        fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { throw SystemError("watch", path: directory) }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)
        guard inotify_add_watch(fd, directory, mask) >= 0 else {
            let error = SystemError("watch", path: directory)
            close(fd)
            throw error
        }
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        events = stream
        let fd = self.fd
        DedicatedThread.start {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                // Walk the records; wake only for our file (or the watch itself going away).
                var offset = 0, relevant = false
                while offset + 16 <= n {
                    let length = Int(buffer[offset + 12]) | Int(buffer[offset + 13]) << 8 | Int(buffer[offset + 14]) << 16 | Int(buffer[offset + 15]) << 24
                    let nameBytes = buffer[(offset + 16)..<min(n, offset + 16 + length)].prefix { $0 != 0 }
                    if String(decoding: nameBytes, as: UTF8.self) == name || length == 0 { relevant = true }
                    offset += 16 + length
                }
                if relevant { continuation.yield() }
            }
            continuation.finish()
        }
    }

    /// One element per burst of changes.
    public var changes: AsyncStream<Void> { events }

    deinit { close(fd) }
}
