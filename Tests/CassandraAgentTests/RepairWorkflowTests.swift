import Testing
@testable import CassandraAgent

/// The repair state machine alone: events in, actions out, no process, disk or clock.
struct RepairWorkflowTests {
    func plan(_ count: Int, kind: DesiredState.Repair.Kind = .full) -> RepairPlan {
        var segments: [RepairSegment] = []
        for i in 0..<count {
            let start = String(i * 10), end = String(i * 10 + 10)
            segments.append(RepairSegment(keyspace: "shop", start: start, end: end, replicas: ["10.0.0.1", "10.0.0.2"]))
        }
        return RepairPlan(kind: kind, segments: segments)
    }

    func settings(_ change: (inout RepairWorkflow.Settings) -> Void = { _ in }) -> RepairWorkflow.Settings {
        var s = RepairWorkflow.Settings()
        change(&s)
        return s
    }

    /// Drives the machine through one segment's happy path from a gate check.
    mutating func segment(_ w: inout RepairWorkflow, at now: Double, took: Double) -> RepairWorkflow.Action? {
        guard case .checkBackPressure = w.handle(.gate(.open, now: now)) else { return nil }
        guard case .repair = w.handle(.backPressure(pendingCompactions: 0, downReplicas: [], now: now)) else { return nil }
        return w.handle(.repairEnded(.succeeded, now: now + took))
    }

