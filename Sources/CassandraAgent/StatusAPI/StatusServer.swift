import CAgentShims
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// HTTP/1.1 on the agent's unix socket (or one systemd passed in). One request
/// per connection; bounded request size, header count, time to send the whole
/// request, and number of connections, so one bad client cannot take the socket
/// down: a slow client is cut off at its deadline, and a connection over the
/// cap is answered 503 rather than reset.
public struct StatusServer: Service {
    public struct Limits: Sendable {
        /// Connections served at once; idle ones cost little, so the cap is far above any monitoring load.
        public var maxConnections = 256
        /// Beyond the cap, this many more are told 503; past that they are closed.
        public var maxRefused = 64
        public var maxHeaders = 64
        public var maxBodyBytes = 64 * 1024
        public var readTimeout = TimeAmount.seconds(10)
        /// From accept to the end of the request: a client sending a byte a second is cut off here.
        public var requestDeadline = Duration.seconds(5)

        public init() {}
    }

    let path: String
    let mode: UInt32
    let group: String
    let routes: StatusRoutes
    let limits: Limits
    let logger: Logger

    public init(path: String, mode: UInt32, group: String, routes: StatusRoutes, limits: Limits = Limits(), logger: Logger) {
        self.path = path
        self.mode = mode
        self.group = group
        self.routes = routes
        self.limits = limits
        self.logger = logger
    }

    struct Connection: Sendable {
        let channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
        let peer: PeerCredentials?
    }

