import CassandraAgent

/// nodetool's TableBuilder: every cell left-justified to the widest cell of its
/// column (the last column too, so lines can end in spaces), joined by a fixed
/// delimiter; short rows get empty cells.
enum ColumnTable {
    static func format(_ rows: [[String]], delimiter: String) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            (0..<columns).map { i in
                let cell = i < row.count ? row[i] : ""
                return cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: delimiter)
        }
    }

    static func left(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func right(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}

/// Number formats of the JVM that nodetool output is made of.
enum JavaFormat {
    /// Double.toString of a whole number: `4215275.0`, `1.63206512E9`.
    static func double(_ value: Int64) -> String {
        if value < 10_000_000 { return "\(value).0" }
        let digits = String(value)
        var mantissa = Array(digits)
        let exponent = mantissa.count - 1
        while mantissa.count > 1 && mantissa.last == "0" { mantissa.removeLast() }
        let fraction = mantissa.count > 1 ? String(mantissa[1...]) : "0"
        return "\(mantissa[0]).\(fraction)E\(exponent)"
    }

    /// DecimalFormat("##0.0") with HALF_EVEN rounding, then "%".
    static func percent(_ value: Double) -> String {
        let tenths = (value * 10).rounded(.toNearestOrEven)
        let whole = Int(tenths) / 10, fraction = Int(tenths) % 10
        return "\(whole).\(fraction)%"
    }

    /// String.format("%.2f").
    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
