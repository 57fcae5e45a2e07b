import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnStorage

/// Stored media as the routes reach it: whose it is (a tenant sees only its own), and how an
/// item is shown (addresses made on read, each rendition's keyless URL).
struct MediaAccess: Sendable {
    let store: (any MediaStore)?
    let records: any MediaRecordStore
    /// Signs this server's `/fetch` URLs once it listens (its port is part of them); nil before.
    let signer: @Sendable () -> FetchURLs?

    func requireStore() throws(KilnError) -> any MediaStore {
        guard let store else { throw KilnError.storageNotConfigured("the server has no store") }
        return store
    }

    /// The signer, in a request (the server listens by then).
    func requireSigner() throws(KilnError) -> FetchURLs {
        guard let signer = signer() else { throw KilnError.internalError("the server does not listen yet") }
        return signer
    }

    func mediaID(_ context: KilnRequestContext) throws(KilnError) -> String {
        let id = context.parameters.get("id") ?? ""
        guard StoreKey.isID(id) else { throw KilnError.notFoundResource("media \(id)") }
        return id
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
        let owner = if let stated { stated } else { try await records.tenant(of: id) }
        guard let owner, owner == context.key?.tenant else { throw KilnError.notFoundResource("media \(id)") }
        return entry
    }

    /// An item as clients see it: each rendition's address is its route here (or the bucket's
    /// URL); the server's own paths are not shown.
    @Sendable func present(_ item: MediaItem) -> MediaItem {
        var item = store.map { $0.resolve(item) } ?? item
        if item.location?.hasPrefix("/") == true { item.location = nil }
        for index in item.renditions.indices {
            item.renditions[index].path = nil
            if item.renditions[index].url == nil {
                item.renditions[index].url = "/v1/media/\(item.id)/\(item.renditions[index].name)"
            }
        }
        item.original?.path = nil
        // Each rendition's keyless URL, for the longest life the server gives.
        if let tenant = item.options.tenant, let signer = signer() {
            let expires = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + JobControl.seconds(signer.maxLifetime)).rounded(.down))
            for index in item.renditions.indices {
                let link = fetchLink(item.id, item.renditions[index], tenant: tenant, expires: expires, signer: signer)
                item.renditions[index].fetchURL = link.url
                item.renditions[index].fetchExpiresAt = link.expiresAt?.formatted(.iso8601)
            }
        }
        return item
    }

    /// A rendition's keyless URL until `expires`: the bucket's public domain when it has one (no
    /// expiry), a presigned URL on a bucket without one, else this server's signed `/fetch` URL.
    func fetchLink(_ id: String, _ rendition: Rendition, tenant: String, expires: Date, signer: FetchURLs)
        -> (url: String, expiresAt: Date?)
    {
        let lifetime = Duration.seconds(max(1, Int(expires.timeIntervalSinceNow.rounded(.up))))
        if let store, let url = store.url(forItem: id, file: rendition.file, lasting: lifetime) {
            return (url, store.urlLifetime == nil ? nil : expires)
        }
        return (signer.url(tenant: tenant, id: id, rendition: rendition.name, expires: expires), expires)
    }
}
