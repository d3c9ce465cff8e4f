import Testing
@testable import CassandraAgent

/// The turn-taking decision and one node's turn, alone: no process, disk or clock.
struct RackTurnTests {
    func peer(_ address: String, _ rack: String, dc: String = "dc1", up: Bool = true, since: Double? = 0, generation: Int = 50) -> RackTurn.Peer {
        RackTurn.Peer(address: address, rack: .init(datacenter: dc, rack: rack), up: up, upSince: up ? since : nil, generation: generation)
    }

    @Test func racksGoInDatacenterThenRackOrder() {
        let peers = [peer("a", "r2"), peer("b", "r1", dc: "dc2"), peer("c", "r1"), peer("d", "r10")]
        #expect(RackTurn.order(peers).map(\.description) == ["dc1/r1", "dc1/r10", "dc1/r2", "dc2/r1"])
    }

    @Test func theFirstRackGoesOnceEveryoneElseIsSettled() {
        let peers = [peer("a", "r1"), peer("b", "r2", since: 70), peer("c", "r3")]
        #expect(RackTurn.decide(me: "a", peers: peers, windowStart: 100, now: 90, settle: 30)
                == .wait("settling: b is UN since 1970-01-01T00:01:10Z; the rack goes 30s after", until: 100, heldBy: nil))
        #expect(RackTurn.decide(me: "a", peers: peers, windowStart: 100, now: 100, settle: 30) == .go)
        // The second rack waits for the first to restart in this window.
        guard case .wait(let reason, nil, nil) = RackTurn.decide(me: "b", peers: peers, windowStart: 100, now: 200, settle: 30) else {
            Issue.record("rack 2 must wait"); return
        }
        #expect(reason == "rack dc1/r1 has the turn: a has not restarted in this window yet")
    }

    @Test func aRestartedRackLetsTheNextGoAndItsNodesAreDone() {
        let peers = [peer("a", "r1", since: 150, generation: 140), peer("b", "r2"), peer("c", "r3")]
        #expect(RackTurn.decide(me: "a", peers: peers, windowStart: 100, now: 200, settle: 30) == .done)
        #expect(RackTurn.decide(me: "b", peers: peers, windowStart: 100, now: 200, settle: 30) == .go)
        #expect(RackTurn.decide(me: "c", peers: peers, windowStart: 100, now: 200, settle: 30)
                == .wait("rack dc1/r2 has the turn: b has not restarted in this window yet", until: nil, heldBy: nil))
    }

    @Test func aDownNodeAnywhereElseHoldsTheRackAndIsNamed() {
        let peers = [peer("a", "r1", up: false, generation: 140), peer("b", "r2"), peer("c", "r3")]
        #expect(RackTurn.decide(me: "b", peers: peers, windowStart: 100, now: 200, settle: 30)
                == .wait("a (rack dc1/r1) is down as this node sees it; the window waits until it is back", until: nil, heldBy: "a"))
        // A down node of one's own rack does not hold it.
        let own = [peer("a", "r1"), peer("a2", "r1", up: false), peer("b", "r2")]
        #expect(RackTurn.decide(me: "a", peers: own, windowStart: 100, now: 200, settle: 30) == .go)
    }

    @Test func upSinceIsTrackedAcrossViewsAndResetByADownView() {
        var tracker = RackTurn.UpTracker()
        tracker.observe(["a": true, "b": true], now: 10)
        tracker.observe(["a": true, "b": false], now: 20)
        tracker.observe(["a": true, "b": true], now: 30)
        #expect(tracker.upSince == ["a": 10, "b": 30])
    }

    @Test func theQuorumGateNamesTheKeyspaceThatWouldLoseLocalQuorum() {
        let rf3 = QuorumGate.Ring(keyspace: "shop", ranges: [[("a", "dc1"), ("b", "dc1"), ("c", "dc1")]])
        let rf2 = QuorumGate.Ring(keyspace: "cart", ranges: [[("a", "dc1"), ("b", "dc1")]])
        #expect(QuorumGate.refusal([rf3], down: ["a"]) == nil)
        #expect(QuorumGate.refusal([rf3], down: ["a", "b"]) != nil)
        #expect(QuorumGate.refusal([rf3, rf2], down: ["a"])
                == "keyspace cart would lose LOCAL_QUORUM in dc1: 1 of 2 replica(s) of a range stay up with this rack down, 2 needed")
    }
}

