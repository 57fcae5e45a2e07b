import Foundation
import KilnCore

/// Items published to an object store (an R2 bucket): renditions under `<media-id>/`, the
/// manifest (tenant, file name, source facts: not for the public) at `.kiln-manifest-<id>.json`
/// (no `/`: moto refuses a signed listing whose prefix or cursor holds one).
/// Everything internal (manifests, hand-offs, upload chunks) is under a key starting `.kiln-`,
/// which a bucket's public domain must not serve (README: the bucket rule). Files are staged
/// locally and uploaded one object at a time, every manifest last: an item is complete once
/// its manifest exists. A unit that fails removes what it had put; deleting removes the
/// manifest first. Items stored before kept their manifest at `<id>/manifest.json`: still read.
public struct ObjectMediaStore: MediaStore {
    public let objects: any ObjectStore
    /// Local directory for staging (the data directory's temp folder).
    public let stagingRoot: String
    /// How locations are written, e.g. "s3://bucket".
    public let locationPrefix: String

    public init(objects: any ObjectStore, stagingRoot: String, locationPrefix: String) throws(KilnError) {
        self.objects = objects
        self.stagingRoot = stagingRoot
        self.locationPrefix = locationPrefix
        do {
            try FileManager.default.createDirectory(atPath: stagingRoot, withIntermediateDirectories: true)
        } catch {
            throw KilnError.storageNotConfigured("the staging directory \(stagingRoot) cannot be created")
        }
    }

    public func makeStaging() throws(KilnError) -> Staging { try Staging.create(under: stagingRoot) }

    public var handOff: any ObjectStore { objects }

    static let manifests = ".kiln-manifest-"

    /// Where an item's manifest is kept.
    static func manifestKey(_ id: String) -> String { manifests + id + ".json" }
    /// Where an item stored before kept it.
    static func legacyManifestKey(_ id: String) -> String { id + "/" + StoreKey.manifest }

    public func commit(_ items: [StagedItem], progress: (@Sendable (Double) -> Void)?) async throws(KilnError) {
        defer { for item in items { discard(item.staging) } }
        // An id already published has the same content (its id covers bytes and options).
        var pending: [StagedItem] = []
        for item in items where try await !exists(item.id) { pending.append(item) }
        let files = pending.map { item in (item, item.staging.files()) }
        let uploads = files.flatMap { item, names in names.filter { $0 != StoreKey.manifest }.map { (item, $0) } }
            + files.compactMap { item, names in names.contains(StoreKey.manifest) ? (item, StoreKey.manifest) : nil }
        let sizes = uploads.map { item, name in Self.size(item.staging.path(name)) }
        let total = max(1, sizes.reduce(0, +))
        var done: Int64 = 0
        var uploaded: [String] = []
        do {
            for ((item, name), size) in zip(uploads, sizes) {
                let key = name == StoreKey.manifest ? Self.manifestKey(item.id) : item.id + "/" + name
                try await objects.put(file: item.staging.path(name), key: key, contentType: OutputFormat.mime(forFile: name))
                uploaded.append(key)
                done += size
                progress?(Double(done) / Double(total))
            }
        } catch {
            await rollBack(uploaded)
            throw error
        }
    }

    /// Deletes what a failed unit put, newest first (manifests before their files), in a task of
    /// its own: a unit cancelled by its deadline still cleans up.
    private func rollBack(_ keys: [String]) async {
        let objects = objects
        await Task.detached {
            for key in keys.reversed() { try? await objects.delete(key: key) }
        }.value
    }

    public func discard(_ staging: Staging) {
        try? FileManager.default.removeItem(atPath: staging.directory)
    }

    public func exists(_ id: String) async throws(KilnError) -> Bool {
        guard StoreKey.isID(id) else { return false }
        if try await objects.head(key: Self.manifestKey(id)) != nil { return true }
        return try await objects.head(key: Self.legacyManifestKey(id)) != nil
    }

    /// One signed listing of a prefix that holds nothing: the bucket exists, is reachable, and
    /// the credentials work (a HEAD could not tell a missing bucket from a missing object).
    public func checkAvailable() async throws(KilnError) {
        _ = try await objects.list(prefix: ".kiln-ready", after: nil, limit: 1)
    }

    public func manifest(_ id: String) async throws(KilnError) -> Data? {
        guard StoreKey.isID(id) else { return nil }
        for key in [Self.manifestKey(id), Self.legacyManifestKey(id)] {
            do {
                return Data(try await objects.open(key: key, range: nil).collect())
            } catch let error as KilnError where error.code == .file002 {
                continue
            } catch let error as KilnError {
                throw error
            } catch {
                throw KilnError.storageUnavailable("cannot read the manifest of \(id): \(error)")
            }
        }
        return nil
    }

    public func open(_ id: String, file: String, range: ClosedRange<Int64>?) async throws(KilnError) -> StoredFile {
        try await objects.open(key: StoreKey.key(id, file), range: range)
    }

    public func delete(_ id: String) async throws(KilnError) -> Bool {
        guard StoreKey.isID(id) else { return false }
        // The manifest first: from then on readers find no item, whatever is still being removed.
        let existed = try await exists(id)
        if existed {
            try await objects.delete(key: Self.manifestKey(id))
            try await objects.delete(key: Self.legacyManifestKey(id))
        }
        // Ids have a fixed length, so the id alone is a prefix that matches only this item.
        let rest = try await objects.list(prefix: id)
        for object in rest { try await objects.delete(key: object.key) }
        return existed || !rest.isEmpty
    }

    public func list(after: String?, limit: Int) async throws(KilnError) -> [String] {
        // The first `limit` ids after the cursor among the manifests where they are kept now, and
        // among those where items stored before kept them: the first `limit` of the two together.
        let limit = min(max(0, limit), 1000)
        let current = try await objects.list(prefix: Self.manifests, after: after.map(Self.manifestKey), limit: limit)
            .compactMap { object -> String? in
                let id = object.key.dropFirst(Self.manifests.count).dropLast(5)
                return object.key.hasSuffix(".json") && StoreKey.isID(id) ? String(id) : nil
            }
        return Array(Set(current + (try await legacyIDs(after: after, limit: limit))).sorted().prefix(limit))
    }

    private func legacyIDs(after: String?, limit: Int) async throws(KilnError) -> [String] {
        var ids: [String] = []
        // Keys of an id all sort before id + "~" (ids are hex, "/" < "~"), so paging skips them.
        var cursor = after.map { $0 + "~" }
        while ids.count < limit {
            let page = try await objects.list(prefix: "", after: cursor, limit: 1000)
            for object in page {
                let parts = object.key.split(separator: "/")
                if parts.count == 2, parts[1] == StoreKey.manifest, StoreKey.isID(parts[0]), ids.count < limit {
                    ids.append(String(parts[0]))
                }
            }
            guard page.count == 1000, let last = page.last else { break }
            cursor = last.key
        }
        return ids
    }

    public func location(forItem id: String) -> String { "\(locationPrefix)/\(id)" }

    public func url(forItem id: String, file: String) -> String? {
        objects.url(for: "\(id)/\(file)")
    }

    public func url(forItem id: String, file: String, lasting lifetime: Duration) -> String? {
        objects.url(for: "\(id)/\(file)", lasting: lifetime)
    }

    public var urlLifetime: Duration? { objects.urlLifetime }

    private static func size(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }
}
