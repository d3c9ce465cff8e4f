/// The checks, each with a level, a stable reason code and a sentence an
/// operator can act on, in a fixed order. Pure: from the snapshots and the time.
enum NodeChecks {
    static func all(_ inputs: StatusInputs) -> [HealthCheck] {
        var checks = CheckList(now: inputs.now)
        desiredState(inputs, &checks)
        jobs(inputs, &checks)
        let before = checks.items.count
        node(inputs, &checks)
        plannedDowntime(inputs, &checks, from: before)
        hybrid(inputs, &checks)
        return checks.items
    }

    /// A node drained and stopped in its patch turn is down on purpose: its node checks warn, not page.
    /// A turn that did not come back is critical through `patching.halted_here`.
    static func plannedDowntime(_ inputs: StatusInputs, _ checks: inout CheckList, from start: Int) {
        let planned: Set<PatchTurn.Step> = [.drain, .stop, .patch, .reboot, .start, .rollback, .waitUp]
        guard let step = inputs.jobs.first(where: { $0.kind == .patching })?.current?.progress?.patchTurn?.step, planned.contains(step) else { return }
        for index in checks.items.indices.dropFirst(start) where checks.items[index].level == .critical {
            checks.items[index].level = .warning
            checks.items[index].message += " (planned: this node is in its patch turn)"
        }
    }

    struct CheckList {
        let now: Double
        var items: [HealthCheck] = []

        mutating func add(_ name: String, _ level: HealthLevel, _ reason: String, _ message: String, at: Double? = nil) {
            items.append(HealthCheck(name: name, level: level, reason: reason, message: message,
                                     observedAt: at.map { Timestamp.iso8601(Int64($0)) }, ageSeconds: at.map { max(0, Int(now - $0)) }))
        }
    }

    /// One check for the hybrid-cluster checklist: what is not in place yet, by item.
    static func hybrid(_ inputs: StatusInputs, _ checks: inout CheckList) {
        guard let list = StatusAssembler.hybridChecklist(inputs) else { return }
        let missing = list.missing
        if missing.isEmpty {
            checks.add("hybrid.checklist", .ok, "hybrid.ready", "hybrid cluster (\(list.datacenters.joined(separator: ", "))): snitch, seeds, truststore and keyspaces are in place", at: inputs.observation?.at)
        } else {
            checks.add("hybrid.checklist", .warning, "hybrid.incomplete",
                       "hybrid cluster (\(list.datacenters.joined(separator: ", "))), not yet in place: " + missing.map { "\($0.item): \($0.detail)" }.joined(separator: "; "), at: inputs.observation?.at)
        }
    }

    static func desiredState(_ inputs: StatusInputs, _ checks: inout CheckList) {
        let r = inputs.reconcile
        let now = inputs.now
        if r.untrusted, let refused = r.refused {
            checks.add("desired_state.permissions", .critical, "desired_state.untrusted",
                       "\(refused.errors.first.map { String($0.split(separator: " error: ", maxSplits: 1).last ?? "") } ?? "the desired state may be written by others"); the agent acts as root on this file, so it is refused until that is fixed")
        }
        if let failure = r.installFailure {
            checks.add("desired_state.install", .critical, failure.reason, "installing the desired state failed, every file is as it was: \(failure.message)", at: failure.since)
        }
        if r.inForce == nil {
            checks.add("desired_state", .critical, "desired_state.none_applied",
                       r.refused == nil ? "no desired state has been applied yet: write \(r.desiredStatePath)"
                           : "no valid desired state has been applied: \(r.desiredStatePath) was refused; fix the errors listed under desiredState.lastRefused")
        } else if let refused = r.refused {
            checks.add("desired_state", .warning, "desired_state.refused",
                       "the latest \(refused.file) was refused (\(refused.errors.count) error(s)); the previous desired state stays in force until it is fixed")
        } else {
            checks.add("desired_state", .ok, "desired_state.in_force", "desired state generation \(r.inForce?.generation.map(String.init) ?? "?") is in force")
        }
        if let started = r.passStartedAt, now - started > max(3 * inputs.observeInterval, 30) {
            checks.add("desired_state.reconcile", .warning, "reconcile.stuck",
                       "a reconcile pass (\(r.passTrigger ?? "?")) has been running for \(Int(now - started)) s: a nodetool call may hang (it is killed at nodetoolTimeoutSeconds); newer desired states wait for it", at: started)
        }
        if let deferred = r.deferred {
            checks.add("desired_state.install", .warning, "reconcile.deferred",
                       "a change to install waits: \(deferred.reason); it is installed as soon as the job lets it", at: deferred.since)
        }
        for entry in r.storeCertificates {
            let left = entry.certificate.notAfter - Int64(now)
            if left < 0 {
                checks.add("tls \(entry.store)", .critical, "tls.expired", "\(entry.certificate.subject) in \(entry.store) expired on \(Timestamp.iso8601(entry.certificate.notAfter)): peers and clients refuse it; replace the certificate file")
            } else if left < Int64(inputs.expiryWarningDays) * 86_400 {
                checks.add("tls \(entry.store)", .warning, "tls.expiring",
                           "\(entry.certificate.subject) in \(entry.store) expires in \(left / 86_400) day(s), on \(Timestamp.iso8601(entry.certificate.notAfter)); renew it and update the file")
            }
        }
        let left = NodeMembership.left(decommission: inputs.jobs.first { $0.kind == .decommission }, observation: inputs.observation) != nil
        if let pending = r.pendingRestart, !left {
            checks.add("restart", .warning, "restart.pending",
                       "Cassandra must restart to pick up \(pending.settings.joined(separator: ", ")); the rolling restart does it in the patch window, or restart it yourself",
                       at: pending.since)
        }
    }

