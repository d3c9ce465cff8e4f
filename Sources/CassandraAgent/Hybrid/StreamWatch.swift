/// Follows one long streaming command through the netstats readings taken
/// while it runs: how far it has come, and whether it has stopped moving.
/// A stream that makes no progress for `stallTimeout` is stalled, whatever
/// nodetool says, which is how a hung rebuild never runs unnoticed.
public struct StreamWatch: Sendable, Equatable {
    public let stallTimeout: Double
    public private(set) var lastProgressAt: Double
    /// The highest totals seen, summed over the plan's peers.
    public private(set) var bytesDone: Int64 = 0
    public private(set) var bytes: Int64 = 0
    public private(set) var filesDone = 0
    public private(set) var files = 0
    public private(set) var peers: [StreamPeer] = []
    /// Whether a stream of the operation was ever seen.
    public private(set) var seen = false

    public init(stallTimeout: Double, now: Double) {
        self.stallTimeout = stallTimeout
        lastProgressAt = now
    }

    /// One reading of the node's transfers for the operation (nil: netstats could not be read).
    public mutating func observe(_ transfers: [NodetoolNetstats.Transfer]?, now: Double) {
        guard let transfers, !transfers.isEmpty else { return }
        seen = true
        let done = transfers.reduce(Int64(0)) { $0 + $1.bytesDone }
        if done > bytesDone || transfers.reduce(0, { $0 + $1.filesDone }) > filesDone { lastProgressAt = now }
        bytesDone = max(bytesDone, done)
        bytes = max(bytes, transfers.reduce(Int64(0)) { $0 + $1.bytes })
        filesDone = max(filesDone, transfers.reduce(0) { $0 + $1.filesDone })
        files = max(files, transfers.reduce(0) { $0 + $1.files })
        peers = transfers.map { StreamPeer(peer: $0.peer, direction: $0.direction.rawValue.lowercased(), files: $0.files, filesDone: $0.filesDone, bytes: $0.bytes, bytesDone: $0.bytesDone) }
            .sorted { $0.peer < $1.peer }
    }

    /// Why the stream counts as stalled at `now`, or nil.
    public func stalled(at now: Double) -> String? {
        guard now - lastProgressAt >= stallTimeout else { return nil }
        let since = DurationText.format((now - lastProgressAt).rounded())
        return seen
            ? "no new bytes streamed for \(since) (stallTimeout), stuck at \(bytesDone) of \(bytes) bytes from \(peers.map(\.peer).joined(separator: ", "))"
            : "no stream showed in nodetool netstats for \(since) (stallTimeout)"
    }
}

/// One peer's part of a stream, as status shows it.
public struct StreamPeer: Codable, Sendable, Equatable {
    public var peer: String
    /// "receiving" or "sending".
    public var direction: String
    public var files: Int
    public var filesDone: Int
    public var bytes: Int64
    public var bytesDone: Int64
}
