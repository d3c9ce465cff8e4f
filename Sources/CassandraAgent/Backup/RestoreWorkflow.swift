/// One restore run as a state machine, table by table: stage the table's files
/// next to it (checked against the manifest), load them through Cassandra
/// (`nodetool import`, or a move and `refresh` on 3.11), remove the staging
/// directory. The plan (host ID, tables, free space) was checked before the run
/// was accepted. It does no I/O: `RestoreService` performs the actions.
///
/// The invariants it holds: a staging directory it asked for is removed whatever
/// happens after (failure, cancel); a cancel is acted on between steps (the
/// service kills a load in flight); the reason always names the tables restored
/// so far, so an operator knows what a cut-short run left.
public struct RestoreWorkflow: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        case staged(table: Int)
        case stageFailed(table: Int, String, cancelled: Bool)
        case loaded(table: Int)
        case loadFailed(table: Int, String, cancelled: Bool)
        case stagingRemoved(table: Int)
        /// Between tables: has an operator (or a stop) asked to end the run?
        case gate(cancelled: Bool)
    }

    public enum Action: Sendable, Equatable {
        case checkGate
        case stage(table: Int)
        case load(table: Int)
        case removeStaging(table: Int)
        case finish(JobResult, reason: String)
    }

    public enum Phase: Sendable, Equatable {
        case ready
        case gating(table: Int)
        case staging(table: Int)
        case loading(table: Int)
        case removingStaging(table: Int)
        case finished(JobResult)
    }

    public let backupID: String
    public let tables: [BackupRestore.TablePlan]
    public let method: String
    public private(set) var phase: Phase = .ready
    public private(set) var restored: [Int] = []
    /// Set once the run failed or was cancelled: what the finish says after the staging directory is gone.
    public private(set) var ending: (result: JobResult, reason: String)?

    public init(backupID: String, tables: [BackupRestore.TablePlan], method: String) {
        self.backupID = backupID
        self.tables = tables
        self.method = method
    }

    public static func == (a: RestoreWorkflow, b: RestoreWorkflow) -> Bool {
        a.backupID == b.backupID && a.tables == b.tables && a.phase == b.phase && a.restored == b.restored
            && a.ending?.result == b.ending?.result && a.ending?.reason == b.ending?.reason
    }

    public mutating func start() -> Action {
        gate(0)
    }

    public mutating func handle(_ event: Event) -> Action? {
        switch (phase, event) {
        case (.gating(let i), .gate(let cancelled)):
            if cancelled { return finish(.cancelled, "cancelled by an operator" + before(i)) }
            phase = .staging(table: i)
            return .stage(table: i)
        case (.staging(let i), .staged(let t)) where t == i:
            phase = .loading(table: i)
            return .load(table: i)
        case (.staging(let i), .stageFailed(let t, let why, let cancelled)) where t == i:
            return end(i, cancelled ? .cancelled : .failed,
                       cancelled ? "cancelled by an operator while staging \(name(i)); nothing of it was loaded" : "staging \(name(i)) failed: \(why); nothing of it was loaded")
        case (.loading(let i), .loaded(let t)) where t == i:
            restored.append(i)
            phase = .removingStaging(table: i)
            return .removeStaging(table: i)
        case (.loading(let i), .loadFailed(let t, let why, let cancelled)) where t == i:
            // A killed import may have loaded some of the files: say so rather than "nothing".
            return end(i, cancelled ? .cancelled : .failed,
                       cancelled ? "cancelled by an operator during the \(method) of \(name(i)) (its nodetool was killed; Cassandra may have loaded part of the table)"
                                 : "the \(method) of \(name(i)) failed: \(why)")
        case (.removingStaging(let i), .stagingRemoved(let t)) where t == i:
            if let ending { return finish(ending.result, ending.reason) }
            if i + 1 < tables.count { return gate(i + 1) }
            return finish(.succeeded, restoredLines().joined(separator: "\n"))
        default:
            return nil
        }
    }

    mutating func gate(_ i: Int) -> Action {
        phase = .gating(table: i)
        return .checkGate
    }

    mutating func end(_ i: Int, _ result: JobResult, _ reason: String) -> Action {
        ending = (result, reason + before(i))
        phase = .removingStaging(table: i)
        return .removeStaging(table: i)
    }

    mutating func finish(_ result: JobResult, _ reason: String) -> Action {
        phase = .finished(result)
        return .finish(result, reason: reason)
    }

    func name(_ i: Int) -> String { "\(tables[i].keyspace).\(tables[i].table)" }

    /// What was restored before table `i`, and what was not: the operator's starting point after a cut-short run.
    func before(_ i: Int) -> String {
        let done = restored.map(name)
        let left = (i..<tables.count).filter { !restored.contains($0) }.map(name)
        var text = done.isEmpty ? "; no table was restored" : "; restored before: \(done.joined(separator: ", "))"
        if !left.isEmpty { text += "; not restored: \(left.joined(separator: ", "))" }
        return text
    }

    func restoredLines() -> [String] {
        restored.map { "restored \(name($0)) from \(backupID): \(tables[$0].files.count) file(s), \(ByteText.format(tables[$0].bytes)) (\(method))" }
    }

    public func progress() -> JobProgress {
        let step: String
        switch phase {
        case .ready, .gating: step = "starting"
        case .staging(let i): step = "staging \(name(i)) (table \(i + 1) of \(tables.count)) in \(tables[i].staging)"
        case .loading(let i): step = "loading \(name(i)) (table \(i + 1) of \(tables.count)) with \(method)"
        case .removingStaging(let i): step = "removing the staging directory of \(name(i))"
        case .finished(let result): step = "finished: \(result.rawValue)"
        }
        var progress = JobProgress(step: step)
        progress.backupID = backupID
        if case .staging(let i) = phase { progress.keyspace = tables[i].keyspace }
        if case .loading(let i) = phase { progress.keyspace = tables[i].keyspace }
        progress.files = tables.reduce(0) { $0 + $1.files.count }
        progress.bytes = tables.reduce(0) { $0 + $1.bytes }
        progress.filesDone = restored.reduce(0) { $0 + tables[$1].files.count }
        progress.bytesDone = restored.reduce(0) { $0 + tables[$1].bytes }
        return progress
    }
}
