import Crypto
import Foundation
import KilnCore
import NIOCore

/// A byte range of a file, read in chunks as an upload asks for them: nothing is held whole.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let path: String
    let offset: Int64
    let length: Int64

    func makeAsyncIterator() -> Iterator { Iterator(chunks: self) }

    struct Iterator: AsyncIteratorProtocol {
        let chunks: FileChunks
        var reader: FileRangeReader?

        init(chunks: FileChunks) { self.chunks = chunks }

        mutating func next() async throws -> ByteBuffer? {
            do {
                if reader == nil {
                    reader = try FileRangeReader(path: chunks.path, offset: chunks.offset, length: chunks.length)
                }
                return try await reader?.next().map { ByteBuffer(bytes: $0) }
            } catch {
                throw S3Failure.localFile(error.message)
            }
        }
    }

    /// SHA-256 of the range, read the same way (for a signed payload).
    func sha256() async throws -> String {
        var hasher = SHA256()
        for try await chunk in self { chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) } }
        return SigV4.hex(hasher.finalize())
    }
}
