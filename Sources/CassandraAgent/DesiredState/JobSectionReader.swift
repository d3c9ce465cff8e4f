/// Reads the `repair`, `backup` and `patching` sections.
enum JobSectionReader {
    static func repair(_ node: YAMLNode, version: CassandraVersion?, _ diagnostics: inout Diagnostics) -> DesiredState.Repair? {
        guard var section = MappingReader(node, context: "repair", diagnostics: &diagnostics) else { return nil }
        defer { section.rejectUnknownKeys(&diagnostics) }
        let enabled = enabledFlag(&section, "repair", &diagnostics)
        let schedule = cron(&section, "repair", required: enabled, &diagnostics)
        let typeNode = section.optional("type")
        let kind = typeNode.flatMap {
            MappingReader.oneOf($0, "repair.type", DesiredState.Repair.Kind.allCases.map(\.rawValue), &diagnostics)
        }.flatMap(DesiredState.Repair.Kind.init(rawValue:)) ?? .primaryRange
        var keyspaces: [String] = []
        if let value = section.optional("keyspaces"), let list = MappingReader.stringList(value, "repair.keyspaces", &diagnostics) {
            for (name, mark) in list {
                if !isKeyspaceName(name) {
                    diagnostics.error("repair.keyspaces: '\(name)' is not a keyspace name (letters, digits and '_', at most 48)", at: mark)
                } else if keyspaces.contains(name) {
                    diagnostics.error("repair.keyspaces lists '\(name)' twice", at: mark)
                } else {
                    keyspaces.append(name)
                }
            }
        }
        var repair = DesiredState.Repair(enabled: enabled, schedule: schedule, kind: kind, keyspaces: keyspaces)
        if let value = section.optional("timeZone"), let text = MappingReader.string(value, "repair.timeZone", &diagnostics) {
            do {
                repair.timeZone = try TimeZoneRules(identifier: text)
            } catch {
                diagnostics.error("repair.timeZone: \(error.message)", at: value.mark)
            }
        }
        let segmentsNode = section.optional("segmentsPerNode")
        if let value = segmentsNode, let count = MappingReader.int(value, "repair.segmentsPerNode", &diagnostics) {
            if count < 0 || count > 10_000 {
                diagnostics.error("repair.segmentsPerNode must be from 0 (whole keyspaces) to 10000, found \(count)", at: value.mark)
            } else {
                repair.segmentsPerNode = count
            }
        }
        func duration(_ key: String, minimum: Double, _ apply: (inout DesiredState.Repair, Double) -> Void) {
            if let seconds = section.duration(key, context: "repair", minimum: minimum, &diagnostics) { apply(&repair, seconds) }
        }
        duration("segmentTimeout", minimum: 1) { $0.workflow.segmentTimeout = $1 }
        duration("retryBackoff", minimum: 0) { $0.workflow.retryBackoff = $1 }
        duration("postponeLimit", minimum: 1) { $0.workflow.postponeLimit = $1 }
        duration("postponeWarning", minimum: 1) { $0.postponeWarning = $1 }
        duration("splay", minimum: 0) { $0.splaySeconds = $1 }
        duration("missedRunGrace", minimum: 0) { $0.missedRunGrace = $1 }
        duration("gcGrace", minimum: 60) { $0.gcGraceSeconds = $1 }
        if let value = section.optional("retries"), let count = MappingReader.int(value, "repair.retries", &diagnostics) {
            if (0...100).contains(count) { repair.workflow.retries = count } else {
                diagnostics.error("repair.retries must be from 0 to 100, found \(count)", at: value.mark)
            }
        }
        if let value = section.optional("maxPendingCompactions"), let count = MappingReader.int(value, "repair.maxPendingCompactions", &diagnostics) {
            if count >= 0 { repair.workflow.maxPendingCompactions = count } else {
                diagnostics.error("repair.maxPendingCompactions must be 0 or more, found \(count)", at: value.mark)
            }
        }
        if let value = section.optional("intensity") {
            if let number = fraction(value), number > 0, number <= 1 { repair.workflow.intensity = number } else {
                diagnostics.error("repair.intensity must be a number with 0 < intensity <= 1 (1: no pause between segments), found '\(value.scalarText ?? value.kindDescription)'", at: value.mark)
            }
        }
        if let value = section.optional("deadlineShare") {
            if let number = fraction(value), number > 0, number <= 1 { repair.deadlineShare = number } else {
                diagnostics.error("repair.deadlineShare must be a number with 0 < share <= 1 (the share of gcGrace after which an incomplete repair cycle warns), found '\(value.scalarText ?? value.kindDescription)'", at: value.mark)
            }
        }
        // Cassandra 3.11's incremental repair anticompacts on every run and can leave
        // repaired and unrepaired data inconsistent (fixed by the 4.0 rewrite,
        // CASSANDRA-9143); operators run full repairs there, so the agent refuses it.
        if version == .v3_11, kind == .incremental {
            diagnostics.error("repair.type incremental is refused on Cassandra 3.11: its incremental repair is unsafe before 4.0 (CASSANDRA-9143); use primary-range or full", at: typeNode?.mark ?? node.mark)
        }
        // 3.11's nodetool cannot list keyspaces with their replication, so subranges need them named.
        if version == .v3_11, repair.segmentsPerNode > 0, keyspaces.isEmpty {
            diagnostics.error("repair.segmentsPerNode on Cassandra 3.11 needs repair.keyspaces: 3.11's nodetool cannot list the keyspaces to cut into segments", at: segmentsNode?.mark ?? node.mark)
        }
        return repair
    }

