import Foundation
import KilnCore
import KilnPipeline
import KilnStorage
import KilnTestSupport
import Testing

/// The pipeline publishing to an S3-compatible bucket (moto, signatures checked): every
/// rendition kind lands in the bucket, and the item says where.
@Suite struct R2IngestTests {
    func store() async throws -> (ObjectMediaStore, S3Client, String) {
        let moto = try await MotoS3.started()
        let client = S3Client(configuration: S3Configuration(
            endpoint: URL(string: moto.endpoint)!, bucket: moto.bucket,
            credentials: .init(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)))
        let staging = Fixtures.scratchDirectory("kiln-r2-staging")
        return (try ObjectMediaStore(objects: client, stagingRoot: staging, locationPrefix: "s3://\(moto.bucket)"),
                client, staging)
    }

    @Test(arguments: ["photo.jpg", "video/hevc10-rotated.mp4"])
    func everyRenditionLandsInTheBucket(sample: String) async throws {
        let (store, client, staging) = try await store()
        defer { Fixtures.cleanUp(staging) }
        let pipeline = try Pipeline(store: store)
        let item = try await pipeline.ingest(path: Fixtures.sample(sample))
        #expect(item.location == "s3://kiln-test/\(item.id)")
        for rendition in item.renditions {
            let key = "\(item.id)/\(rendition.file)"
            #expect(rendition.path == "s3://kiln-test/\(key)")
            #expect(rendition.url?.contains("X-Amz-Signature=") == true, "a presigned URL for \(rendition.name)")
            let object = try #require(try await client.head(key: key), "\(key) is in the bucket")
            #expect(object.size == rendition.bytes)
        }
        // The manifest (tenant, file name, source facts) under the internal prefix, not beside the
        // renditions a public domain serves.
        #expect(try await client.head(key: ".kiln-manifest-\(item.id).json") != nil)
        #expect(try await client.head(key: "\(item.id)/manifest.json") == nil)
        #expect(Fixtures.files(under: staging).isEmpty, "local staging is cleaned up")
    }

    /// An item stored before manifests moved to `.kiln-manifest-<id>.json` is still found, listed,
    /// read and deleted whole.
    @Test func anItemStoredBeforeTheManifestsMovedIsStillRead() async throws {
        let (store, client, staging) = try await store()
        defer { Fixtures.cleanUp(staging) }
        let item = try await Pipeline(store: store).ingest(path: Fixtures.sample("orient-3.jpg"))
        let manifest = Data(try await client.open(key: ".kiln-manifest-\(item.id).json", range: nil).collect())
        let file = staging + "/old-manifest.json"
        try manifest.write(to: URL(fileURLWithPath: file))
        try await client.put(file: file, key: "\(item.id)/manifest.json", contentType: "application/json")
        try await client.delete(key: ".kiln-manifest-\(item.id).json")
        #expect(try await store.exists(item.id))
        #expect(try await store.manifest(item.id) == manifest)
        #expect(try await store.list(after: nil, limit: 10_000).contains(item.id))
        #expect(try await store.delete(item.id))
        let left = try await client.head(key: "\(item.id)/manifest.json")
        let exists = try await store.exists(item.id)
        #expect(left == nil && !exists)
    }

    @Test func aFailedUploadLeavesNoItemBehind() async throws {
        // A bucket that does not exist: the first put fails, nothing is published, staging is gone.
        let moto = try await MotoS3.started()
        let client = S3Client(configuration: S3Configuration(
            endpoint: URL(string: moto.endpoint)!, bucket: "missing-bucket",
            credentials: .init(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey),
            retry: RetryPolicy(maxAttempts: 1)))
        let staging = Fixtures.scratchDirectory("kiln-r2-staging")
        defer { Fixtures.cleanUp(staging) }
        let pipeline = try Pipeline(store: try ObjectMediaStore(objects: client, stagingRoot: staging,
                                                                 locationPrefix: "s3://missing-bucket"))
        await #expect { try await pipeline.ingest(path: Fixtures.sample("small.jpg")) } throws: {
            ($0 as? KilnError)?.code == .file007
        }
        #expect(Fixtures.files(under: staging).isEmpty)
    }
}
