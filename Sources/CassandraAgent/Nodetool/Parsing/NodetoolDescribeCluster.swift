/// `nodetool describecluster`; 3.11 stops after the schema versions, 4.0+ add
/// node stats, datacenters, database versions and keyspaces.
public struct NodetoolDescribeCluster: Sendable, Equatable {
    public struct Datacenter: Sendable, Equatable {
        public var name: String
        public var nodes: Int
        public var down: Int
    }

    public struct Keyspace: Sendable, Equatable {
        public var name: String
        public var replicationClass: String
        public var options: [String: String]
    }

    public var name: String
    public var snitch: String
    public var partitioner: String
    /// Schema version -> endpoints; more than one key means schema disagreement.
    public var schemaVersions: [String: [String]]
    public var unreachable: [String]
    public var live: Int?
    public var joining: Int?
    public var moving: Int?
    public var leaving: Int?
    public var unreachableCount: Int?
    public var datacenters: [Datacenter]
    public var databaseVersions: [String: [String]]
    public var keyspaces: [Keyspace]

    public static func parse(_ text: String) throws(NodetoolParseError) -> NodetoolDescribeCluster {
        let output = OutputLines("describecluster", text)
        var result = NodetoolDescribeCluster(
            name: "", snitch: "", partitioner: "", schemaVersions: [:], unreachable: [], datacenters: [], databaseVersions: [:], keyspaces: [])
        guard output.lines.first == "Cluster Information:" else { throw output.error(0, "expected 'Cluster Information:'") }
        var section = "info"
        for (index, line) in output.lines.enumerated().dropFirst() where !line.isEmpty {
            if !line.hasPrefix("\t") {
                switch line {
                case "Stats for all nodes:": section = "stats"
                case "Data Centers: ", "Data Centers:": section = "dcs"
                case "Database versions:": section = "versions"
                case "Keyspaces:": section = "keyspaces"
                default:
                    if line.hasPrefix("Error: ") || line.hasPrefix("Note: ") { continue }
                    throw output.error(index, "unexpected line")
                }
                continue
            }
            let body = line.drop { $0 == "\t" }
            switch section {
            case "info":
                if let (key, value) = split(body, ": ") {
                    switch key {
                    case "Name": result.name = value
                    case "Snitch": result.snitch = value
                    case "Partitioner": result.partitioner = value
                    case "DynamicEndPointSnitch", "Schema versions": break
                    case "UNREACHABLE": result.unreachable = try list(value, index, output)
                    default: result.schemaVersions[key] = try list(value, index, output)
                    }
                } else if body != "Schema versions:" {
                    throw output.error(index, "expected 'name: value'")
                }
            case "stats":
                guard let (key, value) = split(body, ": "), let number = Int(value) else { throw output.error(index, "expected 'name: number'") }
                switch key {
                case "Live": result.live = number
                case "Joining": result.joining = number
                case "Moving": result.moving = number
                case "Leaving": result.leaving = number
                case "Unreachable": result.unreachableCount = number
                default: break
                }
            case "dcs":
                let parts = body.fields
                guard parts.count == 5, parts[1] == "#Nodes:", parts[3] == "#Down:", let n = Int(parts[2]), let d = Int(parts[4]) else {
                    throw output.error(index, "expected '<dc> #Nodes: N #Down: N'")
                }
                result.datacenters.append(Datacenter(name: String(parts[0]), nodes: n, down: d))
            case "versions":
                guard let (key, value) = split(body, ": ") else { throw output.error(index, "expected 'version: [endpoints]'") }
                result.databaseVersions[key] = try list(value, index, output)
            default:
                guard let arrow = body.firstRange(of: " -> Replication class: ") else { throw output.error(index, "expected '<ks> -> Replication class: ...'") }
                let rest = body[arrow.upperBound...]
                guard let brace = rest.firstIndex(of: "{"), rest.hasSuffix("}") else { throw output.error(index, "expected replication options in braces") }
                var options: [String: String] = [:]
                for pair in rest[rest.index(after: brace)..<rest.index(before: rest.endIndex)].split(separator: ",") {
                    let kv = pair.trimmed.split(separator: "=", maxSplits: 1)
                    if kv.count == 2 { options[String(kv[0])] = String(kv[1]) }
                }
                result.keyspaces.append(Keyspace(name: String(body[..<arrow.lowerBound]), replicationClass: String(rest[..<brace].trimmed), options: options))
            }
        }
        if result.name.isEmpty { throw output.whole("no cluster name") }
        return result
    }

