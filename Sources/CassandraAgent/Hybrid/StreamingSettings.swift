/// How the agent runs a job that streams data for hours (`rebuild`, `decommission`):
/// the desired state's `rebuild:` and `decommission:` sections, every key optional.
/// Both jobs run only when asked (`job start`), never on a schedule: adding or
/// removing a datacenter is a decision, not a routine.
public struct StreamingSettings: Sendable, Equatable {
    /// Rebuild only: how many nodes of one datacenter may rebuild at once (0: no bound).
    public var maxParallelPerDatacenter = 1
    /// No new bytes streamed for this long fails the job with a reason.
    public var stallTimeout: Double = 1800
    /// The longest one nodetool rebuild (one keyspace) or decommission may run.
    public var timeout: Double = 7 * 86_400
    /// How often netstats is read for progress and stalls.
    public var pollInterval: Double = 10
    /// Rebuild only: how long a node waits, per place in its datacenter's order, before it
    /// takes a free turn; nodes that found the datacenter free at once start apart, not together.
    public var stagger: Double = 5

    public init() {}
}

extension DesiredState {
    public var rebuildSettings: StreamingSettings { rebuild ?? StreamingSettings() }
    public var decommissionSettings: StreamingSettings { decommission ?? StreamingSettings() }
}

/// Reads `rebuild:` and `decommission:`.
enum StreamingSectionReader {
    static func read(_ node: YAMLNode, kind: JobKind, _ diagnostics: inout Diagnostics) -> StreamingSettings? {
        let context = kind.rawValue
        guard var section = MappingReader(node, context: context, diagnostics: &diagnostics) else { return nil }
        defer { section.rejectUnknownKeys(&diagnostics) }
        var settings = StreamingSettings()
        if kind == .rebuild, let value = section.optional("maxParallelPerDatacenter"),
           let count = MappingReader.int(value, "rebuild.maxParallelPerDatacenter", &diagnostics) {
            if count < 0 || count > 1000 {
                diagnostics.error("rebuild.maxParallelPerDatacenter must be from 0 (no bound) to 1000, found \(count)", at: value.mark)
            } else {
                settings.maxParallelPerDatacenter = count
            }
        }
        func duration(_ key: String, minimum: Double, _ apply: (inout StreamingSettings, Double) -> Void) {
            if let seconds = section.duration(key, context: context, minimum: minimum, &diagnostics) { apply(&settings, seconds) }
        }
        duration("stallTimeout", minimum: 1) { $0.stallTimeout = $1 }
        duration("timeout", minimum: 1) { $0.timeout = $1 }
        duration("pollInterval", minimum: 0.1) { $0.pollInterval = $1 }
        if kind == .rebuild { duration("stagger", minimum: 0) { $0.stagger = $1 } }
        if settings.pollInterval >= settings.stallTimeout, let value = section.optional("pollInterval") {
            diagnostics.error("\(context).pollInterval must be shorter than \(context).stallTimeout (\(DurationText.format(settings.stallTimeout))), or a stall is never seen", at: value.mark)
        }
        return settings
    }
}
