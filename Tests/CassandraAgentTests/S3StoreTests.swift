import Foundation
import Testing
@testable import CassandraAgent

struct S3SignerTests {
    /// AWS's documented example (S3 Signature V4, "GET Object" with a Range header).
    @Test func signsAWSsDocumentedGetObjectExample() {
        let signer = S3Signer(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        // 20130524T000000Z
        let headers = signer.sign(method: "GET", path: "/test.txt", query: [], headers: [("host", "examplebucket.s3.amazonaws.com"), ("range", "bytes=0-9")],
                                  payloadSHA256: S3Signer.emptyPayload, at: 1_369_353_600)
        let authorization = headers.first { $0.0 == "Authorization" }?.1
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func readsTheDefaultProfileOfASharedCredentialsFileAndASystemdCredential() throws {
        let dir = TemporaryDirectory()
        let file = dir.write("creds", "[other]\naws_access_key_id = X\n[default]\naws_access_key_id = AKID\naws_secret_access_key = s3cr3t\n")
        let loaded = try S3Credentials.load(file, environment: [:])
        #expect(loaded.id == "AKID" && loaded.secret == "s3cr3t")
        dir.write("creds-dir/s3", "[default]\naws_access_key_id=A\naws_secret_access_key=B\n")
        #expect(try S3Credentials.load("credential:s3", environment: ["CREDENTIALS_DIRECTORY": dir.path + "/creds-dir"]).secret == "B")
        #expect(throws: BackupError.self) { try S3Credentials.load("credential:s3", environment: [:]) }
    }
}

/// The S3 store against a signature-checking S3-compatible server, read back with boto3.
@Suite(.serialized, .enabled(if: MotoServer.available, "moto is not installed: .ci/run creates its venv"))
struct S3StoreTests {
    @Test func storesContentAddressedListsWithContinuationResumesMultipartAndRefusesAWrongSecret() throws {
        let moto = try MotoServer()
        let dir = TemporaryDirectory()
        func store(secret: String? = nil) throws -> S3ObjectStore {
            let signer = S3Signer(accessKeyID: moto.accessKeyID, secretAccessKey: secret ?? moto.secret, region: "us-east-1")
            return try S3ObjectStore(bucket: moto.bucket, prefix: "prod/dc1", endpoint: moto.endpoint, signer: signer, stateDirectory: dir.path + "/state",
                                     multipartThreshold: 6 << 20, partSize: 5 << 20, partConcurrency: 1)
        }
        let s3 = try store()
        try s3.checkWritable()
        var hashes: [String: String] = [:]
        for i in 0..<5 {
            let file = dir.write("small-\(i)", String(repeating: "sstable \(i) ", count: 100 + i))
            let stored = try s3.storeFile(file, host: "h1", knownSHA256: nil, context: TransferContext())
            #expect(stored.uploaded)
            hashes[file] = stored.sha256
            #expect(try s3.storeFile(file, host: "h1", knownSHA256: nil, context: TransferContext()).uploaded == false, "stored already: not uploaded again")
        }
        s3.maxKeys = 2
        #expect(try s3.list(BackupLayout.objects("h1")).count == 5, "ListObjectsV2 pages are followed")

        // A 12 MiB file in 5 MiB parts: cut short after the first part, resumed by a new store (a restarted agent).
        var big = [UInt8](repeating: 0, count: 12 << 20)
        for i in stride(from: 0, to: big.count, by: 4096) { big[i] = UInt8(truncatingIfNeeded: i / 4096) }
        let bigFile = dir.path + "/big-Data.db"
        FileManager.default.createFile(atPath: bigFile, contents: Data(big))
        let first = try store()
        #expect(throws: BackupError.self) {
            try first.storeFile(bigFile, host: "h1", knownSHA256: nil, context: TransferContext(cancelled: { first.partsSent >= 1 }))
        }
        #expect(first.partsSent == 1)
        let second = try store()
        let stored = try second.storeFile(bigFile, host: "h1", knownSHA256: nil, context: TransferContext())
        #expect(second.partsSent == 2, "only the parts not yet sent")
        #expect(stored.sha256 == SHA256.hex(big))

        let read = try moto.readBack(prefix: "prod/dc1/h1/objects/")
        #expect(read.count == 6)
        for (key, (size, sha)) in read {
            #expect(key.hasSuffix("/" + sha), "every object is named by the SHA-256 of its bytes")
            #expect(size > 0)
        }

        // A wrong secret: refused with the reason, and the secret appears nowhere.
        let wrong = "wrongSecretValue1234567890"
        do {
            try store(secret: wrong).checkWritable()
            Issue.record("a wrong secret was accepted")
        } catch let error as BackupError {
            #expect(error.message.contains("SignatureDoesNotMatch"), "\(error.message)")
            #expect(!error.message.contains(wrong) && !error.message.contains(moto.secret))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
