/// `nodetool snapshot`: the tag it reports.
public enum NodetoolSnapshotOutput {
    public static func tag(_ text: String) throws(NodetoolParseError) -> String {
        let output = OutputLines("snapshot", text)
        guard let line = output.lines.first(where: { $0.hasPrefix("Snapshot directory: ") }) else {
            throw output.whole("no 'Snapshot directory:' line")
        }
        return String(line.dropFirst("Snapshot directory: ".count))
    }
}

/// `nodetool listsnapshots`: one row per snapshot and table. The table is
/// padded with single spaces and cells hold spaces, so rows are cut at the
/// offsets of the header cells.
public struct NodetoolSnapshotList: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var name: String
        public var keyspace: String
        public var table: String
        public var trueSize: Int64
        public var sizeOnDisk: Int64
        /// 4.1+.
        public var created: String?
        public var expires: String?
        /// 5.0 with -e.
        public var ephemeral: Bool?
    }

    public var rows: [Row]

    public var names: [String] {
        var seen: [String] = []
        for row in rows where !seen.contains(row.name) { seen.append(row.name) }
        return seen
    }

    static let headers = ["Snapshot name", "Keyspace name", "Column family name", "True size", "Size on disk", "Creation time", "Expiration time", "Ephemeral"]

    public static func parse(_ text: String) throws(NodetoolParseError) -> NodetoolSnapshotList {
        let output = OutputLines("listsnapshots", text)
        guard output.lines.first?.hasPrefix("Snapshot Details:") == true else { throw output.error(0, "expected 'Snapshot Details:'") }
        guard output.lines.count > 1 else { throw output.whole("the output ends after its first line") }
        if output.lines[1] == "There are no snapshots" { return NodetoolSnapshotList(rows: []) }
        let header = String(output.lines[1])
        var offsets: [(String, Int)] = []
        for name in headers {
            if let range = header.firstRange(of: name) { offsets.append((name, header.distance(from: header.startIndex, to: range.lowerBound))) }
        }
        guard offsets.count >= 5, offsets.map(\.1) == offsets.map(\.1).sorted() else { throw output.error(1, "unexpected header") }
        var rows: [Row] = []
        for (index, line) in output.lines.enumerated().dropFirst(2) {
            if line.isEmpty { break }
            let chars = Array(line)
            func cell(_ name: String) -> String? {
                guard let i = offsets.firstIndex(where: { $0.0 == name }) else { return nil }
                let start = offsets[i].1, end = i + 1 < offsets.count ? offsets[i + 1].1 : chars.count
                guard start <= chars.count else { return "" }
                return String(String(chars[start..<min(end, chars.count)]).trimmingSpaces)
            }
            guard let name = cell("Snapshot name"), !name.isEmpty, let ks = cell("Keyspace name"), let table = cell("Column family name"),
                  let trueSize = cell("True size").flatMap({ NodetoolSize.bytes(Substring($0)) }),
                  let onDisk = cell("Size on disk").flatMap({ NodetoolSize.bytes(Substring($0)) })
            else { throw output.error(index, "a snapshot row does not fit the header's columns") }
            let created = cell("Creation time").flatMap { $0.isEmpty ? nil : $0 }
            let expires = cell("Expiration time").flatMap { $0.isEmpty ? nil : $0 }
            let ephemeral = cell("Ephemeral").flatMap { $0 == "true" ? true : $0 == "false" ? false : nil }
            rows.append(Row(name: name, keyspace: ks, table: table, trueSize: trueSize, sizeOnDisk: onDisk, created: created, expires: expires, ephemeral: ephemeral))
        }
        return NodetoolSnapshotList(rows: rows)
    }
}

/// `nodetool repair` output: did it succeed, and if not, why.
public struct NodetoolRepairOutput: Sendable, Equatable {
    public var commands: [Int]
    public var keyspaces: [String]
    public var sessionsFinished: Int
    public var succeeded: Bool
    /// The reason of the first failed repair command.
    public var failure: String?
    /// Keyspaces with nothing to repair (RF 1, empty).
    public var skipped: [String]

    public static func parse(_ text: String) throws(NodetoolParseError) -> NodetoolRepairOutput {
        let output = OutputLines("repair", text)
        var result = NodetoolRepairOutput(commands: [], keyspaces: [], sessionsFinished: 0, succeeded: false, failure: nil, skipped: [])
        for (index, line) in output.lines.enumerated() where !line.isEmpty {
            var message = line
            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else { throw output.error(index, "a timestamp without its ']'") }
                message = line[line.index(after: close)...].drop { $0 == " " }
            }
            if message.hasPrefix("Starting repair command #") {
                let rest = message.dropFirst("Starting repair command #".count)
                guard let number = Int(rest.prefix { $0.isNumber }), let ks = rest.firstRange(of: "repairing keyspace ") else {
                    throw output.error(index, "a start line without its command number or keyspace")
                }
                result.commands.append(number)
                result.keyspaces.append(String(rest[ks.upperBound...].prefix { $0 != " " }))
            } else if message.hasPrefix("Repair session "), message.contains(" finished") {
                result.sessionsFinished += 1
            } else if message.hasPrefix("Repair completed successfully") {
                result.succeeded = result.failure == nil
            } else if let range = message.firstRange(of: " failed with error "), message.hasPrefix("Repair command #") || message.hasPrefix("Repair session ") {
                result.failure = result.failure ?? String(message[range.upperBound...])
                result.succeeded = false
            } else if message.hasPrefix("Replication factor is 1. No repair is needed for keyspace '") {
                result.skipped.append(String(message.dropFirst("Replication factor is 1. No repair is needed for keyspace '".count).dropLast()))
            }
        }
        if result.commands.isEmpty && result.skipped.isEmpty { throw output.whole("no 'Starting repair command' line") }
        return result
    }
}
