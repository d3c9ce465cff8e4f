/// The one pipeline from built artifacts to installed files, shared by the
/// daemon's reconcile and the `plan`/`apply` commands: which stores really
/// changed (store reuse), what the change does (plan), install, record.
struct ConfigPipeline {
    let directory: String
    let stateDirectory: String
    let keepGenerations: Int
    let ownership: FileOwnership

    init(configuration: AgentConfiguration, directory: String? = nil) {
        self.directory = directory ?? configuration.cassandraConfigDirectory
        stateDirectory = configuration.stateDirectory
        keepGenerations = configuration.keepGenerations
        ownership = configuration.files
    }

    struct Prepared {
        var artifacts: NodeArtifacts
        var plan: ConfigPlan
        var rebuiltStores: [String]
        var reuse: StoreReuse
        /// Whether installing would change a file.
        var changes: Bool { plan.hasChanges || !rebuiltStores.isEmpty }
    }

    func prepare(_ validated: ValidatedDesiredState, _ artifacts: NodeArtifacts) -> Prepared {
        let reuse = StoreReuse(stateDirectory: stateDirectory)
        let rebuilt = artifacts.stores.filter { reuse.changed($0, installedAt: "\(directory)/\($0.name)") }.map(\.name)
        let plan = ConfigPlan.make(
            rendered: artifacts.config, installed: { [directory] in try? FileIO.readText("\(directory)/\($0)") },
            installedName: { [directory] in "\(directory)/\($0)" }, version: validated.state.cassandraVersion, rebuiltStores: rebuilt)
        return Prepared(artifacts: artifacts, plan: plan, rebuiltStores: rebuilt, reuse: reuse)
    }

    func install(_ prepared: Prepared, hash: String, at now: Double) throws(InstallError) -> InstallOutcome {
        let installer = ConfigInstaller(stateDirectory: stateDirectory, keepGenerations: keepGenerations)
        let outcome = try installer.install(prepared.reuse.installFiles(prepared.artifacts, directory: directory, ownership: ownership), desiredStateHash: hash, installedAt: Int64(now))
        prepared.reuse.record(prepared.artifacts.stores)
        return outcome
    }
}
