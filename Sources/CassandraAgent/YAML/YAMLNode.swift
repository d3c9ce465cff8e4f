/// A position in a source file, 1-based, the way editors and compilers count.
public struct SourceMark: Sendable, Hashable, Comparable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: SourceMark, b: SourceMark) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// A YAML node as written, with the mark of where it starts. Mappings keep their
/// pairs in order and keep duplicates, so the reader can report them.
public indirect enum YAMLNode: Sendable, Equatable {
    public enum ScalarStyle: Sendable, Equatable {
        case plain
        case quoted
        case block
    }

    case scalar(String, ScalarStyle, SourceMark)
    case sequence([YAMLNode], SourceMark)
    case mapping([(key: YAMLNode, value: YAMLNode)], SourceMark)

    public var mark: SourceMark {
        switch self {
        case .scalar(_, _, let mark), .sequence(_, let mark), .mapping(_, let mark): mark
        }
    }

    /// The text of a scalar, nil for collections.
    public var scalarText: String? {
        if case .scalar(let text, _, _) = self { return text }
        return nil
    }

    /// True for `~`, `null` and an empty plain scalar.
    public var isNull: Bool {
        if case .scalar(let text, .plain, _) = self { return YAMLValue.isNullText(text) }
        return false
    }

    /// What kind of node this is, in words for error messages.
    public var kindDescription: String {
        switch self {
        case .scalar(let text, let style, _):
            switch YAMLValue(resolving: text, style: style) {
            case .null: "null"
            case .bool: "a boolean"
            case .int: "an integer"
            case .double: "a number"
            default: "a string"
            }
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    public static func == (a: YAMLNode, b: YAMLNode) -> Bool {
        switch (a, b) {
        case let (.scalar(x, s, m), .scalar(y, t, n)): x == y && s == t && m == n
        case let (.sequence(x, m), .sequence(y, n)): x == y && m == n
        case let (.mapping(x, m), .mapping(y, n)):
            m == n && x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// The node as a plain value (scalars resolved the YAML 1.1 way SnakeYAML uses).
    public var value: YAMLValue {
        switch self {
        case .scalar(let text, let style, _): YAMLValue(resolving: text, style: style)
        case .sequence(let items, _): .list(items.map(\.value))
        case .mapping(let pairs, _): .map(pairs.map { ($0.key.scalarText ?? "\($0.key.value)", $0.value.value) })
        }
    }
}