    public func run() async throws {
        // One event-loop thread: answers come from memory, and NIO's shared group would start one per core.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try await serve(ServerBootstrap(group: loops))
        } catch {
            try? await loops.shutdownGracefully()
            throw error
        }
        try? await loops.shutdownGracefully()
    }

    func serve(_ bootstrap: ServerBootstrap) async throws {
        let bootstrap = bootstrap
            .serverChannelOption(ChannelOptions.backlog, value: 64)
        let readTimeout = limits.readTimeout
        let initializer: @Sendable (Channel) -> EventLoopFuture<Connection> = { channel in
            let credentials: EventLoopFuture<PeerCredentials?> = (channel as? SocketOptionProvider).map { provider in
                provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(agent_so_peercred()))
                    .map { (value: PeerCredentials) in Optional(value) }
                    .recover { _ in nil }
            } ?? channel.eventLoop.makeSucceededFuture(nil)
            return credentials.flatMapThrowing { peer in
                try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: readTimeout))
                try channel.pipeline.syncOperations.addHandler(CloseOnIdle())
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                return Connection(channel: try NIOAsyncChannel(wrappingChannelSynchronously: channel), peer: peer)
            }
        }
        let server: NIOAsyncChannel<Connection, Never>
        if let fd = SystemdNotifier.listenedSocket() {
            server = try await bootstrap.bind(fd, childChannelInitializer: initializer)
            logger.info("serving on the socket systemd passed in")
        } else {
            try FileIO.makeDirectories(FileIO.directoryName(path), mode: 0o755)
            do {
                server = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            } catch {
                throw Self.startupError(error, path: path)
            }
            secureSocketFile()
            logger.info("serving on \(path)")
        }
        let active = ConnectionCount()
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { tasks in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        let count = active.enter()
                        if count > limits.maxConnections + limits.maxRefused {
                            active.leave()
                            try? await connection.channel.channel.close()
                            continue
                        }
                        let overCap = count > limits.maxConnections
                        tasks.addTask {
                            await withDeadline(limits.requestDeadline, connection) { await handle(connection, refuse: overCap) }
                            active.leave()
                        }
                    }
                }
                // The listener is closed: end the connections still open (idle clients included).
                tasks.cancelAll()
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
        unlink(path)
    }

    /// Why the socket cannot be served, in words: what is wrong and what to do.
    public struct StartupError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// swift-nio's start-up errors (`unixDomainSocketPathTooLong`, an IOError with an
    /// errno) translated for the operator reading the journal.
    static func startupError(_ error: any Error, path: String) -> StartupError {
        let change = "set `socket:` in the agent's config"
        if let address = error as? SocketAddressError, address == .unixDomainSocketPathTooLong {
            return StartupError(description: "the socket path \(path) is \(path.utf8.count) bytes long; a unix socket path can have at most 107 bytes on Linux, and at most 103 with the socket library the agent uses: \(change) to a shorter path, such as /run/cassandra-agent/agent.sock")
        }
        if error is UnixDomainSocketPathWrongType {
            return StartupError(description: "\(path) exists and is not a socket, so the agent will not replace it: remove it, or \(change) to another path")
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case EADDRINUSE:
                return StartupError(description: "the socket \(path) is in use: another cassandra-agent may be running with this config (systemctl status cassandra-agent); stop it, or \(change) to another path")
            case EACCES, EPERM:
                return StartupError(description: "cannot create the socket \(path): permission denied; run the agent as root (as its unit does), or \(change) to a directory it may write")
            default:
                return StartupError(description: "cannot listen on the socket \(path): \(String(cString: strerror(io.errnoCode)))")
            }
        }
        return StartupError(description: "cannot listen on the socket \(path): \(error)")
    }

    /// 0660 (or as configured), group = the admin group when it exists.
    func secureSocketFile() {
        chmod(path, mode_t(mode))
        if let gid = FileOwnership.groupID(group) {
            chown(path, uid_t.max, gid)
        } else {
            logger.warning("admin group '\(group)' does not exist; the socket keeps the agent's own group", metadata: ["reason": "socket.group_missing"])
        }
    }

    /// Runs `body`, closing the connection if it is not done by `deadline`.
    func withDeadline(_ deadline: Duration, _ connection: Connection, _ body: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await body(); return true }
            group.addTask { (try? await Task.sleep(for: deadline)) != nil ? false : true }
            if await group.next() == false {
                connection.channel.channel.close(promise: nil)
            }
            group.cancelAll()
        }
    }

    func handle(_ connection: Connection, refuse: Bool = false) async {
        do {
            try await connection.channel.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var bodyBytes = 0
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        if requestHead.headers.count > limits.maxHeaders {
                            try await write(outbound, .init(status: 431, contentType: "text/plain", body: "too many headers\n"), head: requestHead)
                            return
                        }
                    case .body(let buffer):
                        bodyBytes += buffer.readableBytes
                        if bodyBytes > limits.maxBodyBytes, let head {
                            try await write(outbound, .init(status: 413, contentType: "text/plain", body: "request body too large\n"), head: head)
                            return
                        }
                    case .end:
                        guard let head else { return }
                        if refuse {
                            try await write(outbound, .init(status: 503, contentType: "text/plain", body: "busy: more than \(limits.maxConnections) connections are open; try again\n"), head: head)
                            return
                        }
                        let response = await routes.respond(method: head.method.rawValue, path: head.uri, peer: connection.peer)
                        try await write(outbound, response, head: head)
                        return
                    }
                }
            }
        } catch {
            logger.debug("connection ended: \(error)")
        }
    }

    func write(_ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, _ response: StatusRoutes.Response, head: HTTPRequestHead) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.utf8.count))
        headers.add(name: "Connection", value: "close")
        try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .init(statusCode: response.status), headers: headers)))
        if head.method != .HEAD {
            try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body))))
        }
        try await outbound.write(.end(nil))
    }
}

/// Connections being served right now.
final class ConnectionCount: Sendable {
    private let count = Atomic<Int>(0)
    func enter() -> Int { count.wrappingAdd(1, ordering: .relaxed).newValue }
    func leave() { count.wrappingSubtract(1, ordering: .relaxed) }
}

/// Closes a connection that sent nothing for the read timeout.
final class CloseOnIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
