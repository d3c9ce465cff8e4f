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

/// `POST /v1/backups/ID/restore` in-process: who may ask, and what its query says.
struct RestoreRouteTests {
    @Test func onlyAdminsMayAskAndADryRunTakesNoLeaseWhileARealRestoreIsRefusedWhenTheNodeIsHeld() async throws {
        let h = BackupHarness()
        let restore = RestoreService(.init(configuration: h.configuration, clock: h.clock, runner: h.runner, lease: h.lease, desiredState: { [desired = h.desired] in desired.value },
                                           hostID: { "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41" }, snapshot: Published(JobSnapshot(kind: .restore)), listing: h.listing, logger: .init(label: "test")))
        let snapshots = AgentSnapshots(host: "h", desiredStatePath: "/x", observeInterval: 10, expiryWarningDays: 30, clock: h.clock)
        let routes = StatusRoutes(snapshots: snapshots, jobs: JobControls(repair: nil, restore: restore), adminGroup: "root") {}
        let root = PeerCredentials(pid: 1, uid: 0, gid: 0)

        let stranger = await routes.respond(method: "POST", path: "/v1/backups/backup-1/restore?dry-run=1", peer: PeerCredentials(pid: 1, uid: 54321, gid: 54321))
        #expect(stranger.status == 403)
        // A repair holds the node: a real restore is refused with it named; a dry run is not held back by it
        // (here it then finds no such backup).
        #expect(await h.lease.tryBeginJob(.repair, runID: "repair-7", reconcileBetweenSteps: true) == nil)
        let held = await routes.respond(method: "POST", path: "/v1/backups/backup-1/restore?keyspace=shop", peer: root)
        #expect(held.status == 409 && held.body.contains("the repair run repair-7 holds it"), "\(held.body)")
        let dry = await routes.respond(method: "POST", path: "/v1/backups/backup-1/restore?keyspace=shop&dry-run=1", peer: root)
        #expect(dry.status == 409 && dry.body.contains("no complete backup backup-1"), "\(dry.body)")
        #expect(await h.lease.job?.runID == "repair-7", "the refused restore left the repair's hold alone")
        await h.lease.endJob("repair-7")
        let free = await routes.respond(method: "POST", path: "/v1/backups/backup-1/restore", peer: root)
        #expect(free.status == 409 && free.body.contains("no complete backup backup-1"), "\(free.body)")
        #expect(await h.lease.job == nil, "a restore refused by its checks lets the node go")
    }
}