struct PatchTurnTests {
    func settings(_ change: (inout PatchTurn.Settings) -> Void = { _ in }) -> PatchTurn.Settings {
        var s = PatchTurn.Settings()
        s.reboot = .never
        change(&s)
        return s
    }

    @Test func aTurnDrainsStopsPatchesStartsAndWaitsUntilPeersSeeItUp() {
        var t = PatchTurn(windowStart: 0, settings: settings())
        #expect(t.start(now: 0) == .decide)
        #expect(t.handle(.turn(.wait("rack r1", until: nil, heldBy: nil), windowOpen: true, preCheck: nil, now: 1)) == .wait(until: 6))
        #expect(t.handle(.timer(now: 6)) == .decide)
        #expect(t.handle(.turn(.go, windowOpen: true, preCheck: nil, now: 6)) == .probeDrained)
        #expect(t.journal.step == .drain)
        #expect(t.handle(.drainProbe(drained: false, unitActive: true, now: 6)) == .drain(timeout: 600))
        #expect(t.handle(.ended(.drain, failure: nil, now: 8)) == .stop(timeout: 300))
        #expect(t.handle(.ended(.stop, failure: nil, now: 9)) == .patch(timeout: 3600))
        #expect(t.handle(.ended(.patch, failure: nil, now: 20)) == .start(timeout: 300))
        #expect(t.handle(.ended(.start, failure: nil, now: 25)) == .checkUp)
        #expect(t.handle(.upCheck(missing: "peers see it DN", now: 26)) == .wait(until: 31))
        #expect(t.handle(.timer(now: 31)) == .checkUp)
        #expect(t.handle(.upCheck(missing: nil, now: 31)) == .finish(.succeeded, reason: "drained, stopped, patched and started; the node is UN to its peers"))
    }

    @Test func rebootIfRequiredAsksAndAlwaysReboots() {
        var t = PatchTurn(windowStart: 0, settings: settings { $0.reboot = .ifRequired })
        _ = t.start(now: 0)
        _ = t.handle(.turn(.go, windowOpen: true, preCheck: nil, now: 0))
        _ = t.handle(.drainProbe(drained: false, unitActive: true, now: 0))
        _ = t.handle(.ended(.drain, failure: nil, now: 0))
        _ = t.handle(.ended(.stop, failure: nil, now: 0))
        #expect(t.handle(.ended(.patch, failure: nil, now: 0)) == .checkRebootRequired)
        #expect(t.handle(.rebootRequired(true, now: 0)) == .reboot)
        // The host rebooted: a machine made from the journal starts the unit.
        var resumed = PatchTurn(resuming: t.journal, settings: t.settings)
        #expect(resumed.start(now: 100) == .start(timeout: 300))
    }

    @Test func aResumedTurnNeverDrainsOrPatchesTwice() {
        var journal = PatchTurn.Journal(windowStart: 0, step: .drain)
        var t = PatchTurn(resuming: journal, settings: settings())
        #expect(t.start(now: 0) == .probeDrained)
        #expect(t.handle(.drainProbe(drained: true, unitActive: true, now: 0)) == .stop(timeout: 300))
        journal.step = .patch
        t = PatchTurn(resuming: journal, settings: settings())
        #expect(t.start(now: 0) == .start(timeout: 300))
        #expect(t.journal.patched && t.journal.notes == ["the patch command was cut short by a stop of the agent and is not run again"])
    }

