import Foundation
import KilnCore
import PostgresNIO

public struct PostgresMediaRecords: MediaRecordStore {
    let database: PostgresDatabase
    public init(_ database: PostgresDatabase) { self.database = database }

    public func add(_ item: MediaItem, tenant: String?, keyID: String?) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query(Self.hold(item.id, kind: item.kind.rawValue, by: "", tenant, keyID, item.renditionBytes),
                                   logger: logger)
        }
    }

    public func add(_ carousel: CarouselRecord, items: [MediaItem], tenant: String?, keyID: String?) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(Self.hold(carousel.id, kind: "carousel", by: "", tenant, keyID,
                                                     items.reduce(0) { $0 + $1.renditionBytes }), logger: logger)
                for item in items {
                    _ = try await connection.query(Self.hold(item.id, kind: item.kind.rawValue, by: carousel.id, tenant, keyID,
                                                         item.renditionBytes), logger: logger)
                }
            }
        }
    }

    private static func hold(_ id: String, kind: String, by holder: String, _ tenant: String?, _ keyID: String?,
                             _ bytes: Int64) -> PostgresQuery {
        """
        INSERT INTO kiln_media (id, holder, kind, tenant_id, key_id, bytes, created_at)
        VALUES (\(id), \(holder), \(kind), \(tenant), \(keyID), \(bytes), \(Date().timeIntervalSince1970))
        ON CONFLICT DO NOTHING
        """
    }

    public func tenant(of id: String) async throws(KilnError) -> String? {
        let logger = database.logger
        return try await database.query { client in
            for try await tenant in try await client.query("""
                SELECT tenant_id FROM kiln_media WHERE id = \(id) AND tenant_id IS NOT NULL LIMIT 1
                """, logger: logger).decode(String.self) { return tenant }
            return nil
        }
    }

    public func release(id: String, tenant: String?) async throws(KilnError) -> [String] {
        let logger = database.logger
        return try await database.query { client in
            try await client.withTransaction(logger: logger) { connection in
                // Releases one at a time: two carousels sharing an item, released at once on two
                // nodes, would each still see the other's hold and neither free the item.
                _ = try await connection.query("SELECT pg_advisory_xact_lock(4815162343)", logger: logger)
                var carousels: [String] = []
                for try await carousel in try await connection.query("""
                    SELECT holder FROM kiln_media WHERE id = \(id) AND holder <> '' AND tenant_id IS NOT DISTINCT FROM \(tenant)
                    ORDER BY holder
                    """, logger: logger).decode(String.self) { carousels.append(carousel) }
                if !carousels.isEmpty { throw KilnError.mediaInUse(id, carousels: carousels) }
                var items: [String] = []
                for try await item in try await connection.query("""
                    SELECT id FROM kiln_media WHERE holder = \(id) AND tenant_id IS NOT DISTINCT FROM \(tenant)
                    """, logger: logger).decode(String.self) { items.append(item) }
                _ = try await connection.query("""
                    DELETE FROM kiln_media WHERE tenant_id IS NOT DISTINCT FROM \(tenant) AND ((id = \(id) AND holder = '') OR holder = \(id))
                    """, logger: logger)
                var free: [String] = []
                for item in items where !(try await PostgresRows.any(connection.query(
                    "SELECT 1 FROM kiln_media WHERE id = \(item) LIMIT 1", logger: logger))) {
                    free.append(item)
                }
                return free
            }
        }
    }
}
