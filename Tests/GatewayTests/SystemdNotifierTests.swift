import Foundation
import Testing
import TestSupport
@testable import Gateway

@Suite struct SystemdNotifierTests {
    @Test func sendsToTheNotifySocketAndHalvesTheWatchdog() throws {
        let tmp = TemporaryDirectory()
        let socket = try NotifySocket(path: tmp.file("notify"))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "30000000"])
        #expect(notifier.watchdogInterval == .seconds(15))
        notifier.ready(status: "3 devices")
        notifier.stopping()
        #expect(socket.receive() == "READY=1\nSTATUS=3 devices")
        #expect(socket.receive() == "STOPPING=1")
    }

    @Test func silentOutsideSystemd() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(notifier.send("READY=1") == false)
        #expect(notifier.watchdogInterval == nil)
    }

    @Test func watchdogForAnotherPidIsIgnored() {
        let notifier = SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"])
        #expect(notifier.watchdogInterval == nil)
    }
}
