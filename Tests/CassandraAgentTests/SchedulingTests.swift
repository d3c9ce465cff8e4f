import Testing
@testable import CassandraAgent

@Suite struct SchedulingTests {
    @Test func cronFieldsExpand() throws {
        let cron = try CronSchedule(parsing: "*/15 1-3,22 * JAN,jul SUN-TUE")
        #expect(cron.minutes == [0, 15, 30, 45])
        #expect(cron.hours == [1, 2, 3, 22])
        #expect(cron.daysOfMonth == Set(1...31))
        #expect(cron.months == [1, 7])
        #expect(cron.daysOfWeek == [0, 1, 2])
        #expect(try CronSchedule(parsing: "0 0 * * 7").daysOfWeek == [0], "7 is Sunday too")
        #expect(try CronSchedule(parsing: "0 0 1-31/10 * *").daysOfMonth == [1, 11, 21, 31])
    }

    @Test func cronMatchesLikeCrontab() throws {
        let weekly = try CronSchedule(parsing: "0 1 * * SUN")
        #expect(weekly.matches(minute: 0, hour: 1, day: 22, month: 11, weekday: 0))
        #expect(!weekly.matches(minute: 0, hour: 1, day: 23, month: 11, weekday: 1))
        // Both day fields restricted: either matching is enough.
        let either = try CronSchedule(parsing: "0 0 1 * MON")
        #expect(either.matches(minute: 0, hour: 0, day: 1, month: 3, weekday: 4))
        #expect(either.matches(minute: 0, hour: 0, day: 9, month: 3, weekday: 1))
        #expect(!either.matches(minute: 0, hour: 0, day: 9, month: 3, weekday: 2))
    }

    @Test(arguments: [
        ("0 1 * *", "a schedule needs five fields (minute hour day-of-month month day-of-week), found 4 in '0 1 * *'"),
        ("60 * * * *", "minute 60 is out of range 0-59"),
        ("* * 0 * *", "day-of-month 0 is out of range 1-31"),
        ("* * * FOO *", "'FOO' is not a valid month: use a number from 1 to 12 or a name (JAN,FEB,MAR,APR,MAY,JUN,JUL,AUG,SEP,OCT,NOV,DEC)"),
        ("*/0 * * * *", "the step in minute field '*/0' must be a positive number"),
        ("5-1 * * * *", "the range 5-1 in the minute field runs backwards"),
        ("1,,2 * * * *", "malformed minute field '1,,2'"),
    ])
    func badCronIsExplained(expression: String, message: String) {
        #expect(throws: CronSchedule.ParseError(message: message)) { try CronSchedule(parsing: expression) }
    }

    @Test func patchWindows() throws {
        let sunday = try PatchWindow(parsing: "SUN 04:00-06:00")
        #expect(sunday.days == [0])
        #expect(sunday.start == 240 && sunday.end == 360 && sunday.lengthMinutes == 120)
        let overnight = try PatchWindow(parsing: "MON-FRI 23:30-01:00")
        #expect(overnight.days == [1, 2, 3, 4, 5])
        #expect(overnight.lengthMinutes == 90)
        #expect(try PatchWindow(parsing: "* 00:00-24:00").lengthMinutes == 1440)
        #expect(throws: CronSchedule.ParseError.self) { try PatchWindow(parsing: "SUN 04:00") }
        #expect(throws: CronSchedule.ParseError.self) { try PatchWindow(parsing: "SUN 4:00-6:00") }
        #expect(throws: CronSchedule.ParseError.self) { try PatchWindow(parsing: "SUN 04:00-04:00") }
    }
}

@Suite struct AgentConfigurationTests {
    func parse(_ text: String) -> (AgentConfiguration?, [String]) {
        var diagnostics = Diagnostics(file: "agent.yaml")
        let config = AgentConfiguration.parse(text, &diagnostics)
        return (config, diagnostics.sorted.filter { $0.severity == .error }.map { "\($0.mark.line):\($0.mark.column): \($0.message)" })
    }

    @Test func emptyFileMeansDefaults() {
        let (config, errors) = parse("")
        #expect(errors == [])
        #expect(config == AgentConfiguration())
        #expect(config?.nodetool == ["/usr/bin/nodetool"])
        #expect(config?.files == FileOwnership(owner: "root", group: "cassandra", mode: 0o640))
    }

    @Test func theShippedDefaultFileParsesToTheDefaults() throws {
        let text = try String(contentsOfFile: Paths.packageRoot + "/etc/cassandra-agent/agent.yaml", encoding: .utf8)
        let (config, errors) = parse(text)
        #expect(errors == [])
        #expect(config == AgentConfiguration())
    }

    @Test func argumentVectorsAndModes() {
        let (config, errors) = parse("""
        nodetool: [".build/release/cassandra-sim", "nodetool", "--dir", "/tmp/sim", "--node", "127.0.1.1"]
        files: {mode: "0600", group: "0"}
        keepGenerations: 7

        """)
        #expect(errors == [])
        #expect(config?.nodetool.count == 6)
        #expect(config?.files.mode == 0o600)
        #expect(config?.keepGenerations == 7)
    }

    @Test func badValuesAreLocated() {
        let (_, errors) = parse("""
        nodetool: []
        keepGenerations: 2
        files:
          mode: "rw-r-----"
        adminGroup: "two words"

        """)
        #expect(errors == [
            "1:11: nodetool must name the program, then any extra arguments",
            "2:18: keepGenerations must be at least 5, found 2",
            "4:9: files.mode must be an octal permission such as \"0640\", found 'rw-r-----'",
            "5:13: adminGroup must be a single name, found 'two words'",
        ])
    }
}

@Suite struct NetworkAddressTests {
    @Test func seeds() throws {
        #expect(try NetworkAddress.parseSeed("10.0.0.1").get() == .init(host: "10.0.0.1", port: nil))
        #expect(try NetworkAddress.parseSeed("10.0.0.1:7000").get() == .init(host: "10.0.0.1", port: 7000))
        #expect(try NetworkAddress.parseSeed("[fd00::1]:7000").get() == .init(host: "fd00::1", port: 7000))
        #expect(try NetworkAddress.parseSeed("fd00::1").get() == .init(host: "fd00::1", port: nil))
        #expect(try NetworkAddress.parseSeed("cass-1.example.com").get().host == "cass-1.example.com")
        #expect(DesiredState.Seed(host: "fd00::1", port: 7000).description == "[fd00::1]:7000")
        for bad in ["10.0.0.256", "10.0.0.1:99999", "bad host", "-x.example", "[fd00::1", "1.2.3", "010.0.0.1"] {
            #expect((try? NetworkAddress.parseSeed(bad).get()) == nil, "\(bad)")
        }
    }

    @Test func ipv6Forms() {
        for good in ["::1", "fd00::1", "2001:db8:0:0:0:0:2:1", "::ffff:10.0.0.1", "fe80::"] {
            #expect(NetworkAddress.isIPv6(good), "\(good)")
        }
        for bad in ["1:2:3", ":::", "2001:db8::1::2", "g::1", "1:2:3:4:5:6:7:8:9"] {
            #expect(!NetworkAddress.isIPv6(bad), "\(bad)")
        }
    }
}
