import Testing
import MetricsEndpoint

@Suite struct ScrapeRouteTests {
    @Test func onlyGetMetricsIsServed() {
        #expect(ScrapeRoute(method: "GET", uri: "/metrics") == .metrics)
        #expect(ScrapeRoute(method: "GET", uri: "/metrics?name[]=x") == .metrics)
        #expect(ScrapeRoute(method: "GET", uri: "/") == .notFound)
        #expect(ScrapeRoute(method: "GET", uri: "/metrics/") == .notFound)
        #expect(ScrapeRoute(method: "GET", uri: "/metricsx") == .notFound)
        #expect(ScrapeRoute(method: "POST", uri: "/metrics") == .methodNotAllowed)
        #expect(ScrapeRoute(method: "HEAD", uri: "/metrics") == .methodNotAllowed)
        #expect(ScrapeRoute(method: "DELETE", uri: "/other") == .methodNotAllowed)
        #expect(ScrapeRoute.methodNotAllowed.status.code == 405)
        #expect(ScrapeRoute.notFound.status.code == 404)
    }
}
