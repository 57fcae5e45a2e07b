import Foundation
import KilnCore

/// Items published to an object store (an R2 bucket) under `<media-id>/`. Files are staged
/// locally, uploaded one object at a time, `manifest.json` last: an item is complete once its
/// manifest exists. A failed first upload removes what it had put.
public struct ObjectMediaStore: MediaStore {
    public let objects: any ObjectStore
    /// Local directory for staging (the data directory's temp folder).
    public let stagingRoot: String
    /// How locations are written in manifests, e.g. "s3://bucket".
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

    public func commit(_ staging: Staging, as id: String) async throws(KilnError) -> String {
        defer { discard(staging) }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: staging.directory)) ?? [])
            .sorted { a, b in (a == "manifest.json" ? 1 : 0, a) < (b == "manifest.json" ? 1 : 0, b) }
        // Re-publishing an existing item overwrites the same objects; only a first publish is undone.
        let existed = try await objects.head(key: "\(id)/manifest.json") != nil
        var uploaded: [String] = []
        do {
            for file in files {
                let key = "\(id)/\(file)"
                try await objects.put(file: staging.path(file), key: key, contentType: OutputFormat.mime(forFile: file))
                uploaded.append(key)
            }
        } catch {
            if !existed { for key in uploaded { try? await objects.delete(key: key) } }
            throw error
        }
        return location(forItem: id)
    }

    public func location(forItem id: String) -> String { "\(locationPrefix)/\(id)" }

    public func discard(_ staging: Staging) {
        try? FileManager.default.removeItem(atPath: staging.directory)
    }

    public func url(forItem id: String, file: String) -> String? {
        objects.url(for: "\(id)/\(file)")
    }
}