    static func split(_ text: Substring, _ separator: String) -> (String, String)? {
        guard let range = text.firstRange(of: separator) else { return nil }
        return (String(text[..<range.lowerBound]), String(text[range.upperBound...]))
    }

    static func list(_ text: String, _ index: Int, _ output: OutputLines) throws(NodetoolParseError) -> [String] {
        guard text.hasPrefix("["), text.hasSuffix("]") else { throw output.error(index, "expected a list in brackets") }
        return text.dropFirst().dropLast().split(separator: ",").map { String($0.trimmed) }
    }
}

/// `nodetool describering <keyspace>`: the token ranges and their replicas.
public struct NodetoolDescribeRing: Sendable, Equatable {
    public struct Range: Sendable, Equatable {
        public var start: String
        public var end: String
        public var endpoints: [String]
        public var rpcEndpoints: [String]
        /// (host, datacenter, rack) per endpoint.
        public var details: [Detail]
    }

    public struct Detail: Sendable, Equatable {
        public var host: String
        public var datacenter: String
        public var rack: String
    }

    public var schemaVersion: String
    public var ranges: [Range]

    public static func parse(_ text: String) throws(NodetoolParseError) -> NodetoolDescribeRing {
        let output = OutputLines("describering", text)
        guard let first = output.lines.first, first.hasPrefix("Schema Version:") else { throw output.error(0, "expected 'Schema Version:'") }
        var ranges: [Range] = []
        for (index, line) in output.lines.enumerated().dropFirst() where !line.isEmpty && !line.hasPrefix("TokenRange:") {
            let body = line.trimmed
            guard body.hasPrefix("TokenRange(start_token:"), body.hasSuffix(")") else { throw output.error(index, "expected 'TokenRange(...)'") }
            func value(_ key: String, until end: String) -> Substring? {
                guard let start = body.firstRange(of: key + ":") else { return nil }
                let rest = body[start.upperBound...]
                guard let stop = rest.firstRange(of: end) else { return nil }
                return rest[..<stop.lowerBound]
            }
            guard let startToken = value("start_token", until: ","), let endToken = value("end_token", until: ","),
                  let endpoints = value("endpoints", until: "]"), let rpc = value("rpc_endpoints", until: "]"),
                  let detailsText = body.firstRange(of: "endpoint_details:[").map({ body[$0.upperBound...].dropLast(2) })
            else { throw output.error(index, "a TokenRange field is missing") }
            var details: [Detail] = []
            for chunk in detailsText.split(separator: "EndpointDetails(").map({ $0.trimmed }) where !chunk.isEmpty {
                let fields = chunk.trimmingSuffix(",").trimmingSuffix(")").split(separator: ",").map { $0.trimmed }
                var map: [Substring: String] = [:]
                for field in fields {
                    let kv = field.split(separator: ":", maxSplits: 1)
                    if kv.count == 2 { map[kv[0]] = String(kv[1]) }
                }
                guard let host = map["host"], let dc = map["datacenter"], let rack = map["rack"] else {
                    throw output.error(index, "an EndpointDetails entry lacks host, datacenter or rack")
                }
                details.append(Detail(host: host, datacenter: dc, rack: rack))
            }
            func list(_ text: Substring) -> [String] {
                text.drop { $0 == "[" }.split(separator: ",").map { String($0.trimmed) }.filter { !$0.isEmpty }
            }
            ranges.append(Range(start: String(startToken), end: String(endToken), endpoints: list(endpoints), rpcEndpoints: list(rpc), details: details))
        }
        return NodetoolDescribeRing(schemaVersion: String(first.dropFirst("Schema Version:".count)), ranges: ranges)
    }
}

extension Substring {
    func trimmingSuffix(_ suffix: String) -> Substring {
        hasSuffix(suffix) ? dropLast(suffix.count) : self
    }
}
