import CYAML

/// An error from the YAML parser, with the mark where it was found.
public struct YAMLSyntaxError: Error, Sendable, Equatable {
    public var message: String
    public var mark: SourceMark
}

/// Composes libyaml's event stream into `YAMLNode`s that keep their marks.
///
/// libyaml is used directly (not through Yams) so the library stays on
/// FoundationEssentials and so every node carries the line and column an
/// operator needs in an error message.
public enum YAMLParser {
    /// Bounds that keep a small hostile file from costing unbounded memory or time:
    /// aliases are counted once per use, so "billion laughs" stops at the budget.
    public struct Limits: Sendable {
        /// Nodes in the document with every alias expanded (a desired state has a few hundred).
        public var maxNodes = 250_000
        /// Collections nested in collections.
        public var maxDepth = 64
        /// Bytes in one scalar: names, addresses and commands are short; a longer value is a mistake or an attack.
        public var maxScalarBytes = 64 << 10

        public init() {}
    }

    /// Parses a single-document YAML text. An empty document is `nil`.
    public static func parse(_ text: String, limits: Limits = Limits()) throws(YAMLSyntaxError) -> YAMLNode? {
        var bytes = Array(text.utf8)
        if bytes.contains(0) {
            throw YAMLSyntaxError(message: "the file contains a NUL byte; it is not a text file", mark: SourceMark(line: 1, column: 1))
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLSyntaxError(message: "could not initialise the YAML parser", mark: SourceMark(line: 1, column: 1))
        }
        defer { yaml_parser_delete(&parser) }
        return try bytes.withUnsafeMutableBufferPointer { buffer throws(YAMLSyntaxError) -> YAMLNode? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var composer = Composer(parser: parser, lines: text, limits: limits)
            defer { parser = composer.parser }
            return try composer.document()
        }
    }
}

private struct Composer {
    var parser: yaml_parser_t
    let lines: String
    let limits: YAMLParser.Limits
    /// Each anchored node with its size once expanded.
    var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    /// Nodes composed so far, aliases counted at their expanded size.
    var expanded = 0
    var depth = 0

    init(parser: yaml_parser_t, lines: String, limits: YAMLParser.Limits) {
        self.parser = parser
        self.lines = lines
        self.limits = limits
    }

    mutating func count(_ nodes: Int, at mark: SourceMark, alias: String? = nil) throws(YAMLSyntaxError) {
        expanded += nodes
        guard expanded > limits.maxNodes else { return }
        let cause = alias.map { "alias '*\($0)' (\(nodes) nodes each time it is used) expands the file" } ?? "the file has"
        throw YAMLSyntaxError(message: "\(cause) beyond \(limits.maxNodes) YAML nodes, the most the agent reads; a desired state needs a few hundred", mark: mark)
    }

    mutating func enter(_ mark: SourceMark) throws(YAMLSyntaxError) {
        depth += 1
        if depth > limits.maxDepth {
            throw YAMLSyntaxError(message: "lists and mappings are nested more than \(limits.maxDepth) levels deep here, the most the agent reads", mark: mark)
        }
    }

    /// One event, copied out of libyaml's struct so nothing dangles.
    enum Event {
        case streamStart, streamEnd, documentStart, documentEnd
        case alias(String, SourceMark)
        case scalar(String, YAMLNode.ScalarStyle, anchor: String?, SourceMark)
        case sequenceStart(anchor: String?, SourceMark), sequenceEnd
        case mappingStart(anchor: String?, SourceMark), mappingEnd
    }

