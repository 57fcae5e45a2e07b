import Foundation
import KilnCore
import KilnPipeline
import KilnStorage
import KilnTestSupport
import Testing

/// The pipeline publishing to an S3-compatible bucket (moto, signatures checked): every
/// rendition kind lands in the bucket, and the item says where.
@Suite struct R2IngestTests {
    func store() throws -> (ObjectMediaStore, S3Client, String) {
        let moto = try MotoS3.shared.get()
        let client = S3Client(configuration: S3Configuration(
            endpoint: URL(string: moto.endpoint)!, bucket: moto.bucket,
            credentials: .init(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)))
        let staging = Fixtures.scratchDirectory("kiln-r2-staging")
        return (try ObjectMediaStore(objects: client, stagingRoot: staging, locationPrefix: "s3://\(moto.bucket)"),
                client, staging)
    }

    @Test(arguments: ["photo.jpg", "video/hevc10-rotated.mp4"])
    func everyRenditionLandsInTheBucket(sample: String) async throws {
        let (store, client, staging) = try store()
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
        #expect(try await client.head(key: "\(item.id)/manifest.json") != nil)
        #expect(Fixtures.files(under: staging).isEmpty, "local staging is cleaned up")
    }

    @Test func aFailedUploadLeavesNoItemBehind() async throws {
        // A bucket that does not exist: the first put fails, nothing is published, staging is gone.
        let moto = try MotoS3.shared.get()
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
