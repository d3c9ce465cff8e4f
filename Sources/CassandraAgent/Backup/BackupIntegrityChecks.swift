extension NodeChecks {
    /// Damaged backups (found by a sampled or a whole verify) and the last sampled verify.
    static func backupIntegrity(_ job: JobSnapshot, _ checks: inout CheckList) {
        let name = "job backup"
        if !job.damagedBackups.isEmpty {
            let listed = job.damagedBackups.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }
            checks.add(name, .warning, "backup.damaged",
                       "\(job.damagedBackups.count) complete backup(s) are damaged: \(listed.joined(separator: "; ")). Retention does not count them as good backups; "
                       + "objects found wrong were deleted, so the next backup (`cassandra-agent job start backup`) stores them again from the node; `cassandra-agent backup verify ID` re-reads a whole backup and clears its mark when it is intact")
        }
        guard let report = job.verify else { return }
        if let failure = report.failure {
            checks.add(name, .warning, "backup.verify_failed", "the sampled verify could not read the backups: \(failure)", at: report.at)
        } else if !report.unreadable.isEmpty {
            checks.add(name, .warning, "backup.verify_unreadable",
                       "the sampled verify could not read \(report.unreadable.count) object(s) (not counted as damage): \(report.unreadable.prefix(3).joined(separator: "; "))", at: report.at)
        } else if report.damaged.isEmpty {
            let part = report.cutShort ? " (cut short; the rest next time)" : ""
            checks.add(name, .ok, "backup.verified",
                       "the sampled verify re-read \(report.sampled) of \(report.objects) object(s) (\(ByteText.format(report.bytesRead))) of \(report.backups) complete backup(s)\(part): sizes and SHA-256 match", at: report.at)
        }
    }
}
