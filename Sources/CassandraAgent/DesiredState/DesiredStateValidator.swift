/// A desired state that passed every check, with its settings resolved for its
/// Cassandra version: what the renderer and the planner work from.
public struct ValidatedDesiredState: Sendable {
    public var state: DesiredState
    public var settings: [ResolvedSetting]
    /// SHA-256 of the file's bytes: what `status` and the rendered headers name.
    public var hash: String
    public var file: String
    public var warnings: [Diagnostic]
    /// The files as validation rendered them (no TLS options added): what
    /// NodeArtifactsBuilder installs when there is no `tls`, instead of rendering again.
    var rendered: RenderedNodeConfig?
}

/// Runs every check a desired-state file gets, in one pass, collecting all
/// errors: the file's structure, its settings for the chosen version, keys the
/// agent derives that are also given in `settings`, and finally the rendered
/// cassandra.yaml against what the target version loads.
public enum DesiredStateValidator {
    /// Validates a file's bytes: invalid UTF-8 is refused with the line and column of
    /// the bad byte. What every reader of a desired-state file should call.
    public static func validate(bytes: [UInt8], file: String) -> Result<ValidatedDesiredState, InvalidInput> {
        do {
            return validate(text: try SourceText.decode(bytes), file: file)
        } catch {
            return .failure(InvalidInput([Diagnostic(.error, file: file, mark: error.mark, message: error.message)]))
        }
    }

    public static func validate(text: String, file: String) -> Result<ValidatedDesiredState, InvalidInput> {
        var diagnostics = Diagnostics(file: file)
        // Text decoded leniently (String(decoding:)) carries U+FFFD where the bytes were
        // not UTF-8: a cluster name with one would not match the cluster's.
        if let mark = replacementCharacter(in: text) {
            diagnostics.error("the file is not valid UTF-8 (or holds U+FFFD, the replacement character) here; save it as UTF-8", at: mark)
            return .failure(InvalidInput(diagnostics.sorted))
        }
        guard let sections = DesiredStateLoader.sections(text: text, diagnostics: &diagnostics) else {
            return .failure(InvalidInput(diagnostics.sorted))
        }
        // Settings are checked whenever the version is known, whatever else is wrong,
        // so one run reports every section's errors.
        var settings: [ResolvedSetting] = []
        if let version = sections.version {
            settings = SettingsResolver(version: version).resolve(sections.settings, &diagnostics)
        }
        DerivedKeys.rejectConflicts(sections, &diagnostics)
        guard !diagnostics.hasErrors, let state = sections.state else {
            return .failure(InvalidInput(diagnostics.sorted))
        }
        let validated = ValidatedDesiredState(
            state: state, settings: settings, hash: SHA256.hex(text.utf8), file: file, warnings: [])
        let rendered = CassandraConfigRenderer.render(validated, &diagnostics)
        if diagnostics.hasErrors { return .failure(InvalidInput(diagnostics.sorted)) }
        var result = validated
        result.rendered = rendered
        result.warnings = diagnostics.sorted.filter { $0.severity == .warning }
        return .success(result)
    }

    static func replacementCharacter(in text: String) -> SourceMark? {
        guard text.unicodeScalars.contains("\u{FFFD}") else { return nil }
        var line = 1, column = 1
        for scalar in text.unicodeScalars {
            if scalar == "\u{FFFD}" { return SourceMark(line: line, column: column) }
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return nil
    }
}

/// The cassandra.yaml keys the agent derives from the other sections. Giving one
/// in `settings` as well is an error, never a silent override.
enum DerivedKeys {
    static func rejectConflicts(_ sections: DesiredStateLoader.Sections, _ diagnostics: inout Diagnostics) {
        for entry in sections.settings {
            guard let source = derivingSection(of: entry.name, in: sections) else { continue }
            let line = source.line.map { " (line \($0))" } ?? ""
            diagnostics.error(
                "settings.\(entry.name) is derived by the agent from \(source.section)\(line); set it there, not in settings",
                at: entry.nameMark)
        }
    }

    /// The section a key is derived from, with its line when that section decoded.
    static func derivingSection(of key: String, in sections: DesiredStateLoader.Sections) -> (section: String, line: Int?)? {
        switch key {
        case "cluster_name": return ("cluster.name", sections.cluster?.name.mark.line)
        case "seed_provider": return ("cluster.seeds", sections.cluster?.seeds.first?.mark.line)
        case "listen_address", "listen_interface": return ("node.listenAddress/node.listenInterface", sections.node?.listen.mark.line)
        case "rpc_address", "rpc_interface": return ("node.rpcAddress/node.rpcInterface (or the listen address)", sections.node?.rpc.mark.line)
        case "endpoint_snitch":
            guard let dc = sections.node?.datacenter else { return nil }
            return ("node.datacenter and node.rack (GossipingPropertyFileSnitch)", dc.mark.line)
        case "server_encryption_options":
            guard let internode = sections.tls?.internode else { return nil }
            return ("tls.internode", internode.mark.line)
        case "client_encryption_options":
            guard let client = sections.tls?.client else { return nil }
            return ("tls.client", client.mark.line)
        default: return nil
        }
    }
}
