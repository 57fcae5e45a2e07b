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
    let records: any UploadStore
    /// How long an upload lives after its last chunk (tus expiration).
    let expiry: Duration
    /// How long an upload may live at all from its creation: chunks do not extend it past this.
    let lifetime: Duration
    private let busy = Mutex<Set<String>>([])

    init(dataDirectory: String, records: any UploadStore, expiry: Duration, lifetime: Duration) {
        directory = dataDirectory + "/uploads"
        self.records = records
        self.expiry = expiry
        self.lifetime = lifetime
    }

    func path(_ id: String) -> String { directory + "/" + id }

    /// `expiry` after `time`, but never past `lifetime` after the upload was `created`: a client
    /// that sends a byte a day cannot hold its disk space for ever.
    func expiresAt(from time: Date = Date(), created: Date) -> Date {
        min(time.addingTimeInterval(JobControl.seconds(expiry)), created.addingTimeInterval(JobControl.seconds(lifetime)))
    }

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

    /// The first `count` bytes kept for upload `id` (fewer when fewer are there).
    func head(_ id: String, count: Int) throws(KilnError) -> [UInt8] {
        guard let file = FileHandle(forReadingAtPath: path(id)) else { throw KilnError.notFoundResource("upload \(id)") }
        defer { try? file.close() }
        do { return [UInt8](try file.read(upToCount: count) ?? Data()) } catch {
            throw KilnError.storageUnavailable("cannot read \(path(id)): \(error.localizedDescription)")
        }
    }

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
