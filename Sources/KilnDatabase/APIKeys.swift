import Crypto
import Foundation
import GRDB
import KilnCore

/// What a key may do. `media:write` includes reading.
public enum Scope: String, Codable, Sendable, CaseIterable {
    case read = "media:read"
    case write = "media:write"

    public func allows(_ needed: Scope) -> Bool { self == .write || needed == .read }
}

/// A key as listed: never the secret, which is shown once when made and stored as a hash.
public struct APIKey: Codable, Sendable, Equatable {
    public let id: String
    public let name: String
    public let scope: Scope
    public let createdAt: Date
    public let revokedAt: Date?
    public let lastUsedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, name, scope
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
        case lastUsedAt = "last_used_at"
    }
}

/// API keys: `kiln_<id>_<secret>`. The id finds the row; the SHA-256 of the whole key is
/// compared in constant time. Revocation takes effect on the next request (no cache).
public struct APIKeys: Sendable {
    let database: KilnDatabase

    public init(_ database: KilnDatabase) { self.database = database }

    /// Makes a key; the returned text is the only time the secret exists outside the client.
    public func create(name: String, scope: Scope) async throws(KilnError) -> (key: APIKey, secret: String) {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 100 else {
            throw KilnError.invalidRequest("a key needs a name of 1 to 100 characters", fields: ["name": "1 to 100 characters"])
        }
        let id = Self.randomText(10)
        let secret = "kiln_\(id)_\(Self.randomText(32))"
        let key = APIKey(id: id, name: trimmed, scope: scope, createdAt: Date(), revokedAt: nil, lastUsedAt: nil)
        let hash = Self.hash(secret)
        try await database.write { db in
            try db.execute(sql: "INSERT INTO api_keys (id, name, scopes, hash, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, trimmed, scope.rawValue, hash, key.createdAt.timeIntervalSince1970])
        }
        return (key, secret)
    }

    public func list() async throws(KilnError) -> [APIKey] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY created_at, id").map(Self.key)
        }
    }

    /// Revokes the key `id`; false when there is no such key.
    public func revoke(_ id: String) async throws(KilnError) -> Bool {
        try await database.write { db in
            try db.execute(sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [Date().timeIntervalSince1970, id])
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM api_keys WHERE id = ?", arguments: [id]) == 1
        }
    }

    /// Where a key's events are posted, and the secrets that sign them (several while a secret
    /// is rotated: each signs, receivers accept any).
    public struct Webhook: Sendable, Equatable {
        public let url: String
        public let secrets: [String]
        public init(url: String, secrets: [String]) {
            self.url = url
            self.secrets = secrets
        }
    }

    /// Sets (or with nil, removes) the key's webhook; false when there is no such key. Read at
    /// each delivery, so a change takes effect without a restart.
    public func setWebhook(_ id: String, _ webhook: Webhook?) async throws(KilnError) -> Bool {
        let secrets = webhook.map { String(decoding: (try? JSONEncoder().encode($0.secrets)) ?? Data("[]".utf8), as: UTF8.self) }
        return try await database.write { db in
            try db.execute(sql: "UPDATE api_keys SET webhook_url = ?, webhook_secrets = ? WHERE id = ?",
                           arguments: [webhook?.url, secrets, id])
            return db.changesCount == 1
        }
    }

    /// The key's webhook, if it has one (a revoked key's events are not sent).
    public func webhook(_ id: String) async throws(KilnError) -> Webhook? {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT webhook_url, webhook_secrets FROM api_keys WHERE id = ? AND revoked_at IS NULL
                """, arguments: [id]), let url: String = row["webhook_url"] else { return nil }
            let text: String = row["webhook_secrets"] ?? "[]"
            return Webhook(url: url, secrets: (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? [])
        }
    }

    /// The live key a bearer token names, or nil (unknown, malformed or revoked).
    public func authenticate(_ token: String) async throws(KilnError) -> APIKey? {
        let parts = token.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "kiln", parts[1].count == 10 else { return nil }
        let id = String(parts[1])
        let presented = Array(Self.hash(token).utf8)
        let found: (APIKey, String)? = try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]) else {
                return nil
            }
            return (Self.key(row), row["hash"])
        }
        guard let (key, stored) = found, key.revokedAt == nil else { return nil }
        // Constant time over the digests' text.
        let expected = Array(stored.utf8)
        guard expected.count == presented.count else { return nil }
        var difference: UInt8 = 0
        for index in expected.indices { difference |= expected[index] ^ presented[index] }
        return difference == 0 ? key : nil
    }

    static func key(_ row: Row) -> APIKey {
        let revoked: Double? = row["revoked_at"]
        let used: Double? = row["last_used_at"]
        return APIKey(id: row["id"], name: row["name"], scope: Scope(rawValue: row["scopes"]) ?? .read,
                      createdAt: Date(timeIntervalSince1970: row["created_at"]),
                      revokedAt: revoked.map(Date.init(timeIntervalSince1970:)),
                      lastUsedAt: used.map(Date.init(timeIntervalSince1970:)))
    }

    static func hash(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Lower-case letters and digits from the system's random source.
    static func randomText(_ count: Int) -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}
