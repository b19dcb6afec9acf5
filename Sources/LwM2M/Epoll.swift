#if canImport(Glibc)
import Glibc
#endif

/// The parts of epoll and glibc the server uses that the Glibc module leaves out (sys/epoll.h,
/// malloc.h), looked up once, with the layout of `struct epoll_event` on x86-64.
enum Epoll {
    /// `struct epoll_event` is packed: 4 bytes of flags, then the 8-byte data.
    static let eventBytes = 12
    static let dataOffset = 4
    static let readable: UInt32 = 0x001
    static let controlAdd: Int32 = 1

    static let wait: (@convention(c) (Int32, UnsafeMutableRawPointer, Int32, Int32) -> Int32)? = libc("epoll_wait")
    static let control: (@convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32)? = libc("epoll_ctl")
    /// glibc's `malloc_trim`, to give a burst's freed buffers back.
    static let mallocTrim: (@convention(c) (Int) -> Int32)? = libc("malloc_trim")

    private static func libc<T>(_ name: String) -> T? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: T.self)
    }

    /// The data word of event `index` in a buffer filled by `wait`.
    static func data(in events: UnsafeMutableRawPointer, at index: Int) -> UInt {
        events.loadUnaligned(fromByteOffset: index * eventBytes + dataOffset, as: UInt.self)
    }

    /// libcoap's data is its socket, whose first field is the descriptor.
    static func libcoapDescriptor(data: UInt) -> Int32? {
        UnsafeRawPointer(bitPattern: data)?.load(as: Int32.self)
    }
}
