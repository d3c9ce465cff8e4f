/// nodetool printed something a parser cannot read. Quotes the offending line
/// (cut to a readable length) so an operator can see what the node said.
public struct NodetoolParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var command: String
    /// 1-based; 0 when the problem is with the output as a whole.
    public var line: Int
    public var text: String
    public var reason: String

    public init(_ command: String, line: Int, text: String, reason: String) {
        self.command = command
        self.line = line
        self.text = text.count > 160 ? String(text.prefix(160)) + "…" : text
        self.reason = reason
    }

    public var description: String {
        line == 0
            ? "cannot read 'nodetool \(command)' output: \(reason)"
            : "cannot read 'nodetool \(command)' output, line \(line) \"\(text)\": \(reason)"
    }
}

/// The lines of a command's output, numbered, without the trailing empty line.
struct OutputLines {
    let command: String
    let lines: [Substring]

    init(_ command: String, _ text: String) {
        self.command = command
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        while lines.last?.isEmpty == true { lines.removeLast() }
        self.lines = lines.map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
    }

    func error(_ index: Int, _ reason: String) -> NodetoolParseError {
        NodetoolParseError(command, line: index + 1, text: index < lines.count ? String(lines[index]) : "", reason: reason)
    }

    func whole(_ reason: String) -> NodetoolParseError {
        NodetoolParseError(command, line: 0, text: "", reason: reason)
    }
}

/// Sizes as nodetool prints them (FileUtils.stringifyFileSize): `1.52 GiB`, `0 bytes`.
public enum NodetoolSize {
    static let units: [(String, Double)] = [
        ("bytes", 1), ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
        // the no-space forms of tablestats
        ("B", 1),
    ]

    /// Bytes, or nil when the text is not a size.
    public static func bytes(number: Substring, unit: Substring) -> Int64? {
        guard let factor = units.first(where: { $0.0 == unit })?.1,
              number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == ",") }),
              let value = Double(number.replacing(",", with: ".")), value.isFinite, value >= 0, value * factor < 9.2e18
        else { return nil }
        return Int64((value * factor).rounded())
    }

    public static func bytes(_ text: Substring) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 2 else { return nil }
        return bytes(number: parts[0], unit: parts[1])
    }

    /// Formats bytes the way nodetool does: largest 1024 unit reached, at most two decimals.
    public static func format(_ bytes: Int64) -> String {
        let steps: [(String, Double)] = [("TiB", 1_099_511_627_776), ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024)]
        for (unit, factor) in steps where Double(bytes) >= factor {
            return "\(twoDecimals(Double(bytes) / factor)) \(unit)"
        }
        return "\(bytes) bytes"
    }

    /// Java's DecimalFormat("#.##"): half-even to two decimals, trailing zeros dropped.
    static func twoDecimals(_ value: Double) -> String {
        let hundredths = (value * 100).rounded(.toNearestOrEven)
        let whole = Int64(hundredths) / 100, fraction = Int64(hundredths) % 100
        if fraction == 0 { return "\(whole)" }
        if fraction % 10 == 0 { return "\(whole).\(fraction / 10)" }
        return "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// An endpoint as nodetool prints it: `10.0.0.1`, `/10.0.0.1`, `host/10.0.0.1`,
/// `10.0.0.1:7000`, `[fd00::1]:7000`.
public struct NodetoolEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var address: String
    public var port: Int?
    public var hostname: String?

    public init(address: String, port: Int? = nil, hostname: String? = nil) {
        self.address = address
        self.port = port
        self.hostname = hostname
    }

    public var description: String { port.map { "\(address):\($0)" } ?? address }

    static func parse(_ raw: Substring) -> NodetoolEndpoint? {
        var text = raw
        var hostname: String?
        if let slash = text.lastIndex(of: "/") {
            let name = text[..<slash]
            hostname = name.isEmpty ? nil : String(name)
            text = text[text.index(after: slash)...]
        }
        guard !text.isEmpty else { return nil }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let address = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard NetworkAddress.isIPv6(address) else { return nil }
            if rest.isEmpty { return NodetoolEndpoint(address: address, hostname: hostname) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (0...65535).contains(port) else { return nil }
            return NodetoolEndpoint(address: address, port: port, hostname: hostname)
        }
        if NetworkAddress.isIPv6(String(text)) { return NodetoolEndpoint(address: String(text), hostname: hostname) }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let host = String(parts[0])
        guard NetworkAddress.problemInHost(host) == nil else { return nil }
        if parts.count == 2 {
            guard let port = Int(parts[1]), (0...65535).contains(port) else { return nil }
            return NodetoolEndpoint(address: host, port: port, hostname: hostname)
        }
        return NodetoolEndpoint(address: host, hostname: hostname)
    }
}

extension Substring {
    /// Whitespace-separated fields.
    var fields: [Substring] { split(whereSeparator: { $0 == " " || $0 == "\t" }) }

    var trimmed: Substring {
        guard let first = firstIndex(where: { $0 != " " && $0 != "\t" }),
              let last = lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return self[endIndex...] }
        return self[first...last]
    }
}
