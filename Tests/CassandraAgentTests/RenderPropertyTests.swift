import Foundation
import Testing
@testable import CassandraAgent
@testable import CassandraSimulation

/// Random valid desired states always render files that pass the schema check
/// of their version, deterministically, with every setting under its target name.
@Suite struct RenderPropertyTests {
    /// A deterministic generator, so a failure reproduces from its seed.
    typealias SplitMix64 = SeededRandom

    static let excluded: Set<String> = [
        "cluster_name", "seed_provider", "listen_address", "listen_interface", "rpc_address", "rpc_interface",
        "endpoint_snitch", "server_encryption_options", "client_encryption_options", "cdc_enabled",
    ]

    /// Settings the generator may pick for a version: simple shapes, not part of a start-up rule.
    static func candidates(_ version: CassandraVersion) -> [SettingSpec] {
        let schema = CassandraSchema.of(version)
        let ruled = Set(schema.required + schema.conditional.flatMap { [$0.when.key].compactMap { $0 } + ($0.require ?? []) + ($0.forbid ?? []) }
            + schema.mutuallyExclusive.flatMap { $0 })
        return schema.settings.filter { spec in
            !excluded.contains(spec.name) && !ruled.contains(spec.name)
                && [.boolean, .integer, .number, .enum, .duration, .dataStorage, .dataRate, .string].contains(spec.shape.kind)
                && !spec.replaces.contains { ValueForm.oldForm(of: $0.converter) == nil }
        }
    }

    /// A YAML line setting `spec` by its target name or, sometimes, by another version's name of it.
    static func line(for spec: SettingSpec, version: CassandraVersion, using rng: inout SplitMix64) -> String {
        let families = SettingFamilies.shared
        // Another version's name of the same setting; not one that is a separate key here,
        // and not across the 5.0 guardrail renames, which change what is counted.
        let schema = CassandraSchema.of(version)
        let otherNames = families.family(of: spec.name)
            .filter { $0 != spec.name && schema[$0] == nil && !families.changesMeaning($0, spec.name) }
            .sorted()
        var name = spec.name
        if !otherNames.isEmpty, Bool.random(using: &rng) {
            name = otherNames.randomElement(using: &rng)!
        }
        let targetForm = families.form(of: spec.name, in: version)
        let writtenForm = name == spec.name ? targetForm : families.form(of: name, in: families.versions(having: name).last ?? version)
        let value: String
        switch (targetForm, writtenForm) {
        case (.withUnit(_, let minimum, _), .withUnit):
            value = "\(Int.random(in: 0...5000, using: &rng))\(minimum.symbol)"
        case (.withUnit(_, let minimum, _), .plainNumber(let unit, _, _, _, _)):
            // Exact in both units: a multiple of the larger one, written in the old unit.
            let n = Int.random(in: 0...500, using: &rng)
            let factor = max(1, minimum.factor / unit.factor)
            value = "\(n * factor)"
        case (.plainNumber(let unit, _, _, _, _), .withUnit(let dimension, _, _)):
            let n = Int.random(in: 0...500, using: &rng)
            value = unit == .megabitsPerSecond ? "\(n * 125_000)B/s" : "\(n)\(MeasureUnit.named(unit.symbol, in: dimension)!.symbol)"
        case (.plainNumber, _):
            value = "\(Int.random(in: 0...5000, using: &rng))"
        default:
            switch spec.shape.kind {
            case .boolean: value = Bool.random(using: &rng) ? "true" : "false"
            case .integer: value = "\(Int.random(in: 0...100_000, using: &rng))"
            case .number: value = "\(Double(Int.random(in: 0...1000, using: &rng)) / 8)"
            case .enum: value = spec.shape.values!.randomElement(using: &rng)!
            default: value = "\"v\(Int.random(in: 0...999, using: &rng)): x #y\""
            }
        }
        return "\(name): \(value)"
    }

    @Test(arguments: CassandraVersion.allCases)
    func randomDesiredStatesRenderLoadableFiles(version: CassandraVersion) throws {
        var rng = SplitMix64(seed: 0xCA55A + UInt64(version.rawValue.hashValue & 0xFFFF))
        let candidates = Self.candidates(version)
        #expect(candidates.count > 100)
        for iteration in 0..<60 {
            var chosen: [SettingSpec] = []
            for _ in 0..<Int.random(in: 1...25, using: &rng) {
                let spec = candidates.randomElement(using: &rng)!
                if !chosen.contains(where: { $0.name == spec.name }) { chosen.append(spec) }
            }
            let lines = chosen.map { Self.line(for: $0, version: version, using: &rng) }
            let text = desiredState(version: version.rawValue, settings: lines)
            guard case .success(let validated) = validate(text) else {
                Issue.record("iteration \(iteration): a valid desired state was refused:\n\(text)\n\(errors(text))")
                continue
            }
            var diagnostics = Diagnostics(file: "ds.yaml")
            let config = try #require(CassandraConfigRenderer.render(validated, &diagnostics))
            #expect(CassandraYAMLChecker(version: version).problems(in: config.cassandraYAML) == [])
            let again = CassandraConfigRenderer.render(validated, &diagnostics)
            #expect(again == config, "rendering must be deterministic")
            let parsed = try #require(try YAMLParser.parse(config.cassandraYAML)).value
            for spec in chosen {
                #expect(parsed[spec.name] != nil, "\(spec.name) missing from the rendered file:\n\(text)")
            }
        }
    }

    @Test(arguments: CassandraVersion.allCases)
    func checkerRefusesWhatCassandraRefuses(version: CassandraVersion) throws {
        let config = try #require(rendered(desiredState(version: version.rawValue)))
        let checker = CassandraYAMLChecker(version: version)
        #expect(checker.problems(in: config.cassandraYAML) == [])
        #expect(checker.problems(in: config.cassandraYAML + "no_such_setting: 1\n").map(\.message).first?.hasPrefix("unknown key 'no_such_setting'") == true)
        #expect(checker.problems(in: config.cassandraYAML.replacingOccurrences(of: "\nnum_tokens: ", with: "\nnum_tokens: lots #")).map(\.message)
            == ["num_tokens must be an integer, found a string 'lots'"])
        let withoutPartitioner = config.cassandraYAML.replacingOccurrences(of: "\npartitioner: org.apache.cassandra.dht.Murmur3Partitioner\n", with: "\n")
        #expect(checker.problems(in: withoutPartitioner).map(\.message) == ["required key 'partitioner' is missing or empty"])
        if version >= .v4_1 {
            #expect(checker.problems(in: config.cassandraYAML + "read_request_timeout_in_ms: 5000\n").map(\.message)
                == ["'read_request_timeout_in_ms' and 'read_request_timeout' are the old and new names of one setting; Cassandra \(version) refuses both together"])
        }
        #expect(checker.problems(in: config.cassandraYAML + "listen_interface: eth0\n").map(\.message)
            == ["'listen_address' and 'listen_interface' exclude each other: set one"])
    }
}
