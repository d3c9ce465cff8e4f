/// Decodes a desired-state file, reporting every problem with its line and
/// column. Structure only: settings are checked against the Cassandra version
/// by `SettingsResolver`, which `DesiredStateValidator` runs next.
public enum DesiredStateLoader {
    static let topLevelKeys = ["apiVersion", "cassandra", "cluster", "node", "settings", "tls", "repair", "backup", "patching", "blackouts", "rebuild", "decommission"]

    /// Every section that decoded, each on its own: an error in one section leaves
    /// the others decoded, so the validator can still check (and report) them.
    struct Sections {
        var version: CassandraVersion?
        var cluster: DesiredState.Cluster?
        var node: DesiredState.Node?
        var settings: [DesiredState.SettingEntry] = []
        var tls: DesiredState.TLS?
        var repair: DesiredState.Repair?
        var backup: DesiredState.Backup?
        var patching: DesiredState.Patching?
        var blackouts: [Blackout] = []
        var rebuild: StreamingSettings?
        var decommission: StreamingSettings?

        /// The whole state, when every required section decoded.
        var state: DesiredState? {
            guard let version, let cluster, let node else { return nil }
            var state = DesiredState(
                cassandraVersion: version, cluster: cluster, node: node, settings: settings,
                tls: tls, repair: repair, backup: backup, patching: patching)
            state.blackouts = blackouts
            state.rebuild = rebuild
            state.decommission = decommission
            return state
        }
    }

    /// The decoded state, or nil with errors in `diagnostics`.
    public static func load(text: String, diagnostics: inout Diagnostics) -> DesiredState? {
        guard let sections = sections(text: text, diagnostics: &diagnostics), !diagnostics.hasErrors else { return nil }
        return sections.state
    }

    /// nil only when the file is not a YAML mapping at all.
    static func sections(text: String, diagnostics: inout Diagnostics) -> Sections? {
        let root: YAMLNode
        do {
            guard let parsed = try YAMLParser.parse(text) else {
                diagnostics.error("the desired-state file is empty", at: SourceMark(line: 1, column: 1))
                return nil
            }
            root = parsed
        } catch {
            diagnostics.error(error.message, at: error.mark)
            return nil
        }
        guard var top = MappingReader(root, context: "the desired-state file", diagnostics: &diagnostics) else { return nil }

        if let api = top.required("apiVersion", diagnostics: &diagnostics),
           let text = MappingReader.string(api, "apiVersion", &diagnostics), text != DesiredState.apiVersion {
            diagnostics.error("apiVersion must be '\(DesiredState.apiVersion)', found '\(text)'", at: api.mark)
        }
        var sections = Sections()
        sections.version = top.required("cassandra", diagnostics: &diagnostics).flatMap { cassandraSection($0, &diagnostics) }
        sections.cluster = top.required("cluster", diagnostics: &diagnostics).flatMap { clusterSection($0, sections.version, &diagnostics) }
        sections.node = top.required("node", diagnostics: &diagnostics).flatMap { nodeSection($0, &diagnostics) }
        sections.settings = top.optional("settings").flatMap { settingsSection($0, &diagnostics) } ?? []
        sections.tls = top.optional("tls").flatMap { TLSSectionReader.read($0, &diagnostics) }
        sections.repair = top.optional("repair").flatMap { JobSectionReader.repair($0, version: sections.version, &diagnostics) }
        sections.backup = top.optional("backup").flatMap { JobSectionReader.backup($0, &diagnostics) }
        sections.patching = top.optional("patching").flatMap { JobSectionReader.patching($0, &diagnostics) }
        sections.blackouts = top.optional("blackouts").map { JobSectionReader.blackouts($0, &diagnostics) } ?? []
        sections.rebuild = top.optional("rebuild").flatMap { StreamingSectionReader.read($0, kind: .rebuild, &diagnostics) }
        sections.decommission = top.optional("decommission").flatMap { StreamingSectionReader.read($0, kind: .decommission, &diagnostics) }
        top.rejectUnknownKeys(&diagnostics)
        return sections
    }

