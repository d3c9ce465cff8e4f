/// A desired state that passed every check, with its settings resolved for its
/// Cassandra version: what the renderer and the planner work from.
public struct ValidatedDesiredState: Sendable {
    public var state: DesiredState
    public var settings: [ResolvedSetting]
    /// SHA-256 of the file's bytes: what `status` and the rendered headers name.
    public var hash: String
    public var file: String
    public var warnings: [Diagnostic]
}

/// Runs every check a desired-state file gets, in one pass, collecting all
/// errors: the file's structure, its settings for the chosen version, keys the
/// agent derives that are also given in `settings`, and finally the rendered
/// cassandra.yaml against what the target version loads.
public enum DesiredStateValidator {
    public static func validate(text: String, file: String) -> Result<ValidatedDesiredState, InvalidInput> {
        var diagnostics = Diagnostics(file: file)
        guard let state = DesiredStateLoader.load(text: text, diagnostics: &diagnostics) else {
            return .failure(InvalidInput(diagnostics.sorted))
        }
        let settings = SettingsResolver(version: state.cassandraVersion).resolve(state.settings, &diagnostics)
        DerivedKeys.rejectConflicts(state, &diagnostics)
        let validated = ValidatedDesiredState(
            state: state, settings: settings, hash: SHA256.hex(text.utf8), file: file, warnings: [])
        if !diagnostics.hasErrors {
            _ = CassandraConfigRenderer.render(validated, &diagnostics)
        }
        if diagnostics.hasErrors { return .failure(InvalidInput(diagnostics.sorted)) }
        var result = validated
        result.warnings = diagnostics.sorted.filter { $0.severity == .warning }
        return .success(result)
    }
}

/// The cassandra.yaml keys the agent derives from the other sections. Giving one
/// in `settings` as well is an error, never a silent override.
enum DerivedKeys {
    static func rejectConflicts(_ state: DesiredState, _ diagnostics: inout Diagnostics) {
        for entry in state.settings {
            guard let source = derivingSection(of: entry.name, in: state) else { continue }
            diagnostics.error(
                "settings.\(entry.name) is derived by the agent from \(source.section) (line \(source.line)); set it there, not in settings",
                at: entry.nameMark)
        }
    }

    static func derivingSection(of key: String, in state: DesiredState) -> (section: String, line: Int)? {
        switch key {
        case "cluster_name": return ("cluster.name", state.cluster.name.mark.line)
        case "seed_provider": return ("cluster.seeds", state.cluster.seeds.first?.mark.line ?? 1)
        case "listen_address", "listen_interface": return ("node.listenAddress/node.listenInterface", state.node.listen.mark.line)
        case "rpc_address", "rpc_interface": return ("node.rpcAddress/node.rpcInterface (or the listen address)", state.node.rpc.mark.line)
        case "endpoint_snitch":
            guard let dc = state.node.datacenter else { return nil }
            return ("node.datacenter and node.rack (GossipingPropertyFileSnitch)", dc.mark.line)
        case "server_encryption_options":
            guard let internode = state.tls?.internode else { return nil }
            return ("tls.internode", internode.mark.line)
        case "client_encryption_options":
            guard let client = state.tls?.client else { return nil }
            return ("tls.client", client.mark.line)
        default: return nil
        }
    }
}
