import Foundation
import KilnCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Reads a byte range of a local file in chunks, each read on a blocking thread (never on the
/// cooperative pool), one chunk per call: nothing is read ahead of the consumer. Owns its file
/// descriptor, closed when the reader goes away.
final class FileRangeReader: Sendable {
    static let chunkSize = 1 << 20

    let path: String
    private let descriptor: Int32
    private let end: Int64
    private let position: Mutex<Int64>

    /// Opens `path` for reading `length` bytes from `offset`; FILE_002 when it cannot be opened.
    init(path: String, offset: Int64, length: Int64) throws(KilnError) {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw KilnError.notFound(path) }
        self.path = path
        self.descriptor = descriptor
        end = offset + length
        position = Mutex(offset)
    }

    deinit { close(descriptor) }

    /// The next chunk, or nil at the end of the range. FILE_005 when the file is shorter than
    /// the range (it changed under the reader).
    func next() async throws(KilnError) -> [UInt8]? {
        let start = position.withLock { $0 }
        guard start < end else { return nil }
        let count = Int(min(Int64(Self.chunkSize), end - start))
        let (descriptor, path) = (self.descriptor, self.path)
        let chunk = try await Blocking.run { () throws(KilnError) -> [UInt8] in
            var bytes = [UInt8](repeating: 0, count: count)
            let read = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(start)) }
            guard read > 0 else {
                throw KilnError.corrupt("\(path) ended at \(start) bytes, before the \(count) bytes expected (changed while read)")
            }
            if read < count { bytes.removeLast(count - read) }
            return bytes
        }
        position.withLock { $0 = start + Int64(chunk.count) }
        return chunk
    }

    /// The chunks as a stream pulled one at a time.
    var stream: AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { try await self.next() }
    }
}
