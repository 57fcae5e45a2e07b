import KilnCore

/// Every store an API node keeps its state in, on one backend: the embedded SQLite database
/// (one node), or PostgreSQL shared by every node and worker (SPEC §8).
public struct SharedState: Sendable {
    public let keys: any KeyStore
    public let idempotency: any IdempotencyStore
    public let records: any MediaRecordStore
    public let uploads: any UploadStore
    public let outbox: any OutboxStore
    /// Requests per key per window, for the rate limit.
    public let rates: any RateCounter
    /// What is made once and shared (the URL secret).
    public let kept: any KeptValueStore

    /// The stores in the embedded database.
    public static func embedded(_ database: KilnDatabase) -> SharedState {
        SharedState(keys: SQLiteKeyStore(database), idempotency: SQLiteIdempotencyStore(database),
                    records: SQLiteMediaRecords(database), uploads: SQLiteUploadStore(database), outbox: SQLiteOutbox(database),
                    rates: MemoryRateCounter(), kept: SQLiteKeptValues(database))
    }

    /// The stores in a PostgreSQL database (migrated with the queue's schema).
    public static func postgres(_ database: PostgresDatabase) -> SharedState {
        SharedState(keys: PostgresKeyStore(database), idempotency: PostgresIdempotencyStore(database),
                    records: PostgresMediaRecords(database), uploads: PostgresUploadStore(database),
                    outbox: PostgresOutbox(database), rates: PostgresRateCounter(database), kept: PostgresKeptValues(database))
    }
}
