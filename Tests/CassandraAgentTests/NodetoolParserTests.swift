import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

func sample(_ name: String) -> String {
    (try? String(contentsOfFile: "\(Paths.packageRoot)/Tests/CassandraAgentTests/Fixtures/nodetool/\(name)", encoding: .utf8)) ?? "<missing \(name)>"
}

let versions = ["3.11", "4.0", "4.1", "5.0"]

/// The parsers on the documented output of every version (the sample cluster:
/// six nodes in dc1/dc2, 10.20.1.22 stopped cleanly, 10.20.1.23 joining).
@Suite struct NodetoolParserTests {
    @Test func infoListsTheTokensOnlyWithDashT() throws {
        let plain = sample("info-4.1.txt")
        #expect(try NodetoolInfo.parse(plain).tokens == [])
        let withTokens = plain.replacing("Token                  : (invoke with -T/--tokens to see all 16 tokens)",
                                         with: "Token                  : -9223372036854775808\nToken                  : 3074457345618258602")
        #expect(try NodetoolInfo.parse(withTokens).tokens == ["-9223372036854775808", "3074457345618258602"])
    }

    @Test(arguments: versions)
    func status(version: String) throws {
        let status = try NodetoolStatus.parse(sample("status-\(version).txt"))
        #expect(status.nodes.count == 6)
        #expect(status.datacenters == ["dc1", "dc2"])
        #expect(!status.effectiveOwnership)
        #expect(status.notes == ["Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless"])
        let down = try #require(status.node("10.20.1.22"))
        #expect(down.liveness == .down && down.state == .normal)
        #expect(down.load == Int64(1.5 * 1_073_741_824))
        #expect(down.rack == "rack2" && down.datacenter == "dc2")
        #expect(down.hostID == "5b8e2f61-a3c7-4d09-b1e4-6f2d8a9c0b35")
        #expect(down.tokenCount == 16 && down.owns == nil)
        #expect(status.node("10.20.1.23")?.state == .joining)
        #expect(status.node("10.20.1.23")?.load == Int64(402 * 1_048_576))

        let keyspace = try NodetoolStatus.parse(sample("status-keyspace-\(version).txt"))
        #expect(keyspace.effectiveOwnership)
        #expect(keyspace.node("10.10.1.11")?.owns == 100.0)
        #expect(keyspace.node("10.20.1.23")?.owns == nil)
    }

    @Test func statusOfABadKeyspaceIsAnError() {
        #expect(throws: NodetoolParseError.self) { try NodetoolStatus.parse(sample("status-badkeyspace.txt")) }
    }

    @Test func statusWithoutHostIDAndWithPorts() throws {
        let text = """
        Datacenter: dc1
        ===============
        Status=Up/Down
        |/ State=Normal/Leaving/Joining/Moving
        --  Address          Load       Tokens  Owns  Host ID  Rack
        UN  10.0.0.1:7000    245.55 MiB  16      ?             rack1
        ?N  [fd00::1]:7000   ?          16      ?             rack2

        """
        let status = try NodetoolStatus.parse(text)
        #expect(status.nodes[0].endpoint == NodetoolEndpoint(address: "10.0.0.1", port: 7000))
        #expect(status.nodes[0].hostID == nil)
        #expect(status.nodes[1].liveness == .unknown && status.nodes[1].load == nil)
        #expect(status.nodes[1].endpoint.address == "fd00::1")
    }

    @Test(arguments: versions)
    func info(version: String) throws {
        let info = try NodetoolInfo.parse(sample("info-\(version).txt"))
        #expect(info.hostID == "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41")
        #expect(info.gossipActive && info.nativeTransportActive)
        #expect(info.thriftActive == (version == "3.11" ? false : nil))
        #expect(info.generation == 1_736_801_234)
        #expect(info.uptimeSeconds == 143_262)
        #expect(info.datacenter == "dc1" && info.rack == "rack1")
        #expect(info.heapUsedMB == 3172.61 && info.heapMaxMB == 7987.25)
        #expect(info.percentRepaired == 94.33198380566802)
        #expect(info.bootstrapState == (version == "5.0" ? "COMPLETED" : nil))
        #expect(info.fields["Network Cache"] == (version == "3.11" ? nil : "size 8 MiB, overflow size: 0 bytes, capacity 128 MiB"))
    }

