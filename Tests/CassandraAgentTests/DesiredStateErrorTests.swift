import Foundation
import Testing
@testable import CassandraAgent

/// Every class of error in a desired-state file, each with its exact line and column.
@Suite struct DesiredStateErrorTests {
    @Test func validExampleHasNoErrors() {
        #expect(errors(desiredState()) == [])
    }

    @Test func unknownTopLevelKeySuggestsTheClosestName() {
        #expect(errors(desiredState() + "setings:\n  num_tokens: 8\n") == [
            "11:1: unknown key 'setings' in the desired-state file; did you mean 'settings'?",
        ])
    }

    @Test func unknownNestedKeyIsLocated() {
        let text = desiredState().replacingOccurrences(of: "  rack: rack1", with: "  rakc: rack1")
        #expect(errors(text) == [
            "8:3: node.rack is missing: give node.datacenter and node.rack together",
            "9:3: unknown key 'rakc' in node; did you mean 'rack'?",
        ])
    }

    @Test func everyErrorIsReportedInOneRun() {
        let text = """
        apiVersion: cassandra-agent/v2
        cassandra:
          version: "4.2"
        cluster:
          name: ""
          seeds: ["10.0.0.1", "10.0.0.300"]
        node:
          listenAddress: 10.0.0.1
          colour: blue
        repair:
          enabled: yes please
          schedule: "0 25 * * *"

        """
        #expect(errors(text) == [
            "1:13: apiVersion must be 'cassandra-agent/v1', found 'cassandra-agent/v2'",
            "3:12: cassandra.version must be one of 3.11, 4.0, 4.1, 5.0, found '4.2'; did you mean '4.0'?",
            "5:9: cluster.name must not be blank",
            "6:23: seed '10.0.0.300': is not a valid IPv4 address",
            "9:3: unknown key 'colour' in node",
            "11:12: repair.enabled must be true or false, found a string 'yes please'",
            "12:13: repair.schedule: hour 25 is out of range 0-23",
        ])
    }

    @Test func duplicateKeysAreErrors() {
        let text = desiredState(settings: ["num_tokens: 8", "num_tokens: 16"])
        #expect(errors(text) == ["13:3: duplicate key 'num_tokens' in settings (first given on line 12)"])
    }

    @Test func tabsAreReportedWithPosition() {
        let text = desiredState() + "settings:\n\tnum_tokens: 8\n"
        #expect(errors(text) == ["12:1: a tab character is not allowed here; YAML indents with spaces only"])
    }

    @Test func wrongTypesAreLocated() {
        let text = desiredState(settings: [
            "num_tokens: sixteen",
            "auto_snapshot: maybe",
            "concurrent_writes: 3000000000",
            "commitlog_sync: sometimes",
            "data_file_directories: /var/lib/data",
        ])
        #expect(errors(text) == [
            "12:15: settings.num_tokens must be an integer, found a string 'sixteen'",
            "13:18: settings.auto_snapshot must be true or false, found a string 'maybe'",
            "14:22: settings.concurrent_writes 3000000000 is out of range for a Java int (at most 2147483647)",
            "15:19: settings.commitlog_sync must be one of periodic, batch, group, found 'sometimes'",
            "16:26: settings.data_file_directories must be a list, found a string '/var/lib/data'",
        ])
    }

    @Test func secretValuesAreNeverQuoted() {
        let hunter = YAMLNode.scalar("hunter2", .plain, SourceMark(line: 1, column: 1))
        #expect(MappingReader.describe(hunter, path: "settings.server_encryption_options.keystore_password") == "a string")
        #expect(MappingReader.describe(hunter, path: "tls.client.privateKeyPasswordFile") == "a string")
        #expect(MappingReader.describe(hunter, path: "settings.cluster_name") == "a string 'hunter2'", "ordinary values are still quoted")
        #expect(errors(desiredState(settings: ["commitlog_sync_period: secretish"])).contains { $0.contains("'secretish'") })
    }

    @Test func unknownSettingSuggestsTheClosestName() {
        #expect(errors(desiredState(settings: ["concurent_writes: 64"])) == [
            "12:3: unknown setting 'concurent_writes' for Cassandra 4.1; did you mean 'concurrent_writes'?",
        ])
    }

    @Test func settingMissingFromTheVersionSaysWhen() {
        #expect(errors(desiredState(version: "4.0", settings: ["sai_options:", "  segment_write_buffer_size: 16MiB"])) == [
            "12:3: setting 'sai_options' does not exist in Cassandra 4.0; it was added in Cassandra 5.0",
        ])
        #expect(errors(desiredState(version: "4.0", settings: ["start_rpc: false"])) == [
            "12:3: setting 'start_rpc' does not exist in Cassandra 4.0; it was removed after Cassandra 3.11",
        ])
    }

    @Test func badUnitsAreErrors() {
        #expect(errors(desiredState(settings: ["read_request_timeout: 5000"])) == [
            "12:25: settings.read_request_timeout needs a unit in Cassandra 4.1: a bare number is rejected; write 5000ms",
        ])
        #expect(errors(desiredState(settings: ["read_request_timeout: 5 seconds"])) == [
            "12:25: settings.read_request_timeout must be a whole number with a unit (ms, s, m, h, d), e.g. 10ms, found a string '5 seconds'",
        ])
        #expect(errors(desiredState(settings: ["compaction_throughput: 64MB/s"])) == [
            "12:26: settings.compaction_throughput must be a whole number with a unit (B/s, KiB/s, MiB/s), e.g. 10B/s, found a string '64MB/s'",
        ])
    }

    @Test func malformedSectionsAreErrors() {
        let text = desiredState(extra: """
        tls:
          internode:
            encryption: everything
            certificate: ""
            trust: []
        backup:
          enabled: true
          schedule: "0 3 * *"
          retention: 2 days
          destination: s3://bucket/backups
        patching:
          enabled: true
          window: "SUNDAY 04:00-06:00"
          command: ["apt-get", "upgrade"]

        """)
        #expect(errors(text) == [
            "13:5: tls.internode is missing the required key 'privateKey'",
            "13:5: tls.internode is missing the required key 'passwordFile'",
            "13:17: tls.internode.encryption must be one of 'none', 'dc', 'rack', 'all', found 'everything'",
            "14:18: tls.internode.certificate must name a file",
            "15:12: tls.internode.trust must list at least one certificate file",
            "18:13: backup.schedule: a schedule needs five fields (minute hour day-of-month month day-of-week), found 4 in '0 3 * *'",
            "19:14: backup.retention '2 days' is not a duration: a whole number and a unit ms, s, m, h or d (e.g. 48h, 14d)",
            "20:16: backup.destination s3:// needs backup.s3 with endpoint, region and credentialsFile",
            "23:11: patching.window: 'SUNDAY' is not a valid day: use a number from 0 to 7 or a name (SUN,MON,TUE,WED,THU,FRI,SAT)",
            "24:13: patching.command must start with an absolute path to the program, found 'apt-get'",
        ])
    }

    @Test func seedsWithPortsNeed40() {
        #expect(errors(desiredState(version: "3.11").replacingOccurrences(of: "\"10.0.0.2\"", with: "\"10.0.0.2:7000\"")) == [
            "6:23: seed '10.0.0.2:7000': Cassandra 3.11 seeds cannot carry a port (4.0 and later accept one)",
        ])
        #expect(errors(desiredState(version: "4.0").replacingOccurrences(of: "\"10.0.0.2\"", with: "\"10.0.0.2:7000\"")) == [])
    }

    @Test func emptyAndNonMappingFiles() {
        #expect(errors("") == ["1:1: the desired-state file is empty"])
        #expect(errors("- a\n- b\n") == ["1:1: the desired-state file must be a mapping, found a list"])
    }

    @Test func listenAddressAndInterfaceExcludeEachOther() {
        let text = desiredState().replacingOccurrences(of: "  listenAddress: 10.0.0.1", with: "  listenAddress: 10.0.0.1\n  listenInterface: eth0")
        #expect(errors(text) == ["10:18: node.listenAddress and node.listenInterface exclude each other: give one"])
    }
}
