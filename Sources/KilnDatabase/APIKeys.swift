import Crypto
import Foundation
import KilnCore

/// What a key may do, each including the ones before: `media:read`, `media:write`, and
/// `admin`, which also manages keys for every tenant (`/v1/keys`).
public enum Scope: String, Codable, Sendable, CaseIterable, Comparable {
    case read = "media:read"
    case write = "media:write"
    case admin

    public func allows(_ needed: Scope) -> Bool { needed <= self }

    public static func < (lhs: Scope, rhs: Scope) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// A key as listed: never the secret, which is shown once when made and stored as a hash.
public struct APIKey: Codable, Sendable, Equatable {
    public let id: String
    public let name: String
    public let scope: Scope
    /// Whose media, jobs, uploads and deliveries the key reaches: its tenant's, shared by the
    /// tenant's keys and hidden from every other.
    public let tenant: String
    public let createdAt: Date
    public let revokedAt: Date?
    public let lastUsedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, name, scope, tenant
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
        case lastUsedAt = "last_used_at"
    }
}

/// API keys: `kiln_<id>_<secret>`. The id finds the row; the SHA-256 of the whole key is
/// compared in constant time. Revocation takes effect on the next request (no cache). Where
/// they live is a `KeyStore` (SQLite embedded, PostgreSQL shared): both pass one conformance
/// suite.
public protocol KeyStore: Sendable {
    /// Adds a key made by `create` with the digest of its secret.
    func insert(_ key: APIKey, hash: String) async throws(KilnError)
    /// Adds `key` only when no key was ever made, in one write that checks and adds (two
    /// servers starting at once make one first key); false when there is one.
    func insertFirst(_ key: APIKey, hash: String) async throws(KilnError) -> Bool
    /// Every key, or the keys of `tenant`, oldest first.
    func list(tenant: String?) async throws(KilnError) -> [APIKey]
    /// The key `id`, revoked or not, with the digest of its secret.
    func stored(_ id: String) async throws(KilnError) -> (key: APIKey, hash: String)?
    /// Revokes the key `id`; false when there is no such key.
    func revoke(_ id: String) async throws(KilnError) -> Bool
    /// Sets (or with nil, removes) the key's webhook; false when there is no such key. Read at
    /// each delivery, so a change takes effect without a restart.
    func setWebhook(_ id: String, _ webhook: APIKeys.Webhook?) async throws(KilnError) -> Bool
    /// The key's webhook, if it has one (a revoked key's events are not sent).
    func webhook(_ id: String) async throws(KilnError) -> APIKeys.Webhook?
}

extension KeyStore {
    /// Makes a key in `tenant` (nil: a tenant of its own, named by the key's id); the returned
    /// text is the only time the secret exists outside the client.
    public func create(name: String, scope: Scope, tenant: String? = nil) async throws(KilnError)
        -> (key: APIKey, secret: String)
    {
        let (key, secret) = try APIKeys.make(name: name, scope: scope, tenant: tenant)
        try await insert(key, hash: APIKeys.hash(secret))
        return (key, secret)
    }

    /// The first key, when none was ever made (`kiln serve --first-key`); nil when one was,
    /// or another server made it first.
    public func createFirst(name: String, scope: Scope) async throws(KilnError) -> (key: APIKey, secret: String)? {
        let (key, secret) = try APIKeys.make(name: name, scope: scope, tenant: nil)
        return try await insertFirst(key, hash: APIKeys.hash(secret)) ? (key, secret) : nil
    }

    /// Every key, or the keys of `tenant`.
    public func list() async throws(KilnError) -> [APIKey] { try await list(tenant: nil) }

    /// The key `id`, revoked or not.
    public func key(_ id: String) async throws(KilnError) -> APIKey? { try await stored(id)?.key }

    /// The live key a bearer token names, or nil (unknown, malformed or revoked).
    public func authenticate(_ token: String) async throws(KilnError) -> APIKey? {
        let parts = token.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "kiln", parts[1].count == 10 else { return nil }
        let presented = Array(APIKeys.hash(token).utf8)
        guard let (key, stored) = try await stored(String(parts[1])), key.revokedAt == nil else { return nil }
        // Constant time over the digests' text.
        let expected = Array(stored.utf8)
        guard expected.count == presented.count else { return nil }
        var difference: UInt8 = 0
        for index in expected.indices { difference |= expected[index] ^ presented[index] }
        return difference == 0 ? key : nil
    }
}

/// What both key stores share: names, digests, webhooks.
public enum APIKeys {
    /// A new key in `tenant` (nil: a tenant of its own, named by the key's id) and its secret,
    /// the only time the secret exists outside the client.
    static func make(name: String, scope: Scope, tenant: String?) throws(KilnError) -> (key: APIKey, secret: String) {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 100 else {
            throw KilnError.invalidRequest("a key needs a name of 1 to 100 characters", fields: ["name": "1 to 100 characters"])
        }
        if let tenant { try checkTenant(tenant) }
        let id = randomText(10)
        let secret = "kiln_\(id)_\(randomText(32))"
        return (APIKey(id: id, name: trimmed, scope: scope, tenant: tenant ?? id, createdAt: Date(), revokedAt: nil,
                       lastUsedAt: nil), secret)
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

    /// Tenant names: 1 to 64 letters, digits, `.`, `_`, `-` (they appear in ids' inputs and logs).
    public static func checkTenant(_ tenant: String) throws(KilnError) {
        guard !tenant.isEmpty, tenant.utf8.count <= 64,
              tenant.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) })
        else {
            throw KilnError.invalidRequest("a tenant is named by 1 to 64 letters, digits, '.', '_' or '-'",
                                           fields: ["tenant": "1 to 64 of [A-Za-z0-9._-]"])
        }
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

    /// Secrets as stored: a JSON array.
    static func encode(secrets: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(secrets)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func decode(secrets text: String?) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data((text ?? "[]").utf8))) ?? []
    }
}
