/// The files rendered for one node, byte-for-byte deterministic.
public struct RenderedNodeConfig: Sendable, Equatable {
    public static let cassandraYAMLName = "cassandra.yaml"
    public static let rackdcName = "cassandra-rackdc.properties"

    public var cassandraYAML: String
    public var rackdcProperties: String
    /// Every top-level key of cassandra.yaml with where its value came from.
    public var entries: [RenderedEntry]

    public var files: [(name: String, contents: String)] {
        [(Self.cassandraYAMLName, cassandraYAML), (Self.rackdcName, rackdcProperties)]
    }
}

public struct RenderedEntry: Sendable, Equatable {
    public enum Origin: Sendable, Equatable {
        /// From the cluster and node sections.
        case derived
        /// A storage directory the agent always writes out.
        case storage
        /// From `settings`, written under this name at this mark.
        case settings(writtenAs: String, SourceMark)
        /// The value in the cassandra.yaml that ships with the version.
        case shipped
    }

    public var name: String
    public var value: YAMLValue
    public var origin: Origin
}

/// Renders cassandra.yaml and cassandra-rackdc.properties from a validated
/// desired state. Pure: no disk, no clock; the same input gives the same bytes.
///
/// cassandra.yaml is the version's shipped defaults, overridden by what the
/// agent derives (identity, seeds, addresses, snitch, storage directories),
/// overridden by `settings`; laid out in that order of interest with the
/// derived keys first, then the operator's settings, then the defaults.
public enum CassandraConfigRenderer {
    public static let debianDataRoot = "/var/lib/cassandra"

    /// `extra`: further derived keys (the encryption options, built from the TLS inputs).
    public static func render(_ validated: ValidatedDesiredState, extra: [(String, YAMLValue)] = [], _ diagnostics: inout Diagnostics) -> RenderedNodeConfig? {
        let state = validated.state
        let version = state.cassandraVersion
        let schema = CassandraSchema.of(version)

        var entries: [RenderedEntry] = schema.settings.compactMap { spec in
            spec.shipped.map { RenderedEntry(name: spec.name, value: typed($0.value, spec.shape, fields: spec.fields), origin: .shipped) }
        }
        func put(_ name: String, _ value: YAMLValue, _ origin: RenderedEntry.Origin) {
            entries.removeAll { $0.name == name }
            entries.append(RenderedEntry(name: name, value: value, origin: origin))
        }
        for (name, value) in derivedValues(state) + extra { put(name, value, .derived) }
        // An interface excludes the address form (Cassandra refuses both).
        for (form, excluded) in [("listen_interface", "listen_address"), ("rpc_interface", "rpc_address")]
        where entries.contains(where: { $0.name == form }) {
            entries.removeAll { $0.name == excluded }
        }
        let cdcEnabled = validated.settings.first { $0.name == "cdc_enabled" }?.value == .bool(true)
        for (name, value) in storageDirectories(cdc: cdcEnabled) where schema[name] != nil { put(name, value, .storage) }
        for setting in validated.settings { put(setting.name, setting.value, .settings(writtenAs: setting.writtenAs, setting.mark)) }

        dropShippedValuesForbiddenBySettings(&entries, schema)
        let order: (RenderedEntry.Origin) -> Int = { origin in
            switch origin {
            case .derived: 0
            case .storage: 1
            case .settings: 2
            case .shipped: 3
            }
        }
        let derivedOrder = derivedValues(state).map(\.0) + extra.map(\.0) + storageDirectories(cdc: true).map(\.0)
        entries.sort { a, b in
            if order(a.origin) != order(b.origin) { return order(a.origin) < order(b.origin) }
            if let i = derivedOrder.firstIndex(of: a.name), let j = derivedOrder.firstIndex(of: b.name) { return i < j }
            return a.name < b.name
        }

        let yaml = cassandraYAML(entries, validated: validated, release: schema.release, order: order)
        CassandraYAMLChecker(version: version).check(yaml, settingsMarks: markIndex(entries), file: validated.file, &diagnostics)
        guard !diagnostics.hasErrors else { return nil }
        return RenderedNodeConfig(cassandraYAML: yaml, rackdcProperties: rackdcProperties(state, hash: validated.hash), entries: entries)
    }

    /// The data set writes 1.0 as 1; a `number` setting must render as a floating value.
    static func typed(_ value: YAMLValue, _ shape: ValueShape, fields: [SettingSpec]?) -> YAMLValue {
        switch (value, shape.kind) {
        case (.int(let number), .number): return .double(Double(number))
        case (.map(let pairs), .object):
            return .map(pairs.map { key, item in
                guard let field = fields?.first(where: { $0.name == key }) else { return (key, item) }
                return (key, typed(item, field.shape, fields: field.fields))
            })
        case (.list(let items), .list):
            return .list(items.map { item in shape.items.map { typed(item, $0, fields: nil) } ?? item })
        default: return value
        }
    }

