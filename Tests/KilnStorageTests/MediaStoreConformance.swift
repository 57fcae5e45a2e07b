import Foundation
import KilnCore
import KilnStorage
import KilnTestSupport
import Testing

/// The behaviours every `MediaStore` keeps, each a test of its own run against each backend (a
/// failure names the behaviour and the backend): publish and read back, byte ranges, publishing
/// again, a unit (a carousel) published whole or not at all, listing in pages, deletion.
enum MediaStoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case local, objectLayout = "object layout", bucket
    var testDescription: String { rawValue }
}

enum MediaStoreConformance {
    /// A new, empty store of `backend`, with what makes its commits fail (each store breaks
    /// differently) and the staging area that must be left empty.
    final class Subject: @unchecked Sendable {
        let store: any MediaStore
        let sabotage: (Staging) throws -> Void
        let staging: String
        private let directories: [String]

        typealias Staged = MediaStoreConformance.Staged

        init(_ backend: MediaStoreBackend) async throws {
            let root = Fixtures.scratchDirectory("kiln-store")
            let staging = Fixtures.scratchDirectory("kiln-staging")
            directories = [root, staging]
            switch backend {
            case .local:
                store = try LocalStore(root: root)
                // A staging directory that vanished cannot be renamed into place.
                sabotage = { staging in try FileManager.default.removeItem(atPath: staging.directory) }
                self.staging = root + "/.staging"
            case .objectLayout:
                store = try ObjectMediaStore(objects: Poison.objects(try LocalStore(root: root)), stagingRoot: staging,
                                             locationPrefix: "objects:/")
                sabotage = Poison.add
                self.staging = staging
            case .bucket:
                // The shared moto server; each test's objects under a prefix of their own.
                let moto = try await MotoS3.started()
                let client = S3Client(configuration: S3Configuration(
                    endpoint: try #require(URL(string: moto.endpoint)), bucket: moto.bucket,
                    credentials: .init(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)))
                let objects = PrefixedObjects(base: client, prefix: "conformance-" + UUID().uuidString.prefix(8).lowercased() + "-")
                store = try ObjectMediaStore(objects: Poison.objects(objects), stagingRoot: staging,
                                             locationPrefix: "s3://\(moto.bucket)")
                sabotage = Poison.add
                self.staging = staging
            }
        }

        deinit { for directory in directories { Fixtures.cleanUp(directory) } }

        /// An item of `bytes` pseudo-random bytes, published.
        func published(seed: UInt8, bytes: Int) async throws -> Staged {
            let item = try MediaStoreConformance.stage(store, seed: seed, bytes: bytes)
            try await store.commit(item.staged)
            return item
        }

        /// Two items and the carousel holding them, staged: one unit to publish.
        func stagedUnit() throws -> (b: Staged, c: Staged, carousel: Staged) {
            let b = try MediaStoreConformance.stage(store, seed: 2, bytes: 1000)
            let c = try MediaStoreConformance.stage(store, seed: 3, bytes: 1000)
            return (b, c, try MediaStoreConformance.stageCarousel(store, items: [b.id, c.id]))
        }

        /// Nothing staged is left behind.
        func expectNoStaging(sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(Fixtures.files(under: staging).isEmpty, "no staging left behind", sourceLocation: sourceLocation)
        }
    }

    struct Staged {
        let id: String
        let staged: StagedItem
        let bytes: [UInt8]
    }

    /// An item with one rendition of `bytes` pseudo-random bytes and its manifest, staged.
    static func stage(_ store: any MediaStore, seed: UInt8, bytes count: Int) throws -> Staged {
        let staging = try store.makeStaging()
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
        try Data(bytes).write(to: URL(fileURLWithPath: staging.path("display.jpg")))
        let id = String(repeating: String(format: "%02x", seed), count: 32)
        let facts = ImageFacts(format: "jpeg", mime: "image/jpeg", sizeBytes: Int64(count), width: 10, height: 10,
                               orientation: 1, colorSpace: "srgb", bands: 3, bitDepth: 8, hasAlpha: false,
                               hasICCProfile: false, pages: 1, metadata: [])
        let item = MediaItem(
            id: id, sourceSha256: id, options: ProcessingOptions(preset: "default", presetDigest: "x", fit: .reject,
                                                                 type: .auto, keepOriginal: false),
            input: "test.jpg", kind: .image, mime: "image/jpeg", source: .image(facts),
            renditions: [Rendition(name: "display", file: "display.jpg", format: .jpeg, width: 10, height: 10,
                                   bytes: Int64(count), sha256: id)])
        try JSONEncoder().encode(item.stored).write(to: URL(fileURLWithPath: staging.path(StoreKey.manifest)))
        return Staged(id: id, staged: StagedItem(id: id, staging: staging), bytes: bytes)
    }

