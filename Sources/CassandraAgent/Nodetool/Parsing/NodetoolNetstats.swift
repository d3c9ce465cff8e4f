/// `nodetool netstats`: the node's operation mode and its stream plans, both
/// directions, per peer. Layout (README §2.6, the same in every version but for
/// the percentages 4.0+ add):
///
///     Mode: NORMAL
///     Rebuild 3c9a5b40-d33f-11ef-8c4e-65a1b2c3d4e5
///         /10.20.1.23
///             Receiving 4 files, 312475648 bytes total. Already received 1 files (25.00%), 140509184 bytes total (44.97%)
///                 /var/lib/.../nb-1187-big-Data.db 98566144/98566144 bytes (100%) received from idx:0/10.20.1.23
///     Read Repair Statistics:
///
/// What the jobs need from it: how far a rebuild or decommission has come
/// (bytes and files per peer), and which peers a node is streaming with.
public struct NodetoolNetstats: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        case starting = "STARTING", normal = "NORMAL", joining = "JOINING", leaving = "LEAVING"
        case decommissioned = "DECOMMISSIONED", moving = "MOVING", draining = "DRAINING", drained = "DRAINED"
        case joiningFailed = "JOINING_FAILED", decommissionFailed = "DECOMMISSION_FAILED"
    }

    public enum Direction: String, Sendable, Equatable {
        case receiving = "Receiving", sending = "Sending"
    }

    /// One direction of one peer's session: `Receiving N files, B bytes total. Already received n files, b bytes total`.
    public struct Transfer: Sendable, Equatable {
        public var peer: String
        public var direction: Direction
        public var files: Int
        public var bytes: Int64
        public var filesDone: Int
        public var bytesDone: Int64
    }

    /// A stream plan: its operation (`Rebuild`, `Bootstrap`, `Unbootstrap`, `Repair`, `Bulk Load`, ...) and its transfers.
    public struct Plan: Sendable, Equatable {
        public var operation: String
        public var id: String
        public var transfers: [Transfer]
    }

    public var mode: Mode
    public var plans: [Plan]

    public var streaming: Bool { !plans.isEmpty }

    public init(mode: Mode, plans: [Plan] = []) {
        self.mode = mode
        self.plans = plans
    }

    /// The transfers of every plan of `operation`, in one direction.
    public func transfers(_ operation: String, _ direction: Direction) -> [Transfer] {
        plans.filter { $0.operation == operation }.flatMap(\.transfers).filter { $0.direction == direction }
    }

    public static func parse(_ text: String) throws(NodetoolParseError) -> NodetoolNetstats {
        let output = OutputLines("netstats", text)
        guard let first = output.lines.first, first.hasPrefix("Mode: ") else { throw output.error(0, "expected 'Mode: ...'") }
        guard let mode = Mode(rawValue: String(first.dropFirst(6))) else { throw output.error(0, "unknown mode") }
        var result = NodetoolNetstats(mode: mode)
        var peer: String?
        for index in output.lines.indices.dropFirst() {
            let line = output.lines[index]
            if line == "Read Repair Statistics:" || line.hasPrefix("Pool Name") { break }
            if line == "Not sending any streams." || line.isEmpty { continue }
            let depth = line.prefix { $0 == " " }.count
            let body = line.dropFirst(depth)
            switch depth {
            case 0:
                // `<Operation words> <plan uuid>`
                guard let space = body.lastIndex(of: " ") else { throw output.error(index, "expected '<operation> <plan id>'") }
                result.plans.append(Plan(operation: String(body[..<space]), id: String(body[body.index(after: space)...]), transfers: []))
                peer = nil
            case 4:
                guard body.hasPrefix("/"), !result.plans.isEmpty else { throw output.error(index, "expected '/<peer address>' under a stream plan") }
                // `/10.0.0.1` or `/10.0.0.1 (using /10.0.0.2)`: the peer is the first address.
                peer = String(body.dropFirst().prefix { $0 != " " })
            case 8:
                guard let peer, !result.plans.isEmpty else { throw output.error(index, "a transfer line outside a peer") }
                guard let transfer = transfer(body, peer: peer) else { throw output.error(index, "expected 'Receiving|Sending N files, B bytes total. Already ...'") }
                result.plans[result.plans.count - 1].transfers.append(transfer)
            default:
                continue   // per-file lines (12 spaces): the totals above already count them
            }
        }
        return result
    }

    /// `Receiving 4 files, 312475648 bytes total. Already received 1 files (25.00%), 140509184 bytes total (44.97%)`
    /// (3.11 without the percentages). Sizes are plain bytes, since the agent never passes `-H`.
    static func transfer(_ body: Substring, peer: String) -> Transfer? {
        let words = body.split(separator: " ").filter { !$0.hasPrefix("(") }
        // Receiving N files, B bytes total. Already received n files, b bytes total
        guard words.count >= 13, let direction = Direction(rawValue: String(words[0])),
              let files = Int(words[1]), let bytes = Int64(words[3]),
              words[6] == "Already", let filesDone = Int(words[8]), let bytesDone = Int64(words[10])
        else { return nil }
        return Transfer(peer: peer, direction: direction, files: files, bytes: bytes, filesDone: filesDone, bytesDone: bytesDone)
    }
}
