import Foundation
import KilnCore
import PostgresNIO

public struct PostgresOutbox: OutboxStore {
    let database: PostgresDatabase
    public init(_ database: PostgresDatabase) { self.database = database }

    private static let columns = """
        id, event_id, type, key_id, endpoint, url, body, status, attempts, next_attempt_at, last_status, last_error,
        created_at, delivered_at, trace
        """

    public func add(_ deliveries: [WebhookDelivery]) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            try await client.withTransaction(logger: logger) { connection in
                for delivery in deliveries {
                    _ = try await connection.query("""
                        INSERT INTO kiln_webhook_deliveries
                            (id, event_id, type, key_id, endpoint, url, body, status, attempts, next_attempt_at, created_at, trace)
                        VALUES (\(delivery.id), \(delivery.eventID), \(delivery.type), \(delivery.keyID), \(delivery.endpoint.rawValue),
                                \(delivery.url), \(delivery.body), 'pending', 0, \(delivery.nextAttemptAt.timeIntervalSince1970),
                                \(delivery.createdAt.timeIntervalSince1970), \(delivery.trace))
                        ON CONFLICT DO NOTHING
                        """, logger: logger)
                }
            }
        }
    }

    public func claim(at time: Date, limit: Int, lease: TimeInterval) async throws(KilnError) -> [WebhookDelivery] {
        // SKIP LOCKED: nodes claiming at once each take others, never wait for one another.
        let claimed = try await deliveries("""
            UPDATE kiln_webhook_deliveries SET next_attempt_at = \(time.timeIntervalSince1970 + lease)
            WHERE id IN (
                SELECT id FROM kiln_webhook_deliveries
                WHERE status = 'pending' AND next_attempt_at <= \(time.timeIntervalSince1970)
                ORDER BY next_attempt_at, created_at, id FOR UPDATE SKIP LOCKED LIMIT \(limit))
            RETURNING \(unescaped: Self.columns)
            """)
        return claimed.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func release(_ id: String, at time: Date) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("""
                UPDATE kiln_webhook_deliveries SET next_attempt_at = \(time.timeIntervalSince1970)
                WHERE id = \(id) AND status = 'pending'
                """, logger: logger)
        }
    }

    public func attempted(_ id: String, status: Int?, error: String?, delivered: Bool, retryAt: Date?, url: String?,
                          at time: Date) async throws(KilnError)
    {
        let next: WebhookDelivery.Status = delivered ? .delivered : retryAt == nil ? .failed : .pending
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("""
                UPDATE kiln_webhook_deliveries SET status = \(next.rawValue), attempts = attempts + 1, last_status = \(status),
                    last_error = \(error), next_attempt_at = COALESCE(\(retryAt?.timeIntervalSince1970), next_attempt_at),
                    delivered_at = \(delivered ? time.timeIntervalSince1970 : nil), url = COALESCE(\(url), url)
                WHERE id = \(id)
                """, logger: logger)
        }
    }

    public func prune(before time: Date) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("""
                DELETE FROM kiln_webhook_deliveries WHERE status != 'pending' AND created_at < \(time.timeIntervalSince1970)
                """, logger: logger)
        }
    }

    public func log(tenant: String?, limit: Int) async throws(KilnError) -> [WebhookDelivery] {
        if let tenant {
            return try await deliveries("""
                SELECT \(unescaped: Self.columns) FROM kiln_webhook_deliveries
                WHERE endpoint = 'key' AND key_id IN (SELECT id FROM kiln_api_keys WHERE tenant_id = \(tenant))
                ORDER BY created_at DESC, id LIMIT \(limit)
                """)
        }
        return try await deliveries("""
            SELECT \(unescaped: Self.columns) FROM kiln_webhook_deliveries ORDER BY created_at DESC, id LIMIT \(limit)
            """)
    }

    private func deliveries(_ query: PostgresQuery) async throws(KilnError) -> [WebhookDelivery] {
        try await database.rows(query, Self.delivery)
    }

    private static func delivery(_ row: PostgresRow) throws -> WebhookDelivery {
        let (id, eventID, type, keyID, endpoint, url, body, status, attempts, next, lastStatus, lastError, created, delivered, trace)
            = try row.decode((String, String, String, String?, String, String, Data, String, Int, Double, Int?, String?, Double,
                              Double?, String?).self)
        var delivery = WebhookDelivery(id: id, eventID: eventID, type: type, keyID: keyID,
                                       endpoint: WebhookDelivery.Endpoint(rawValue: endpoint) ?? .server, url: url, body: body,
                                       at: Date(timeIntervalSince1970: created))
        delivery.status = WebhookDelivery.Status(rawValue: status) ?? .pending
        delivery.attempts = attempts
        delivery.nextAttemptAt = Date(timeIntervalSince1970: next)
        delivery.lastStatus = lastStatus
        delivery.lastError = lastError
        delivery.deliveredAt = delivered.map(Date.init(timeIntervalSince1970:))
        delivery.trace = trace
        return delivery
    }
}