    static func stageCarousel(_ store: any MediaStore, items: [String]) throws -> Staged {
        let staging = try store.makeStaging()
        let id = FileDigest.sha256(joining: items)
        try JSONEncoder().encode(CarouselRecord(id: id, preset: "default", items: items))
            .write(to: URL(fileURLWithPath: staging.path(StoreKey.manifest)))
        return Staged(id: id, staged: StagedItem(id: id, staging: staging), bytes: [])
    }

    final class ProgressBox: @unchecked Sendable {
        private let lock = NSLock()
        private var last = 0.0
        func set(_ value: Double) { lock.withLock { last = value } }
        var value: Double { lock.withLock { last } }
    }
}

/// Sabotage for an object-backed store: a file the store will refuse.
enum Poison {
    static let objects: @Sendable (any ObjectStore) -> FaultyObjects = { base in
        FaultyObjects(base: base) { key, _ in key.hasSuffix("/poison.bin") }
    }

    static func add(_ staging: Staging) throws {
        try Data("x".utf8).write(to: URL(fileURLWithPath: staging.path("poison.bin")))
    }
}

@Suite struct MediaStoreConformanceTests {
    typealias Subject = MediaStoreConformance.Subject

    @Test(arguments: MediaStoreBackend.allCases)
    func aPublishedItemReadsBackWithItsPathsMadeOnRead(_ backend: MediaStoreBackend) async throws {
        let subject = try await Subject(backend)
        let store = subject.store
        try await store.checkAvailable()
        let a = try await subject.published(seed: 1, bytes: 1000)
        #expect(try await store.exists(a.id))
        let item = try #require(try await store.item(a.id), "the item reads back")
        #expect(item.id == a.id && item.renditions.map(\.file) == ["display.jpg"])
        #expect(item.location == store.location(forItem: a.id))
        #expect(item.renditions[0].path == store.location(forItem: a.id) + "/display.jpg", "paths are made when read")
        // The same address (a presigned one is signed at each read: its query carries the time).
        #expect(item.renditions[0].url?.split(separator: "?").first == store.url(forItem: a.id, file: "display.jpg")?.split(separator: "?").first)
        let manifest = try #require(try await store.manifest(a.id))
        #expect(String(decoding: manifest, as: UTF8.self).contains("\"path\"") == false, "manifests hold no paths")
        subject.expectNoStaging()
    }

