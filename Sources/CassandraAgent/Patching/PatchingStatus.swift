/// What `jobs.patching.patching` shows: the window, whose turn it is, this
/// node's step, and what halts the window.
public struct PatchingStatus: Sendable, Equatable, Codable {
    public var window: String?
    public var open = false
    /// ISO 8601 UTC: the open window's closing, or the next opening.
    public var opensAt: String?
    public var closesAt: String?
    /// The rack whose turn it is, as this node sees the cluster (`DC/RACK`).
    public var turn: String?
    /// This node's step in its turn.
    public var step: String?
    /// A node that holds the window (down as this node sees it).
    public var heldBy: String?
    /// This node did not come back: why. The check is critical.
    public var haltedHere: String?

    public init() {}
}