    static func derivedValues(_ state: DesiredState) -> [(String, YAMLValue)] {
        var values: [(String, YAMLValue)] = [("cluster_name", .string(state.cluster.name.value))]
        let seeds = state.cluster.seeds.map(\.value.description).joined(separator: ",")
        values.append(("seed_provider", .list([.map([
            ("class_name", .string("org.apache.cassandra.locator.SimpleSeedProvider")),
            ("parameters", .list([.map([("seeds", .string(seeds))])])),
        ])])))
        switch state.node.listen.value {
        case .address(let address): values.append(("listen_address", .string(address)))
        case .interface(let name): values.append(("listen_interface", .string(name)))
        // Blank: Cassandra uses InetAddress.getLocalHost(), the address of the host's name.
        case .hostName: values.append(("listen_address", .null))
        }
        switch state.node.rpc.value {
        case .address(let address): values.append(("rpc_address", .string(address)))
        case .interface(let name): values.append(("rpc_interface", .string(name)))
        case .hostName: values.append(("rpc_address", .null))
        }
        if state.node.datacenter != nil {
            values.append(("endpoint_snitch", .string("GossipingPropertyFileSnitch")))
        }
        return values
    }

    /// Cassandra derives these only when its start script sets cassandra.storagedir,
    /// which a package's service unit may not: they are always written out.
    static func storageDirectories(cdc: Bool) -> [(String, YAMLValue)] {
        var dirs: [(String, YAMLValue)] = [
            ("data_file_directories", .list([.string("\(debianDataRoot)/data")])),
            ("commitlog_directory", .string("\(debianDataRoot)/commitlog")),
            ("saved_caches_directory", .string("\(debianDataRoot)/saved_caches")),
            ("hints_directory", .string("\(debianDataRoot)/hints")),
        ]
        if cdc { dirs.append(("cdc_raw_directory", .string("\(debianDataRoot)/cdc_raw"))) }
        return dirs
    }

    /// The shipped file sets `commitlog_sync: periodic` with its period; an operator
    /// who switches to batch or group must not inherit a period Cassandra then refuses.
    static func dropShippedValuesForbiddenBySettings(_ entries: inout [RenderedEntry], _ schema: CassandraSchema) {
        for rule in schema.conditional {
            guard let key = rule.when.key, let expected = rule.when.equals,
                  let current = entries.first(where: { $0.name == key }), current.value.description == expected
            else { continue }
            for forbidden in rule.forbid ?? [] {
                entries.removeAll { $0.name == forbidden && $0.origin == .shipped }
            }
        }
    }

    static func markIndex(_ entries: [RenderedEntry]) -> [String: (writtenAs: String, mark: SourceMark)] {
        var index: [String: (String, SourceMark)] = [:]
        for entry in entries {
            if case .settings(let writtenAs, let mark) = entry.origin { index[entry.name] = (writtenAs, mark) }
        }
        return index
    }

    static func cassandraYAML(_ entries: [RenderedEntry], validated: ValidatedDesiredState, release: String, order: (RenderedEntry.Origin) -> Int) -> String {
        var out = header(validated, what: "cassandra.yaml for Cassandra \(validated.state.cassandraVersion) (defaults of \(release))")
        let titles = [
            "Cluster and node identity, from the cluster and node sections",
            "Storage directories",
            "Settings from the desired state",
            "Defaults of the cassandra.yaml shipped with Cassandra \(release)",
        ]
        var section = -1
        for entry in entries {
            let group = order(entry.origin)
            if group != section {
                section = group
                out += "\n# \(titles[group])\n"
            }
            out += YAMLEmitter.entry(entry.name, entry.value)
        }
        return out
    }

    static func header(_ validated: ValidatedDesiredState, what: String) -> String {
        """
        # Managed by cassandra-agent: \(what),
        # rendered from desired state sha256:\(validated.hash).
        # Do not edit: the agent puts back what the desired state says.

        """
    }

    static func rackdcProperties(_ state: DesiredState, hash: String) -> String {
        var out = "# Managed by cassandra-agent: cassandra-rackdc.properties,\n# rendered from desired state sha256:\(hash).\n# Do not edit: the agent puts back what the desired state says.\n"
        if let dc = state.node.datacenter, let rack = state.node.rack {
            out += "dc=\(dc.value)\nrack=\(rack.value)\n"
        }
        if let suffix = state.node.dcSuffix { out += "dc_suffix=\(propertiesEscaped(suffix))\n" }
        if let preferLocal = state.node.preferLocal { out += "prefer_local=\(preferLocal)\n" }
        return out
    }

    /// java.util.Properties reads backslashes and a leading space specially.
    static func propertiesEscaped(_ text: String) -> String {
        var out = ""
        for (index, character) in text.enumerated() {
            switch character {
            case "\\": out += "\\\\"
            case " " where index == 0: out += "\\ "
            case "\n": out += "\\n"
            case "=", ":", "#", "!": out += "\\\(character)"
            default: out.append(character)
            }
        }
        return out
    }
}
