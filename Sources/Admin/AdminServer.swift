import Foundation
import GatewayCore
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The admin socket: a Unix stream socket served by one thread of its own with poll(2).
/// Every socket is non-blocking and every client has a deadline, so a client that sends
/// nothing, garbage or too much, or reads nothing, costs one slot until its deadline and never
/// holds up another client or the daemon; the answers come from the daemon's snapshots.
public final class AdminServer: Sendable {
    public let path: String
    private let responder: any AdminResponder
    private let logger: Logger
    private let policy: PeerPolicy
    private let listener: Int32
    /// The wake pipe's read and write ends: trace records and `stop()` interrupt poll(2).
    private let wakeFD: Int32
    private let wakeWriteFD: Int32
    private let stopping = Locked(false)
    private let finished = Locked<Thread?>(nil)
    private let done = DispatchSemaphore(value: 0)

    /// Binds the socket (mode 0660, group `edgegw` when it exists) and starts serving it.
    /// A socket file left behind by a crash is replaced; one a live daemon answers on is not.
    public init(path: String, responder: any AdminResponder, logger: Logger) throws(AdminSocketError) {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw AdminSocketError("\(path) exists and is not a socket; remove it or choose another [admin] socket")
            }
            if UnixSocket.isAnswered(path) {
                throw AdminSocketError("another daemon answers on \(path); stop it or choose another [admin] socket")
            }
            unlink(path)
        }
        let fd = try UnixSocket.make(nonBlocking: true)
        do {
            try UnixSocket.bind(fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        // Between bind and chmod the file has the umask's mode; the peer check below refuses
        // strangers anyway.
        chmod(path, 0o660)
        if let gid = PeerPolicy.groupId(named: GatewayConfig.Admin.group), gid != getegid() {
            if chown(path, uid_t.max, gid) != 0 {
                logger.warning("admin socket: cannot give \(path) to group \(GatewayConfig.Admin.group): \(String(cString: strerror(errno)))")
            }
        }
        guard listen(fd, 16) == 0 else {
            let error = AdminSocketError.system("cannot listen on", path)
            close(fd)
            unlink(path)
            throw error
        }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            let error = AdminSocketError.system("cannot create a wake pipe for", path)
            close(fd)
            unlink(path)
            throw error
        }
        self.path = path
        self.responder = responder
        self.logger = logger
        self.policy = PeerPolicy.current(group: GatewayConfig.Admin.group)
        self.listener = fd
        for end in ends { UnixSocket.makeNonBlocking(end) }
        self.wakeFD = ends[0]
        self.wakeWriteFD = ends[1]
        let thread = Thread { [self] in
            self.serve()
            self.done.signal()
        }
        thread.name = "edgegw-admin"
        thread.start()
        finished.withLock { $0 = thread }
    }

    /// Stops serving, closes every client and removes the socket file. Waits for the thread.
    public func stop() {
        let first = stopping.withLock { was in
            defer { was = true }
            return !was
        }
        guard first else { return }
        wake()
        done.wait()
        close(listener)
        close(wakeFD)
        close(wakeWriteFD)
        unlink(path)
    }

    private func wake() {
        var one: UInt8 = 1
        _ = write(wakeWriteFD, &one, 1)
    }

    // MARK: - The thread

    private func serve() {
        var connections: [AdminConnection] = []
        while !stopping.withLock({ $0 }) {
            var fds = [pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0), pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            for c in connections {
                var events = Int16(POLLIN)
                if c.wantsWrite { events |= Int16(POLLOUT) }
                fds.append(pollfd(fd: c.fd, events: events, revents: 0))
            }
            let nearest = connections.compactMap(\.deadline).min()
            let rc = poll(&fds, nfds_t(fds.count), UnixSocket.pollTimeout(until: nearest))
            if rc < 0, errno != EINTR {
                logger.error("admin socket: poll failed: \(String(cString: strerror(errno)))")
                break
            }
            if fds[0].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 256)
                while drain.withUnsafeMutableBytes({ read(wakeFD, $0.baseAddress, $0.count) }) > 0 {}
            }
            // Trace records are taken on every turn: a wake-up is how they announce themselves.
            for c in connections { feedTrace(c) }
            for (index, c) in connections.enumerated() where rc > 0 {
                let revents = fds[index + 2].revents
                if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { handleReadable(c) }
                if c.wantsWrite, !c.flush() { c.deadline = .now - .seconds(1) }
                if case .replying = c.phase, !c.wantsWrite { c.deadline = .now - .seconds(1) }
            }
            if fds[1].revents & Int16(POLLIN) != 0 { accept(into: &connections) }
            let now = ContinuousClock.now
            connections.removeAll { c in
                guard let deadline = c.deadline, deadline <= now else { return false }
                c.close()
                return true
            }
        }
        for c in connections { c.close() }
    }

    private func accept(into connections: inout [AdminConnection]) {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd < 0 { return }
            UnixSocket.makeNonBlocking(fd)
            let connection = AdminConnection(fd: fd, deadline: .now + AdminProtocol.requestTimeout)
            guard let peer = PeerCredentials.of(socket: fd) else {
                refuse(connection, "cannot read the peer's credentials")
                continue
            }
            if let refusal = policy.refusal(of: peer) {
                logger.warning("admin socket: refused uid \(peer.uid) gid \(peer.gid) pid \(peer.pid)")
                refuse(connection, refusal)
                continue
            }
            if connections.count >= AdminProtocol.maxConnections {
                refuse(connection, "busy: \(AdminProtocol.maxConnections) clients are connected; try again")
                continue
            }
            connections.append(connection)
        }
    }

    /// Best effort: one line if the socket takes it now, then closed.
    private func refuse(_ connection: AdminConnection, _ message: String) {
        connection.queue(AdminReply.failure(message).line())
        _ = connection.flush()
        connection.close()
    }

    private func handleReadable(_ c: AdminConnection) {
        switch c.readAvailable() {
        case .waiting:
            break
        case .closed:
            c.deadline = .now - .seconds(1)
        case .tooLong:
            reply(c, .failure("request longer than \(AdminProtocol.maxRequestBytes) bytes"))
        case .request(let line):
            guard case .reading = c.phase else { return }
            answer(c, line)
        }
    }

    private func reply(_ c: AdminConnection, _ reply: AdminReply) {
        c.queue(reply.line())
        c.phase = .replying
        c.deadline = .now + AdminProtocol.replyTimeout
    }

    private func answer(_ c: AdminConnection, _ line: [UInt8]) {
        guard let request = try? JSONDecoder().decode(AdminRequest.self, from: Data(line)) else {
            reply(c, .failure("not a request: send one JSON object on one line, such as {\"command\":\"status\"}"))
            return
        }
        switch request.command {
        case .status:
            reply(c, AdminReply(status: responder.status()))
        case .devices:
            switch responder.devices(matching: request) {
            case .success(let devices): reply(c, AdminReply(devices: devices))
            case .failure(let refusal): reply(c, .failure(refusal.message))
            }
        case .trace:
            guard let kind = request.traceKind, let target = request.target, !target.isEmpty else {
                reply(c, .failure("a trace needs traceKind (modbus or nbiot) and target (a bus id or an IMEI)"))
                return
            }
            let wakeFD = wakeWriteFD
            let started = responder.trace(kind: kind, target: target, capacity: AdminProtocol.traceQueueCapacity) {
                var one: UInt8 = 1
                _ = write(wakeFD, &one, 1)
            }
            switch started {
            case .success(let subscription):
                c.queue(AdminReply(trace: .init(kind: kind, target: target)).line())
                c.phase = .tracing(subscription)
                c.deadline = nil
                logger.notice("admin socket: \(kind) trace of \(target) started")
            case .failure(let refusal):
                reply(c, .failure(refusal.message))
            }
        }
    }

    /// Moves a trace client's records onto its socket; a client that does not keep up loses
    /// records (counted, and told in a `dropped` line) rather than holding memory or the tap.
    private func feedTrace(_ c: AdminConnection) {
        guard case .tracing(let subscription) = c.phase else { return }
        let (records, dropped) = subscription.take()
        var lost = dropped
        var lines: [UInt8] = []
        for record in records {
            if c.pendingOutput + lines.count > AdminProtocol.traceMaxPendingBytes {
                lost += 1
            } else {
                lines += AdminReply(record: record).line()
            }
        }
        if lost > 0 { c.queue(AdminReply(dropped: lost).line()) }
        c.queue(lines)
    }
}
