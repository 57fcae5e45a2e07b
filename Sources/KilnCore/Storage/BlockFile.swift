import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A file written in blocks at explicit offsets (pwrite), each write on a blocking thread:
/// received uploads and resumable upload chunks. Owns its descriptor.
public final class BlockFile: Sendable {
    /// Writes are gathered into blocks this large.
    public static let blockSize = 1 << 20

    private let descriptor: Int32
    public let path: String

    /// Opens `path` (which exists) for writing.
    public init(writing path: String) throws(KilnError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw KilnError.storageUnavailable("cannot open \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(descriptor) }

    /// Writes all of `block` at `offset`.
    public func write(_ block: [UInt8], at offset: Int64) async throws(KilnError) {
        guard !block.isEmpty else { return }
        let (descriptor, path) = (descriptor, path)
        try await Blocking.run { () throws(KilnError) in
            let failure = block.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> KilnError? in
                var rest = bytes
                var position = off_t(offset)
                while let base = rest.baseAddress, !rest.isEmpty {
                    let written = pwrite(descriptor, base, rest.count, position)
                    guard written > 0 else {
                        return KilnError.storageUnavailable("cannot write to \(path): \(String(cString: strerror(errno)))")
                    }
                    position += off_t(written)
                    rest = UnsafeRawBufferPointer(rebasing: rest[written...])
                }
                return nil
            }
            if let failure { throw failure }
        }
    }

    /// Everything written is on disk (before something else records that it is).
    public func sync() async throws(KilnError) {
        let (descriptor, path) = (descriptor, path)
        try await Blocking.run { () throws(KilnError) in
            guard fsync(descriptor) == 0 else { throw KilnError.storageUnavailable("cannot sync \(path): \(String(cString: strerror(errno)))") }
        }
    }

    /// Cuts (or extends with zeros) the file to `size` bytes.
    public func truncate(to size: Int64) throws(KilnError) {
        guard ftruncate(descriptor, off_t(size)) == 0 else {
            throw KilnError.storageUnavailable("cannot cut \(path) to \(size) bytes: \(String(cString: strerror(errno)))")
        }
    }
}
