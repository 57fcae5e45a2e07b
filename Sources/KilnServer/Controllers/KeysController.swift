import Foundation
import Hummingbird
import KilnCore
import KilnDatabase

/// Keys over HTTP, for a key with the `admin` scope: a publishing tool makes a key per
/// customer (each customer a tenant) without a shell on the server. The same operations as
/// `kiln keys create|list|revoke`.
struct KeysController: Controller {
    let keys: any KeyStore

    var routes: [Route] {
        [
            Route(.post, "/v1/keys", .admin, create),
            Route(.get, "/v1/keys", .admin, list),
            Route(.delete, "/v1/keys/{id}", .admin, revoke),
        ]
    }

    /// What `POST /v1/keys` takes (JSON).
    struct NewKey: Decodable {
        let name: String
        let scope: Scope
        /// The tenant the key joins; none makes a tenant of its own.
        let tenant: String?
    }

    /// A key as listed: never its secret or hash.
    struct KeyView: Encodable, Sendable {
        let id: String
        let name: String
        let scope: Scope
        let tenant: String
        let createdAt: String
        let revokedAt: String?

        init(_ key: APIKey) {
            id = key.id
            name = key.name
            scope = key.scope
            tenant = key.tenant
            createdAt = key.createdAt.formatted(.iso8601)
            revokedAt = key.revokedAt?.formatted(.iso8601)
        }

        enum CodingKeys: String, CodingKey {
            case id, name, scope, tenant
            case createdAt = "created_at", revokedAt = "revoked_at"
        }
    }

    /// The made key and its secret, shown this once.
    struct Created: Encodable, Sendable {
        let key: KeyView
        let secret: String
    }

    /// `POST /v1/keys`: 201 with the key and its secret.
    func create(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
            throw KilnError.invalidRequest("send the new key as JSON (Content-Type: application/json)",
                                           fields: ["Content-Type": "application/json"])
        }
        let body = try await request.body.collect(upTo: 16 * 1024)
        let asked: NewKey
        do {
            asked = try JSONDecoder().decode(NewKey.self, from: Data(buffer: body))
        } catch {
            throw KilnError.invalidRequest("the body must be {\"name\": ..., \"scope\": \"media:read|media:write|admin\", \"tenant\": optional}",
                                           fields: ["name": "1 to 100 characters", "scope": Scope.allCases.map(\.rawValue).joined(separator: "|"),
                                                    "tenant": "optional, 1 to 64 of [A-Za-z0-9._-]"])
        }
        let (key, secret) = try await keys.create(name: asked.name, scope: asked.scope, tenant: asked.tenant)
        var response = Reply.success(Created(key: KeyView(key), secret: secret), status: .created, requestID: context.requestID)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// `GET /v1/keys` (`?tenant=` for one tenant's).
    func list(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let tenant = request.uri.queryParameters.get("tenant")
        if let tenant { try APIKeys.checkTenant(tenant) }
        let listed = try await keys.list(tenant: tenant)
        return Reply.success(["keys": listed.map(KeyView.init)], requestID: context.requestID)
    }

    /// `DELETE /v1/keys/{id}`: revoked at once (the next request with it is refused), its
    /// pending webhook deliveries dropped.
    func revoke(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        Reply.success(KeyView(try await revoked(context.parameters.get("id") ?? "")), requestID: context.requestID)
    }

    /// The key once revoked. (One typed-throws step: the same two awaits in a `guard` of the
    /// route crash Swift 6.3's optimizer, splitting the coroutine.)
    private func revoked(_ id: String) async throws(KilnError) -> APIKey {
        let keys = keys
        guard try await keys.revoke(id) else { throw KilnError.notFoundResource("key \(id)") }
        guard let key = try await keys.key(id) else { throw KilnError.notFoundResource("key \(id)") }
        return key
    }
}
