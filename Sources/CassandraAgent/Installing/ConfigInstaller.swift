#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// One file the node depends on, as it should be installed.
public struct InstallFile: Sendable, Equatable {
    public var path: String
    public var contents: [UInt8]
    public var ownership: FileOwnership

    public init(path: String, contents: [UInt8], ownership: FileOwnership) {
        self.path = path
        self.contents = contents
        self.ownership = ownership
    }
}

/// What an install did.
public struct InstallOutcome: Sendable, Equatable {
    /// The generation now in force (nil when nothing had to change and none was recorded yet).
    public var generation: Int?
    public var changedPaths: [String]
    /// What was cleaned up on the way, in words for the log: temp files a killed
    /// install left next to the installed files, damaged generations.
    public var cleanedUp: [String] = []
}

/// Installs a set of files so the node never sees a half-applied change, and
/// keeps the generations it installed so a bad change can be rolled back.
///
/// Every file is staged next to its target (temp file, fsync) before any is
/// replaced; then each is renamed into place and its directory fsynced. If a
/// rename fails part-way, the files already replaced are put back, so every
/// file ends either entirely old or entirely new. Each install is recorded
/// under `<stateDirectory>/generations/NNNNNN/` (0700; files 0600, as they can
/// hold passwords); the files found before the agent's first install are kept
/// as generation 0 and never pruned.
public struct ConfigInstaller: Sendable {
    public let stateDirectory: String
    public let keepGenerations: Int
    /// rename(2); a test seam to make a rename fail part-way through an install.
    let renameFile: @Sendable (String, String) -> Int32

    public init(stateDirectory: String, keepGenerations: Int = 10) {
        self.init(stateDirectory: stateDirectory, keepGenerations: keepGenerations, renameFile: { rename($0, $1) })
    }

    init(stateDirectory: String, keepGenerations: Int = 10, renameFile: @escaping @Sendable (String, String) -> Int32) {
        self.stateDirectory = stateDirectory
        self.keepGenerations = max(5, keepGenerations)
        self.renameFile = renameFile
    }

    var generationsDirectory: String { stateDirectory + "/generations" }

    /// The largest installed file the installer reads back (to compare, and to keep in generation 0).
    static let installedFileLimit = 256 << 20

    public func install(_ files: [InstallFile], desiredStateHash: String, installedAt: Int64) throws(InstallError) -> InstallOutcome {
        let cleanedUp = removeLeftovers(in: files.map { FileIO.directoryName($0.path) }) + (try scanGenerations()).damaged.map(\.description)
        let ids = try files.map { file throws(InstallError) in try file.ownership.resolve() }
        var current: [[UInt8]?] = []
        for file in files {
            do {
                // A hand-made file of any size is still replaced (and kept in generation 0).
                current.append(try FileIO.readIfPresent(file.path, limit: Self.installedFileLimit))
            } catch {
                throw InstallError("", error)
            }
        }
        let changed = files.indices.filter { i in
            current[i] != files[i].contents || !Self.hasOwnership(files[i].path, ids[i], files[i].ownership.mode)
        }
        if changed.isEmpty {
            return InstallOutcome(generation: try latestGeneration(), changedPaths: [], cleanedUp: cleanedUp)
        }

        try ensureGenerationZero(files.map(\.path), current)
        let generation = (try latestGeneration() ?? 0) + 1
        let staged = try recordGeneration(generation, files, hash: desiredStateHash, installedAt: installedAt)

        // Stage every changed file before replacing any.
        var temps: [Int: String] = [:]
        do {
            for i in changed {
                try FileIO.makeDirectories(FileIO.directoryName(files[i].path))
                let temp = FileIO.temporaryPath(for: files[i].path)
                unlink(temp)
                try FileIO.writeNew(temp, files[i].contents, mode: files[i].ownership.mode, owner: ids[i].uid, group: ids[i].gid)
                temps[i] = temp
            }
        } catch {
            temps.values.forEach { unlink($0) }
            FileIO.removeTree(staged)
            throw InstallError("nothing was changed: ", error)
        }

        var replaced: [Int] = []
        for i in changed {
            if renameFile(temps[i]!, files[i].path) != 0 {
                let failure = SystemError("replace", path: files[i].path)
                temps.values.forEach { unlink($0) }
                let restored = restore(replaced.map { (files[$0], current[$0]) })
                FileIO.removeTree(staged)
                throw InstallError("\(failure.description); \(restored)", code: failure.code)
            }
            replaced.append(i)
        }
        for directory in Set(changed.map { FileIO.directoryName(files[$0].path) }) {
            do { try FileIO.fsyncDirectory(directory) } catch { throw InstallError("", error) }
        }
        try commitGeneration(staged, generation)
        return InstallOutcome(generation: generation, changedPaths: changed.map { files[$0].path }, cleanedUp: cleanedUp)
    }

