import Foundation
import Testing
@testable import CassandraAgent

/// One desired state survives an upgrade: a setting given by its pre-4.1 or
/// its 4.1+ name renders under the name and unit form of the target version.
@Suite struct SettingsConversionTests {
    @Test(arguments: [
        // (version, written, expected name, expected value)
        ("4.1", "read_request_timeout_in_ms: 10000", "read_request_timeout", YAMLValue.string("10000ms")),
        ("5.0", "read_request_timeout_in_ms: 10000", "read_request_timeout", .string("10000ms")),
        ("4.0", "read_request_timeout: 10s", "read_request_timeout_in_ms", .int(10000)),
        ("3.11", "read_request_timeout: 1500ms", "read_request_timeout_in_ms", .int(1500)),
        ("4.0", "compaction_throughput: 64MiB/s", "compaction_throughput_mb_per_sec", .int(64)),
        ("4.1", "compaction_throughput_mb_per_sec: 64", "compaction_throughput", .string("64MiB/s")),
        ("4.0", "compaction_throughput: 1024KiB/s", "compaction_throughput_mb_per_sec", .int(1)),
        ("4.1", "commitlog_segment_size_in_mb: 32", "commitlog_segment_size", .string("32MiB")),
        ("4.0", "commitlog_segment_size: 1GiB", "commitlog_segment_size_in_mb", .int(1024)),
        // megabits per second became bytes per second in 4.1
        ("4.1", "stream_throughput_outbound_megabits_per_sec: 200", "stream_throughput_outbound", .string("25000000B/s")),
        ("4.0", "stream_throughput_outbound: 25000000B/s", "stream_throughput_outbound_megabits_per_sec", .int(200)),
        // pure renames
        ("4.1", "enable_user_defined_functions: true", "user_defined_functions_enabled", .bool(true)),
        ("4.0", "user_defined_functions_enabled: true", "enable_user_defined_functions", .bool(true)),
        // three names across 3.11, 4.0 and 4.1
        ("4.0", "internode_send_buff_size_in_bytes: 65536", "internode_socket_send_buffer_size_in_bytes", .int(65536)),
        ("3.11", "internode_socket_send_buffer_size: 64KiB", "internode_send_buff_size_in_bytes", .int(65536)),
        ("4.1", "internode_send_buff_size_in_bytes: 65536", "internode_socket_send_buffer_size", .string("65536B")),
        // kept names: 4.1 still reads a bare number of seconds, 4.0 reads only seconds
        ("4.1", "key_cache_save_period: 14400", "key_cache_save_period", .string("14400s")),
        ("4.0", "key_cache_save_period: 4h", "key_cache_save_period", .int(14400)),
        // -1 means "not set" for the custom converters
        ("4.1", "native_transport_max_concurrent_requests_in_bytes: -1", "native_transport_max_request_data_in_flight", .null),
        ("4.1", "max_hint_window: 3h", "max_hint_window", .string("3h")),
        ("4.0", "max_hint_window: 3h", "max_hint_window_in_ms", .int(10_800_000)),
    ])
    func rendersTheTargetVersionsNameAndUnit(version: String, written: String, name: String, value: YAMLValue) throws {
        let config = try #require(rendered(desiredState(version: version, settings: [written])))
        #expect(config.value(name) == value)
        let writtenName = String(written.split(separator: ":")[0])
        if writtenName != name {
            #expect(config.value(writtenName) == nil, "the old name must not be rendered too")
        }
        // The rendered file holds the setting's line exactly once, under the target name.
        #expect(config.cassandraYAML.components(separatedBy: "\n\(name):").count == 2)
    }

