import Foundation
import Logging
import Testing
@testable import CassandraAgent

/// The socket under load, with real concurrent clients on real connections.
@Suite(.serialized) struct StatusServerLoadTests {
    /// A status server on a socket in a temporary directory, serving empty snapshots.
    final class Server: Sendable {
        let directory = TemporaryDirectory()
        var socket: String { directory.path + "/agent.sock" }
        let task: Task<Void, any Error>

        init(_ limits: StatusServer.Limits = .init()) async throws {
            let snapshots = AgentSnapshots(host: "test", desiredStatePath: "/x", observeInterval: 10, expiryWarningDays: 30, clock: SystemClock())
            let routes = StatusRoutes(snapshots: snapshots, jobs: JobControls(repair: nil), adminGroup: "root") {}
            let server = StatusServer(path: directory.path + "/agent.sock", mode: 0o600, group: "root", routes: routes, limits: limits, logger: Logger(label: "test"))
            task = Task { try await server.run() }
            // Ready when it answers: the socket file exists from bind(), before listen() (a connect
            // in between is refused, which CI's starved threads made a flake of the cap test).
            for _ in 0..<500 {
                if FileManager.default.fileExists(atPath: directory.path + "/agent.sock"),
                   (try? rawRequest(directory.path + "/agent.sock", "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeoutSeconds: 5)) != nil { break }
                try await Task.sleep(for: .milliseconds(10))
            }
        }

        deinit { task.cancel() }
    }

    /// Runs `body` on `count` threads at once (real parallel clients, not tasks on two cores),
    /// awaiting them without blocking a thread of the cooperative pool, which the server itself runs on.
    func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            for i in 0..<count {
                group.enter()
                Thread { body(i); group.leave() }.start()
            }
            group.notify(queue: .global()) { continuation.resume() }
        }
    }

    func status(of response: String) -> Int? {
        response.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    /// A real agent process serves the socket: its own threads, not this test process's
    /// cooperative pool, which the other suites' blocking calls keep busy.
    func agent() async throws -> AgentUnderTest {
        let agent = try AgentUnderTest()
        try agent.drop(agent.desiredState())
        _ = try await agent.waitFor(30) { $0.desiredState.generation == 1 }
        return agent
    }

    @Test func fiftyWellBehavedClientsSeeNoFailure() async throws {
        let agent = try await agent()
        let failures = Published<[String]>([])
        let socket = agent.socket
        await concurrently(50) { _ in
            for _ in 0..<100 {
                do {
                    let answer = try rawRequest(socket, "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n", timeoutSeconds: 30)
                    if self.status(of: answer) != 200 { failures.update { $0.append(String(answer.prefix(80))) } }
                } catch {
                    failures.update { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.value.isEmpty, "\(failures.value.count) of 5,000 requests failed, e.g. \(failures.value.prefix(3))")
        #expect(agent.stop() == 0)
    }

    @Test func slowClientsHoldNoSlotPastTheirDeadlineAndHealthStillAnswers() async throws {
        let server = try await agent()
        // 40 clients that send a few bytes and then nothing (the old cap was 32 connections, all of them held).
        var slow: [Int32] = []
        for _ in 0..<40 {
            let fd = try openConnection(server.socket)
            FileIO.writeAll(fd: fd, "GET /v1/sta")
            slow.append(fd)
        }
        defer { slow.forEach { close($0) } }
        let socket = server.socket
        let answered = Published(0)
        await concurrently(10) { _ in
            if let answer = try? rawRequest(socket, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", timeoutSeconds: 30), self.status(of: answer) == 200 {
                answered.update { $0 += 1 }
            }
        }
        #expect(answered.value == 10, "health is answered while slow clients hang on, never reset or left waiting")
        // Past their deadline (5 s) the slow clients are cut off, and health is served normally again.
        try await Task.sleep(for: .seconds(5.5))
        var closed = 0
        for fd in slow {
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var byte: UInt8 = 0
            if read(fd, &byte, 1) <= 0 { closed += 1 }
        }
        #expect(closed == 40)
        let after = try rawRequest(socket, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", timeoutSeconds: 30)
        #expect(status(of: after) == 200)
        #expect(server.stop() == 0)
    }

    @Test func aConnectionOverTheCapIsAnswered503NotReset() async throws {
        var limits = StatusServer.Limits()
        limits.maxConnections = 4
        let server = try await Server(limits)
        var idle: [Int32] = []
        for _ in 0..<4 { idle.append(try openConnection(server.socket)) }
        defer { idle.forEach { close($0) } }
        try await Task.sleep(for: .milliseconds(200))
        let answer = try rawRequest(server.socket, "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n", timeoutSeconds: 60)
        #expect(status(of: answer) == 503, "\(answer)")
        #expect(answer.contains("busy: more than 4 connections are open"))
    }
}
