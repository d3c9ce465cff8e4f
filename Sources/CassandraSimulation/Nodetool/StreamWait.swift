import CassandraAgent

/// Where a blocked `nodetool rebuild` or `decommission` stands: the plan it waits
/// for on the server. Killing the nodetool leaves the plan streaming.
public struct StreamWait: Sendable, Equatable {
    var planID: String
    /// "Error while rebuilding node" / "Error while decommissioning node": the RuntimeException
    /// StorageService wraps the stream's failure in.
    var failurePrefix: String
    var frame: String
}

/// What a nodetool that is still running after printing waits for.
public enum NodetoolWait: Sendable, Equatable {
    case repair(RepairWait)
    case stream(StreamWait)
}

enum SimulatedStreaming {
    /// Prints nothing while the plan runs (`waiting` set), nothing at its success, the
    /// exit-2 form at its failure.
    static func waitForPlan(_ wait: StreamWait, _ cluster: inout SimulatedCluster, directory: SimulationDirectory, now: Double) -> SimulatedOutput {
        cluster.settleStreams(now: now, directory: directory)
        guard let plan = cluster.streamPlans.first(where: { $0.id == wait.planID }) else {
            return SimulatedOutput(stderr: "cassandra-sim: stream plan \(wait.planID) vanished\n", exitCode: 3)
        }
        switch plan.state {
        case .running: return SimulatedOutput(waiting: .stream(wait))
        case .completed: return SimulatedOutput()
        case .failed: return .server("\(wait.failurePrefix): \(plan.failure ?? "Stream failed")", frame: wait.frame)
        }
    }
}