    /// Removes the temp files (`FileIO.temporaryPath`: `.NAME.cassandra-agent-PID-RANDOM.tmp`)
    /// that an agent killed mid-install left in `directories`, unless their process is
    /// still alive (another agent or `apply` at work). Returns what it removed, in words.
    /// Called by every install; the daemon may call it at start-up too.
    public func removeLeftovers(in directories: [String]) -> [String] {
        var removed: [String] = []
        for directory in Set(directories).sorted() {
            guard let names = try? FileIO.list(directory) else { continue }
            for name in names {
                guard let pid = Self.leftoverOwner(name), pid == getpid() || !Self.isAlive(pid) else { continue }
                let path = "\(directory)/\(name)"
                guard let st = FileIO.status(path), (st.st_mode & S_IFMT) == S_IFREG, unlink(path) == 0 else { continue }
                removed.append("removed \(path), left by an install that was cut short (process \(pid))")
            }
        }
        return removed
    }

    /// The pid in a temp file name the agent makes, or nil for any other name.
    static func leftoverOwner(_ name: String) -> pid_t? {
        guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return nil }
        let parts = name.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, UInt32(parts[parts.count - 1]) != nil, let pid = pid_t(parts[parts.count - 2]), pid > 0,
              parts.dropLast(2).joined(separator: "-").hasSuffix(".cassandra-agent")
        else { return nil }
        return pid
    }

    static func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// Puts back the previous contents of files already replaced by a failed install.
    func restore(_ files: [(InstallFile, [UInt8]?)]) -> String {
        var failures: [String] = []
        for (file, previous) in files {
            do {
                if let previous {
                    try FileIO.writeAtomically(file.path, previous, mode: file.ownership.mode)
                } else {
                    unlink(file.path)
                }
            } catch {
                failures.append(error.description)
            }
        }
        if failures.isEmpty {
            return files.isEmpty ? "no file was changed" : "the \(files.count) file(s) already replaced were restored; no file was changed"
        }
        return "restoring failed too: " + failures.joined(separator: "; ")
    }

    static func hasOwnership(_ path: String, _ ids: (uid: uid_t, gid: gid_t), _ mode: UInt32) -> Bool {
        guard let st = FileIO.status(path) else { return false }
        return st.st_uid == ids.uid && st.st_gid == ids.gid && (st.st_mode & 0o7777) == mode
    }

    // MARK: generations

    public struct Generation: Sendable, Codable, Equatable {
        public struct File: Sendable, Codable, Equatable {
            public var path: String
            public var sha256: String
            public var owner: String
            public var group: String
            public var mode: UInt32
            /// False in generation 0 for a file that did not exist before the agent.
            public var existed: Bool
        }

        public var generation: Int
        public var desiredStateHash: String?
        public var installedAt: Int64
        public var files: [File]
    }

    /// A numbered generation directory that could not be used (its manifest is missing
    /// or unreadable: an install cut short, or two agents at once) and was removed.
    public struct DamagedGeneration: Sendable, Equatable, CustomStringConvertible {
        public var generation: Int
        public var problem: String
        public var removed: Bool

        public var description: String {
            "generation \(generation) is damaged (\(problem))\(removed ? "; removed" : "; skipped")"
        }
    }

    /// The kept generations, oldest first. A damaged one is skipped and removed, so it
    /// cannot fail every later install and rollback; `damaged` says which.
    public func scanGenerations() throws(InstallError) -> (generations: [Generation], damaged: [DamagedGeneration]) {
        guard FileIO.isDirectory(generationsDirectory) else { return ([], []) }
        let names: [String]
        do { names = try FileIO.list(generationsDirectory) } catch { throw InstallError("", error) }
        var generations: [Generation] = []
        var damaged: [DamagedGeneration] = []
        for number in names.compactMap({ Int($0) }).sorted() {
            let directory = "\(generationsDirectory)/\(Self.name(number))"
            let problem: String
            do {
                let bytes = try FileIO.read("\(directory)/manifest.json")
                if let generation = try? JSONDecoder().decode(Generation.self, from: Data(bytes)), generation.generation == number {
                    generations.append(generation)
                    continue
                }
                problem = "its manifest.json cannot be decoded"
            } catch where error.code == ENOENT || error.code == ENOTDIR {
                problem = "it has no manifest.json"
            } catch {
                // Unreadable for another reason (permissions, I/O): skipped, but not removed.
                damaged.append(DamagedGeneration(generation: number, problem: error.description, removed: false))
                continue
            }
            FileIO.removeTree(directory)
            damaged.append(DamagedGeneration(generation: number, problem: problem, removed: true))
        }
        return (generations, damaged)
    }

    public func generations() throws(InstallError) -> [Generation] {
        try scanGenerations().generations
    }

    func latestGeneration() throws(InstallError) -> Int? {
        try generations().last.map(\.generation)
    }

    /// Re-installs the files of `generation` (default: the one before the newest).
    public func rollback(to generation: Int? = nil, installedAt: Int64) throws(InstallError) -> InstallOutcome {
        let all = try generations()
        guard let latest = all.last else { throw InstallError("no generation has been installed yet; there is nothing to roll back to") }
        let target = generation ?? all.dropLast().last?.generation
        guard let target, let record = all.first(where: { $0.generation == target }) else {
            let known = all.map { String($0.generation) }.joined(separator: ", ")
            throw InstallError(generation.map { "generation \($0) is not kept (kept: \(known))" } ?? "generation \(latest.generation) is the only one; there is nothing older to roll back to")
        }
        let directory = "\(generationsDirectory)/\(Self.name(target))/files"
        var files: [InstallFile] = []
        var removals: [String] = []
        for file in record.files {
            guard file.existed else {
                removals.append(file.path)
                continue
            }
            do {
                let bytes = try FileIO.read("\(directory)/\(FileIO.baseName(file.path))", limit: Self.installedFileLimit)
                files.append(InstallFile(path: file.path, contents: bytes, ownership: FileOwnership(owner: file.owner, group: file.group, mode: file.mode)))
            } catch {
                throw InstallError("generation \(target) is damaged: ", error)
            }
        }
        var outcome = try install(files, desiredStateHash: record.desiredStateHash ?? "rollback-to-\(target)", installedAt: installedAt)
        for path in removals where FileIO.exists(path) {
            unlink(path)
            outcome.changedPaths.append(path)
        }
        return outcome
    }

    static func name(_ generation: Int) -> String {
        let digits = String(generation)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Before the agent first replaces anything, keep what was there.
    func ensureGenerationZero(_ paths: [String], _ contents: [[UInt8]?]) throws(InstallError) {
        guard try latestGeneration() == nil else { return }
        var files: [InstallFile] = []
        var existed: [Bool] = []
        for (path, bytes) in zip(paths, contents) {
            let st = FileIO.status(path)
            let ownership = FileOwnership(
                owner: st.map { String($0.st_uid) } ?? "root",
                group: st.map { String($0.st_gid) } ?? "root",
                mode: st.map { UInt32($0.st_mode & 0o7777) } ?? 0o640)
            files.append(InstallFile(path: path, contents: bytes ?? [], ownership: ownership))
            existed.append(bytes != nil)
        }
        let staged = try recordGeneration(0, files, hash: nil, installedAt: 0, existed: existed)
        try commitGeneration(staged, 0)
    }

    /// Writes the generation's files and manifest into a staging directory.
    func recordGeneration(_ generation: Int, _ files: [InstallFile], hash: String?, installedAt: Int64, existed: [Bool]? = nil) throws(InstallError) -> String {
        let staging = "\(generationsDirectory)/.\(Self.name(generation)).staging"
        do {
            try FileIO.makeDirectories(generationsDirectory, mode: 0o700)
            chmod(stateDirectory, 0o700)
            chmod(generationsDirectory, 0o700)
            FileIO.removeTree(staging)
            try FileIO.makeDirectories(staging + "/files", mode: 0o700)
            var manifest = Generation(generation: generation, desiredStateHash: hash, installedAt: installedAt, files: [])
            for (index, file) in files.enumerated() {
                try FileIO.writeNew("\(staging)/files/\(FileIO.baseName(file.path))", file.contents, mode: 0o600)
                manifest.files.append(.init(
                    path: file.path, sha256: SHA256.hex(file.contents), owner: file.ownership.owner,
                    group: file.ownership.group, mode: file.ownership.mode, existed: existed?[index] ?? true))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let json = (try? encoder.encode(manifest)).map { Array($0) } ?? []
            try FileIO.writeNew("\(staging)/manifest.json", json, mode: 0o600)
            return staging
        } catch {
            FileIO.removeTree(staging)
            throw InstallError("nothing was changed: cannot record generation \(generation) in \(generationsDirectory): ", error)
        }
    }

    func commitGeneration(_ staging: String, _ generation: Int) throws(InstallError) {
        let final = "\(generationsDirectory)/\(Self.name(generation))"
        FileIO.removeTree(final)
        guard rename(staging, final) == 0 else {
            throw InstallError("", SystemError("record generation in", path: final))
        }
        do { try FileIO.fsyncDirectory(generationsDirectory) } catch { throw InstallError("", error) }
        prune()
    }

    /// Keeps generation 0 and the newest `keepGenerations`.
    func prune() {
        guard let names = try? FileIO.list(generationsDirectory) else { return }
        let numbers = names.compactMap { Int($0) }.filter { $0 > 0 }.sorted()
        for number in numbers.dropLast(keepGenerations) {
            FileIO.removeTree("\(generationsDirectory)/\(Self.name(number))")
        }
    }
}
