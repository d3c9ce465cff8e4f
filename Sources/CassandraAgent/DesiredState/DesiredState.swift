/// A value from an input file together with where it was written.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var mark: SourceMark

    public init(_ value: Value, at mark: SourceMark) {
        self.value = value
        self.mark = mark
    }
}

extension Located: Equatable where Value: Equatable {}

/// The operator's declaration of how this node should be (`apiVersion: cassandra-agent/v1`).
public struct DesiredState: Sendable {
    public static let apiVersion = "cassandra-agent/v1"

    public var cassandraVersion: CassandraVersion
    public var cluster: Cluster
    public var node: Node
    /// `settings`, in file order, by the names the operator wrote.
    public var settings: [SettingEntry]
    public var tls: TLS?
    public var repair: Repair?
    public var backup: Backup?
    public var patching: Patching?
    /// When no job starts (`blackouts`).
    public var blackouts: [Blackout] = []
    /// How the hand-started streaming jobs run (`rebuild:`, `decommission:`); nil: the defaults.
    public var rebuild: StreamingSettings?
    public var decommission: StreamingSettings?

    public struct Cluster: Sendable {
        public var name: Located<String>
        public var seeds: [Located<Seed>]
    }

    public struct Seed: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int?
        public var description: String {
            guard let port else { return host }
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// Where the node listens: an address or the name of a network interface.
    public enum Endpoint: Sendable, Equatable {
        case address(String)
        case interface(String)
        /// Left blank, as the runbook for self-hosted nodes says: Cassandra takes the
        /// address of the host's name, so one desired state serves every node of a rack.
        case hostName
    }

    public struct Node: Sendable {
        public var datacenter: Located<String>?
        public var rack: Located<String>?
        public var listen: Located<Endpoint>
        public var rpc: Located<Endpoint>
        public var dcSuffix: String?
        public var preferLocal: Bool?
        public var mark: SourceMark
    }

    public struct SettingEntry: Sendable {
        public var name: String
        public var nameMark: SourceMark
        public var value: YAMLNode
    }

    public enum StoreType: String, Sendable, CaseIterable {
        case pkcs12 = "PKCS12"
        case jks = "JKS"
    }

    public struct TLS: Sendable {
        public var internode: Internode?
        public var client: Client?
        public var mark: SourceMark
    }

    /// The node's key material and trust, as PEM files on this host.
    public struct StoreInputs: Sendable {
        public var certificate: Located<String>
        public var privateKey: Located<String>
        public var privateKeyPasswordFile: Located<String>?
        public var trust: [Located<String>]
        public var storeType: StoreType
        public var passwordFile: Located<String>
        /// Optional TLS protocol and cipher settings, passed to Cassandra as given.
        public var protocols: [String] = []
        public var cipherSuites: [String] = []
    }

    public struct Internode: Sendable {
        public enum Encryption: String, Sendable, CaseIterable {
            case none, dc, rack, all
        }

        public var encryption: Encryption
        public var stores: StoreInputs?
        public var requireClientAuth: Bool
        public var mark: SourceMark
    }

    public struct Client: Sendable {
        public var enabled: Bool
        public var optional: Bool
        public var requireClientAuth: Bool
        public var stores: StoreInputs?
        public var mark: SourceMark
    }

    public struct Repair: Sendable {
        public enum Kind: String, Sendable, CaseIterable {
            case primaryRange = "primary-range"
            case full
            case incremental
        }

        public var enabled: Bool
        public var schedule: CronSchedule?
        public var kind: Kind
        public var keyspaces: [String]
        /// The schedule's time zone (UTC unless `repair.timeZone`).
        public var timeZone: TimeZoneRules = .utc
        /// > 0: subrange repair, the node's ranges cut into about this many segments.
        public var segmentsPerNode = 0
        /// Timeouts, retries, intensity and back-pressure of each segment.
        public var workflow = RepairWorkflow.Settings()
        /// Nodes with the same schedule start up to this long apart (`repair.splay`).
        public var splaySeconds: Double = 1800
        public var missedRunGrace: Double = 12 * 3600
        /// A postponement longer than this is a warning check.
        public var postponeWarning: Double = 1800
        /// Warn when no complete repair ended within `deadlineShare` of `gcGrace`.
        public var gcGraceSeconds: Double = 864_000
        public var deadlineShare: Double = 0.7

        public init(enabled: Bool, schedule: CronSchedule?, kind: Kind, keyspaces: [String]) {
            self.enabled = enabled
            self.schedule = schedule
            self.kind = kind
            self.keyspaces = keyspaces
        }
    }

    public struct Backup: Sendable {
        public var enabled: Bool
        public var schedule: CronSchedule?
        /// How long a backup is kept, in seconds.
        public var retentionSeconds: Int?
        /// The directory backups are written to (`file://` destinations).
        public var destination: String?
        /// Where backups go (`file://` or `s3://`); nil when the section names none.
        public var target: BackupDestination?
        /// Empty: every keyspace.
        public var keyspaces: [String] = []
        /// Retention never leaves fewer complete, undamaged backups than this.
        public var minimumCount = 1
        public var s3: S3Settings?
        /// Bytes per second read from the data directories (nil: no limit).
        public var bandwidth: Int?
        public var timeZone: TimeZoneRules = .utc
        public var splaySeconds: Double = 1800
        public var missedRunGrace: Double = 12 * 3600
        /// An object no manifest references is deleted only when older than this.
        public var objectGrace: Double = 6 * 3600
        /// `backup.verify`: a sampled re-read of the complete backups' objects (nil: none).
        public var verify: SampledVerify.Settings?

        public init(enabled: Bool, schedule: CronSchedule?, retentionSeconds: Int?, destination: String?) {
            self.enabled = enabled
            self.schedule = schedule
            self.retentionSeconds = retentionSeconds
            self.destination = destination
        }
    }

    public struct S3Settings: Sendable, Equatable {
        public var endpoint: String
        public var region: String
        /// An AWS shared-credentials file ([default]) or `credential:NAME` (systemd's $CREDENTIALS_DIRECTORY).
        public var credentialsFile: String
        /// For an https:// endpoint: the PEM CA bundle its certificate must chain to instead of the system's trust store.
        public var caFile: String?
    }

    public struct Patching: Sendable {
        public enum Reboot: String, Sendable, CaseIterable {
            case never
            case ifRequired = "if-required"
            case always
        }

        public var enabled: Bool
        public var window: PatchWindow?
        public var command: [String]
        public var reboot: Reboot
        /// The window's zone (UTC unless `patching.timeZone`).
        public var timeZone: TimeZoneRules = .utc
        /// Step timeouts, settle time, poll interval (and `reboot` again, for the turn).
        public var turn = PatchTurn.Settings()
        public var rebootCommand: [String] = ["/usr/bin/systemctl", "reboot"]
        /// Refuse a turn that would leave a range of some keyspace without LOCAL_QUORUM.
        public var localQuorumGate = false
        /// What the patch command runs under; nil: `systemd-run` under systemd, nothing otherwise.
        public var commandPrefix: [String]?
    }
}

extension DesiredState {
    /// Every file the TLS section reads (systemd credentials excluded: they change only with the unit).
    public var tlsInputPaths: [String] {
        [tls?.internode?.stores, tls?.client?.stores].compactMap { $0 }.flatMap { inputs in
            [inputs.certificate.value, inputs.privateKey.value, inputs.passwordFile.value] + inputs.trust.map(\.value)
                + (inputs.privateKeyPasswordFile.map { [$0.value] } ?? [])
        }.filter { !$0.hasPrefix(NodeArtifactsBuilder.credentialPrefix) }
    }
}
