import Bootstrap
import Testing

struct DiscoveredObjectsTests {
    @Test func theBootstrapAccountIsTheSecurityInstanceWithoutAnSsid() throws {
        let text = #"lwm2m="1.1",</0/0>;ssid=101;uri="coaps://a,b:5684",</0/3>,</1/0>;ssid=101,</1/2>,</3/0>,</19/0>"#
        let objects = try #require(DiscoveredObjects.parse(text))
        #expect(objects.securityInstances.map(\.id) == [0, 3])
        #expect(objects.bootstrapAccount == [3])
        #expect(objects.serverInstances == [0, 2])
        #expect(DiscoveredObjects.free([0, 1, 3]) == 2)
        #expect(DiscoveredObjects.free([]) == 0)
    }

    @Test func whatIsNotALinkFormatIsRefused() {
        #expect(DiscoveredObjects.parse("") == nil)
        #expect(DiscoveredObjects.parse("lwm2m=\"1.0\"") == nil)
        #expect(DiscoveredObjects.parse("</0/0") == nil)
        #expect(DiscoveredObjects.parse("</0/x>,</1/99999>") == DiscoveredObjects(securityInstances: [], serverInstances: []))
    }
}
