import Synchronization

/// One service's latest snapshot, readable from anywhere without waiting on
/// that service: the reconcile loop, the observer and each job write their own,
/// and the status document is assembled from them (`StatusAssembler`).
public final class Published<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    public init(_ value: Value) {
        storage = Mutex(value)
    }

    public var value: Value { storage.withLock { $0 } }

    @discardableResult
    public func update<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        storage.withLock { body(&$0) }
    }
}
