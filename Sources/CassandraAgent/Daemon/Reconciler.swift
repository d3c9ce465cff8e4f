import Logging

/// One pass of keeping the node as declared: read the desired-state file,
/// refuse it whole or install what it renders, push what can change live,
/// record what needs a restart, and put back files someone edited by hand.
public struct Reconciler: Sendable {
    let configuration: AgentConfiguration
    let state: NodeState
    let runner: any ProcessRunner
    let logger: Logger

    public init(configuration: AgentConfiguration, state: NodeState, runner: any ProcessRunner, logger: Logger) {
        self.configuration = configuration
        self.state = state
        self.runner = runner
        self.logger = logger
    }

    var installer: ConfigInstaller {
        ConfigInstaller(stateDirectory: configuration.stateDirectory, keepGenerations: configuration.keepGenerations)
    }

    public func reconcile(reason: String) async {
        let now = wallClockSeconds()
        let path = configuration.desiredState
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path)
        } catch {
            // A deleted file changes nothing on the node: the last good state stays in force.
            if await state.lastRefusedHash() != "missing" {
                logger.warning("desired state unreadable; the last good state stays in force", metadata: ["reason": "desired_state.refused", "error": "\(error)"])
                await state.refusedFile(path, hash: "missing", errors: ["\(path):1:1: error: \(error)"], at: now)
            }
            await drift(now: now)
            return
        }
        let hash = SHA256.hex(bytes)
        if hash == (await state.lastRefusedHash()) {
            await drift(now: now)
            return
        }
        let validation = DesiredStateValidator.validate(text: String(decoding: bytes, as: UTF8.self), file: path)
        guard case .success(let validated) = validation else {
            if case .failure(let invalid) = validation {
                logger.error("desired state refused; nothing was changed", metadata: [
                    "reason": "desired_state.refused", "hash": "\(hash)", "errors": "\(invalid.diagnostics.count)",
                    "first": "\(invalid.diagnostics.first?.description ?? "")",
                ])
                await state.refusedFile(path, hash: hash, errors: invalid.diagnostics.map(\.description), at: now)
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
        switch NodeArtifactsBuilder.build(validated, storeDirectory: directory, now: Int64(now), warnDays: configuration.certificateWarningDays) {
        case .failure(let invalid):
            // The files it names (certificates, keys) may be fixed without the desired state
            // changing: no hash is remembered, so the next pass tries again; logged once per error set.
            let errors = invalid.diagnostics.map(\.description)
            if await state.refusedErrors() != errors {
                logger.error("desired state refused; nothing was changed", metadata: ["reason": "desired_state.refused", "first": "\(errors.first ?? "")"])
            }
            await state.refusedFile(validated.file, hash: nil, errors: errors, at: now)
            return
        case .success(let built):
            artifacts = built
        }
        let version = validated.state.cassandraVersion
        let reuse = StoreReuse(stateDirectory: configuration.stateDirectory)
        let rebuilt = artifacts.stores.filter { reuse.changed($0, installedAt: "\(directory)/\($0.name)") }.map(\.name)
        let plan = ConfigPlan.make(
            rendered: artifacts.config, installed: { try? FileIO.readText("\(directory)/\($0)") },
            installedName: { "\(directory)/\($0)" }, version: version, rebuiltStores: rebuilt)
        let isDrift = await state.hashInForce() == validated.hash
        let outcome: InstallOutcome
        do {
            outcome = try installer.install(reuse.installFiles(artifacts, directory: directory, ownership: configuration.files), desiredStateHash: validated.hash, installedAt: Int64(now))
        } catch {
            logger.error("installing the rendered files failed; every file is as it was", metadata: ["reason": "install.failed", "error": "\(error.message)"])
            await state.refusedFile(validated.file, hash: nil, errors: ["\(validated.file):1:1: error: \(error.message)"], at: now)
            return
        }
        reuse.record(artifacts.stores)
        await state.stores(artifacts.stores.flatMap { store in store.certificates.map { (store.name, $0) } })
        let changed = outcome.changedPaths.map(FileIO.baseName)
        if isDrift && !changed.isEmpty {
            logger.warning("config edited outside the agent; restored", metadata: ["reason": "config.drift", "files": "\(changed.joined(separator: ","))", "generation": "\(outcome.generation ?? 0)"])
        } else if !changed.isEmpty {
            logger.notice("desired state applied", metadata: ["reason": "desired_state.applied", "generation": "\(outcome.generation ?? 0)", "hash": "\(validated.hash)", "trigger": "\(reason)"])
            await applyLive(plan, version: version, now: now)
        }
        // Recorded once the pass is complete, so status never shows a generation whose live changes are still under way.
        await state.applied(hash: validated.hash, generation: outcome.generation, version: version, state: validated.state, at: now)
        await state.reconciled(at: now, drift: isDrift ? changed : [])
    }

    /// Pushes live-settable changes to a running node; everything else waits for a restart.
    func applyLive(_ plan: ConfigPlan, version: CassandraVersion, now: Double) async {
        let nodetool = NodetoolClient(prefix: configuration.nodetool, runner: runner, version: version, timeout: configuration.nodetoolTimeout)
        var restart = plan.restartReasons
        // New key material: one reloadssl covers every rebuilt store (4.0+; 3.11 lists them as restart reasons).
        if plan.files.contains(where: { file in file.settings.contains { $0.effect == .live(["reloadssl"]) } }) {
            do {
                try await nodetool.reloadSSL()
                await state.recordLive("nodetool reloadssl", error: nil, at: now)
                logger.info("key material reloaded", metadata: ["reason": "tls.reloaded"])
            } catch {
                await state.recordLive("nodetool reloadssl", error: error.description, at: now)
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
                await state.recordLive("nodetool " + arguments.joined(separator: " "), error: nil, at: now)
                logger.info("applied live", metadata: ["reason": "live.applied", "command": "\(arguments.joined(separator: " "))"])
            } catch {
                // Not running, or the setter failed: the new file takes effect at the next start.
                await state.recordLive("nodetool " + arguments.joined(separator: " "), error: error.description, at: now)
                restart.append(change.key)
            }
        }
        await state.restartNeeded(for: restart, at: now)
    }

    /// With no new desired state to apply, still put back files edited by hand.
    func drift(now: Double) async {
        guard let hash = await state.hashInForce() else { return }
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
        guard !drifted.isEmpty, let outcome = try? installer.rollback(to: latest.generation, installedAt: Int64(now)) else { return }
        await state.reconciled(at: now, drift: outcome.changedPaths.map(FileIO.baseName))
        logger.warning("config edited outside the agent; restored", metadata: ["reason": "config.drift", "generation": "\(latest.generation)"])
    }
}
