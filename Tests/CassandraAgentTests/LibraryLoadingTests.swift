import Foundation
import Testing

/// libssl, libcrypto and libsystemd are loaded at their first call (CLibraryLoader),
/// not at every start. The dynamic linker says what it loads (LD_DEBUG=libs).
@Suite struct LibraryLoadingTests {
    static let example = Paths.examples + "/cassandra-4.1.yaml"

    func loaded(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (result: ProcessResult, libraries: Set<String>) {
        let environment = ProcessInfo.processInfo.environment.merging(extra.merging(["LD_DEBUG": "libs"]) { $1 }) { $1 }
        let result = try runProcess(Paths.agentExecutable, arguments, environment: environment)
        // "calling init: /lib/x86_64-linux-gnu/libcrypto.so.3": every library that was loaded, at start or later.
        let libraries = result.stderr.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "calling init: ") else { return nil }
            return String(line[range.upperBound...].split(separator: "/").last ?? "")
        }
        return (result, Set(libraries))
    }

    @Test func validateLoadsOnlyLibcryptoForTheHashAndNeitherLibsslNorLibsystemd() throws {
        let (result, libraries) = try loaded(["validate", Self.example])
        #expect(result.exitCode == 0, "\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("sha256:"), "\(result.stdout)")
        #expect(libraries.contains("libcrypto.so.3"), "\(libraries.sorted())")
        #expect(!libraries.contains { $0.hasPrefix("libssl") || $0.hasPrefix("libsystemd") }, "\(libraries.sorted())")
    }

    @Test func aCommandThatHashesNothingLoadsNoneOfThem() throws {
        let (result, libraries) = try loaded(["status", "--config", "/nonexistent/agent.yaml"])
        #expect(result.exitCode == 3, "\(result.stderr.suffix(2000))")
        #expect(!libraries.contains { $0.hasPrefix("libssl") || $0.hasPrefix("libcrypto") || $0.hasPrefix("libsystemd") }, "\(libraries.sorted())")
    }

    /// What the dynamic linker did at start when a library was missing (exit 127, the
    /// library named), now at the first call: a libcrypto.so.3 that is not one comes first
    /// on the search path.
    @Test func aLibraryThatCannotBeLoadedEndsTheCommandNamingIt() throws {
        let dir = TemporaryDirectory()
        dir.write("libcrypto.so.3", "not a shared object\n")
        let result = try runProcess(Paths.agentExecutable, ["validate", Self.example],
                                    environment: ProcessInfo.processInfo.environment.merging(["LD_LIBRARY_PATH": dir.path]) { $1 })
        #expect(result.exitCode == 127)
        #expect(result.stderr.contains("cassandra-agent: cannot load the library libcrypto.so.3: "), "\(result.stderr)")
        #expect(result.stdout.isEmpty, "\(result.stdout)")
    }
}
