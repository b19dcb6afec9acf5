/// What the endpoint answers to a request line: `GET /metrics` (a query is ignored) the metrics,
/// any other path 404, any other method 405. Pure, so every case is tested without a socket.
public enum ScrapeRoute: Equatable, Sendable {
    case metrics
    case notFound
    case methodNotAllowed

    public static let path = "/metrics"

    public init(method: String, uri: String) {
        guard method == "GET" else { self = .methodNotAllowed; return }
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        self = path == Self.path ? .metrics : .notFound
    }

    public var status: (code: Int, reason: String) {
        switch self {
        case .metrics: (200, "OK")
        case .notFound: (404, "Not Found")
        case .methodNotAllowed: (405, "Method Not Allowed")
        }
    }
}
