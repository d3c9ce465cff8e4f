import FoundationEssentials

/// What one Cassandra version's cassandra.yaml accepts: every setting with its
/// value shape, the shipped default file, renames, and start-up rules. Built
/// from the project's generated data (tools/generate-settings-schema.py).
public struct CassandraSchema: Sendable, Decodable {
    public let version: String
    public let release: String
    public let settings: [SettingSpec]
    /// 4.1+: every deprecated old top-level name -> its current name.
    public let oldNames: [String: String]
    public let required: [String]
    public let conditional: [ConditionalRule]
    public let mutuallyExclusive: [[String]]
    public let rackdcKeys: [String]
    public let reloadSSL: Bool

    private let index: [String: Int]

    enum CodingKeys: String, CodingKey {
        case version, release, settings, oldNames, required, conditional, mutuallyExclusive, rackdcKeys, reloadSSL
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(String.self, forKey: .version)
        release = try c.decode(String.self, forKey: .release)
        settings = try c.decode([SettingSpec].self, forKey: .settings)
        oldNames = try c.decode([String: String].self, forKey: .oldNames)
        required = try c.decode([String].self, forKey: .required)
        conditional = try c.decode([ConditionalRule].self, forKey: .conditional)
        mutuallyExclusive = try c.decode([[String]].self, forKey: .mutuallyExclusive)
        rackdcKeys = try c.decode([String].self, forKey: .rackdcKeys)
        reloadSSL = try c.decode(Bool.self, forKey: .reloadSSL)
        index = Dictionary(uniqueKeysWithValues: settings.enumerated().map { ($1.name, $0) })
    }

    public subscript(name: String) -> SettingSpec? {
        index[name].map { settings[$0] }
    }

    public var names: [String] { settings.map(\.name) }

    /// The schema of a version, decoded once per process.
    public static func of(_ version: CassandraVersion) -> CassandraSchema {
        switch version {
        case .v3_11: v3_11
        case .v4_0: v4_0
        case .v4_1: v4_1
        case .v5_0: v5_0
        }
    }

    private static let v3_11 = decode(json_3_11)
    private static let v4_0 = decode(json_4_0)
    private static let v4_1 = decode(json_4_1)
    private static let v5_0 = decode(json_5_0)

    private static func decode(_ json: String) -> CassandraSchema {
        do {
            return try JSONDecoder().decode(CassandraSchema.self, from: Data(json.utf8))
        } catch {
            // The data is generated and checked in; failing here is a build defect.
            fatalError("generated Cassandra schema does not decode: \(error)")
        }
    }
}

/// One cassandra.yaml key (or a field of a nested option block).
public final class SettingSpec: Sendable, Decodable {
    public enum Hot: String, Sendable, Decodable {
        /// A nodetool/JMX setter changes it on a running node.
        case yes
        /// None: Cassandra must restart to pick it up.
        case no
        /// Only partly (reloadseeds re-reads seeds, reloadssl reloads key material).
        case partly
    }

    public struct Replacement: Sendable, Decodable {
        public let old: String
        public let converter: String
    }

    public struct Shipped: Sendable, Decodable {
        public let value: YAMLValue
    }

    public let name: String
    public let shape: ValueShape
    public let nullable: Bool
    public let defaultIsNull: Bool
    public let deprecated: Bool
    public let replaces: [Replacement]
    public let fields: [SettingSpec]?
    /// The value in the shipped cassandra.yaml, when the shipped file sets it.
    public let shipped: Shipped?
    public let hot: Hot
    public let nodetool: [String]

    enum CodingKeys: String, CodingKey {
        case name, shape, nullable, defaultIsNull, deprecated, replaces, fields, shipped, hot, nodetool
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        shape = try c.decode(ValueShape.self, forKey: .shape)
        nullable = try c.decodeIfPresent(Bool.self, forKey: .nullable) ?? false
        defaultIsNull = try c.decodeIfPresent(Bool.self, forKey: .defaultIsNull) ?? false
        deprecated = try c.decodeIfPresent(Bool.self, forKey: .deprecated) ?? false
        replaces = try c.decodeIfPresent([Replacement].self, forKey: .replaces) ?? []
        fields = try c.decodeIfPresent([SettingSpec].self, forKey: .fields)
        shipped = try c.decodeIfPresent(Shipped.self, forKey: .shipped)
        hot = try c.decodeIfPresent(Hot.self, forKey: .hot) ?? .no
        nodetool = try c.decodeIfPresent([String].self, forKey: .nodetool) ?? []
    }

    public func field(_ name: String) -> SettingSpec? {
        fields?.first { $0.name == name }
    }

    /// Cassandra accepts null here: the field is @Nullable or has no default.
    public var acceptsNull: Bool { nullable || defaultIsNull }
}

/// The YAML shape a setting's value must have.
public final class ValueShape: Sendable, Decodable {
    public enum Kind: String, Sendable, Decodable {
        case boolean, integer, number, string, `enum`, list, map
        case duration, dataStorage = "data_storage", dataRate = "data_rate"
        case parameterizedClass = "parameterized_class", object, any
    }

    public let kind: Kind
    public let values: [String]?
    public let items: ValueShape?
    public let keys: ValueShape?
    public let valueShape: ValueShape?
    public let minUnit: String?
    public let width: String?
    public let scalarClassName: Bool
    /// A class may instead inherit another entry's (`inherits: skiplist`).
    public let inherits: Bool

    enum CodingKeys: String, CodingKey {
        case kind, values, items, keys, valueShape, minUnit, width, scalarClassName, inherits
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(Kind.self, forKey: .kind)
        values = try c.decodeIfPresent([String].self, forKey: .values)
        items = try c.decodeIfPresent(ValueShape.self, forKey: .items)
        keys = try c.decodeIfPresent(ValueShape.self, forKey: .keys)
        valueShape = try c.decodeIfPresent(ValueShape.self, forKey: .valueShape)
        minUnit = try c.decodeIfPresent(String.self, forKey: .minUnit)
        width = try c.decodeIfPresent(String.self, forKey: .width)
        scalarClassName = try c.decodeIfPresent(Bool.self, forKey: .scalarClassName) ?? false
        inherits = try c.decodeIfPresent(Bool.self, forKey: .inherits) ?? false
    }

    /// The largest value a Java int or long field holds.
    public var maximum: Int { width == "int" ? Int(Int32.max) : Int.max }
}

/// A start-up rule: when `when` holds, keys in `require` must be set (non-zero
/// when `nonZero`) and keys in `forbid` must be absent (or zero when `allowZero`).
public struct ConditionalRule: Sendable, Decodable {
    public struct Condition: Sendable, Decodable {
        public let key: String?
        public let equals: String?
        public let always: Bool?
    }

    public let when: Condition
    public let require: [String]?
    public let forbid: [String]?
    public let nonZero: Bool?
    public let allowZero: Bool?
}

extension YAMLValue: Decodable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let l = try? c.decode([YAMLValue].self) {
            self = .list(l)
        } else {
            // The generator writes mappings as {"ordered": [[key, value], ...]} to keep their order.
            let keyed = try decoder.container(keyedBy: OrderedMapKey.self)
            var pairs = try keyed.nestedUnkeyedContainer(forKey: .ordered)
            var result: [(String, YAMLValue)] = []
            while !pairs.isAtEnd {
                var pair = try pairs.nestedUnkeyedContainer()
                result.append((try pair.decode(String.self), try pair.decode(YAMLValue.self)))
            }
            self = .map(result)
        }
    }

    enum OrderedMapKey: String, CodingKey {
        case ordered
    }
}