    @Test func aFailedStartHaltsUnlessAConfigChangeCanBeRolledBack() {
        func toStart(_ pending: Bool) -> PatchTurn {
            var t = PatchTurn(resuming: .init(windowStart: 0, step: .start), settings: settings())
            var j = t.journal
            j.configPending = pending
            t = PatchTurn(resuming: j, settings: settings())
            _ = t.start(now: 0)
            return t
        }
        var plain = toStart(false)
        #expect(plain.handle(.ended(.start, failure: "exit 1", now: 0))
                == .finish(.failed, reason: "the node did not start: exit 1; it stays down and the window is halted for the cluster"))
        var config = toStart(true)
        #expect(config.handle(.ended(.start, failure: "exit 1", now: 0)) == .rollback)
        #expect(config.handle(.ended(.rollback, failure: nil, now: 0)) == .start(timeout: 300))
        #expect(config.handle(.ended(.start, failure: nil, now: 1)) == .checkUp)
        guard case .finish(.succeeded, let reason)? = config.handle(.upCheck(missing: nil, now: 2)) else { Issue.record("not finished"); return }
        #expect(reason.contains("the previous generation of the config files was put back and the node started again"))
    }

    @Test func aNodeThatDoesNotComeBackInTimeHaltsTheWindow() {
        var t = PatchTurn(resuming: .init(windowStart: 0, step: .waitUp), settings: settings { $0.upTimeout = 60 })
        #expect(t.start(now: 0) == .checkUp)
        #expect(t.handle(.upCheck(missing: "peers see it DN", now: 59)) == .wait(until: 64))
        _ = t.handle(.timer(now: 64))
        #expect(t.handle(.upCheck(missing: "peers see it DN", now: 64))
                == .finish(.failed, reason: "the node did not come back within 1m: peers see it DN; the window is halted for the cluster"))
    }

    @Test func aClosedWindowStartsNoTurnAndAnOwnRestartSkipsIt() {
        var t = PatchTurn(windowStart: 0, settings: settings())
        _ = t.start(now: 0)
        #expect(t.handle(.turn(.go, windowOpen: false, preCheck: nil, now: 0)) == .finish(.skipped, reason: "the window closed before this rack's turn"))
        var own = PatchTurn(windowStart: 0, settings: settings())
        _ = own.start(now: 0)
        guard case .finish(.skipped, _)? = own.handle(.turn(.done, windowOpen: true, preCheck: nil, now: 0)) else { Issue.record("not skipped"); return }
    }
}

struct PatchSettingsTests {
    func patching(_ extra: String) throws -> DesiredState.Patching {
        let text = desiredState(extra: """
        patching:
          enabled: true
          window: "SUN 04:00-06:00"
          command: ["/usr/bin/apt-get", "-y", "upgrade"]
        \(extra)
        """)
        guard case .success(let validated) = validate(text), let patching = validated.state.patching else {
            throw SimulationLikeError(errors(text).joined(separator: "\n"))
        }
        return patching
    }

    struct SimulationLikeError: Error { let text: String; init(_ text: String) { self.text = text } }

    @Test func stepTimeoutsSettleRebootCommandAndTheQuorumGateAreRead() throws {
        let p = try patching("""
          timeZone: Europe/Berlin
          reboot: always
          drainTimeout: 2m
          upTimeout: 20m
          settle: 45s
          rebootCommand: ["/sbin/shutdown", "-r", "now"]
          localQuorumGate: true
        """)
        #expect(p.turn.drainTimeout == 120 && p.turn.upTimeout == 1200 && p.turn.settle == 45 && p.turn.reboot == .always)
        #expect(p.rebootCommand == ["/sbin/shutdown", "-r", "now"] && p.localQuorumGate)
        #expect(p.timeZone.identifier == "Europe/Berlin")
        let bad = errors(desiredState(extra: "patching:\n  enabled: true\n  window: \"SUN 04:00-06:00\"\n  command: [\"/bin/true\"]\n  settle: soon\n"))
        #expect(bad.count == 1 && bad[0].hasSuffix(": patching.settle 'soon' is not a duration: a whole number and a unit ms, s, m, h or d (e.g. 10m)"), "\(bad)")
    }

    @Test func underSystemdThePatchCommandRunsOutsideTheSandboxThroughSystemdRun() throws {
        let p = try patching("")
        #expect(PatchService.commandLine(p, environment: [:], runID: "patching-1") == ["/usr/bin/apt-get", "-y", "upgrade"])
        #expect(PatchService.commandLine(p, environment: ["INVOCATION_ID": "abc"], runID: "patching-1")
                == ["/usr/bin/systemd-run", "--wait", "--pipe", "--collect", "--quiet", "--unit=cassandra-agent-patching-1", "--", "/usr/bin/apt-get", "-y", "upgrade"])
        let direct = try patching("  commandPrefix: []\n")
        #expect(PatchService.commandLine(direct, environment: ["NOTIFY_SOCKET": "/run/x"], runID: "r") == ["/usr/bin/apt-get", "-y", "upgrade"])
    }

    @Test func theOpenWindowIsFoundWithItsOpeningAndClosing() throws {
        let window = try PatchWindow(parsing: "SUN 04:00-06:00")
        let sunday = Double(CivilDate.days(year: 2026, month: 12, day: 6) * 86400)
        let open = PatchService.openWindow(window, zone: .utc, at: sunday + 5 * 3600)
        #expect(open?.start == sunday + 4 * 3600 && open?.end == sunday + 6 * 3600)
        #expect(PatchService.openWindow(window, zone: .utc, at: sunday + 7 * 3600) == nil)
    }
}
