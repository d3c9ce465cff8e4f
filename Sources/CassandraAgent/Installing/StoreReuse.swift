/// Keystores come out different on every build (random salts), so the agent
/// swaps one only when what it is built from changed: it remembers each
/// installed store's input fingerprint in its state directory and otherwise
/// keeps the installed bytes.
public struct StoreReuse: Sendable {
    let stateDirectory: String

    public init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
    }

    var directory: String { stateDirectory + "/store-inputs" }

    /// The bytes to install for each store: the installed ones when its inputs are unchanged.
    public func bytes(for store: NodeArtifacts.Store, installedAt path: String) -> [UInt8] {
        guard let recorded = try? FileIO.readText("\(directory)/\(store.name).sha256"), recorded == store.inputs,
              let installed = try? FileIO.read(path)
        else { return store.bytes }
        return installed
    }

    /// Whether a store would be rebuilt from new inputs (or created).
    public func changed(_ store: NodeArtifacts.Store, installedAt path: String) -> Bool {
        installed(store.name, inputs: store.inputs, at: path) == nil
    }

    /// The installed bytes of a store built from `inputs`, if those are what it was built from:
    /// then building it again (four PBKDF2 runs) can be skipped.
    public func installed(_ name: String, inputs: String, at path: String) -> [UInt8]? {
        guard let recorded = try? FileIO.readText("\(directory)/\(name).sha256"), recorded == inputs else { return nil }
        return try? FileIO.read(path)
    }

    public func record(_ stores: [NodeArtifacts.Store]) {
        try? FileIO.makeDirectories(directory, mode: 0o700)
        for store in stores {
            try? FileIO.writeAtomically("\(directory)/\(store.name).sha256", Array(store.inputs.utf8), mode: 0o600)
        }
    }

    /// The install set: config files as rendered, stores reused where their inputs did not change.
    public func installFiles(_ artifacts: NodeArtifacts, directory target: String, ownership: FileOwnership) -> [InstallFile] {
        artifacts.config.files.map { InstallFile(path: "\(target)/\($0.name)", contents: Array($0.contents.utf8), ownership: ownership) }
            + artifacts.stores.map { InstallFile(path: "\(target)/\($0.name)", contents: bytes(for: $0, installedAt: "\(target)/\($0.name)"), ownership: ownership) }
    }
}
