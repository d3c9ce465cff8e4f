import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// Expected instants are computed here from the published rules, with calendar
/// arithmetic of the test's own (a day count, not the library's civil algorithms).
enum KnownCalendar {
    static func isLeap(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    }

    /// Days since 1970-01-01.
    static func days(_ y: Int, _ m: Int, _ d: Int) -> Int64 {
        var n = 0
        for year in min(y, 1970)..<max(y, 1970) { n += (isLeap(year) ? 366 : 365) * (y < 1970 ? -1 : 1) }
        for month in 1..<m { n += daysInMonth(y, month) }
        return Int64(n + d - 1)
    }

    /// The instant of a UTC date and time.
    static func utc(_ y: Int, _ m: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0) -> Int64 {
        days(y, m, d) * 86_400 + Int64(h * 3600 + mi * 60)
    }

    /// The instant at which a zone `offsetHours` east of UTC reads this wall time.
    static func wall(_ y: Int, _ m: Int, _ d: Int, _ h: Int, _ mi: Int = 0, offset: Double) -> Int64 {
        utc(y, m, d, h, mi) - Int64(offset * 3600)
    }

    /// 0 = Sunday.
    static func weekday(_ y: Int, _ m: Int, _ d: Int) -> Int { Int((days(y, m, d) + 4) % 7) }

    static func lastSunday(_ y: Int, _ m: Int) -> Int {
        var d = daysInMonth(y, m)
        while weekday(y, m, d) != 0 { d -= 1 }
        return d
    }

    /// The n-th Sunday of the month (1-based).
    static func sunday(_ n: Int, _ y: Int, _ m: Int) -> Int {
        var d = 1
        while weekday(y, m, d) != 0 { d += 1 }
        return d + 7 * (n - 1)
    }
}

private func zone(_ identifier: String) throws -> TimeZoneRules {
    try TimeZoneRules(identifier: identifier)
}

/// Checks that the offset is `before` just before `at` and `after` from `at` on.
private func expectTransition(_ rules: TimeZoneRules, at: Int64, from before: Int, to after: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(rules.offset(at: at - 1) == before, "\(rules) just before \(Timestamp.iso8601(at))", sourceLocation: sourceLocation)
    #expect(rules.offset(at: at) == after, "\(rules) at \(Timestamp.iso8601(at))", sourceLocation: sourceLocation)
}

@Suite struct TimeZoneRulesTests {
    // The years cover the files' transition tables (to 2037) and, past them, their footers.
    static let years = Array(1997...2040) + [2099, 2100, 2101, 2400]

    @Test func berlinFollowsTheEURule() throws {
        // Since 1996: last Sunday of March and of October, 01:00 UTC.
        let berlin = try zone("Europe/Berlin")
        for y in Self.years {
            expectTransition(berlin, at: KnownCalendar.utc(y, 3, KnownCalendar.lastSunday(y, 3), 1), from: 3600, to: 7200)
            expectTransition(berlin, at: KnownCalendar.utc(y, 10, KnownCalendar.lastSunday(y, 10), 1), from: 7200, to: 3600)
        }
        #expect(berlin.offset(at: KnownCalendar.utc(2100, 1, 15)) == 3600)
        #expect(berlin.offset(at: KnownCalendar.utc(2100, 7, 15)) == 7200)
    }

    @Test func newYorkFollowsTheUSRule() throws {
        // Since 2007: second Sunday of March 02:00 EST, first Sunday of November 02:00 EDT.
        let newYork = try zone("America/New_York")
        for y in Array(2007...2040) + [2100, 2222] {
            expectTransition(newYork, at: KnownCalendar.wall(y, 3, KnownCalendar.sunday(2, y, 3), 2, offset: -5), from: -18_000, to: -14_400)
            expectTransition(newYork, at: KnownCalendar.wall(y, 11, KnownCalendar.sunday(1, y, 11), 2, offset: -4), from: -14_400, to: -18_000)
        }
    }

