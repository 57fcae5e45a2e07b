import Foundation
import KilnCore
import KilnDatabase
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where resumable uploads live: their bytes (`UploadBytes`: a file on this node, or chunks in
/// the store every node shares), their rows (whose `offset` says how many bytes count), and
/// which request writes each now (one at a time, held in the rows: on any node).
final class UploadArea: Sendable {
    let bytes: any UploadBytes
    let records: any UploadStore
    /// How long an upload lives after its last chunk (tus expiration).
    let expiry: Duration
    /// How long an upload may live at all from its creation: chunks do not extend it past this.
    let lifetime: Duration
    /// How long a writer's hold runs without a renewal (renewed every third of it while the
    /// chunk comes in): a node that dies mid-chunk holds the upload this long at most.
    static let writerLease: TimeInterval = 30

    init(bytes: any UploadBytes, records: any UploadStore, expiry: Duration, lifetime: Duration) {
        self.bytes = bytes
        self.records = records
        self.expiry = expiry
        self.lifetime = lifetime
    }

    /// `expiry` after `time`, but never past `lifetime` after the upload was `created`: a client
    /// that sends a byte a day cannot hold its disk space for ever.
    func expiresAt(from time: Date = Date(), created: Date) -> Date {
        min(time.addingTimeInterval(JobControl.seconds(expiry)), created.addingTimeInterval(JobControl.seconds(lifetime)))
    }

    /// Runs `work` as the only request on upload `id`, on whichever node; API_007 while another
    /// holds it.
    func holding<T>(_ id: String, offset: Int64, _ work: () async throws -> T) async throws -> T {
        let writer = UUID().uuidString
        let lease = Self.writerLease
        guard try await records.claimWriter(id, writer: writer, until: Date().addingTimeInterval(lease), at: Date()) else {
            throw KilnError.uploadConflict("another request is writing to this upload", offset: offset)
        }
        let records = records
        let renewal = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(lease / 3))
                guard !Task.isCancelled else { return }
                _ = try? await records.claimWriter(id, writer: writer, until: Date().addingTimeInterval(lease), at: Date())
            }
        }
        let result: Result<T, any Error>
        do { result = .success(try await work()) } catch { result = .failure(error) }
        renewal.cancel()
        try? await records.releaseWriter(id, writer: writer)
        return try result.get()
    }

    /// Removes an upload, its row and its bytes (expired, terminated or processed and expired).
    func remove(_ id: String) async throws(KilnError) {
        try await records.remove(id)
        await bytes.remove(id)
    }

    /// Bytes left without a row (a crash between making their room and the row): removed.
    func removeOrphans() async throws(KilnError) {
        let records = records
        try await bytes.removeOrphans { id throws(KilnError) in try await records.get(id) != nil }
    }
}
