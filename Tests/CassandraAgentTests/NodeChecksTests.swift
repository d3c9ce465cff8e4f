import Foundation
import Testing
@testable import CassandraAgent

/// Checks derived from plain snapshots: no daemon, no clock.
struct NodeChecksTests {
    func reasons(_ reconcile: ReconcileSnapshot, now: Double) -> [String] {
        NodeChecks.all(StatusInputs(host: "h", reconcile: reconcile, observation: nil, jobs: [], observeInterval: 10, expiryWarningDays: 30, now: now)).map(\.reason)
    }

    @Test func aPassThatOverrunsIsACheckWithItsTrigger() {
        var snapshot = ReconcileSnapshot(desiredStatePath: "/etc/cassandra-agent/desired-state.yaml")
        snapshot.passStartedAt = 1000
        snapshot.passTrigger = "fileChanged"
        #expect(!reasons(snapshot, now: 1020).contains("reconcile.stuck"))
        #expect(reasons(snapshot, now: 1045).contains("reconcile.stuck"))
        let check = NodeChecks.all(StatusInputs(host: "h", reconcile: snapshot, observation: nil, jobs: [], observeInterval: 10, expiryWarningDays: 30, now: 1045))
            .first { $0.reason == "reconcile.stuck" }
        #expect(check?.message.hasPrefix("a reconcile pass (fileChanged) has been running for 45 s") == true)
        #expect(check?.level == .warning)
    }

    @Test func aDeferredInstallSaysWhatHoldsTheNode() {
        var snapshot = ReconcileSnapshot(desiredStatePath: "/x")
        snapshot.deferred = .init(since: 100, reason: "the repair run repair-1 holds the node and is in its step \"repairing shop\"")
        let check = NodeChecks.all(StatusInputs(host: "h", reconcile: snapshot, observation: nil, jobs: [], observeInterval: 10, expiryWarningDays: 30, now: 160))
            .first { $0.reason == "reconcile.deferred" }
        #expect(check?.message == "a change to install waits: the repair run repair-1 holds the node and is in its step \"repairing shop\"; it is installed as soon as the job lets it")
        #expect(check?.ageSeconds == 60)
    }
}

struct OpenForWritingTests {
    @Test func aFileHeldOpenForWritingIsSeenAndAReaderIsNot() throws {
        let dir = TemporaryDirectory()
        let file = dir.write("ds.yaml", "a: 1\n")
        #expect(!OpenForWriting.check(file))
        let reader = open(file, O_RDONLY)
        #expect(!OpenForWriting.check(file))
        let writer = open(file, O_WRONLY | O_APPEND)
        #expect(OpenForWriting.check(file))
        close(writer)
        close(reader)
        #expect(!OpenForWriting.check(file))
    }
}
