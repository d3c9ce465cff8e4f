extension MappingReader {
    /// An optional duration key (`30m`, `2h`, Cassandra's units), at least `minimum`
    /// seconds; a bad one is an error at its value, and nil.
    mutating func duration(_ key: String, context: String, minimum: Double, example: String = "30m", _ diagnostics: inout Diagnostics) -> Double? {
        guard let value = optional(key), let text = MappingReader.string(value, "\(context).\(key)", &diagnostics) else { return nil }
        guard let seconds = DurationText.seconds(text) else {
            diagnostics.error("\(context).\(key) '\(text)' is not a duration: a whole number and a unit ms, s, m, h or d (e.g. \(example))", at: value.mark)
            return nil
        }
        guard seconds >= minimum else {
            diagnostics.error("\(context).\(key) must be at least \(DurationText.format(minimum)), found \(text)", at: value.mark)
            return nil
        }
        return seconds
    }
}
