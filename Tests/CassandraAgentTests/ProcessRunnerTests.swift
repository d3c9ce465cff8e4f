import Foundation
import Testing
@testable import CassandraAgent

/// The real runner against real children. /bin/sh here is only the test's
/// fixture program: the agent itself never runs commands through a shell.
@Suite struct ProcessRunnerTests {
    let runner = SystemProcessRunner()

    func sh(_ script: String, timeout: Duration = .seconds(20), grace: Duration = .seconds(1), limit: Int = 4 << 20) -> ProcessCommand {
        ProcessCommand(["/bin/sh", "-c", script], timeout: timeout, killGrace: grace, outputLimit: limit)
    }

    @Test func capturesOutputAndExitCode() async throws {
        let output = try await runner.run(sh("echo out; echo err >&2; exit 3"))
        #expect(output.stdout == "out\n")
        #expect(output.stderr == "err\n")
        #expect(output.exitCode == 3 && output.signal == nil)
        #expect(!output.succeeded)
        #expect(output.failureDescription(of: sh("x")).hasSuffix("exited with 3: err"))
    }

    @Test func argumentsAreNeverInterpretedByAShell() async throws {
        let output = try await runner.run(ProcessCommand(["/bin/echo", "$HOME", "a b", ";", "`id`"], timeout: .seconds(5)))
        #expect(output.stdout == "$HOME a b ; `id`\n")
    }

    @Test func missingExecutableIsALaunchError() async {
        await #expect(throws: ProcessLaunchError(command: "/no/such/nodetool status", reason: "no such file")) {
            try await runner.run(ProcessCommand(["/no/such/nodetool", "status"], timeout: .seconds(5)))
        }
    }

    @Test func timeoutKillsAChildThatIgnoresSIGTERMAndItsChildren() async throws {
        let dir = TemporaryDirectory()
        let pids = dir.path + "/pids"
        let script = "trap '' TERM; sleep 300 & echo $! > \(pids); echo $$ >> \(pids); wait; wait"
        let output = try await runner.run(sh(script, timeout: .milliseconds(500), grace: .milliseconds(300)))
        #expect(output.timedOut)
        #expect(output.signal == SIGKILL)
        #expect(output.duration < .seconds(5))
        let listed = try String(contentsOfFile: pids, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }
        #expect(listed.count == 2)
        for pid in listed {
            // Reaped or gone: kill(pid, 0) finds no such process (the grandchild may linger as a zombie of init briefly).
            var gone = false
            for _ in 0..<50 {
                if kill(pid, 0) != 0 || Self.isZombie(pid) { gone = true; break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(gone, "process \(pid) survived the timeout")
        }
    }

    @Test func largeOutputIsCappedWithoutBlockingTheChild() async throws {
        let output = try await runner.run(sh("head -c 20000000 /dev/zero; echo done >&2", limit: 1 << 20))
        #expect(output.exitCode == 0)
        #expect(output.stdout.utf8.count == 1 << 20)
        #expect(output.stdoutTruncated && !output.stderrTruncated)
        #expect(output.stderr == "done\n")
    }

    @Test func cancellationEndsTheChild() async throws {
        let task = Task { try await runner.run(sh("sleep 300", grace: .milliseconds(200))) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let output = try await task.value
        #expect(output.cancelled && !output.timedOut)
        #expect(output.signal == SIGTERM)
    }

    @Test func noDescriptorIsInherited() async throws {
        // A descriptor the test opens without O_CLOEXEC must still not reach the child.
        let fd = open("/dev/null", O_RDONLY)
        defer { close(fd) }
        let output = try await runner.run(ProcessCommand(["/bin/ls", "/proc/self/fd"], timeout: .seconds(5)))
        // ls sees 0, 1, 2 and the directory it is reading.
        #expect(output.stdout.split(separator: "\n").count == 4, "\(output.stdout)")
    }

    @Test func leavesNoZombies() async throws {
        // Only this test's children: other tests spawn processes in the same test process.
        var pids: [Int32] = []
        for _ in 0..<5 {
            let output = try await runner.run(sh("echo $$"))
            pids.append(try #require(Int32(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))))
        }
        for pid in pids {
            #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)"), "child \(pid) is still in the process table (a zombie)")
        }
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }
}

struct CommandDescriptionTests {
    @Test func aPasswordInTheArgumentVectorNeverReachesAMessage() async throws {
        let command = ProcessCommand(["/bin/sh", "-c", "echo no >&2; exit 3", "-u", "cassandra", "-pw", "s3cr3t", "--password", "also", "--password=third"], timeout: .seconds(5))
        #expect(command.description == "/bin/sh -c 'echo no >&2; exit 3' -u cassandra -pw <redacted> --password <redacted> --password=<redacted>")
        let output = try await SystemProcessRunner().run(command)
        let message = output.failureDescription(of: command)
        #expect(message.contains("exited with 3: no") && !message.contains("s3cr3t") && !message.contains("also") && !message.contains("third"))
    }
}
