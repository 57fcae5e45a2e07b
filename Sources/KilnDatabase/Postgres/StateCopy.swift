import Foundation
import GRDB
import KilnCore
import PostgresNIO

/// Moves an embedded server's state into the shared database when it grows to several nodes
/// (`kiln state copy --from DIR --to postgres://…`): keys with their tenants, digests and
/// webhooks, media records, idempotency answers, the webhook outbox and kept values (the URL
/// secret). Each row is added unless the shared database has it already, so the copy can be run
/// again safely; nothing in the embedded database changes. Resumable uploads in flight are not
/// moved (their bytes are on this node's disk): they finish on the embedded server or expire.
public enum StateCopy {
    /// How many rows of each kind were read, and how many of them were new to the shared database.
    public struct Counts: Sendable, Equatable, CustomStringConvertible {
        public var read: [String: Int] = [:]
        public var added: [String: Int] = [:]

        public var description: String {
            read.keys.sorted().map { "\($0): \(added[$0] ?? 0) added of \(read[$0] ?? 0)" }.joined(separator: ", ")
        }
    }

    /// One table's rows as plain values (read in the embedded database, written in the shared one).
    private struct Snapshot: Sendable {
        struct Key: Sendable {
            let id, name, scope, hash: String
            let tenant, url, secrets: String?
            let created: Double
            let revoked, used: Double?
        }
        struct Answer: Sendable {
            let keyID, key, hash: String
            let status: Int
            let body: Data
            let created: Double
        }
        struct Hold: Sendable {
            let id, holder, kind: String
            let tenant, keyID: String?
            let bytes: Int64
            let created: Double
        }
        struct Delivery: Sendable {
            let id, event, type, endpoint, url, status: String
            let keyID, lastError, trace: String?
            let body: Data
            let attempts: Int
            let lastStatus: Int?
            let next, created: Double
            let delivered: Double?
        }
        var keys: [Key] = []
        var answers: [Answer] = []
        var holds: [Hold] = []
        var deliveries: [Delivery] = []
        var kept: [(name: String, value: String)] = []

        init(_ db: Database) throws {
            keys = try Row.fetchAll(db, sql: "SELECT * FROM api_keys").map {
                Key(id: $0["id"], name: $0["name"], scope: $0["scopes"], hash: $0["hash"], tenant: $0["tenant_id"],
                    url: $0["webhook_url"], secrets: $0["webhook_secrets"], created: $0["created_at"], revoked: $0["revoked_at"],
                    used: $0["last_used_at"])
            }
            // An answer still in flight (status 0) is not an answer: not copied.
            answers = try Row.fetchAll(db, sql: "SELECT * FROM idempotency WHERE status > 0").map {
                Answer(keyID: $0["key_id"], key: $0["idempotency_key"], hash: $0["request_hash"], status: $0["status"],
                       body: $0["body"], created: $0["created_at"])
            }
            holds = try Row.fetchAll(db, sql: "SELECT * FROM media").map {
                Hold(id: $0["id"], holder: $0["holder"], kind: $0["kind"], tenant: $0["tenant_id"], keyID: $0["key_id"],
                     bytes: $0["bytes"], created: $0["created_at"])
            }
            deliveries = try Row.fetchAll(db, sql: "SELECT * FROM webhook_deliveries").map {
                Delivery(id: $0["id"], event: $0["event_id"], type: $0["type"], endpoint: $0["endpoint"], url: $0["url"],
                         status: $0["status"], keyID: $0["key_id"], lastError: $0["last_error"], trace: $0["trace"],
                         body: $0["body"], attempts: $0["attempts"], lastStatus: $0["last_status"], next: $0["next_attempt_at"],
                         created: $0["created_at"], delivered: $0["delivered_at"])
            }
            kept = try Row.fetchAll(db, sql: "SELECT name, value FROM kept_values").map { (name: $0["name"], value: $0["value"]) }
        }
    }

