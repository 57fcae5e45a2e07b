import Crypto
import Foundation
import KilnCore

/// SHA-256 of files, read in chunks (never whole in memory): content addresses and rendition checksums.
public enum FileDigest {
    static let chunkSize = 1 << 20

    /// Lowercase hex SHA-256 of the file at `path`.
    public static func sha256(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw KilnError.notFound(path) }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
        } catch {
            throw KilnError.corrupt("\(path) could not be read to the end: \(error.localizedDescription)")
        }
        return hex(hasher.finalize())
    }

    /// Lowercase hex SHA-256 of `strings` joined by newlines (ids made of other ids).
    public static func sha256(joining strings: [String]) -> String {
        hex(SHA256.hash(data: Data(strings.joined(separator: "\n").utf8)))
    }

    private static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