    @Test(arguments: versions)
    func gossipinfo(version: String) throws {
        let gossip = try NodetoolGossipInfo.parse(sample("gossipinfo-\(version).txt"))
        #expect(gossip.endpoints.count == 6)
        let stopped = try #require(gossip.endpoint("10.20.1.22"))
        #expect(stopped.shutDownCleanly)
        #expect(stopped.heartbeat == 2_147_483_647)
        #expect(stopped.states["RPC_READY"]?.value == "false")
        let joining = try #require(gossip.endpoint("10.20.1.23"))
        #expect(joining.status?.hasPrefix("BOOT,") == true)
        let local = try #require(gossip.endpoint("10.10.1.11"))
        #expect(local.generation == 1_736_801_234)
        #expect(local.datacenter == "dc1" && local.rack == "rack1")
        #expect(local.hostID == "2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41")
        #expect(local.releaseVersion?.hasPrefix(version) == true)
        if version != "3.11" {
            #expect(local.states["NATIVE_ADDRESS_AND_PORT"]?.value == "10.10.1.11:9042", "values keep their colons")
            let pp = try NodetoolGossipInfo.parse(sample("gossipinfo-pp-\(version).txt"))
            #expect(pp.endpoint("10.10.1.11")?.endpoint.port == 7000)
        }
        if version == "5.0" {
            #expect(local.states["INDEX_STATUS"]?.value == #"{"shop.orders_status_idx":"BUILD_SUCCEEDED"}"#)
        }
    }

    @Test(arguments: versions)
    func describecluster(version: String) throws {
        let cluster = try NodetoolDescribeCluster.parse(sample("describecluster-\(version).txt"))
        #expect(cluster.name == "acme-prod")
        #expect(cluster.snitch == "org.apache.cassandra.locator.GossipingPropertyFileSnitch")
        #expect(cluster.partitioner == "org.apache.cassandra.dht.Murmur3Partitioner")
        #expect(cluster.schemaVersions.count == 1)
        #expect(cluster.schemaVersions["3f2b9c84-1e6d-3a7f-9b2c-5d8e0f1a4c67"]?.count == 5)
        #expect(cluster.unreachable == ["10.20.1.22"])
        if version == "3.11" {
            #expect(cluster.live == nil && cluster.keyspaces.isEmpty)
        } else {
            #expect(cluster.live == 5 && cluster.joining == 1 && cluster.unreachableCount == 1)
            #expect(cluster.datacenters == [.init(name: "dc1", nodes: 3, down: 0), .init(name: "dc2", nodes: 3, down: 1)])
            #expect(cluster.databaseVersions.values.first?.count == 6)
            #expect(cluster.keyspaces.first { $0.name == "shop" }?.options == ["dc1": "3", "dc2": "3"])
        }
    }

    @Test(arguments: versions)
    func describering(version: String) throws {
        let ring = try NodetoolDescribeRing.parse(sample("describering-\(version).txt"))
        #expect(ring.schemaVersion == "3f2b9c84-1e6d-3a7f-9b2c-5d8e0f1a4c67")
        #expect(ring.ranges.count == 80)
        #expect(ring.ranges.allSatisfy { $0.endpoints.count == 5 && $0.details.count == 5 })
        #expect(ring.ranges[0].details[0] == .init(host: "10.10.1.12", datacenter: "dc1", rack: "rack2"))
        let pp = try NodetoolDescribeRing.parse(sample("describering-pp-4.1.txt"))
        #expect(pp.ranges[0].endpoints[0].hasSuffix(":7000"))
    }

