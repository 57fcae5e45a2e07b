import Foundation
import GRDB
import KilnCore

/// The embedded outbox, in `KilnDatabase`.
public struct SQLiteOutbox: OutboxStore {
    let database: KilnDatabase
    public init(_ database: KilnDatabase) { self.database = database }

    public func add(_ deliveries: [WebhookDelivery]) async throws(KilnError) {
        try await database.write { db in
            for delivery in deliveries {
                try db.execute(sql: """
                    INSERT OR IGNORE INTO webhook_deliveries
                        (id, event_id, type, key_id, endpoint, url, body, status, attempts, next_attempt_at, created_at, trace)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)
                    """, arguments: [delivery.id, delivery.eventID, delivery.type, delivery.keyID, delivery.endpoint.rawValue,
                                     delivery.url, delivery.body, delivery.nextAttemptAt.timeIntervalSince1970,
                                     delivery.createdAt.timeIntervalSince1970, delivery.trace])
            }
        }
    }

    public func claim(at time: Date, limit: Int, lease: TimeInterval) async throws(KilnError) -> [WebhookDelivery] {
        try await database.write { db in
            let due = try Row.fetchAll(db, sql: """
                SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
                ORDER BY next_attempt_at, created_at, id LIMIT ?
                """, arguments: [time.timeIntervalSince1970, limit]).map(Self.delivery)
            for delivery in due {
                try db.execute(sql: "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?",
                               arguments: [time.timeIntervalSince1970 + lease, delivery.id])
            }
            return due
        }
    }

    public func release(_ id: String, at time: Date) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending'",
                           arguments: [time.timeIntervalSince1970, id])
        }
    }

    public func attempted(_ id: String, status: Int?, error: String?, delivered: Bool, retryAt: Date?, url: String?,
                          at time: Date) async throws(KilnError)
    {
        let next: WebhookDelivery.Status = delivered ? .delivered : retryAt == nil ? .failed : .pending
        try await database.write { db in
            try db.execute(sql: """
                UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_status = ?, last_error = ?,
                    next_attempt_at = COALESCE(?, next_attempt_at), delivered_at = ?, url = COALESCE(?, url)
                WHERE id = ?
                """, arguments: [next.rawValue, status, error, retryAt?.timeIntervalSince1970,
                                 delivered ? time.timeIntervalSince1970 : nil, url, id])
        }
    }

    public func prune(before time: Date) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM webhook_deliveries WHERE status != 'pending' AND created_at < ?",
                           arguments: [time.timeIntervalSince1970])
        }
    }

    public func log(tenant: String?, limit: Int) async throws(KilnError) -> [WebhookDelivery] {
        try await database.read { db in
            if let tenant {
                return try Row.fetchAll(db, sql: """
                    SELECT * FROM webhook_deliveries
                    WHERE endpoint = 'key' AND key_id IN (SELECT id FROM api_keys WHERE tenant_id = ?)
                    ORDER BY created_at DESC, id LIMIT ?
                    """, arguments: [tenant, limit]).map(Self.delivery)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM webhook_deliveries ORDER BY created_at DESC, id LIMIT ?",
                                    arguments: [limit]).map(Self.delivery)
        }
    }

    private static func delivery(_ row: Row) -> WebhookDelivery {
        var delivery = WebhookDelivery(id: row["id"], eventID: row["event_id"], type: row["type"], keyID: row["key_id"],
                                       endpoint: WebhookDelivery.Endpoint(rawValue: row["endpoint"]) ?? .server,
                                       url: row["url"], body: row["body"],
                                       at: Date(timeIntervalSince1970: row["created_at"]))
        delivery.status = WebhookDelivery.Status(rawValue: row["status"]) ?? .pending
        delivery.attempts = row["attempts"]
        delivery.nextAttemptAt = Date(timeIntervalSince1970: row["next_attempt_at"])
        delivery.lastStatus = row["last_status"]
        delivery.lastError = row["last_error"]
        delivery.deliveredAt = (row["delivered_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        delivery.trace = row["trace"]
        return delivery
    }

    /// The trace a delivery's span joins.
    static func migrateTraces(_ db: Database) throws {
        try db.alter(table: "webhook_deliveries") { table in table.add(column: "trace", .text) }
    }

    static func migrate(_ db: Database) throws {
        try db.create(table: "webhook_deliveries") { table in
            table.column("id", .text).primaryKey()
            table.column("event_id", .text).notNull()
            table.column("type", .text).notNull()
            table.column("key_id", .text)
            table.column("endpoint", .text).notNull()
            table.column("url", .text).notNull()
            table.column("body", .blob).notNull()
            table.column("status", .text).notNull()
            table.column("attempts", .integer).notNull()
            table.column("next_attempt_at", .double).notNull()
            table.column("last_status", .integer)
            table.column("last_error", .text)
            table.column("created_at", .double).notNull()
            table.column("delivered_at", .double)
            table.uniqueKey(["event_id", "url"])
        }
        try db.create(index: "webhook_deliveries_due", on: "webhook_deliveries", columns: ["status", "next_attempt_at"])
        try db.create(index: "webhook_deliveries_key", on: "webhook_deliveries", columns: ["key_id", "created_at"])
        // A key's own endpoint: its URL and the secrets that sign for it (several while rotating).
        try db.alter(table: "api_keys") { table in
            table.add(column: "webhook_url", .text)
            table.add(column: "webhook_secrets", .text)
        }
    }
}
