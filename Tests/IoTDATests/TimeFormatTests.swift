import Foundation
import Testing
@testable import IoTDA

@Suite struct TimeFormatTests {
    @Test func eventTimeFormats() {
        let date = Date(timeIntervalSince1970: 1_597_234_332.333) // 2020-08-12T12:12:12.333Z
        #expect(IoTDATime.eventTime(date) == "20200812T121212Z")
        #expect(IoTDATime.eventTimeMillis(date) == "2020-08-12T12:12:12.333Z")
        #expect(IoTDATime.epochMillis(date) == 1_597_234_332_333)
    }

    @Test func parsesEveryDocumentedForm() {
        let expected = Date(timeIntervalSince1970: 1_450_008_732) // 2015-12-13T12:12:12Z
        #expect(IoTDATime.parse("20151213T121212Z") == expected)
        #expect(IoTDATime.parse("2015-12-13T12:12:12Z") == expected)
        #expect(IoTDATime.parse("2015-12-13T12:12:12.500Z") == expected.addingTimeInterval(0.5))
        for bad in ["", "20151313T121212Z", "20151213T241212Z", "2015-12-13 12:12:12Z", "20151213T121212", "2015-02-29T00:00:00Z", "x0151213T121212Z"] {
            #expect(IoTDATime.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func utcFieldsAcrossTheCalendar() {
        for seconds in stride(from: -86_400 * 400, to: 86_400 * 365 * 80, by: 86_400 * 37 + 3_601) {
            let date = Date(timeIntervalSince1970: Double(seconds))
            let fields = UTCDateTime(date)
            #expect(fields.isValid)
            #expect(fields.date == date)
        }
    }
}

@Suite struct ExtremeDateTests {
    @Test func extremeDatesDoNotTrap() {
        for d in [Date.distantPast, Date.distantFuture, Date(timeIntervalSince1970: .infinity), Date(timeIntervalSince1970: .nan)] {
            #expect(!IoTDATime.eventTime(d).isEmpty)
            _ = ConnectTimestamp(d)
            _ = IoTDATime.epochMillis(d)
        }
        #expect(IoTDATime.epochMillis(Date(timeIntervalSince1970: .nan)) == 0)
    }
}
