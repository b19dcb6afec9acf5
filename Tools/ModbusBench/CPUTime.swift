import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// CPU seconds (user + system) this process has used, for a load-independent cost per register.
enum CPUTime {
    static func now() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// One measured phase.
struct PhaseResult {
    var registersPerSecond: Double
    /// CPU microseconds this process spent per 1000 registers read.
    var cpuPerThousand: Double
}
