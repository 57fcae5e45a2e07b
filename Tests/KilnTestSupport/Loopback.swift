import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports and processes for tests that run Kiln as a real process.
public enum Loopback {
    /// A loopback port free a moment ago.
    public static func freePort() throws -> Int {
        let (descriptor, port) = try listening()
        close(descriptor)
        return port
    }

    /// A socket listening on a free loopback port, and the port; the caller closes it.
    public static func listening() throws -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && listen(descriptor, 1) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw Tool.Failure(description: "no free port")
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Waits (bounded, on a thread of its own) until `process` has exited; its status.
    public static func exit(of process: Process, seconds: Double = 60) async throws -> Int32 {
        try await Tool.detached {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        }
        guard !process.isRunning else { throw Tool.Failure(description: "\(process.executableURL?.lastPathComponent ?? "the process") is still running") }
        return process.terminationStatus
    }
}
