import Testing
@testable import CassandraAgent

/// The scheduler's rules with plain numbers: splay, missed runs, blackouts.
struct JobSchedulingTests {
    // 2026-12-06 is a Sunday.
    let sunday0100 = Double(CivilDate.days(year: 2026, month: 12, day: 6) * 86400 + 3600)

    @Test func waitsForTheNextSlotPlusTheSplay() throws {
        let schedule = RunSchedule(cron: try CronSchedule(parsing: "0 1 * * SUN"), splaySeconds: 300)
        #expect(schedule.decide(now: sunday0100 - 7200, lastSlot: sunday0100 - 7 * 86400) == .wait(until: sunday0100 + 300, slot: sunday0100))
        #expect(schedule.decide(now: sunday0100 + 299, lastSlot: sunday0100 - 7 * 86400) == .wait(until: sunday0100 + 300, slot: sunday0100))
        #expect(schedule.decide(now: sunday0100 + 300, lastSlot: sunday0100 - 7 * 86400) == .run(slot: sunday0100, missed: false))
        // Once handled, the same slot never runs again.
        #expect(schedule.decide(now: sunday0100 + 400, lastSlot: sunday0100) == .wait(until: sunday0100 + 7 * 86400 + 300, slot: sunday0100 + 7 * 86400))
    }

    @Test func aMissedSlotRunsOnceWithinTheGraceAndNotAfter() throws {
        let daily = RunSchedule(cron: try CronSchedule(parsing: "0 1 * * *"), missedRunGrace: 6 * 3600)
        // Down from before Sunday 01:00 until 03:00: the 01:00 slot runs once, marked missed.
        #expect(daily.decide(now: sunday0100 + 2 * 3600, lastSlot: sunday0100 - 86400) == .run(slot: sunday0100, missed: true))
        // Down for three days: only the latest slot counts, not one run per missed day.
        #expect(daily.decide(now: sunday0100 + 3 * 3600, lastSlot: sunday0100 - 3 * 86400) == .run(slot: sunday0100, missed: true))
        // Back after the grace: nothing runs now; the next slot is awaited.
        #expect(daily.decide(now: sunday0100 + 7 * 3600, lastSlot: sunday0100 - 86400) == .wait(until: sunday0100 + 86400, slot: sunday0100 + 86400))
        // A first start never runs a slot from before it.
        #expect(daily.decide(now: sunday0100 + 60, lastSlot: nil) == .wait(until: sunday0100 + 86400, slot: sunday0100 + 86400))
    }

    @Test func splayIsStablePerHostSpreadAcrossHostsAndBounded() throws {
        let cron = try CronSchedule(parsing: "0 1 * * SUN")
        let hosts = (0..<200).map { "host-\($0)-2a0f6c5e-91d4-4b7a-8f1e-3c6d9b2e7a41" }
        let offsets = hosts.map { Splay.offset(hostID: $0, kind: .repair, window: 1800, cron: cron, zone: .utc, now: sunday0100) }
        #expect(offsets == hosts.map { Splay.offset(hostID: $0, kind: .repair, window: 1800, cron: cron, zone: .utc, now: sunday0100) })
        #expect(offsets.allSatisfy { (0..<1800).contains($0) })
        #expect(Set(offsets).count > 180)
        // Spread over the window: each sixth of it holds some hosts.
        #expect(Set(offsets.map { $0 / 300 }).count == 6)
        // Never more than half the period: every 10 minutes gives at most 300 s.
        let often = try CronSchedule(parsing: "*/10 * * * *")
        #expect(hosts.map { Splay.offset(hostID: $0, kind: .repair, window: 1800, cron: often, zone: .utc, now: sunday0100) }.allSatisfy { $0 < 300 })
    }

    @Test func blackoutsWeeklyAndOneOff() throws {
        let weekly = try Blackout(parsing: "SAT 18:00-23:59")
        let saturday = Double(CivilDate.days(year: 2026, month: 12, day: 5) * 86400)
        #expect(weekly.end(ifActiveAt: Int64(saturday + 18 * 3600)) == Int64(saturday + 23 * 3600 + 59 * 60))
        #expect(weekly.end(ifActiveAt: Int64(saturday + 17 * 3600)) == nil)
        let once = try Blackout(parsing: "2026-12-24T00:00Z/2026-12-27T00:00Z")
        let christmas = Int64(CivilDate.days(year: 2026, month: 12, day: 25) * 86400)
        #expect(once.end(ifActiveAt: christmas) == Int64(CivilDate.days(year: 2026, month: 12, day: 27) * 86400))
        #expect(once.end(ifActiveAt: christmas + 3 * 86400) == nil)
        let offset = try Blackout(parsing: "2026-12-24T01:00+01:00/2026-12-24T02:00+01:00")
        #expect(offset.span == .once(start: Int64(CivilDate.days(year: 2026, month: 12, day: 24) * 86400), end: Int64(CivilDate.days(year: 2026, month: 12, day: 24) * 86400 + 3600)))
        #expect(BlackoutCheck.activeUntil([weekly, once], at: Double(christmas))?.entry == "2026-12-24T00:00Z/2026-12-27T00:00Z")
    }

    @Test func desiredStateErrorsForJobKeysCarryTheirLines() {
        let text = desiredState(version: "3.11", extra: """
        blackouts:
          - "SAT 18:00-23:59"
          - "2026-12-27T00:00Z/2026-12-24T00:00Z"
          - "someday"
        repair:
          enabled: true
          schedule: "0 1 * * SUN"
          type: incremental
          intensity: 2
          segmentTimeout: 30x
          timeZone: Mars/Olympus

        """)
        let found = errors(text)
        #expect(found.contains { $0.hasPrefix("13:5: blackouts: the blackout '2026-12-27T00:00Z/2026-12-24T00:00Z' ends before it starts") })
        #expect(found.contains { $0.hasPrefix("14:5: blackouts:") })
        #expect(found.contains("18:9: repair.type incremental is refused on Cassandra 3.11: its incremental repair is unsafe before 4.0 (CASSANDRA-9143); use primary-range or full"))
        #expect(found.contains { $0.hasPrefix("19:14: repair.intensity must be a number with 0 < intensity <= 1") })
        #expect(found.contains { $0.hasPrefix("20:19: repair.segmentTimeout '30x' is not a duration") })
        #expect(found.contains { $0.hasPrefix("21:13: repair.timeZone:") })
        #expect(errors(desiredState(version: "4.1", extra: "repair:\n  enabled: true\n  schedule: \"0 1 * * SUN\"\n  type: incremental\n  segmentsPerNode: 64\n")).isEmpty)
        #expect(errors(desiredState(version: "3.11", extra: "repair:\n  enabled: true\n  schedule: \"0 1 * * SUN\"\n  segmentsPerNode: 64\n")).first?.contains("needs repair.keyspaces") == true)
    }
}
