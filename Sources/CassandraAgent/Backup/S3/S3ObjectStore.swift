import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An `s3://BUCKET/PREFIX` destination on any S3-compatible store: path-style
/// requests to `backup.s3.endpoint`, signed with AWS Signature V4. A file is
/// hashed first (its SHA-256 names the object and is the signed payload hash),
/// then sent with one PUT, or as a multipart upload when it is large
/// (S3Multipart.swift).
public final class S3ObjectStore: BackupObjectStore, Sendable {
    let bucket: String
    let prefix: String
    let endpoint: S3Endpoint
    /// For an https:// endpoint: the CAs its certificate must chain to.
    let tls: TLSClientContext?
    let signer: S3Signer
    let stateDirectory: String
    /// Files larger than this go up in parts of `partSize` (S3's minimum part is 5 MiB).
    let multipartThreshold: Int64
    let partSize: Int64
    let now: @Sendable () -> Int64
    /// How long connecting, or a send or a receive, may take before the request fails.
    let timeoutSeconds: Int
    /// Idle kept-alive connections; a request takes one (or opens one) and gives it back.
    let idle = Published<[HTTPConnection]>([])
    let sent = Published(0)
    let pageSize = Published(1000)
    /// Parts sent by this store (tests check that a resumed upload sends only the rest).
    public var partsSent: Int { sent.value }
    /// Keys per ListObjectsV2 page (S3's default and maximum is 1000; tests page with fewer).
    public var maxKeys: Int {
        get { pageSize.value }
        set { pageSize.update { $0 = newValue } }
    }
    /// Files stored at once (each on its own connection), and parts of one file.
    public var concurrency: Int { 4 }
    public let partConcurrency: Int
    /// Held by the one multipart upload in progress: large files go up one after the other, each with all its
    /// parts in flight. Four large files at once made moto (and any store that assembles parts) do the most
    /// work at once for the same bytes: 16.5 s of its CPU for 1 GiB against 12.5 s one file at a time.
    let multipartTurn = Mutex(())

