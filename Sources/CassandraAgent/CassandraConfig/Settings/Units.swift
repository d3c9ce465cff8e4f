/// What a unit-carrying setting measures.
public enum Dimension: Sendable, Equatable {
    case duration
    case dataStorage
    case dataRate

    var words: String {
        switch self {
        case .duration: "a duration"
        case .dataStorage: "a data size"
        case .dataRate: "a data rate"
        }
    }
}

/// A unit as Cassandra 4.1+ spells it, with its size in the dimension's base
/// unit (nanoseconds, bytes, bytes per second).
public struct MeasureUnit: Sendable, Equatable {
    public let symbol: String
    public let dimension: Dimension
    public let factor: Int

    static let durations: [MeasureUnit] = [
        .init(symbol: "ns", dimension: .duration, factor: 1),
        .init(symbol: "us", dimension: .duration, factor: 1_000),
        .init(symbol: "µs", dimension: .duration, factor: 1_000),
        .init(symbol: "ms", dimension: .duration, factor: 1_000_000),
        .init(symbol: "s", dimension: .duration, factor: 1_000_000_000),
        .init(symbol: "m", dimension: .duration, factor: 60_000_000_000),
        .init(symbol: "h", dimension: .duration, factor: 3_600_000_000_000),
        .init(symbol: "d", dimension: .duration, factor: 86_400_000_000_000),
    ]
    static let sizes: [MeasureUnit] = [
        .init(symbol: "B", dimension: .dataStorage, factor: 1),
        .init(symbol: "KiB", dimension: .dataStorage, factor: 1 << 10),
        .init(symbol: "MiB", dimension: .dataStorage, factor: 1 << 20),
        .init(symbol: "GiB", dimension: .dataStorage, factor: 1 << 30),
    ]
    static let rates: [MeasureUnit] = [
        .init(symbol: "B/s", dimension: .dataRate, factor: 1),
        .init(symbol: "KiB/s", dimension: .dataRate, factor: 1 << 10),
        .init(symbol: "MiB/s", dimension: .dataRate, factor: 1 << 20),
    ]
    /// Only the pre-4.1 `*_megabits_per_sec` settings use it; 4.1 spells it in bytes.
    static let megabitsPerSecond = MeasureUnit(symbol: "megabits/s", dimension: .dataRate, factor: 125_000)

    static func units(of dimension: Dimension) -> [MeasureUnit] {
        switch dimension {
        case .duration: durations
        case .dataStorage: sizes
        case .dataRate: rates
        }
    }

    static func named(_ symbol: String, in dimension: Dimension) -> MeasureUnit? {
        units(of: dimension).first { $0.symbol == symbol }
    }
}

/// An exact amount of some dimension: `value` of `unit`.
public struct Quantity: Sendable, Equatable {
    public var value: Int
    public var unit: MeasureUnit

    public enum ConversionError: Error, Equatable {
        /// The amount is not a whole number of the target unit.
        case inexact
        case overflow
    }

    /// The same amount in `target`, only if it is a whole number there.
    public func converted(to target: MeasureUnit) -> Result<Int, ConversionError> {
        precondition(unit.dimension == target.dimension)
        if unit.factor == target.factor { return .success(value) }
        let divisor = gcd(unit.factor, target.factor)
        let up = unit.factor / divisor, down = target.factor / divisor
        let (scaled, overflow) = value.multipliedReportingOverflow(by: up)
        if overflow { return .failure(.overflow) }
        guard scaled % down == 0 else { return .failure(.inexact) }
        return .success(scaled / down)
    }

    /// Parses Cassandra 4.1's `NUMBER UNIT` form: a whole non-negative number and a
    /// case-sensitive unit with no space between.
    static func parse(_ text: String, dimension: Dimension) -> Quantity? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = Int(digits),
              let unit = MeasureUnit.named(String(text.dropFirst(digits.count)), in: dimension)
        else { return nil }
        return Quantity(value: value, unit: unit)
    }

    var text: String { "\(value)\(unit.symbol)" }
}

private func gcd(_ a: Int, _ b: Int) -> Int {
    b == 0 ? a : gcd(b, a % b)
}
