import Foundation
import Hummingbird
import KilnCore
import KilnDatabase
import KilnQueue

/// Stored media: an item or carousel as shown, a rendition's bytes (sent by `RenditionBytes`),
/// deletion.
struct MediaController: Controller {
    let media: MediaAccess
    let metrics: KilnMetrics
    /// Tells subscribers of a deletion.
    let webhooks: Webhooks

    var routes: [Route] {
        [
            Route(.get, "/v1/media/{id}", .read, show),
            Route(.delete, "/v1/media/{id}", .write, delete),
            Route(.get, "/v1/media/{id}/{rendition}", .read, rendition),
        ]
    }

    func show(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let store = try media.requireStore()
        switch try await media.ownedEntry(context) {
        case .item(let item):
            return Reply.success(media.present(item), requestID: context.requestID)
        case .carousel(let record):
            var items: [MediaItem] = []
            for itemID in record.items { if let item = try await store.item(itemID) { items.append(media.present(item)) } }
            return Reply.success(CarouselResult(carousel: record, items: items), requestID: context.requestID)
        }
    }

    /// Removes the caller's tenant's media: an item, or a carousel with the items nothing else
    /// of the tenant holds.
    func delete(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let entry = try await media.ownedEntry(context)
        let id = entry.id
        let store = try media.requireStore()
        let unheld = try await media.records.release(id: id, tenant: context.key?.tenant)
        guard try await store.delete(id) else { throw KilnError.notFoundResource("media \(id)") }
        for item in unheld { _ = try await store.delete(item) }
        try await webhooks.mediaDeleted(id, keyID: context.key?.id)
        return Reply.success(["id": JSONValue.string(id), "deleted": .bool(true)], requestID: context.requestID)
    }

    /// The bytes of one rendition: ETag (its SHA-256), 304 for a matching If-None-Match,
    /// 206 for a Range, or a redirect to a presigned URL when the store is a bucket.
    func rendition(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let name = context.parameters.get("rendition") ?? ""
        guard case .item(let item) = try await media.ownedEntry(context) else {
            throw KilnError.notFoundResource("rendition \"\(name)\": a carousel has none of its own; ask its items")
        }
        let id = item.id
        guard let rendition = item.renditions.first(where: { $0.name == name }) else {
            throw KilnError.notFoundResource("rendition \"\(name)\" of media \(id); it has \(item.renditions.map(\.name).joined(separator: ", "))")
        }
        return try await RenditionBytes(store: try media.requireStore(), metrics: metrics)
            .send(rendition, of: id, request, cache: .privateImmutable)
    }
}
