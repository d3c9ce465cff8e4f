/// Writes `YAMLValue`s as block-style YAML, deterministically: the same value
/// always gives the same bytes, and a string is quoted whenever a YAML 1.1
/// reader (SnakeYAML) could take it for something else.
public enum YAMLEmitter {
    /// One top-level `key: value` entry (with its nested lines), ending in a newline.
    public static func entry(_ key: String, _ value: YAMLValue) -> String {
        var out = ""
        emitEntry(key: key, value: value, indent: 0, into: &out)
        return out
    }

    public static func document(_ pairs: [(String, YAMLValue)]) -> String {
        pairs.map { entry($0.0, $0.1) }.joined()
    }

    static func emitEntry(key: String, value: YAMLValue, indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .list(let items) where !items.isEmpty:
            out += "\(pad)\(scalar(key)):\n"
            emitList(items, indent: indent, into: &out)
        case .map(let pairs) where !pairs.isEmpty:
            out += "\(pad)\(scalar(key)):\n"
            for (k, v) in pairs { emitEntry(key: k, value: v, indent: indent + 2, into: &out) }
        case .null:
            out += "\(pad)\(scalar(key)):\n"
        default:
            out += "\(pad)\(scalar(key)): \(inline(value))\n"
        }
    }

    static func emitList(_ items: [YAMLValue], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case .map(let pairs) where !pairs.isEmpty:
                // "- first: x" then the other keys aligned under it.
                var nested = ""
                for (k, v) in pairs { emitEntry(key: k, value: v, indent: indent + 2, into: &nested) }
                out += pad + "- " + nested.dropFirst(indent + 2)
            case .list(let inner) where !inner.isEmpty:
                out += "\(pad)-\n"
                emitList(inner, indent: indent + 2, into: &out)
            default:
                out += "\(pad)- \(inline(item))\n"
            }
        }
    }

    static func inline(_ value: YAMLValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): format(d)
        case .string(let s): scalar(s)
        case .list: "[]"
        case .map: "{}"
        }
    }

    /// A double that reads back as a double: always with a dot or an exponent.
    static func format(_ value: Double) -> String {
        if value.isNaN { return ".NaN" }
        if value.isInfinite { return value > 0 ? ".inf" : "-.inf" }
        let text = String(value)
        return text.contains(".") || text.contains("e") ? text : text + ".0"
    }

    /// A string as a plain scalar when that reads back as the same string, else double-quoted.
    static func scalar(_ text: String) -> String {
        needsQuotes(text) ? quoted(text) : text
    }

    /// One pass over the UTF-8 bytes: the rules are all about ASCII bytes, and String's
    /// substring search (`contains(": ")`) was over half of rendering a cassandra.yaml.
    static func needsQuotes(_ text: String) -> Bool {
        guard let first = text.utf8.first, let last = text.utf8.last else { return true }
        if case .string = YAMLValue(resolving: text, style: .plain) {} else { return true }
        if isIndicator(first) || last == UInt8(ascii: " ") || last == UInt8(ascii: ":") { return true }
        var previous: UInt8 = 0, beforePrevious: UInt8 = 0, colonOrDash = false
        for byte in text.utf8 {
            // Control characters (a tab among them), DEL, ": " and " #" (a mapping or a comment),
            // and U+FEFF (a byte-order mark), whose UTF-8 is EF BB BF.
            if byte < 0x20 || byte == 0x7F { return true }
            if previous == UInt8(ascii: ":") && byte == UInt8(ascii: " ") { return true }
            if previous == UInt8(ascii: " ") && byte == UInt8(ascii: "#") { return true }
            if beforePrevious == 0xEF && previous == 0xBB && byte == 0xBF { return true }
            colonOrDash = colonOrDash || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "-")
            beforePrevious = previous
            previous = byte
        }
        // Anything SnakeYAML might resolve as a date, timestamp or sexagesimal number.
        return colonOrDash && text.first?.isNumber == true
    }

    /// A first byte that YAML reads as syntax: `-?:,[]{}#&*!|>'"%@`~` and a space.
    static func isIndicator(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"),
             UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"),
             UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"),
             UInt8(ascii: "`"), UInt8(ascii: "~"), UInt8(ascii: " "):
            true
        default:
            false
        }
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0xFEFF {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
