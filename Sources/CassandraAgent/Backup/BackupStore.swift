#if canImport(Glibc)
import Glibc
#endif

/// Where keys live in a destination, per node (host ID):
///
///     <host ID>/objects/<first 2 hex>/<SHA-256>   every file, byte-identical, named by its content
///     <host ID>/backups/<backup ID>.json          the manifest: the backup exists only once this does
///     <host ID>/backups/<backup ID>.damaged       written by verify: what is wrong (retention does not count it)
///     <host ID>/pending/<backup ID>.json          objects a running backup references (spared by garbage collection)
public enum BackupLayout {
    public static func object(_ host: String, _ sha256: String) -> String { "\(host)/objects/\(sha256.prefix(2))/\(sha256)" }
    public static func manifest(_ host: String, _ id: String) -> String { "\(host)/backups/\(id).json" }
    public static func damaged(_ host: String, _ id: String) -> String { "\(host)/backups/\(id).damaged" }
    public static func pending(_ host: String, _ id: String) -> String { "\(host)/pending/\(id).json" }
    public static func objects(_ host: String) -> String { "\(host)/objects/" }
    public static func backups(_ host: String) -> String { "\(host)/backups/" }
    public static func pendings(_ host: String) -> String { "\(host)/pending/" }

    /// The SHA-256 an object key names, or nil for other keys (temporary files).
    public static func sha256(ofObjectKey key: String) -> String? {
        let name = FileIO.baseName(key)
        return name.count == 64 && name.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) ? name : nil
    }
}

public struct StoredObject: Sendable, Equatable {
    public var key: String
    public var size: Int64
    /// Seconds since the epoch.
    public var modified: Double
}

/// What storing one file did.
public struct StoredFile: Sendable, Equatable {
    public var sha256: String
    public var size: Int64
    /// false: the destination already held this content; nothing was written.
    public var uploaded: Bool
}

/// What a long transfer consults: cancellation, a bandwidth limit, progress.
public struct TransferContext: Sendable {
    public var cancelled: @Sendable () -> Bool
    public var limiter: ByteRateLimiter?
    public var progress: @Sendable (Int64) -> Void

    public init(cancelled: @escaping @Sendable () -> Bool = { false }, limiter: ByteRateLimiter? = nil, progress: @escaping @Sendable (Int64) -> Void = { _ in }) {
        self.cancelled = cancelled
        self.limiter = limiter
        self.progress = progress
    }

    static let chunk = 1 << 20
}

/// A backup destination. Blocking calls: the service runs them on a dedicated thread.
public protocol BackupObjectStore: Sendable {
    var description: String { get }
    /// Fails at once, with the reason, when nothing can be written there.
    func checkWritable() throws(BackupError)
    func size(of key: String) throws(BackupError) -> Int64?
    /// Stores small documents (manifests) atomically.
    func put(_ key: String, _ bytes: [UInt8]) throws(BackupError)
    func get(_ key: String) throws(BackupError) -> [UInt8]?
    /// Every key under `prefix`, at any depth.
    func list(_ prefix: String) throws(BackupError) -> [StoredObject]
    /// The first path component of every key: the hosts with something stored. One listing
    /// of names, not of every object (a shared bucket holds millions).
    func hosts() throws(BackupError) -> [String]
    func delete(_ key: String) throws(BackupError)
    /// Stores the file at `path` as the object named by its SHA-256 under `host`, unless it is stored already.
    func storeFile(_ path: String, host: String, knownSHA256: String?, context: TransferContext) throws(BackupError) -> StoredFile
    /// Streams an object's bytes to `body`.
    func read(_ key: String, context: TransferContext, _ body: (UnsafeRawBufferPointer) throws(BackupError) -> Void) throws(BackupError)
    /// How many files the uploader stores at once.
    var concurrency: Int { get }
}

/// Runs `body(i)` for every i in 0..<count on `width` threads (this one included); returns when all are done.
enum Parallel {
    final class Worker: @unchecked Sendable {
        // Written once before the thread starts, read by it.
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    static func forEach(_ count: Int, width: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let next = Published(0)
        let work: @Sendable () -> Void = {
            while true {
                let index = next.update { value -> Int in
                    defer { value += 1 }
                    return value
                }
                if index >= count { return }
                body(index)
            }
        }
        var threads: [pthread_t] = []
        for _ in 1..<max(1, min(width, count)) {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(Worker(work)).toOpaque()
            if pthread_create(&thread, nil, { raw in
                Unmanaged<Worker>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, box) == 0 {
                threads.append(thread)
            } else {
                Unmanaged<Worker>.fromOpaque(box).release()
            }
        }
        work()
        for thread in threads { pthread_join(thread, nil) }
    }
}

/// Bandwidth limit for reads of the node's files (`backup.bandwidth`): sleeps so
/// that the bytes read never run ahead of the rate.
public final class ByteRateLimiter: Sendable {
    let bytesPerSecond: Double
    private let state = Published<(start: Double?, bytes: Double)>((nil, 0))

    public init(bytesPerSecond: Int) {
        self.bytesPerSecond = Double(bytesPerSecond)
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    public func consume(_ count: Int) {
        let now = Self.monotonic()
        let ahead = state.update { value -> Double in
            let start = value.start ?? now
            value.start = start
            value.bytes += Double(count)
            return value.bytes / bytesPerSecond - (now - start)
        }
        if ahead > 0.001 { usleep(useconds_t(min(ahead, 10) * 1_000_000)) }
    }
}
