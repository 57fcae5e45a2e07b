import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnStorage
import NIOCore
import NIOHTTPTypes

/// Media: an item or carousel as shown, its renditions (sent by `RenditionBytes`), deletion.
extension API {
    // MARK: Media

    func media(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let store = try requireStore()
        switch try await ownedEntry(context) {
        case .item(let item):
            return Reply.success(present(item), requestID: context.requestID)
        case .carousel(let record):
            var items: [MediaItem] = []
            for itemID in record.items { if let item = try await store.item(itemID) { items.append(present(item)) } }
            return Reply.success(CarouselResult(carousel: record, items: items), requestID: context.requestID)
        }
    }

    /// Removes the caller's tenant's media: an item, or a carousel with the items nothing else
    /// of the tenant holds.
    func deleteMedia(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let entry = try await ownedEntry(context)
        let id = entry.id
        let store = try requireStore()
        let unheld = try await server.records.release(id: id, tenant: context.key?.tenant)
        guard try await store.delete(id) else { throw KilnError.notFoundResource("media \(id)") }
        for item in unheld { _ = try await store.delete(item) }
        try await Webhooks(server: server).mediaDeleted(id, keyID: context.key?.id)
        return Reply.success(["id": JSONValue.string(id), "deleted": .bool(true)], requestID: context.requestID)
    }

    /// The stored media the route's id names, when it is the caller's tenant's; API_002 for
    /// another tenant's exactly as for one that does not exist. The stored manifest says whose
    /// it is; one made before tenants, the media records.
    func ownedEntry(_ context: KilnRequestContext) async throws(KilnError) -> StoredEntry {
        let id = try mediaID(context)
        guard let entry = try await requireStore().entry(id) else { throw KilnError.notFoundResource("media \(id)") }
        let stated: String? = switch entry {
        case .item(let item): item.options.tenant
        case .carousel(let record): record.tenant
        }
        let owner = if let stated { stated } else { try await server.records.tenant(of: id) }
        guard let owner, owner == context.key?.tenant else { throw KilnError.notFoundResource("media \(id)") }
        return entry
    }

    /// The bytes of one rendition: ETag (its SHA-256), 304 for a matching If-None-Match,
    /// 206 for a Range, or a redirect to a presigned URL when the store is a bucket.
    func rendition(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let name = context.parameters.get("rendition") ?? ""
        guard case .item(let item) = try await ownedEntry(context) else {
            throw KilnError.notFoundResource("rendition \"\(name)\": a carousel has none of its own; ask its items")
        }
        let id = item.id
        guard let rendition = item.renditions.first(where: { $0.name == name }) else {
            throw KilnError.notFoundResource("rendition \"\(name)\" of media \(id); it has \(item.renditions.map(\.name).joined(separator: ", "))")
        }
        return try await RenditionBytes(store: try requireStore(), metrics: server.metrics).send(rendition, of: id, request, cache: .privateImmutable)
    }

    /// An item as clients see it: each rendition's address is its route here (or the bucket's
    /// URL); the server's own paths are not shown.
    @Sendable func present(_ item: MediaItem) -> MediaItem {
        var item = pipeline.store.map { $0.resolve(item) } ?? item
        if item.location?.hasPrefix("/") == true { item.location = nil }
        for index in item.renditions.indices {
            item.renditions[index].path = nil
            if item.renditions[index].url == nil {
                item.renditions[index].url = "/v1/media/\(item.id)/\(item.renditions[index].name)"
            }
        }
        item.original?.path = nil
        // Each rendition's keyless URL, for the longest life the server gives.
        if let tenant = item.options.tenant, let port = server.listeningPort {
            let signer = server.fetchURLs(port: port)
            let expires = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + JobControl.seconds(signer.maxLifetime)).rounded(.down))
            for index in item.renditions.indices {
                let link = fetchLink(item.id, item.renditions[index], tenant: tenant, expires: expires, signer: signer)
                item.renditions[index].fetchURL = link.url
                item.renditions[index].fetchExpiresAt = link.expiresAt?.formatted(.iso8601)
            }
        }
        return item
    }

    func mediaID(_ context: KilnRequestContext) throws(KilnError) -> String {
        let id = context.parameters.get("id") ?? ""
        guard StoreKey.isID(id) else { throw KilnError.notFoundResource("media \(id)") }
        return id
    }

    func requireStore() throws(KilnError) -> any MediaStore {
        guard let store = pipeline.store else { throw KilnError.storageNotConfigured("the server has no store") }
        return store
    }
}
