/// What installing a rendered configuration would change on a node, and
/// whether Cassandra must restart for it. Pure: it compares texts.
public struct ConfigPlan: Sendable {
    public struct SettingChange: Sendable, Equatable {
        public enum Effect: Sendable, Equatable {
            /// Cassandra reads it only at start-up.
            case restart
            /// The same value can be pushed to the running node with these nodetool commands.
            case live([String])
        }

        public var key: String
        public var old: YAMLValue?
        public var new: YAMLValue?
        public var effect: Effect
    }

    public struct FileChange: Sendable {
        public enum Status: String, Sendable {
            case unchanged, created, changed
        }

        public var name: String
        public var status: Status
        public var diff: String
        public var settings: [SettingChange]
        public var notes: [String]
    }

    public var files: [FileChange]

    public var hasChanges: Bool { files.contains { $0.status != .unchanged } }

    /// What needs a restart: new files, then changed settings in file order.
    public var restartReasons: [String] {
        files.filter { $0.status == .created }.map { "\($0.name) (new)" }
            + files.flatMap { file in
                file.settings.filter { $0.effect == .restart }.map { file.name == RenderedNodeConfig.cassandraYAMLName ? $0.key : "\(file.name): \($0.key)" }
            }
    }

    /// `rebuiltStores`: stores whose inputs changed; Cassandra 4.0+ reloads them live, 3.11 restarts.
    public static func make(rendered: RenderedNodeConfig, installed: (String) -> String?, installedName: (String) -> String, version: CassandraVersion, rebuiltStores: [String] = []) -> ConfigPlan {
        var files: [FileChange] = []
        for store in rebuiltStores {
            let effect: SettingChange.Effect = version >= .v4_0 ? .live(["reloadssl"]) : .restart
            let new = installed(store) == nil
            files.append(FileChange(
                name: store, status: new ? .created : .changed, diff: "",
                settings: [SettingChange(key: "key material", old: nil, new: nil, effect: effect)],
                notes: [new ? "a new store" : "rebuilt from changed certificates, keys or password"]))
        }
        for (name, contents) in rendered.files {
            let current = installed(name)
            guard current != contents else {
                files.append(FileChange(name: name, status: .unchanged, diff: "", settings: [], notes: []))
                continue
            }
            let diff = Redaction.redactDiff(LineDiff.unified(old: current ?? "", new: contents, oldName: installedName(name), newName: "\(name) (rendered)"))
            var notes: [String] = []
            let settings: [SettingChange]
            if current == nil {
                // A new file: listing every key as a change would bury the point.
                files.append(FileChange(name: name, status: .created, diff: diff, settings: [], notes: ["the file is new: Cassandra reads it when it next starts"]))
                continue
            } else if name == RenderedNodeConfig.cassandraYAMLName {
                settings = yamlChanges(old: current, new: contents, version: version, notes: &notes)
            } else {
                settings = propertiesChanges(old: current, new: contents, notes: &notes)
            }
            if settings.isEmpty { notes.append("only comments change (the header names the new desired-state hash); Cassandra is not affected") }
            files.append(FileChange(name: name, status: current == nil ? .created : .changed, diff: diff, settings: settings, notes: notes))
        }
        return ConfigPlan(files: files)
    }

    static func yamlChanges(old: String?, new: String, version: CassandraVersion, notes: inout [String]) -> [SettingChange] {
        var before: [(String, YAMLValue)] = []
        if let old {
            do {
                before = try YAMLParser.parse(old).map(topLevel) ?? []
            } catch {
                notes.append("the installed file is not valid YAML (line \(error.mark.line): \(error.message)); it is replaced whole")
            }
        }
        let after = (try? YAMLParser.parse(new)).flatMap { $0 }.map(topLevel) ?? []
        let schema = CassandraSchema.of(version)
        let oldValues = Dictionary(before, uniquingKeysWith: { _, last in last })
        let newValues = Dictionary(after, uniquingKeysWith: { _, last in last })
        var keys = after.map(\.0)
        keys += before.map(\.0).filter { newValues[$0] == nil }
        return keys.compactMap { key in
            let (o, n) = (oldValues[key], newValues[key])
            guard o != n else { return nil }
            return SettingChange(key: key, old: o, new: n, effect: effect(of: key, schema: schema, removed: n == nil))
        }
    }

