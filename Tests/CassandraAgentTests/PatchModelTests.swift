import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// The pure model of a patch window: every node's `PatchTurn` driven over a
/// simulated gossip with delays, no process, disk or clock. Time jumps from one
/// event to the next. Faults: slow starts, failed starts, nodes down before the
/// window, agents killed at every step (resumed from their journal), a window
/// closing mid-rack.
struct PatchModel {
    struct Node {
        var address: String
        var rack: RackTurn.Rack
        // Cassandra
        var running = true
        var drained = false
        var generation = -100
        var previousGeneration = -100
        /// When the node became UN to itself (start + its start time), and to peers (+ gossip delay).
        var upAt = -1_000.0
        var downAt: Double?
        var startTime = 10.0
        var failStart = false
        var downBefore = false
        // Agent
        var alive = true
        var restartAt: Double?
        var journal: PatchTurn.Journal?
        var machine: PatchTurn?
        var tracker = RackTurn.UpTracker()
        var action: PatchTurn.Action?
        var wakeAt = 0.0
        var killAtStep: PatchTurn.Step?
        var killed = false
        // Counters
        var drains = 0
        var patches = 0
        var drainStarts: [Double] = []
        var result: (JobResult, String)?
    }

    var nodes: [Node] = []
    var now = 0.0
    let delay: Double
    let settings: PatchTurn.Settings
    let windowStart = 0.0
    var windowClose: Double
    var random: SeededRandom
    var maxRacksDown = 0
    var log: [String] = []

    init(seed: UInt64) {
        random = SeededRandom(seed: seed)
        delay = Double(1 + random.next() % 8)
        var s = PatchTurn.Settings()
        s.settle = delay + Double(random.next() % 10)
        s.pollInterval = 5
        s.drainTimeout = 60
        s.stopTimeout = 30
        s.patchTimeout = 120
        s.startTimeout = 60
        s.upTimeout = 240
        s.reboot = [.never, .ifRequired, .always][Int(random.next() % 3)]
        settings = s
        windowClose = .infinity
        let dcs = 1 + Int(random.next() % 2), racks = 2 + Int(random.next() % 3), perRack = 1 + Int(random.next() % 2)
        for d in 0..<dcs {
            for r in 0..<racks {
                for n in 0..<perRack {
                    var node = Node(address: "10.\(d).\(r).\(n)", rack: .init(datacenter: "dc\(d + 1)", rack: "rack\(r + 1)"))
                    node.startTime = Double(5 + random.next() % 20)
                    nodes.append(node)
                }
            }
        }
    }

    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    // MARK: what a node sees

    func seenUp(_ target: Node, by observer: Node) -> Bool {
        guard !target.downBefore else { return false }
        if target.address == observer.address { return target.running && !target.drained && now >= target.upAt }
        if target.running && !target.drained { return now >= target.upAt + delay }
        // Went down: peers notice after the gossip delay.
        return now < (target.downAt ?? -.infinity) + delay
    }

    func seenGeneration(_ target: Node, by observer: Node) -> Int {
        if target.address == observer.address { return target.generation }
        return now >= target.upAt + delay ? target.generation : target.previousGeneration
    }

    func racksDown() -> Int {
        Set(nodes.filter { !$0.running || $0.drained || $0.downBefore || now < $0.upAt }.map(\.rack)).count
    }

    // MARK: driving

    mutating func run(until limit: Double) {
        for i in nodes.indices {
            nodes[i].machine = PatchTurn(windowStart: windowStart, settings: settings)
            nodes[i].action = nodes[i].machine!.start(now: 0)
            nodes[i].wakeAt = Double(random.next() % 3)
        }
        var failedAt: Double?
        while now < min(limit, (failedAt ?? .infinity) + 150), nodes.contains(where: { $0.result == nil }) {
            if failedAt == nil, nodes.contains(where: { $0.result?.0 == .failed }) { failedAt = now }
            let next = nodes.flatMap { [$0.alive && $0.result == nil ? $0.wakeAt : .infinity, $0.restartAt ?? .infinity] }.min() ?? .infinity
            guard next < .infinity else { break }
            now = max(now, next)
            for i in nodes.indices {
                if let at = nodes[i].restartAt, at <= now { restartAgent(i) }
                if nodes[i].alive, nodes[i].result == nil, nodes[i].wakeAt <= now { step(i) }
            }
            maxRacksDown = max(maxRacksDown, racksDown())
        }
    }

