#if canImport(Glibc)
import Glibc
#endif

/// A small blocking HTTP/1.1 client over one kept-alive TCP connection: what the
/// S3 store needs (requests with a body from memory or streamed from a file,
/// Content-Length and chunked answers), on the store's own thread. Plain http
/// only: an https endpoint needs TLS, which this client does not do yet.
final class HTTPConnection: @unchecked Sendable {
    // @unchecked: one thread at a time uses a connection; S3ObjectStore's pool hands it out.
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    enum Body {
        case bytes([UInt8])
        /// `length` bytes of the open descriptor from its current offset, each chunk handed to `observe` as it is sent.
        case file(fd: Int32, length: Int64, observe: (UnsafeRawBufferPointer) -> Void)
    }

    let host: String
    let port: Int
    let timeoutSeconds: Int
    private var fd: Int32 = -1
    private var pending: [UInt8] = []
    /// Set once a sink got bytes of the answer in flight: such a request is never replayed.
    private var delivered = false

    init(host: String, port: Int, timeoutSeconds: Int = 60) {
        self.host = host
        self.port = port
        self.timeoutSeconds = timeoutSeconds
    }

    deinit { disconnect() }

    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        pending = []
    }

    func connect() throws(BackupError) {
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
                    fd = s
                    return
                }
                lastError = errno
                close(s)
            }
            cursor = info.pointee.ai_next
        }
        throw BackupError("cannot connect to \(host):\(port): \(String(cString: strerror(lastError)))")
    }

    func send(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR { continue }
                throw BackupError("cannot send to \(host):\(port): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    func send(_ bytes: [UInt8]) throws(BackupError) {
        let failure = bytes.withUnsafeBytes { raw -> BackupError? in
            do throws(BackupError) { try send(raw) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    func fill() throws(BackupError) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw BackupError("no answer from \(host):\(port): \(String(cString: strerror(errno)))") }
            if n == 0 { throw BackupError("\(host):\(port) closed the connection") }
            pending.append(contentsOf: buffer[0..<n])
            return
        }
    }

    func line() throws(BackupError) -> String {
        while true {
            if let index = pending.firstIndex(of: 10) {
                let text = String(decoding: pending[..<index], as: UTF8.self)
                pending.removeFirst(index + 1)
                return text.hasSuffix("\r") ? String(text.dropLast()) : text
            }
            try fill()
        }
    }

    func take(_ count: Int) throws(BackupError) -> [UInt8] {
        while pending.count < count { try fill() }
        let bytes = Array(pending[..<count])
        pending.removeFirst(count)
        return bytes
    }

    /// One request; a kept-alive connection the server closed is reopened once.
    /// A 200 answer's body goes to `sink` as it arrives (large objects are never held whole), when one is given.
    typealias Sink = (UnsafeRawBufferPointer) throws(BackupError) -> Void

    func request(_ method: String, _ target: String, headers: [(String, String)], body: Body, sink: Sink? = nil) throws(BackupError) -> Response {
        var retried = false
        delivered = false
        while true {
            do {
                if fd < 0 { try connect() }
                return try exchange(method, target, headers: headers, body: body, sink: sink)
            } catch {
                disconnect()
                // A file body cannot be replayed from here: the caller retries it.
                if retried || delivered { throw error }
                if case .file = body { throw error }
                retried = true
            }
        }
    }

    private func exchange(_ method: String, _ target: String, headers: [(String, String)], body: Body, sink: Sink?) throws(BackupError) -> Response {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(port == 80 ? host : "\(host):\(port)")\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        switch body {
        case .bytes(let bytes): head += "Content-Length: \(bytes.count)\r\n"
        case .file(_, let length, _): head += "Content-Length: \(length)\r\n"
        }
        head += "\r\n"
        try send(Array(head.utf8))
        switch body {
        case .bytes(let bytes):
            if !bytes.isEmpty { try send(bytes) }
        case .file(let input, let length, let observe):
            var left = length
            var buffer = [UInt8](repeating: 0, count: TransferContext.chunk)
            while left > 0 {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, min($0.count, Int(left))) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw BackupError("the file ended \(left) bytes early while it was sent") }
                let failure = buffer.withUnsafeBytes { raw -> BackupError? in
                    let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<n])
                    observe(chunk)
                    do throws(BackupError) { try send(chunk) } catch { return error }
                    return nil
                }
                if let failure { throw failure }
                left -= Int64(n)
            }
        }
        let statusLine = try line()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw BackupError("\(host):\(port) answered something that is not HTTP: '\(statusLine.prefix(80))'")
        }
        var responseHeaders: [String: String] = [:]
        while true {
            let header = try line()
            if header.isEmpty { break }
            guard let colon = header.firstIndex(of: ":") else { continue }
            responseHeaders[header[..<colon].lowercased()] = String(header[header.index(after: colon)...].drop { $0 == " " })
        }
        var bytes: [UInt8] = []
        if method == "HEAD" || status == 204 || status == 304 {
            // No body.
        } else if responseHeaders["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try line()
                guard let size = Int(sizeLine.split(separator: ";").first.map(String.init) ?? "", radix: 16) else {
                    throw BackupError("\(host):\(port) sent a bad chunk size '\(sizeLine.prefix(20))'")
                }
                if size == 0 {
                    while try !line().isEmpty {}
                    break
                }
                bytes += try take(size)
                _ = try line()
            }
        } else if let length = responseHeaders["content-length"].flatMap({ Int($0) }), let sink, status == 200 {
            var left = length
            while left > 0 {
                if pending.isEmpty { try fill() }
                let count = min(left, pending.count)
                delivered = true
                let failure = pending.withUnsafeBytes { raw -> BackupError? in
                    do throws(BackupError) { try sink(UnsafeRawBufferPointer(rebasing: raw[0..<count])) } catch { return error }
                    return nil
                }
                pending.removeFirst(count)
                left -= count
                if let failure {
                    // The rest of the body is still on the wire: this connection cannot be reused.
                    disconnect()
                    throw failure
                }
            }
        } else if let length = responseHeaders["content-length"].flatMap({ Int($0) }) {
            bytes = try take(length)
        } else {
            // Until the server closes.
            while true {
                do { try fill() } catch { break }
            }
            bytes = pending
            pending = []
            disconnect()
        }
        if responseHeaders["connection"]?.lowercased() == "close" { disconnect() }
        return Response(status: status, headers: responseHeaders, body: bytes)
    }
}
