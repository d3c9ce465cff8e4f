import Foundation
import Testing
@testable import CassandraAgent

/// A restore of another node's backup (`--force`, the replacement of a dead node) finds
/// it from the destination's list of hosts, one manifest read per host, never a listing
/// of every object (a shared bucket holds millions, and the request has 5 s).
@Suite(.serialized)
struct BackupHostsTests {
    static let hosts = ["0c1d-dead-node", "5f2e-other-dc", "9a3b-this-node"]

    static func manifest(_ id: String, host: String) -> [UInt8] {
        BackupManifest(id: id, hostID: host, host: "cass-\(host.prefix(4))", cassandraVersion: "4.1", agentVersion: "test", snapshotTag: "cassandra-agent-x",
                       startedAt: 1, completedAt: 2, keyspaces: ["shop"], dataDirectories: ["/var/lib/cassandra/data"], tokens: [],
                       cassandraYAML: nil, files: [], storedBytes: 0, skippedBytes: 0).encoded()
    }

    /// Every host with a manifest and an object, plus the dead node's backup that is looked for.
    static func fill(_ store: any BackupObjectStore) throws {
        for host in hosts {
            try store.put(BackupLayout.manifest(host, "backup-20261201T0300Z"), manifest("backup-20261201T0300Z", host: host))
            try store.put(BackupLayout.object(host, String(repeating: "ab", count: 32)), Array("sstable bytes".utf8))
        }
        try store.put(BackupLayout.manifest("0c1d-dead-node", "backup-20261130T0300Z"), manifest("backup-20261130T0300Z", host: "0c1d-dead-node"))
    }

    static func check(_ store: any BackupObjectStore) throws {
        #expect(try store.hosts() == hosts)
        let repository = BackupRepository(store: store, host: "9a3b-this-node")
        let (found, owner) = try #require(try repository.findAnyHost("backup-20261130T0300Z"))
        #expect(found.hostID == "0c1d-dead-node" && owner.host == "0c1d-dead-node")
        #expect(try repository.findAnyHost("backup-20261201T0300Z")?.1.host == "9a3b-this-node", "this node's own comes first")
        #expect(try repository.findAnyHost("backup-19990101T0000Z") == nil)
    }

    @Test func fileDestination() throws {
        let dir = TemporaryDirectory()
        let store = FileObjectStore(root: dir.path + "/backups")
        #expect(try store.hosts() == [], "a destination not made yet has no hosts")
        try Self.fill(store)
        FileManager.default.createFile(atPath: dir.path + "/backups/.write-check", contents: Data())   // not a host
        try Self.check(store)
    }

    @Test(.enabled(if: MotoServer.available, "moto is not installed: .ci/run creates its venv"))
    func s3DestinationWithContinuation() throws {
        let moto = try MotoServer()
        let dir = TemporaryDirectory()
        let signer = S3Signer(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secret, region: "us-east-1")
        let store = try S3ObjectStore(bucket: moto.bucket, prefix: "prod/dc1", endpoint: moto.endpoint, signer: signer, stateDirectory: dir.path + "/state")
        try Self.fill(store)
        store.maxKeys = 2   // three hosts: the CommonPrefixes come in two pages
        try Self.check(store)
    }
}
