/// Which top-level names each version has and how their values are written,
/// plus every rename across versions: the little that resolving a name needs
/// from the versions other than the target one, without decoding their schema.
struct SettingIndex: Sendable {
    struct Key: Sendable {
        let kind: String
        let minUnit: String?
        let width: String?

        init(kind: String, minUnit: String? = nil, width: String? = nil) {
            self.kind = kind
            self.minUnit = minUnit
            self.width = width
        }
    }

    struct Rename: Sendable {
        let old: String
        let new: String
        let converter: String
    }

    var renames: [Rename] { Self.allRenames }
    /// Pure renames of nested option fields, old -> new.
    var fieldRenames: [(old: String, new: String)] { Self.allFieldRenames }

    static let shared = SettingIndex()

    /// Generated literals (SettingIndex+Data.swift): a version's dictionaries are
    /// built when that version is first asked about, nothing is parsed.
    func keys(in version: CassandraVersion) -> [String: Key] {
        switch version {
        case .v3_11: Self.keys_3_11
        case .v4_0: Self.keys_4_0
        case .v4_1: Self.keys_4_1
        case .v5_0: Self.keys_5_0
        }
    }

    func oldNames(in version: CassandraVersion) -> [String: String] {
        switch version {
        case .v3_11: Self.oldNames_3_11
        case .v4_0: Self.oldNames_4_0
        case .v4_1: Self.oldNames_4_1
        case .v5_0: Self.oldNames_5_0
        }
    }

    func has(_ name: String, in version: CassandraVersion) -> Bool {
        keys(in: version)[name] != nil
    }

    func isOldName(_ name: String, in version: CassandraVersion) -> Bool {
        oldNames(in: version)[name] != nil
    }

    /// The 4.1+ unit form of `name` in `version`, if it takes one.
    func unitForm(of name: String, in version: CassandraVersion) -> ValueForm? {
        guard let key = keys(in: version)[name], let symbol = key.minUnit else { return nil }
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
