/// One setting as it will be rendered: the target version's name and value
/// form, and where in the desired-state file it came from.
public struct ResolvedSetting: Sendable, Equatable {
    public var name: String
    public var value: YAMLValue
    /// The name the operator wrote (differs from `name` after a rename).
    public var writtenAs: String
    public var mark: SourceMark
}

/// Turns the `settings` section into the settings of one Cassandra version:
/// accepts a setting by any of its names (pre-4.1 or 4.1+), renders the name
/// and unit form that version expects, and reports every setting that is
/// unknown, of the wrong type, impossible to convert exactly, absent from the
/// version, or given twice under two names.
public struct SettingsResolver {
    public let version: CassandraVersion
    let schema: CassandraSchema
    let families = SettingFamilies.shared

    public init(version: CassandraVersion) {
        self.version = version
        self.schema = CassandraSchema.of(version)
    }

    public func resolve(_ entries: [DesiredState.SettingEntry], _ diagnostics: inout Diagnostics) -> [ResolvedSetting] {
        var resolved: [ResolvedSetting] = []
        var suggestions = Suggestion.Budget()
        for entry in entries {
            guard let setting = resolve(entry, &suggestions, &diagnostics) else { continue }
            if let earlier = resolved.first(where: { $0.name == setting.name }) {
                let relation = earlier.writtenAs == entry.name ? "" : " ('\(earlier.writtenAs)' and '\(entry.name)' are names of one setting, '\(setting.name)' in Cassandra \(version))"
                diagnostics.error(
                    "'\(entry.name)' sets the same setting as '\(earlier.writtenAs)' on line \(earlier.mark.line)\(relation); give only one",
                    at: entry.nameMark)
                continue
            }
            resolved.append(setting)
        }
        return resolved
    }

    func resolve(_ entry: DesiredState.SettingEntry, _ suggestions: inout Suggestion.Budget, _ diagnostics: inout Diagnostics) -> ResolvedSetting? {
        let name = entry.name
        let targetName: String
        if schema[name] != nil {
            targetName = name
        } else if let current = schema.oldNames[name] {
            targetName = current
        } else if let member = families.member(of: name, in: version) {
            targetName = member
        } else {
            reportMissing(entry, &suggestions, &diagnostics)
            return nil
        }
        guard let spec = schema[targetName] else { return nil }
        let path = "settings.\(name)"
        func done(_ value: YAMLValue?, as rendered: String = targetName) -> ResolvedSetting? {
            value.map { ResolvedSetting(name: rendered, value: $0, writtenAs: name, mark: entry.nameMark) }
        }

        if targetName != name, families.changesMeaning(name, targetName) {
            // The 5.0 guardrail converters change what is counted: only Cassandra itself
            // may apply them, so an old name it still reads passes through unchanged.
            if schema.oldNames[name] != nil {
                diagnostics.warning(
                    "'\(name)' is deprecated in Cassandra \(version); it is kept as written because Cassandra's conversion to '\(targetName)' changes what is counted",
                    at: entry.nameMark)
                return done(MappingReader.int(entry.value, path, &diagnostics).map { .int($0) }, as: name)
            }
            diagnostics.error(
                "'\(name)' cannot be converted exactly to Cassandra \(version)'s '\(targetName)' (the two count different things); set '\(targetName)' instead",
                at: entry.nameMark)
            return nil
        }

        let input = inputForm(of: name)
        let output = families.form(of: targetName, in: version)
        if case .unchanged = input, case .unchanged = output {
            return done(ShapeChecker(version: version).check(entry.value, spec, path: path, &diagnostics))
        }
        if input.dimension == nil || output.dimension == nil || input.dimension != output.dimension {
            // A rename whose value shape differs in a way we do not model: check as the target shape.
            return done(ShapeChecker(version: version).check(entry.value, spec, path: path, &diagnostics))
        }
        // Names kept across 4.1 (key_cache_save_period) still read a bare number of seconds.
        let bare: MeasureUnit? = spec.replaces.contains { $0.old == targetName }
            ? { if case .plainNumber(let unit, _, _, _, _) = ValueForm.oldForm(of: spec.replaces.first { $0.old == targetName }!.converter) { unit } else { nil } }()
            : nil
        return done(UnitConversion(version: version).convert(
            entry.value, from: input, to: output, path: path, bareNumberUnit: bare, acceptsNull: spec.acceptsNull, &diagnostics))
    }

    /// The form of the name as the operator wrote it: that name's form in the target
    /// version when it exists there, else in the newest version that has it.
    func inputForm(of name: String) -> ValueForm {
        if schema[name] != nil || schema.oldNames[name] != nil { return families.form(of: name, in: version) }
        let newest = families.versions(having: name).last ?? version
        return families.form(of: name, in: newest)
    }

    func reportMissing(_ entry: DesiredState.SettingEntry, _ suggestions: inout Suggestion.Budget, _ diagnostics: inout Diagnostics) {
        let name = entry.name
        let index = families.index
        let elsewhere = CassandraVersion.allCases.filter { v in
            v != version && (index.has(name, in: v) || index.isOldName(name, in: v))
        }
        if let first = elsewhere.first {
            let when = elsewhere.allSatisfy({ $0 > version })
                ? "it was added in Cassandra \(first)"
                : elsewhere.allSatisfy({ $0 < version })
                    ? "it was removed after Cassandra \(elsewhere.last!)"
                    : "it exists in Cassandra \(elsewhere.map(\.rawValue).joined(separator: ", "))"
            diagnostics.error("setting '\(name)' does not exist in Cassandra \(version); \(when)", at: entry.nameMark)
        } else {
            diagnostics.error(
                "unknown setting '\(name)' for Cassandra \(version)\(suggestions.hint(for: name, in: schema.names + schema.oldNames.keys))",
                at: entry.nameMark)
        }
    }
}
