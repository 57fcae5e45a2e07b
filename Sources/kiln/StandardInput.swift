import Foundation
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// Standard input as a stream of chunks, each read on a blocking thread.
enum StandardInput {
    static let chunkSize = 1 << 16

    static func chunks() -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream {
            try await Blocking.run { () throws(KilnError) -> [UInt8]? in
                var buffer = [UInt8](repeating: 0, count: chunkSize)
                let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, chunkSize) }
                guard count >= 0 else {
                    throw KilnError.uploadFailed("standard input could not be read: \(String(cString: strerror(errno)))")
                }
                guard count > 0 else { return nil }
                buffer.removeLast(chunkSize - count)
                return buffer
            }
        }
    }
}
