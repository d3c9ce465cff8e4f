#if canImport(Glibc)
import Glibc
#endif

/// The blocking socket calls of the S3 client, plain or under TLS: a TCP
/// connection with the send and receive timeouts set on the socket (connect
/// honours the send timeout on Linux), writes that never raise SIGPIPE, and
/// errors that name the peer and say what timed out.
struct SocketIO {
    let fd: Int32
    let host: String
    let port: Int
    let timeoutSeconds: Int

    /// A connection to the first address of `host` that answers.
    static func connect(host: String, port: Int, timeoutSeconds: Int) throws(BackupError) -> SocketIO {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else { throw BackupError("cannot resolve \(host): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(result) }
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        var lastError = ECONNREFUSED
        while let info = cursor {
            let s = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if s >= 0 {
                var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
                setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var one: Int32 = 1
                setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                if Glibc.connect(s, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    return SocketIO(fd: s, host: host, port: port, timeoutSeconds: timeoutSeconds)
                }
                lastError = errno == EINPROGRESS ? ETIMEDOUT : errno
                Glibc.close(s)
            }
            cursor = info.pointee.ai_next
        }
        throw BackupError("cannot connect to \(host):\(port): \(String(cString: strerror(lastError)))")
    }

    func close() { _ = Glibc.close(fd) }

    func sendAll(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw BackupError("cannot send to \(host):\(port): it took no data for \(timeoutSeconds) s")
                }
                throw BackupError("cannot send to \(host):\(port): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// Some bytes into `buffer`; 0 when the peer closed the connection.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                throw BackupError("no answer from \(host):\(port) within \(timeoutSeconds) s")
            }
            throw BackupError("no answer from \(host):\(port): \(String(cString: strerror(errno)))")
        }
    }
}

extension BackupError {
    /// `withUnsafeBytes` and the like rethrow `any Error`: this gives the BackupError thrown inside back its type.
    static func typed<T>(_ body: () throws -> T) throws(BackupError) -> T {
        do {
            return try body()
        } catch let error as BackupError {
            throw error
        } catch {
            throw BackupError("\(error)")
        }
    }
}
