/// Durations as the desired state writes them, in Cassandra's units: `500ms`,
/// `30s`, `15m`, `48h`, `10d` (and `2w`). A whole number and one unit.
public enum DurationText {
    public static func seconds(_ text: String) -> Double? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 12, let amount = Double(digits) else { return nil }
        let factor: Double
        switch text.dropFirst(digits.count) {
        case "ms": factor = 0.001
        case "s": factor = 1
        case "m": factor = 60
        case "h": factor = 3600
        case "d": factor = 86400
        case "w": factor = 7 * 86400
        default: return nil
        }
        return amount * factor
    }

    /// The shortest exact form: 90 -> "90s", 1800 -> "30m", 86400 -> "1d".
    public static func format(_ seconds: Double) -> String {
        let whole = Int(seconds)
        guard Double(whole) == seconds else { return "\(Int(seconds * 1000))ms" }
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] where whole >= size && whole % size == 0 {
            return "\(whole / size)\(unit)"
        }
        return "\(whole)s"
    }
}