    static func fraction(_ node: YAMLNode) -> Double? {
        guard case .scalar(let text, .plain, _) = node else { return nil }
        return Double(text)
    }

    static func blackouts(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> [Blackout] {
        guard let list = MappingReader.stringList(node, "blackouts", &diagnostics) else { return [] }
        var result: [Blackout] = []
        for (text, mark) in list {
            do {
                result.append(try Blackout(parsing: text))
            } catch {
                diagnostics.error("blackouts: \(error.message)", at: mark)
            }
        }
        return result
    }

    static func backup(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> DesiredState.Backup? {
        guard var section = MappingReader(node, context: "backup", diagnostics: &diagnostics) else { return nil }
        defer { section.rejectUnknownKeys(&diagnostics) }
        let enabled = enabledFlag(&section, "backup", &diagnostics)
        let schedule = cron(&section, "backup", required: enabled, &diagnostics)
        var retention: Int?
        if let value = enabled ? section.required("retention", diagnostics: &diagnostics) : section.optional("retention"),
           let text = MappingReader.string(value, "backup.retention", &diagnostics) {
            retention = DurationText.seconds(text).flatMap { $0 >= 1 && $0 < 1e12 ? Int($0) : nil }
            if retention == nil {
                diagnostics.error("backup.retention '\(text)' is not a duration: a whole number and a unit ms, s, m, h or d (e.g. 48h, 14d)", at: value.mark)
            }
        }
        var target: BackupDestination?
        let destinationNode = enabled ? section.required("destination", diagnostics: &diagnostics) : section.optional("destination")
        if let value = destinationNode, let text = MappingReader.string(value, "backup.destination", &diagnostics) {
            switch BackupDestination.parse(text) {
            case .success(let parsed): target = parsed
            case .failure(let error): diagnostics.error(error.message, at: value.mark)
            }
        }
        var path: String?
        if case .file(let directory) = target { path = directory }
        var backup = DesiredState.Backup(enabled: enabled, schedule: schedule, retentionSeconds: retention, destination: path)
        backup.target = target
        if let value = section.optional("keyspaces"), let list = MappingReader.stringList(value, "backup.keyspaces", &diagnostics) {
            for (name, mark) in list {
                if !isKeyspaceName(name) {
                    diagnostics.error("backup.keyspaces: '\(name)' is not a keyspace name (letters, digits and '_', at most 48)", at: mark)
                } else if backup.keyspaces.contains(name) {
                    diagnostics.error("backup.keyspaces lists '\(name)' twice", at: mark)
                } else {
                    backup.keyspaces.append(name)
                }
            }
        }
        if let value = section.optional("minimumCount"), let count = MappingReader.int(value, "backup.minimumCount", &diagnostics) {
            if (1...10_000).contains(count) { backup.minimumCount = count } else {
                diagnostics.error("backup.minimumCount must be from 1 to 10000 (the newest complete backup is always kept), found \(count)", at: value.mark)
            }
        }
        if let value = section.optional("bandwidth"), let text = MappingReader.string(value, "backup.bandwidth", &diagnostics) {
            if let rate = bandwidth(text) { backup.bandwidth = rate } else {
                diagnostics.error("backup.bandwidth '\(text)' is not a rate: a whole number and a unit B/s, KiB/s, MiB/s or GiB/s (e.g. 50MiB/s)", at: value.mark)
            }
        }
        if let value = section.optional("timeZone"), let text = MappingReader.string(value, "backup.timeZone", &diagnostics) {
            do {
                backup.timeZone = try TimeZoneRules(identifier: text)
            } catch {
                diagnostics.error("backup.timeZone: \(error.message)", at: value.mark)
            }
        }
        for (key, minimum) in [("splay", 0.0), ("missedRunGrace", 0.0), ("objectGrace", 0.0)] {
            guard let value = section.optional(key), let text = MappingReader.string(value, "backup.\(key)", &diagnostics) else { continue }
            guard let seconds = DurationText.seconds(text), seconds >= minimum else {
                diagnostics.error("backup.\(key) '\(text)' is not a duration: a whole number and a unit ms, s, m, h or d (e.g. 30m)", at: value.mark)
                continue
            }
            switch key {
            case "splay": backup.splaySeconds = seconds
            case "missedRunGrace": backup.missedRunGrace = seconds
            default: backup.objectGrace = seconds
            }
        }
        let s3Node = section.optional("s3")
        if let s3Node, var s3 = MappingReader(s3Node, context: "backup.s3", diagnostics: &diagnostics) {
            let endpointNode = s3.required("endpoint", diagnostics: &diagnostics)
            let endpoint = endpointNode.flatMap { MappingReader.string($0, "backup.s3.endpoint", &diagnostics) }
            let region = s3.required("region", diagnostics: &diagnostics).flatMap { MappingReader.string($0, "backup.s3.region", &diagnostics) }
            let credentialsNode = s3.required("credentialsFile", diagnostics: &diagnostics)
            let credentials = credentialsNode.flatMap { MappingReader.string($0, "backup.s3.credentialsFile", &diagnostics) }
            let caNode = s3.optional("caFile")
            let caFile = caNode.flatMap { MappingReader.string($0, "backup.s3.caFile", &diagnostics) }
            s3.rejectUnknownKeys(&diagnostics)
            var parsed: S3Endpoint?
            if let endpoint {
                switch S3Endpoint.parse(endpoint) {
                case .success(let value): parsed = value
                case .failure(let error): diagnostics.error(error.message, at: endpointNode?.mark ?? s3Node.mark)
                }
            }
            if let caFile, let caNode {
                caFileProblem(caFile, tls: parsed?.tls ?? true).map { diagnostics.error($0, at: caNode.mark) }
            }
            if let endpoint, parsed != nil, let region, let credentials {
                if !credentials.hasPrefix("/") && !credentials.hasPrefix("credential:") {
                    diagnostics.error("backup.s3.credentialsFile must be an absolute path or credential:NAME (a systemd credential), found '\(credentials)'", at: credentialsNode?.mark ?? s3Node.mark)
                }
                backup.s3 = DesiredState.S3Settings(endpoint: endpoint, region: region, credentialsFile: credentials, caFile: caFile)
            }
        }
        if let value = section.optional("verify") { backup.verify = SampledVerify.Settings.read(value, &diagnostics) }
        if case .s3 = target, backup.s3 == nil, s3Node == nil {
            diagnostics.error("backup.destination s3:// needs backup.s3 with endpoint, region and credentialsFile", at: destinationNode?.mark ?? node.mark)
        }
        return backup
    }

    /// What is wrong with `backup.s3.caFile`, read as the store will read it (a systemd credential only when the agent runs).
    static func caFileProblem(_ path: String, tls: Bool) -> String? {
        guard tls else { return "backup.s3.caFile is only for https:// endpoints; this one is http://" }
        if path.hasPrefix("credential:") { return nil }
        guard path.hasPrefix("/") else { return "backup.s3.caFile must be an absolute path or credential:NAME (a systemd credential), found '\(path)'" }
        do {
            _ = try S3CAFile.read(path, environment: [:])
            return nil
        } catch {
            return error.message
        }
    }

    /// `50MiB/s` and the like, in bytes per second.
    static func bandwidth(_ text: String) -> Int? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 12, let amount = Int(digits), amount > 0 else { return nil }
        let units: [String: Int] = ["B/s": 1, "KiB/s": 1 << 10, "MiB/s": 1 << 20, "GiB/s": 1 << 30]
        guard let factor = units[String(text.dropFirst(digits.count))] else { return nil }
        return amount * factor
    }

    static func patching(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> DesiredState.Patching? {
        guard var section = MappingReader(node, context: "patching", diagnostics: &diagnostics) else { return nil }
        defer { section.rejectUnknownKeys(&diagnostics) }
        let enabled = enabledFlag(&section, "patching", &diagnostics)
        var window: PatchWindow?
        if let value = enabled ? section.required("window", diagnostics: &diagnostics) : section.optional("window"),
           let text = MappingReader.string(value, "patching.window", &diagnostics) {
            do {
                window = try PatchWindow(parsing: text)
            } catch {
                diagnostics.error("patching.window: \(error.message)", at: value.mark)
            }
        }
        var command: [String] = []
        if let value = enabled ? section.required("command", diagnostics: &diagnostics) : section.optional("command"),
           let list = MappingReader.stringList(value, "patching.command", &diagnostics) {
            command = list.map(\.0)
            if command.isEmpty {
                diagnostics.error("patching.command must name a program and its arguments", at: value.mark)
            } else if !command[0].hasPrefix("/") {
                // Run as an argument vector without a shell or a PATH search: the program is named exactly.
                diagnostics.error("patching.command must start with an absolute path to the program, found '\(command[0])'", at: list[0].1)
            }
        }
        let reboot = section.optional("reboot").flatMap {
            MappingReader.oneOf($0, "patching.reboot", DesiredState.Patching.Reboot.allCases.map(\.rawValue), &diagnostics)
        }.flatMap(DesiredState.Patching.Reboot.init(rawValue:)) ?? .ifRequired
        var patching = DesiredState.Patching(enabled: enabled, window: window, command: command, reboot: reboot)
        patching.turn.reboot = reboot
        if let value = section.optional("timeZone"), let text = MappingReader.string(value, "patching.timeZone", &diagnostics) {
            do {
                patching.timeZone = try TimeZoneRules(identifier: text)
            } catch {
                diagnostics.error("patching.timeZone: \(error.message)", at: value.mark)
            }
        }
        func duration(_ key: String, minimum: Double, _ apply: (inout PatchTurn.Settings, Double) -> Void) {
            if let seconds = section.duration(key, context: "patching", minimum: minimum, example: "10m", &diagnostics) { apply(&patching.turn, seconds) }
        }
        duration("drainTimeout", minimum: 1) { $0.drainTimeout = $1 }
        duration("stopTimeout", minimum: 1) { $0.stopTimeout = $1 }
        duration("patchTimeout", minimum: 1) { $0.patchTimeout = $1 }
        duration("startTimeout", minimum: 1) { $0.startTimeout = $1 }
        duration("upTimeout", minimum: 1) { $0.upTimeout = $1 }
        duration("settle", minimum: 0) { $0.settle = $1 }
        duration("pollInterval", minimum: 0.1) { $0.pollInterval = $1 }
        func argv(_ key: String, allowEmpty: Bool) -> [String]? {
            guard let value = section.optional(key), let list = MappingReader.stringList(value, "patching.\(key)", &diagnostics) else { return nil }
            let words = list.map(\.0)
            if words.isEmpty && !allowEmpty {
                diagnostics.error("patching.\(key) must name a program and its arguments", at: value.mark)
                return nil
            }
            if let first = words.first, !first.hasPrefix("/") {
                diagnostics.error("patching.\(key) must start with an absolute path to the program, found '\(first)'", at: list[0].1)
                return nil
            }
            return words
        }
        if let words = argv("rebootCommand", allowEmpty: false) { patching.rebootCommand = words }
        if let words = argv("commandPrefix", allowEmpty: true) { patching.commandPrefix = words }
        if let value = section.optional("localQuorumGate"), let flag = MappingReader.bool(value, "patching.localQuorumGate", &diagnostics) {
            patching.localQuorumGate = flag
        }
        return patching
    }

    static func enabledFlag(_ section: inout MappingReader, _ context: String, _ diagnostics: inout Diagnostics) -> Bool {
        section.optional("enabled").flatMap { MappingReader.bool($0, "\(context).enabled", &diagnostics) } ?? false
    }

    static func cron(_ section: inout MappingReader, _ context: String, required: Bool, _ diagnostics: inout Diagnostics) -> CronSchedule? {
        guard let value = required ? section.required("schedule", diagnostics: &diagnostics) : section.optional("schedule"),
              let text = MappingReader.string(value, "\(context).schedule", &diagnostics)
        else { return nil }
        do {
            return try CronSchedule(parsing: text)
        } catch {
            diagnostics.error("\(context).schedule: \(error.message)", at: value.mark)
            return nil
        }
    }

    static func isKeyspaceName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 48 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}
