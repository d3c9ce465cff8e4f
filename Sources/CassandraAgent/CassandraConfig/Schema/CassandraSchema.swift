/// What one Cassandra version's cassandra.yaml accepts: every setting with its
/// value shape, the shipped default file, renames, and start-up rules. Built
/// from the project's generated initialisers (tools/generate-settings-schema.py):
/// nothing is parsed at run time, and only the versions a process uses are built.
public struct CassandraSchema: Sendable {
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

    init(
        version: String, release: String, settings: [SettingSpec], oldNames: [String: String], required: [String],
        conditional: [ConditionalRule], mutuallyExclusive: [[String]], rackdcKeys: [String], reloadSSL: Bool
    ) {
        self.version = version
        self.release = release
        self.settings = settings
        self.oldNames = oldNames
        self.required = required
        self.conditional = conditional
        self.mutuallyExclusive = mutuallyExclusive
        self.rackdcKeys = rackdcKeys
        self.reloadSSL = reloadSSL
        index = Dictionary(uniqueKeysWithValues: settings.enumerated().map { ($1.name, $0) })
    }

    public subscript(name: String) -> SettingSpec? {
        index[name].map { settings[$0] }
    }

    public var names: [String] { settings.map(\.name) }

    /// The schema of a version, built once per process on first use.
    public static func of(_ version: CassandraVersion) -> CassandraSchema {
        switch version {
        case .v3_11: v3_11
        case .v4_0: v4_0
        case .v4_1: v4_1
        case .v5_0: v5_0
        }
    }

    private static let v3_11 = make_3_11()
    private static let v4_0 = make_4_0()
    private static let v4_1 = make_4_1()
    private static let v5_0 = make_5_0()
}

/// One cassandra.yaml key (or a field of a nested option block).
public final class SettingSpec: Sendable {
    public enum Hot: String, Sendable {
        /// A nodetool/JMX setter changes it on a running node.
        case yes
        /// None: Cassandra must restart to pick it up.
        case no
        /// Only partly (reloadseeds re-reads seeds, reloadssl reloads key material).
        case partly
    }

    public struct Replacement: Sendable {
        public let old: String
        public let converter: String
    }

    /// Wraps the shipped value so that a shipped `null` differs from "not in the shipped file".
    public struct Shipped: Sendable {
        public let value: YAMLValue

        init(_ value: YAMLValue) { self.value = value }
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

    // Not inlined into the generated schema functions: inlined, it made the optimiser
    // take a minute over them (with @_optimize(none) there, 66 s became 7 s).
    @inline(never)
    init(
        _ name: String, _ shape: ValueShape, nullable: Bool = false, defaultIsNull: Bool = false, deprecated: Bool = false,
        replaces: [Replacement] = [], fields: [SettingSpec]? = nil, shipped: Shipped? = nil, hot: Hot = .no, nodetool: [String] = []
    ) {
        self.name = name
        self.shape = shape
        self.nullable = nullable
        self.defaultIsNull = defaultIsNull
        self.deprecated = deprecated
        self.replaces = replaces
        self.fields = fields
        self.shipped = shipped
        self.hot = hot
        self.nodetool = nodetool
    }

    public func field(_ name: String) -> SettingSpec? {
        fields?.first { $0.name == name }
    }

    /// Cassandra accepts null here: the field is @Nullable or has no default.
    public var acceptsNull: Bool { nullable || defaultIsNull }
}

/// The YAML shape a setting's value must have.
public final class ValueShape: Sendable {
    public enum Kind: String, Sendable {
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

    @inline(never)
    init(
        _ kind: Kind, values: [String]? = nil, items: ValueShape? = nil, keys: ValueShape? = nil, valueShape: ValueShape? = nil,
        minUnit: String? = nil, width: String? = nil, scalarClassName: Bool = false, inherits: Bool = false
    ) {
        self.kind = kind
        self.values = values
        self.items = items
        self.keys = keys
        self.valueShape = valueShape
        self.minUnit = minUnit
        self.width = width
        self.scalarClassName = scalarClassName
        self.inherits = inherits
    }

    /// The largest value a Java int or long field holds.
    public var maximum: Int { width == "int" ? Int(Int32.max) : Int.max }
}

/// A start-up rule: when `when` holds, keys in `require` must be set (non-zero
/// when `nonZero`) and keys in `forbid` must be absent (or zero when `allowZero`).
public struct ConditionalRule: Sendable {
    public struct Condition: Sendable {
        public let key: String?
        public let equals: String?
        public let always: Bool?

        init(key: String? = nil, equals: String? = nil, always: Bool? = nil) {
            self.key = key
            self.equals = equals
            self.always = always
        }
    }

    public let when: Condition
    public let require: [String]?
    public let forbid: [String]?
    public let nonZero: Bool?
    public let allowZero: Bool?

    init(when: Condition, require: [String]? = nil, forbid: [String]? = nil, nonZero: Bool? = nil, allowZero: Bool? = nil) {
        self.when = when
        self.require = require
        self.forbid = forbid
        self.nonZero = nonZero
        self.allowZero = allowZero
    }
}
