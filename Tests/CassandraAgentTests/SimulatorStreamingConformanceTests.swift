import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// netstats while streaming, byte for byte against the samples: the sample
/// cluster's bootstrap of 10.20.1.23 from 10.10.1.11, rebuilt as a simulated
/// stream plan with the sample's files and progress, seen from both ends.
@Suite struct SimulatorStreamingConformanceTests {
    static let planID = "3c9a5b40-d33f-11ef-8c4e-65a1b2c3d4e5"

    /// The sample's session: four files of orders, the first sent, the second at 41943040 bytes.
    static func samplePlan(_ version: CassandraVersion, now: Double) -> StreamPlan {
        let prefix = version == .v3_11 ? "me" : "nb"
        let table = "/var/lib/cassandra/data/shop/orders-8d4a1b20c3f111ef9b2d4f6a7c8e9d01"
        let sizes: [(Int, Int64)] = [(1187, 98_566_144), (1190, 134_217_728), (1191, 39_845_888), (1192, 39_845_888)]
        let files = sizes.enumerated().map { n, file in
            StreamPlan.File(keyspace: "shop", table: "orders", bytes: file.1, sourcePath: "\(table)/\(prefix)-\(file.0)-big-Data.db",
                            targetPath: "\(table)/\(prefix)-\(n + 1)-big-Data.db", targetGeneration: n + 1)
        }
        let session = StreamPlan.Session(peer: "10.10.1.11", ownerReceives: true, ranges: [:], files: files)
        // Half a byte past 140509184 of 312475648, so the floor lands on the sample's number.
        return StreamPlan(id: planID, operation: .bootstrap, owner: "10.20.1.23", sessions: [session], startedAt: now,
                          progress: (140_509_184 + 0.5) / 312_475_648, lastUpdate: now, progressPerSecond: 1e-12, followsStreamRate: false)
    }

    static func streaming(_ version: CassandraVersion) throws -> SimulatorConformanceTests.Sim {
        let sim = try SimulatorConformanceTests.Sim(version)
        let plan = samplePlan(version, now: sim.now)
        try sim.directory.withState { (cluster: inout SimulatedCluster) throws(SimulationError) in cluster.streamPlans = [plan] }
        return sim
    }

    static func lines(_ text: String) -> [String] { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    @Test(arguments: CassandraVersion.allCases)
    func theSendingSideMatchesTheSample(version: CassandraVersion) throws {
        let output = try Self.streaming(version).nodetool("netstats").stdout
        let got = Self.lines(output), expected = Self.lines(sample("netstats-\(version).txt"))
        #expect(got.count == expected.count)
        #expect(got.prefix(7) == expected.prefix(7), "mode and stream block byte for byte\n\(output)")
        // Read repair and pool counters are the simulation's own (zeros); labels and widths stay.
        for (line, sampleLine) in zip(got.dropFirst(7), expected.dropFirst(7)) {
            #expect(line.prefix { !$0.isNumber } == sampleLine.prefix { !$0.isNumber } || line.count == sampleLine.count, "\(line)")
        }
    }

    @Test(arguments: CassandraVersion.allCases)
    func theReceivingSideHasTheSameFormatTurnedAround(version: CassandraVersion) throws {
        let output = try Self.streaming(version).nodetool("netstats", on: "10.20.1.23").stdout
        let sending = Self.lines(sample("netstats-\(version).txt"))
        let prefix = version == .v3_11 ? "me" : "nb"
        var expected = ["Mode: JOINING", sending[1], "    /10.10.1.11",
                        sending[3].replacingOccurrences(of: "Sending", with: "Receiving").replacingOccurrences(of: "Already sent", with: "Already received")]
        for (line, generation) in zip(sending[4...5], [1, 2]) {
            expected.append(line.replacing(/\w\w-\d+-big-Data\.db/, with: "\(prefix)-\(generation)-big-Data.db")
                .replacingOccurrences(of: "sent to idx:0/10.20.1.23", with: "received from idx:0/10.10.1.11"))
        }
        #expect(Array(Self.lines(output).prefix(6)) == expected, "\(output)")
        #expect(Self.lines(output)[6] == "Read Repair Statistics:")
    }

    @Test(arguments: [CassandraVersion.v4_0, .v4_1, .v5_0])
    func printPortAddsThePortToPeers(version: CassandraVersion) throws {
        let output = Self.lines(try Self.streaming(version).nodetool("-pp netstats").stdout)
        #expect(output[2] == "    /10.20.1.23:7000")
        #expect(output[4].hasSuffix(" sent to idx:0/10.20.1.23:7000"))
    }

    @Test func humanReadableSizesFollowTheSizeFormat() throws {
        let output = Self.lines(try Self.streaming(.v4_1).nodetool("netstats -H").stdout)
        #expect(output[3] == "        Sending 4 files, 298 MiB total. Already sent 1 files (25.00%), 134 MiB total (44.97%)")
    }
}
