import Foundation
import Testing
@testable import CassandraAgent

@Suite struct PlanTests {
    func plan(_ text: String, installed: [String: String]) throws -> ConfigPlan {
        let config = try #require(rendered(text))
        return ConfigPlan.make(rendered: config, installed: { installed[$0] }, installedName: { "/etc/cassandra/\($0)" }, version: .v4_1)
    }

    @Test func nothingInstalledMeansEverythingIsCreated() throws {
        let plan = try plan(desiredState(), installed: [:])
        #expect(plan.files.map(\.status) == [.created, .created])
        #expect(plan.hasChanges)
    }

    @Test func sameFilesMeanNoChange() throws {
        let config = try #require(rendered(desiredState()))
        let plan = try plan(desiredState(), installed: [
            "cassandra.yaml": config.cassandraYAML, "cassandra-rackdc.properties": config.rackdcProperties,
        ])
        #expect(!plan.hasChanges)
    }

    @Test func eachChangedSettingSaysRestartOrLive() throws {
        let before = try #require(rendered(desiredState(settings: ["compaction_throughput: 64MiB/s", "concurrent_writes: 32"])))
        let plan = try plan(desiredState(settings: ["compaction_throughput: 128MiB/s", "concurrent_writes: 64", "num_tokens: 8", "commitlog_segment_size: 64MiB"]), installed: [
            "cassandra.yaml": before.cassandraYAML, "cassandra-rackdc.properties": before.rackdcProperties,
        ])
        let changes = Dictionary(uniqueKeysWithValues: plan.files[0].settings.map { ($0.key, $0) })
        #expect(changes["compaction_throughput"]?.effect == .live(["setcompactionthroughput"]))
        #expect(changes["compaction_throughput"]?.old == .string("64MiB/s"))
        #expect(changes["compaction_throughput"]?.new == .string("128MiB/s"))
        #expect(changes["concurrent_writes"]?.effect == .live(["setconcurrency"]))
        #expect(changes["num_tokens"]?.effect == .restart)
        #expect(changes["commitlog_segment_size"]?.effect == .restart)
        #expect(plan.restartReasons == ["commitlog_segment_size", "num_tokens"])
        #expect(plan.files[1].status == .changed, "the rackdc header names the new hash")
        #expect(plan.files[1].settings.isEmpty)
    }

    @Test func changingTheRackOfAJoinedNodeIsFlagged() throws {
        let before = try #require(rendered(desiredState()))
        let plan = try plan(desiredState().replacingOccurrences(of: "rack: rack1", with: "rack: rack2"), installed: [
            "cassandra.yaml": before.cassandraYAML, "cassandra-rackdc.properties": before.rackdcProperties,
        ])
        #expect(plan.files[1].settings.map(\.key) == ["rack"])
        #expect(plan.files[1].notes.contains { $0.contains("refuse to start") })
    }

    @Test func passwordsNeverReachThePlan() throws {
        let installed = "keystore_password: hunter2\nserver_encryption_options:\n  truststore_password: s3cret\n"
        let text = LineDiff.unified(old: installed, new: "a: 1\n", oldName: "old", newName: "new")
        let redacted = Redaction.redactDiff(text)
        #expect(!redacted.contains("hunter2"))
        #expect(!redacted.contains("s3cret"))
        #expect(redacted.contains("-keystore_password: <redacted>"))
        #expect(Redaction.redact(.map([("keystore_password", .string("x")), ("keystore", .string("/k"))]), key: "opts").description
            == "{keystore_password: <redacted>, keystore: /k}")
    }

    @Test func unifiedDiffHasHunks() {
        let diff = LineDiff.unified(old: "a\nb\nc\nd\n", new: "a\nB\nc\nd\ne\n", oldName: "x", newName: "y", context: 1)
        #expect(diff == """
        --- x
        +++ y
        @@ -1,4 +1,5 @@
         a
        -b
        +B
         c
         d
        +e

        """)
        #expect(LineDiff.unified(old: "a\n", new: "a\n", oldName: "x", newName: "y") == "")
    }
}
