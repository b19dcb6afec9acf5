import CMosquitto
import COpenSSL

// libmosquitto's callbacks, as plain top-level functions: a closure literal here could be
// inferred @MainActor and trap when the loop thread calls it (see platform notes). Each one
// only copies what it gets and hands it to the connection, which takes no lock across it.

func mosquittoOnConnect(_ mosq: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ code: Int32) {
    guard let context else { return }
    Unmanaged<MosquittoConnection>.fromOpaque(context).takeUnretainedValue().connackReceived(code: code)
}

func mosquittoOnDisconnect(_ mosq: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ code: Int32) {
    guard let context else { return }
    Unmanaged<MosquittoConnection>.fromOpaque(context).takeUnretainedValue().disconnected(code: code)
}

func mosquittoOnPublish(_ mosq: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ mid: Int32) {
    guard let context else { return }
    Unmanaged<MosquittoConnection>.fromOpaque(context).takeUnretainedValue().acknowledged(messageId: mid)
}

func mosquittoOnSubscribe(_ mosq: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ mid: Int32,
                          _ count: Int32, _ granted: UnsafePointer<Int32>?) {
    guard let context else { return }
    var qos: [Int32] = []
    if let granted, count > 0 { qos = Array(UnsafeBufferPointer(start: granted, count: Int(count))) }
    Unmanaged<MosquittoConnection>.fromOpaque(context).takeUnretainedValue().subscribed(messageId: mid, granted: qos)
}

func mosquittoOnMessage(_ mosq: OpaquePointer?, _ context: UnsafeMutableRawPointer?,
                        _ message: UnsafePointer<mosquitto_message>?) {
    guard let context, let message, let topicPointer = message.pointee.topic else { return }
    let topic = String(cString: topicPointer)
    var payload: [UInt8] = []
    let length = Int(message.pointee.payloadlen)
    if length > 0, let bytes = message.pointee.payload {
        payload = Array(UnsafeRawBufferPointer(start: bytes, count: length))
    }
    Unmanaged<MosquittoConnection>.fromOpaque(context).takeUnretainedValue().received(topic: topic, payload: payload)
}

func mosquittoOnLog(_ mosq: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ level: Int32,
                    _ text: UnsafePointer<CChar>?) {
    guard let context, let text else { return }
    Unmanaged<MosquittoConnection>.fromOpaque(context).takeUnretainedValue().libraryLog(level: level, text: String(cString: text))
}

/// OpenSSL's certificate check for the TLS context we hand libmosquitto: runs the normal check
/// (libmosquitto's host name callback included) and tells the connection why it failed, whether
/// the handshake ran inside `mosquitto_connect_async` or in `LinkHandshake`.
func opensslVerifyCertificate(_ store: OpaquePointer?, _ context: UnsafeMutableRawPointer?) -> Int32 {
    let ok = X509_verify_cert(store)
    guard ok <= 0, let context else { return ok }
    let code = X509_STORE_CTX_get_error(store)
    Unmanaged<MosquittoConnection>.fromOpaque(context).takeUnretainedValue().certificateRejected(code: code)
    return ok
}
