/// Checks of host names, addresses and seeds as Cassandra will resolve them.
public enum NetworkAddress {
    struct Problem: Error {
        var message: String
    }

    static func parseSeed(_ text: String) -> Result<DesiredState.Seed, Problem> {
        if text.hasPrefix("[") {  // [v6]:port
            guard let close = text.firstIndex(of: "]") else { return .failure(Problem(message: "an IPv6 address in brackets needs the closing ']'")) }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard isIPv6(host) else { return .failure(Problem(message: "'\(host)' is not an IPv6 address")) }
            if rest.isEmpty { return .success(.init(host: host, port: nil)) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port) else {
                return .failure(Problem(message: "the port after ']' must be a number from 1 to 65535"))
            }
            return .success(.init(host: host, port: port))
        }
        if isIPv6(text) { return .success(.init(host: text, port: nil)) }
        var host = text
        var port: Int?
        if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = Int(text[text.index(after: colon)...]), (1...65535).contains(p) else {
                return .failure(Problem(message: "the port must be a number from 1 to 65535"))
            }
            port = p
        }
        if let problem = problemInHost(host) { return .failure(Problem(message: problem)) }
        return .success(.init(host: host, port: port))
    }

    /// nil when `text` is an IPv4 address, an IPv6 address or a valid host name.
    static func problemInHost(_ text: String) -> String? {
        if text.isEmpty { return "is empty" }
        if isIPv4(text) || isIPv6(text) { return nil }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        if labels.allSatisfy({ $0.allSatisfy(\.isNumber) }) {
            return "is not a valid IPv4 address"
        }
        if text.count > 253 { return "is longer than a host name may be (253)" }
        for label in labels {
            if label.isEmpty || label.count > 63 || label.hasPrefix("-") || label.hasSuffix("-")
                || !label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
                return "is neither an IP address nor a valid host name"
            }
        }
        return nil
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isNumber) && Int(part).map { $0 <= 255 } == true
                && !(part.count > 1 && part.hasPrefix("0"))
        }
    }

    static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.count <= 45 else { return false }
        var body = Substring(text)
        var groupsAllowed = 8
        if let lastColon = body.lastIndex(of: ":"), isIPv4(String(body[body.index(after: lastColon)...])) {
            body = body[...lastColon] + "0:0"
            groupsAllowed = 8
        }
        let halves = body.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        let groups = halves.flatMap { $0.isEmpty ? [] : $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
        guard groups.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy(\.isHexDigit) }) else { return false }
        return halves.count == 2 ? groups.count < groupsAllowed : groups.count == groupsAllowed
    }

    /// A datacenter or rack name must survive cassandra-rackdc.properties and gossip intact.
    public static func problemInRackOrDC(_ text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            return "may hold only letters, digits, '-', '_' and '.'"
        }
        return nil
    }
}

extension StringProtocol {
    func components(separatedBy separator: String) -> [String] {
        var result: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            result.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        result.append(String(rest))
        return result
    }
}