    @Test func lordHoweMovesByHalfAnHour() throws {
        // Since 2008: +10:30, and +11 from the first Sunday of October 02:00 to the first Sunday of April 02:00.
        let lordHowe = try zone("Australia/Lord_Howe")
        for y in Array(2009...2040) + [2100] {
            expectTransition(lordHowe, at: KnownCalendar.wall(y, 10, KnownCalendar.sunday(1, y, 10), 2, offset: 10.5), from: 37_800, to: 39_600)
            expectTransition(lordHowe, at: KnownCalendar.wall(y, 4, KnownCalendar.sunday(1, y, 4), 2, offset: 11), from: 39_600, to: 37_800)
        }
        // 02:00-02:30 is skipped in October; 01:30-02:00 comes twice in April.
        let y = 2025, october = KnownCalendar.sunday(1, y, 10), april = KnownCalendar.sunday(1, y, 4)
        #expect(lordHowe.instants(of: LocalDateTime(year: y, month: 10, day: october, hour: 2, minute: 15)) == [])
        #expect(lordHowe.instants(of: LocalDateTime(year: y, month: 4, day: april, hour: 1, minute: 45)) == [
            KnownCalendar.wall(y, 4, april, 1, 45, offset: 11), KnownCalendar.wall(y, 4, april, 1, 45, offset: 10.5),
        ])
    }

    @Test func kolkataIsHalfAnHourOffTheHourAllYear() throws {
        let kolkata = try zone("Asia/Kolkata")
        for t in stride(from: KnownCalendar.utc(1950, 1, 1), to: KnownCalendar.utc(2300, 1, 1), by: 86_400 * 37 + 3_607) {
            #expect(kolkata.offset(at: t) == 19_800)
        }
        let local = kolkata.local(KnownCalendar.utc(2024, 12, 31, 18, 45))
        #expect(local == LocalDateTime(year: 2025, month: 1, day: 1, hour: 0, minute: 15))
        #expect(local.weekday == 3)
        #expect(kolkata.instants(of: local) == [KnownCalendar.utc(2024, 12, 31, 18, 45)])
    }

    @Test func localTimesInGapsAndFolds() throws {
        let berlin = try zone("Europe/Berlin")
        let spring = KnownCalendar.utc(2024, 3, 31, 1)
        #expect(berlin.local(spring - 1) == LocalDateTime(year: 2024, month: 3, day: 31, hour: 1, minute: 59, second: 59))
        #expect(berlin.local(spring) == LocalDateTime(year: 2024, month: 3, day: 31, hour: 3))
        #expect(berlin.local(spring).weekday == 0)
        #expect(berlin.instants(of: LocalDateTime(year: 2024, month: 3, day: 31, hour: 2, minute: 30)) == [])
        #expect(berlin.instants(of: LocalDateTime(year: 2024, month: 3, day: 31, hour: 3)) == [spring])
        #expect(berlin.instants(of: LocalDateTime(year: 2024, month: 10, day: 27, hour: 2, minute: 30)) == [
            KnownCalendar.utc(2024, 10, 27, 0, 30), KnownCalendar.utc(2024, 10, 27, 1, 30),
        ])
        #expect(TimeZoneRules.utc.local(951_825_600) == LocalDateTime(year: 2000, month: 2, day: 29, hour: 12))
        #expect(TimeZoneRules.utc.local(-1) == LocalDateTime(year: 1969, month: 12, day: 31, hour: 23, minute: 59, second: 59))
        #expect(TimeZoneRules.utc.instants(of: LocalDateTime(year: 1600, month: 3, day: 1)) == [KnownCalendar.utc(1600, 3, 1)])
    }

    @Test func utcNeedsNoFiles() throws {
        for name in ["UTC", "Etc/UTC", "Z"] {
            let rules = try TimeZoneRules(identifier: name, zoneinfoDirectory: "/nonexistent")
            #expect(rules.identifier == name)
            #expect(rules.offset(at: 1_700_000_000) == 0)
        }
        #expect(TimeZoneRules.utc.identifier == "UTC")
    }

    @Test(arguments: [
        ("../etc/passwd", "'../etc/passwd' is not a time zone name: it contains '..'; write an IANA name such as 'Europe/Berlin' or 'UTC'"),
        ("Europe/../../etc/shadow", "'Europe/../../etc/shadow' is not a time zone name: it contains '..'; write an IANA name such as 'Europe/Berlin' or 'UTC'"),
        ("/etc/localtime", "'/etc/localtime' is not a time zone name: it is an absolute path; write an IANA name such as 'Europe/Berlin' or 'UTC'"),
        ("Europe/Berlin ", "'Europe/Berlin ' is not a time zone name: only letters, digits and / _ + - may appear in it; write an IANA name such as 'Europe/Berlin' or 'UTC'"),
        ("Europe\\Berlin", "'Europe\\Berlin' is not a time zone name: only letters, digits and / _ + - may appear in it; write an IANA name such as 'Europe/Berlin' or 'UTC'"),
        ("", "'' is not a time zone name: it is empty; write an IANA name such as 'Europe/Berlin' or 'UTC'"),
        ("Europe//Berlin", "'Europe//Berlin' is not a time zone name: it has an empty path component; write an IANA name such as 'Europe/Berlin' or 'UTC'"),
    ])
    func badIdentifiersAreRefused(identifier: String, message: String) {
        #expect(throws: TimeZoneError(code: .invalidIdentifier, identifier: identifier, message: message)) {
            try TimeZoneRules(identifier: identifier)
        }
    }

    @Test func missingZonesSuggestAName() {
        #expect(throws: TimeZoneError(code: .unknownZone, identifier: "Europe/Berln",
                                      message: "unknown time zone 'Europe/Berln': no such zone in /usr/share/zoneinfo; did you mean 'Europe/Berlin'?")) {
            try TimeZoneRules(identifier: "Europe/Berln")
        }
        #expect(throws: TimeZoneError(code: .unknownZone, identifier: "America/New_Yrok",
                                      message: "unknown time zone 'America/New_Yrok': no such zone in /usr/share/zoneinfo; did you mean 'America/New_York'?")) {
            try TimeZoneRules(identifier: "America/New_Yrok")
        }
        #expect(throws: TimeZoneError(code: .unknownZone, identifier: "Mars/Olympus_Mons",
                                      message: "unknown time zone 'Mars/Olympus_Mons': no such zone in /usr/share/zoneinfo")) {
            try TimeZoneRules(identifier: "Mars/Olympus_Mons")
        }
        #expect(throws: TimeZoneError(code: .unknownZone, identifier: "Europe/Berlin",
                                      message: "unknown time zone 'Europe/Berlin': there is no time zone data in /nonexistent (install the tzdata package)")) {
            try TimeZoneRules(identifier: "Europe/Berlin", zoneinfoDirectory: "/nonexistent")
        }
    }

    @Test func onlySmallRegularTZifFilesAreRead() throws {
        let dir = TemporaryDirectory()
        dir.write("Nowhere/Text", "not a zone\n")
        dir.write("Nowhere/Huge", "TZif2" + String(repeating: " ", count: 300 * 1024))
        _ = mkdir(dir.path + "/Nowhere/Directory", 0o755)
        #expect(mkfifo(dir.path + "/Nowhere/Pipe", 0o644) == 0)
        func message(_ name: String) -> String? {
            do { _ = try TimeZoneRules(identifier: name, zoneinfoDirectory: dir.path); return nil } catch { return error.message }
        }
        #expect(message("Nowhere/Text") == "time zone 'Nowhere/Text' cannot be used: \(dir.path)/Nowhere/Text: it is not a TZif file (no 'TZif' header)")
        #expect(message("Nowhere/Huge") == "time zone 'Nowhere/Huge' cannot be used: \(dir.path)/Nowhere/Huge is 307205 bytes, more than a zone file's 262144")
        #expect(message("Nowhere/Directory") == "time zone 'Nowhere/Directory' cannot be used: \(dir.path)/Nowhere/Directory is not a regular file")
        #expect(message("Nowhere/Pipe") == "time zone 'Nowhere/Pipe' cannot be used: \(dir.path)/Nowhere/Pipe is not a regular file")
        #expect(message("Nowhere/Txet") == "unknown time zone 'Nowhere/Txet': no such zone in \(dir.path); did you mean 'Nowhere/Text'?")
    }

    @Test func rightZonesAreRefused() throws {
        guard FileIO.exists("/usr/share/zoneinfo/right/Europe/Berlin") else { return }
        #expect(throws: TimeZoneError(code: .malformed, identifier: "right/Europe/Berlin",
                                      message: "time zone 'right/Europe/Berlin' cannot be used: /usr/share/zoneinfo/right/Europe/Berlin: it counts leap seconds (a 'right/' zone); use the zone without the 'right/' prefix")) {
            try TimeZoneRules(identifier: "right/Europe/Berlin")
        }
    }
}

