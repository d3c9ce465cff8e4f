import Testing
@testable import CassandraAgent

/// The restore state machine without processes: events in, actions out.
struct RestoreWorkflowTests {
    func table(_ name: String) -> BackupRestore.TablePlan {
        let file = BackupManifest.File(keyspace: "shop", table: name, tableDirectory: "\(name)-0123", dataDirectory: 0, path: "nb-1-big-Data.db", size: 100, sha256: "ab")
        return BackupRestore.TablePlan(keyspace: "shop", table: name, target: "/data/shop/\(name)-0123", staging: "/data/shop/.cassandra-agent-restore-b-\(name)-0123", files: [file])
    }

    var workflow: RestoreWorkflow { RestoreWorkflow(backupID: "backup-1", tables: [table("orders"), table("users")], method: "nodetool import") }

    @Test func everyTableIsStagedLoadedAndItsStagingRemovedInTurn() {
        var w = workflow
        #expect(w.start() == .checkGate)
        #expect(w.handle(.gate(cancelled: false)) == .stage(table: 0))
        #expect(w.progress().step.hasPrefix("staging shop.orders (table 1 of 2)"))
        #expect(w.handle(.staged(table: 0)) == .load(table: 0))
        #expect(w.handle(.loaded(table: 0)) == .removeStaging(table: 0))
        #expect(w.progress().filesDone == 1 && w.progress().files == 2)
        #expect(w.handle(.stagingRemoved(table: 0)) == .checkGate)
        #expect(w.handle(.gate(cancelled: false)) == .stage(table: 1))
        #expect(w.handle(.staged(table: 1)) == .load(table: 1))
        #expect(w.handle(.loaded(table: 1)) == .removeStaging(table: 1))
        guard case .finish(.succeeded, let reason)? = w.handle(.stagingRemoved(table: 1)) else {
            Issue.record("expected success")
            return
        }
        #expect(reason == "restored shop.orders from backup-1: 1 file(s), 100 B (nodetool import)\nrestored shop.users from backup-1: 1 file(s), 100 B (nodetool import)")
        // An event out of turn is not acted on.
        #expect(w.handle(.loaded(table: 0)) == nil)
    }

    @Test func aFailedLoadRemovesTheStagingAndNamesWhatWasAndWasNotRestored() {
        var w = workflow
        _ = w.start()
        _ = w.handle(.gate(cancelled: false))
        _ = w.handle(.staged(table: 0))
        _ = w.handle(.loaded(table: 0))
        _ = w.handle(.stagingRemoved(table: 0))
        _ = w.handle(.gate(cancelled: false))
        _ = w.handle(.staged(table: 1))
        #expect(w.handle(.loadFailed(table: 1, "Some directories failed to import", cancelled: false)) == .removeStaging(table: 1))
        guard case .finish(.failed, let reason)? = w.handle(.stagingRemoved(table: 1)) else {
            Issue.record("expected a failure")
            return
        }
        #expect(reason == "the nodetool import of shop.users failed: Some directories failed to import; restored before: shop.orders; not restored: shop.users")
    }

    @Test func aCancelWhileStagingOrBetweenTablesEndsTheRunWithTheStagingRemoved() {
        var w = workflow
        _ = w.start()
        _ = w.handle(.gate(cancelled: false))
        #expect(w.handle(.stageFailed(table: 0, "cancelled", cancelled: true)) == .removeStaging(table: 0))
        guard case .finish(.cancelled, let reason)? = w.handle(.stagingRemoved(table: 0)) else {
            Issue.record("expected a cancel")
            return
        }
        #expect(reason.contains("while staging shop.orders; nothing of it was loaded; no table was restored; not restored: shop.orders, shop.users"))

        var between = workflow
        _ = between.start()
        guard case .finish(.cancelled, _)? = between.handle(.gate(cancelled: true)) else {
            Issue.record("a cancel before the first table ends the run")
            return
        }
    }
}