    @Test func convertingThatLosesPrecisionIsAnError() {
        #expect(errors(desiredState(version: "4.0", settings: ["read_request_timeout: 1500us"])) == [
            "12:25: settings.read_request_timeout 1500us is not a whole number of ms, the unit Cassandra 4.0 takes here; converting would lose precision",
        ])
        #expect(errors(desiredState(version: "4.0", settings: ["compaction_throughput: 1500KiB/s"])) == [
            "12:26: settings.compaction_throughput 1500KiB/s is not a whole number of MiB/s, the unit Cassandra 4.0 takes here; converting would lose precision",
        ])
        #expect(errors(desiredState(version: "4.0", settings: ["stream_throughput_outbound: 1MiB/s"])) == [
            "12:31: settings.stream_throughput_outbound 1MiB/s is not a whole number of megabits/s, the unit Cassandra 4.0 takes here; converting would lose precision",
        ])
        // A unit below the setting's smallest one is converted when exact, refused otherwise.
        #expect(errors(desiredState(version: "4.1", settings: ["read_request_timeout: 2500us"])) == [
            "12:25: settings.read_request_timeout 2500us is not a whole number of ms, the unit Cassandra 4.1 takes here; converting would lose precision",
        ])
    }

    @Test func smallerUnitIsConvertedUpWhenExact() throws {
        let config = try #require(rendered(desiredState(version: "4.1", settings: ["read_request_timeout: 3000000us"])))
        #expect(config.value("read_request_timeout") == .string("3000ms"))
    }

    @Test func givingBothNamesOfOneSettingIsAnError() {
        #expect(errors(desiredState(settings: ["read_request_timeout_in_ms: 5000", "read_request_timeout: 5s"])) == [
            "13:3: 'read_request_timeout' sets the same setting as 'read_request_timeout_in_ms' on line 12 ('read_request_timeout_in_ms' and 'read_request_timeout' are names of one setting, 'read_request_timeout' in Cassandra 4.1); give only one",
        ])
        #expect(errors(desiredState(version: "4.0", settings: ["enable_user_defined_functions: true", "user_defined_functions_enabled: true"])) == [
            "13:3: 'user_defined_functions_enabled' sets the same setting as 'enable_user_defined_functions' on line 12 ('enable_user_defined_functions' and 'user_defined_functions_enabled' are names of one setting, 'enable_user_defined_functions' in Cassandra 4.0); give only one",
        ])
    }

    @Test func derivedKeysCannotBeSetTwice() {
        let text = desiredState(settings: [
            "cluster_name: Other",
            "endpoint_snitch: Ec2Snitch",
            "listen_address: 10.0.0.9",
            "rpc_interface: eth0",
            "seed_provider:",
            "  - class_name: org.apache.cassandra.locator.SimpleSeedProvider",
        ])
        #expect(errors(text) == [
            "12:3: settings.cluster_name is derived by the agent from cluster.name (line 5); set it there, not in settings",
            "13:3: settings.endpoint_snitch is derived by the agent from node.datacenter and node.rack (GossipingPropertyFileSnitch) (line 8); set it there, not in settings",
            "14:3: settings.listen_address is derived by the agent from node.listenAddress/node.listenInterface (line 10); set it there, not in settings",
            "15:3: settings.rpc_interface is derived by the agent from node.rpcAddress/node.rpcInterface (or the listen address) (line 10); set it there, not in settings",
            "16:3: settings.seed_provider is derived by the agent from cluster.seeds (line 6); set it there, not in settings",
        ])
    }

    @Test func snitchIsFreeWithoutDatacenterAndRack() throws {
        let text = desiredState(settings: ["endpoint_snitch: Ec2Snitch"])
            .replacingOccurrences(of: "  datacenter: dc1\n  rack: rack1\n", with: "  dcSuffix: _live\n")
        let config = try #require(rendered(text))
        #expect(config.value("endpoint_snitch") == .string("Ec2Snitch"))
        #expect(config.rackdcProperties.hasSuffix("dc_suffix=_live\n"))
    }

    @Test func derivedValuesAreRendered() throws {
        let text = desiredState(version: "4.0").replacingOccurrences(of: "  listenAddress: 10.0.0.1", with: "  listenInterface: eth0\n  rpcAddress: 0.0.0.0")
        let config = try #require(rendered(text))
        #expect(config.value("cluster_name") == .string("Test"))
        #expect(config.value("listen_interface") == .string("eth0"))
        #expect(config.value("listen_address") == nil, "the shipped listen_address must go when an interface is used")
        #expect(config.value("rpc_address") == .string("0.0.0.0"))
        #expect(config.value("endpoint_snitch") == .string("GossipingPropertyFileSnitch"))
        #expect(config.value("seed_provider")?.description == "[{class_name: org.apache.cassandra.locator.SimpleSeedProvider, parameters: [{seeds: 10.0.0.1,10.0.0.2}]}]")
        #expect(config.value("data_file_directories") == .list([.string("/var/lib/cassandra/data")]))
        #expect(config.value("commitlog_directory") == .string("/var/lib/cassandra/commitlog"))
        #expect(config.value("saved_caches_directory") == .string("/var/lib/cassandra/saved_caches"))
        #expect(config.value("hints_directory") == .string("/var/lib/cassandra/hints"))
        #expect(config.value("cdc_raw_directory") == nil)
        #expect(config.rackdcProperties.hasSuffix("dc=dc1\nrack=rack1\n"))
    }

    @Test func cdcDirectoryIsRenderedWhenCDCIsOn() throws {
        let config = try #require(rendered(desiredState(settings: ["cdc_enabled: true"])))
        #expect(config.value("cdc_raw_directory") == .string("/var/lib/cassandra/cdc_raw"))
    }

    @Test func storageDirectoriesCanBeOverridden() throws {
        let config = try #require(rendered(desiredState(settings: ["data_file_directories: [/data1, /data2]"])))
        #expect(config.value("data_file_directories") == .list([.string("/data1"), .string("/data2")]))
    }

    @Test func batchCommitlogDropsTheShippedPeriod() throws {
        let config = try #require(rendered(desiredState(version: "4.1", settings: ["commitlog_sync: batch"])))
        #expect(config.value("commitlog_sync") == .string("batch"))
        #expect(config.value("commitlog_sync_period") == nil)
    }

    @Test func batchCommitlogOn311NeedsItsWindow() {
        #expect(errors(desiredState(version: "3.11", settings: ["commitlog_sync: batch"])) == [
            "12:3: settings.commitlog_sync: 'commitlog_sync_batch_window_in_ms' must be set above zero because commitlog_sync is batch",
        ])
        #expect(errors(desiredState(version: "3.11", settings: ["commitlog_sync: batch", "commitlog_sync_batch_window_in_ms: 2"])) == [])
    }

    @Test func nestedOptionsAreCheckedFieldByField() {
        #expect(errors(desiredState(settings: ["audit_logging_options:", "  enabled: true", "  loger: x"])) == [
            "14:5: unknown key 'loger' in settings.audit_logging_options for Cassandra 4.1; did you mean 'logger'?",
        ])
    }

    @Test func guardrailCountsAreNotConvertedByTheAgent() throws {
        // 5.0 counts keyspaces without the system ones: only Cassandra may convert.
        let result = validate(desiredState(version: "5.0", settings: ["keyspace_count_warn_threshold: 40"]))
        guard case .success(let validated) = result else { Issue.record("expected valid"); return }
        #expect(validated.settings.map(\.name) == ["keyspace_count_warn_threshold"])
        #expect(validated.warnings.count == 1)
        #expect(errors(desiredState(version: "4.0", settings: ["keyspaces_warn_threshold: 40"])) == [
            "12:3: 'keyspaces_warn_threshold' cannot be converted exactly to Cassandra 4.0's 'keyspace_count_warn_threshold' (the two count different things); set 'keyspace_count_warn_threshold' instead",
        ])
    }

    @Test func quantitiesConvertExactly() {
        let ms = MeasureUnit.named("ms", in: .duration)!, s = MeasureUnit.named("s", in: .duration)!
        #expect(Quantity(value: 5, unit: s).converted(to: ms) == .success(5000))
        #expect(Quantity(value: 5500, unit: ms).converted(to: s) == .failure(.inexact))
        #expect(Quantity(value: Int.max / 2, unit: s).converted(to: ms) == .failure(.overflow))
        #expect(Quantity.parse("64MiB/s", dimension: .dataRate) == Quantity(value: 64, unit: MeasureUnit.named("MiB/s", in: .dataRate)!))
        #expect(Quantity.parse("64 MiB/s", dimension: .dataRate) == nil)
        #expect(Quantity.parse("64mib/s", dimension: .dataRate) == nil)
        #expect(Quantity.parse("-5ms", dimension: .duration) == nil)
    }
}
