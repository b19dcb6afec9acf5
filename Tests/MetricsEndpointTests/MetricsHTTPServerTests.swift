import Foundation
import Logging
import Testing
import TestSupport
import MetricsEndpoint

/// The endpoint over real sockets: the answers, and clients that misbehave.
@Suite(.serialized) struct MetricsHTTPServerTests {
    static let body = "# TYPE edgegw_up gauge\nedgegw_up 1\n"
    /// How long a scrape's client waits here. `render` runs on this test process's concurrency
    /// pool, which the rest of the suite can hold for seconds on a 2-core machine (CI saw a
    /// 5 s client time out); the wait ends when the answer is in.
    static let answerTimeout: Duration = .seconds(30)

    func withServer(_ limits: MetricsServerLimits = MetricsServerLimits(),
                    render: @escaping @Sendable () async -> [UInt8] = { Array(Self.body.utf8) },
                    _ body: (Int) async throws -> Void) async throws {
        let server = MetricsHTTPServer(limits: limits, logger: Logger(label: "test"), render: render)
        let port = try await server.start(host: "127.0.0.1", port: 0)
        do { try await body(port) } catch { await server.stop(); throw error }
        await server.stop()
    }

    @Test func getMetricsIsAnsweredInTheTextFormat() async throws {
        try await withServer { port in
            let response = try #require(await offPool { TCPClient.get(port: port, timeout: Self.answerTimeout) })
            #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(response.lowercased().contains("content-type: text/plain; version=0.0.4; charset=utf-8"))
            #expect(response.hasSuffix(Self.body))
            #expect(ScrapeText(response).value("edgegw_up") == 1)
        }
    }

    /// On a loaded machine rendering may take longer than the client limits: the request is in,
    /// so the scrape is answered late rather than closed with nothing.
    @Test func aScrapeWhoseRenderingOutlastsTheClientLimitsIsStillAnswered() async throws {
        let limits = MetricsServerLimits(requestTimeout: .milliseconds(600), idleTimeout: .milliseconds(300))
        try await withServer(limits, render: {
            try? await Task.sleep(for: .milliseconds(1500))
            return Array(Self.body.utf8)
        }) { port in
            let response = try #require(await offPool { TCPClient.get(port: port, timeout: Self.answerTimeout) })
            #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(response)")
            #expect(response.hasSuffix(Self.body))
            // The same with an HTTP client of its own (curl), which keeps its connection quiet
            // while it waits for the answer.
            let seconds = Self.answerTimeout.components.seconds
            let curl = try ChildProcess("curl", ["-s", "-i", "--max-time", "\(seconds)", "http://127.0.0.1:\(port)/metrics"])
            #expect(await curl.waitForExit(timeout: Self.answerTimeout + .seconds(10)) == 0, "\(curl.text)")
            #expect(curl.text.hasPrefix("HTTP/1.1 200 OK\r\n") && curl.text.hasSuffix(Self.body), "\(curl.text)")
        }
    }

    @Test func otherPathsAre404AndOtherMethods405() async throws {
        try await withServer { port in
            #expect(TCPClient.get(port: port, path: "/")?.hasPrefix("HTTP/1.1 404 Not Found") == true)
            let client = try #require(TCPClient(port: port))
            client.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab")
            let response = String(decoding: client.readToEnd() ?? [], as: UTF8.self)
            #expect(response.hasPrefix("HTTP/1.1 405 Method Not Allowed"))
            #expect(response.lowercased().contains("allow: get"))
        }
    }

    @Test func garbageAndHugeRequestsAreClosedWithoutAnAnswer() async throws {
        try await withServer { port in
            let garbage = try #require(TCPClient(port: port))
            garbage.send([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a])
            let answer = String(decoding: garbage.readToEnd() ?? [], as: UTF8.self)
            #expect(!answer.contains("200 OK"))
            // Headers without end: closed once the client has sent more than the bound.
            let huge = try #require(TCPClient(port: port))
            huge.send("GET /metrics HTTP/1.1\r\n")
            var sent = 0
            while sent < 1_000_000, huge.send("X-Filler: " + String(repeating: "a", count: 1000) + "\r\n") { sent += 1012 }
            #expect(sent < 1_000_000, "the server kept reading a request of \(sent) bytes")
        }
    }

    @Test func silentAndSlowClientsDoNotHoldUpAGoodScrape() async throws {
        // Silent clients are closed only after 4 s idle: a scrape that waited behind them would take that.
        let limits = MetricsServerLimits(requestTimeout: .seconds(2), idleTimeout: .seconds(4))
        try await withServer(limits) { port in
            let silent = (0..<20).compactMap { _ in TCPClient(port: port) }
            let slow = try #require(TCPClient(port: port))
            slow.send("GET /met")
            let started = ContinuousClock.now
            let response = await offPool { TCPClient.get(port: port) }
            #expect(response?.hasPrefix("HTTP/1.1 200 OK") == true)
            #expect(ContinuousClock.now - started < .seconds(3), "a good scrape waited behind silent clients")
            // The slowloris is cut at the request timeout, trickling or not.
            let cut = ContinuousClock.now
            for _ in 0..<8 where slow.send("r") { try await Task.sleep(for: .milliseconds(500)) }
            #expect(await offPool { slow.readToEnd() } != nil)
            #expect(ContinuousClock.now - cut < .seconds(5))
            #expect(silent.count == 20)
        }
    }

    @Test func connectionsBeyondTheCapAreClosedAtOnce() async throws {
        try await withServer(MetricsServerLimits(maxConnections: 4)) { port in
            let held = (0..<4).compactMap { _ in TCPClient(port: port) }
            try await Task.sleep(for: .milliseconds(200))
            let extra = try #require(TCPClient(port: port, timeout: .seconds(2)))
            #expect(extra.readToEnd() == [])
            #expect(held.count == 4)
        }
    }
}

/// Blocking socket calls off the concurrency pool, so the server's `render` task (which runs on
/// the pool) is not starved by the test's own waiting.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: body()) }
    }
}
