import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// CPU seconds (user + system) this process has used, for a load-independent cost per frame.
enum CPUTime {
    static func now() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// When a run stops: after its target, after `timeout` from the start, or after `idle` with
/// nothing new once something came (the sender finished short of the target).
struct StopRule {
    var timeout: Duration
    var idle: Duration
}

/// One line of JSON on standard output, keys in the order given.
func printJSON(_ fields: KeyValuePairs<String, Any>) {
    let body = fields.map { key, value -> String in
        let text: String = switch value {
        case let number as Double: number.isFinite ? String(format: "%.6g", number) : "null"
        case let flag as Bool: flag ? "true" : "false"
        case let string as String: "\"\(string)\""
        default: "\(value)"
        }
        return "\"\(key)\": \(text)"
    }
    FileHandle.standardOutput.write(Data(("{" + body.joined(separator: ", ") + "}\n").utf8))
}

/// "ready" on standard error once the port is open: the sender may start.
func announceReady() {
    FileHandle.standardError.write(Data("ready\n".utf8))
}
