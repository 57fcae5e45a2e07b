import Foundation
import GRDB
import KilnCore

/// The embedded media records, in `KilnDatabase`.
public struct SQLiteMediaRecords: MediaRecordStore {
    let database: KilnDatabase
    public init(_ database: KilnDatabase) { self.database = database }

    public func add(_ item: MediaItem, tenant: String?, keyID: String?) async throws(KilnError) {
        try await database.write { db in try Self.hold(db, item.id, kind: item.kind.rawValue, by: "", tenant, keyID, item.renditionBytes) }
    }

    public func add(_ carousel: CarouselRecord, items: [MediaItem], tenant: String?, keyID: String?) async throws(KilnError) {
        try await database.write { db in
            try Self.hold(db, carousel.id, kind: "carousel", by: "", tenant, keyID, items.reduce(0) { $0 + $1.renditionBytes })
            for item in items { try Self.hold(db, item.id, kind: item.kind.rawValue, by: carousel.id, tenant, keyID, item.renditionBytes) }
        }
    }

    private static func hold(_ db: Database, _ id: String, kind: String, by holder: String, _ tenant: String?, _ keyID: String?,
                             _ bytes: Int64) throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO media (id, holder, kind, tenant_id, key_id, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [id, holder, kind, tenant, keyID, bytes, Date().timeIntervalSince1970])
    }

    public func tenant(of id: String) async throws(KilnError) -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT tenant_id FROM media WHERE id = ? AND tenant_id IS NOT NULL LIMIT 1",
                                arguments: [id])
        }
    }

    public func release(id: String, tenant: String?) async throws(KilnError) -> [String] {
        try await database.write { db in
            let carousels = try String.fetchAll(db, sql: "SELECT holder FROM media WHERE id = ? AND holder != '' AND tenant_id IS ? ORDER BY holder",
                                                arguments: [id, tenant])
            if !carousels.isEmpty { throw KilnError.mediaInUse(id, carousels: carousels) }
            let items = try String.fetchAll(db, sql: "SELECT id FROM media WHERE holder = ? AND tenant_id IS ?",
                                            arguments: [id, tenant])
            try db.execute(sql: "DELETE FROM media WHERE tenant_id IS ? AND ((id = ? AND holder = '') OR holder = ?)",
                           arguments: [tenant, id, id])
            return try items.filter { item in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM media WHERE id = ?", arguments: [item]) == 0
            }
        }
    }

    /// Media rows before tenants had one hold each and no tenant: each goes to its key's tenant
    /// (the key's id, see `SQLiteKeyStore.migrateTenants`), as its upload's hold.
    static func migrateTenants(_ db: Database) throws {
        try db.create(table: "media_holds") { table in
            table.column("id", .text).notNull()
            table.column("holder", .text).notNull().defaults(to: "")
            table.column("kind", .text).notNull()
            table.column("tenant_id", .text)
            table.column("key_id", .text)
            table.column("bytes", .integer).notNull()
            table.column("created_at", .double).notNull()
            table.primaryKey(["id", "holder"])
        }
        try db.execute(sql: """
            INSERT INTO media_holds (id, holder, kind, tenant_id, key_id, bytes, created_at)
            SELECT media.id, '', media.kind, api_keys.tenant_id, media.key_id, media.bytes, media.created_at
            FROM media LEFT JOIN api_keys ON api_keys.id = media.key_id
            """)
        try db.drop(table: "media")
        try db.rename(table: "media_holds", to: "media")
        try db.create(index: "media_holder", on: "media", columns: ["holder"])
    }
}