    /// `caFile`: the CA bundle an https:// endpoint's certificate must chain to (default: the system's trust store).
    public init(bucket: String, prefix: String, endpoint: String, caFile: String? = nil, environment: [String: String] = [:],
                signer: S3Signer, stateDirectory: String, multipartThreshold: Int64 = 64 << 20, partSize: Int64 = 16 << 20, partConcurrency: Int = 8,
                timeoutSeconds: Int = 60, now: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }) throws(BackupError) {
        switch S3Endpoint.parse(endpoint) {
        case .success(let parsed): self.endpoint = parsed
        case .failure(let error): throw error
        }
        if self.endpoint.tls {
            var caCertificates: [UInt8]?
            if let caFile { caCertificates = try S3CAFile.read(caFile, environment: environment) }
            tls = try TLSClientContext(caCertificates: caCertificates, caFile: caFile)
        } else {
            tls = nil
        }
        self.bucket = bucket
        self.prefix = prefix
        self.signer = signer
        self.stateDirectory = stateDirectory
        self.multipartThreshold = multipartThreshold
        self.partSize = max(partSize, 5 << 20)
        self.partConcurrency = max(1, partConcurrency)
        self.timeoutSeconds = timeoutSeconds
        self.now = now
    }

    public var description: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }

    func objectKey(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix)/\(key)" }

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    /// `headers`: more headers, signed with the others (S3 wants every x-amz-* header signed).
    func send(_ method: String, key: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [], body: HTTPConnection.Body = .bytes([]),
              payloadSHA256: String? = nil, sink: HTTPConnection.Sink? = nil) throws(BackupError) -> Answer {
        let path = "/\(bucket)" + (key.map { "/" + objectKey($0) } ?? "")
        var payload = payloadSHA256 ?? S3Signer.emptyPayload
        if payloadSHA256 == nil, case .bytes(let bytes) = body, !bytes.isEmpty { payload = SHA256.hex(bytes) }
        let headers = extra + signer.sign(method: method, path: path, query: query, headers: [("host", endpoint.hostHeader)] + extra, payloadSHA256: payload, at: now())
        let target = S3Signer.encode(path, keepSlash: true) + (query.isEmpty ? "" : "?" + query.map { "\(S3Signer.encode($0.0))=\(S3Signer.encode($0.1))" }.joined(separator: "&"))
        let connection = idle.update { $0.popLast() } ?? HTTPConnection(endpoint: endpoint, tls: tls, timeoutSeconds: timeoutSeconds)
        let response = try connection.request(method, target, headers: headers, body: body, sink: sink)
        idle.update { $0.append(connection) }
        return Answer(status: response.status, headers: response.headers, body: response.body)
    }

    /// An S3 error as a sentence: the operation, the HTTP status, S3's code and message (never a credential).
    func failure(_ what: String, _ answer: Answer) -> BackupError {
        let text = String(decoding: answer.body, as: UTF8.self)
        let code = XMLText.first("Code", in: text) ?? "HTTP \(answer.status)"
        let message = XMLText.first("Message", in: text).map { ": \($0)" } ?? ""
        var hint = ""
        if code == "SignatureDoesNotMatch" { hint = "; the secret access key in backup.s3.credentialsFile is wrong for its access key" }
        if code == "InvalidAccessKeyId" { hint = "; the access key in backup.s3.credentialsFile is unknown to \(endpoint.host)" }
        if code == "NoSuchBucket" { hint = "; create the bucket \(bucket) first" }
        return BackupError("\(description): \(what) failed with HTTP \(answer.status) \(code)\(message)\(hint)")
    }

    public func checkWritable() throws(BackupError) {
        let probe = ".cassandra-agent-write-test"
        let answer = try send("PUT", key: probe, body: .bytes(Array("probe\n".utf8)))
        guard answer.status == 200 else { throw failure("a test write", answer) }
        _ = try send("DELETE", key: probe)
    }

    public func size(of key: String) throws(BackupError) -> Int64? {
        let answer = try send("HEAD", key: key)
        if answer.status == 404 { return nil }
        guard answer.status == 200 else { throw failure("HEAD \(key)", answer) }
        return answer.headers["content-length"].flatMap { Int64($0) }
    }

    public func put(_ key: String, _ bytes: [UInt8]) throws(BackupError) {
        let answer = try send("PUT", key: key, body: .bytes(bytes))
        guard answer.status == 200 else { throw failure("PUT \(key)", answer) }
    }

    public func get(_ key: String) throws(BackupError) -> [UInt8]? {
        let answer = try send("GET", key: key)
        if answer.status == 404 { return nil }
        guard answer.status == 200 else { throw failure("GET \(key)", answer) }
        return answer.body
    }

    public func list(_ keyPrefix: String) throws(BackupError) -> [StoredObject] {
        var result: [StoredObject] = []
        try listPages(objectKey(keyPrefix)) { text in
            for entry in XMLText.all("Contents", in: text) {
                guard let key = XMLText.first("Key", in: entry) else { continue }
                let relative = prefix.isEmpty ? key : String(key.dropFirst(prefix.count + 1))
                let size = XMLText.first("Size", in: entry).flatMap { Int64($0) } ?? 0
                let modified = XMLText.first("LastModified", in: entry).flatMap(Self.epoch) ?? 0
                result.append(StoredObject(key: relative, size: size, modified: modified))
            }
        }
        return result.sorted { $0.key < $1.key }
    }

    public func hosts() throws(BackupError) -> [String] {
        var result: [String] = []
        let full = prefix.isEmpty ? "" : prefix + "/"
        // A delimiter makes S3 answer with one CommonPrefixes entry per host instead of its objects.
        try listPages(full, delimiter: "/") { text in
            for entry in XMLText.all("CommonPrefixes", in: text) {
                guard let name = XMLText.first("Prefix", in: entry)?.dropFirst(full.count).dropLast() else { continue }
                if !name.isEmpty { result.append(String(name)) }
            }
        }
        return result.sorted()
    }

    /// ListObjectsV2 under a full key prefix, following continuation tokens: each page's XML to `page`.
    func listPages(_ full: String, delimiter: String? = nil, _ page: (String) -> Void) throws(BackupError) {
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", full), ("max-keys", String(maxKeys))]
            if let delimiter { query.append(("delimiter", delimiter)) }
            if let token { query.append(("continuation-token", token)) }
            let answer = try send("GET", key: nil, query: query)
            guard answer.status == 200 else { throw failure("ListObjectsV2 \(full)" + (delimiter.map { " (delimiter \($0))" } ?? ""), answer) }
            let text = String(decoding: answer.body, as: UTF8.self)
            page(text)
            token = XMLText.first("IsTruncated", in: text) == "true" ? XMLText.first("NextContinuationToken", in: text) : nil
        } while token != nil
    }

    /// `2026-12-01T17:43:09.000Z` -> seconds since the epoch.
    static func epoch(_ text: String) -> Double? {
        let digits = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard digits.count >= 6 else { return nil }
        var (y, m) = (digits[0], digits[1])
        let d = digits[2]
        if m <= 2 { y -= 1; m += 12 }
        let era = y / 400
        let yoe = y - era * 400
        let doy = (153 * (m - 3) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86400 + digits[3] * 3600 + digits[4] * 60 + digits[5])
    }

    public func delete(_ key: String) throws(BackupError) {
        let answer = try send("DELETE", key: key)
        guard answer.status == 204 || answer.status == 200 || answer.status == 404 else { throw failure("DELETE \(key)", answer) }
    }

    public func storeFile(_ source: String, host: String, knownSHA256: String?, context: TransferContext) throws(BackupError) -> StoredFile {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BackupError("cannot read \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        var st = stat()
        fstat(input, &st)
        let size = Int64(st.st_size)
        var sha = knownSHA256
        if sha == nil {
            let hasher = SHA256.Hasher()
            var buffer = [UInt8](repeating: 0, count: TransferContext.chunk)
            var total: Int64 = 0
            while true {
                if context.cancelled() { throw BackupError("cancelled") }
                let n = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw BackupError("cannot read \(source): \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                context.limiter?.consume(n)
                buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                total += Int64(n)
            }
            guard total == size else { throw BackupError("\(source) changed while it was read; it is not stored") }
            sha = hasher.finalHex()
        }
        let digest = sha!
        let key = BackupLayout.object(host, digest)
        if try self.size(of: key) == size { return StoredFile(sha256: digest, size: size, uploaded: false) }
        if size > multipartThreshold {
            try multipart(input, size: size, key: key, sha: digest, context: context)
        } else {
            let limiter = context.limiter
            let hasher = SHA256.Hasher()
            let answer = try send("PUT", key: key, body: .file(fd: input, offset: 0, length: size, observe: { chunk in
                limiter?.consume(chunk.count)
                hasher.update(chunk)
            }), payloadSHA256: digest)
            guard answer.status == 200 else { throw failure("PUT \(key)", answer) }
            // The store checked the payload against the signed hash; so do we, for a cached hash.
            guard hasher.finalHex() == digest else {
                try? delete(key)
                throw BackupError("\(source) does not hash to \(digest) any more; it is not stored")
            }
        }
        context.progress(size)
        return StoredFile(sha256: digest, size: size, uploaded: true)
    }

    public func read(_ key: String, context: TransferContext, _ body: (UnsafeRawBufferPointer) throws(BackupError) -> Void) throws(BackupError) {
        try withoutActuallyEscaping(body) { body throws(BackupError) in
            let answer = try send("GET", key: key, sink: { chunk throws(BackupError) in
                if context.cancelled() { throw BackupError("cancelled") }
                try body(chunk)
                context.progress(Int64(chunk.count))
            })
            if answer.status == 404 { throw BackupError("\(description)/\(key) does not exist") }
            guard answer.status == 200 else { throw failure("GET \(key)", answer) }
        }
    }
}

/// Just enough XML for S3's answers: the text of the first or every element of a name.
enum XMLText {
    static func all(_ name: String, in text: String) -> [String] {
        var result: [String] = []
        var rest = text[...]
        while let open = rest.firstRange(of: "<\(name)>"), let close = rest[open.upperBound...].firstRange(of: "</\(name)>") {
            result.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return result
    }

    static func first(_ name: String, in text: String) -> String? {
        all(name, in: text).first.map(unescape)
    }

    static func unescape(_ text: String) -> String {
        text.replacing("&quot;", with: "\"").replacing("&apos;", with: "'").replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&amp;", with: "&")
    }

    static func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
    }
}
