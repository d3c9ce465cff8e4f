#if canImport(Glibc)
import Glibc
#endif

/// Runs a blocking body on a new detached thread.
enum DedicatedThread {
    final class Body: @unchecked Sendable {
        // Written once before the thread starts, read once by it.
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    static func start(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, box)
        guard rc == 0 else {
            // No thread to be had: run here rather than never.
            Unmanaged<Body>.fromOpaque(box).takeRetainedValue().run()
            return
        }
        pthread_detach(thread)
    }
}