    static func node(_ inputs: StatusInputs, _ checks: inout CheckList) {
        let now = inputs.now
        guard let observation = inputs.observation else {
            checks.add("observation", .warning, "observation.none_yet", "the node has not been observed yet")
            return
        }
        let at = observation.at
        if let left = NodeMembership.left(decommission: inputs.jobs.first { $0.kind == .decommission }, observation: observation) {
            // Gone on purpose: what would page for a member (gossip off, the unit stopped) is the plan now.
            checks.add("cassandra.membership", .ok, "node.left", "\(left); stop Cassandra and retire the host, or clear its data directories before it joins again", at: at)
            return
        }
        if observation.mode == .leaving {
            checks.add("cassandra.membership", .warning, "node.leaving", "the node is leaving the ring (LEAVING): it streams its data to the nodes that take its ranges; see `cassandra-agent jobs`", at: at)
        }
        if now - at > max(3 * inputs.observeInterval, 30) {
            checks.add("observation", .warning, "observation.stale", "the last observation is \(Int(now - at)) s old: nodetool or systemctl may be hanging", at: at)
        }
        if let error = observation.unitError {
            checks.add("cassandra.service", .critical, "unit.unknown", "cannot ask systemd about Cassandra: \(error)", at: at)
        } else if observation.unitActive != true {
            checks.add("cassandra.service", .critical, "unit.inactive",
                       "the Cassandra unit is \(observation.unitState ?? "not active"): Cassandra is not running; `systemctl start cassandra` (or see `journalctl -u cassandra`)", at: at)
            return
        } else {
            checks.add("cassandra.service", .ok, "unit.active", "the Cassandra unit is active", at: at)
        }
        if let error = observation.nodetoolError {
            checks.add("cassandra.jmx", .critical, "jmx.unreachable", "nodetool cannot reach Cassandra: \(error); it may still be starting, or stuck", at: at)
            return
        }
        if observation.mode == .drained || observation.mode == .draining {
            checks.add("cassandra.mode", .critical, "node.drained", "the node is drained: it serves no clients and accepts no writes until Cassandra is restarted", at: at)
        }
        if observation.nativeTransport == false {
            checks.add("cassandra.native_transport", .critical, "native_transport.disabled",
                       "native transport is disabled on this node: clients cannot connect; `nodetool enablebinary` or restart", at: at)
        }
        if observation.gossip == false {
            checks.add("cassandra.gossip", .critical, "gossip.disabled",
                       "gossip is not running on this node: the cluster sees it as down; `nodetool enablegossip` or restart", at: at)
        }
        if inputs.reconcile.inForce?.state.node.listen.value == .hostName, let resolved = observation.hostNameAddress {
            if let known = observation.ownAddress, known != resolved {
                checks.add("node.address", .warning, "node.address_mismatch",
                           "the listen address is left to the host name, which resolves to \(resolved), but the cluster knows this node (host ID \(observation.info?.hostID ?? "?")) as \(known): check /etc/hosts and DNS for \(inputs.host)", at: at)
            } else if observation.ownAddress != nil {
                checks.add("node.address", .ok, "node.address_resolved", "the host name \(inputs.host) resolves to \(resolved), the address the cluster knows this node by", at: at)
            }
        }
        if let status = observation.status {
            let me = observation.info?.hostID
            let down = status.nodes.filter { $0.liveness != .up && $0.hostID != me }
            if down.isEmpty {
                checks.add("cluster.peers", .ok, "peers.up", "all \(status.nodes.count) nodes are up", at: at)
            } else {
                checks.add("cluster.peers", .warning, "peers.down",
                           "\(down.count) of \(status.nodes.count) nodes are down: \(down.map { "\($0.endpoint.address) (\($0.datacenter)/\($0.rack))" }.joined(separator: ", "))", at: at)
            }
        }
        for disk in observation.disks {
            if let error = disk.error {
                checks.add("disk \(disk.path)", .warning, "disk.unknown", "cannot check free space of \(disk.path): \(error)", at: at)
            } else if let fraction = disk.freeFraction {
                let percent = Int((fraction * 100).rounded(.down))
                let level: HealthLevel = fraction < 0.10 ? .critical : fraction < 0.20 ? .warning : .ok
                checks.add("disk \(disk.path)", level, level == .ok ? "disk.ok" : "disk.low",
                           level == .ok ? "\(percent)% free" : "only \(percent)% free on \(disk.path): compaction needs room; clear snapshots (`nodetool clearsnapshot`) or add space", at: at)
            }
        }
    }