    static func effect(of key: String, schema: CassandraSchema, removed: Bool) -> SettingChange.Effect {
        guard !removed, let spec = schema[key] else { return .restart }
        switch spec.hot {
        case .yes where !spec.nodetool.isEmpty:
            // enable/disable pairs toggle a component; a set* command names the value itself.
            let setters = spec.nodetool.filter { !$0.hasPrefix("disable") && !$0.hasPrefix("enable") }
            return .live(setters.isEmpty ? spec.nodetool : setters)
        case .partly where key == "seed_provider":
            return .live(["reloadseeds"])
        default:
            return .restart
        }
    }

    static func topLevel(_ node: YAMLNode) -> [(String, YAMLValue)] {
        guard case .mapping(let pairs, _) = node else { return [] }
        return pairs.map { ($0.key.scalarText ?? "\($0.key.value)", $0.value.value) }
    }

    static func propertiesChanges(old: String?, new: String, notes: inout [String]) -> [SettingChange] {
        let before = JavaProperties.parse(old ?? ""), after = JavaProperties.parse(new)
        var changes: [SettingChange] = []
        for key in (after.map(\.0) + before.map(\.0).filter { k in !after.contains { $0.0 == k } }) {
            let o = before.last { $0.0 == key }?.1, n = after.last { $0.0 == key }?.1
            guard o != n else { continue }
            changes.append(SettingChange(key: key, old: o.map(YAMLValue.string), new: n.map(YAMLValue.string), effect: .restart))
            if (key == "dc" || key == "rack"), o != nil {
                notes.append("changing '\(key)' of a node that has joined the cluster makes Cassandra refuse to start (it checks the saved \(key)); a node changes \(key) only by being replaced")
            }
        }
        return changes
    }
}

/// Minimal java.util.Properties reading: `key=value` / `key: value`, comments, escapes.
public enum JavaProperties {
    public static func parse(_ text: String) -> [(String, String)] {
        var result: [(String, String)] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingSpaces
            guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix("!") else { continue }
            var key = "", value = "", inValue = false, escaped = false
            for character in line {
                if escaped {
                    let decoded: Character = character == "n" ? "\n" : character == "t" ? "\t" : character
                    if inValue { value.append(decoded) } else { key.append(decoded) }
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if !inValue && (character == "=" || character == ":") {
                    inValue = true
                } else if inValue {
                    value.append(character)
                } else {
                    key.append(character)
                }
            }
            result.append((key.trimmingSpaces, value.trimmingSpaces))
        }
        return result
    }
}

/// Keeps secrets out of what the agent prints: any value under a key that
/// names a password is replaced.
public enum Redaction {
    public static let placeholder = "<redacted>"

    public static func isSecretKey(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return lowered.contains("password") || lowered.contains("secret") || lowered.hasSuffix("_key") && !lowered.hasSuffix("public_key")
    }

    /// Redacts `key: value` lines of YAML (also inside diff lines).
    public static func redactDiff(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard let colon = line.firstIndex(of: ":") else { return String(line) }
            let key = line[..<colon].drop { " +-@".contains($0) }.trimmingSpaces
            guard isSecretKey(key.hasPrefix("- ") ? String(key.dropFirst(2)) : key) else { return String(line) }
            let rest = line[line.index(after: colon)...]
            return rest.trimmingSpaces.isEmpty ? String(line) : "\(line[...colon]) \(placeholder)"
        }.joined(separator: "\n")
    }

    public static func redact(_ value: YAMLValue, key: String) -> YAMLValue {
        if isSecretKey(key), value != .null { return .string(placeholder) }
        switch value {
        case .map(let pairs): return .map(pairs.map { ($0.0, redact($0.1, key: $0.0)) })
        case .list(let items): return .list(items.map { redact($0, key: "") })
        default: return value
        }
    }
}

extension ConfigPlan {
    /// The part of the plan about these stores alone (a rotation found by a resync).
    func onlyStores(_ names: [String]) -> ConfigPlan {
        var plan = self
        plan.files = files.filter { names.contains($0.name) }
        return plan
    }
}
