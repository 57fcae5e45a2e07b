import Foundation
import KilnCore
import PostgresNIO

/// The stores of `SharedState` in PostgreSQL, for API nodes that are interchangeable (SPEC §8):
/// each does what its embedded twin does (one conformance suite holds both to it). Times the
/// application gives are kept as epoch seconds (`double precision`), as SQLite keeps them.
enum PostgresStores {
    /// Their schema: versions after the queue's in `PostgresDatabase.migrations`, each applied
    /// once, in order.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE kiln_api_keys (
                id text PRIMARY KEY, name text NOT NULL, scope text NOT NULL, tenant_id text NOT NULL, hash text NOT NULL,
                created_at double precision NOT NULL, revoked_at double precision, last_used_at double precision,
                webhook_url text, webhook_secrets text)
            """,
            "CREATE INDEX kiln_api_keys_tenant ON kiln_api_keys (tenant_id)",
            """
            CREATE TABLE kiln_idempotency (
                key_id text NOT NULL, idempotency_key text NOT NULL, request_hash text NOT NULL, status integer NOT NULL,
                body bytea NOT NULL, created_at double precision NOT NULL, PRIMARY KEY (key_id, idempotency_key))
            """,
            """
            CREATE TABLE kiln_media (
                id text NOT NULL, holder text NOT NULL DEFAULT '', kind text NOT NULL, tenant_id text, key_id text,
                bytes bigint NOT NULL, created_at double precision NOT NULL, PRIMARY KEY (id, holder))
            """,
            "CREATE INDEX kiln_media_holder ON kiln_media (holder)",
            """
            CREATE TABLE kiln_uploads (
                id text PRIMARY KEY, key_id text, tenant_id text, length bigint, "offset" bigint NOT NULL,
                metadata text NOT NULL, created_at double precision NOT NULL, expires_at double precision NOT NULL,
                result_status integer, result_body bytea, result_location text)
            """,
            "CREATE INDEX kiln_uploads_expiry ON kiln_uploads (expires_at)",
            "CREATE INDEX kiln_uploads_tenant ON kiln_uploads (tenant_id, result_status)",
            """
            CREATE TABLE kiln_webhook_deliveries (
                id text PRIMARY KEY, event_id text NOT NULL, type text NOT NULL, key_id text, endpoint text NOT NULL,
                url text NOT NULL, body bytea NOT NULL, status text NOT NULL, attempts integer NOT NULL,
                next_attempt_at double precision NOT NULL, last_status integer, last_error text,
                created_at double precision NOT NULL, delivered_at double precision, UNIQUE (event_id, url))
            """,
            "CREATE INDEX kiln_webhook_deliveries_due ON kiln_webhook_deliveries (status, next_attempt_at)",
            "CREATE INDEX kiln_webhook_deliveries_key ON kiln_webhook_deliveries (key_id, created_at)",
        ],
        [
            """
            CREATE TABLE kiln_rate_windows (
                key_id text NOT NULL, window_start bigint NOT NULL, window_seconds integer NOT NULL, count integer NOT NULL,
                PRIMARY KEY (key_id, window_start))
            """,
        ],
        [
            "ALTER TABLE kiln_uploads ADD COLUMN writer text, ADD COLUMN writer_until double precision",
        ],
        [
            "ALTER TABLE kiln_webhook_deliveries ADD COLUMN trace text",
        ],
        [
            "CREATE TABLE kiln_kept_values (name text PRIMARY KEY, value text NOT NULL)",
        ],
        [
            "ALTER TABLE kiln_uploads ADD COLUMN reserved bigint NOT NULL DEFAULT 0",
        ],
    ]

    /// Whether `rows` has a row (an UPDATE … RETURNING that changed one).
    static func any(_ rows: PostgresRowSequence) async throws -> Bool {
        for try await _ in rows { return true }
        return false
    }
}

// MARK: Keys

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
                return try await PostgresStores.any(connection.query("""
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
            return try await PostgresStores.any(client.query("SELECT 1 FROM kiln_api_keys WHERE id = \(id)", logger: logger))
        }
    }

    public func setWebhook(_ id: String, _ webhook: APIKeys.Webhook?) async throws(KilnError) -> Bool {
        let logger = database.logger
        let secrets = webhook.map { APIKeys.encode(secrets: $0.secrets) }
        return try await database.query { client in
            try await PostgresStores.any(client.query("""
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

// MARK: Idempotency

public struct PostgresIdempotencyStore: IdempotencyStore {
    let database: PostgresDatabase
    public init(_ database: PostgresDatabase) { self.database = database }

    public func begin(keyID: String, idempotencyKey: String, requestHash: String, at time: Date) async throws(KilnError)
        -> IdempotencyRecords.Answer?
    {
        let logger = database.logger
        let now = time.timeIntervalSince1970
        let stale = now - IdempotencyRecords.inFlightLimit
        return try await database.query { client in
            // One statement takes the key: a new marker, or one a crash left (in flight too long).
            // A request that does not take it reads the answer (or marker) that holds it; one
            // abandoned in between is tried again.
            for _ in 0..<5 {
                if try await PostgresStores.any(client.query("""
                    INSERT INTO kiln_idempotency (key_id, idempotency_key, request_hash, status, body, created_at)
                    VALUES (\(keyID), \(idempotencyKey), \(requestHash), 0, '', \(now))
                    ON CONFLICT (key_id, idempotency_key) DO UPDATE
                        SET request_hash = EXCLUDED.request_hash, status = 0, body = '', created_at = EXCLUDED.created_at
                        WHERE kiln_idempotency.status = 0 AND kiln_idempotency.created_at <= \(stale)
                    RETURNING 1
                    """, logger: logger)) { return nil }
                for try await (hash, status, body) in try await client.query("""
                    SELECT request_hash, status, body FROM kiln_idempotency
                    WHERE key_id = \(keyID) AND idempotency_key = \(idempotencyKey)
                    """, logger: logger).decode((String, Int, Data).self) {
                    return IdempotencyRecords.Answer(requestHash: hash, status: status, body: body)
                }
            }
            throw KilnError.idempotencyInFlight()
        }
    }

    public func record(keyID: String, idempotencyKey: String, _ answer: IdempotencyRecords.Answer) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("""
                INSERT INTO kiln_idempotency (key_id, idempotency_key, request_hash, status, body, created_at)
                VALUES (\(keyID), \(idempotencyKey), \(answer.requestHash), \(answer.status), \(answer.body), \(Date().timeIntervalSince1970))
                ON CONFLICT (key_id, idempotency_key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
                    status = EXCLUDED.status, body = EXCLUDED.body, created_at = EXCLUDED.created_at
                """, logger: logger)
        }
    }

    public func abandon(keyID: String, idempotencyKey: String) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("""
                DELETE FROM kiln_idempotency WHERE key_id = \(keyID) AND idempotency_key = \(idempotencyKey) AND status = 0
                """, logger: logger)
        }
    }

    public func prune(before time: Date) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("DELETE FROM kiln_idempotency WHERE created_at < \(time.timeIntervalSince1970)", logger: logger)
        }
    }
}

// MARK: Media records

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
                for item in items where !(try await PostgresStores.any(connection.query(
                    "SELECT 1 FROM kiln_media WHERE id = \(item) LIMIT 1", logger: logger))) {
                    free.append(item)
                }
                return free
            }
        }
    }
}

// MARK: Resumable uploads

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
            try await PostgresStores.any(client.query("""
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
            try await PostgresStores.any(client.query("""
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
                return try await PostgresStores.any(connection.query(
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

// MARK: Webhook outbox

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

    public func withdraw(eventID: String) async throws(KilnError) {
        let logger = database.logger
        try await database.query { client in
            _ = try await client.query("""
                DELETE FROM kiln_webhook_deliveries WHERE event_id = \(eventID) AND status = 'pending' AND attempts = 0
                """, logger: logger)
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

// MARK: Rate limits

/// One count per key and window for every node: a request is one upsert, so the limit holds
/// exactly across nodes (no tolerance beyond the window's own edge), at one round trip.
public struct PostgresRateCounter: RateCounter {
    let database: PostgresDatabase
    public init(_ database: PostgresDatabase) { self.database = database }

    public func take(_ key: String, window: Int, at time: Date) async throws(KilnError) -> Int {
        let start = Self.windowStart(time, window)
        let logger = database.logger
        return try await database.query { client in
            for try await count in try await client.query("""
                INSERT INTO kiln_rate_windows (key_id, window_start, window_seconds, count) VALUES (\(key), \(start), \(window), 1)
                ON CONFLICT (key_id, window_start) DO UPDATE SET count = kiln_rate_windows.count + 1
                RETURNING count
                """, logger: logger).decode(Int.self) { return count }
            throw KilnError.storageUnavailable("the rate counter returned no count")
        }
    }

    public func prune(before time: Date) async throws(KilnError) {
        let logger = database.logger
        let second = Int(time.timeIntervalSince1970)
        try await database.query { client in
            _ = try await client.query("DELETE FROM kiln_rate_windows WHERE window_start + window_seconds <= \(second)", logger: logger)
        }
    }
}

// MARK: Kept values

public struct PostgresKeptValues: KeptValueStore {
    let database: PostgresDatabase
    public init(_ database: PostgresDatabase) { self.database = database }

    public func value(_ name: String, making make: @escaping @Sendable () throws(KilnError) -> String) async throws(KilnError) -> String {
        // Made here, kept only if no node kept one first; then whichever was kept is read.
        let made = try make()
        let logger = database.logger
        _ = try await database.query { client in
            try await client.query("INSERT INTO kiln_kept_values (name, value) VALUES (\(name), \(made)) ON CONFLICT DO NOTHING",
                                   logger: logger)
        }
        guard let kept = try await database.rows("SELECT value FROM kiln_kept_values WHERE name = \(name)", {
            try $0.decode(String.self)
        }).first else { throw KilnError.storageUnavailable("the kept value \(name) could not be read back") }
        return kept
    }
}
