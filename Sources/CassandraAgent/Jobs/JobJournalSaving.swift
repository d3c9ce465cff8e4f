extension JobHistoryStore {
    /// Writes a job's journal; a failure is published in its snapshot, where a check says
    /// that a run cut short may not be known as such (a success clears it).
    func save(_ history: JobHistory, _ kind: JobKind, reportingTo snapshot: Published<JobSnapshot>) {
        do {
            try save(history, kind)
            snapshot.update { $0.journalProblem = nil }
        } catch {
            snapshot.update { $0.journalProblem = "cannot write the \(kind.rawValue) journal: \(error)" }
        }
    }
}
