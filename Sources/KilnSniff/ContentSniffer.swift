import CMagic
import Foundation
import KilnCore
import Synchronization

/// Decides a file's MIME type from its first bytes with libmagic. Names and claimed
/// Content-Types are never consulted.
///
/// A libmagic cookie is not thread-safe and owns its result string, so each call borrows a
/// cookie of its own from a pool (opened on demand, returned after use): concurrent jobs sniff
/// in parallel rather than queueing behind one lock.
public final class ContentSniffer: Sendable {
    /// How many leading bytes are examined; enough for every format in the table.
    public static let headerBytes = 4096
    /// Idle cookies kept for reuse; more may be open while many jobs sniff at once.
    static let poolSize = 8

    private let idle: Mutex<[MagicCookie]>

    /// Opens libmagic with its compiled default database (checked now, so a broken install
    /// fails at start rather than on the first upload).
    public init() throws {
        idle = Mutex([try MagicCookie()])
    }

    /// The MIME type of `bytes` (the start of a file).
    public func mimeType(of bytes: UnsafeRawBufferPointer) -> String {
        guard let cookie = idle.withLock({ $0.popLast() }) ?? (try? MagicCookie()) else {
            return "application/octet-stream"
        }
        defer { idle.withLock { if $0.count < Self.poolSize { $0.append(cookie) } } }
        guard let result = magic_buffer(cookie.handle, bytes.baseAddress, bytes.count) else {
            return "application/octet-stream"
        }
        // The string belongs to the cookie: copied before the cookie goes back to the pool.
        return String(cString: result)
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
/// Unchecked: a cookie is used by one caller at a time, handed over through the pool's mutex.
private final class MagicCookie: @unchecked Sendable {
    let handle: OpaquePointer

    init() throws {
        guard let handle = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR) else {
            throw KilnError.internalError("libmagic could not be opened")
        }
        guard magic_load(handle, nil) == 0 else {
            let reason = magic_error(handle).map { String(cString: $0) } ?? "unknown error"
            magic_close(handle)
            throw KilnError.internalError("libmagic database could not be loaded: \(reason)")
        }
        self.handle = handle
    }

    deinit { magic_close(handle) }
}
