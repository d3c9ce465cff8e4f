import CassandraAgent

/// `nodetool netstats` (NetStats.java, SessionInfo, ProgressInfo of each version):
/// the mode, then per running stream plan `<Operation> <plan id>`, one block per
/// session with the peer as `/ip`, a Receiving and/or Sending summary (3.11 without
/// percentages), and a line per file that has moved at least one byte; a file is
/// the receiver's new SSTable on the receiving side, the source's on the sending side.
extension NodetoolFormatters {
    /// StorageService.getOperationMode as the simulation knows it.
    func mode(_ node: SimulatedCluster.Node) -> String {
        if node.decommissioned { return "DECOMMISSIONED" }
        if node.leaving { return node.decommissionFailed && version == .v5_0 ? "DECOMMISSION_FAILED" : "LEAVING" }
        if node.joining { return "JOINING" }
        return node.drained ? "DRAINED" : "NORMAL"
    }

    func netstats(_ node: SimulatedCluster.Node, humanReadable: Bool = false) -> String {
        var out = "Mode: \(mode(node))\n"
        let streams = cluster.streams(seenBy: node.address)
        if streams.isEmpty { out += "Not sending any streams.\n" }
        for (plan, sessions) in streams {
            out += "\(plan.operation.rawValue) \(plan.id)\n"
            for view in sessions {
                out += "    /\(streamAddress(view.peer))\n"
                out += sessionLines(plan, view.session, peer: view.peer, receiving: view.receiving, humanReadable: humanReadable)
            }
        }
        out += "Read Repair Statistics:\nAttempted: 0\nMismatch (Blocking): 0\nMismatch (Background): 0\n"
        out += ColumnTable.left("Pool Name", 25) + ColumnTable.right("Active", 10) + ColumnTable.right("Pending", 10)
            + ColumnTable.right("Completed", 15) + ColumnTable.right("Dropped", 10) + "\n"
        for pool in ["Large messages", "Small messages", "Gossip messages"] {
            out += ColumnTable.left(pool, 25) + ColumnTable.right("n/a", 10) + ColumnTable.right("0", 10)
                + ColumnTable.right("0", 15) + ColumnTable.right("0", 10) + "\n"
        }
        return out
    }

    /// 3.11 prints InetAddress (`10.0.0.1`); 4.0+ InetAddressAndPort, with the port under -pp.
    func streamAddress(_ ip: String) -> String {
        printPort ? "\(ip):7000" : ip
    }

    func sessionLines(_ plan: StreamPlan, _ session: StreamPlan.Session, peer: String, receiving: Bool, humanReadable: Bool) -> String {
        // A session without files has no summaries: only its peer line.
        guard !session.files.isEmpty else { return "" }
        let moved = session.files.map { plan.bytesDone($0, in: session) }
        let done = zip(session.files, moved).filter { $0.0.bytes == $0.1 }.count
        let bytesDone = moved.reduce(0, +)
        func size(_ bytes: Int64) -> String { humanReadable ? NodetoolSize.format(bytes) : "\(bytes) bytes" }
        let (verb, past, direction) = receiving ? ("Receiving", "received", "received from") : ("Sending", "sent", "sent to")
        var out = "        \(verb) \(session.files.count) files, \(size(session.bytes)) total. Already \(past) \(done) files"
        if version == .v3_11 {
            out += ", \(size(bytesDone)) total\n"
        } else {
            out += " (\(Self.percent(Int64(done), Int64(session.files.count)))%), \(size(bytesDone)) total (\(Self.percent(bytesDone, session.bytes))%)\n"
        }
        for (file, current) in zip(session.files, moved) where current > 0 {
            let path = receiving ? file.targetPath : file.sourcePath
            // ProgressInfo.toString: integer percent; 3.11 has no space before "(".
            let percent = file.bytes == 0 ? 100 : current * 100 / file.bytes
            let gap = version == .v3_11 ? "" : " "
            out += "            \(path) \(current)/\(file.bytes) bytes\(gap)(\(percent)%) \(direction) idx:0/\(streamAddress(peer))\n"
        }
        return out
    }

    /// Java's `%.2f` of part / whole * 100 (HALF_UP).
    static func percent(_ part: Int64, _ whole: Int64) -> String {
        guard whole > 0 else { return "NaN" }
        return JavaFormat.twoDecimals(Double(part) / Double(whole) * 100)
    }
}