// MARK: TZif versions and the footer rule

/// Writes TZif files the way zic does, so the reader is tested on each version and on
/// "slim" files whose footer carries every current rule.
struct TZifWriter {
    var version: UInt8 // 0 (version 1), "2", "3"
    var transitions: [(at: Int64, type: UInt8)] = []
    var types: [(offset: Int32, isDST: Bool)]
    var footer: String?

    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func be32(_ v: Int32) { withUnsafeBytes(of: v.bigEndian) { out += $0 } }
        func be64(_ v: Int64) { withUnsafeBytes(of: v.bigEndian) { out += $0 } }
        func block(wide: Bool) {
            out += Array("TZif".utf8) + [version] + [UInt8](repeating: 0, count: 15)
            let chars = Array("ZZZ\0".utf8)
            for n in [0, 0, 0, transitions.count, types.count, chars.count] { be32(Int32(n)) }
            for t in transitions { if wide { be64(t.at) } else { be32(Int32(clamping: t.at)) } }
            out += transitions.map(\.type)
            for type in types { be32(type.offset); out += [type.isDST ? 1 : 0, 0] }
            out += chars
        }
        block(wide: false)
        if version != 0 {
            block(wide: true)
            out += Array("\n\(footer ?? "")\n".utf8)
        }
        return out
    }

    func install(_ name: String, in dir: TemporaryDirectory) {
        let path = dir.path + "/" + name
        _ = mkdir((path as NSString).deletingLastPathComponent, 0o755)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes()))
    }
}

