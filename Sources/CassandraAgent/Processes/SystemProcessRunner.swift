import CAgentShims
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs commands for real: posix_spawn in a process group of their own, output
/// captured through pipes up to a limit, a deadline after which the whole group
/// gets SIGTERM and then SIGKILL, cancellation from Swift concurrency, and
/// always a waitpid so no zombie is left.
public struct SystemProcessRunner: ProcessRunner {
    public init() {}

    public func run(_ command: ProcessCommand) async throws(ProcessLaunchError) -> ProcessOutput {
        let cancelled = CancellationFlag()
        let result: Result<ProcessOutput, ProcessLaunchError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // A blocking loop (poll, waitpid) on a thread of its own: Dispatch's global
                // queues are as wide as the cores, so a long repair would starve other commands.
                DedicatedThread.start {
                    continuation.resume(returning: Self.runBlocking(command, cancelled: cancelled))
                }
            }
        } onCancel: {
            cancelled.set()
        }
        return try result.get()
    }

    final class CancellationFlag: Sendable {
        private let flag = Atomic<Bool>(false)
        func set() { flag.store(true, ordering: .releasing) }
        var isSet: Bool { flag.load(ordering: .acquiring) }
    }

    static func runBlocking(_ command: ProcessCommand, cancelled: CancellationFlag) -> Result<ProcessOutput, ProcessLaunchError> {
        guard let path = command.arguments.first, !path.isEmpty else {
            return .failure(ProcessLaunchError(command: command.description, reason: "no program given"))
        }
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        let outError = agent_pipe_cloexec(&outPipe)
        guard outError == 0 else {
            return .failure(ProcessLaunchError(command: command.description, reason: String(cString: strerror(outError))))
        }
        let errError = agent_pipe_cloexec(&errPipe)
        guard errError == 0 else {
            close(outPipe[0]); close(outPipe[1])
            return .failure(ProcessLaunchError(command: command.description, reason: String(cString: strerror(errError))))
        }
        let start = ContinuousClock.now
        var pid: pid_t = 0
        let spawnResult = withCStrings(command.arguments) { argv in
            withCStrings(environmentStrings(command.environment)) { envp in
                agent_spawn(&pid, path, argv, envp, outPipe[1], errPipe[1], command.workingDirectory)
            }
        }
        close(outPipe[1]); close(errPipe[1])
        guard spawnResult == 0 else {
            close(outPipe[0]); close(errPipe[0])
            let reason = spawnResult == ENOENT ? "no such file" : String(cString: strerror(spawnResult))
            return .failure(ProcessLaunchError(command: command.description, reason: reason))
        }

        var streams = [Stream(fd: outPipe[0], limit: command.outputLimit), Stream(fd: errPipe[0], limit: command.outputLimit)]
        let deadline = start + command.timeout
        var killAt: ContinuousClock.Instant?
        var timedOut = false, wasCancelled = false
        var status: Int32 = 0, exited = false
        var exitedAt: ContinuousClock.Instant?

        while true {
            var fds = streams.filter { $0.open }.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if !fds.isEmpty {
                _ = poll(&fds, nfds_t(fds.count), 50)
                for pfd in fds where pfd.revents != 0 {
                    if let i = streams.firstIndex(where: { $0.fd == pfd.fd }) { streams[i].drain() }
                }
            } else if !exited {
                usleep(20_000)
            }
            if !exited, waitpid(pid, &status, WNOHANG) == pid {
                exited = true
                exitedAt = .now
            }
            let now = ContinuousClock.now
            if exited {
                // Done when the pipes are closed, or shortly after the child left if a
                // straggler it started still holds them: end the group, stop reading.
                if streams.allSatisfy({ !$0.open }) { break }
                if let at = exitedAt, now - at > .milliseconds(500) {
                    kill(-pid, SIGKILL)
                    for i in streams.indices { streams[i].drain(); streams[i].close() }
                    break
                }
                continue
            }
            if killAt == nil, now >= deadline || cancelled.isSet {
                timedOut = now >= deadline
                wasCancelled = !timedOut
                kill(-pid, SIGTERM)
                killAt = now + command.killGrace
            } else if let at = killAt, now >= at {
                kill(-pid, SIGKILL)
                killAt = now + .seconds(3600)
            }
        }
        if killAt != nil { kill(-pid, SIGKILL) }  // children of a killed child go too
        for i in streams.indices { streams[i].close() }

        let signalled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        return .success(ProcessOutput(
            exitCode: signalled ? nil : (status >> 8) & 0xff,
            signal: signalled ? status & 0x7f : nil,
            stdout: String(decoding: streams[0].data, as: UTF8.self),
            stderr: String(decoding: streams[1].data, as: UTF8.self),
            stdoutTruncated: streams[0].truncated, stderrTruncated: streams[1].truncated,
            timedOut: timedOut, cancelled: wasCancelled, duration: ContinuousClock.now - start))
    }

    struct Stream {
        let fd: Int32
        let limit: Int
        var data: [UInt8] = []
        var truncated = false
        var open = true

        init(fd: Int32, limit: Int) {
            self.fd = fd
            self.limit = limit
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }

        /// Reads what is there; past the limit it keeps reading (so the child never
        /// blocks on a full pipe) but keeps nothing.
        mutating func drain() {
            guard open else { return }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    let room = max(0, limit - data.count)
                    data.append(contentsOf: buffer[0..<min(n, room)])
                    if n > room { truncated = true }
                    continue
                }
                if n == 0 || (errno != EAGAIN && errno != EINTR) { close() }
                return
            }
        }

        mutating func close() {
            if open { Glibc.close(fd) }
            open = false
        }
    }

    static func environmentStrings(_ environment: [String: String]?) -> [String] {
        guard let environment else {
            var result: [String] = []
            var pointer = environ
            while let entry = pointer.pointee {
                result.append(String(cString: entry))
                pointer += 1
            }
            return result
        }
        return environment.map { "\($0.key)=\($0.value)" }.sorted()
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
