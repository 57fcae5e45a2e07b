import Foundation
import KilnCore
import PostgresNIO

public struct PostgresIdempotencyStore: IdempotencyStore {
    let database: PostgresDatabase
    public init(_ database: PostgresDatabase) { self.database = database }

    public func begin(keyID: String, idempotencyKey: String, requestHash: String, at time: Date) async throws(KilnError)
        -> IdempotencyRecords.Answer?
    {
        let logger = database.logger
        let now = time.timeIntervalSince1970
        let stale = now - IdempotencyRecords.inFlightLimit
        return try await database.query { client in
            // One statement takes the key: a new marker, or one a crash left (in flight too long).
            // A request that does not take it reads the answer (or marker) that holds it; one
            // abandoned in between is tried again.
            for _ in 0..<5 {
                if try await PostgresRows.any(client.query("""
                    INSERT INTO kiln_idempotency (key_id, idempotency_key, request_hash, status, body, created_at)
                    VALUES (\(keyID), \(idempotencyKey), \(requestHash), 0, '', \(now))
                    ON CONFLICT (key_id, idempotency_key) DO UPDATE
                        SET request_hash = EXCLUDED.request_hash, status = 0, body = '', created_at = EXCLUDED.created_at
                        WHERE kiln_idempotency.status = 0 AND kiln_idempotency.created_at <= \(stale)
                    RETURNING 1
                    """, logger: logger)) { return nil }
                for try await (hash, status, body) in try await client.query("""
                    SELECT request_hash, status, body FROM kiln_idempotency
                    WHERE key_id = \(keyID) AND idempotency_key = \(idempotencyKey)
                    """, logger: logger).decode((String, Int, Data).self) {
                    return IdempotencyRecords.Answer(requestHash: hash, status: status, body: body)
                }
            }
            throw KilnError.idempotencyInFlight()
        }
    }

    public func record(keyID: String, idempotencyKey: String, _ answer: IdempotencyRecords.Answer) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("""
                INSERT INTO kiln_idempotency (key_id, idempotency_key, request_hash, status, body, created_at)
                VALUES (\(keyID), \(idempotencyKey), \(answer.requestHash), \(answer.status), \(answer.body), \(Date().timeIntervalSince1970))
                ON CONFLICT (key_id, idempotency_key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
                    status = EXCLUDED.status, body = EXCLUDED.body, created_at = EXCLUDED.created_at
                """, logger: logger)
        }
    }

    public func abandon(keyID: String, idempotencyKey: String) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("""
                DELETE FROM kiln_idempotency WHERE key_id = \(keyID) AND idempotency_key = \(idempotencyKey) AND status = 0
                """, logger: logger)
        }
    }

    public func prune(before time: Date) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("DELETE FROM kiln_idempotency WHERE created_at < \(time.timeIntervalSince1970)", logger: logger)
        }
    }
}
