/// The agent's own configuration (`/etc/cassandra-agent/agent.yaml`). Every key
/// is optional; the defaults are what a Debian/RPM Cassandra install expects.
public struct AgentConfiguration: Sendable, Equatable {
    public static let defaultPath = "/etc/cassandra-agent/agent.yaml"

    public var desiredState = "/etc/cassandra-agent/desired-state.yaml"
    public var cassandraConfigDirectory = "/etc/cassandra"
    public var stateDirectory = "/var/lib/cassandra-agent"
    public var socket = "/run/cassandra-agent/agent.sock"
    public var adminGroup = "cassandra-agent"
    public var cassandraUnit = "cassandra.service"
    public var nodetool = ["/usr/bin/nodetool"]
    public var systemctl = ["/usr/bin/systemctl"]
    /// Owner, group and mode of the files the agent installs for Cassandra.
    public var files = FileOwnership.default
    /// How many installed generations are kept for rollback (at least 5).
    public var keepGenerations = 10
    /// Mode of the status socket; 0660 lets only the admin group connect, 0666
    /// lets every local user read status (changes are checked per request either way).
    public var socketMode: UInt32 = 0o660
    /// How often the installed files are compared with the desired state (drift repair).
    public var resyncSeconds = 30.0
    /// How often the node is observed (systemctl, nodetool, disks).
    public var observeSeconds = 10.0
    /// The longest a nodetool read or setter may take.
    public var nodetoolTimeoutSeconds = 60.0
    /// Warn when a certificate in a store expires within this many days.
    public var certificateWarningDays = 30

    public var nodetoolTimeout: Duration { .milliseconds(Int64(nodetoolTimeoutSeconds * 1000)) }

    public init() {}

    static let keys = [
        "desiredState", "cassandraConfigDirectory", "stateDirectory", "socket", "adminGroup",
        "cassandraUnit", "nodetool", "systemctl", "files", "keepGenerations",
        "socketMode", "resyncSeconds", "observeSeconds", "nodetoolTimeoutSeconds", "certificateWarningDays",
    ]

