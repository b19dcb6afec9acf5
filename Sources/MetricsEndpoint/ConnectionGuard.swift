import GatewayCore
import NIOCore

/// First handler of every metrics connection: closes it when the client sends more than
/// `maxRequestBytes`, goes quiet for `idleTimeout` (an `IdleStateHandler` before it says so), or
/// has not sent its whole request within `requestTimeout` of the connect. The event loop never
/// waits on a client, so one that misbehaves costs only its own connection. Once the request is
/// in (`requestReceived`) the time limits end: the client is waiting for us, and a scrape whose
/// rendering is slow (a busy machine) is answered late rather than closed unanswered.
final class ConnectionGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let limits: MetricsServerLimits
    private var received = 0
    private var deadline: Scheduled<Void>?
    private var waitingForRequest = true

    init(limits: MetricsServerLimits) {
        self.limits = limits
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: .nanoseconds(limits.requestTimeout.inNanoseconds)) {
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    /// The whole request has arrived: from now on only the byte limit applies.
    func requestReceived() {
        waitingForRequest = false
        deadline?.cancel()
        deadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        received += buffer.readableBytes
        guard received <= limits.maxRequestBytes else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            if waitingForRequest { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