    static func cassandraSection(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> CassandraVersion? {
        guard var section = MappingReader(node, context: "cassandra", diagnostics: &diagnostics) else { return nil }
        defer { section.rejectUnknownKeys(&diagnostics) }
        guard let value = section.required("version", diagnostics: &diagnostics),
              let text = MappingReader.string(value, "cassandra.version", &diagnostics)
        else { return nil }
        // A full release ("4.1.7") names its major version.
        let parts = text.split(separator: ".")
        let major = parts.count == 3 && parts.allSatisfy({ Int($0) != nil }) ? parts[0...1].joined(separator: ".") : text
        guard let version = CassandraVersion(rawValue: major) else {
            let supported = CassandraVersion.allCases.map(\.rawValue)
            diagnostics.error(
                "cassandra.version must be one of \(supported.joined(separator: ", ")), found '\(text)'\(Suggestion.hint(for: text, in: supported))",
                at: value.mark)
            return nil
        }
        return version
    }

    static func clusterSection(_ node: YAMLNode, _ version: CassandraVersion?, _ diagnostics: inout Diagnostics) -> DesiredState.Cluster? {
        guard var section = MappingReader(node, context: "cluster", diagnostics: &diagnostics) else { return nil }
        defer { section.rejectUnknownKeys(&diagnostics) }
        let name = section.required("name", diagnostics: &diagnostics).flatMap { value -> Located<String>? in
            guard let text = MappingReader.string(value, "cluster.name", &diagnostics) else { return nil }
            if text.trimmingSpaces.isEmpty {
                diagnostics.error("cluster.name must not be blank", at: value.mark)
                return nil
            }
            return Located(text, at: value.mark)
        }
        var seeds: [Located<DesiredState.Seed>] = []
        if let value = section.required("seeds", diagnostics: &diagnostics),
           let list = MappingReader.stringList(value, "cluster.seeds", &diagnostics) {
            if list.isEmpty { diagnostics.error("cluster.seeds must list at least one seed", at: value.mark) }
            var seen: [String: Int] = [:]
            for (text, mark) in list {
                switch NetworkAddress.parseSeed(text) {
                case .failure(let problem):
                    diagnostics.error("seed '\(text)': \(problem.message)", at: mark)
                case .success(let seed):
                    if seed.port != nil, let version, !version.seedsMayHavePort {
                        diagnostics.error("seed '\(text)': Cassandra \(version) seeds cannot carry a port (4.0 and later accept one)", at: mark)
                    }
                    if let line = seen[seed.description] {
                        diagnostics.error("seed '\(text)' is listed twice (also on line \(line))", at: mark)
                    }
                    seen[seed.description] = mark.line
                    seeds.append(Located(seed, at: mark))
                }
            }
        }
        guard let name, !seeds.isEmpty else { return nil }
        return DesiredState.Cluster(name: name, seeds: seeds)
    }

    static func nodeSection(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> DesiredState.Node? {
        guard var section = MappingReader(node, context: "node", diagnostics: &diagnostics) else { return nil }
        defer { section.rejectUnknownKeys(&diagnostics) }
        func name(_ key: String) -> Located<String>? {
            guard let value = section.optional(key), let text = MappingReader.string(value, "node.\(key)", &diagnostics) else { return nil }
            if let problem = NetworkAddress.problemInRackOrDC(text) {
                diagnostics.error("node.\(key) '\(text)' \(problem)", at: value.mark)
                return nil
            }
            return Located(text, at: value.mark)
        }
        let datacenter = name("datacenter")
        let rack = name("rack")
        // A datacenter or rack given but refused is reported already; only an absent one is "missing".
        let givenDatacenter = section.has("datacenter") && section.optional("datacenter") != nil
        let givenRack = section.has("rack") && section.optional("rack") != nil
        if givenDatacenter != givenRack {
            let missing = givenDatacenter ? "rack" : "datacenter"
            diagnostics.error("node.\(missing) is missing: give node.datacenter and node.rack together", at: node.mark)
        }
        let listen = endpoint(&section, address: "listenAddress", interface: "listenInterface", required: false, &diagnostics)
            ?? (section.has("listenAddress") || section.has("listenInterface") ? nil : Located(.hostName, at: node.mark))
        let rpc = endpoint(&section, address: "rpcAddress", interface: "rpcInterface", required: false, &diagnostics)
        let dcSuffix = section.optional("dcSuffix").flatMap { MappingReader.string($0, "node.dcSuffix", &diagnostics) }
        let preferLocal = section.optional("preferLocal").flatMap { MappingReader.bool($0, "node.preferLocal", &diagnostics) }
        guard let listen else { return nil }
        // Clients connect where rpc_address points; the shipped "localhost" would
        // shut out every remote client, so the listen endpoint is the default
        // (blank too when the listen address is: the host name's address).
        return DesiredState.Node(
            datacenter: datacenter, rack: rack, listen: listen, rpc: rpc ?? listen,
            dcSuffix: dcSuffix, preferLocal: preferLocal, mark: node.mark)
    }

    static func endpoint(_ section: inout MappingReader, address: String, interface: String, required: Bool, _ diagnostics: inout Diagnostics) -> Located<DesiredState.Endpoint>? {
        let addressNode = section.optional(address)
        let interfaceNode = section.optional(interface)
        switch (addressNode, interfaceNode) {
        case (let a?, _?):
            diagnostics.error("node.\(address) and node.\(interface) exclude each other: give one", at: a.mark)
            return nil
        case (let a?, nil):
            guard let text = MappingReader.string(a, "node.\(address)", &diagnostics) else { return nil }
            if let problem = NetworkAddress.problemInHost(text) {
                diagnostics.error("node.\(address) '\(text)' \(problem)", at: a.mark)
                return nil
            }
            return Located(.address(text), at: a.mark)
        case (nil, let i?):
            guard let text = MappingReader.string(i, "node.\(interface)", &diagnostics) else { return nil }
            if text.isEmpty || text.count > 15 || text.contains(where: { $0 == "/" || $0 == " " || $0 == ":" }) {
                diagnostics.error("node.\(interface) '\(text)' is not a network interface name", at: i.mark)
                return nil
            }
            return Located(.interface(text), at: i.mark)
        case (nil, nil):
            if required {
                diagnostics.error("node needs node.\(address) (or node.\(interface)): the address other nodes reach this one at", at: section.node.mark)
            }
            return nil
        }
    }

    static func settingsSection(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> [DesiredState.SettingEntry]? {
        guard let section = MappingReader(node, context: "settings", diagnostics: &diagnostics) else { return nil }
        return section.entries.map { DesiredState.SettingEntry(name: $0.key, nameMark: $0.keyMark, value: $0.value) }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
