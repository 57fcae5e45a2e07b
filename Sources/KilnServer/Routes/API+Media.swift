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

/// Media: an item or carousel as shown, its rendition bytes (ETag, 304, Range, redirect), deletion.
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
        return try await send(rendition, of: id, request, cache: .privateImmutable)
    }

    /// Who may keep a rendition's answer, and how long.
    enum Caching {
        /// Asked for with a key: the caller's cache only, never a shared one; the bytes never change.
        case privateImmutable
        /// A keyless URL's: any cache, no longer than the URL lives.
        case shared(seconds: Int)

        var header: String {
            switch self {
            case .privateImmutable: "private, max-age=31536000, immutable"
            case .shared(let seconds): "public, max-age=\(seconds)"
            }
        }

        /// A redirect to a URL that works `lifetime` seconds is kept no longer than that.
        func redirect(lifetime: Int) -> String {
            switch self {
            case .privateImmutable: "private, max-age=\(lifetime)"
            case .shared(let seconds): "public, max-age=\(min(seconds, lifetime))"
            }
        }
    }

    /// A rendition's bytes: ETag (its SHA-256), 304 for a matching If-None-Match, 206 for a
    /// Range, no body for HEAD, or a redirect to the bucket's URL (cached no longer than the URL
    /// works).
    func send(_ rendition: Rendition, of id: String, _ request: Request, cache: Caching) async throws -> Response {
        let store = try requireStore()
        let etag = "\"\(rendition.sha256)\""
        var headers: HTTPFields = [.eTag: etag, .cacheControl: cache.header, .acceptRanges: "bytes"]
        if let match = request.headers[.ifNoneMatch],
           match == "*" || match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) {
            return Response(status: .notModified, headers: headers)
        }
        if let url = store.url(forItem: id, file: rendition.file) {
            headers[.location] = url
            // The redirect is kept no longer than the URL it names works (5 minutes short of a
            // presigned URL's hour); a public domain's for a day.
            headers[.cacheControl] = cache.redirect(lifetime: store.urlLifetime.map { max(0, Int($0.components.seconds) - 300) } ?? 86_400)
            return Response(status: .found, headers: headers)
        }
        let range: ClosedRange<Int64>?
        do {
            range = try StoredFile.clip(Self.range(request.headers[.range], size: rendition.bytes), size: rendition.bytes)
        } catch {
            throw AnsweredError(error: error, headers: [.contentRange: "bytes */\(rendition.bytes)"])
        }
        let file = try await store.open(id, file: rendition.file, range: range)
        headers[.contentType] = file.contentType
        if let range = file.range { headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)" }
        let status: HTTPResponse.Status = file.range == nil ? .ok : .partialContent
        if request.method == .head {
            headers[.contentLength] = String(file.length)
            return Response(status: status, headers: headers)
        }
        let metrics = server.metrics
        let body = ResponseBody(contentLength: Int(file.length)) { writer in
            for try await chunk in file.body {
                try await writer.write(ByteBuffer(bytes: chunk))
                metrics.bytesOut(chunk.count)
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
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

    /// `bytes=A-B`, `bytes=A-` or `bytes=-N` as an inclusive range; nil for none, several, or
    /// one that is not of these forms (RFC 9110 lets a server ignore it: the whole file is sent).
    static func range(_ header: String?, size: Int64) -> ClosedRange<Int64>? {
        guard let header, header.hasPrefix("bytes=") else { return nil }
        let bounds = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard bounds.count == 2 else { return nil }
        if bounds[0].isEmpty {
            guard let suffix = Int64(bounds[1]), suffix > 0 else { return nil }
            return max(0, size - suffix)...max(0, size - 1)
        }
        guard let start = Int64(bounds[0]), start >= 0 else { return nil }
        if bounds[1].isEmpty { return start...max(start, size - 1) }
        guard let end = Int64(bounds[1]), end >= start else { return nil }
        return start...end
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
