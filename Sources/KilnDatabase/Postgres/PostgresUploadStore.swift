import Foundation
import KilnCore
import PostgresNIO

public struct PostgresUploadStore: UploadStore {
    let database: PostgresDatabase
    public init(_ database: PostgresDatabase) { self.database = database }

    private static let columns = """
        id, key_id, tenant_id, length, "offset", metadata, created_at, expires_at, result_status, result_body, result_location
        """

    @discardableResult
    public func create(_ upload: UploadRecord, maxOpen: Int, maxBytes: Int64) async throws(KilnError) -> Bool {
        let logger = database.logger
        let metadata = String(decoding: (try? JSONEncoder().encode(upload.metadata)) ?? Data("{}".utf8), as: UTF8.self)
        return try await database.query { client in
            try await client.withTransaction(logger: logger) { connection in
                // One tenant's creations one at a time, on any node: the caps hold.
                _ = try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("kiln_uploads:" + (upload.tenant ?? ""))))",
                                           logger: logger)
                let (count, bytes) = try await Self.open(connection, tenant: upload.tenant, at: upload.createdAt, logger: logger)
                guard count < maxOpen, bytes + (upload.length ?? 0) <= maxBytes else { return false }
                _ = try await connection.query("""
                    INSERT INTO kiln_uploads (id, key_id, tenant_id, length, "offset", metadata, created_at, expires_at)
                    VALUES (\(upload.id), \(upload.keyID), \(upload.tenant), \(upload.length), 0, \(metadata),
                            \(upload.createdAt.timeIntervalSince1970), \(upload.expiresAt.timeIntervalSince1970))
                    """, logger: logger)
                return true
            }
        }
    }

    public func open(tenant: String?, at time: Date) async throws(KilnError) -> (count: Int, bytes: Int64) {
        let logger = database.logger
        return try await database.query { client in
            try await client.withConnection { connection in try await Self.open(connection, tenant: tenant, at: time, logger: logger) }
        }
    }

    private static func open(_ connection: PostgresConnection, tenant: String?, at time: Date, logger: Logger) async throws
        -> (count: Int, bytes: Int64)
    {
        for try await (count, bytes) in try await connection.query("""
            SELECT COUNT(*)::bigint,
                COALESCE(SUM(COALESCE(length, "offset" + CASE WHEN writer_until >= \(time.timeIntervalSince1970) THEN reserved ELSE 0 END)), 0)::bigint
            FROM kiln_uploads WHERE tenant_id IS NOT DISTINCT FROM \(tenant) AND result_status IS NULL AND expires_at >= \(time.timeIntervalSince1970)
            """, logger: logger).decode((Int64, Int64).self) { return (Int(count), bytes) }
        return (0, 0)
    }

    public func get(_ id: String) async throws(KilnError) -> UploadRecord? {
        try await records("SELECT \(unescaped: Self.columns) FROM kiln_uploads WHERE id = \(id)").first
    }

    public func advance(_ id: String, from: Int64, to: Int64, length: Int64?, expiresAt: Date) async throws(KilnError) -> Bool {
        let logger = database.logger
        return try await database.query { client in
            try await PostgresRows.any(client.query("""
                UPDATE kiln_uploads SET "offset" = \(to), length = COALESCE(length, \(length)), expires_at = \(expiresAt.timeIntervalSince1970),
                    reserved = 0
                WHERE id = \(id) AND "offset" = \(from) AND result_status IS NULL RETURNING id
                """, logger: logger))
        }
    }

    public func finish(_ id: String, _ result: UploadResult) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("""
                UPDATE kiln_uploads SET result_status = \(result.status), result_body = \(result.body),
                    result_location = \(result.location) WHERE id = \(id)
                """, logger: logger)
        }
    }

    public func remove(_ id: String) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in _ = try await client.query("DELETE FROM kiln_uploads WHERE id = \(id)", logger: logger) }
    }

    public func expired(at time: Date) async throws(KilnError) -> [String] {
        try await database.rows("SELECT id FROM kiln_uploads WHERE expires_at < \(time.timeIntervalSince1970)") {
            try $0.decode(String.self)
        }
    }

    public func awaitingProcessing() async throws(KilnError) -> [UploadRecord] {
        try await records("""
            SELECT \(unescaped: Self.columns) FROM kiln_uploads WHERE length = "offset" AND result_status IS NULL ORDER BY created_at, id
            """)
    }

    public func claimWriter(_ id: String, writer: String, until: Date, at time: Date) async throws(KilnError) -> Bool {
        let logger = database.logger
        return try await database.query { client in
            try await PostgresRows.any(client.query("""
                UPDATE kiln_uploads SET writer = \(writer), writer_until = \(until.timeIntervalSince1970)
                WHERE id = \(id) AND (writer IS NULL OR writer = \(writer) OR writer_until < \(time.timeIntervalSince1970))
                RETURNING id
                """, logger: logger))
        }
    }

    public func releaseWriter(_ id: String, writer: String) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("""
                UPDATE kiln_uploads SET writer = NULL, writer_until = NULL, reserved = 0 WHERE id = \(id) AND writer = \(writer)
                """, logger: logger)
        }
    }

    public func reserve(_ id: String, tenant: String?, bytes: Int64, maxBytes: Int64, at time: Date) async throws(KilnError) -> Bool {
        let logger = database.logger
        return try await database.query { client in
            try await client.withTransaction(logger: logger) { connection in
                // The tenant's reservations and creations one at a time, on any node (the lock create takes).
                _ = try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("kiln_uploads:" + (tenant ?? ""))))",
                                               logger: logger)
                _ = try await connection.query("UPDATE kiln_uploads SET reserved = 0 WHERE id = \(id)", logger: logger)
                let (_, open) = try await Self.open(connection, tenant: tenant, at: time, logger: logger)
                guard open + bytes <= maxBytes else { return false }
                return try await PostgresRows.any(connection.query(
                    "UPDATE kiln_uploads SET reserved = \(bytes) WHERE id = \(id) RETURNING id", logger: logger))
            }
        }
    }

    private func records(_ query: PostgresQuery) async throws(KilnError) -> [UploadRecord] {
        try await database.rows(query, Self.record)
    }

    private static func record(_ row: PostgresRow) throws -> UploadRecord {
        let (id, keyID, tenant, length, offset, text, created, expires, status, body, location) = try row.decode(
            (String, String?, String?, Int64?, Int64, String, Double, Double, Int?, Data?, String?).self)
        let metadata = (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
        var record = UploadRecord(id: id, keyID: keyID, tenant: tenant, length: length, metadata: metadata,
                                  createdAt: Date(timeIntervalSince1970: created), expiresAt: Date(timeIntervalSince1970: expires))
        record.offset = offset
        if let status { record.result = UploadResult(status: status, body: body ?? Data(), location: location) }
        return record
    }
}
