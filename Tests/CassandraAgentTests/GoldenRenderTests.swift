import Foundation
import Testing
@testable import CassandraAgent

/// The example desired states render byte-for-byte to the checked-in golden
/// files. Regenerate after an intended change with UPDATE_GOLDEN=1 swift test.
@Suite struct GoldenRenderTests {
    static let examples = ["cassandra-3.11", "cassandra-4.0", "cassandra-4.1", "cassandra-5.0-hybrid"]

    @Test(arguments: examples)
    func exampleMatchesGoldenFiles(name: String) throws {
        let file = "\(Paths.examples)/\(name).yaml"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        guard case .success(let validated) = DesiredStateValidator.validate(text: text, file: "etc/examples/\(name).yaml") else {
            Issue.record("example \(name) does not validate")
            return
        }
        var diagnostics = Diagnostics(file: file)
        let config = try #require(CassandraConfigRenderer.render(validated, &diagnostics))
        for (fileName, contents) in config.files {
            let goldenPath = "\(Paths.golden)/\(name)/\(fileName)"
            if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
                try FileManager.default.createDirectory(atPath: "\(Paths.golden)/\(name)", withIntermediateDirectories: true)
                try contents.write(toFile: goldenPath, atomically: true, encoding: .utf8)
            }
            let golden = try String(contentsOfFile: goldenPath, encoding: .utf8)
            #expect(contents == golden, "\(name)/\(fileName) differs from its golden file:\n\(LineDiff.unified(old: golden, new: contents, oldName: "golden", newName: "rendered"))")
        }
    }

    @Test func renderingIsDeterministic() throws {
        let text = try String(contentsOfFile: "\(Paths.examples)/cassandra-4.1.yaml", encoding: .utf8)
        let first = try #require(rendered(text)), second = try #require(rendered(text))
        #expect(first == second)
    }

    @Test func headerNamesTheDesiredStateHash() throws {
        let text = desiredState()
        let config = try #require(rendered(text))
        let hash = SHA256.hex(Array(text.utf8))
        #expect(config.cassandraYAML.hasPrefix("# Managed by cassandra-agent: cassandra.yaml for Cassandra 4.1 (defaults of 4.1.7),\n# rendered from desired state sha256:\(hash).\n"))
        #expect(config.rackdcProperties.contains("sha256:\(hash)"))
    }

    @Test func sha256MatchesKnownVector() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
