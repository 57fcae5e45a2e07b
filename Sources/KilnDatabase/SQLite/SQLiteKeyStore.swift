import Crypto
import Foundation
import GRDB
import KilnCore

/// The embedded key store, in `KilnDatabase`.
public struct SQLiteKeyStore: KeyStore {
    let database: KilnDatabase

    public init(_ database: KilnDatabase) { self.database = database }

    public func insert(_ key: APIKey, hash: String) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: "INSERT INTO api_keys (id, name, scopes, tenant_id, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [key.id, key.name, key.scope.rawValue, key.tenant, hash, key.createdAt.timeIntervalSince1970])
        }
    }

    public func insertFirst(_ key: APIKey, hash: String) async throws(KilnError) -> Bool {
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO api_keys (id, name, scopes, tenant_id, hash, created_at)
                SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM api_keys)
                """, arguments: [key.id, key.name, key.scope.rawValue, key.tenant, hash, key.createdAt.timeIntervalSince1970])
            return db.changesCount == 1
        }
    }

    public func list(tenant: String?) async throws(KilnError) -> [APIKey] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM api_keys WHERE ? IS NULL OR tenant_id = ? ORDER BY created_at, id
                """, arguments: [tenant, tenant]).map(Self.key)
        }
    }

    public func stored(_ id: String) async throws(KilnError) -> (key: APIKey, hash: String)? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).map { (Self.key($0), $0["hash"]) }
        }
    }

    public func revoke(_ id: String) async throws(KilnError) -> Bool {
        try await database.write { db in
            try db.execute(sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [Date().timeIntervalSince1970, id])
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM api_keys WHERE id = ?", arguments: [id]) == 1
        }
    }

    public func setWebhook(_ id: String, _ webhook: APIKeys.Webhook?) async throws(KilnError) -> Bool {
        let secrets = webhook.map { APIKeys.encode(secrets: $0.secrets) }
        return try await database.write { db in
            try db.execute(sql: "UPDATE api_keys SET webhook_url = ?, webhook_secrets = ? WHERE id = ?",
                           arguments: [webhook?.url, secrets, id])
            return db.changesCount == 1
        }
    }

    public func webhook(_ id: String) async throws(KilnError) -> APIKeys.Webhook? {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT webhook_url, webhook_secrets FROM api_keys WHERE id = ? AND revoked_at IS NULL
                """, arguments: [id]), let url: String = row["webhook_url"] else { return nil }
            return APIKeys.Webhook(url: url, secrets: APIKeys.decode(secrets: row["webhook_secrets"]))
        }
    }

    /// Keys made before tenants each become a tenant of their own, named by their id.
    static func migrateTenants(_ db: Database) throws {
        try db.alter(table: "api_keys") { table in table.add(column: "tenant_id", .text) }
        try db.execute(sql: "UPDATE api_keys SET tenant_id = id")
        try db.create(index: "api_keys_tenant", on: "api_keys", columns: ["tenant_id"])
    }

    static func key(_ row: Row) -> APIKey {
        let revoked: Double? = row["revoked_at"]
        let used: Double? = row["last_used_at"]
        return APIKey(id: row["id"], name: row["name"], scope: Scope(rawValue: row["scopes"]) ?? .read,
                      tenant: row["tenant_id"] ?? row["id"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
                      revokedAt: revoked.map(Date.init(timeIntervalSince1970:)),
                      lastUsedAt: used.map(Date.init(timeIntervalSince1970:)))
    }
}
