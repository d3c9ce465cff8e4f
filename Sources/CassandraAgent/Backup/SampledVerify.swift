import FoundationEssentials

/// `backup.verify`: re-reads a random sample of the objects of the complete
/// backups and checks their size and SHA-256, so damage in the destination
/// (bit rot, a truncated copy, a deleted object) is found before a restore
/// needs it. Objects are content-addressed and shared between backups: one
/// damaged object damages every backup that references it, and every one of
/// them is marked (`<backup ID>.damaged`), which retention does not count as
/// a good backup. An object whose bytes are wrong is deleted, so the next
/// backup stores it again from the node (when the node still holds that SSTable).
///
/// The sample is drawn with a generator seeded from the host ID and the run
/// (the backup's id, or the verify slot): the same inputs pick the same objects,
/// and successive runs pick different ones.
public enum SampledVerify {
    public struct Settings: Sendable, Equatable {
        /// nil: after every successful backup.
        public var schedule: CronSchedule?
        /// Percent of the distinct objects re-read per run, 0 < p ≤ 100.
        public var samplePercent: Double

        public init(schedule: CronSchedule? = nil, samplePercent: Double) {
            self.schedule = schedule
            self.samplePercent = samplePercent
        }

        static func read(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> Settings? {
            guard var section = MappingReader(node, context: "backup.verify", diagnostics: &diagnostics) else { return nil }
            defer { section.rejectUnknownKeys(&diagnostics) }
            let schedule = JobSectionReader.cron(&section, "backup.verify", required: false, &diagnostics)
            guard let value = section.required("sample", diagnostics: &diagnostics),
                  let text = MappingReader.string(value, "backup.verify.sample", &diagnostics) else { return nil }
            guard let percent = percentage(text) else {
                diagnostics.error("backup.verify.sample '\(text)' is not a percentage above 0% and at most 100% (e.g. 10% re-reads a tenth of the stored objects per run)", at: value.mark)
                return nil
            }
            return Settings(schedule: schedule, samplePercent: percent)
        }

        static func percentage(_ text: String) -> Double? {
            guard text.hasSuffix("%"), let value = Double(text.dropLast()), value.isFinite, value > 0, value <= 100 else { return nil }
            return value
        }
    }

    /// What one sampled verify found.
    public struct Report: Sendable, Equatable, Codable {
        public var at: Double
        public var backups = 0
        public var objects = 0
        public var sampled = 0
        public var bytesRead: Int64 = 0
        /// Backups found damaged by this run (an object of theirs missing or wrong).
        public var damaged: [String] = []
        public var problems: [String] = []
        /// Objects that could not be read (a network error): not counted as damage.
        public var unreadable: [String] = []
        /// The run could not look at the backups at all (the destination cannot be listed).
        public var failure: String?
        /// Stopped before the whole sample was read (a backup was asked for, or the agent stops).
        public var cutShort = false

        public init(at: Double) {
            self.at = at
        }
    }

    /// The seed of a run: from the host ID and what names the run.
    public static func seed(host: String, run: String) -> UInt64 {
        SHA256.digest(Array("\(host):verify:\(run)".utf8)).prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// `percent` of `objects` (at least one when there are any), picked with a seeded generator.
    public static func sample(_ objects: [String], percent: Double, seed: UInt64) -> [String] {
        let sorted = objects.sorted()
        let count = min(sorted.count, max(sorted.isEmpty ? 0 : 1, Int((Double(sorted.count) * percent / 100).rounded(.up))))
        var generator = SplitMix64(seed: seed)
        var pool = sorted
        // A partial Fisher-Yates shuffle: the first `count` are the sample.
        for i in 0..<count {
            let j = i + Int(generator.next() % UInt64(pool.count - i))
            pool.swapAt(i, j)
        }
        return Array(pool.prefix(count))
    }

}

extension BackupRepository {
    enum ObjectCheck: Equatable {
        case intact(bytes: Int64)
        case missing
        case wrong(String)
        case unreadable(String)
    }

    /// Re-reads one object; `size` < 0 when the manifest does not record it (the cassandra.yaml).
    func check(_ sha: String, size: Int64, context: TransferContext) -> ObjectCheck {
        let key = BackupLayout.object(host, sha)
        let hasher = SHA256.Hasher()
        var read: Int64 = 0
        do {
            guard try store.size(of: key) != nil else { return .missing }
            try store.read(key, context: context) { chunk throws(BackupError) in
                hasher.update(chunk)
                read += Int64(chunk.count)
            }
        } catch {
            return .unreadable(error.message)
        }
        if size >= 0 && read != size { return .wrong("holds \(read) bytes, the manifests say \(size)") }
        let actual = hasher.finalHex()
        if actual != sha { return .wrong("has SHA-256 \(actual): its content is not what was stored") }
        return .intact(bytes: read)
    }

    /// A sampled verify of every complete backup: marks the damaged ones, deletes wrong objects.
    public func sampledVerify(percent: Double, seed: UInt64, at now: Double, context: TransferContext = TransferContext()) throws(BackupError) -> SampledVerify.Report {
        let manifests = try manifests()
        var report = SampledVerify.Report(at: now)
        report.backups = manifests.count
        var sizes: [String: Int64] = [:]
        var users: [String: [String]] = [:]
        for manifest in manifests {
            for (sha, size) in manifest.objects {
                if sizes[sha] == nil || sizes[sha]! < 0 { sizes[sha] = size }
                users[sha, default: []].append(manifest.id)
            }
        }
        report.objects = sizes.count
        let picked = SampledVerify.sample(Array(sizes.keys), percent: percent, seed: seed)
        report.sampled = picked.count
        var damage: [String: [String]] = [:]
        for sha in picked {
            if context.cancelled() { report.cutShort = true; break }
            let problem: String
            switch check(sha, size: sizes[sha] ?? -1, context: context) {
            case .intact(let bytes):
                report.bytesRead += bytes
                continue
            case .unreadable(let why):
                report.unreadable.append("object \(sha): \(why)")
                continue
            case .missing:
                problem = "object \(sha) is missing"
            case .wrong(let why):
                problem = "object \(sha) \(why); it was deleted so that the next backup stores it again"
                try store.delete(BackupLayout.object(host, sha))
            }
            report.problems.append(problem)
            for id in users[sha] ?? [] { damage[id, default: []].append("sampled verify at \(Timestamp.iso8601(Int64(now))): \(problem)") }
        }
        // Marks are only added here: a backup's mark is cleared by a whole `backup verify ID`.
        let marked = try damaged()
        for (id, problems) in damage.sorted(by: { $0.key < $1.key }) {
            let earlier = marked[id].map { $0.split(separator: "\n").map(String.init) } ?? []
            try markDamaged(id, earlier + problems)
        }
        report.damaged = damage.keys.sorted()
        return report
    }
}
