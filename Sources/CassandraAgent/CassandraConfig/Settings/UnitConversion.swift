/// Moves a value between the forms one setting takes across versions: its
/// 4.1+ unit form (`10000ms`) and its pre-4.1 plain form (`10000`, in the unit
/// the old name implies). Exact or an error: never a rounding.
struct UnitConversion {
    let version: CassandraVersion

    private enum Amount {
        case quantity(Quantity)
        case unset
    }

    /// `bareNumberUnit`: 4.1 kept a few names (the `*_cache_save_period` keys) and
    /// still reads a bare number there, in this unit.
    func convert(
        _ node: YAMLNode, from input: ValueForm, to output: ValueForm, path: String,
        bareNumberUnit: MeasureUnit? = nil, acceptsNull: Bool = false, _ diagnostics: inout Diagnostics
    ) -> YAMLValue? {
        guard let amount = read(node, input, path: path, bareNumberUnit: bareNumberUnit, &diagnostics) else { return nil }
        return write(amount, output, node: node, path: path, acceptsNull: acceptsNull, &diagnostics)
    }

    private func read(_ node: YAMLNode, _ form: ValueForm, path: String, bareNumberUnit: MeasureUnit?, _ diagnostics: inout Diagnostics) -> Amount? {
        guard let dimension = form.dimension else { return nil }
        if node.isNull { return .unset }
        guard case .scalar(let text, let style, _) = node else {
            diagnostics.error("\(path) must be \(dimension.words), found \(node.kindDescription)", at: node.mark)
            return nil
        }
        if let quantity = Quantity.parse(text, dimension: dimension) {
            return .quantity(quantity)
        }
        let number = style == .plain ? YAMLValue(resolving: text, style: .plain) : .string(text)
        switch (form, number) {
        case (.plainNumber(let unit, _, _, let unset, let negative), .int(let value)):
            if let unset, value == unset { return .unset }
            if value < 0 {
                switch negative {
                case .zero: return .quantity(Quantity(value: 0, unit: unit))
                case .unset: return .unset
                case .invalid:
                    diagnostics.error("\(path) must not be negative, found \(value)", at: node.mark)
                    return nil
                }
            }
            return .quantity(Quantity(value: value, unit: unit))
        case (.plainNumber(let unit, _, true, _, _), .double(let value)):
            // Fractional milliseconds: exact in nanoseconds or not at all.
            let base = MeasureUnit.units(of: unit.dimension)[0]
            let scaled = value * Double(unit.factor / base.factor)
            guard value >= 0, scaled.rounded() == scaled, scaled < 9e18 else {
                diagnostics.error("\(path) \(text) cannot be written exactly in whole \(base.symbol)", at: node.mark)
                return nil
            }
            return .quantity(Quantity(value: Int(scaled), unit: base))
        case (.withUnit, .int(let value)) where bareNumberUnit != nil && value >= 0:
            return .quantity(Quantity(value: value, unit: bareNumberUnit!))
        case (.withUnit(_, let minimum, _), .int(let value)):
            diagnostics.error(
                "\(path) needs a unit in Cassandra \(version): a bare number is rejected; write \(value)\(minimum.symbol)", at: node.mark)
            return nil
        default:
            diagnostics.error("\(path) must be \(form.example), found \(MappingReader.describe(node, path: path))", at: node.mark)
            return nil
        }
    }

    private func write(_ amount: Amount, _ form: ValueForm, node: YAMLNode, path: String, acceptsNull: Bool, _ diagnostics: inout Diagnostics) -> YAMLValue? {
        switch (amount, form) {
        case (.unset, .withUnit):
            if acceptsNull { return .null }
            diagnostics.error("\(path) cannot be unset in Cassandra \(version): give a value", at: node.mark)
            return nil
        case (.unset, .plainNumber(_, _, _, let unset, let negative)):
            if let unset { return .int(unset) }
            if negative == .unset { return .int(-1) }
            if acceptsNull { return .null }
            diagnostics.error("\(path) cannot be unset in Cassandra \(version): give a value", at: node.mark)
            return nil
        case (.quantity(let quantity), .withUnit(_, let minimum, let maximum)):
            // Keep the operator's unit where the version allows it; otherwise the smallest one allowed.
            let unit = quantity.unit.factor >= minimum.factor && quantity.unit != .megabitsPerSecond ? quantity.unit : minimum
            guard let value = exact(quantity, in: unit, path: path, node: node, &diagnostics),
                  let inMinimum = exact(quantity, in: minimum, path: path, node: node, &diagnostics)
            else { return nil }
            guard inMinimum <= maximum else {
                diagnostics.error("\(path) \(quantity.text) is too large for Cassandra \(version) (at most \(maximum)\(minimum.symbol))", at: node.mark)
                return nil
            }
            return .string("\(value)\(unit.symbol)")
        case (.quantity(let quantity), .plainNumber(let unit, let maximum, _, _, _)):
            guard let value = exact(quantity, in: unit, path: path, node: node, &diagnostics) else { return nil }
            guard value <= maximum else {
                diagnostics.error("\(path) \(quantity.text) is too large for Cassandra \(version) (at most \(maximum) \(unit.symbol))", at: node.mark)
                return nil
            }
            return .int(value)
        case (_, .unchanged):
            return nil
        }
    }

    private func exact(_ quantity: Quantity, in unit: MeasureUnit, path: String, node: YAMLNode, _ diagnostics: inout Diagnostics) -> Int? {
        switch quantity.converted(to: unit) {
        case .success(let value):
            return value
        case .failure(.inexact):
            diagnostics.error(
                "\(path) \(quantity.text) is not a whole number of \(unit.symbol), the unit Cassandra \(version) takes here; converting would lose precision",
                at: node.mark)
        case .failure(.overflow):
            diagnostics.error("\(path) \(quantity.text) is too large to express in \(unit.symbol)", at: node.mark)
        }
        return nil
    }
}
