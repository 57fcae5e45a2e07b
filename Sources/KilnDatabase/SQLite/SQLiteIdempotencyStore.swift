import Foundation
import GRDB
import KilnCore

/// The embedded idempotency store, in `KilnDatabase`.
public struct SQLiteIdempotencyStore: IdempotencyStore {
    let database: KilnDatabase
    public init(_ database: KilnDatabase) { self.database = database }

    public func begin(keyID: String, idempotencyKey: String, requestHash: String, at time: Date)
        async throws(KilnError) -> IdempotencyRecords.Answer?
    {
        try await database.write { db in
            if let row = try Row.fetchOne(db, sql: """
                SELECT request_hash, status, body, created_at FROM idempotency WHERE key_id = ? AND idempotency_key = ?
                """, arguments: [keyID, idempotencyKey]) {
                let answer = IdempotencyRecords.Answer(requestHash: row["request_hash"], status: row["status"], body: row["body"])
                let created: Double = row["created_at"]
                if !answer.inFlight || time.timeIntervalSince1970 - created < IdempotencyRecords.inFlightLimit { return answer }
            }
            try db.execute(sql: """
                INSERT OR REPLACE INTO idempotency (key_id, idempotency_key, request_hash, status, body, created_at)
                VALUES (?, ?, ?, 0, x'', ?)
                """, arguments: [keyID, idempotencyKey, requestHash, time.timeIntervalSince1970])
            return nil
        }
    }

    public func record(keyID: String, idempotencyKey: String, _ answer: IdempotencyRecords.Answer) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO idempotency (key_id, idempotency_key, request_hash, status, body, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [keyID, idempotencyKey, answer.requestHash, answer.status, answer.body,
                                 Date().timeIntervalSince1970])
        }
    }

    public func abandon(keyID: String, idempotencyKey: String) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM idempotency WHERE key_id = ? AND idempotency_key = ? AND status = 0",
                           arguments: [keyID, idempotencyKey])
        }
    }

    public func prune(before time: Date) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM idempotency WHERE created_at < ?", arguments: [time.timeIntervalSince1970])
        }
    }
}
