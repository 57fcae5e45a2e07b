import Foundation
import GRDB
import KilnCore

/// The first answer to a POST made with an `Idempotency-Key`, per API key. A row with status
/// 0 marks a first request still in flight (a retry then waits, 409); a marker older than
/// `IdempotencyRecords.inFlightLimit` is one a crash left, and is taken over.
public protocol IdempotencyStore: Sendable {
    /// The answer kept for the key, or, when there is none, an in-flight marker put in its
    /// place (nil returned: go ahead). One of two requests racing gets the other's marker.
    func begin(keyID: String, idempotencyKey: String, requestHash: String, at time: Date) async throws(KilnError)
        -> IdempotencyRecords.Answer?
    /// Keeps the first request's answer in place of its marker.
    func record(keyID: String, idempotencyKey: String, _ answer: IdempotencyRecords.Answer) async throws(KilnError)
    /// The first request failed before an answer worth keeping: its marker goes, a retry runs anew.
    func abandon(keyID: String, idempotencyKey: String) async throws(KilnError)
    /// Forgets answers (and markers) made before `time`.
    func prune(before time: Date) async throws(KilnError)
}

extension IdempotencyStore {
    public func begin(keyID: String, idempotencyKey: String, requestHash: String) async throws(KilnError)
        -> IdempotencyRecords.Answer?
    {
        try await begin(keyID: keyID, idempotencyKey: idempotencyKey, requestHash: requestHash, at: Date())
    }
}

/// What both idempotency stores share.
public enum IdempotencyRecords {
    /// Longer than any request may take (the pipeline's own deadline is 10 minutes).
    public static let inFlightLimit: TimeInterval = 30 * 60

    public struct Answer: Sendable, Equatable {
        /// What was asked: the route and query, then a digest of the form fields and files (a
        /// retry with another request is refused).
        public let requestHash: String
        /// 0 while the first request is in flight.
        public let status: Int
        public let body: Data

        public var inFlight: Bool { status == 0 }

        public init(requestHash: String, status: Int, body: Data) {
            self.requestHash = requestHash
            self.status = status
            self.body = body
        }
    }
}

/// The embedded idempotency store, in `KilnDatabase`.
public struct SQLiteIdempotencyStore: IdempotencyStore {
    let database: KilnDatabase
    public init(_ database: KilnDatabase) { self.database = database }

    public func begin(keyID: String, idempotencyKey: String, requestHash: String, at time: Date)
        async throws(KilnError) -> IdempotencyRecords.Answer?
    {
        try await database.write { db in
            if let row = try Row.fetchOne(db, sql: """
                SELECT request_hash, status, body, created_at FROM idempotency WHERE key_id = ? AND idempotency_key = ?
                """, arguments: [keyID, idempotencyKey]) {
                let answer = IdempotencyRecords.Answer(requestHash: row["request_hash"], status: row["status"], body: row["body"])
                let created: Double = row["created_at"]
                if !answer.inFlight || time.timeIntervalSince1970 - created < IdempotencyRecords.inFlightLimit { return answer }
            }
            try db.execute(sql: """
                INSERT OR REPLACE INTO idempotency (key_id, idempotency_key, request_hash, status, body, created_at)
                VALUES (?, ?, ?, 0, x'', ?)
                """, arguments: [keyID, idempotencyKey, requestHash, time.timeIntervalSince1970])
            return nil
        }
    }

    public func record(keyID: String, idempotencyKey: String, _ answer: IdempotencyRecords.Answer) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO idempotency (key_id, idempotency_key, request_hash, status, body, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [keyID, idempotencyKey, answer.requestHash, answer.status, answer.body,
                                 Date().timeIntervalSince1970])
        }
    }

    public func abandon(keyID: String, idempotencyKey: String) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM idempotency WHERE key_id = ? AND idempotency_key = ? AND status = 0",
                           arguments: [keyID, idempotencyKey])
        }
    }

    public func prune(before time: Date) async throws(KilnError) {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM idempotency WHERE created_at < ?", arguments: [time.timeIntervalSince1970])
        }
    }
}

/// Which media the server published, for which tenant (the store holds the media themselves).
/// A row is one hold on an item: its upload (`holder` empty) or a carousel that lists it
/// (`holder` the carousel's id). An item's stored bytes go when nothing holds it any more.
public protocol MediaRecordStore: Sendable {
    /// Records `item`'s upload for `tenant` (a second of the same is ignored).
    func add(_ item: MediaItem, tenant: String?, keyID: String?) async throws(KilnError)
    /// Records `carousel`'s upload for `tenant`, and its holds on its items.
    func add(_ carousel: CarouselRecord, items: [MediaItem], tenant: String?, keyID: String?) async throws(KilnError)
    /// The tenant holding `id`, if one does (what a manifest made before tenants cannot say).
    func tenant(of id: String) async throws(KilnError) -> String?
    /// Drops `tenant`'s own hold on `id` (and, for a carousel, the holds it has on its items);
    /// returns the items of the carousel that nothing holds any more, whose stored bytes are to go.
    /// An item a carousel of the tenant still lists is not released: API_010 names the carousels.
    func release(id: String, tenant: String?) async throws(KilnError) -> [String]
}

extension MediaRecordStore {
    /// What each succeeded target made.
    public func add(_ outcomes: [TargetOutcome], tenant: String?, keyID: String?) async throws(KilnError) {
        for outcome in outcomes where outcome.error == nil {
            if let carousel = outcome.carousel {
                try await add(carousel, items: outcome.items, tenant: tenant, keyID: keyID)
            } else if let item = outcome.items.first {
                try await add(item, tenant: tenant, keyID: keyID)
            }
        }
    }
}

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
