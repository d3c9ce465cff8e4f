/// Checks a cassandra.yaml text against what one Cassandra version loads at
/// start-up: unknown keys, value shapes, an old and a new name together,
/// required keys, the commit-log rules and mutually exclusive pairs.
///
/// The renderer runs it on every file it produces (so the agent never installs
/// a file Cassandra would refuse), and the simulated cluster runs it when a
/// node "starts", refusing to start the way Cassandra does.
public struct CassandraYAMLChecker {
    public let version: CassandraVersion

    public init(version: CassandraVersion) {
        self.version = version
    }

    public struct Problem: Sendable, Equatable {
        /// The top-level key the problem is about, when there is one.
        public var key: String?
        public var message: String
        public var mark: SourceMark
    }

    public func problems(in text: String) -> [Problem] {
        var diagnostics = Diagnostics(file: "cassandra.yaml")
        var keyed: [(String?, Int)] = []  // which key each diagnostic belongs to
        func note(_ key: String?) { keyed.append((key, diagnostics.items.count)) }

        let root: YAMLNode
        do {
            guard let parsed = try YAMLParser.parse(text) else {
                return [Problem(key: nil, message: "cassandra.yaml is empty", mark: SourceMark(line: 1, column: 1))]
            }
            root = parsed
        } catch {
            return [Problem(key: nil, message: error.message, mark: error.mark)]
        }
        guard case .mapping(let pairs, _) = root else {
            return [Problem(key: nil, message: "cassandra.yaml must be a mapping of settings", mark: root.mark)]
        }
        let schema = CassandraSchema.of(version)
        let checker = ShapeChecker(version: version)
        var values: [String: (YAMLValue, SourceMark)] = [:]
        for (keyNode, valueNode) in pairs {
            let key = keyNode.scalarText ?? "\(keyNode.value)"
            note(key)
            if let spec = schema[key] {
                if let value = checker.check(valueNode, spec, path: key, &diagnostics) { values[key] = (value, keyNode.mark) }
            } else if let current = schema.oldNames[key] {
                if values[current] != nil || pairs.contains(where: { $0.key.scalarText == current }) {
                    diagnostics.error("'\(key)' and '\(current)' are the old and new names of one setting; Cassandra \(version) refuses both together", at: keyNode.mark)
                }
                values[key] = (valueNode.value, keyNode.mark)
            } else {
                diagnostics.error("unknown key '\(key)': Cassandra \(version) refuses to start with it\(Suggestion.hint(for: key, in: schema.names))", at: keyNode.mark)
            }
        }
        let top = root.mark
        for key in schema.required where values[key].map({ $0.0 == .null }) ?? true {
            note(key)
            diagnostics.error("required key '\(key)' is missing or empty", at: top)
        }
        for rule in schema.conditional {
            let holds: Bool
            if rule.when.always == true {
                holds = true
            } else if let key = rule.when.key, let expected = rule.when.equals {
                holds = values[key]?.0.description == expected
            } else {
                holds = false
            }
            guard holds else { continue }
            let because = rule.when.key.map { " because \($0) is \(rule.when.equals ?? "")" } ?? ""
            for key in rule.require ?? [] {
                let value = values[key]?.0
                if value == nil || value == .null || (rule.nonZero == true && isZero(value!)) {
                    note(rule.when.key ?? key)
                    diagnostics.error("'\(key)' must be set\(rule.nonZero == true ? " above zero" : "")\(because)", at: values[rule.when.key ?? ""]?.1 ?? top)
                }
            }
            for key in rule.forbid ?? [] {
                guard let (value, mark) = values[key], value != .null, !(rule.allowZero == true && isZero(value)) else { continue }
                note(key)
                diagnostics.error("'\(key)' must not be set\(rule.allowZero == true ? " (or must be zero)" : "")\(because)", at: mark)
            }
        }
        for pair in schema.mutuallyExclusive where pair.allSatisfy({ values[$0] != nil && values[$0]!.0 != .null }) {
            note(pair[1])
            diagnostics.error("'\(pair[0])' and '\(pair[1])' exclude each other: set one", at: values[pair[1]]!.1)
        }

        // Attribute each diagnostic to the key noted just before it.
        return diagnostics.items.enumerated().map { index, item in
            let key = keyed.last { $0.1 <= index }?.0
            return Problem(key: key, message: item.message, mark: item.mark)
        }
    }

    /// Reports problems into a desired-state file's diagnostics: at the setting that
    /// caused one when there is such a setting, else at the top of the file.
    func check(_ text: String, settingsMarks: [String: (writtenAs: String, mark: SourceMark)], file: String, _ diagnostics: inout Diagnostics) {
        for problem in problems(in: text) {
            if let key = problem.key, let source = settingsMarks[key] {
                diagnostics.error("settings.\(source.writtenAs): \(problem.message)", at: source.mark)
            } else {
                diagnostics.error("the rendered cassandra.yaml would not load in Cassandra \(version): \(problem.message) (line \(problem.mark.line) of the rendered file)", at: SourceMark(line: 1, column: 1))
            }
        }
    }

    func isZero(_ value: YAMLValue) -> Bool {
        switch value {
        case .int(0): true
        case .double(0): true
        case .string(let text): text.first == "0" && text.dropFirst().allSatisfy { !$0.isNumber }
        default: false
        }
    }
}
