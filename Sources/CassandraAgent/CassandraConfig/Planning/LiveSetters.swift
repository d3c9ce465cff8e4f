/// How a changed setting is pushed to a running node, as a nodetool argument
/// vector with the value in the unit the command takes. Settings Cassandra can
/// change live but not through a simple setter here wait for a restart.
public enum LiveSetters {
    /// Setting (any of its names) -> nodetool command and the unit its value is given in.
    static let table: [(names: Set<String>, command: [String], unit: MeasureUnit?)] = {
        let ms = MeasureUnit.named("ms", in: .duration)!, kib = MeasureUnit.named("KiB", in: .dataStorage)!
        let mibps = MeasureUnit.named("MiB/s", in: .dataRate)!
        func timeout(_ name: String, _ type: String) -> (Set<String>, [String], MeasureUnit?) {
            ([name, name + "_in_ms"], ["settimeout", type], ms)
        }
        return [
            (["compaction_throughput", "compaction_throughput_mb_per_sec"], ["setcompactionthroughput"], mibps),
            (["stream_throughput_outbound", "stream_throughput_outbound_megabits_per_sec"], ["setstreamthroughput"], MeasureUnit.megabitsPerSecond),
            (["inter_dc_stream_throughput_outbound", "inter_dc_stream_throughput_outbound_megabits_per_sec"], ["setinterdcstreamthroughput"], MeasureUnit.megabitsPerSecond),
            (["concurrent_compactors"], ["setconcurrentcompactors"], nil),
            (["hinted_handoff_throttle", "hinted_handoff_throttle_in_kb"], ["sethintedhandoffthrottlekb"], kib),
            (["max_hint_window", "max_hint_window_in_ms"], ["setmaxhintwindow"], ms),
            (["batchlog_replay_throttle", "batchlog_replay_throttle_in_kb"], ["setbatchlogreplaythrottle"], kib),
            timeout("read_request_timeout", "read"), timeout("write_request_timeout", "write"),
            timeout("range_request_timeout", "range"), timeout("counter_write_request_timeout", "counterwrite"),
            timeout("cas_contention_timeout", "cascontention"), timeout("truncate_request_timeout", "truncate"),
            timeout("request_timeout", "misc"),
        ]
    }()

    /// The nodetool arguments that set `key` to `value` on a running node, or nil
    /// when the agent does not push this setting live.
    public static func command(for key: String, value: YAMLValue, version: CassandraVersion) -> [String]? {
        guard let entry = table.first(where: { $0.names.contains(key) }) else { return nil }
        guard let unit = entry.unit else {
            if case .int(let n) = value { return entry.command + [String(n)] }
            return nil
        }
        let quantity: Quantity?
        switch value {
        case .string(let text): quantity = Quantity.parse(text, dimension: unit.dimension)
        case .int(let n):
            if case .plainNumber(let written, _, _, _, _) = SettingFamilies.shared.form(of: key, in: version) {
                quantity = Quantity(value: n, unit: written)
            } else {
                quantity = nil
            }
        default: quantity = nil
        }
        guard let quantity, case .success(let amount) = quantity.converted(to: unit) else { return nil }
        return entry.command + [String(amount)]
    }
}
