import GatewayCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The HTTP/1.1 server behind `[metrics] listen`: one event-loop thread of its own, one request
/// per connection, every connection bounded (`MetricsServerLimits`). It knows nothing of the
/// gateway; what a scrape returns comes from `render`.
public final class MetricsHTTPServer: Sendable {
    public let limits: MetricsServerLimits
    private let render: @Sendable () async -> [UInt8]
    private let group: MultiThreadedEventLoopGroup
    private let channel: Mutex<(any Channel)?> = Mutex(nil)
    /// Connections open now.
    private let open = Locked(0)
    private let logger: Logger

    public init(limits: MetricsServerLimits = MetricsServerLimits(), logger: Logger,
                render: @escaping @Sendable () async -> [UInt8]) {
        self.limits = limits
        self.render = render
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Binds and starts accepting; returns the bound port (useful with port 0).
    public func start(host: String, port: Int) async throws -> Int {
        let limits = limits, render = render, open = open
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let admitted = open.withLock { count in
                    guard count < limits.maxConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else { return channel.close() }
                channel.closeFuture.whenComplete { _ in open.withLock { $0 -= 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    let idle = limits.idleTimeout.inNanoseconds
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .nanoseconds(idle)))
                    let connectionGuard = ConnectionGuard(limits: limits)
                    try channel.pipeline.syncOperations.addHandler(connectionGuard)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false,
                                                                                     withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        ScrapeHandler(render: render, requestReceived: connectionGuard.requestReceived))
                }
            }
        let bound = try await bootstrap.bind(host: host, port: port).get()
        channel.withLock { $0 = bound }
        let boundPort = bound.localAddress?.port ?? port
        logger.info("metrics endpoint listening", metadata: ["address": "\(host):\(boundPort)", "path": "\(ScrapeRoute.path)"])
        return boundPort
    }

    /// Stops accepting and ends the event loop; connections in progress are closed.
    public func stop() async {
        let bound = channel.withLock { c -> (any Channel)? in defer { c = nil }; return c }
        try? await bound?.close()
        try? await group.shutdownGracefully()
    }
}
