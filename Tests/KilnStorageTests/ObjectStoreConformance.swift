import Foundation
import KilnCore
import KilnStorage
import KilnTestSupport
import Testing

/// One suite every `ObjectStore` passes: put, get, range get, head, delete, list by prefix,
/// and atomic replacement. Keys use "-" rather than "/" in listed prefixes: moto (the S3
/// server the tests run) mis-verifies signatures of queries holding "/".
enum ObjectStoreConformance {
    static func run(_ store: any ObjectStore, prefix: String) async throws {
        let scratch = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(scratch) }
        let source = scratch + "/source.bin"
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: source))

        // put (file and bytes), head, get
        try await store.put(file: source, key: "\(prefix)-a-file.bin", contentType: "application/octet-stream")
        try await store.put(bytes: Array("hello".utf8), key: "\(prefix)-a-hello.txt", contentType: "text/plain")
        try await store.put(bytes: [1], key: "\(prefix)-b-other", contentType: "application/octet-stream")
        #expect(try await store.head(key: "\(prefix)-a-file.bin")?.size == 300_000)
        #expect(try await store.head(key: "\(prefix)-missing") == nil)
        try await store.get(key: "\(prefix)-a-file.bin", to: scratch + "/copy.bin")
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch + "/copy.bin")) == Data(bytes))

        // range get
        #expect(try await store.open(key: "\(prefix)-a-file.bin", range: 1000...1009).collect() == Array(bytes[1000...1009]))
        #expect(try await store.open(key: "\(prefix)-a-hello.txt", range: 1...3).collect() == Array("ell".utf8))
        let whole = try await store.open(key: "\(prefix)-a-file.bin", range: nil)
        #expect(whole.size == 300_000 && whole.range == nil)
        #expect(try await whole.collect() == bytes, "a whole object streams in chunks and comes back intact")
        let tail = try await store.open(key: "\(prefix)-a-hello.txt", range: 3...1000)
        #expect(tail.range == 3...4 && tail.size == 5, "a range past the end is clipped to it")
        #expect(try await tail.collect() == Array("lo".utf8))
        await #expect { try await store.open(key: "\(prefix)-a-hello.txt", range: 5...9) } throws: {
            ($0 as? KilnError)?.code == .api006
        }
        await #expect { try await store.open(key: "\(prefix)-missing", range: nil) } throws: {
            ($0 as? KilnError)?.code == .file002
        }

        // listing in pages
        let firstPage = try await store.list(prefix: "\(prefix)-", after: nil, limit: 2)
        #expect(firstPage.map(\.key) == ["\(prefix)-a-file.bin", "\(prefix)-a-hello.txt"])
        #expect(try await store.list(prefix: "\(prefix)-", after: firstPage.last?.key, limit: 2).map(\.key) == ["\(prefix)-b-other"])

        // list by prefix
        #expect(try await store.list(prefix: "\(prefix)-a-").map(\.key) == ["\(prefix)-a-file.bin", "\(prefix)-a-hello.txt"])
        // Each listed object with its own size (S3 writes ETag before Size: a size once went to the next key).
        #expect(try await store.list(prefix: "\(prefix)-a-").map(\.size) == [300_000, 5])
        #expect(try await store.list(prefix: "\(prefix)-").count == 3)

        // missing objects
        await #expect { try await store.get(key: "\(prefix)-missing", to: scratch + "/x") } throws: {
            ($0 as? KilnError)?.code == .file002
        }
        #expect(!FileManager.default.fileExists(atPath: scratch + "/x"), "no partial download left")

        // delete (twice: deleting a missing object is fine)
        try await store.delete(key: "\(prefix)-b-other")
        try await store.delete(key: "\(prefix)-b-other")
        #expect(try await store.head(key: "\(prefix)-b-other") == nil)

        // atomic replacement: readers during a rewrite see the old bytes or the new, never a mix
        let replacement = scratch + "/replacement.bin"
        let newBytes = bytes.map { $0 ^ 0xFF }
        try Data(newBytes).write(to: URL(fileURLWithPath: replacement))
        let old = Data(bytes), new = Data(newBytes)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await store.put(file: replacement, key: "\(prefix)-a-file.bin", contentType: "application/octet-stream")
            }
            for reader in 0..<4 {
                group.addTask {
                    let target = scratch + "/read-\(reader).bin"
                    try await store.get(key: "\(prefix)-a-file.bin", to: target)
                    let seen = try Data(contentsOf: URL(fileURLWithPath: target))
                    #expect(seen == old || seen == new, "reader \(reader) saw a mix")
                }
            }
            try await group.waitForAll()
        }
        try await store.get(key: "\(prefix)-a-file.bin", to: scratch + "/final.bin")
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch + "/final.bin")) == new)
    }
}

@Suite struct LocalObjectStoreTests {
    @Test func localStorePassesTheConformanceSuite() async throws {
        let root = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(root) }
        try await ObjectStoreConformance.run(try LocalStore(root: root), prefix: "conformance")
    }

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
