import Foundation
import KilnCore
import KilnStorage
import KilnTestSupport
import Testing

/// The behaviours every `ObjectStore` keeps, each a test of its own against each backend: put,
/// get, range get, head, list by prefix in pages, delete, and atomic replacement. Each test's
/// keys start with a prefix of their own, using "-" rather than "/": moto (the S3 server the
/// tests run) mis-verifies signatures of queries holding "/".
enum ObjectStoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case local, bucket
    var testDescription: String { rawValue }
}

@Suite struct ObjectStoreConformance {
    /// A store of `backend`, a prefix no other test uses, and a scratch directory.
    final class Subject: @unchecked Sendable {
        let store: any ObjectStore
        let prefix = "conformance-" + UUID().uuidString.prefix(8).lowercased()
        let scratch = Fixtures.scratchDirectory()
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        private let root: String?

        init(_ backend: ObjectStoreBackend) async throws {
            switch backend {
            case .local:
                let root = Fixtures.scratchDirectory()
                self.root = root
                store = try LocalStore(root: root)
            case .bucket:
                root = nil
                let moto = try await MotoS3.started()
                store = S3Client(configuration: S3Configuration(
                    endpoint: try #require(URL(string: moto.endpoint)), bucket: moto.bucket,
                    credentials: .init(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)))
            }
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: source))
        }

        deinit {
            Fixtures.cleanUp(scratch)
            if let root { Fixtures.cleanUp(root) }
        }

        var source: String { scratch + "/source.bin" }
        func key(_ name: String) -> String { prefix + "-" + name }

        /// The three objects most tests start from.
        func putThree() async throws {
            try await store.put(file: source, key: key("a-file.bin"), contentType: "application/octet-stream")
            try await store.put(bytes: Array("hello".utf8), key: key("a-hello.txt"), contentType: "text/plain")
            try await store.put(bytes: [1], key: key("b-other"), contentType: "application/octet-stream")
        }
    }

    @Test(arguments: ObjectStoreBackend.allCases)
    func objectsPutAreReadBackWhole(_ backend: ObjectStoreBackend) async throws {
        let s = try await Subject(backend)
        try await s.putThree()
        #expect(try await s.store.head(key: s.key("a-file.bin"))?.size == 300_000)
        #expect(try await s.store.head(key: s.key("missing")) == nil)
        try await s.store.get(key: s.key("a-file.bin"), to: s.scratch + "/copy.bin")
        #expect(try Data(contentsOf: URL(fileURLWithPath: s.scratch + "/copy.bin")) == Data(s.bytes))
        let whole = try await s.store.open(key: s.key("a-file.bin"), range: nil)
        #expect(whole.size == 300_000 && whole.range == nil)
        #expect(try await whole.collect() == s.bytes, "a whole object streams in chunks and comes back intact")
    }

    @Test(arguments: ObjectStoreBackend.allCases)
    func rangesAreReadAndClippedToTheEnd(_ backend: ObjectStoreBackend) async throws {
        let s = try await Subject(backend)
        try await s.putThree()
        #expect(try await s.store.open(key: s.key("a-file.bin"), range: 1000...1009).collect() == Array(s.bytes[1000...1009]))
        #expect(try await s.store.open(key: s.key("a-hello.txt"), range: 1...3).collect() == Array("ell".utf8))
        let tail = try await s.store.open(key: s.key("a-hello.txt"), range: 3...1000)
        #expect(tail.range == 3...4 && tail.size == 5, "a range past the end is clipped to it")
        #expect(try await tail.collect() == Array("lo".utf8))
        await #expect { try await s.store.open(key: s.key("a-hello.txt"), range: 5...9) } throws: {
            ($0 as? KilnError)?.code == .api006
        }
    }

    @Test(arguments: ObjectStoreBackend.allCases)
    func listingIsByPrefixInPagesWithEachObjectsSize(_ backend: ObjectStoreBackend) async throws {
        let s = try await Subject(backend)
        try await s.putThree()
        let firstPage = try await s.store.list(prefix: s.key(""), after: nil, limit: 2)
        #expect(firstPage.map(\.key) == [s.key("a-file.bin"), s.key("a-hello.txt")])
        #expect(try await s.store.list(prefix: s.key(""), after: firstPage.last?.key, limit: 2).map(\.key) == [s.key("b-other")])
        #expect(try await s.store.list(prefix: s.key("a-")).map(\.key) == [s.key("a-file.bin"), s.key("a-hello.txt")])
        // Each listed object with its own size (S3 writes ETag before Size: a size once went to the next key).
        #expect(try await s.store.list(prefix: s.key("a-")).map(\.size) == [300_000, 5])
        #expect(try await s.store.list(prefix: s.key("")).count == 3)
    }

    @Test(arguments: ObjectStoreBackend.allCases)
    func aMissingObjectIsFILE_002AndLeavesNoPartialDownload(_ backend: ObjectStoreBackend) async throws {
        let s = try await Subject(backend)
        await #expect { try await s.store.open(key: s.key("missing"), range: nil) } throws: {
            ($0 as? KilnError)?.code == .file002
        }
        await #expect { try await s.store.get(key: s.key("missing"), to: s.scratch + "/x") } throws: {
            ($0 as? KilnError)?.code == .file002
        }
        #expect(!FileManager.default.fileExists(atPath: s.scratch + "/x"), "no partial download left")
    }

    @Test(arguments: ObjectStoreBackend.allCases)
    func deletingTwiceIsFine(_ backend: ObjectStoreBackend) async throws {
        let s = try await Subject(backend)
        try await s.putThree()
        try await s.store.delete(key: s.key("b-other"))
        try await s.store.delete(key: s.key("b-other"))
        #expect(try await s.store.head(key: s.key("b-other")) == nil)
        #expect(try await s.store.list(prefix: s.key("")).count == 2)
    }

    @Test(arguments: ObjectStoreBackend.allCases)
    func readersDuringARewriteSeeTheOldBytesOrTheNewNeverAMix(_ backend: ObjectStoreBackend) async throws {
        let s = try await Subject(backend)
        try await s.putThree()
        let replacement = s.scratch + "/replacement.bin"
        let newBytes = s.bytes.map { $0 ^ 0xFF }
        try Data(newBytes).write(to: URL(fileURLWithPath: replacement))
        let old = Data(s.bytes), new = Data(newBytes)
        let (store, key, scratch) = (s.store, s.key("a-file.bin"), s.scratch)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.put(file: replacement, key: key, contentType: "application/octet-stream") }
            for reader in 0..<4 {
                group.addTask {
                    let target = scratch + "/read-\(reader).bin"
                    try await store.get(key: key, to: target)
                    let seen = try Data(contentsOf: URL(fileURLWithPath: target))
                    #expect(seen == old || seen == new, "reader \(reader) saw a mix")
                }
            }
            try await group.waitForAll()
        }
        try await store.get(key: key, to: scratch + "/final.bin")
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch + "/final.bin")) == new)
    }
}

@Suite struct LocalObjectStoreTests {
    @Test func listingWalksSubfolders() async throws {
        let root = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(root) }
        let store = try LocalStore(root: root)
        for key in ["id1/display.jpg", "id1/thumb.jpg", "id2/display.jpg"] {
            try await store.put(bytes: [1, 2], key: key, contentType: "image/jpeg")
        }
        #expect(try await store.list(prefix: "id1/").map(\.key) == ["id1/display.jpg", "id1/thumb.jpg"])
        #expect(try await store.list(prefix: "").count == 3)
    }

    @Test func keysCannotLeaveTheRoot() async throws {
        let root = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(root) }
        let store = try LocalStore(root: root)
        for key in ["../escape", "/abs", "a/../../b", ".staging/x", "a//b"] {
            await #expect { try await store.put(bytes: [1], key: key, contentType: "x") } throws: {
                ($0 as? KilnError)?.code == .api001
            }
        }
    }
}
