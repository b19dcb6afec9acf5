import CMosquitto

// C callbacks of the raw publisher, as plain functions (see platform notes on Swift 6 and C callbacks).

func rawOnConnect(_ mosq: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ code: Int32) {
    guard let context else { return }
    Unmanaged<RawPublisher>.fromOpaque(context).takeUnretainedValue().connected(code: code)
}

func rawOnPublish(_ mosq: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ mid: Int32) {
    guard let context else { return }
    Unmanaged<RawPublisher>.fromOpaque(context).takeUnretainedValue().acknowledged()
}
