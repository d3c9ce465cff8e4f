import Logging

/// One pass of keeping the node as declared: read the desired-state file,
/// refuse it whole or install what it renders, push what can change live,
/// record what needs a restart, and put back files someone edited by hand.
///
/// It publishes what it did in its own snapshot, and changes the node only
/// with the `NodeLease`: while a job holds the node the pass is deferred, and
/// retried as soon as the job lets it.
public struct Reconciler: Sendable {
    let configuration: AgentConfiguration
    let state: Published<ReconcileSnapshot>
    let observation: Published<NodeObservation?>
    let lease: NodeLease
    let clock: any WallClock
    let runner: any ProcessRunner
    let logger: Logger
    /// Called after a new desired state is in force (jobs re-read their schedules).
    let onApplied: @Sendable () -> Void

    public init(configuration: AgentConfiguration, state: Published<ReconcileSnapshot>, observation: Published<NodeObservation?>, lease: NodeLease,
                clock: any WallClock, runner: any ProcessRunner, logger: Logger, onApplied: @escaping @Sendable () -> Void = {}) {
        self.configuration = configuration
        self.state = state
        self.observation = observation
        self.lease = lease
        self.clock = clock
        self.runner = runner
        self.logger = logger
        self.onApplied = onApplied
    }

    var installer: ConfigInstaller {
        ConfigInstaller(stateDirectory: configuration.stateDirectory, keepGenerations: configuration.keepGenerations)
    }

    /// How long a changed file must have been left alone before a timer pass reads it.
    static let writeQuietSeconds = 2.0

    /// A writer still has it open, or wrote it moments ago (one that opens and closes per line).
    func isBeingWritten(_ path: String) -> Bool {
        if let modified = FileIO.status(path).map({ Double($0.st_mtim.tv_sec) + Double($0.st_mtim.tv_nsec) / 1e9 }),
           clock.now() - modified < Self.writeQuietSeconds {
            return true
        }
        return OpenForWriting.check(path)
    }