    /// Copies `embedded` into `shared` (already migrated).
    public static func copy(from embedded: KilnDatabase, to shared: PostgresDatabase) async throws(KilnError) -> Counts {
        var snapshot = try await embedded.read { db in try Snapshot(db) }
        // A server older than kept values kept its URL secret in a file beside the database.
        if !snapshot.kept.contains(where: { $0.name == "url-secret" }),
           let text = FileManager.default.contents(atPath: (embedded.path as NSString).deletingLastPathComponent + "/url-secret")
               .flatMap({ String(data: $0, encoding: .utf8) })?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            snapshot.kept.append((name: "url-secret", value: text))
        }
        let logger = shared.logger
        let rows = snapshot
        return try await shared.query { client in
            try await client.withTransaction(logger: logger) { connection in
                var counts = Counts()
                func insert(_ kind: String, _ query: PostgresQuery) async throws {
                    counts.read[kind, default: 0] += 1
                    if try await PostgresRows.any(connection.query(query, logger: logger)) { counts.added[kind, default: 0] += 1 }
                }
                for key in rows.keys {
                    try await insert("keys", """
                        INSERT INTO kiln_api_keys (id, name, scope, tenant_id, hash, created_at, revoked_at, last_used_at,
                                                   webhook_url, webhook_secrets)
                        VALUES (\(key.id), \(key.name), \(key.scope), \(key.tenant ?? key.id), \(key.hash), \(key.created),
                                \(key.revoked), \(key.used), \(key.url), \(key.secrets))
                        ON CONFLICT DO NOTHING RETURNING id
                        """)
                }
                for answer in rows.answers {
                    try await insert("idempotency answers", """
                        INSERT INTO kiln_idempotency (key_id, idempotency_key, request_hash, status, body, created_at)
                        VALUES (\(answer.keyID), \(answer.key), \(answer.hash), \(answer.status), \(answer.body), \(answer.created))
                        ON CONFLICT DO NOTHING RETURNING key_id
                        """)
                }
                for hold in rows.holds {
                    try await insert("media records", """
                        INSERT INTO kiln_media (id, holder, kind, tenant_id, key_id, bytes, created_at)
                        VALUES (\(hold.id), \(hold.holder), \(hold.kind), \(hold.tenant), \(hold.keyID), \(hold.bytes), \(hold.created))
                        ON CONFLICT DO NOTHING RETURNING id
                        """)
                }
                for delivery in rows.deliveries {
                    try await insert("webhook deliveries", """
                        INSERT INTO kiln_webhook_deliveries (id, event_id, type, key_id, endpoint, url, body, status, attempts,
                            next_attempt_at, last_status, last_error, created_at, delivered_at, trace)
                        VALUES (\(delivery.id), \(delivery.event), \(delivery.type), \(delivery.keyID), \(delivery.endpoint),
                                \(delivery.url), \(delivery.body), \(delivery.status), \(delivery.attempts), \(delivery.next),
                                \(delivery.lastStatus), \(delivery.lastError), \(delivery.created), \(delivery.delivered), \(delivery.trace))
                        ON CONFLICT DO NOTHING RETURNING id
                        """)
                }
                for value in rows.kept {
                    try await insert("kept values", """
                        INSERT INTO kiln_kept_values (name, value) VALUES (\(value.name), \(value.value))
                        ON CONFLICT DO NOTHING RETURNING name
                        """)
                }
                return counts
            }
        }
    }

    /// Whether a server about to run on `shared` would lose the keys `embedded` holds: the shared
    /// database has none while the embedded one has some. The count of the embedded keys then.
    public static func keysLeftBehind(embedded: KilnDatabase, shared: any KeyStore) async throws(KilnError) -> Int? {
        guard try await shared.list().isEmpty else { return nil }
        let count = try await SQLiteKeyStore(embedded).list().count
        return count > 0 ? count : nil
    }
}
