import Foundation
import KilnCore

/// Writes a stream (an upload, standard input) to a temp file while counting, and stops as
/// soon as the count crosses the limit: an oversize stream is never written or held whole.
public struct Spooler: ~Copyable {
    public let limit: Int64
    private let file: SpooledFile
    private let handle: FileHandle
    public private(set) var count: Int64 = 0

    /// Opens a new temp file in `directory`.
    public init(directory: String, limit: Int64) throws(KilnError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw KilnError.storageUnavailable("cannot create the temp directory \(directory)")
        }
        let path = directory + "/upload-" + UUID().uuidString.lowercased()
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path)
        else { throw KilnError.storageUnavailable("cannot create a temp file in \(directory)") }
        self.limit = limit
        self.file = SpooledFile(path: path)
        self.handle = handle
    }

    /// Appends a chunk; FILE_004 (and the temp file gone) as soon as the total passes the limit.
    public mutating func append(_ chunk: some DataProtocol) throws(KilnError) {
        count += Int64(chunk.count)
        guard count <= limit else {
            try? handle.close()
            file.remove()
            throw KilnError.tooLarge(size: count, limit: limit, kind: .image)
        }
        do {
            try handle.write(contentsOf: chunk)
        } catch {
            try? handle.close()
            file.remove()
            throw KilnError.storageUnavailable("cannot write the upload: \(error.localizedDescription)")
        }
    }

    /// Closes the file and hands it over; FILE_001 when nothing arrived.
    public consuming func finish() throws(KilnError) -> SpooledFile {
        try? handle.close()
        guard count > 0 else {
            file.remove()
            throw KilnError.uploadFailed("the upload is empty (0 bytes); send a non-empty file")
        }
        return file
    }

    /// Reads `handle` to its end in chunks into a spooled file.
    public static func spool(from source: FileHandle, directory: String, limit: Int64) throws(KilnError) -> SpooledFile {
        var spooler = try Spooler(directory: directory, limit: limit)
        while true {
            let chunk: Data
            do {
                guard let next = try source.read(upToCount: 1 << 16), !next.isEmpty else { break }
                chunk = next
            } catch {
                throw KilnError.uploadFailed("the input stream failed: \(error.localizedDescription)")
            }
            try spooler.append(chunk)
        }
        return try spooler.finish()
    }
}

/// A temp file that is deleted when the last reference goes away.
public final class SpooledFile: Sendable {
    public let path: String

    init(path: String) { self.path = path }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    deinit { remove() }
}
