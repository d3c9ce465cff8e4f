/// `nodetool info`, every version: `Label<padding>: value` lines.
public struct NodetoolInfo: Sendable, Equatable {
    public var hostID: String
    public var gossipActive: Bool
    /// 3.11 only.
    public var thriftActive: Bool?
    public var nativeTransportActive: Bool
    public var load: Int64?
    public var generation: Int
    public var uptimeSeconds: Int
    public var heapUsedMB: Double?
    public var heapMaxMB: Double?
    public var datacenter: String
    public var rack: String
    public var exceptions: Int
    /// Percent, when reported.
    public var percentRepaired: Double?
    /// 5.0 only: NEEDS_BOOTSTRAP, IN_PROGRESS, COMPLETED, DECOMMISSIONED.
    public var bootstrapState: String?
    /// Every line, label -> value, for anything not typed above.
    public var fields: [String: String]
    /// The node's tokens, from `info -T` (one `Token : T` line each); empty without -T, where
    /// the line only says how many there are.
    public var tokens: [String] = []

    public static func parse(_ text: String) throws(NodetoolParseError) -> NodetoolInfo {
        let output = OutputLines("info", text)
        var fields: [String: String] = [:]
        var lineOf: [String: Int] = [:]
        var tokens: [String] = []
        for (index, line) in output.lines.enumerated() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw output.error(index, "expected 'label : value'") }
            let label = String(line[..<colon].trimmed)
            guard !label.isEmpty else { throw output.error(index, "empty label") }
            let value = String(line[line.index(after: colon)...].trimmed)
            if label == "Token", !value.hasPrefix("(") { tokens.append(value) }
            fields[label] = value
            lineOf[label] = index
        }
        func required(_ label: String) throws(NodetoolParseError) -> String {
            guard let value = fields[label] else { throw output.whole("the '\(label)' line is missing") }
            return value
        }
        func flag(_ label: String) throws(NodetoolParseError) -> Bool {
            switch try required(label) {
            case "true": return true
            case "false": return false
            default: throw output.error(lineOf[label]!, "'\(label)' must be true or false")
            }
        }
        func number(_ label: String) throws(NodetoolParseError) -> Int {
            guard let value = Int(try required(label)) else { throw output.error(lineOf[label]!, "'\(label)' must be a whole number") }
            return value
        }
        let load = try required("Load")
        guard let loadBytes = NodetoolSize.bytes(Substring(load)) ?? (load == "?" ? -1 : nil) else {
            throw output.error(lineOf["Load"]!, "'Load' is not a size")
        }
        var heapUsed: Double?, heapMax: Double?
        if let heap = fields["Heap Memory (MB)"] {
            let parts = heap.split(separator: "/").map { Double($0.trimmed) }
            guard parts.count == 2, let used = parts[0], let max = parts[1] else {
                throw output.error(lineOf["Heap Memory (MB)"]!, "expected 'USED / MAX'")
            }
            (heapUsed, heapMax) = (used, max)
        }
        let repaired = fields["Percent Repaired"].flatMap { Double($0.hasSuffix("%") ? String($0.dropLast()) : $0) }
        return NodetoolInfo(
            hostID: try required("ID"), gossipActive: try flag("Gossip active"),
            thriftActive: fields["Thrift active"] == nil ? nil : try flag("Thrift active"),
            nativeTransportActive: try flag("Native Transport active"),
            load: loadBytes < 0 ? nil : loadBytes, generation: try number("Generation No"),
            uptimeSeconds: try number("Uptime (seconds)"), heapUsedMB: heapUsed, heapMaxMB: heapMax,
            datacenter: try required("Data Center"), rack: try required("Rack"), exceptions: try number("Exceptions"),
            percentRepaired: repaired, bootstrapState: fields["Bootstrap state"], fields: fields, tokens: tokens)
    }
}
