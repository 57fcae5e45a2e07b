import Foundation
import Synchronization
import GRDB
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// The embedded database (`<data>/kiln.sqlite`, SQLite in WAL mode through GRDB): API keys,
/// jobs, idempotency records, media records, resumable uploads and the webhook outbox. Several processes may open it at once
/// (`kiln keys` beside a running `kiln serve`): WAL lets readers run beside the one writer,
/// and a writer waits up to `busyTimeout` for another.
public final class KilnDatabase: Sendable {
    let pool: DatabasePool
    public let path: String
    /// Who hears of a job enqueued here (this process's runners: the embedded queue has no
    /// other process to hear from).
    let workListeners = Mutex<[@Sendable () -> Void]>([])

    public static let fileName = "kiln.sqlite"
    static let busyTimeout: TimeInterval = 10

    /// Opens (creating if needed) the database in `directory` and brings its schema up to date.
    public init(directory: String) throws(KilnError) {
        path = directory + "/" + Self.fileName
        pool = try DatabasePool.opening(path, migrator: Self.migrator)
    }

    /// Whether the database answers (for readiness).
    public func ping() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    func read<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws(KilnError) -> T {
        try await pool.reading(work)
    }

    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws(KilnError) -> T {
        try await pool.writing(work)
    }

    /// Every schema version in order (a test builds an older database with a prefix of it).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "api_keys") { table in
                table.column("id", .text).primaryKey()
                table.column("name", .text).notNull()
                table.column("scopes", .text).notNull()
                table.column("hash", .text).notNull()
                table.column("created_at", .double).notNull()
                table.column("revoked_at", .double)
                table.column("last_used_at", .double)
            }
            try db.create(table: "jobs") { table in
                table.column("id", .text).primaryKey()
                table.column("kind", .text).notNull()
                table.column("status", .text).notNull()
                table.column("stage", .text)
                table.column("progress", .double).notNull().defaults(to: 0)
                table.column("priority", .integer).notNull().defaults(to: 0)
                table.column("payload", .blob).notNull()
                table.column("result", .blob)
                table.column("error", .blob)
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("dedupe_key", .text)
                table.column("worker", .text)
                table.column("lease_expires_at", .double)
                table.column("available_at", .double).notNull()
                table.column("cancel_requested", .boolean).notNull().defaults(to: false)
                table.column("created_at", .double).notNull()
                table.column("updated_at", .double).notNull()
            }
            try db.create(index: "jobs_claim", on: "jobs", columns: ["status", "priority", "available_at"])
            try db.create(index: "jobs_dedupe", on: "jobs", columns: ["dedupe_key"])
            try db.create(table: "idempotency") { table in
                table.column("key_id", .text).notNull()
                table.column("idempotency_key", .text).notNull()
                table.column("request_hash", .text).notNull()
                table.column("status", .integer).notNull()
                table.column("body", .blob).notNull()
                table.column("created_at", .double).notNull()
                table.primaryKey(["key_id", "idempotency_key"])
            }
            try db.create(table: "media") { table in
                table.column("id", .text).primaryKey()
                table.column("kind", .text).notNull()
                table.column("key_id", .text)
                table.column("bytes", .integer).notNull()
                table.column("created_at", .double).notNull()
            }
        }
        migrator.registerMigration("v2 dead letters") { db in
            try db.alter(table: "jobs") { table in
                table.add(column: "dead_letter", .boolean).notNull().defaults(to: false)
            }
        }
        migrator.registerMigration("v3 job events") { db in
            try db.alter(table: "jobs") { table in table.add(column: "event_sent_at", .double) }
            // Jobs that ended before events existed have nothing to send.
            try db.execute(sql: """
                UPDATE jobs SET event_sent_at = updated_at WHERE status IN ('succeeded', 'failed', 'cancelled')
                """)
            try db.create(index: "jobs_events", on: "jobs", columns: ["event_sent_at", "status", "updated_at"])
        }
        migrator.registerMigration("v4 resumable uploads") { db in try SQLiteUploadStore.migrate(db) }
        migrator.registerMigration("v5 webhooks") { db in try SQLiteOutbox.migrate(db) }
        migrator.registerMigration("v6 tenants") { db in
            try SQLiteKeyStore.migrateTenants(db)
            try SQLiteMediaRecords.migrateTenants(db)
            try SQLiteUploadStore.migrateTenants(db)
        }
        migrator.registerMigration("v7 upload writers") { db in try SQLiteUploadStore.migrateWriters(db) }
        migrator.registerMigration("v8 delivery traces") { db in try SQLiteOutbox.migrateTraces(db) }
        migrator.registerMigration("v9 kept values") { db in try SQLiteKeptValues.migrate(db) }
        migrator.registerMigration("v10 upload reservations") { db in try SQLiteUploadStore.migrateReservations(db) }
        return migrator
    }
}

extension DatabasePool {
    /// Opens (creating its directory and file if needed) a WAL database whose writers wait
    /// for one another, and brings its schema up to date; FILE_006 when it cannot.
    /// Two processes opening a new file at once race to switch it to WAL, and the loser is
    /// told "database is locked" without the busy handler: that open is retried (bounded).
    static func opening(_ path: String, migrator: DatabaseMigrator) throws(KilnError) -> DatabasePool {
        var attempt = 0
        while true {
            do {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                // Keys' hashes and webhook secrets: the owner's alone. SQLite gives the -wal and
                // -shm files the database file's mode, so it is made 0600 before SQLite opens it.
                let descriptor = Glibc.open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
                if descriptor >= 0 { Glibc.close(descriptor) }
                for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) }
                var configuration = Configuration()
                configuration.busyMode = .timeout(KilnDatabase.busyTimeout)
                configuration.label = "kiln"
                let pool = try DatabasePool(path: path, configuration: configuration)
                try migrator.migrate(pool)
                return pool
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && attempt < 50 {
                attempt += 1
                usleep(UInt32(20_000 + Int.random(in: 0..<30_000)))
            } catch {
                throw KilnError.storageUnavailable("cannot open the database \(path): \(error)")
            }
        }
    }

    /// A read whose failure is FILE_006 (a KilnError thrown inside passes through).
    func reading<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws(KilnError) -> T {
        do { return try await read(work) } catch { throw Self.failure(error) }
    }

    /// A write whose failure is FILE_006 (a KilnError thrown inside passes through).
    func writing<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws(KilnError) -> T {
        do { return try await write(work) } catch { throw Self.failure(error) }
    }

    private static func failure(_ error: any Error) -> KilnError {
        if let error = error as? KilnError { return error }
        return KilnError.storageUnavailable("the database failed: \(error)")
    }
}