extension TimeZoneRulesTests {
    @Test func slimFilesFollowTheirFooter() throws {
        let dir = TemporaryDirectory()
        // Berlin as a slim v2 file: one transition into CET in 1980, the EU rule after it.
        TZifWriter(version: UInt8(ascii: "2"), transitions: [(KnownCalendar.utc(1980, 1, 1), 1)],
                   types: [(3208, false), (3600, false)], footer: "CET-1CEST,M3.5.0,M10.5.0/3").install("Slim/Berlin", in: dir)
        let slim = try TimeZoneRules(identifier: "Slim/Berlin", zoneinfoDirectory: dir.path)
        let fat = try zone("Europe/Berlin")
        var random = SeededRandom(seed: 1996)
        let range = KnownCalendar.utc(1997, 1, 1)...KnownCalendar.utc(2300, 1, 1)
        for _ in 0..<2000 {
            let t = Int64.random(in: range, using: &random)
            #expect(slim.offset(at: t) == fat.offset(at: t), "\(Timestamp.iso8601(t))")
        }
        #expect(slim.offset(at: KnownCalendar.utc(1979, 6, 1)) == 3208, "type 0 before the first transition")

        // No transitions at all: the footer governs every instant.
        TZifWriter(version: UInt8(ascii: "2"), types: [(-18_000, false)], footer: "EST5EDT,M3.2.0,M11.1.0").install("Slim/Eastern", in: dir)
        let eastern = try TimeZoneRules(identifier: "Slim/Eastern", zoneinfoDirectory: dir.path)
        expectTransition(eastern, at: KnownCalendar.wall(1985, 3, KnownCalendar.sunday(2, 1985, 3), 2, offset: -5), from: -18_000, to: -14_400)
        expectTransition(eastern, at: KnownCalendar.wall(2100, 11, KnownCalendar.sunday(1, 2100, 11), 2, offset: -4), from: -14_400, to: -18_000)
    }