    @Test(arguments: versions)
    func smallOutputs(version: String) throws {
        #expect(try NodetoolVersion.parse(sample("version-\(version).txt")).major?.rawValue == version)
        #expect(try NodetoolRunningState.parse(sample("statusbinary-running.txt"), command: "statusbinary"))
        #expect(try !NodetoolRunningState.parse(sample("statusgossip-not-running.txt"), command: "statusgossip"))
        let netstats = try NodetoolNetstats.parse(sample("netstats-\(version).txt"))
        #expect(netstats.mode == .normal && netstats.streaming)
        // The sample: this node sends 4 files to a bootstrapping node, 1 of them and 140509184 bytes done.
        #expect(netstats.plans == [.init(operation: "Bootstrap", id: "3c9a5b40-d33f-11ef-8c4e-65a1b2c3d4e5", transfers: [
            .init(peer: "10.20.1.23", direction: .sending, files: 4, bytes: 312_475_648, filesDone: 1, bytesDone: 140_509_184),
        ])])
        #expect(netstats.transfers("Bootstrap", .sending).count == 1 && netstats.transfers("Rebuild", .sending).isEmpty)
        #expect(try NodetoolNetstats.parse(sample("netstats-drained-4.1.txt")) == .init(mode: .drained))
        #expect(try NodetoolNetstats.parse(sample("netstats-idle-4.1.txt")) == .init(mode: .normal))
        let compaction = try NodetoolCompactionStats.parse(sample("compactionstats-\(version).txt"))
        #expect(compaction.pendingTasks == 3)
        #expect(compaction.pendingByTable == ["shop.orders": 2, "analytics.daily_rollups": 1])
        #expect(compaction.activeCompactions == 1)
        #expect(try NodetoolCompactionStats.parse(sample("compactionstats-idle-\(version).txt")).activeCompactions == 0)
        #expect(try NodetoolVersion.parse(sample("version-verbose-5.0.txt")).gitSHA == "b9a5d15deec81295113cdc703d5acda423d8a688")
    }

    @Test(arguments: versions)
    func snapshots(version: String) throws {
        #expect(try NodetoolSnapshotOutput.tag(sample("snapshot-\(version).txt")) == "pre_upgrade_20250115")
        let list = try NodetoolSnapshotList.parse(sample("listsnapshots-\(version).txt"))
        #expect(list.rows.count == 4)
        #expect(list.names == ["pre_upgrade_20250115", "weekly"])
        let weekly = try #require(list.rows.last)
        #expect(weekly.trueSize == Int64((20.16 * 1_048_576).rounded()))
        #expect(weekly.sizeOnDisk == Int64((1.09 * 1_073_741_824).rounded()))
        if version >= "4.1" {
            #expect(weekly.created == "2025-01-12T03:00:00Z" && weekly.expires == "2025-01-19T03:00:00Z")
            #expect(list.rows[0].expires == nil)
        }
        #expect(try NodetoolSnapshotList.parse(sample("listsnapshots-empty.txt")).rows.isEmpty)
        #expect(try NodetoolSnapshotList.parse(sample("listsnapshots-ephemeral-5.0.txt")).rows.allSatisfy { $0.ephemeral == false })
    }

    @Test(arguments: versions)
    func repair(version: String) throws {
        for kind in ["pr", "full", "subrange"] {
            let repair = try NodetoolRepairOutput.parse(sample("repair-\(kind)-success-\(version).txt"))
            #expect(repair.succeeded, "\(kind)")
            #expect(repair.keyspaces == ["analytics"])
            #expect(repair.failure == nil)
        }
        let failed = try NodetoolRepairOutput.parse(sample("repair-failure-\(version).stdout.txt"))
        #expect(!failed.succeeded)
        #expect(failed.failure == (version == "3.11" ? "Endpoint not alive: /10.20.1.22" : "Endpoint not alive: /10.20.1.22:7000"))
        let failure = NodetoolFailure.classify(exitCode: 2, stdout: sample("repair-failure-\(version).stdout.txt"), stderr: sample("repair-failure-\(version).stderr.txt"))
        #expect(failure.kind == .server)
        #expect(failure.message.hasPrefix("Repair job has failed with the error message: "))
    }

    @Test func failuresAreClassified() {
        #expect(NodetoolFailure.classify(exitCode: 1, stdout: "", stderr: sample("error-connect-java11.stderr.txt")).kind == .cannotConnect)
        #expect(NodetoolFailure.classify(exitCode: 1, stdout: "", stderr: sample("error-connect-java8.stderr.txt")).message
            == "Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused (Connection refused)'.")
        #expect(NodetoolFailure.classify(exitCode: 1, stdout: "", stderr: sample("error-auth.stderr.txt")).kind == .cannotConnect)
        let usage = NodetoolFailure.classify(exitCode: 1, stdout: sample("error-unknown-command.txt"), stderr: "")
        #expect(usage.kind == .usage && usage.message == "Found unexpected parameters: [statuss]")
        #expect(NodetoolFailure.classify(exitCode: 1, stdout: "", stderr: sample("error-not-initialized-5.0.stderr.txt")).kind == .notInitialized)
        let exists = NodetoolFailure.classify(exitCode: 2, stdout: sample("snapshot-exists-4.1.stdout.txt"), stderr: sample("snapshot-exists-4.1.stderr.txt"))
        #expect(exists.kind == .server && exists.message == "Snapshot pre_upgrade_20250115 already exists.")
        #expect(NodetoolFailure.classify(exitCode: 1, stdout: sample("status-badkeyspace.txt"), stderr: "").message == "The keyspace nosuch, does not exist")
    }

    @Test func sizesFormatLikeNodetool() {
        #expect(NodetoolSize.format(0) == "0 bytes")
        #expect(NodetoolSize.format(1023) == "1023 bytes")
        #expect(NodetoolSize.format(1_632_065_120) == "1.52 GiB")
        #expect(NodetoolSize.format(1_610_612_736) == "1.5 GiB")
        #expect(NodetoolSize.format(421_527_552) == "402 MiB")
        #expect(NodetoolSize.bytes("1.52 GiB") == 1_632_087_572)
        #expect(NodetoolSize.bytes("1,5 GiB") == 1_610_612_736, "a decimal comma from a JVM locale")
        #expect(NodetoolSize.bytes("1.5 GB") == nil)
    }
}

