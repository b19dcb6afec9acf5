/// One request of the bootstrap server to a device, and the device's answer.
public struct BootstrapRequest: Equatable, Sendable {
    public enum Method: String, Sendable { case get = "GET", put = "PUT", delete = "DELETE", post = "POST" }

    public var method: Method
    /// e.g. "/", "/0", "/0/1", "/bs".
    public var path: String
    public var payload: [UInt8]
    public var contentFormat: UInt16?
    public var accept: UInt16?

    public init(_ method: Method, _ path: String, payload: [UInt8] = [], contentFormat: UInt16? = nil, accept: UInt16? = nil) {
        self.method = method
        self.path = path
        self.payload = payload
        self.contentFormat = contentFormat
        self.accept = accept
    }

    /// CoAP content formats: application/link-format, application/vnd.oma.lwm2m+tlv.
    public static let linkFormat: UInt16 = 40
    public static let tlv: UInt16 = 11542
}

/// A CoAP response code as class and detail (2.04 is `CoAPCode(2, 4)`).
public struct CoAPCode: Equatable, Sendable, CustomStringConvertible {
    public var codeClass: UInt8
    public var detail: UInt8

    public init(_ codeClass: UInt8, _ detail: UInt8) {
        self.codeClass = codeClass
        self.detail = detail
    }

    /// From the CoAP header's code byte (class in the top 3 bits).
    public init(byte: UInt8) { self.init(byte >> 5, byte & 0x1F) }

    public var byte: UInt8 { codeClass << 5 | detail }
    public var isSuccess: Bool { codeClass == 2 }
    public var description: String { "\(codeClass).\(detail < 10 ? "0" : "")\(detail)" }

    public static let changed = CoAPCode(2, 4)
    public static let badRequest = CoAPCode(4, 0)
    public static let forbidden = CoAPCode(4, 3)
}

/// How a bootstrap session ended without success; each is counted.
public enum BootstrapFailure: String, Sendable, CaseIterable, Equatable {
    /// The handshake or the request named no device with a bootstrap entry.
    case unauthorized
    /// The device is known but nothing can be written to it (no server address, no key).
    case noConfiguration = "no_configuration"
    /// A Discover, Delete or Write was refused by the device.
    case requestFailed = "request_failed"
    /// Bootstrap-Finish was refused.
    case finishFailed = "finish_failed"
    /// A second `POST /bs` from the device, or the server stopping.
    case cancelled
    /// A request went unanswered for the CoAP exchange lifetime.
    case timeout
}
