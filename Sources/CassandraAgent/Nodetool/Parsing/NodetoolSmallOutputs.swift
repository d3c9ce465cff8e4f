/// `nodetool version`: `ReleaseVersion: 4.1.8` (and 5.0 `-v`: `GitSHA: ...`).
public struct NodetoolVersion: Sendable, Equatable {
    public var release: String
    public var gitSHA: String?

    /// The major version the agent renders for, if supported.
    public var major: CassandraVersion? {
        let parts = release.split(separator: ".")
        guard parts.count >= 2 else { return nil }
        return CassandraVersion(rawValue: "\(parts[0]).\(parts[1].prefix { $0.isNumber })")
    }

    public static func parse(_ text: String) throws(NodetoolParseError) -> NodetoolVersion {
        let output = OutputLines("version", text)
        guard let first = output.lines.first, first.hasPrefix("ReleaseVersion: ") else {
            throw output.error(0, "expected 'ReleaseVersion: X.Y.Z'")
        }
        let release = String(first.dropFirst("ReleaseVersion: ".count))
        guard release.first?.isNumber == true, release.contains(".") else { throw output.error(0, "not a release version") }
        let sha = output.lines.dropFirst().first { $0.hasPrefix("GitSHA: ") }.map { String($0.dropFirst(8)) }
        return NodetoolVersion(release: release, gitSHA: sha)
    }
}

/// `nodetool statusbinary` / `statusgossip`: exactly `running` or `not running`.
public enum NodetoolRunningState {
    public static func parse(_ text: String, command: String) throws(NodetoolParseError) -> Bool {
        let output = OutputLines(command, text)
        switch output.lines.first.map({ $0.trimmed }) {
        case "running": return true
        case "not running": return false
        default: throw output.error(0, "expected 'running' or 'not running'")
        }
    }
}

/// `nodetool compactionstats`: pending tasks (3.11–4.1 `pending tasks: N`, 5.0 a table row).
public struct NodetoolCompactionStats: Sendable, Equatable {
    public var pendingTasks: Int
    /// "keyspace.table" -> pending tasks.
    public var pendingByTable: [String: Int]
    public var activeCompactions: Int

    public static func parse(_ text: String) throws(NodetoolParseError) -> NodetoolCompactionStats {
        let output = OutputLines("compactionstats", text)
        guard let first = output.lines.first else { throw output.whole("empty output") }
        var result = NodetoolCompactionStats(pendingTasks: 0, pendingByTable: [:], activeCompactions: 0)
        if first.hasPrefix("pending tasks: ") {
            guard let n = Int(first.dropFirst("pending tasks: ".count).trimmed) else { throw output.error(0, "not a number") }
            result.pendingTasks = n
            var inTable = false
            for (index, line) in output.lines.enumerated().dropFirst() where !line.isEmpty {
                if line.hasPrefix("- ") {
                    guard let colon = line.lastIndex(of: ":"), let count = Int(line[line.index(after: colon)...].trimmed) else {
                        throw output.error(index, "expected '- ks.table: N'")
                    }
                    result.pendingByTable[String(line.dropFirst(2)[..<colon])] = count
                } else if line.hasPrefix("id ") {
                    inTable = true
                } else if line.hasPrefix("Active compaction remaining time") {
                    inTable = false
                } else if inTable {
                    result.activeCompactions += 1
                }
            }
            return result
        }
        // 5.0: one table of "key value" rows, pending rows "<ks> <table> <n>" after "pending tasks".
        var afterPending = false, inTable = false
        for (index, line) in output.lines.enumerated() where !line.isEmpty {
            let cells = line.fields
            if line.hasPrefix("pending tasks ") {
                guard let n = cells.last.flatMap({ Int($0) }) else { throw output.error(index, "not a number") }
                result.pendingTasks = n
                afterPending = true
            } else if line.hasPrefix("compactions completed") {
                afterPending = false
            } else if afterPending {
                guard cells.count == 3, let n = Int(cells[2]) else { throw output.error(index, "expected '<ks> <table> <n>'") }
                result.pendingByTable["\(cells[0]).\(cells[1])"] = n
            } else if line.hasPrefix("id ") {
                inTable = true
            } else if line.hasPrefix("active compaction remaining time") {
                inTable = false
            } else if inTable {
                result.activeCompactions += 1
            }
        }
        guard output.lines.contains(where: { $0.hasPrefix("pending tasks") }) else { throw output.whole("no 'pending tasks' line") }
        return result
    }
}
