/// `nodetool gossipinfo`, every version, with or without `-pp`.
public struct NodetoolGossipInfo: Sendable, Equatable {
    public struct Endpoint: Sendable, Equatable {
        public var endpoint: NodetoolEndpoint
        public var generation: Int
        public var heartbeat: Int
        /// Application states by name: (version, value). TOKENS holds "<hidden>" or is absent.
        public var states: [String: StateValue]

        public var status: String? { states["STATUS_WITH_PORT"]?.value ?? states["STATUS"]?.value }
        public var datacenter: String? { states["DC"]?.value }
        public var rack: String? { states["RACK"]?.value }
        public var releaseVersion: String? { states["RELEASE_VERSION"]?.value }
        public var hostID: String? { states["HOST_ID"]?.value }
        /// A node that announced a clean shutdown: `shutdown,true` and the heartbeat pinned at Int32.max.
        public var shutDownCleanly: Bool { status?.hasPrefix("shutdown") == true }
    }

    public struct StateValue: Sendable, Equatable {
        public var version: Int
        public var value: String
    }

    public var endpoints: [Endpoint]

    public func endpoint(_ address: String) -> Endpoint? {
        endpoints.first { $0.endpoint.address == address }
    }

    public static func parse(_ text: String) throws(NodetoolParseError) -> NodetoolGossipInfo {
        let output = OutputLines("gossipinfo", text)
        var endpoints: [Endpoint] = []
        var current: (endpoint: NodetoolEndpoint, index: Int, generation: Int?, heartbeat: Int?, states: [String: StateValue])?
        func finish() throws(NodetoolParseError) {
            guard let c = current else { return }
            guard let generation = c.generation, let heartbeat = c.heartbeat else {
                throw output.error(c.index, "the endpoint has no generation or heartbeat line")
            }
            endpoints.append(Endpoint(endpoint: c.endpoint, generation: generation, heartbeat: heartbeat, states: c.states))
        }
        for (index, line) in output.lines.enumerated() where !line.isEmpty {
            if !line.hasPrefix("  ") {
                try finish()
                guard let endpoint = NodetoolEndpoint.parse(line.trimmed) else { throw output.error(index, "not an endpoint line") }
                current = (endpoint, index, nil, nil, [:])
                continue
            }
            guard current != nil else { throw output.error(index, "a state line before any endpoint") }
            let body = line.dropFirst(2)
            if body.hasPrefix("generation:") || body.hasPrefix("heartbeat:") {
                let parts = body.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, let value = Int(parts[1]) else { throw output.error(index, "expected a number") }
                if parts[0] == "generation" { current!.generation = value } else { current!.heartbeat = value }
                continue
            }
            if body == "TOKENS: not present" { continue }
            // NAME:VERSION:VALUE, split on the first two colons only: values hold colons (ip:port, JSON).
            let parts = body.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isUppercase || $0 == "_" || $0.isNumber }),
                  let version = Int(parts[1])
            else { throw output.error(index, "expected 'STATE:VERSION:VALUE'") }
            current!.states[String(parts[0])] = StateValue(version: version, value: String(parts[2]))
        }
        try finish()
        if endpoints.isEmpty { throw output.whole("no endpoints") }
        return NodetoolGossipInfo(endpoints: endpoints)
    }
}
