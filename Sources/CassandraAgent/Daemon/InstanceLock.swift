#if canImport(Glibc)
import Glibc
#endif

/// One agent per state directory: a second `cassandra-agent run` with the same
/// config would take over the socket and race the first on every install.
/// The lock is an flock on `<stateDirectory>/agent.lock`, released by the
/// kernel when the process ends however it ends; the file names the holder.
public final class InstanceLock: Sendable {
    let fd: Int32

    public struct Held: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public init(stateDirectory: String) throws(Held) {
        let path = stateDirectory + "/agent.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Held(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? FileIO.readText(path))?.split(separator: "\n").first.map(String.init) ?? "unknown"
            close(fd)
            throw Held(message: "another cassandra-agent (pid \(holder)) is running with the state directory \(stateDirectory); stop it first (systemctl stop cassandra-agent), or give this one its own --config")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { close(fd) }
}

/// "Restart pending" outlives the agent: it is kept in the state directory,
/// because Cassandra has not read the new files until it restarts, whatever the agent did.
struct RestartPendingStore: Sendable {
    let path: String

    init(stateDirectory: String) {
        path = stateDirectory + "/restart-pending.json"
    }

    func load() -> ReconcileSnapshot.PendingRestart? {
        guard let bytes = try? FileIO.readIfPresent(path) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        // {"since":1733000000.5,"settings":["num_tokens","concurrent_reads"]}
        guard let sinceRange = text.firstRange(of: "\"since\":"),
              let since = Double(text[sinceRange.upperBound...].prefix { $0.isNumber || $0 == "." || $0 == "-" }),
              let open = text.firstRange(of: "\"settings\":[")?.upperBound, let close = text[open...].firstIndex(of: "]")
        else { return nil }
        let settings = text[open..<close].split(separator: ",").map { $0.trimmingCharacters(in: "\" ") }.filter { !$0.isEmpty }
        return .init(since: since, settings: settings)
    }

    func save(_ pending: ReconcileSnapshot.PendingRestart?) {
        guard let pending else {
            unlink(path)
            return
        }
        let settings = pending.settings.map { "\"\($0.replacing("\\", with: "").replacing("\"", with: ""))\"" }.joined(separator: ",")
        try? FileIO.writeAtomically(path, Array("{\"since\":\(pending.since),\"settings\":[\(settings)]}\n".utf8), mode: 0o600)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