    mutating func restartAgent(_ i: Int) {
        nodes[i].restartAt = nil
        nodes[i].alive = true
        nodes[i].tracker = RackTurn.UpTracker()
        if let journal = nodes[i].journal {
            nodes[i].machine = PatchTurn(resuming: journal, settings: settings)
        } else {
            nodes[i].machine = PatchTurn(windowStart: windowStart, settings: settings)
        }
        nodes[i].action = nodes[i].machine!.start(now: now)
        nodes[i].wakeAt = now
    }

    /// The agent dies before the step's action (the journal already says the step).
    mutating func kill(_ i: Int, midway: Bool) {
        nodes[i].alive = false
        nodes[i].killed = true
        nodes[i].killAtStep = nil
        nodes[i].machine = nil
        nodes[i].restartAt = now + Double(1 + random.next() % 20)
        log.append("\(now) kill \(nodes[i].address) midway=\(midway)")
    }

    mutating func step(_ i: Int) {
        guard var machine = nodes[i].machine, let action = nodes[i].action else { return }
        // The service journals the step before performing it.
        nodes[i].journal = machine.journal
        if let target = nodes[i].killAtStep, machine.step == target, action != .decide, !isWait(action) {
            // Killed while the step's command runs: maybe its effect happened, maybe not.
            // A drain goes on inside Cassandra, a patch under systemd-run outlives the agent; a stop or start may or may not have happened.
            if machine.step == .patch || chance(50) { _ = perform(i, action) }
            kill(i, midway: true)
            return
        }
        let (event, after) = perform(i, action)
        guard let event else {
            nodes[i].wakeAt = after
            return
        }
        nodes[i].wakeAt = after
        let following = machine.handle(event)
        nodes[i].machine = machine
        nodes[i].journal = machine.journal
        guard let following else { Issue.record("no action after \(event) in \(machine.step)"); nodes[i].result = (.failed, "stuck"); return }
        if case .finish(let result, let reason) = following {
            nodes[i].result = (result, reason)
            log.append("\(now) \(nodes[i].address) \(result.rawValue): \(reason)")
        }
        nodes[i].action = following
    }

    func isWait(_ action: PatchTurn.Action) -> Bool { if case .wait = action { return true }; return false }

    /// Performs an action on the model; returns the answering event and when the agent acts next.
    mutating func perform(_ i: Int, _ action: PatchTurn.Action) -> (PatchTurn.Event?, Double) {
        let me = nodes[i]
        switch action {
        case .decide:
            var up: [String: Bool] = [:]
            for node in nodes { up[node.address] = seenUp(node, by: me) }
            nodes[i].tracker.observe(up, now: now)
            let peers = nodes.map { node in
                RackTurn.Peer(address: node.address, rack: node.rack, up: up[node.address]!, upSince: nodes[i].tracker.upSince[node.address],
                              generation: seenGeneration(node, by: me))
            }
            let decision = RackTurn.decide(me: me.address, peers: peers, windowStart: windowStart, now: now, settle: settings.settle)
            let preCheck: String? = seenUp(me, by: me) ? nil : "this node is not UN"
            if decision == .go, now < windowClose, preCheck == nil {
                nodes[i].drainStarts.append(now)
            }
            return (.turn(decision, windowOpen: now < windowClose, preCheck: preCheck, now: now), now)
        case .wait(let until):
            return (.timer(now: max(until, now)), max(until, now))
        case .probeDrained:
            return (.drainProbe(drained: me.drained, unitActive: me.running, now: now), now)
        case .drain:
            nodes[i].drains += 1
            nodes[i].drained = true
            nodes[i].downAt = now
            return (.ended(.drain, failure: nil, now: now + 2), now + 2)
        case .stop:
            nodes[i].running = false
            return (.ended(.stop, failure: nil, now: now + 1), now + 1)
        case .patch:
            nodes[i].patches += 1
            return (.ended(.patch, failure: nil, now: now + 5), now + 5)
        case .checkRebootRequired:
            return (.rebootRequired(random.next() % 2 == 0, now: now), now)
        case .reboot:
            // The host goes down with the agent; it comes back and resumes at `start`.
            nodes[i].alive = false
            nodes[i].machine = nil
            nodes[i].restartAt = now + 30
            return (nil, .infinity)
        case .start:
            if me.failStart { return (.ended(.start, failure: "Job for cassandra.service failed", now: now + 3), now + 3) }
            if !me.running {
                nodes[i].running = true
                nodes[i].drained = false
                nodes[i].previousGeneration = me.generation
                nodes[i].generation = Int(now) + 1
                nodes[i].upAt = now + me.startTime
                nodes[i].downAt = nil
            }
            return (.ended(.start, failure: nil, now: now + 1), now + 1)
        case .rollback:
            return (.ended(.rollback, failure: nil, now: now), now)
        case .checkUp:
            let peersSee = nodes.filter { $0.address != me.address }.allSatisfy { seenUp(me, by: $0) }
            return (.upCheck(missing: peersSee && me.running ? nil : "peers do not see it UN yet", now: now), now)
        case .finish:
            return (nil, .infinity)
        }
    }
}