    /// Reads the file; a missing file at the default path means all defaults.
    public static func load(path: String?) throws(InvalidInput) -> AgentConfiguration {
        let file = path ?? defaultPath
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(file)
        } catch where path == nil && error.isNotFound {
            return AgentConfiguration()
        } catch {
            throw InvalidInput([Diagnostic(.error, file: file, mark: SourceMark(line: 1, column: 1), message: error.description)])
        }
        let text: String
        do {
            text = try SourceText.decode(bytes)
        } catch {
            throw InvalidInput([Diagnostic(.error, file: file, mark: error.mark, message: error.message)])
        }
        var diagnostics = Diagnostics(file: file)
        let config = parse(text, &diagnostics)
        guard let config, !diagnostics.hasErrors else { throw InvalidInput(diagnostics.sorted) }
        return config
    }

    public static func parse(_ text: String, _ diagnostics: inout Diagnostics) -> AgentConfiguration? {
        var config = AgentConfiguration()
        let root: YAMLNode?
        do {
            root = try YAMLParser.parse(text)
        } catch {
            diagnostics.error(error.message, at: error.mark)
            return nil
        }
        guard let root else { return config }
        guard var reader = MappingReader(root, context: "the agent's config", diagnostics: &diagnostics) else { return nil }
        func path(_ key: String, _ keyPath: WritableKeyPath<AgentConfiguration, String>) {
            guard let node = reader.optional(key), let text = MappingReader.string(node, key, &diagnostics) else { return }
            guard text.hasPrefix("/") else {
                diagnostics.error("\(key) must be an absolute path, found '\(text)'", at: node.mark)
                return
            }
            config[keyPath: keyPath] = text
        }
        func word(_ key: String, _ keyPath: WritableKeyPath<AgentConfiguration, String>) {
            guard let node = reader.optional(key), let text = MappingReader.string(node, key, &diagnostics) else { return }
            guard !text.isEmpty, !text.contains(where: { $0 == " " || $0 == "/" }) else {
                diagnostics.error("\(key) must be a single name, found '\(text)'", at: node.mark)
                return
            }
            config[keyPath: keyPath] = text
        }
        func command(_ key: String, _ keyPath: WritableKeyPath<AgentConfiguration, [String]>) {
            guard let node = reader.optional(key), let list = MappingReader.stringList(node, key, &diagnostics) else { return }
            guard let first = list.first else {
                diagnostics.error("\(key) must name the program, then any extra arguments", at: node.mark)
                return
            }
            // Run without a shell or PATH search, so the program is named exactly (relative to the working directory at most).
            if first.0.isEmpty || first.0.contains(" ") {
                diagnostics.error("\(key): the first entry must be the program's path, found '\(first.0)'", at: first.1)
                return
            }
            config[keyPath: keyPath] = list.map(\.0)
        }
        path("desiredState", \.desiredState)
        path("cassandraConfigDirectory", \.cassandraConfigDirectory)
        path("stateDirectory", \.stateDirectory)
        path("socket", \.socket)
        word("adminGroup", \.adminGroup)
        word("cassandraUnit", \.cassandraUnit)
        command("nodetool", \.nodetool)
        command("systemctl", \.systemctl)
        if let node = reader.optional("keepGenerations"), let number = MappingReader.int(node, "keepGenerations", &diagnostics) {
            if number < 5 {
                diagnostics.error("keepGenerations must be at least 5, found \(number)", at: node.mark)
            } else {
                config.keepGenerations = number
            }
        }
        func seconds(_ key: String, _ keyPath: WritableKeyPath<AgentConfiguration, Double>, range: ClosedRange<Double>) {
            guard let node = reader.optional(key) else { return }
            let value: Double? = switch node.value {
            case .int(let n): Double(n)
            case .double(let d): d
            default: nil
            }
            guard let value, range.contains(value) else {
                diagnostics.error("\(key) must be a number of seconds from \(range.lowerBound) to \(range.upperBound)", at: node.mark)
                return
            }
            config[keyPath: keyPath] = value
        }
        seconds("resyncSeconds", \.resyncSeconds, range: 0.1...86_400)
        seconds("observeSeconds", \.observeSeconds, range: 0.1...3_600)
        seconds("nodetoolTimeoutSeconds", \.nodetoolTimeoutSeconds, range: 1...86_400)
        if let node = reader.optional("socketMode"), let text = node.scalarText {
            if let mode = UInt32(text.hasPrefix("0o") ? String(text.dropFirst(2)) : text, radix: 8), mode & ~0o777 == 0, mode & 0o111 == 0 {
                config.socketMode = mode
            } else {
                diagnostics.error("socketMode must be an octal mode such as \"0660\", found '\(text)'", at: node.mark)
            }
        }
        if let node = reader.optional("certificateWarningDays"), let days = MappingReader.int(node, "certificateWarningDays", &diagnostics) {
            if (0...3650).contains(days) { config.certificateWarningDays = days } else { diagnostics.error("certificateWarningDays must be from 0 to 3650", at: node.mark) }
        }
        if let node = reader.optional("files") {
            config.files = files(node, &diagnostics) ?? config.files
        }
        reader.rejectUnknownKeys(&diagnostics)
        return config
    }

    static func files(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> FileOwnership? {
        guard var reader = MappingReader(node, context: "files", diagnostics: &diagnostics) else { return nil }
        defer { reader.rejectUnknownKeys(&diagnostics) }
        var ownership = FileOwnership.default
        if let owner = reader.optional("owner").flatMap({ MappingReader.string($0, "files.owner", &diagnostics) }) { ownership.owner = owner }
        if let group = reader.optional("group").flatMap({ MappingReader.string($0, "files.group", &diagnostics) }) { ownership.group = group }
        if let modeNode = reader.optional("mode"), let text = modeNode.scalarText {
            // Read the digits as written: YAML 1.1 would take 640 as decimal.
            let digits = text.hasPrefix("0o") ? String(text.dropFirst(2)) : text
            guard (3...4).contains(digits.count), let mode = UInt32(digits, radix: 8), mode & ~0o777 == 0 else {
                diagnostics.error("files.mode must be an octal permission such as \"0640\", found '\(text)'", at: modeNode.mark)
                return nil
            }
            if mode & 0o007 != 0 {
                diagnostics.error("files.mode \(text) lets every user read the files; cassandra.yaml can hold store passwords (use 0640 or tighter)", at: modeNode.mark)
                return nil
            }
            ownership.mode = mode
        }
        return ownership
    }
}
