/// Blocking work (file I/O on a destination, on the node's data directories) on a
/// thread of its own, so the cooperative pool never waits on a disk or a socket.
enum BlockingIO {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws(BackupError) -> T) async throws(BackupError) -> T {
        let result: Result<T, BackupError> = await withCheckedContinuation { continuation in
            DedicatedThread.start {
                do throws(BackupError) { continuation.resume(returning: .success(try body())) } catch { continuation.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }

    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DedicatedThread.start { continuation.resume(returning: body()) }
        }
    }
}