    mutating func next() throws(YAMLSyntaxError) -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) == 1 else { throw syntaxError() }
        defer { yaml_event_delete(&event) }
        let mark = SourceMark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_STREAM_START_EVENT: return .streamStart
        case YAML_STREAM_END_EVENT: return .streamEnd
        case YAML_DOCUMENT_START_EVENT: return .documentStart
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        case YAML_ALIAS_EVENT:
            return .alias(string(event.data.alias.anchor) ?? "", mark)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let text = scalar.value.map { pointer in
                String(decoding: UnsafeBufferPointer(start: pointer, count: scalar.length), as: UTF8.self)
            } ?? ""
            let style: YAMLNode.ScalarStyle = switch scalar.style {
            case YAML_PLAIN_SCALAR_STYLE: .plain
            case YAML_LITERAL_SCALAR_STYLE, YAML_FOLDED_SCALAR_STYLE: .block
            default: .quoted
            }
            // A plain scalar with an explicit tag (`!!str 1`) is not plain any more.
            let tagged = scalar.tag != nil && style == .plain
            return .scalar(text, tagged ? .quoted : style, anchor: string(scalar.anchor), mark)
        case YAML_SEQUENCE_START_EVENT:
            return .sequenceStart(anchor: string(event.data.sequence_start.anchor), mark)
        case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            return .mappingStart(anchor: string(event.data.mapping_start.anchor), mark)
        case YAML_MAPPING_END_EVENT: return .mappingEnd
        default:
            throw YAMLSyntaxError(message: "unexpected YAML event", mark: mark)
        }
    }

    mutating func document() throws(YAMLSyntaxError) -> YAMLNode? {
        guard case .streamStart = try next() else { return nil }
        var root: YAMLNode?
        var documents = 0
        while true {
            switch try next() {
            case .streamEnd:
                return root
            case .documentStart:
                documents += 1
                let event = try next()
                if case .documentEnd = event { continue }
                let node = try compose(event)
                if documents > 1 {
                    throw YAMLSyntaxError(message: "the file holds more than one YAML document; it must hold exactly one", mark: node.mark)
                }
                root = node
                guard case .documentEnd = try next() else {
                    throw YAMLSyntaxError(message: "unexpected content after the document", mark: node.mark)
                }
            default:
                throw YAMLSyntaxError(message: "malformed YAML stream", mark: SourceMark(line: 1, column: 1))
            }
        }
    }

    mutating func compose(_ event: Event) throws(YAMLSyntaxError) -> YAMLNode {
        switch event {
        case .alias(let name, let mark):
            guard let anchored = anchors[name] else {
                throw YAMLSyntaxError(message: "unknown alias '*\(name)'", mark: mark)
            }
            try count(anchored.size, at: mark, alias: name)
            return anchored.node
        case .scalar(let text, let style, let anchor, let mark):
            try count(1, at: mark)
            if text.utf8.count > limits.maxScalarBytes {
                throw YAMLSyntaxError(message: "this value is \(text.utf8.count) bytes long; the most the agent reads in one value is \(limits.maxScalarBytes / 1024) KiB", mark: mark)
            }
            let node = YAMLNode.scalar(text, style, mark)
            if let anchor { anchors[anchor] = (node, 1) }
            return node
        case .sequenceStart(let anchor, let mark):
            let before = expanded
            try count(1, at: mark)
            try enter(mark)
            var items: [YAMLNode] = []
            while true {
                let next = try next()
                if case .sequenceEnd = next { break }
                items.append(try compose(next))
            }
            depth -= 1
            let node = YAMLNode.sequence(items, mark)
            if let anchor { anchors[anchor] = (node, expanded - before) }
            return node
        case .mappingStart(let anchor, let mark):
            let before = expanded
            try count(1, at: mark)
            try enter(mark)
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            while true {
                let next = try next()
                if case .mappingEnd = next { break }
                let key = try compose(next)
                let value = try compose(try self.next())
                pairs.append((key, value))
            }
            depth -= 1
            let node = YAMLNode.mapping(pairs, mark)
            if let anchor { anchors[anchor] = (node, expanded - before) }
            return node
        default:
            throw YAMLSyntaxError(message: "malformed YAML structure", mark: SourceMark(line: 1, column: 1))
        }
    }

    func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }

    /// libyaml's problem, reworded where its wording does not tell an operator what to fix.
    func syntaxError() -> YAMLSyntaxError {
        let problemMark = parser.problem_mark
        let mark = SourceMark(line: Int(problemMark.line) + 1, column: Int(problemMark.column) + 1)
        var problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        if let context = parser.context.map({ String(cString: $0) }) {
            problem = "\(problem) (\(context))"
        }
        if character(at: mark) == "\t" {
            return YAMLSyntaxError(message: "a tab character is not allowed here; YAML indents with spaces only", mark: mark)
        }
        if problem.hasPrefix("mapping values are not allowed") {
            problem += "; check the indentation of this line, or quote a value that contains ': '"
        }
        return YAMLSyntaxError(message: problem, mark: mark)
    }

    func character(at mark: SourceMark) -> Character? {
        var lineNumber = 1
        for line in lines.split(separator: "\n", omittingEmptySubsequences: false) {
            if lineNumber == mark.line {
                let chars = Array(line)
                return mark.column - 1 < chars.count ? chars[mark.column - 1] : nil
            }
            lineNumber += 1
        }
        return nil
    }
}
