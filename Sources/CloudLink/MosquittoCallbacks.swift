import CMosquitto

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
