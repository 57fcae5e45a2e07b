import Foundation
import KilnCore
import PostgresNIO

public struct PostgresKeyStore: KeyStore {
    let database: PostgresDatabase
    public init(_ database: PostgresDatabase) { self.database = database }

    private static let columns = "id, name, scope, tenant_id, created_at, revoked_at, last_used_at, hash"

    public func insert(_ key: APIKey, hash: String) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("""
                INSERT INTO kiln_api_keys (id, name, scope, tenant_id, hash, created_at)
                VALUES (\(key.id), \(key.name), \(key.scope.rawValue), \(key.tenant), \(hash), \(key.createdAt.timeIntervalSince1970))
                """, logger: logger)
        }
    }

    public func insertFirst(_ key: APIKey, hash: String) async throws(KilnError) -> Bool {
        let logger = database.logger
        return try await database.query { client in
            try await client.withTransaction(logger: logger) { connection in
                // Nodes starting at once: one at a time, so one sees no key and adds it.
                _ = try await connection.query("SELECT pg_advisory_xact_lock(hashtext('kiln_api_keys:first'))", logger: logger)
                return try await PostgresRows.any(connection.query("""
                    INSERT INTO kiln_api_keys (id, name, scope, tenant_id, hash, created_at)
                    SELECT \(key.id), \(key.name), \(key.scope.rawValue), \(key.tenant), \(hash), \(key.createdAt.timeIntervalSince1970)
                    WHERE NOT EXISTS (SELECT 1 FROM kiln_api_keys) RETURNING id
                    """, logger: logger))
            }
        }
    }

    public func list(tenant: String?) async throws(KilnError) -> [APIKey] {
        try await database.rows("""
            SELECT \(unescaped: Self.columns) FROM kiln_api_keys WHERE \(tenant)::text IS NULL OR tenant_id = \(tenant)
            ORDER BY created_at, id
            """) { try Self.key($0).key }
    }

    public func stored(_ id: String) async throws(KilnError) -> (key: APIKey, hash: String)? {
        try await database.rows("SELECT \(unescaped: Self.columns) FROM kiln_api_keys WHERE id = \(id)", Self.key).first
    }

    public func revoke(_ id: String) async throws(KilnError) -> Bool {
        let logger = database.logger
        return try await database.query { client in
            _ = try await client.query("""
                UPDATE kiln_api_keys SET revoked_at = \(Date().timeIntervalSince1970) WHERE id = \(id) AND revoked_at IS NULL
                """, logger: logger)
            return try await PostgresRows.any(client.query("SELECT 1 FROM kiln_api_keys WHERE id = \(id)", logger: logger))
        }
    }

    public func setWebhook(_ id: String, _ webhook: APIKeys.Webhook?) async throws(KilnError) -> Bool {
        let logger = database.logger
        let secrets = webhook.map { APIKeys.encode(secrets: $0.secrets) }
        return try await database.query { client in
            try await PostgresRows.any(client.query("""
                UPDATE kiln_api_keys SET webhook_url = \(webhook?.url), webhook_secrets = \(secrets) WHERE id = \(id) RETURNING id
                """, logger: logger))
        }
    }

    public func webhook(_ id: String) async throws(KilnError) -> APIKeys.Webhook? {
        let logger = database.logger
        return try await database.query { client in
            for try await (url, secrets) in try await client.query("""
                SELECT webhook_url, webhook_secrets FROM kiln_api_keys WHERE id = \(id) AND revoked_at IS NULL
                """, logger: logger).decode((String?, String?).self) {
                return url.map { APIKeys.Webhook(url: $0, secrets: APIKeys.decode(secrets: secrets)) }
            }
            return nil
        }
    }

    private static func key(_ row: PostgresRow) throws -> (key: APIKey, hash: String) {
        let (id, name, scope, tenant, created, revoked, used, hash) = try row.decode(
            (String, String, String, String, Double, Double?, Double?, String).self)
        return (APIKey(id: id, name: name, scope: Scope(rawValue: scope) ?? .read, tenant: tenant,
                       createdAt: Date(timeIntervalSince1970: created), revokedAt: revoked.map(Date.init(timeIntervalSince1970:)),
                       lastUsedAt: used.map(Date.init(timeIntervalSince1970:))), hash)
    }
}