    static func jobs(_ inputs: StatusInputs, _ checks: inout CheckList) {
        let now = inputs.now
        for job in inputs.jobs {
            let name = "job \(job.kind.rawValue)"
            if let unavailable = job.unavailable {
                if job.enabled { checks.add(name, .warning, "\(job.kind.rawValue).not_available", unavailable) }
                continue
            }
            if let problem = job.journalProblem {
                checks.add(name, .warning, "job.journal_unwritable", "\(problem): a run cut short by a crash may not be resumed")
            }
            if let progress = job.current?.progress, let reason = progress.postponed, let since = progress.postponedSince, now - since >= job.postponeWarning {
                checks.add(name, .warning, "\(job.kind.rawValue).postponed",
                           "the \(job.kind.rawValue) has been postponed for \(DurationText.format((now - since).rounded())): \(reason); it cannot run until that clears", at: since)
            }
            let warning = job.current?.progress?.serverSideWarning ?? (job.lastRun?.reason?.contains("may still be running inside Cassandra") == true ? job.lastRun?.reason : nil)
            if let warning {
                checks.add(name, .warning, "\(job.kind.rawValue).server_side_running", warning)
            }
            if let patching = job.patching, let halted = patching.haltedHere {
                checks.add(name, .critical, "patching.halted_here", "this node did not come back in its patch turn and halts the window for the cluster: \(halted)")
            } else if let patching = job.patching, let held = patching.heldBy {
                checks.add(name, .warning, "patching.halted", "the patch window is halted by \(held), which is down as this node sees it; this node's rack waits until it is back")
            }
            if let last = job.lastRun, last.result == .failed, job.patching?.haltedHere == nil {
                checks.add(name, .warning, "\(job.kind.rawValue).failed", "the last \(job.kind.rawValue) (\(last.id)) failed: \(last.reason ?? "no reason recorded")", at: last.endedAt)
            }
            if job.kind == .backup, job.enabled, let period = job.schedulePeriod, let base = job.newestBackupAt ?? job.history.trackedSince {
                let age = now - base
                let level: HealthLevel = age > 3 * period ? .critical : age > 1.5 * period ? .warning : .ok
                if level != .ok {
                    let what = job.newestBackupAt.map { "the newest complete backup completed at \(Timestamp.iso8601(Int64($0)))" }
                        ?? "no backup has completed since the agent began counting at \(Timestamp.iso8601(Int64(base)))"
                    checks.add(name, level, "backup.stale",
                               "\(what), \(DurationText.format(age.rounded())) ago, more than \(level == .critical ? "3" : "1.5") times the schedule's period (\(DurationText.format(period))): `cassandra-agent job start backup`, and see the last run's reason")
                }
            }
            if job.kind == .backup { backupIntegrity(job, &checks) }
            if job.kind == .repair, job.enabled, let deadline = job.deadlineSeconds, let base = job.history.lastCompleteCycleAt ?? job.history.trackedSince,
               now - base > deadline {
                let days = Int((now - base) / 86_400)
                let grace = Int((job.gcGraceSeconds ?? 864_000) / 86_400)
                let since = job.history.lastCompleteCycleAt.map { "since \(Timestamp.iso8601(Int64($0)))" } ?? "since the agent began counting at \(Timestamp.iso8601(Int64(base)))"
                checks.add(name, .warning, "repair.overdue",
                           "no repair of every keyspace has completed \(since) (\(days) day(s)); past gc_grace_seconds (\(grace) days) deleted data can come back on replicas that missed the tombstones: `cassandra-agent job start repair`")
            }
        }
    }
}