    @Test(arguments: MediaStoreBackend.allCases)
    func filesAreReadWholeOrByRange(_ backend: MediaStoreBackend) async throws {
        let subject = try await Subject(backend)
        let store = subject.store
        let a = try await subject.published(seed: 1, bytes: 300_000)
        #expect(try await store.open(a.id, file: "display.jpg", range: 10...19).collect() == Array(a.bytes[10...19]))
        let whole = try await store.open(a.id, file: "display.jpg", range: nil)
        #expect(whole.size == 300_000 && whole.contentType == "image/jpeg")
        #expect(try await whole.collect() == a.bytes)
        let tail = try await store.open(a.id, file: "display.jpg", range: 299_990...400_000)
        #expect(tail.range == 299_990...299_999)
        #expect(try await tail.collect() == Array(a.bytes[299_990...]))
        await #expect { try await store.open(a.id, file: "display.jpg", range: 300_000...300_010) } throws: {
            ($0 as? KilnError)?.code == .api006
        }
        await #expect { try await store.open(a.id, file: "missing.jpg", range: nil) } throws: {
            ($0 as? KilnError)?.code == .file002
        }
        await #expect { try await store.open(a.id, file: "../\(a.id)/display.jpg", range: nil) } throws: {
            ($0 as? KilnError)?.code == .api002
        }
    }

    @Test(arguments: MediaStoreBackend.allCases)
    func publishingAnIdAgainChangesNothing(_ backend: MediaStoreBackend) async throws {
        let subject = try await Subject(backend)
        let store = subject.store
        let a = try await subject.published(seed: 1, bytes: 1000)
        let manifest = try await store.manifest(a.id)
        // The same id (same bytes and options, so the same content).
        let again = try await subject.published(seed: 1, bytes: 1000)
        #expect(try await store.manifest(a.id) == manifest)
        #expect(!FileManager.default.fileExists(atPath: again.staged.staging.directory), "its staging is dropped")
        #expect(try await store.list(after: nil, limit: 100) == [a.id])
    }

    @Test(arguments: MediaStoreBackend.allCases)
    func aUnitThatFailsHalfWayPublishesNone(_ backend: MediaStoreBackend) async throws {
        let subject = try await Subject(backend)
        let store = subject.store
        let (b, c, carousel) = try subject.stagedUnit()
        try subject.sabotage(c.staged.staging)
        await #expect { try await store.commit([b.staged, c.staged, carousel.staged], progress: nil) } throws: {
            $0 is KilnError
        }
        for id in [b.id, c.id, carousel.id] {
            #expect(try await !store.exists(id), "nothing of the failed unit is published")
        }
        #expect(try await store.list(after: nil, limit: 100).isEmpty)
        subject.expectNoStaging()
    }

    @Test(arguments: MediaStoreBackend.allCases)
    func aUnitIsPublishedWholeWithItsProgress(_ backend: MediaStoreBackend) async throws {
        let subject = try await Subject(backend)
        let store = subject.store
        let (b, c, carousel) = try subject.stagedUnit()
        let last = MediaStoreConformance.ProgressBox()
        try await store.commit([b.staged, c.staged, carousel.staged]) { fraction in last.set(fraction) }
        #expect(last.value == 1)
        #expect(try await store.carousel(carousel.id)?.items == [b.id, c.id])
        #expect(try await store.item(carousel.id) == nil, "a carousel is not an item")
        #expect(try await store.item(b.id) != nil)
        #expect(try await store.item(c.id) != nil)
    }

    @Test(arguments: MediaStoreBackend.allCases)
    func listingGoesInPagesInIdOrder(_ backend: MediaStoreBackend) async throws {
        let subject = try await Subject(backend)
        let store = subject.store
        var ids: [String] = []
        for seed in UInt8(1)...4 { ids.append(try await subject.published(seed: seed, bytes: 100).id) }
        let all = ids.sorted()
        #expect(try await store.list(after: nil, limit: 100) == all)
        let page = try await store.list(after: nil, limit: 2)
        #expect(page == Array(all.prefix(2)))
        #expect(try await store.list(after: page.last, limit: 10) == Array(all.dropFirst(2)))
    }

    @Test(arguments: MediaStoreBackend.allCases)
    func deletingRemovesTheWholeItemOnce(_ backend: MediaStoreBackend) async throws {
        let subject = try await Subject(backend)
        let store = subject.store
        let a = try await subject.published(seed: 1, bytes: 1000)
        let b = try await subject.published(seed: 2, bytes: 1000)
        #expect(try await store.delete(a.id))
        #expect(try await !store.exists(a.id))
        #expect(try await store.manifest(a.id) == nil)
        await #expect { try await store.open(a.id, file: "display.jpg", range: nil) } throws: {
            ($0 as? KilnError)?.code == .file002
        }
        #expect(try await !store.delete(a.id), "deleting again finds nothing")
        #expect(try await store.list(after: nil, limit: 100) == [b.id])
    }

    @Test func aLocalTreeThatBrokeUnderTheStoreIsUnavailable() async throws {
        let root = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(root) }
        let store = try LocalStore(root: root)
        try await store.checkAvailable()
        // A disk unmounted, a directory replaced.
        try FileManager.default.removeItem(atPath: root)
        try Data().write(to: URL(fileURLWithPath: root))
        await #expect { try await store.checkAvailable() } throws: { ($0 as? KilnError)?.code == .file006 }
    }

    @Test func aBucketThatIsNotThereIsUnavailable() async throws {
        // A bucket that is not there is no store to be ready with, though a HEAD would say 404.
        let moto = try await MotoS3.started()
        let staging = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(staging) }
        let missing = S3Configuration(endpoint: try #require(URL(string: moto.endpoint)), bucket: "kiln-no-such-bucket",
                                      credentials: .init(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey))
        let elsewhere = try ObjectMediaStore(objects: S3Client(configuration: missing), stagingRoot: staging, locationPrefix: "s3://x")
        await #expect { try await elsewhere.checkAvailable() } throws: { ($0 as? KilnError)?.code.rawValue.hasPrefix("FILE_") == true }
    }
}
