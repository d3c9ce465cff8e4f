/// Reads one YAML mapping of an input file field by field, reporting into
/// `Diagnostics`: duplicate keys, keys nobody asked for (with a suggestion),
/// and values of the wrong kind. Every problem is reported; nothing throws.
struct MappingReader {
    let node: YAMLNode
    let context: String
    private(set) var entries: [(key: String, keyMark: SourceMark, value: YAMLNode)] = []
    private var known: Set<String> = []

    /// nil when `node` is not a mapping (reported).
    init?(_ node: YAMLNode, context: String, diagnostics: inout Diagnostics) {
        self.node = node
        self.context = context
        guard case .mapping(let pairs, _) = node else {
            diagnostics.error("\(context) must be a mapping, found \(node.kindDescription)", at: node.mark)
            return nil
        }
        var firstSeen: [String: SourceMark] = [:]
        firstSeen.reserveCapacity(pairs.count)
        entries.reserveCapacity(pairs.count)
        for (key, value) in pairs {
            guard let name = key.scalarText else {
                diagnostics.error("keys in \(context) must be plain names, found \(key.kindDescription)", at: key.mark)
                continue
            }
            if let first = firstSeen[name] {
                diagnostics.error("duplicate key '\(name)' in \(context) (first given on line \(first.line))", at: key.mark)
                continue
            }
            firstSeen[name] = key.mark
            entries.append((name, key.mark, value))
        }
    }

    /// The value under `key`, if given; a null value counts as not given.
    mutating func optional(_ key: String) -> YAMLNode? {
        known.insert(key)
        guard let value = entries.first(where: { $0.key == key })?.value, !value.isNull else { return nil }
        return value
    }

    mutating func required(_ key: String, diagnostics: inout Diagnostics) -> YAMLNode? {
        if let value = optional(key) { return value }
        if let entry = entries.first(where: { $0.key == key }) {
            diagnostics.error("'\(key)' in \(context) must not be empty", at: entry.value.mark)
        } else {
            diagnostics.error("\(context) is missing the required key '\(key)'", at: node.mark)
        }
        return nil
    }

    func keyMark(_ key: String) -> SourceMark {
        entries.first(where: { $0.key == key })?.keyMark ?? node.mark
    }

    func has(_ key: String) -> Bool {
        entries.contains { $0.key == key }
    }

    /// Reports every key that no `optional`/`required` call asked for.
    func rejectUnknownKeys(_ diagnostics: inout Diagnostics, extraKnown: [String] = []) {
        let all = known.union(extraKnown)
        for entry in entries where !all.contains(entry.key) {
            diagnostics.error(
                "unknown key '\(entry.key)' in \(context)\(Suggestion.hint(for: entry.key, in: all))",
                at: entry.keyMark)
        }
    }

    // MARK: scalar readers, each reports and returns nil on a wrong kind

    static func string(_ node: YAMLNode, _ what: String, _ diagnostics: inout Diagnostics) -> String? {
        guard case .scalar(let text, _, _) = node, !node.isNull else {
            diagnostics.error("\(what) must be a string, found \(node.kindDescription)", at: node.mark)
            return nil
        }
        return text
    }

    static func bool(_ node: YAMLNode, _ what: String, _ diagnostics: inout Diagnostics) -> Bool? {
        if case .scalar(let text, .plain, _) = node, text == "true" || text == "false" {
            return text == "true"
        }
        diagnostics.error("\(what) must be true or false, found \(describe(node, path: what))", at: node.mark)
        return nil
    }

    static func int(_ node: YAMLNode, _ what: String, _ diagnostics: inout Diagnostics) -> Int? {
        if case .int(let value) = node.value { return value }
        diagnostics.error("\(what) must be an integer, found \(describe(node, path: what))", at: node.mark)
        return nil
    }

    static func stringList(_ node: YAMLNode, _ what: String, _ diagnostics: inout Diagnostics) -> [(String, SourceMark)]? {
        guard case .sequence(let items, _) = node else {
            diagnostics.error("\(what) must be a list, found \(node.kindDescription)", at: node.mark)
            return nil
        }
        var result: [(String, SourceMark)] = []
        var ok = true
        for item in items {
            if let text = string(item, "each entry of \(what)", &diagnostics) {
                result.append((text, item.mark))
            } else {
                ok = false
            }
        }
        return ok ? result : nil
    }

    static func oneOf(_ node: YAMLNode, _ what: String, _ allowed: [String], _ diagnostics: inout Diagnostics) -> String? {
        guard let text = string(node, what, &diagnostics) else { return nil }
        if allowed.contains(text) { return text }
        let listed = allowed.map { "'\($0)'" }.joined(separator: ", ")
        diagnostics.error("\(what) must be one of \(listed), found '\(text)'\(Suggestion.hint(for: text, in: allowed))", at: node.mark)
        return nil
    }

    /// The node's kind and, for a scalar, its text; never the text of a value whose
    /// name (the last part of `path`) marks it as a secret, since errors reach logs and status.
    static func describe(_ node: YAMLNode, path: String = "") -> String {
        let name = path.split(separator: ".").last.map(String.init) ?? path
        if case .scalar(let text, _, _) = node, !Redaction.isSecretKey(name) { return "\(node.kindDescription) '\(text)'" }
        return node.kindDescription
    }
}
