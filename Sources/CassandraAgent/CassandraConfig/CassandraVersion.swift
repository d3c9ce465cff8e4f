/// A Cassandra major version the agent renders for. The version picks setting
/// names, shipped defaults and value formats.
public enum CassandraVersion: String, Sendable, CaseIterable, Comparable, Codable, CustomStringConvertible {
    case v3_11 = "3.11"
    case v4_0 = "4.0"
    case v4_1 = "4.1"
    case v5_0 = "5.0"

    public var description: String { rawValue }

    /// 4.1 renamed the unit-in-name settings and gave their values units.
    public var usesUnitValues: Bool { self >= .v4_1 }

    /// Seeds may carry a port (`host:7000`) from 4.0 on.
    public var seedsMayHavePort: Bool { self >= .v4_0 }

    public static func < (a: CassandraVersion, b: CassandraVersion) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