    @Test func versionOneFilesKeepTheirLastOffset() throws {
        let dir = TemporaryDirectory()
        TZifWriter(version: 0, transitions: [(100_000, 1), (200_000, 2)], types: [(0, false), (3600, true), (-1800, false)])
            .install("Old/One", in: dir)
        let one = try TimeZoneRules(identifier: "Old/One", zoneinfoDirectory: dir.path)
        #expect([99_999, 100_000, 199_999, 200_000, 4_000_000_000].map { one.offset(at: $0) } == [0, 3600, 3600, -1800, -1800])
    }

    @Test func versionThreeFootersWithNegativeAndLongTimes() throws {
        let dir = TemporaryDirectory()
        // Jerusalem: Friday before the last Sunday of March at 02:00, as "Thursday + 26 hours".
        TZifWriter(version: UInt8(ascii: "3"), types: [(7200, false)], footer: "IST-2IDT,M3.4.4/26,M10.5.0").install("V3/Jerusalem", in: dir)
        // Nuuk: the EU instant, written as -1:00 and 0:00 local.
        TZifWriter(version: UInt8(ascii: "3"), types: [(-7200, false)], footer: "<-02>2<-01>,M3.5.0/-1,M10.5.0/0").install("V3/Nuuk", in: dir)
        let jerusalem = try TimeZoneRules(identifier: "V3/Jerusalem", zoneinfoDirectory: dir.path)
        let nuuk = try TimeZoneRules(identifier: "V3/Nuuk", zoneinfoDirectory: dir.path)
        for y in [2030, 2031, 2032, 2100] {
            let friday = KnownCalendar.lastSunday(y, 3) - 2
            expectTransition(jerusalem, at: KnownCalendar.wall(y, 3, friday, 2, offset: 2), from: 7200, to: 10_800)
            expectTransition(jerusalem, at: KnownCalendar.wall(y, 10, KnownCalendar.lastSunday(y, 10), 2, offset: 3), from: 10_800, to: 7200)
            expectTransition(nuuk, at: KnownCalendar.utc(y, 3, KnownCalendar.lastSunday(y, 3), 1), from: -7200, to: -3600)
            expectTransition(nuuk, at: KnownCalendar.utc(y, 10, KnownCalendar.lastSunday(y, 10), 1), from: -3600, to: -7200)
        }
        // The system's own files agree, where tzdata has them.
        if let real = try? zone("Asia/Jerusalem") {
            for y in [2040, 2100] { #expect(real.offset(at: KnownCalendar.utc(y, 8, 1)) == jerusalem.offset(at: KnownCalendar.utc(y, 8, 1))) }
        }
    }

    @Test func footerDayForms() throws {
        // Jn never counts February 29; n does.
        let julian = try #require(PosixTimeZoneRule(parsing: "XXX3YYY,J60/0,J300/0"))
        let zeroBased = try #require(PosixTimeZoneRule(parsing: "XXX3YYY,59/0,299/0"))
        for y in [2023, 2024, 2100, 2400] {
            let march1 = KnownCalendar.wall(y, 3, 1, 0, offset: -3)
            #expect(julian.offset(at: march1 - 1) == -10_800 && julian.offset(at: march1) == -7200, "J60 is March 1 in \(y)")
            let day59 = KnownCalendar.isLeap(y) ? KnownCalendar.wall(y, 2, 29, 0, offset: -3) : march1
            #expect(zeroBased.offset(at: day59 - 1) == -10_800 && zeroBased.offset(at: day59) == -7200, "day 59 in \(y)")
        }
        let tehran = try #require(PosixTimeZoneRule(parsing: "<+0330>-3:30"))
        #expect(tehran == PosixTimeZoneRule(standardOffset: 12_600, daylight: nil))
        // Daylight time all year: the end (Dec 31 25:00 EDT) meets the next start (Jan 1 00:00 EST).
        let always = try #require(PosixTimeZoneRule(parsing: "EST5EDT,0/0,J365/25"))
        for t in [KnownCalendar.utc(2030, 1, 1, 5), KnownCalendar.utc(2030, 1, 1, 4, 59), KnownCalendar.utc(2030, 7, 1)] {
            #expect(always.offset(at: t) == -14_400)
        }
        for bad in ["", "CET", "CE-1", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,J0,J100", "CET-1CEST,M3.5.0/168,M10.5.0", "<+03-3", "CET-1CEST,M3.5.0,M10.5.0x"] {
            #expect(PosixTimeZoneRule(parsing: bad) == nil, "\(bad)")
        }
    }

    /// Offsets at seeded random instants, compared with Python's zoneinfo (an
    /// independent TZif and footer reader) over the same system files.
    @Test func offsetsAgreeWithPythonZoneinfo() throws {
        let zones = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Asia/Jerusalem", "Europe/Dublin",
                     "Pacific/Chatham", "America/Santiago", "America/Nuuk", "Africa/Casablanca", "Asia/Tehran", "Antarctica/Troll"]
        var random = SeededRandom(seed: 8536)
        let range = KnownCalendar.utc(1901, 1, 1)...KnownCalendar.utc(2250, 1, 1)
        let instants = (0..<3000).map { _ in Int64.random(in: range, using: &random) }
        let dir = TemporaryDirectory()
        dir.write("instants", instants.map(String.init).joined(separator: "\n") + "\n")
        let script = dir.write("offsets.py", """
        import datetime, sys, zoneinfo
        instants = [int(line) for line in open(sys.argv[1])]
        for name in sys.argv[2:]:
            zone = zoneinfo.ZoneInfo(name)
            print(name, " ".join(str(int(datetime.datetime.fromtimestamp(t, zone).utcoffset().total_seconds())) for t in instants))

        """)
        let result = try runProcess("/usr/bin/env", ["python3", script, dir.path + "/instants"] + zones, timeout: .seconds(120))
        try #require(result.exitCode == 0, "python3: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        try #require(lines.count == zones.count)
        for line in lines {
            let fields = line.split(separator: " ")
            let rules = try zone(String(fields[0]))
            var mismatches: [String] = []
            for (t, expected) in zip(instants, fields.dropFirst()) where rules.offset(at: t) != Int(expected) {
                mismatches.append("\(Timestamp.iso8601(t)): \(rules.offset(at: t)) != \(expected)")
            }
            #expect(mismatches.isEmpty, "\(rules): \(mismatches.prefix(5))")
        }
    }
}

