import CMagic
import Foundation
import KilnCore
import Synchronization

/// Decides a file's MIME type from its first bytes with libmagic. Names and claimed
/// Content-Types are never consulted.
///
/// A libmagic cookie is not thread-safe and owns its result string, so one cookie sits
/// behind a mutex and the string is copied out before the lock is released.
public final class ContentSniffer: Sendable {
    /// How many leading bytes are examined; enough for every format in the table.
    public static let headerBytes = 4096

    private let cookie: Mutex<MagicCookie>

    /// Opens libmagic with its compiled default database.
    public init() throws {
        guard let handle = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR) else {
            throw KilnError.internalError("libmagic could not be opened")
        }
        guard magic_load(handle, nil) == 0 else {
            let reason = magic_error(handle).map { String(cString: $0) } ?? "unknown error"
            magic_close(handle)
            throw KilnError.internalError("libmagic database could not be loaded: \(reason)")
        }
        cookie = Mutex(MagicCookie(handle: handle))
    }

    /// The MIME type of `bytes` (the start of a file).
    public func mimeType(of bytes: UnsafeRawBufferPointer) -> String {
        cookie.withLock { cookie in
            guard let result = magic_buffer(cookie.handle, bytes.baseAddress, bytes.count) else {
                return "application/octet-stream"
            }
            return String(cString: result)
        }
    }

    /// The MIME type of `data` (the start of a file).
    public func mimeType(of data: Data) -> String {
        data.withUnsafeBytes { mimeType(of: $0) }
    }

    /// Reads the first `headerBytes` of the file at `path` and sniffs them.
    public func mimeType(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw KilnError.notFound(path) }
        defer { try? handle.close() }
        let head: Data
        do {
            head = try handle.read(upToCount: Self.headerBytes) ?? Data()
        } catch {
            throw KilnError.corrupt("\(path) could not be read: \(error.localizedDescription)")
        }
        return mimeType(of: head)
    }
}

/// Owns one libmagic cookie; closing it frees the database and the result buffer.
/// Unchecked: it is only ever touched under `ContentSniffer`'s mutex.
private final class MagicCookie: @unchecked Sendable {
    let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }
    deinit { magic_close(handle) }
}