/// Hostile input: truncated, mutated, empty, non-ASCII. Every parser returns a
/// value or a located error; none crashes.
@Suite struct NodetoolParserFuzzTests {
    struct Parser: Sendable {
        let name: String
        let parse: @Sendable (String) throws -> Void
    }

    static let parsers: [(String, Parser)] = [
        ("status-4.1.txt", Parser(name: "status") { _ = try NodetoolStatus.parse($0) }),
        ("status-3.11.txt", Parser(name: "status") { _ = try NodetoolStatus.parse($0) }),
        ("info-5.0.txt", Parser(name: "info") { _ = try NodetoolInfo.parse($0) }),
        ("gossipinfo-4.0.txt", Parser(name: "gossipinfo") { _ = try NodetoolGossipInfo.parse($0) }),
        ("describecluster-4.1.txt", Parser(name: "describecluster") { _ = try NodetoolDescribeCluster.parse($0) }),
        ("describering-4.1.txt", Parser(name: "describering") { _ = try NodetoolDescribeRing.parse($0) }),
        ("version-4.1.txt", Parser(name: "version") { _ = try NodetoolVersion.parse($0) }),
        ("netstats-4.1.txt", Parser(name: "netstats") { _ = try NodetoolNetstats.parse($0) }),
        ("compactionstats-5.0.txt", Parser(name: "compactionstats") { _ = try NodetoolCompactionStats.parse($0) }),
        ("compactionstats-4.1.txt", Parser(name: "compactionstats") { _ = try NodetoolCompactionStats.parse($0) }),
        ("listsnapshots-4.1.txt", Parser(name: "listsnapshots") { _ = try NodetoolSnapshotList.parse($0) }),
        ("repair-pr-success-4.1.txt", Parser(name: "repair") { _ = try NodetoolRepairOutput.parse($0) }),
        ("statusbinary-running.txt", Parser(name: "statusbinary") { _ = try NodetoolRunningState.parse($0, command: "statusbinary") }),
    ]

    @Test func emptyAndGarbageInputFailsCleanly() {
        for (_, parser) in Self.parsers {
            for input in ["", "\n", "garbage", "\u{0}\u{1}", "héllo wörld ✓\n", String(repeating: "x", count: 10_000)] {
                do {
                    try parser.parse(input)
                } catch let error as NodetoolParseError {
                    #expect(error.command == parser.name)
                    #expect(error.text.count <= 161)
                } catch {
                    Issue.record("\(parser.name) threw \(error)")
                }
            }
        }
    }

    @Test func truncationsAndMutationsNeverCrash() {
        var rng = RenderPropertyTests.SplitMix64(seed: 42)
        for (file, parser) in Self.parsers {
            let text = sample(file)
            let characters = Array(text)
            for _ in 0..<150 {
                var mutated = characters
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: mutated = Array(mutated.prefix(Int.random(in: 0...mutated.count, using: &rng)))
                case 1 where !mutated.isEmpty:
                    mutated[Int.random(in: 0..<mutated.count, using: &rng)] = ["é", ":", " ", "\t", "?", "%", "[", "]", "\n", "9"].randomElement(using: &rng)!
                case 2 where !mutated.isEmpty:
                    mutated.remove(at: Int.random(in: 0..<mutated.count, using: &rng))
                case 3:
                    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                    let extra = lines.randomElement(using: &rng).map { $0 + "  extra column" } ?? ""
                    mutated = Array(lines.map(String.init).joined(separator: "\n") + "\n" + extra + "\n")
                default:
                    mutated = Array(text.split(separator: "\n").shuffled(using: &rng).joined(separator: "\n"))
                }
                do {
                    try parser.parse(String(mutated))
                } catch is NodetoolParseError {
                    // a located error is the right answer to broken output
                } catch {
                    Issue.record("\(file): unexpected error type \(error)")
                }
            }
        }
    }

    @Test func errorsQuoteTheOffendingLine() {
        let text = sample("status-4.1.txt").replacingOccurrences(of: "UN  10.10.1.12  1.49 GiB", with: "UN  10.10.1.12  lots")
        do {
            _ = try NodetoolStatus.parse(text)
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 6)
            #expect(error.description.hasPrefix("cannot read 'nodetool status' output, line 6 \"UN  10.10.1.12  lots"))
        }
    }
}
