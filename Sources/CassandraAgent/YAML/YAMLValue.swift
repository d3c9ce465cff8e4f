/// A plain YAML value: what gets rendered into cassandra.yaml, and what an
/// installed file reads back as. Mappings keep their order.
public indirect enum YAMLValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([YAMLValue])
    case map([(String, YAMLValue)])

    public static func == (a: YAMLValue, b: YAMLValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        case let (.int(x), .int(y)): x == y
        case let (.double(x), .double(y)): x == y
        case let (.int(x), .double(y)), let (.double(y), .int(x)): Double(x) == y
        case let (.string(x), .string(y)): x == y
        case let (.list(x), .list(y)): x == y
        case let (.map(x), .map(y)):
            x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// Resolves a scalar the way SnakeYAML (YAML 1.1) does for plain scalars;
    /// quoted and block scalars are always strings.
    public init(resolving text: String, style: YAMLNode.ScalarStyle) {
        guard style == .plain else {
            self = .string(text)
            return
        }
        if YAMLValue.isNullText(text) {
            self = .null
        } else if let bool = YAMLValue.boolValue(text) {
            self = .bool(bool)
        } else if let int = YAMLValue.intValue(text) {
            self = .int(int)
        } else if let double = YAMLValue.doubleValue(text) {
            self = .double(double)
        } else {
            self = .string(text)
        }
    }

    static func isNullText(_ text: String) -> Bool {
        text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
    }

    static func boolValue(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": false
        default: nil
        }
    }

    static func intValue(_ text: String) -> Int? {
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || (48...57).contains(first) else { return nil }
        var digits = Substring(text.contains("_") ? text.replacing("_", with: "") : text)
        var negative = false
        if let first = digits.first, first == "-" || first == "+" {
            negative = first == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        let magnitude: Int?
        if digits.hasPrefix("0x") {
            magnitude = Int(digits.dropFirst(2), radix: 16)
        } else if digits.count > 1, digits.hasPrefix("0"), digits.allSatisfy({ ("0"..."7").contains($0) }) {
            magnitude = Int(digits.dropFirst(), radix: 8)
        } else if digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) {
            magnitude = Int(digits)
        } else {
            magnitude = nil
        }
        guard let magnitude else { return nil }
        return negative ? -magnitude : magnitude
    }

    static func doubleValue(_ text: String) -> Double? {
        // Cheap refusals first: a long text, or one not starting like a number, is a string.
        guard let first = text.utf8.first, text.utf8.count <= 64, "+-.0123456789".utf8.contains(first) else { return nil }
        let lower = text.lowercased()
        if [".inf", "+.inf"].contains(lower) { return .infinity }
        if lower == "-.inf" { return -.infinity }
        if lower == ".nan" { return .nan }
        // YAML 1.1 floats need a digit and a dot or an exponent: "1.5", "1e3", "-0.5".
        guard text.contains(where: \.isNumber),
              text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE_".contains($0)) }),
              text.contains(".") || text.lowercased().contains("e")
        else { return nil }
        return Double(text.replacing("_", with: ""))
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .int(let value): String(value)
        case .double(let value): YAMLEmitter.format(value)
        case .string(let value): value
        case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .map(let pairs): "{" + pairs.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
        }
    }

    /// The value under a key of a mapping.
    public subscript(key: String) -> YAMLValue? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.last(where: { $0.0 == key })?.1
    }
}
