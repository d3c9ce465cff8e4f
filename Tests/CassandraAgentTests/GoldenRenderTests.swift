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
        // TLS files are found relative to the example, as the CLI finds them.
        let validated = try DesiredStateValidator.validate(text: text, file: file).get()
        let artifacts = try NodeArtifactsBuilder.build(validated, storeDirectory: "/etc/cassandra", now: Int64(Date().timeIntervalSince1970)).get()
        // Golden files are test snapshots: store passwords never go into them.
        for (fileName, raw) in artifacts.config.files {
            let contents = Redaction.redactDiff(raw)
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
