import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One plain TCP connection to a loopback port, for requests sent in pieces.
public final class RawConnection: Sendable {
    private let descriptor: Int32

    public init(port: Int, seconds: Int = 5) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // No close here: the object is whole, so `deinit` runs after the throw and closes it (closing
        // twice closed whatever descriptor another thread had opened under the number meanwhile).
        guard connected == 0 else { throw Tool.Failure(description: "connect to port \(port) failed") }
    }

    deinit { close(descriptor) }

    public func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// What the server sends until it closes, the timeout passes, or an interim 100 Continue
    /// has arrived (the whole answer until a body is sent).
    public func receive() -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received += buffer[0..<count]
            let text = String(decoding: received, as: UTF8.self)
            if text.hasPrefix("HTTP/1.1 100"), text.contains("\r\n\r\n") { break }
        }
        return String(decoding: received, as: UTF8.self)
    }
}