struct PatchModelTests {
    @Test func oneThousandSeededWindowsNeverTakeTwoRacksDownAndNeverRepeatADrainOrAPatch() {
        var outcomes: [String: Int] = [:]
        for seed in 1...1000 {
            var model = PatchModel(seed: UInt64(seed))
            // Faults, chosen by the seed.
            let scenario = Int(model.random.next() % 6)
            var failing: String?
            var downBefore: String?
            switch scenario {
            case 1: // slow starts
                for i in model.nodes.indices where model.chance(40) { model.nodes[i].startTime = Double(60 + model.random.next() % 120) }
            case 2: // a failed start
                let i = Int(model.random.next() % UInt64(model.nodes.count))
                model.nodes[i].failStart = true
                failing = model.nodes[i].address
            case 3: // a node down before the window
                let i = Int(model.random.next() % UInt64(model.nodes.count))
                model.nodes[i].downBefore = true
                model.nodes[i].running = false
                downBefore = model.nodes[i].address
            case 4: // agents killed at every kind of step
                for i in model.nodes.indices where model.chance(60) {
                    model.nodes[i].killAtStep = [.drain, .stop, .patch, .start, .waitUp, .reboot][Int(model.random.next() % 6)]
                }
            case 5: // the window closes mid-cluster
                model.windowClose = Double(60 + model.random.next() % 400)
            default: break
            }
            model.run(until: scenario == 3 ? 500 : 20_000)
            outcomes["scenario \(scenario)", default: 0] += 1
            let context = "seed \(seed) scenario \(scenario)\n" + model.log.suffix(30).joined(separator: "\n")

            #expect(model.maxRacksDown <= 1, "\(context)")
            for node in model.nodes {
                #expect(node.drains <= 1, "\(node.address) drained \(node.drains) times; \(context)")
                #expect(node.patches <= 1, "\(node.address) patched \(node.patches) times; \(context)")
                #expect(node.drainStarts.allSatisfy { $0 < model.windowClose }, "a turn started after the window closed; \(context)")
            }
            switch scenario {
            case 0, 1, 4:
                // Nothing that stays broken: every node patched exactly once, every turn succeeded.
                for node in model.nodes {
                    #expect(node.patches == 1, "\(node.address) patched \(node.patches) times; \(context)")
                    #expect(node.result?.0 == .succeeded, "\(node.address): \(String(describing: node.result)); \(context)")
                }
            case 2, 3:
                // The failure halts the window, is reported on its node, and names it on the nodes held.
                let culprit = failing ?? downBefore!
                let bad = model.nodes.first { $0.address == culprit }!
                if failing != nil {
                    #expect(bad.result?.0 == .failed, "\(context)")
                    #expect(bad.result?.1.contains("did not start") == true, "\(context)")
                }
                // A node down before the window holds every other rack; a failed start holds the racks after it.
                for node in model.nodes where failing != nil ? node.rack > bad.rack : node.rack != bad.rack {
                    #expect(node.drains == 0, "\(node.address) went after the halt; \(context)")
                    #expect(node.result == nil && node.machine?.heldBy == culprit, "\(node.address) held by \(String(describing: node.machine?.heldBy)); \(context)")
                }
            default:
                // Every node either finished its turn or skipped it because the window closed, none left half-way.
                for node in model.nodes {
                    #expect(node.result != nil, "\(context)")
                    #expect(node.patches == (node.result?.0 == .succeeded ? 1 : 0), "\(context)")
                }
            }
        }
        #expect(outcomes.values.reduce(0, +) == 1000)
    }
}

extension RackTurn.Rack {
    static func > (a: Self, b: Self) -> Bool { b < a }
}
