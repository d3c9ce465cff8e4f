import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// The simulator prints what real nodetool prints: the documented sample
/// cluster rebuilt in a simulation, its output compared line by line with the
/// samples of every version (rows whose order real nodetool leaves to a hash
/// map are compared as sets).
@Suite struct SimulatorConformanceTests {
    static func sampleCluster(_ version: CassandraVersion, now: Double) -> SimulatedCluster {
        func node(_ address: String, _ dc: String, _ rack: String, _ id: String, _ load: Double, seed: UInt64) -> SimulatedCluster.Node {
            var random = SeededRandom(seed: seed)
            return SimulatedCluster.Node(
                address: address, datacenter: dc, rack: rack, hostID: id,
                tokens: (0..<16).map { _ in Int64(bitPattern: random.next()) }.sorted(),
                loadBytes: Int64(load), running: true, startedAt: 0, stoppedAt: nil, generation: 1_736_801_234)
        }
        var nodes = [
            node("10.10.1.11", "dc1", "rack1", "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41", 1.52 * 1_073_741_824, seed: 1),
            node("10.10.1.12", "dc1", "rack2", "7e3b1d92-0c4f-4e8a-b5d6-1f2a3c4d5e6f", 1.49 * 1_073_741_824, seed: 2),
            node("10.10.1.13", "dc1", "rack3", "c41d8e07-6b2a-4f39-9a1e-5d7c3b8f2e90", 1.54 * 1_073_741_824, seed: 3),
            node("10.20.1.21", "dc2", "rack1", "93f0a7b2-2d5c-4e1f-8b6a-0c9d4e3f2a17", 1.47 * 1_073_741_824, seed: 4),
            node("10.20.1.22", "dc2", "rack2", "5b8e2f61-a3c7-4d09-b1e4-6f2d8a9c0b35", 1.5 * 1_073_741_824, seed: 5),
            node("10.20.1.23", "dc2", "rack3", "e07a4c19-58b3-4a62-9d7f-2b1c6e8a4f03", 402 * 1_048_576, seed: 6),
        ]
        nodes[4].running = false
        nodes[4].stoppedAt = now - 3600
        nodes[4].unitState = "inactive"
        nodes[5].joining = true
        func table(_ name: String, _ id: String) -> SimulatedCluster.Table { .init(name: name, id: id) }
        let keyspaces: [SimulatedCluster.Keyspace] = [
            .init(name: "system_auth", strategy: "SimpleStrategy", replication: ["replication_factor": 1], tables: []),
            .init(name: "shop", strategy: "NetworkTopologyStrategy", replication: ["dc1": 3, "dc2": 3],
                  tables: [table("orders", "8d4a1b20c3f111ef9b2d4f6a7c8e9d01"), table("customers", "9e5b2c31d4a211ef9b2d4f6a7c8e9d02")]),
            .init(name: "system_distributed", strategy: "SimpleStrategy", replication: ["replication_factor": 3], tables: []),
            .init(name: "analytics", strategy: "NetworkTopologyStrategy", replication: ["dc1": 2], tables: [table("daily_rollups", "af6c3d42e5b311ef9b2d4f6a7c8e9d03")]),
            .init(name: "system_traces", strategy: "SimpleStrategy", replication: ["replication_factor": 2], tables: []),
            .init(name: "system_schema", strategy: "LocalStrategy", replication: [:], tables: []),
            .init(name: "system", strategy: "LocalStrategy", replication: [:], tables: []),
        ]
        return SimulatedCluster(
            version: version, release: SimulatedCluster.releases[version]!, name: "acme-prod",
            schemaVersion: "3f2b9c84-1e6d-3a7f-9b2c-5d8e0f1a4c67", gossipDelay: 2, repairSeconds: 0, keyspaces: keyspaces, nodes: nodes)
    }

    /// The sample cluster in a fresh directory; runs nodetool on 10.10.1.11.
    struct Sim {
        let dir = TemporaryDirectory()
        let directory: SimulationDirectory
        let now = 1_736_944_496.789

        init(_ version: CassandraVersion) throws {
            directory = SimulationDirectory(dir.path)
            try directory.create(SimulatorConformanceTests.sampleCluster(version, now: now), simulator: "/bin/true")
        }

        func nodetool(_ arguments: String, on node: String = "10.10.1.11") -> SimulatedOutput {
            SimulatedNodetool.run(arguments.split(separator: " ").map(String.init), directory: directory, node: node, now: now)
        }
    }