// MARK: schedules and windows in a zone

extension TimeZoneRulesTests {
    @Suite struct Schedules {
        let berlin: TimeZoneRules, newYork: TimeZoneRules

        init() throws {
            berlin = try zone("Europe/Berlin")
            newYork = try zone("America/New_York")
        }

        /// The next runs after `start`, each after the one before.
        func runs(_ expression: String, after start: Int64, in zone: TimeZoneRules, count: Int) throws -> [Int64] {
            let cron = try CronSchedule(parsing: expression)
            var result: [Int64] = [], t = start
            for _ in 0..<count {
                guard let next = cron.next(after: t, in: zone) else { break }
                result.append(next)
                t = next
            }
            return result
        }

        @Test func springForwardFiresOnceAtTheEndOfTheGap() throws {
            // Berlin, 2024-03-31: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
            #expect(try runs("30 2 * * *", after: KnownCalendar.utc(2024, 3, 29, 12), in: berlin, count: 3) == [
                KnownCalendar.wall(2024, 3, 30, 2, 30, offset: 1), KnownCalendar.utc(2024, 3, 31, 1), KnownCalendar.wall(2024, 4, 1, 2, 30, offset: 2),
            ])
            // Every skipped time collapses into one run, shared with 03:00 itself.
            #expect(try runs("*/20 2,3 31 3 *", after: KnownCalendar.utc(2024, 3, 30, 23), in: berlin, count: 4) == [
                KnownCalendar.utc(2024, 3, 31, 1), KnownCalendar.utc(2024, 3, 31, 1, 20), KnownCalendar.utc(2024, 3, 31, 1, 40),
                KnownCalendar.wall(2025, 3, 31, 2, 0, offset: 2),
            ])
            // New York, 2024-03-10: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
            #expect(try runs("30 2 * * *", after: KnownCalendar.utc(2024, 3, 9, 12), in: newYork, count: 3) == [
                KnownCalendar.utc(2024, 3, 10, 7), KnownCalendar.wall(2024, 3, 11, 2, 30, offset: -4), KnownCalendar.wall(2024, 3, 12, 2, 30, offset: -4),
            ])
        }

        @Test func fallBackFiresOnceAtTheFirstOccurrence() throws {
            // Berlin, 2024-10-27: 03:00 CEST goes back to 02:00 CET (01:00 UTC).
            #expect(try runs("30 2 * * *", after: KnownCalendar.utc(2024, 10, 26, 12), in: berlin, count: 2) == [
                KnownCalendar.wall(2024, 10, 27, 2, 30, offset: 2), KnownCalendar.wall(2024, 10, 28, 2, 30, offset: 1),
            ])
            // New York, 2024-11-03: 02:00 EDT goes back to 01:00 EST (06:00 UTC). Hourly runs skip the repeated hour.
            #expect(try runs("0 * * * *", after: KnownCalendar.utc(2024, 11, 3, 3, 30), in: newYork, count: 4) == [
                KnownCalendar.utc(2024, 11, 3, 4), KnownCalendar.utc(2024, 11, 3, 5), KnownCalendar.utc(2024, 11, 3, 7), KnownCalendar.utc(2024, 11, 3, 8),
            ])
            // Starting inside the second pass of the fold, its times are not run again.
            let cron = try CronSchedule(parsing: "30 1 * * *")
            #expect(cron.next(after: KnownCalendar.wall(2024, 11, 3, 1, 10, offset: -5), in: newYork) == KnownCalendar.wall(2024, 11, 4, 1, 30, offset: -5))
            #expect(cron.next(after: KnownCalendar.wall(2024, 11, 3, 1, 10, offset: -4), in: newYork) == KnownCalendar.wall(2024, 11, 3, 1, 30, offset: -4))
        }

        @Test func leapDaysAreFoundAcrossACentury() throws {
            let cron = try CronSchedule(parsing: "0 0 29 2 *")
            let clock = ContinuousClock()
            var next: Int64?
            let elapsed = clock.measure { next = cron.next(after: KnownCalendar.utc(2097, 1, 1), in: berlin) }
            #expect(next == KnownCalendar.wall(2104, 2, 29, 0, offset: 1), "2100 is not a leap year")
            #expect(elapsed < .milliseconds(50))
            #expect(cron.next(after: KnownCalendar.utc(2024, 1, 1), in: .utc) == KnownCalendar.utc(2024, 2, 29))
            #expect(try CronSchedule(parsing: "0 0 30 2 *").next(after: 0, in: berlin) == nil)
        }

        @Test func dayOfMonthOrDayOfWeekOnTheZonesCalendar() throws {
            // Both restricted: the 13th or any Friday, on New York's dates.
            #expect(try runs("0 21 13 * FRI", after: KnownCalendar.utc(2024, 9, 1), in: newYork, count: 4) == [
                KnownCalendar.wall(2024, 9, 6, 21, offset: -4), KnownCalendar.wall(2024, 9, 13, 21, offset: -4),
                KnownCalendar.wall(2024, 9, 20, 21, offset: -4), KnownCalendar.wall(2024, 9, 27, 21, offset: -4),
            ])
            #expect(try runs("0 21 13 * FRI", after: KnownCalendar.utc(2024, 10, 5, 12), in: newYork, count: 2) == [
                KnownCalendar.wall(2024, 10, 11, 21, offset: -4), KnownCalendar.wall(2024, 10, 13, 21, offset: -4),
            ])
            // Monday 01:00 in Kolkata is Sunday evening in UTC.
            let kolkata = try zone("Asia/Kolkata")
            #expect(try CronSchedule(parsing: "0 1 * * MON").next(after: KnownCalendar.utc(2024, 9, 1, 12), in: kolkata)
                    == KnownCalendar.wall(2024, 9, 2, 1, offset: 5.5))
            // Only the day of week restricted: day-of-month '*' does not widen it.
            #expect(try runs("0 0 * * SUN", after: KnownCalendar.utc(2024, 9, 1, 12), in: .utc, count: 2) == [
                KnownCalendar.utc(2024, 9, 8), KnownCalendar.utc(2024, 9, 15),
            ])
        }

        @Test func patchWindowsRunPastMidnightOnTheirOpeningDay() throws {
            let window = try PatchWindow(parsing: "FRI 23:00-01:00")
            let friday = KnownCalendar.wall(2024, 9, 6, 23, offset: -4)
            #expect(window.nextOpening(after: KnownCalendar.utc(2024, 9, 2), in: newYork) == friday)
            #expect(window.closing(of: friday, in: newYork) == friday + 7200)
            #expect(window.contains(friday, in: newYork))
            #expect(window.contains(KnownCalendar.wall(2024, 9, 7, 0, 30, offset: -4), in: newYork), "Saturday 00:30 belongs to Friday's window")
            #expect(!window.contains(friday + 7200, in: newYork), "the closing minute is outside")
            #expect(!window.contains(friday - 1, in: newYork))
            #expect(!window.contains(KnownCalendar.wall(2024, 9, 6, 0, 30, offset: -4), in: newYork), "Thursday is not listed")
            #expect(!window.contains(friday, in: berlin), "the same instant is Saturday 05:00 in Berlin")
            #expect(window.nextOpening(after: friday, in: newYork) == friday + 7 * 86_400)
        }

        @Test func patchWindowsKeepTheirWallClockSpanOnDSTDays() throws {
            let window = try PatchWindow(parsing: "SUN 01:00-03:00")
            let spring = try #require(window.nextOpening(after: KnownCalendar.utc(2024, 3, 30), in: berlin))
            #expect(spring == KnownCalendar.wall(2024, 3, 31, 1, offset: 1))
            #expect(window.closing(of: spring, in: berlin) - spring == 3600, "01:00 CET to 03:00 CEST is one hour")
            let autumn = try #require(window.nextOpening(after: KnownCalendar.utc(2024, 10, 26), in: berlin))
            #expect(autumn == KnownCalendar.wall(2024, 10, 27, 1, offset: 2))
            #expect(window.closing(of: autumn, in: berlin) - autumn == 3 * 3600, "01:00 CEST to 03:00 CET is three hours")
            #expect(window.contains(KnownCalendar.wall(2024, 10, 27, 2, 30, offset: 1), in: berlin), "the repeated hour is inside")
            #expect(window.closing(of: autumn + 3600, in: berlin) == KnownCalendar.utc(2024, 10, 27, 2), "any instant of an open window")

            // A window wholly inside the gap does not open that day; one that ends in it closes at its end.
            let skipped = try PatchWindow(parsing: "SUN 02:00-02:30")
            #expect(skipped.nextOpening(after: KnownCalendar.utc(2024, 3, 30), in: berlin) == KnownCalendar.wall(2024, 4, 7, 2, offset: 2))
            #expect(!skipped.contains(KnownCalendar.utc(2024, 3, 31, 1), in: berlin))
            let straddling = try PatchWindow(parsing: "* 02:30-03:30")
            let opening = try #require(straddling.nextOpening(after: KnownCalendar.utc(2024, 3, 30, 12), in: berlin))
            #expect(opening == KnownCalendar.utc(2024, 3, 31, 1))
            #expect(straddling.closing(of: opening, in: berlin) == KnownCalendar.utc(2024, 3, 31, 1, 30))
        }

        @Test func dayListsAndWholeDays() throws {
            let weekdays = try PatchWindow(parsing: "MON-WED,FRI 04:00-06:00")
            var openings: [Int64] = [], t = KnownCalendar.utc(2024, 9, 1) // a Sunday
            for _ in 0..<5 {
                let next = try #require(weekdays.nextOpening(after: t, in: .utc))
                openings.append(next)
                t = next
            }
            #expect(openings == [2, 3, 4, 6, 9].map { KnownCalendar.utc(2024, 9, $0, 4) })
            let always = try PatchWindow(parsing: "* 00:00-24:00")
            for hour in 0..<24 { #expect(always.contains(KnownCalendar.wall(2024, 3, 31, hour, offset: hour < 2 ? 1 : 2), in: berlin)) }
            #expect(always.closing(of: KnownCalendar.wall(2024, 3, 31, 0, offset: 1), in: berlin) == KnownCalendar.wall(2024, 4, 1, 0, offset: 2))
        }
    }
}