    public func reconcile(reason: String) async {
        let now = clock.now()
        state.update { $0.passStartedAt = now; $0.passTrigger = reason }
        defer { state.update { $0.passStartedAt = nil; $0.passTrigger = nil } }
        let before = state.value.pendingRestart
        state.update { $0.cassandraStarted(at: observation.value?.cassandraStartedAt) }
        defer {
            let after = state.value.pendingRestart
            if after != before { RestartPendingStore(stateDirectory: configuration.stateDirectory).save(after) }
        }
        let path = configuration.desiredState
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path)
        } catch {
            // A deleted file changes nothing on the node: the last good state stays in force.
            // Reported (and logged) once per reason: a file deleted, then replaced by a FIFO, says so.
            let errors = ["\(path):1:1: error: \(error)"]
            if state.value.refusedHash != "missing" || state.value.refused?.errors != errors {
                logger.warning("desired state unreadable; the last good state stays in force", metadata: ["reason": "desired_state.refused", "error": "\(error)"])
                state.update { $0.refusedFile(path, hash: "missing", errors: errors, at: now) }
            }
            await drift(now: now)
            return
        }
        let hash = SHA256.hex(bytes)
        // A timer pass that finds a new file modified in the last seconds leaves it alone: it is
        // probably still being written in place, and its close will wake a pass that reads it whole.
        if reason == "tick", hash != state.value.inForce?.hash, hash != state.value.refusedHash, isBeingWritten(path) {
            return
        }
        // A file others may write is not taken from: the agent runs as root and acts on it.
        let untrusted = TrustedPath.problems(path, adminGroup: configuration.adminGroup)
        if !untrusted.isEmpty {
            let errors = untrusted.map { "\(path):1:1: error: \($0.message)" }
            if state.value.refused?.errors != errors {
                logger.error("desired state refused: others may write it", metadata: ["reason": "desired_state.untrusted", "first": "\(errors[0])"])
            }
            // No hash is remembered: a chmod fixes it without the content changing.
            state.update { $0.refusedFile(path, hash: nil, errors: errors, at: now); $0.untrusted = true }
            // Hand edits are still put back, from the last generation: drift() would read this file
            // again and, finding the content in force, re-apply it and clear the refusal it just made.
            await restoreGeneration(now: now)
            return
        }
        if state.value.untrusted { state.update { $0.untrusted = false; $0.refused = nil } }
        if hash == state.value.refusedHash {
            await drift(now: now)
            return
        }
        let validation = DesiredStateValidator.validate(bytes: bytes, file: path)
        guard case .success(let validated) = validation else {
            if case .failure(let invalid) = validation {
                logger.error("desired state refused; nothing was changed", metadata: [
                    "reason": "desired_state.refused", "hash": "\(hash)", "errors": "\(invalid.diagnostics.count)",
                    "first": "\(invalid.diagnostics.first?.description ?? "")",
                ])
                state.update { $0.refusedFile(path, hash: hash, errors: invalid.diagnostics.map(\.description), at: now) }
            }
            await drift(now: now)
            return
        }
        await apply(validated, now: now, reason: reason)
    }

    /// Installs what `validated` renders (config and stores); changes found although the
    /// desired state is the one in force are drift (a hand edit) and are put back.
    func apply(_ validated: ValidatedDesiredState, now: Double, reason: String) async {
        let directory = configuration.cassandraConfigDirectory
        let artifacts: NodeArtifacts
        let reuse = StoreReuse(stateDirectory: configuration.stateDirectory)
        let built = NodeArtifactsBuilder.build(validated, storeDirectory: directory, now: Int64(now), warnDays: configuration.certificateWarningDays,
                                               reuse: { name, inputs in reuse.installed(name, inputs: inputs, at: "\(directory)/\(name)") })
        switch built {
        case .failure(let invalid):
            // The files it names (certificates, keys) may be fixed without the desired state
            // changing: no hash is remembered, so the next pass tries again; logged once per error set.
            let errors = invalid.diagnostics.map(\.description)
            if state.value.refused?.errors != errors {
                logger.error("desired state refused; nothing was changed", metadata: ["reason": "desired_state.refused", "first": "\(errors.first ?? "")"])
            }
            state.update { $0.refusedFile(validated.file, hash: nil, errors: errors, at: now) }
            return
        case .success(let built):
            artifacts = built
        }
        let pipeline = ConfigPipeline(configuration: configuration, directory: directory)
        let prepared = pipeline.prepare(validated, artifacts)
        let isDrift = state.value.inForce?.hash == validated.hash
        // Only a pass that changes files needs the node; one that finds nothing to do never waits.
        var holding = false
        if prepared.changes {
            if let busy = await lease.beginReconcileChange() {
                let first = state.value.deferred == nil
                state.update { $0.deferred = $0.deferred ?? .init(since: now, reason: busy.message) }
                if first { logger.notice("desired state waits for the node", metadata: ["reason": "reconcile.deferred", "holder": "\(busy.message)"]) }
                return
            }
            holding = true
        }
        await installAndPushLive(prepared, pipeline: pipeline, validated: validated, isDrift: isDrift, now: now, reason: reason)
        if holding { await lease.endReconcileChange() }
    }

    func installAndPushLive(_ prepared: ConfigPipeline.Prepared, pipeline: ConfigPipeline, validated: ValidatedDesiredState, isDrift: Bool, now: Double, reason: String) async {
        let artifacts = prepared.artifacts, plan = prepared.plan, version = validated.state.cassandraVersion
        let outcome: InstallOutcome
        do {
            outcome = try pipeline.install(prepared, hash: validated.hash, at: now)
        } catch {
            // Not the desired state's fault: the file stays valid, the node could not take it.
            logger.error("installing the rendered files failed; every file is as it was", metadata: ["reason": "\(error.reason)", "error": "\(error.message)"])
            state.update { $0.installFailure = .init(since: $0.installFailure?.since ?? now, reason: error.reason, message: error.message) }
            return
        }
        let certificates = artifacts.stores.flatMap { store in store.certificates.map { (store: store.name, certificate: $0) } }
        let changed = outcome.changedPaths.map(FileIO.baseName)
        // Stores rebuilt because their PEM inputs changed are a rotation (certbot, Vault agent and
        // cert-manager replace the files in place), not a hand edit of the installed files.
        let rotated = prepared.rebuiltStores.filter(changed.contains)
        let drifted = isDrift ? changed.filter { !rotated.contains($0) } : []
        if !drifted.isEmpty {
            logger.warning("config edited outside the agent; restored", metadata: ["reason": "config.drift", "files": "\(drifted.joined(separator: ","))", "generation": "\(outcome.generation ?? 0)"])
        }
        if isDrift {
            if !rotated.isEmpty {
                logger.notice("certificate inputs changed; stores rotated", metadata: ["reason": "tls.rotated", "files": "\(rotated.joined(separator: ","))", "generation": "\(outcome.generation ?? 0)"])
                await applyLive(plan.onlyStores(rotated), version: version, now: now)
            }
        } else if !changed.isEmpty {
            logger.notice("desired state applied", metadata: ["reason": "desired_state.applied", "generation": "\(outcome.generation ?? 0)", "hash": "\(validated.hash)", "trigger": "\(reason)"])
            await applyLive(plan, version: version, now: now)
        }
        // Recorded once the pass is complete, so status never shows a generation whose live changes are still under way.
        let wasInForce = state.value.inForce?.hash
        state.update {
            $0.installFailure = nil
            $0.storeCertificates = certificates
            $0.applied(hash: validated.hash, generation: outcome.generation, version: version, state: validated.state, at: now)
            $0.reconciled(at: now, drift: drifted)
        }
        if wasInForce != validated.hash { onApplied() }
    }

    /// Pushes live-settable changes to a running node; everything else waits for a restart.
    func applyLive(_ plan: ConfigPlan, version: CassandraVersion, now: Double) async {
        let nodetool = NodetoolClient(prefix: configuration.nodetool, runner: runner, version: version, timeout: configuration.nodetoolTimeout)
        var restart = plan.restartReasons
        // New key material: one reloadssl covers every rebuilt store (4.0+; 3.11 lists them as restart reasons).
        if plan.files.contains(where: { file in file.settings.contains { $0.effect == .live(["reloadssl"]) } }) {
            do {
                try await nodetool.reloadSSL()
                state.update { $0.recordLive("nodetool reloadssl", error: nil, at: now) }
                logger.info("key material reloaded", metadata: ["reason": "tls.reloaded"])
            } catch {
                state.update { $0.recordLive("nodetool reloadssl", error: error.description, at: now) }
                restart.append("key material")
            }
        }
        for change in plan.files.flatMap(\.settings) {
            guard case .live(let commands) = change.effect, commands != ["reloadssl"] else { continue }
            guard let value = change.new, let arguments = LiveSetters.command(for: change.key, value: value, version: version) else {
                restart.append(change.key)
                continue
            }
            do {
                _ = try await nodetool.run(arguments)
                state.update { $0.recordLive("nodetool " + arguments.joined(separator: " "), error: nil, at: now) }
                logger.info("applied live", metadata: ["reason": "live.applied", "command": "\(arguments.joined(separator: " "))"])
            } catch {
                // Not running, or the setter failed: the new file takes effect at the next start.
                state.update { $0.recordLive("nodetool " + arguments.joined(separator: " "), error: error.description, at: now) }
                restart.append(change.key)
            }
        }
        let reasons = restart
        state.update { $0.restartNeeded(for: reasons, at: now) }
    }

    /// With no new desired state to apply, still put back files edited by hand.
    func drift(now: Double) async {
        guard let hash = state.value.inForce?.hash else { return }
        guard let bytes = try? FileIO.read(configuration.desiredState), SHA256.hex(bytes) == hash else {
            // The file on disk is not the one in force: re-render the one in force from its generation.
            await restoreGeneration(now: now)
            return
        }
        if case .success(let validated) = DesiredStateValidator.validate(text: String(decoding: bytes, as: UTF8.self), file: configuration.desiredState) {
            await apply(validated, now: now, reason: "resync")
        }
    }

    /// Re-installs the newest generation's files if the installed ones differ.
    func restoreGeneration(now: Double) async {
        guard let latest = try? installer.generations().last, latest.generation > 0 else { return }
        let drifted = latest.files.filter { file in
            (try? FileIO.read(file.path)).map { SHA256.hex($0) != file.sha256 } ?? true
        }
        guard !drifted.isEmpty else { return }
        if let busy = await lease.beginReconcileChange() {
            state.update { $0.deferred = $0.deferred ?? .init(since: now, reason: busy.message) }
            return
        }
        let restored = try? installer.rollback(to: latest.generation, installedAt: Int64(now))
        await lease.endReconcileChange()
        guard let outcome = restored else { return }
        state.update { $0.reconciled(at: now, drift: outcome.changedPaths.map(FileIO.baseName)) }
        logger.warning("config edited outside the agent; restored", metadata: ["reason": "config.drift", "generation": "\(latest.generation)"])
    }
}
