import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

@Suite struct YAMLParserTests {
    @Test func keepsMarksOfEveryNode() throws {
        let node = try #require(try YAMLParser.parse("a: 1\nb:\n  - x\n  - {c: d}\n"))
        guard case .mapping(let pairs, let mark) = node else { Issue.record("not a mapping"); return }
        #expect(mark == SourceMark(line: 1, column: 1))
        #expect(pairs[0].value.mark == SourceMark(line: 1, column: 4))
        guard case .sequence(let items, _) = pairs[1].value else { Issue.record("not a list"); return }
        #expect(items[0].mark == SourceMark(line: 3, column: 5))
        #expect(items[1].mark == SourceMark(line: 4, column: 5))
    }

    @Test func tabIndentationIsReportedWithItsPosition() {
        #expect(throws: YAMLSyntaxError(message: "a tab character is not allowed here; YAML indents with spaces only", mark: SourceMark(line: 3, column: 1))) {
            try YAMLParser.parse("a:\n  b: 1\n\tc: 2\n")
        }
    }

    @Test func badIndentationIsReportedNotCrashing() throws {
        do {
            _ = try YAMLParser.parse("cluster:\n  name: x\n   seeds: [a]\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.mark.line == 3)
            #expect(error.message.contains("indentation"))
        }
    }

    @Test func scalarsResolveLikeSnakeYAML() {
        #expect(YAMLValue(resolving: "true", style: .plain) == .bool(true))
        #expect(YAMLValue(resolving: "true", style: .quoted) == .string("true"))
        #expect(YAMLValue(resolving: "0640", style: .plain) == .int(0o640))
        #expect(YAMLValue(resolving: "1.5", style: .plain) == .double(1.5))
        #expect(YAMLValue(resolving: "~", style: .plain) == .null)
        #expect(YAMLValue(resolving: "10.0.0.1", style: .plain) == .string("10.0.0.1"))
        #expect(YAMLValue(resolving: "64MiB/s", style: .plain) == .string("64MiB/s"))
    }

    @Test func moreThanOneDocumentIsAnError() {
        #expect(throws: YAMLSyntaxError.self) { try YAMLParser.parse("a: 1\n---\nb: 2\n") }
    }

    @Test func emptyTextIsNoDocument() throws {
        #expect(try YAMLParser.parse("") == nil)
        #expect(try YAMLParser.parse("# only a comment\n") == nil)
    }

    @Test func aliasesResolve() throws {
        let node = try #require(try YAMLParser.parse("a: &x [1, 2]\nb: *x\n"))
        #expect(node.value["b"] == .list([.int(1), .int(2)]))
    }

    @Test func emitterRoundTripsAwkwardStrings() throws {
        let strings = ["", "yes", "no", "on", "null", "~", "123", "1.5", "0x1F", "a: b", "#hash", "- dash", " lead", "trail ",
                       "quote\"d", "back\\slash", "line\nbreak", "tab\there", "é ünicode", "12:30", "2024-01-01", "*star", "@at", "ok text"]
        for text in strings {
            let yaml = YAMLEmitter.entry("k", .string(text))
            let node = try #require(try YAMLParser.parse(yaml))
            #expect(node.value["k"] == .string(text), "\(yaml)")
        }
    }

    /// The emitter's byte-level quoting rules, checked against the parser on random strings
    /// built from the characters YAML treats specially (seeded, so a failure reproduces).
    @Test func emitterRoundTripsRandomStringsOfSyntaxCharacters() throws {
        let alphabet: [String] = [" ", ":", "#", "-", "?", ",", "[", "]", "{", "}", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`", "~",
                                  "\\", "\t", "\n", "\u{7F}", "\u{FEFF}", "a", "Z", "1", "0", ".", "e", "_", "x", "é", "١", "٣", "½"]
        var rng = SeededRandom(seed: 20261202)
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 0...7, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
            let yaml = YAMLEmitter.entry("k", .string(text))
            let node = try #require(try YAMLParser.parse(yaml), "\(yaml.debugDescription)")
            #expect(node.value["k"] == .string(text), "\(yaml.debugDescription)")
        }
    }

    /// Quoting only where a reader could take the text for something else: what operators read
    /// in cassandra.yaml stays plain.
    @Test func emitterQuotesOnlyWhatNeedsIt() {
        for plain in ["ok text", "a:b", "x#y", "http://host:9042/x", "org.apache.cassandra.locator.GossipingPropertyFileSnitch", "/var/lib/cassandra/data", "é ünicode"] {
            #expect(YAMLEmitter.scalar(plain) == plain)
        }
        for quoted in ["a: b", "x #y", "tab\there", "\u{FEFF}bom", "del\u{7F}", "12:30", "2024-01-01", "١٢:٣٠", "-dash", "trail:", "trail "] {
            #expect(YAMLEmitter.scalar(quoted).hasPrefix("\""), "\(quoted.debugDescription)")
        }
    }

    @Test func emitterWritesNestedStructures() throws {
        let value: YAMLValue = .list([.map([("class_name", .string("X")), ("parameters", .list([.map([("seeds", .string("a,b"))])]))])])
        let yaml = YAMLEmitter.entry("seed_provider", value)
        #expect(yaml == """
        seed_provider:
        - class_name: X
          parameters:
          - seeds: a,b

        """)
        #expect(try YAMLParser.parse(yaml)?.value["seed_provider"] == value)
    }
}
