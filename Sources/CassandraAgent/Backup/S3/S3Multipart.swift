import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A large file as a multipart upload: the upload ID and every part's ETag are
/// recorded in the state directory once the part is stored, so an upload cut
/// short by a restart of the agent resumes with the parts not yet sent. Parts
/// go up `partConcurrency` at a time, each streamed from the file (pread: no
/// part is held in memory), with its CRC-32 for the store to check, since the
/// part's payload itself is not signed (the whole file was hashed once, to name
/// it; `backup verify` re-reads the assembled object against that name).
extension S3ObjectStore {
    struct MultipartState: Codable {
        var uploadID: String
        var parts: [Int: String]
        /// Each part's CRC-32 (base64); nil for an upload an older agent began without checksums.
        var checksums: [Int: String]?
    }

    func multipartStatePath(_ sha: String) -> String { "\(stateDirectory)/backup/multipart/\(sha).json" }

    func multipart(_ input: Int32, size: Int64, key: String, sha: String, context: TransferContext) throws(BackupError) {
        try multipartTurn.withLock { _ throws(BackupError) in
            try multipartAlone(input, size: size, key: key, sha: sha, context: context)
        }
    }

    private func multipartAlone(_ input: Int32, size: Int64, key: String, sha: String, context: TransferContext) throws(BackupError) {
        let statePath = multipartStatePath(sha)
        var state: MultipartState
        if let bytes = try? FileIO.readIfPresent(statePath), let saved = try? JSONDecoder().decode(MultipartState.self, from: Data(bytes)),
           try send("GET", key: key, query: [("uploadId", saved.uploadID)]).status == 200 {
            state = saved
        } else {
            let answer = try send("POST", key: key, query: [("uploads", "")], headers: [("x-amz-checksum-algorithm", "CRC32")])
            guard answer.status == 200, let id = XMLText.first("UploadId", in: String(decoding: answer.body, as: UTF8.self)) else {
                throw failure("CreateMultipartUpload \(key)", answer)
            }
            state = MultipartState(uploadID: id, parts: [:], checksums: [:])
        }
        let recorded = Published(state)
        @Sendable func save(_ state: MultipartState) throws(BackupError) {
            do {
                try FileIO.makeDirectories(FileIO.directoryName(statePath), mode: 0o700)
                try FileIO.writeAtomically(statePath, Array((try? JSONEncoder().encode(state)) ?? Data()), mode: 0o600)
            } catch {
                throw BackupError("cannot record the multipart upload's parts: \(error)")
            }
        }
        try save(state)
        let count = Int((size + partSize - 1) / partSize)
        let missing = (1...count).filter { state.parts[$0] == nil }
        let uploadID = state.uploadID
        let withChecksums = state.checksums != nil
        let failed = Published<BackupError?>(nil)
        let partSize = partSize
        // Each part is recorded (under the lock, so the file is never stale) once stored.
        Parallel.forEach(missing.count, width: partConcurrency) { index in
            if failed.value != nil { return }
            if context.cancelled() { failed.update { $0 = $0 ?? BackupError("cancelled") }; return }
            let number = missing[index]
            let offset = Int64(number - 1) * partSize
            let length = min(partSize, size - offset)
            context.limiter?.consume(Int(length))
            do throws(BackupError) {
                let checksum = withChecksums ? try Self.crc32(input, offset: offset, length: length) : nil
                let answer = try self.send("PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                                           headers: checksum.map { [("x-amz-checksum-crc32", $0)] } ?? [],
                                           body: .file(fd: input, offset: offset, length: length, observe: nil), payloadSHA256: "UNSIGNED-PAYLOAD")
                guard answer.status == 200, let etag = answer.headers["etag"] else { throw self.failure("UploadPart \(number) of \(key)", answer) }
                self.sent.update { $0 += 1 }
                let saved: BackupError? = recorded.update { state in
                    state.parts[number] = etag
                    if let checksum { state.checksums?[number] = checksum }
                    do throws(BackupError) { try save(state) } catch { return error }
                    return nil
                }
                if let saved { throw saved }
            } catch {
                failed.update { $0 = $0 ?? error }
            }
        }
        if let failure = failed.value { throw failure }
        state = recorded.value
        let parts = (1...count).map { number in
            let checksum = state.checksums?[number].map { "<ChecksumCRC32>\($0)</ChecksumCRC32>" } ?? ""
            return "<Part><PartNumber>\(number)</PartNumber><ETag>\(XMLText.escape(state.parts[number] ?? ""))</ETag>\(checksum)</Part>"
        }
        let xml = "<CompleteMultipartUpload>" + parts.joined() + "</CompleteMultipartUpload>"
        let answer = try send("POST", key: key, query: [("uploadId", state.uploadID)], body: .bytes(Array(xml.utf8)))
        let text = String(decoding: answer.body, as: UTF8.self)
        guard answer.status == 200, !text.contains("<Error>") else { throw failure("CompleteMultipartUpload \(key)", answer) }
        unlink(statePath)
    }

    /// The CRC-32 of `length` bytes of the file from `offset` (read from the page cache the part is then sent from).
    static func crc32(_ input: Int32, offset: Int64, length: Int64) throws(BackupError) -> String {
        var crc = CRC32()
        var buffer = [UInt8](repeating: 0, count: TransferContext.chunk)
        var done: Int64 = 0
        while done < length {
            let want = Int(min(Int64(buffer.count), length - done))
            let n = buffer.withUnsafeMutableBytes { pread(input, $0.baseAddress, want, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BackupError("the file ended \(length - done) bytes early while its part was read") }
            buffer.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            done += Int64(n)
        }
        return crc.base64
    }
}
