import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Asks the running agent over its unix socket (`cassandra-agent status`).
public enum StatusClient {
    public struct Unreachable: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The HTTP status and body of `GET path`.
    public static func get(_ path: String, socket: String, timeoutSeconds: Int = 5) throws(Unreachable) -> (status: Int, body: String) {
        try request("GET", path, socket: socket, timeoutSeconds: timeoutSeconds)
    }

    /// The HTTP status and body of `METHOD path` (no request body: parameters go in the query).
    public static func request(_ method: String, _ path: String, socket: String, timeoutSeconds: Int = 5) throws(Unreachable) -> (status: Int, body: String) {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Unreachable(message: "cannot create a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socket.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw Unreachable(message: "socket path too long: \(socket)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            throw Unreachable(message: "the agent does not answer on \(socket): \(String(cString: strerror(errno))); is cassandra-agent running (systemctl status cassandra-agent)?")
        }
        FileIO.writeAll(fd: fd, "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Unreachable(message: "the agent on \(socket) did not answer in \(timeoutSeconds) s") }
            if n == 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.firstRange(of: "\r\n\r\n"), let statusLine = text.split(separator: "\r\n").first else {
            throw Unreachable(message: "the agent on \(socket) sent no HTTP answer")
        }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Unreachable(message: "malformed answer from \(socket)") }
        return (status, String(text[split.upperBound...]))
    }
}
