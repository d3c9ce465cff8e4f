#if canImport(Glibc)
import Glibc
#endif

/// A small blocking HTTP/1.1 client over one kept-alive connection, plain or
/// TLS (https:// endpoints): what the S3 store needs (requests with a body from
/// memory or streamed from a file, Content-Length and chunked answers), on the
/// store's own threads.
final class HTTPConnection: @unchecked Sendable {
    // @unchecked: one thread at a time uses a connection; S3ObjectStore's pool hands it out.
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    enum Body {
        case bytes([UInt8])
        /// `length` bytes of the open descriptor from `offset` (pread: the parts of one file share its descriptor),
        /// each chunk handed to `observe` as it is sent. Replayed on a reopened connection only when nothing observes it.
        case file(fd: Int32, offset: Int64, length: Int64, observe: ((UnsafeRawBufferPointer) -> Void)?)
    }

    let endpoint: S3Endpoint
    /// Set for https:// endpoints.
    let tlsContext: TLSClientContext?
    let timeoutSeconds: Int
    private var socket: SocketIO?
    private var tls: TLSStream?
    private var pending: [UInt8] = []
    private var received = [UInt8](repeating: 0, count: 64 << 10)
    /// What a file body is read into on its way out; allocated by the first one.
    private var outgoing: [UInt8] = []
    /// Set once a sink got bytes of the answer in flight: such a request is never replayed.
    private var delivered = false

    var host: String { endpoint.host }
    var port: Int { endpoint.port }

    init(endpoint: S3Endpoint, tls: TLSClientContext?, timeoutSeconds: Int = 60) {
        self.endpoint = endpoint
        tlsContext = tls
        self.timeoutSeconds = timeoutSeconds
    }

    deinit { disconnect() }

    func disconnect() {
        tls?.shutdown()
        tls = nil
        socket?.close()
        socket = nil
        pending = []
    }

    func connect() throws(BackupError) {
        let opened = try SocketIO.connect(host: host, port: port, timeoutSeconds: timeoutSeconds)
        if let tlsContext {
            do {
                tls = try TLSStream(context: tlsContext, socket: opened)
            } catch {
                opened.close()
                throw error
            }
        }
        socket = opened
    }

    func send(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        guard let socket else { throw BackupError("not connected to \(host):\(port)") }
        if let tls { try tls.write(bytes) } else { try socket.sendAll(bytes) }
    }

    func send(_ bytes: [UInt8]) throws(BackupError) {
        try BackupError.typed { try bytes.withUnsafeBytes { try send($0) } }
    }

    func fill() throws(BackupError) {
        guard let socket else { throw BackupError("not connected to \(host):\(port)") }
        let tls = self.tls
        let n = try BackupError.typed {
            try received.withUnsafeMutableBytes { raw in
                if let tls { return try tls.read(into: raw) }
                return try socket.receive(into: raw)
            }
        }
        if n == 0 { throw BackupError("\(host):\(port) closed the connection") }
        pending.append(contentsOf: received[0..<n])
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
            // Only a kept-alive connection is worth a second try: the server may have closed it while it was idle.
            let reused = socket != nil
            do {
                if !reused { try connect() }
                return try exchange(method, target, headers: headers, body: body, sink: sink)
            } catch {
                disconnect()
                // An observed file body cannot be replayed from here: the caller retries it.
                if !reused || retried || delivered { throw error }
                if case .file(_, _, _, let observe) = body, observe != nil { throw error }
                retried = true
            }
        }
    }

    private func exchange(_ method: String, _ target: String, headers: [(String, String)], body: Body, sink: Sink?) throws(BackupError) -> Response {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        switch body {
        case .bytes(let bytes): head += "Content-Length: \(bytes.count)\r\n"
        case .file(_, _, let length, _): head += "Content-Length: \(length)\r\n"
        }
        head += "\r\n"
        try send(Array(head.utf8))
        switch body {
        case .bytes(let bytes):
            if !bytes.isEmpty { try send(bytes) }
        case .file(let input, let offset, let length, let observe):
            if outgoing.isEmpty { outgoing = [UInt8](repeating: 0, count: TransferContext.chunk) }
            var done: Int64 = 0
            while done < length {
                let want = Int(min(Int64(outgoing.count), length - done))
                let n = outgoing.withUnsafeMutableBytes { pread(input, $0.baseAddress, want, off_t(offset + done)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw BackupError("the file ended \(length - done) bytes early while it was sent") }
                try BackupError.typed {
                    try outgoing.withUnsafeBytes { raw in
                        let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<n])
                        observe?(chunk)
                        try send(chunk)
                    }
                }
                done += Int64(n)
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
