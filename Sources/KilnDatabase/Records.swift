import Foundation
import GRDB
import KilnCore

/// The first answer to a POST made with an `Idempotency-Key`, per API key.
public struct IdempotencyRecords: Sendable {
    let database: KilnDatabase
    public init(_ database: KilnDatabase) { self.database = database }

    public struct Answer: Sendable, Equatable {
        /// Digest of what was asked (method, path, query): the same key on another request is refused.
        public let requestHash: String
        public let status: Int
        public let body: Data

        public init(requestHash: String, status: Int, body: Data) {
            self.requestHash = requestHash
            self.status = status
            self.body = body
        }
    }

    public func answer(keyID: String, idempotencyKey: String) async throws(KilnError) -> Answer? {
        try await database.read { db in
            try Row.fetchOne(db, sql: """
                SELECT request_hash, status, body FROM idempotency WHERE key_id = ? AND idempotency_key = ?
                """, arguments: [keyID, idempotencyKey]).map {
                Answer(requestHash: $0["request_hash"], status: $0["status"], body: $0["body"])
            }
        }
    }

    /// Records the answer unless one is there (the first wins).
    public func record(keyID: String, idempotencyKey: String, _ answer: Answer) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO idempotency (key_id, idempotency_key, request_hash, status, body, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [keyID, idempotencyKey, answer.requestHash, answer.status, answer.body,
                                 Date().timeIntervalSince1970])
        }
    }
}

/// Which media the server published, for whom (the store holds the media themselves).
public struct MediaRecords: Sendable {
    let database: KilnDatabase
    public init(_ database: KilnDatabase) { self.database = database }

    public func add(id: String, kind: String, keyID: String?, bytes: Int64) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO media (id, kind, key_id, bytes, created_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [id, kind, keyID, bytes, Date().timeIntervalSince1970])
        }
    }

    public func remove(id: String) async throws(KilnError) {
        try await database.write { db in try db.execute(sql: "DELETE FROM media WHERE id = ?", arguments: [id]) }
    }

    public func contains(id: String) async throws(KilnError) -> Bool {
        try await database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM media WHERE id = ?", arguments: [id]) == 1
        }
    }
}
