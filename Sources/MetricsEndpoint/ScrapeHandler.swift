import NIOCore
import NIOHTTP1

/// Answers one request per connection (then closes it): `GET /metrics` with what `render`
/// returns, 404 or 405 otherwise (`ScrapeRoute`). `render` runs off the event loop.
final class ScrapeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let render: @Sendable () async -> [UInt8]
    /// Called when the request has been read whole (the connection's time limits end).
    private let requestReceived: () -> Void
    private var route: ScrapeRoute?
    private var answered = false

    init(render: @escaping @Sendable () async -> [UInt8], requestReceived: @escaping () -> Void) {
        self.render = render
        self.requestReceived = requestReceived
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            route = ScrapeRoute(method: head.method.rawValue, uri: head.uri)
        case .body:
            break
        case .end:
            guard let route, !answered else { return }
            answered = true
            requestReceived()
            respond(route, channel: context.channel, eventLoop: context.eventLoop)
        }
    }

    private func respond(_ route: ScrapeRoute, channel: any Channel, eventLoop: any EventLoop) {
        guard route == .metrics else {
            Self.write(route, body: Array("\(route.status.code) \(route.status.reason)\n".utf8), to: channel)
            return
        }
        let render = render
        let promise = eventLoop.makePromise(of: [UInt8].self)
        promise.completeWithTask { await render() }
        promise.futureResult.whenSuccess { body in Self.write(route, body: body, to: channel) }
    }

    private static func write(_ route: ScrapeRoute, body: [UInt8], to channel: any Channel) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: route == .metrics ? contentType : "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        if route == .methodNotAllowed { headers.add(name: "Allow", value: "GET") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: route.status.code), headers: headers)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in channel.close(promise: nil) }
    }
}
