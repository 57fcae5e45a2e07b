import Foundation
import KilnCore
import KilnDatabase
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where resumable uploads live: one file per upload under `<data>/uploads`, its row in the
/// database (whose `offset` says how many of the file's bytes count), and which uploads a
/// request is writing now (one at a time each).
final class UploadArea: Sendable {
    let directory: String
    let records: UploadRecords
    /// How long an upload lives after its last chunk (tus expiration).
    let expiry: Duration
    private let busy = Mutex<Set<String>>([])

    init(dataDirectory: String, records: UploadRecords, expiry: Duration) {
        directory = dataDirectory + "/uploads"
        self.records = records
        self.expiry = expiry
    }

    func path(_ id: String) -> String { directory + "/" + id }

    func expiresAt(from time: Date = Date()) -> Date { time.addingTimeInterval(JobControl.seconds(expiry)) }

    /// Runs `work` as the only request on upload `id`; API_007 when another one is on it.
    func holding<T>(_ id: String, offset: Int64, _ work: () async throws -> T) async throws -> T {
        let taken = busy.withLock { $0.insert(id).inserted }
        guard taken else { throw KilnError.uploadConflict("another request is writing to this upload", offset: offset) }
        defer { _ = busy.withLock { $0.remove(id) } }
        return try await work()
    }

    /// An empty file for a new upload (owner-only, never one that exists).
    func createFile(_ id: String) throws(KilnError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw KilnError.storageUnavailable("cannot create \(directory): \(error.localizedDescription)")
        }
        let descriptor = open(path(id), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw KilnError.storageUnavailable("cannot create \(path(id)): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
    }

    func removeFile(_ id: String) { unlink(path(id)) }

    /// Removes an upload, its row and its file (expired, terminated or processed and expired).
    func remove(_ id: String) async throws(KilnError) {
        try await records.remove(id)
        removeFile(id)
    }

    /// Files left without a row (a crash between creating the file and the row): removed.
    func removeOrphans() async throws(KilnError) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where try await records.get(name) == nil { removeFile(name) }
    }
}

/// Writes one chunk of a resumable upload at its offset: bytes beyond the recorded offset (a
/// chunk cut off before it was recorded) are dropped first, the chunk is hashed as it is
/// written, and `rollBack()` cuts the file back to where it was. Owns its descriptor.
final class ChunkWriter: Sendable {
    private let descriptor: Int32
    private let path: String
    let start: Int64
    /// Writes are gathered into blocks this large, each written on a blocking thread.
    static let blockSize = 1 << 20

    init(path: String, offset: Int64) throws(KilnError) {
        self.path = path
        start = offset
        descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw KilnError.storageUnavailable("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard ftruncate(descriptor, off_t(offset)) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw KilnError.storageUnavailable("cannot cut \(path) to \(offset) bytes: \(reason)")
        }
    }

    deinit { close(descriptor) }

    /// Appends `block` at `offset` (pwrite: the position is explicit, nothing shared).
    func write(_ block: [UInt8], at offset: Int64) async throws(KilnError) {
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

    /// On disk before the offset that counts them is recorded: a crash after never loses them.
    func sync() async throws(KilnError) {
        let (descriptor, path) = (descriptor, path)
        try await Blocking.run { () throws(KilnError) in
            guard fsync(descriptor) == 0 else { throw KilnError.storageUnavailable("cannot sync \(path): \(String(cString: strerror(errno)))") }
        }
    }

    /// Drops whatever this chunk wrote.
    func rollBack() { _ = ftruncate(descriptor, off_t(start)) }
}
