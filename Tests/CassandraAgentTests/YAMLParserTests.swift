import Testing
@testable import CassandraAgent

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
