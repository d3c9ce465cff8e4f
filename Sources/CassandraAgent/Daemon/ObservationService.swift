import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Looks at the node on its own schedule (systemctl, nodetool, free space) and
/// stores what it saw with the time it saw it; the socket only ever reads that.
public struct ObservationService: Service {
    let configuration: AgentConfiguration
    let published: Published<NodeObservation?>
    /// The desired state in force: its version and storage directories.
    let desiredState: @Sendable () -> DesiredState?
    let clock: any WallClock
    let runner: any ProcessRunner
    let logger: Logger

    public init(configuration: AgentConfiguration, published: Published<NodeObservation?>, desiredState: @escaping @Sendable () -> DesiredState?,
                clock: any WallClock, runner: any ProcessRunner, logger: Logger) {
        self.configuration = configuration
        self.published = published
        self.desiredState = desiredState
        self.clock = clock
        self.runner = runner
        self.logger = logger
    }

    public func run() async throws {
        // The sleep between passes ends at once on SIGTERM: a stop never waits out the interval.
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    let observation = await observe()
                    published.update { $0 = observation }
                    try await clock.sleep(for: configuration.observeSeconds)
                }
            }
        } catch is CancellationError {
            // The stop we were waiting for.
        }
    }

    public func observe() async -> NodeObservation {
        var observation = NodeObservation(at: clock.now())
        observation.hostNameAddress = HostName.firstAddress()
        let systemctl = SystemctlClient(prefix: configuration.systemctl, unit: configuration.cassandraUnit, runner: runner, timeout: configuration.nodetoolTimeout)
        do {
            let unit = try await systemctl.show()
            observation.unitActive = unit.isActive
            observation.unitState = unit.activeState
        } catch {
            observation.unitError = error.message
        }
        let desired = desiredState()
        observation.disks = diskSpace(for: desired)
        guard observation.unitActive == true else { return observation }
        let nodetool = NodetoolClient(prefix: configuration.nodetool, runner: runner, version: desired?.cassandraVersion ?? .v4_1, timeout: configuration.nodetoolTimeout)
        do {
            // The mode first: a node that has left answers it, whatever the rest says.
            let netstats = try await nodetool.netstats()
            observation.mode = netstats.mode
            observation.plans = netstats.plans
            observation.info = try await nodetool.info(tokens: true)
            observation.status = try await nodetool.status()
            observation.nativeTransport = try await nodetool.nativeTransportRunning()
            observation.gossip = try await nodetool.gossipRunning()
            if let status = observation.status, status.datacenters.count > 1 || desired.map({ Self.seedsOutsideRing($0, status) }) == true {
                // One more nodetool run for the hybrid checklist, not on every pass: the snitch changes
                // with a restart and keyspaces with an ALTER. A failure here is not the node's failure.
                if let last = published.value, let at = last.clusterReadAt, observation.at - at < Self.clusterRefresh {
                    observation.snitch = last.snitch
                    observation.keyspaces = last.keyspaces
                    observation.clusterReadAt = at
                } else if let cluster = try? await nodetool.describeCluster() {
                    observation.snitch = cluster.snitch
                    if nodetool.version >= .v4_0 { observation.keyspaces = cluster.keyspaces.map(KeyspaceReplication.init) }
                    observation.clusterReadAt = observation.at
                }
            }
        } catch {
            observation.nodetoolError = error.description
        }
        return observation
    }

    /// How long the describecluster read for the hybrid checklist is reused.
    static let clusterRefresh: Double = 60

    /// Seeds that are not nodes of the ring yet: another datacenter about to join.
    static func seedsOutsideRing(_ desired: DesiredState, _ status: NodetoolStatus) -> Bool {
        let addresses = Set(status.nodes.map(\.endpoint.address))
        return desired.cluster.seeds.contains { !addresses.contains($0.value.host) }
    }

    /// Free space of every data directory and the commit log directory in force.
    func diskSpace(for desired: DesiredState?) -> [DiskSpace] {
        guard let desired else { return [] }
        let settings = SettingsResolver(version: desired.cassandraVersion)
        var diagnostics = Diagnostics(file: "")
        let resolved = settings.resolve(desired.settings, &diagnostics)
        func value(_ key: String) -> YAMLValue? { resolved.first { $0.name == key }?.value }
        var paths: [String] = []
        if case .list(let items) = value("data_file_directories") ?? .list([.string(CassandraConfigRenderer.debianDataRoot + "/data")]) {
            paths += items.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        if case .string(let commitlog) = value("commitlog_directory") ?? .string(CassandraConfigRenderer.debianDataRoot + "/commitlog") {
            paths.append(commitlog)
        }
        return paths.map { path in
            var fs = statvfs()
            guard statvfs(path, &fs) == 0 else {
                return DiskSpace(path: path, error: String(cString: strerror(errno)))
            }
            return DiskSpace(path: path, freeBytes: Int64(fs.f_bavail) * Int64(fs.f_frsize), totalBytes: Int64(fs.f_blocks) * Int64(fs.f_frsize))
        }
    }
}