    /// Lines with any "[a, b]" list sorted, for output whose list order is a hash order.
    static func normalized(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]"), open < close else { return String(line) }
            let items = line[line.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
            return line[...open] + items.joined(separator: ", ") + line[close...]
        }
    }

    @Test(arguments: CassandraVersion.allCases)
    func statusMatchesTheSamples(version: CassandraVersion) throws {
        let sim = try Sim(version)
        for (arguments, file) in [("status", "status-\(version).txt"), ("status shop", "status-keyspace-\(version).txt"), ("status nosuch", "status-badkeyspace.txt")] {
            let output = sim.nodetool(arguments)
            let expected = sample(file)
            #expect(output.stdout.split(separator: "\n", omittingEmptySubsequences: false).sorted()
                == expected.split(separator: "\n", omittingEmptySubsequences: false).sorted(), "\(arguments)\n\(output.stdout)")
            #expect(output.stdout.count == expected.count)
            #expect(output.exitCode == (arguments == "status nosuch" ? 1 : 0))
        }
    }

    @Test(arguments: CassandraVersion.allCases)
    func describeclusterMatchesTheSamples(version: CassandraVersion) throws {
        let output = try Sim(version).nodetool("describecluster").stdout
        var expected = sample("describecluster-\(version).txt")
        // The sample's keyspaces replicate differently; 4.0/4.1 say so in an Error line, 5.0 in a final Note.
        expected = expected.replacingOccurrences(of: "Error: Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless\n", with: "")
            .replacingOccurrences(of: "\nNote: Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless\n", with: "")
        #expect(Self.normalized(output).sorted() == Self.normalized(expected).sorted(), "\(output)")
    }

    @Test(arguments: CassandraVersion.allCases)
    func versionAndSmallOutputsMatch(version: CassandraVersion) throws {
        let sim = try Sim(version)
        #expect(sim.nodetool("version").stdout == sample("version-\(version).txt"))
        #expect(sim.nodetool("statusbinary").stdout == sample("statusbinary-running.txt"))
        #expect(sim.nodetool("statusgossip").stdout == sample("statusgossip-running.txt"))
        let unknown = sim.nodetool("statuss")
        #expect(unknown.stdout == sample("error-unknown-command.txt") && unknown.exitCode == 1)
        let stopped = sim.nodetool("status", on: "10.20.1.22")
        #expect(stopped.stderr == sample(version == .v3_11 ? "error-connect-java8.stderr.txt" : "error-connect-java11.stderr.txt"))
        #expect(stopped.exitCode == 1)
    }

    @Test(arguments: CassandraVersion.allCases)
    func infoHasTheVersionsLinesAndLayout(version: CassandraVersion) throws {
        let output = try Sim(version).nodetool("info").stdout
        func labels(_ text: String) -> [String] { text.split(separator: "\n").map { String($0.prefix(25)) } }
        #expect(labels(output) == labels(sample("info-\(version).txt")))
        let info = try NodetoolInfo.parse(output)
        #expect(info.hostID == "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41" && info.datacenter == "dc1")
    }

    @Test(arguments: CassandraVersion.allCases)
    func gossipinfoHasTheVersionsStates(version: CassandraVersion) throws {
        let sim = try Sim(version)
        let output = sim.nodetool("gossipinfo").stdout
        func shape(_ text: String, endpoint: String) -> [String] {
            let blocks = text.components(separatedBy: "\n/")
            guard let block = blocks.first(where: { $0.hasPrefix(endpoint) || $0.hasPrefix("/" + endpoint) }) else { return [] }
            return block.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != ":" }) }
        }
        // 5.0 gossips INDEX_STATUS only when the schema has indexes; the sample's does, the simulation's has none.
        let expected = sample("gossipinfo-\(version).txt").split(separator: "\n").filter { !$0.hasPrefix("  INDEX_STATUS:") }.joined(separator: "\n")
        for endpoint in ["10.10.1.11", "10.20.1.22"] {
            #expect(shape(output, endpoint: endpoint) == shape(expected, endpoint: endpoint), "\(endpoint)")
        }
        #expect(output.hasSuffix("<hidden>\n\n"))
        let parsed = try NodetoolGossipInfo.parse(output)
        #expect(parsed.endpoint("10.20.1.22")?.shutDownCleanly == true)
        #expect(parsed.endpoint("10.20.1.22")?.heartbeat == 2_147_483_647)
        #expect(parsed.endpoint("10.20.1.23")?.status?.hasPrefix("BOOT,") == true)
        if version >= .v4_0 {
            #expect(sim.nodetool("-pp gossipinfo").stdout.contains("/10.10.1.11:7000\n"))
        } else {
            #expect(sim.nodetool("-pp gossipinfo").stdout == "nodetool: Found unexpected parameters: [-pp]\nSee 'nodetool help' or 'nodetool help <command>'.\n")
        }
    }

    @Test(arguments: CassandraVersion.allCases)
    func describeringHasTheSamplesShape(version: CassandraVersion) throws {
        let sim = try Sim(version)
        let output = sim.nodetool("describering shop").stdout
        let ring = try NodetoolDescribeRing.parse(output)
        #expect(output.hasPrefix("Schema Version:3f2b9c84-1e6d-3a7f-9b2c-5d8e0f1a4c67\nTokenRange: \n\tTokenRange(start_token:"))
        #expect(ring.ranges.count == 80, "five normal nodes with 16 tokens each, as in the sample")
        #expect(ring.ranges.allSatisfy { $0.endpoints.count == 5 })
        let missing = sim.nodetool("describering nosuch")
        #expect(missing.exitCode == 2 && missing.stderr.hasPrefix("error: No such keyspace: nosuch\n-- StackTrace --\n"))
    }

    @Test(arguments: CassandraVersion.allCases)
    func snapshotsMatchTheSamples(version: CassandraVersion) throws {
        let sim = try Sim(version)
        #expect(sim.nodetool("snapshot -t pre_upgrade_20250115 shop analytics").stdout == sample("snapshot-\(version).txt"))
        let again = sim.nodetool("snapshot -t pre_upgrade_20250115 shop")
        #expect(again.stdout == sample("snapshot-exists-\(version).stdout.txt"))
        #expect(again.stderr.split(separator: "\n").prefix(3) == sample("snapshot-exists-\(version).stderr.txt").split(separator: "\n").prefix(3))
        #expect(again.exitCode == 2)
        let list = sim.nodetool("listsnapshots").stdout
        let header = list.split(separator: "\n")[1]
        let expectedHeader = sample("listsnapshots-\(version).txt").split(separator: "\n")[1]
        #expect(header.split(separator: " ") == expectedHeader.split(separator: " "), "same columns in the same order")
        #expect(try NodetoolSnapshotList.parse(list).rows.count == 3)
        #expect(sim.nodetool("clearsnapshot -t pre_upgrade_20250115 shop analytics").stdout == sample("clearsnapshot-\(version).txt"))
        #expect(sim.nodetool("listsnapshots").stdout == sample("listsnapshots-empty.txt"))
        let noTag = sim.nodetool("clearsnapshot")
        switch version {
        case .v3_11: #expect(noTag.stdout == sample("clearsnapshot-noargs-3.11.txt"))
        case .v5_0: #expect(noTag.stdout == sample("clearsnapshot-noargs-5.0.txt") && noTag.exitCode == 1)
        default: #expect(noTag.stderr.split(separator: "\n").prefix(3) == sample("clearsnapshot-noargs-\(version).stderr.txt").split(separator: "\n").prefix(3) && noTag.exitCode == 2)
        }
        if version >= .v4_0 { #expect(sim.nodetool("clearsnapshot --all").stdout == sample("clearsnapshot-all-4.0.txt")) }
        // The manifest in the version's exact format.
        let manifest = try String(contentsOfFile: "\(sim.dir.path)/nodes/10.10.1.11/data/shop/orders-8d4a1b20c3f111ef9b2d4f6a7c8e9d01/snapshots/x/manifest.json", encoding: .utf8, orCreatingSnapshot: sim, tag: "x")
        let expected = sample("snapshot-manifest-\(version).json")
        #expect(manifest.replacing(/nb-\d+|me-\d+/, with: "G").replacing(/\d{4}-\d\d-\d\dT[\d:.]+Z/, with: "T")
            == expected.replacing(/nb-\d+|me-\d+/, with: "G").replacing(/\d{4}-\d\d-\d\dT[\d:.]+Z/, with: "T").replacingOccurrences(of: "\"G-big-Data.db\",\"G-big-Data.db\",\"G-big-Data.db\"", with: "\"G-big-Data.db\",\"G-big-Data.db\"").replacingOccurrences(of: "\"G-big-Data.db\", \"G-big-Data.db\", \"G-big-Data.db\"", with: "\"G-big-Data.db\", \"G-big-Data.db\""))
    }

    /// Each SSTable of a snapshot has the version's components (5.0: the SAI index's too), plus manifest.json and schema.cql.
    @Test(arguments: CassandraVersion.allCases)
    func snapshotLayoutMatchesTheSamples(version: CassandraVersion) throws {
        let sim = try Sim(version)
        #expect(sim.nodetool("snapshot -t layout shop").exitCode == 0)
        let directory = "\(sim.dir.path)/nodes/10.10.1.11/data/shop/orders-8d4a1b20c3f111ef9b2d4f6a7c8e9d01/snapshots/layout"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        let expected = sample("snapshot-layout-\(version).txt").split(separator: "\n").dropFirst().map { String($0.drop { $0 == " " }) }
        func perSSTable(_ names: [String]) -> [Set<String>] {
            let groups = Dictionary(grouping: names.filter { $0.contains("-big-") }) { $0.split(separator: "-")[1] }
            return groups.values.map { Set($0.map { $0.split(separator: "-", maxSplits: 3)[3] + "|" + $0.prefix(2) }) }
        }
        let expectedComponents = try #require(perSSTable(expected).first)
        #expect(!perSSTable(files).isEmpty)
        for components in perSSTable(files) { #expect(components == expectedComponents) }
        #expect(Set(files.filter { !$0.contains("-big-") }) == Set(expected.filter { !$0.contains("-big-") }))
    }

    @Test(arguments: CassandraVersion.allCases)
    func repairMatchesTheSamples(version: CassandraVersion) throws {
        let sim = try Sim(version)
        let success = sim.nodetool("repair -pr analytics")
        #expect(success.exitCode == 0, "\(success.stderr)")
        let lines = success.stdout.split(separator: "\n")
        let expected = sample("repair-pr-success-\(version).txt").split(separator: "\n")
        func withoutStamp(_ line: Substring) -> Substring { line.drop { $0 != "]" }.dropFirst(2) }
        #expect(lines.allSatisfy { $0.wholeMatch(of: /\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] .+/) != nil })
        #expect(withoutStamp(lines[0]).replacing(/#\d+ \([0-9a-f-]+\)/, with: "#N (U)").replacing(/# of ranges: \d+/, with: "R")
            == withoutStamp(expected[0]).replacing(/#\d+ \([0-9a-f-]+\)/, with: "#N (U)").replacing(/# of ranges: \d+/, with: "R"))
        #expect(lines.suffix(version >= .v4_0 ? 4 : 2).map { withoutStamp($0).replacing(/#\d+/, with: "#N").replacing(/in \d+ seconds?/, with: "in S") }
            == expected.suffix(version >= .v4_0 ? 4 : 2).map { withoutStamp($0).replacing(/#\d+/, with: "#N").replacing(/in \d+ seconds?/, with: "in S") })
        #expect(try NodetoolRepairOutput.parse(success.stdout).succeeded)

        // shop has a replica on the stopped 10.20.1.22.
        let failure = sim.nodetool("repair -pr shop")
        #expect(failure.exitCode == 2)
        let expectedOut = sample("repair-failure-\(version).stdout.txt").split(separator: "\n").map(withoutStamp)
        let outLines = failure.stdout.split(separator: "\n").map(withoutStamp)
        #expect(outLines.dropFirst().map { $0.replacing(/#\d+/, with: "#N") } == expectedOut.dropFirst().map { $0.replacing(/#\d+/, with: "#N") })
        let errLine = failure.stderr.split(separator: "\n").first.map { $0.replacing(/#\d+/, with: "#N").replacing(/\[[^\]]+\]/, with: "[T]") }
        let expectedErr = sample("repair-failure-\(version).stderr.txt").split(separator: "\n").first.map { $0.replacing(/#\d+/, with: "#N").replacing(/\[[^\]]+\]/, with: "[T]") }
        #expect(errLine == expectedErr)
        #expect(NodetoolFailure.classify(exitCode: failure.exitCode, stdout: failure.stdout, stderr: failure.stderr).kind == .server)
    }

    @Test func netstatsAndCompactionstatsKeepTheirLayout() throws {
        for version in CassandraVersion.allCases {
            let sim = try Sim(version)
            let netstats = sim.nodetool("netstats").stdout.split(separator: "\n")
            let expected = sample("netstats-idle-4.1.txt").split(separator: "\n")
            #expect(netstats.count == expected.count)
            #expect(netstats[0...1] == expected[0...1])
            #expect(netstats[6] == expected[6], "the pool table header")
            #expect(zip(netstats.dropFirst(7), expected.dropFirst(7)).allSatisfy { $0.count == $1.count && $0.prefix(25) == $1.prefix(25) })
            let compaction = try NodetoolCompactionStats.parse(sim.nodetool("compactionstats").stdout)
            #expect(compaction.pendingTasks == 0 && compaction.activeCompactions == 0)
        }
    }
}

extension String {
    /// Takes snapshot `tag` of shop on the sample's local node, then reads the orders table's manifest.
    init(contentsOfFile path: String, encoding: String.Encoding, orCreatingSnapshot sim: SimulatorConformanceTests.Sim, tag: String) throws {
        _ = sim.nodetool("snapshot -t \(tag) shop")
        try self.init(contentsOfFile: path, encoding: encoding)
    }
}
