import Foundation
import GRDB
import KilnCore

/// The embedded upload records, in `KilnDatabase`.
public struct SQLiteUploadStore: UploadStore {
    let database: KilnDatabase
    public init(_ database: KilnDatabase) { self.database = database }

    @discardableResult
    public func create(_ upload: UploadRecord, maxOpen: Int, maxBytes: Int64) async throws(KilnError) -> Bool {
        let metadata = String(decoding: (try? JSONEncoder().encode(upload.metadata)) ?? Data("{}".utf8), as: UTF8.self)
        return try await database.write { db in
            let (count, bytes) = try Self.open(db, tenant: upload.tenant, at: upload.createdAt)
            guard count < maxOpen, bytes + (upload.length ?? 0) <= maxBytes else { return false }
            try db.execute(sql: """
                INSERT INTO uploads (id, key_id, tenant_id, length, "offset", metadata, created_at, expires_at)
                VALUES (?, ?, ?, ?, 0, ?, ?, ?)
                """, arguments: [upload.id, upload.keyID, upload.tenant, upload.length, metadata,
                                 upload.createdAt.timeIntervalSince1970, upload.expiresAt.timeIntervalSince1970])
            return true
        }
    }

    public func open(tenant: String?, at time: Date) async throws(KilnError) -> (count: Int, bytes: Int64) {
        try await database.read { db in try Self.open(db, tenant: tenant, at: time) }
    }

    private static func open(_ db: Database, tenant: String?, at time: Date) throws -> (count: Int, bytes: Int64) {
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*) AS count,
                COALESCE(SUM(COALESCE(length, "offset" + CASE WHEN writer_until >= ? THEN reserved ELSE 0 END)), 0) AS bytes
            FROM uploads WHERE tenant_id IS ? AND result_status IS NULL AND expires_at >= ?
            """, arguments: [time.timeIntervalSince1970, tenant, time.timeIntervalSince1970])
        return (row?["count"] ?? 0, row?["bytes"] ?? 0)
    }

    public func get(_ id: String) async throws(KilnError) -> UploadRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM uploads WHERE id = ?", arguments: [id]).map(Self.record)
        }
    }

    public func advance(_ id: String, from: Int64, to: Int64, length: Int64?, expiresAt: Date) async throws(KilnError) -> Bool {
        try await database.write { db in
            try db.execute(sql: """
                UPDATE uploads SET "offset" = ?, length = COALESCE(length, ?), expires_at = ?, reserved = 0
                WHERE id = ? AND "offset" = ? AND result_status IS NULL
                """, arguments: [to, length, expiresAt.timeIntervalSince1970, id, from])
            return db.changesCount == 1
        }
    }

    public func finish(_ id: String, _ result: UploadResult) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: """
                UPDATE uploads SET result_status = ?, result_body = ?, result_location = ? WHERE id = ?
                """, arguments: [result.status, result.body, result.location, id])
        }
    }

    public func remove(_ id: String) async throws(KilnError) {
        try await database.write { db in try db.execute(sql: "DELETE FROM uploads WHERE id = ?", arguments: [id]) }
    }

    public func expired(at time: Date) async throws(KilnError) -> [String] {
        try await database.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM uploads WHERE expires_at < ?", arguments: [time.timeIntervalSince1970])
        }
    }

    public func awaitingProcessing() async throws(KilnError) -> [UploadRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM uploads WHERE length = "offset" AND result_status IS NULL ORDER BY created_at, id
                """).map(Self.record)
        }
    }

    public func claimWriter(_ id: String, writer: String, until: Date, at time: Date) async throws(KilnError) -> Bool {
        try await database.write { db in
            try db.execute(sql: """
                UPDATE uploads SET writer = ?, writer_until = ?
                WHERE id = ? AND (writer IS NULL OR writer = ? OR writer_until < ?)
                """, arguments: [writer, until.timeIntervalSince1970, id, writer, time.timeIntervalSince1970])
            return db.changesCount == 1
        }
    }

    public func releaseWriter(_ id: String, writer: String) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: "UPDATE uploads SET writer = NULL, writer_until = NULL, reserved = 0 WHERE id = ? AND writer = ?",
                           arguments: [id, writer])
        }
    }

    private static func record(_ row: Row) -> UploadRecord {
        let text: String = row["metadata"]
        let metadata = (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
        var record = UploadRecord(id: row["id"], keyID: row["key_id"], tenant: row["tenant_id"], length: row["length"], metadata: metadata,
                                  createdAt: Date(timeIntervalSince1970: row["created_at"]),
                                  expiresAt: Date(timeIntervalSince1970: row["expires_at"]))
        record.offset = row["offset"]
        if let status: Int = row["result_status"] {
            record.result = UploadResult(status: status, body: row["result_body"] ?? Data(), location: row["result_location"])
        }
        return record
    }

    static func migrate(_ db: Database) throws {
        try db.create(table: "uploads") { table in
            table.column("id", .text).primaryKey()
            table.column("key_id", .text)
            table.column("length", .integer)
            table.column("offset", .integer).notNull()
            table.column("metadata", .text).notNull()
            table.column("created_at", .double).notNull()
            table.column("expires_at", .double).notNull()
            table.column("result_status", .integer)
            table.column("result_body", .blob)
            table.column("result_location", .text)
        }
        try db.create(index: "uploads_expiry", on: "uploads", columns: ["expires_at"])
    }

    public func reserve(_ id: String, tenant: String?, bytes: Int64, maxBytes: Int64, at time: Date) async throws(KilnError) -> Bool {
        try await database.write { db in
            // One write transaction: no other reservation comes between the count and the mark.
            try db.execute(sql: "UPDATE uploads SET reserved = 0 WHERE id = ?", arguments: [id])
            let (_, open) = try Self.open(db, tenant: tenant, at: time)
            guard open + bytes <= maxBytes else { return false }
            try db.execute(sql: "UPDATE uploads SET reserved = ? WHERE id = ?", arguments: [bytes, id])
            return db.changesCount == 1
        }
    }

    /// The room a chunk of a deferred-length upload holds while it comes in.
    static func migrateReservations(_ db: Database) throws {
        try db.alter(table: "uploads") { table in table.add(column: "reserved", .integer).notNull().defaults(to: 0) }
    }

    /// The one request writing an upload, and until when its hold runs.
    static func migrateWriters(_ db: Database) throws {
        try db.alter(table: "uploads") { table in
            table.add(column: "writer", .text)
            table.add(column: "writer_until", .double)
        }
    }

    /// Uploads go to their key's tenant (before tenants, each key's id names its own).
    static func migrateTenants(_ db: Database) throws {
        try db.alter(table: "uploads") { table in table.add(column: "tenant_id", .text) }
        try db.execute(sql: "UPDATE uploads SET tenant_id = key_id")
        try db.create(index: "uploads_tenant", on: "uploads", columns: ["tenant_id", "result_status"])
    }
}
