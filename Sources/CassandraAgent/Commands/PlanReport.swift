/// The human-readable form of a `ConfigPlan`.
enum PlanReport {
    static func text(_ plan: ConfigPlan, validated: ValidatedDesiredState, configDirectory: String) -> String {
        var out = "Plan for \(configDirectory) from \(validated.file) (sha256:\(validated.hash.prefix(12)), Cassandra \(validated.state.cassandraVersion))\n"
        for file in plan.files {
            out += "\n\(file.name): \(file.status.rawValue)"
            if file.status == .unchanged {
                out += "\n"
                continue
            }
            out += file.settings.isEmpty ? "\n" : ", \(file.settings.count) setting(s)\n"
            for change in file.settings {
                let old = change.old.map { Redaction.redact($0, key: change.key).description } ?? "(not set)"
                let new = change.new.map { Redaction.redact($0, key: change.key).description } ?? "(removed)"
                let effect: String = switch change.effect {
                case .restart: "restart required"
                case .live(let commands): "live: nodetool \(commands.joined(separator: " / ")) (the file keeps it across restarts)"
                }
                out += "  \(change.key): \(old) -> \(new)    [\(effect)]\n"
            }
            for note in file.notes { out += "  note: \(note)\n" }
            if !file.diff.isEmpty { out += "\n" + file.diff }
        }
        out += "\n" + (plan.hasChanges ? restartLine(plan) : "No changes.\n")
        return out
    }

    static func restartLine(_ plan: ConfigPlan) -> String {
        let reasons = plan.restartReasons
        return reasons.isEmpty
            ? "Restart needed: no\n"
            : "Restart needed: yes, for \(reasons.joined(separator: ", "))\n"
    }
}
