import Foundation
import KilnCore

/// A resumable upload (tus, `/v1/uploads`): how far its bytes have come, what it was asked to
/// be processed as, and, once processed, the answer it got. Its bytes live in a file beside
/// the database; this row is the truth about how many of them count (`offset`).
public struct UploadRecord: Sendable, Equatable {
    public let id: String
    /// The key that created it.
    public let keyID: String?
    /// The tenant of that key: its keys see the upload, no other does.
    public let tenant: String?
    /// Nil while the length is deferred (`Upload-Defer-Length`).
    public var length: Int64?
    public var offset: Int64
    /// The decoded `Upload-Metadata` (`preset`, `type`, `fit`, `filename`, and whatever else the client sent).
    public let metadata: [String: String]
    public let createdAt: Date
    public var expiresAt: Date
    /// The answer of the pipeline once the last byte was in and processed.
    public var result: UploadResult?

    public init(id: String, keyID: String?, tenant: String?, length: Int64?, metadata: [String: String], createdAt: Date,
                expiresAt: Date) {
        self.id = id
        self.keyID = keyID
        self.tenant = tenant
        self.length = length
        self.offset = 0
        self.metadata = metadata
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// Every byte is in (the result may still be to come).
    public var isComplete: Bool { length == offset }
}

/// What processing a completed upload answered: the same status and envelope as `POST /v1/media`,
/// and where the media or job it made can be read.
public struct UploadResult: Sendable, Equatable {
    public let status: Int
    public let body: Data
    public let location: String?

    public init(status: Int, body: Data, location: String?) {
        self.status = status
        self.body = body
        self.location = location
    }
}

/// The resumable uploads' records (their bytes are elsewhere: `UploadArea`).
public protocol UploadStore: Sendable {
    /// Creates `upload` unless its tenant would then have more than `maxOpen` unfinished uploads,
    /// or more than `maxBytes` in them (each counted at its length, or its offset while the
    /// length is deferred); false when it would.
    @discardableResult
    func create(_ upload: UploadRecord, maxOpen: Int, maxBytes: Int64) async throws(KilnError) -> Bool
    /// How many unfinished, unexpired uploads `tenant` has, and their bytes.
    func open(tenant: String?, at time: Date) async throws(KilnError) -> (count: Int, bytes: Int64)
    func get(_ id: String) async throws(KilnError) -> UploadRecord?
    /// Moves the offset from `from` to `to` (and fixes the length if it was deferred) only if no
    /// one moved it meanwhile; false when the upload changed or is gone.
    func advance(_ id: String, from: Int64, to: Int64, length: Int64?, expiresAt: Date) async throws(KilnError) -> Bool
    /// Records what processing answered; the upload is kept (to answer HEAD) until it expires.
    func finish(_ id: String, _ result: UploadResult) async throws(KilnError)
    func remove(_ id: String) async throws(KilnError)
    /// Uploads past their expiry.
    func expired(at time: Date) async throws(KilnError) -> [String]
    /// Uploads whose bytes are all in but whose processing never ended (a crash or a stop in between).
    func awaitingProcessing() async throws(KilnError) -> [UploadRecord]
    /// Makes `writer` the one request writing upload `id` until `until` (or renews its hold);
    /// false while another writer's hold runs (one writer per upload, whichever node it is on).
    /// A hold whose writer stopped without releasing it runs out at `until`.
    func claimWriter(_ id: String, writer: String, until: Date, at time: Date) async throws(KilnError) -> Bool
    /// Ends `writer`'s hold on upload `id` (nothing when another holds it), and any room it reserved.
    func releaseWriter(_ id: String, writer: String) async throws(KilnError)
    /// Reserves `bytes` of room for a chunk of deferred-length upload `id`, tenant-wide: in one
    /// write that checks that the tenant's open bytes (each deferred upload counted at its offset
    /// and the room its writer reserved) stay within `maxBytes`, and reserves; false when they
    /// would not. The room counts while the upload's writer hold runs (a node that dies frees it
    /// when its hold runs out) and is freed when the chunk is counted (`advance`) or the hold ends.
    func reserve(_ id: String, tenant: String?, bytes: Int64, maxBytes: Int64, at time: Date) async throws(KilnError) -> Bool
}

extension UploadStore {
    @discardableResult
    public func create(_ upload: UploadRecord) async throws(KilnError) -> Bool {
        try await create(upload, maxOpen: .max, maxBytes: .max)
    }

    public func open(tenant: String?) async throws(KilnError) -> (count: Int, bytes: Int64) {
        try await open(tenant: tenant, at: Date())
    }
}