    @Test mutating func repairsEverySegmentWithTheTypesFlagsAndSucceeds() {
        var w = RepairWorkflow(plan: plan(2), settings: settings())
        #expect(w.start() == .checkGate)
        #expect(w.handle(.gate(.open, now: 0)) == .checkBackPressure(w.plan.segments[0]))
        #expect(w.handle(.backPressure(pendingCompactions: 0, downReplicas: [], now: 0))
                == .repair(w.plan.segments[0], arguments: ["repair", "-full", "-st", "0", "-et", "10", "shop"], timeout: 1800))
        #expect(w.handle(.repairEnded(.succeeded, now: 5)) == .checkGate)
        #expect(segment(&w, at: 5, took: 5) == .checkGate)
        #expect(w.handle(.gate(.open, now: 10)) == .finish(.succeeded, reason: "repaired 2 segment(s) of shop"))
        #expect(w.done == 2 && w.segmentSeconds == [5, 5])
    }

    @Test func primaryRangeFlagsPerSegmentKind() {
        let whole = RepairSegment(keyspace: "shop", start: nil, end: nil, replicas: [])
        #expect(whole.arguments(kind: .primaryRange) == ["repair", "-pr", "-full", "shop"])
        #expect(whole.arguments(kind: .incremental) == ["repair", "shop"])
        let sub = RepairSegment(keyspace: "shop", start: "-5", end: "7", replicas: [])
        #expect(sub.arguments(kind: .primaryRange) == ["repair", "-full", "-st", "-5", "-et", "7", "shop"])
        #expect(RepairSegment(keyspace: "", start: nil, end: nil, replicas: []).arguments(kind: .full) == ["repair", "-full"])
    }

    @Test mutating func intensityPausesInProportionToTheSegmentsTime() {
        var w = RepairWorkflow(plan: plan(2), settings: settings { $0.intensity = 0.25 })
        _ = w.start()
        // 10 s of repair at intensity 0.25: pause 10/0.25 - 10 = 30 s.
        #expect(segment(&w, at: 100, took: 10) == .wait(until: 140))
        #expect(w.handle(.timer(now: 140)) == .checkGate)
    }

    @Test func failuresAreRetriedWithDoublingBackoffThenTheRunFails() {
        var w = RepairWorkflow(plan: plan(1), settings: settings { $0.retries = 2; $0.retryBackoff = 60 })
        _ = w.start()
        var now = 0.0
        var waits: [Double] = []
        for _ in 0..<3 {
            _ = w.handle(.gate(.open, now: now))
            _ = w.handle(.backPressure(pendingCompactions: 0, downReplicas: [], now: now))
            let next = w.handle(.repairEnded(.failed("Repair session failed: injected fault", timedOut: false), now: now + 1))
            if case .wait(let until) = next {
                waits.append(until - (now + 1))
                now = until
                #expect(w.handle(.timer(now: now)) == .checkGate)
            } else {
                #expect(next == .checkGate)
            }
        }
        #expect(waits == [60, 120])
        guard case .finish(.failed, let reason) = w.handle(.gate(.open, now: now)) else { Issue.record("expected a failed finish"); return }
        #expect(reason.contains("1 of 1 segment(s) failed after 2 retries"))
        #expect(reason.contains("injected fault"))
    }

    @Test func aTimeoutStopsTheRepairInsideCassandraBeforeRetrying() {
        var w = RepairWorkflow(plan: plan(1), settings: settings { $0.retries = 0 })
        _ = w.start()
        _ = w.handle(.gate(.open, now: 0))
        _ = w.handle(.backPressure(pendingCompactions: 0, downReplicas: [], now: 0))
        #expect(w.handle(.repairEnded(.failed("timed out", timedOut: true), now: 1800)) == .stopServerSide(w.plan.segments[0]))
        #expect(w.handle(.serverSideStopped(ok: false, detail: "the repair may still be running inside Cassandra", now: 1801)) == .checkGate)
        guard case .finish(.failed, let reason) = w.handle(.gate(.open, now: 1801)) else { Issue.record("expected failure"); return }
        #expect(reason.hasSuffix("the repair may still be running inside Cassandra"))
        #expect(w.serverSideWarning != nil)
    }

    @Test func backPressurePostponesWithItsReasonAndSkipsPastTheLimit() {
        var w = RepairWorkflow(plan: plan(1), settings: settings { $0.maxPendingCompactions = 20; $0.pollInterval = 60; $0.postponeLimit = 120 })
        _ = w.start()
        _ = w.handle(.gate(.open, now: 0))
        #expect(w.handle(.backPressure(pendingCompactions: 37, downReplicas: [], now: 0)) == .wait(until: 60))
        #expect(w.progress().postponed == "37 compactions are pending, more than repair.maxPendingCompactions (20)")
        _ = w.handle(.timer(now: 60))
        _ = w.handle(.gate(.open, now: 60))
        #expect(w.handle(.backPressure(pendingCompactions: 0, downReplicas: ["10.0.0.2"], now: 60)) == .wait(until: 120))
        #expect(w.progress().postponed?.contains("is down (10.0.0.2)") == true)
        #expect(w.progress().postponedSince == 0)
        _ = w.handle(.timer(now: 120))
        _ = w.handle(.gate(.open, now: 120))
        #expect(w.handle(.backPressure(pendingCompactions: 0, downReplicas: ["10.0.0.2"], now: 120)) == .checkGate)
        #expect(w.postponements == ["pending_compactions": 1, "replica_down": 2])
        guard case .finish(.skipped, let reason) = w.handle(.gate(.open, now: 120)) else { Issue.record("expected skipped"); return }
        #expect(reason.contains("postponed past repair.postponeLimit"))
    }

    @Test func aBlackoutPausesAtTheStepBoundaryAndResumesAfter() {
        var w = RepairWorkflow(plan: plan(2), settings: settings())
        _ = w.start()
        _ = w.handle(.gate(.open, now: 0))
        _ = w.handle(.backPressure(pendingCompactions: 0, downReplicas: [], now: 0))
        #expect(w.handle(.repairEnded(.succeeded, now: 5)) == .checkGate)
        #expect(w.handle(.gate(.blackout(until: 3600, entry: "SAT 18:00-23:59"), now: 5)) == .wait(until: 3600))
        #expect(w.progress().step.hasPrefix("paused by the blackout SAT 18:00-23:59"))
        #expect(w.handle(.timer(now: 3600)) == .checkGate)
        #expect(w.handle(.gate(.open, now: 3600)) == .checkBackPressure(w.plan.segments[1]))
    }

    @Test func disablingOrCancellingStopsAtTheNextBoundary() {
        var w = RepairWorkflow(plan: plan(3), settings: settings())
        _ = w.start()
        guard case .finish(.cancelled, let reason) = w.handle(.gate(.disabled, now: 0)) else { Issue.record("expected cancelled"); return }
        #expect(reason.contains("repair.enabled: false"))
        var c = RepairWorkflow(plan: plan(3), settings: settings())
        _ = c.start()
        _ = c.handle(.gate(.open, now: 0))
        _ = c.handle(.backPressure(pendingCompactions: 0, downReplicas: [], now: 0))
        // Cancelled while nodetool ran: what it started inside Cassandra is stopped, then the run ends.
        #expect(c.handle(.repairEnded(.cancelled, now: 1)) == .stopServerSide(c.plan.segments[0]))
        guard case .finish(.cancelled, _) = c.handle(.serverSideStopped(ok: true, detail: "", now: 1)) else { Issue.record("expected cancelled"); return }
    }

    @Test func aResumedRunStartsAtItsJournalledSegment() {
        var w = RepairWorkflow(plan: plan(4), settings: settings(), resumeAt: 2)
        _ = w.start()
        #expect(w.handle(.gate(.open, now: 0)) == .checkBackPressure(w.plan.segments[2]))
        #expect(w.progress().segment == 3 && w.progress().segments == 4 && w.progress().resumeAt == 2)
    }

    @Test func eventsOutOfPhaseAreIgnored() {
        var w = RepairWorkflow(plan: plan(1), settings: settings())
        _ = w.start()
        #expect(w.handle(.timer(now: 5)) == nil)
        #expect(w.phase == .gating)
    }

    @Test func subrangesCoverEachRangeExactlyAndWrapAround() throws {
        let ranges = [
            NodetoolDescribeRing.Range(start: "9000000000000000000", end: "-9000000000000000000", endpoints: ["a", "b"], rpcEndpoints: [], details: []),
            NodetoolDescribeRing.Range(start: "0", end: "1000", endpoints: ["a", "c"], rpcEndpoints: [], details: []),
        ]
        let ring = NodetoolDescribeRing(schemaVersion: "x", ranges: ranges)
        let plan = try RepairPlan.make(kind: .full, rings: [("shop", ring)], me: "a", segmentsPerNode: 8)
        // Contiguous pieces: each one starts where the last ended, from each range's start to its end.
        let wrap = plan.segments.filter { $0.replicas == ["a", "b"] }
        #expect(wrap.first?.start == "9000000000000000000" && wrap.last?.end == "-9000000000000000000")
        for (a, b) in zip(wrap, wrap.dropFirst()) { #expect(a.end == b.start) }
        #expect(plan.segments.count >= 2)
        #expect(try RepairPlan.make(kind: .primaryRange, rings: [("shop", ring)], me: "c", segmentsPerNode: 0).segments.isEmpty)
        #expect(try RepairPlan.make(kind: .full, rings: [("shop", ring)], me: "c", segmentsPerNode: 0).segments == [RepairSegment(keyspace: "shop", start: nil, end: nil, replicas: ["a", "c"])])
    }
}
