/// How one setting name writes its value in one Cassandra version: with a unit
/// (4.1+ names), as a plain number in a unit implied by the name (pre-4.1
/// `*_in_ms`-style names), or as a value with no unit at all.
enum ValueForm: Equatable {
    /// `"5000ms"`: the smallest unit allowed and the Java field width.
    case withUnit(Dimension, minimum: MeasureUnit, maximum: Int)
    /// `5000`, meaning milliseconds. `unset` is the number that means "not set"
    /// (`-1` for the *_CUSTOM_* converters); `negativeMeansZero` for the NEGATIVE_SECONDS one.
    case plainNumber(MeasureUnit, maximum: Int, fractional: Bool, unset: Int?, negativeIs: NegativeMeaning)
    /// No unit involved: the value passes unchanged (a pure rename).
    case unchanged

    enum NegativeMeaning: Equatable {
        case invalid
        case zero
        case unset
    }

    /// The old-name form that a 4.1+ @Replaces converter reads; nil when the converter
    /// changes meaning (not just units) and cannot be applied by the agent.
    static func oldForm(of converter: String) -> ValueForm? {
        let ms = MeasureUnit.named("ms", in: .duration)!, s = MeasureUnit.named("s", in: .duration)!
        let m = MeasureUnit.named("m", in: .duration)!
        let b = MeasureUnit.named("B", in: .dataStorage)!, kib = MeasureUnit.named("KiB", in: .dataStorage)!
        let mib = MeasureUnit.named("MiB", in: .dataStorage)!, mibps = MeasureUnit.named("MiB/s", in: .dataRate)!
        let int = Int(Int32.max), long = Int.max
        switch converter {
        case "MILLIS_DURATION_LONG": return .plainNumber(ms, maximum: long, fractional: false, unset: nil, negativeIs: .invalid)
        case "MILLIS_DURATION_INT": return .plainNumber(ms, maximum: int, fractional: false, unset: nil, negativeIs: .invalid)
        case "MILLIS_DURATION_DOUBLE": return .plainNumber(ms, maximum: int, fractional: true, unset: nil, negativeIs: .invalid)
        case "MILLIS_CUSTOM_DURATION": return .plainNumber(ms, maximum: int, fractional: false, unset: -1, negativeIs: .invalid)
        case "SECONDS_DURATION", "SECONDS_CUSTOM_DURATION": return .plainNumber(s, maximum: int, fractional: false, unset: nil, negativeIs: .invalid)
        case "NEGATIVE_SECONDS_DURATION": return .plainNumber(s, maximum: int, fractional: false, unset: nil, negativeIs: .zero)
        case "MINUTES_CUSTOM_DURATION": return .plainNumber(m, maximum: int, fractional: false, unset: -1, negativeIs: .invalid)
        case "MEBIBYTES_DATA_STORAGE_LONG": return .plainNumber(mib, maximum: long, fractional: false, unset: nil, negativeIs: .invalid)
        case "MEBIBYTES_DATA_STORAGE_INT", "LONG_BYTES_DATASTORAGE_MEBIBYTES_INT":
            return .plainNumber(mib, maximum: int, fractional: false, unset: nil, negativeIs: .invalid)
        case "NEGATIVE_MEBIBYTES_DATA_STORAGE_INT": return .plainNumber(mib, maximum: int, fractional: false, unset: nil, negativeIs: .unset)
        case "KIBIBYTES_DATASTORAGE": return .plainNumber(kib, maximum: int, fractional: false, unset: nil, negativeIs: .invalid)
        case "BYTES_DATASTORAGE": return .plainNumber(b, maximum: int, fractional: false, unset: nil, negativeIs: .invalid)
        case "BYTES_CUSTOM_DATASTORAGE": return .plainNumber(b, maximum: long, fractional: false, unset: -1, negativeIs: .invalid)
        case "MEBIBYTES_PER_SECOND_DATA_RATE": return .plainNumber(mibps, maximum: int, fractional: false, unset: nil, negativeIs: .invalid)
        case "MEGABITS_TO_BYTES_PER_SECOND_DATA_RATE":
            return .plainNumber(MeasureUnit.megabitsPerSecond, maximum: int, fractional: false, unset: nil, negativeIs: .invalid)
        case "LONG_BYTES_DATASTORAGE_MEBIBYTES_DATASTORAGE": return .withUnit(.dataStorage, minimum: mib, maximum: int)
        case "IDENTITY", "INTEGER_PRIMITIVE_LONG": return .unchanged
        default: return nil  // KEYSPACE_/TABLE_COUNT_THRESHOLD_TO_GUARDRAIL change what is counted
        }
    }

    /// The unit form of a 4.1+ shape, nil for shapes without units.
    static func unitForm(of shape: ValueShape) -> ValueForm? {
        let dimension: Dimension
        switch shape.kind {
        case .duration: dimension = .duration
        case .dataStorage: dimension = .dataStorage
        case .dataRate: dimension = .dataRate
        default: return nil
        }
        guard let symbol = shape.minUnit, let minimum = MeasureUnit.named(symbol, in: dimension) else { return nil }
        return .withUnit(dimension, minimum: minimum, maximum: shape.maximum)
    }

    var dimension: Dimension? {
        switch self {
        case .withUnit(let d, _, _): d
        case .plainNumber(let unit, _, _, _, _): unit.dimension
        case .unchanged: nil
        }
    }

    /// How an operator should write a value of this form.
    var example: String {
        switch self {
        case .withUnit(let d, let minimum, _):
            let symbols = MeasureUnit.units(of: d).filter { $0.factor >= minimum.factor }.map(\.symbol)
            return "a whole number with a unit (\(symbols.joined(separator: ", "))), e.g. 10\(minimum.symbol == "ns" ? "ms" : minimum.symbol)"
        case .plainNumber(let unit, _, _, _, _):
            return "a number of \(unit.symbol)"
        case .unchanged:
            return "a value"
        }
    }
}
