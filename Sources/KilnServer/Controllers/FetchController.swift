import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnQueue

/// Keyless URLs of renditions, for platforms that fetch media themselves (`FetchURLs`): the
/// open `/fetch` route, and the keyed route that makes them.
struct FetchController: Controller {
    let media: MediaAccess
    let metrics: KilnMetrics

    var routes: [Route] {
        [
            Route(.post, "/v1/media/{id}/urls", .read, fetchURLList),
            Route(.get, "/fetch/{id}/{rendition}", nil, fetch),
            Route(.head, "/fetch/{id}/{rendition}", nil, fetch),
        ]
    }

    /// `GET|HEAD /fetch/{id}/{rendition}?expires=E&signature=S`: the bytes, with no key. An
    /// altered or expired URL is AUTH_003 (403). The URL is judged before anything else is said:
    /// its expiry by itself, its signature against the tenant the media records name, or against
    /// no tenant at all when there is no record, so an id no one holds answers as a bad signature
    /// does (no keyless oracle of what a tenant uploaded). Items of no tenant, written by the
    /// CLI, are served to no one; a record whose bytes are gone is API_002.
    func fetch(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let id = try media.mediaID(context)
        let name = context.parameters.get("rendition") ?? ""
        let query = request.uri.queryParameters
        guard let expires = query.get("expires").flatMap(FetchURLs.expiry), let signature = query.get("signature") else {
            throw KilnError.fetchURL(expired: false)
        }
        let now = Date()
        guard Double(expires) > now.timeIntervalSince1970 else { throw KilnError.fetchURL(expired: true) }
        let tenant = try await media.records.tenant(of: id)
        // No record: judged against a tenant no key can belong to, which no signature matches.
        let verdict = try media.requireSigner()
            .verify(tenant: tenant ?? FetchURLs.noTenant, id: id, rendition: name, expires: expires, signature: signature, now: now)
        guard verdict == .valid, let tenant else { throw KilnError.fetchURL(expired: false) }
        guard case .item(let item)? = try await media.requireStore().entry(id), (item.options.tenant ?? tenant) == tenant,
              let rendition = item.renditions.first(where: { $0.name == name }) else {
            throw KilnError.notFoundResource("media \(id)")
        }
        // Anyone holding the URL may read it, for as long as it lives and no longer.
        return try await RenditionBytes(store: try media.requireStore(), metrics: metrics)
            .send(rendition, of: id, request, cache: .shared(seconds: max(0, expires - Int(now.timeIntervalSince1970))))
    }

    /// What `POST /v1/media/{id}/urls` takes (JSON, optional): a life, and which renditions.
    struct URLRequest: Decodable {
        let expiresIn: Int?
        let renditions: [String]?
        enum CodingKeys: String, CodingKey {
            case renditions
            case expiresIn = "expires_in"
        }
    }

    struct FetchLink: Encodable, Sendable {
        let mediaID: String
        let rendition: String
        let url: String
        /// Nil for a bucket's public domain, whose URLs do not expire.
        let expiresAt: String?
        enum CodingKeys: String, CodingKey {
            case rendition, url
            case mediaID = "media_id", expiresAt = "expires_at"
        }
    }

    /// `POST /v1/media/{id}/urls`: keyless URLs of the item's renditions (a carousel's: of each
    /// item's), living `expires_in` seconds (at most the server's maximum, 7 days by default).
    func fetchURLList(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let entry = try await media.ownedEntry(context)
        let body = try await request.body.collect(upTo: 16 * 1024)
        let asked: URLRequest
        do {
            asked = body.readableBytes == 0 ? URLRequest(expiresIn: nil, renditions: nil)
                : try JSONDecoder().decode(URLRequest.self, from: Data(buffer: body))
        } catch {
            throw KilnError.invalidRequest("the body, when sent, is {\"expires_in\": seconds, \"renditions\": [names]}",
                                           fields: ["expires_in": "seconds", "renditions": "rendition names"])
        }
        let signer = try media.requireSigner()
        let expires = Date(timeIntervalSince1970: try signer.expiry(asked: asked.expiresIn).timeIntervalSince1970.rounded(.down))
        let store = try media.requireStore()
        var items: [MediaItem] = []
        switch entry {
        case .item(let item): items = [item]
        case .carousel(let record): for id in record.items { if let item = try await store.item(id) { items.append(item) } }
        }
        var links: [FetchLink] = []
        for item in items {
            guard let tenant = item.options.tenant ?? context.key?.tenant else { continue }
            for rendition in item.renditions where asked.renditions?.contains(rendition.name) ?? true {
                let link = media.fetchLink(item.id, rendition, tenant: tenant, expires: expires, signer: signer)
                links.append(FetchLink(mediaID: item.id, rendition: rendition.name, url: link.url,
                                       expiresAt: link.expiresAt?.formatted(.iso8601)))
            }
        }
        if let names = asked.renditions, let missing = names.first(where: { name in !links.contains { $0.rendition == name } }) {
            throw KilnError.notFoundResource("rendition \"\(missing)\" of media \(entry.id)")
        }
        return Reply.success(["urls": links], requestID: context.requestID)
    }
}
