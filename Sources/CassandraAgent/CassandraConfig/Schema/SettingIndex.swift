/// Which top-level names each version has and how their values are written,
/// plus every rename across versions: the little that resolving a name needs
/// from the versions other than the target one, without decoding their schema.
struct SettingIndex: Sendable {
    struct Key: Sendable {
        let kind: String
        let minUnit: String?
        let width: String?
    }

    struct Rename: Sendable {
        let old: String
        let new: String
        let converter: String
    }

    private(set) var keys: [CassandraVersion: [String: Key]] = [:]
    private(set) var oldNames: [CassandraVersion: [String: String]] = [:]
    private(set) var renames: [Rename] = []
    /// Pure renames of nested option fields, old -> new.
    private(set) var fieldRenames: [(old: String, new: String)] = []

    static let shared = SettingIndex(parsing: data)

    init(parsing text: String) {
        // Byte-level splitting: grapheme-aware String.split costs more than everything else at start-up.
        let bytes = Array(text.utf8)
        var fields: [[String]] = []
        var row: [String] = []
        var start = 0
        for (i, byte) in bytes.enumerated() where byte == 9 || byte == 10 {
            row.append(String(decoding: bytes[start..<i], as: UTF8.self))
            start = i + 1
            if byte == 10 {
                fields.append(row)
                row = []
            }
        }
        if start < bytes.count { row.append(String(decoding: bytes[start...], as: UTF8.self)) }
        if !row.isEmpty { fields.append(row) }
        for f in fields where !f.isEmpty {
            switch f[0] {
            case "key":
                guard let version = CassandraVersion(rawValue: f[1]) else { continue }
                keys[version, default: [:]][f[2]] = Key(kind: f[3], minUnit: f.count > 4 ? f[4] : nil, width: f.count > 5 ? f[5] : nil)
            case "old":
                guard let version = CassandraVersion(rawValue: f[1]) else { continue }
                oldNames[version, default: [:]][f[2]] = f[3]
            case "rename":
                renames.append(Rename(old: f[1], new: f[2], converter: f[3]))
            case "field-rename":
                fieldRenames.append((f[1], f[2]))
            default:
                continue
            }
        }
    }

    func has(_ name: String, in version: CassandraVersion) -> Bool {
        keys[version]?[name] != nil
    }

    func isOldName(_ name: String, in version: CassandraVersion) -> Bool {
        oldNames[version]?[name] != nil
    }

    /// The 4.1+ unit form of `name` in `version`, if it takes one.
    func unitForm(of name: String, in version: CassandraVersion) -> ValueForm? {
        guard let key = keys[version]?[name], let symbol = key.minUnit else { return nil }
        let dimension: Dimension
        switch key.kind {
        case "duration": dimension = .duration
        case "data_storage": dimension = .dataStorage
        case "data_rate": dimension = .dataRate
        default: return nil
        }
        guard let minimum = MeasureUnit.named(symbol, in: dimension) else { return nil }
        return .withUnit(dimension, minimum: minimum, maximum: key.width == "int" ? Int(Int32.max) : Int.max)
    }
}
