/// Reads the `repair`, `backup` and `patching` sections.
enum JobSectionReader {
    static func repair(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> DesiredState.Repair? {
        guard var section = MappingReader(node, context: "repair", diagnostics: &diagnostics) else { return nil }
        defer { section.rejectUnknownKeys(&diagnostics) }
        let enabled = enabledFlag(&section, "repair", &diagnostics)
        let schedule = cron(&section, "repair", required: enabled, &diagnostics)
        let kind = section.optional("type").flatMap {
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
        return DesiredState.Repair(enabled: enabled, schedule: schedule, kind: kind, keyspaces: keyspaces)
    }

    static func backup(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> DesiredState.Backup? {
        guard var section = MappingReader(node, context: "backup", diagnostics: &diagnostics) else { return nil }
        defer { section.rejectUnknownKeys(&diagnostics) }
        let enabled = enabledFlag(&section, "backup", &diagnostics)
        let schedule = cron(&section, "backup", required: enabled, &diagnostics)
        var retention: Int?
        if let value = enabled ? section.required("retention", diagnostics: &diagnostics) : section.optional("retention"),
           let text = MappingReader.string(value, "backup.retention", &diagnostics) {
            retention = retentionSeconds(text)
            if retention == nil {
                diagnostics.error("backup.retention '\(text)' is not a duration: write a whole number and a unit m, h, d or w (e.g. 48h, 14d)", at: value.mark)
            }
        }
        var destination: String?
        if let value = enabled ? section.required("destination", diagnostics: &diagnostics) : section.optional("destination"),
           let text = MappingReader.string(value, "backup.destination", &diagnostics) {
            if text.hasPrefix("file:///") {
                destination = String(text.dropFirst("file://".count))
            } else if let scheme = text.firstRange(of: "://").map({ String(text[..<$0.lowerBound]) }) {
                diagnostics.error("backup.destination: the '\(scheme)' scheme is not supported; use file:///PATH (a local or mounted directory)", at: value.mark)
            } else {
                diagnostics.error("backup.destination must be a URL such as file:///mnt/cassandra-backups, found '\(text)'", at: value.mark)
            }
        }
        return DesiredState.Backup(enabled: enabled, schedule: schedule, retentionSeconds: retention, destination: destination)
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
        return DesiredState.Patching(enabled: enabled, window: window, command: command, reboot: reboot)
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

    static func retentionSeconds(_ text: String) -> Int? {
        guard let unit = text.last, let amount = Int(text.dropLast()), amount > 0 else { return nil }
        let seconds: Int
        switch unit {
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86400
        case "w": seconds = 7 * 86400
        default: return nil
        }
        let (total, overflow) = amount.multipliedReportingOverflow(by: seconds)
        return overflow ? nil : total
    }

    static func isKeyspaceName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 48 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}
