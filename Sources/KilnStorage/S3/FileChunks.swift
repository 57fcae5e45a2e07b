import Crypto
import Foundation
import NIOCore

/// A byte range of a file, read in chunks as an upload asks for them: nothing is held whole.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    static let chunkSize = 1 << 20

    let path: String
    let offset: Int64
    let length: Int64

    func makeAsyncIterator() -> Iterator { Iterator(path: path, offset: offset, remaining: length) }

    struct Iterator: AsyncIteratorProtocol {
        let path: String
        var offset: Int64
        var remaining: Int64
        var handle: FileHandle?

        init(path: String, offset: Int64, remaining: Int64) {
            self.path = path
            self.offset = offset
            self.remaining = remaining
        }

        mutating func next() async throws -> ByteBuffer? {
            guard remaining > 0 else {
                try? handle?.close()
                handle = nil
                return nil
            }
            if handle == nil {
                guard let opened = FileHandle(forReadingAtPath: path) else {
                    throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
                }
                try opened.seek(toOffset: UInt64(offset))
                handle = opened
            }
            let count = Int(Swift.min(Int64(FileChunks.chunkSize), remaining))
            guard let data = try handle?.read(upToCount: count), !data.isEmpty else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path])
            }
            remaining -= Int64(data.count)
            offset += Int64(data.count)
            return ByteBuffer(bytes: data)
        }
    }

    /// SHA-256 of the range, read the same way (for a signed payload).
    func sha256() async throws -> String {
        var hasher = SHA256()
        for try await chunk in self { chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) } }
        return SigV4.hex(hasher.finalize())
    }
}
