/// `nodetool status [keyspace]`, every version.
public struct NodetoolStatus: Sendable, Equatable {
    public enum Liveness: String, Sendable {
        case up = "U", down = "D", unknown = "?"
    }

    public enum State: String, Sendable {
        case normal = "N", leaving = "L", joining = "J", moving = "M"
    }

    public struct Node: Sendable, Equatable {
        public var liveness: Liveness
        public var state: State
        public var endpoint: NodetoolEndpoint
        /// Bytes; nil when the node reports `?`.
        public var load: Int64?
        /// The number of tokens (vnode layout), or nil in the single-token layout.
        public var tokenCount: Int?
        /// The token (single-token layout).
        public var token: String?
        /// Percent; nil for `?`.
        public var owns: Double?
        public var hostID: String?
        public var rack: String
        public var datacenter: String
    }

    public var nodes: [Node]
    /// True for `Owns (effective)`, false for plain `Owns`.
    public var effectiveOwnership: Bool
    public var notes: [String]

    public var datacenters: [String] {
        var seen: [String] = []
        for node in nodes where !seen.contains(node.datacenter) { seen.append(node.datacenter) }
        return seen
    }

    public func node(_ address: String) -> Node? {
        nodes.first { $0.endpoint.address == address }
    }

    public static func parse(_ text: String) throws(NodetoolParseError) -> NodetoolStatus {
        let output = OutputLines("status", text)
        var nodes: [Node] = []
        var datacenter: String?
        var header: Header?
        var effective = false
        var notes: [String] = []
        for (index, line) in output.lines.enumerated() {
            if line.isEmpty || line.hasPrefix("Status=Up/Down") || line.hasPrefix("|/ State=") { continue }
            if line.hasPrefix("Datacenter: ") {
                datacenter = String(line.dropFirst("Datacenter: ".count))
                header = nil
                continue
            }
            if line.allSatisfy({ $0 == "=" }) { continue }
            if line.hasPrefix("Note: ") {
                notes.append(String(line.dropFirst(6)))
                continue
            }
            if line.hasPrefix("Error: ") { throw output.error(index, "nodetool reported an error") }
            if line.hasPrefix("--") {
                header = try Header(line, index: index, output: output)
                effective = header?.effective ?? false
                continue
            }
            guard let dc = datacenter, let header else { throw output.error(index, "a node row outside a datacenter block") }
            nodes.append(try header.row(line, index: index, datacenter: dc, output: output))
        }
        if nodes.isEmpty, datacenter == nil { throw output.whole("no 'Datacenter:' block found") }
        return NodetoolStatus(nodes: nodes, effectiveOwnership: effective, notes: notes)
    }

    /// Which layout the header announces.
    struct Header {
        let effective: Bool
        let singleToken: Bool

        init(_ line: Substring, index: Int, output: OutputLines) throws(NodetoolParseError) {
            let cells = line.fields.map(String.init)
            guard cells.first == "--", cells.contains("Address"), cells.contains("Load"), cells.contains("Rack") else {
                throw output.error(index, "unexpected header")
            }
            effective = line.contains("Owns (effective)")
            singleToken = !cells.contains("Tokens") && cells.contains("Token")
        }

        func row(_ line: Substring, index: Int, datacenter: String, output: OutputLines) throws(NodetoolParseError) -> Node {
            var cells = line.fields[...]
            guard let code = cells.popFirst(), code.count == 2,
                  let liveness = Liveness(rawValue: String(code.prefix(1))),
                  let state = State(rawValue: String(code.suffix(1)))
            else { throw output.error(index, "the first column must be a status and state such as UN or DN") }
            guard let address = cells.popFirst(), let endpoint = NodetoolEndpoint.parse(address) else {
                throw output.error(index, "the address column is not an address")
            }
            guard let loadStart = cells.popFirst() else { throw output.error(index, "the row ends before the load column") }
            var load: Int64?
            if loadStart != "?" {
                guard let unit = cells.popFirst(), let bytes = NodetoolSize.bytes(number: loadStart, unit: unit) else {
                    throw output.error(index, "the load column is not a size such as '1.5 GiB'")
                }
                load = bytes
            }
            var tokenCount: Int?
            if !singleToken {
                guard let count = cells.popFirst().flatMap({ Int($0) }), count >= 0 else {
                    throw output.error(index, "the tokens column is not a number")
                }
                tokenCount = count
            }
            guard let ownsText = cells.popFirst() else { throw output.error(index, "the row ends before the owns column") }
            var owns: Double?
            if ownsText != "?" {
                guard ownsText.hasSuffix("%"), let value = Double(ownsText.dropLast().replacing(",", with: ".")), value >= 0, value <= 100.05 else {
                    throw output.error(index, "the owns column is not a percentage")
                }
                owns = value
            }
            // What is left: [host id] rack [token]; 4.0+ leave the host id blank when unknown, 3.11 prints null.
            let rest = Array(cells)
            var hostID: String?, rack: String, token: String?
            switch (rest.count, singleToken) {
            case (1, false): rack = String(rest[0])
            case (2, false): hostID = String(rest[0]); rack = String(rest[1])
            case (2, true): rack = String(rest[0]); token = String(rest[1])
            case (3, true): hostID = String(rest[0]); rack = String(rest[1]); token = String(rest[2])
            default: throw output.error(index, "expected the host id and rack columns, found \(rest.count) more fields")
            }
            if hostID == "null" { hostID = nil }
            if let id = hostID, !Self.isUUID(id) { throw output.error(index, "the host id column is not a UUID") }
            return Node(liveness: liveness, state: state, endpoint: endpoint, load: load, tokenCount: tokenCount, token: token,
                        owns: owns, hostID: hostID, rack: rack, datacenter: datacenter)
        }

        static func isUUID(_ text: String) -> Bool {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            return parts.map(\.count) == [8, 4, 4, 4, 12] && parts.allSatisfy { $0.allSatisfy(\.isHexDigit) }
        }
    }
}
