import Foundation
import KilnCore
import KilnStorage
import KilnTestSupport
import Testing

@Suite struct LocalStoreTests {
    @Test func commitPublishesTheWholeDirectoryAtOnce() async throws {
        let root = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(root) }
        let store = try LocalStore(root: root)
        let id = String(repeating: "ab", count: 32)
        let staging = try store.makeStaging()
        try Data("a".utf8).write(to: URL(fileURLWithPath: staging.path("a.txt")))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: staging.path("manifest.json")))
        #expect(!FileManager.default.fileExists(atPath: root + "/" + id), "nothing visible before commit")
        try await store.commit(StagedItem(id: id, staging: staging))
        #expect(Fixtures.files(under: root).filter { !$0.hasPrefix(".staging") } == ["\(id)/a.txt", "\(id)/manifest.json"])
        #expect(Fixtures.files(under: root + "/.staging").isEmpty)
    }

    /// A power cut never leaves a manifest over a truncated file: every staged file is synced,
    /// then its directory, before the rename publishes them; then the root that names the item.
    @Test func everyFileAndDirectoryIsSyncedBeforeItIsPublished() async throws {
        let root = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(root) }
        let id = String(repeating: "ef", count: 32)
        let target = root + "/" + id
        let seen = Recorder()
        let store = try LocalStore(root: root, sync: DiskSync { event in
            seen.add((event, FileManager.default.fileExists(atPath: target)))
        })
        let staging = try store.makeStaging()
        try Data(repeating: 1, count: 100_000).write(to: URL(fileURLWithPath: staging.path("video.mp4")))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: staging.path("manifest.json")))
        try await store.commit(StagedItem(id: id, staging: staging))
        let events = seen.events
        #expect(events.map(\.0) == [.file(staging.path("manifest.json")), .file(staging.path("video.mp4")),
                                     .directory(staging.directory), .directory(root)], "\(events)")
        #expect(events.prefix(3).allSatisfy { !$0.1 }, "synced while still staged, before the rename")
        #expect(events.last?.1 == true, "the root synced once the item is in it")

        // A handed-off object: the file, then its folder.
        let handed = Recorder()
        let objects = try LocalStore(root: root, sync: DiskSync { event in handed.add((event, false)) })
        try await objects.put(bytes: [1, 2, 3], key: ".kiln-incoming/job/0", contentType: "application/octet-stream")
        #expect(handed.events.map(\.0).last == .directory(root + "/.kiln-incoming/job"))
        #expect(handed.events.count == 2)
    }

    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [(DiskSync.Event, Bool)] = []
        func add(_ event: (DiskSync.Event, Bool)) { lock.withLock { list.append(event) } }
        var events: [(DiskSync.Event, Bool)] { lock.withLock { list } }
    }

    @Test func aDirectoryWithoutManifestIsReplacedWhole() async throws {
        let root = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(root) }
        let store = try LocalStore(root: root)
        let id = String(repeating: "cd", count: 32)
        try FileManager.default.createDirectory(atPath: root + "/" + id, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: URL(fileURLWithPath: root + "/\(id)/old.txt"))
        let staging = try store.makeStaging()
        try Data("new".utf8).write(to: URL(fileURLWithPath: staging.path("new.txt")))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: staging.path("manifest.json")))
        try await store.commit(StagedItem(id: id, staging: staging))
        #expect(Fixtures.files(under: root + "/" + id) == ["manifest.json", "new.txt"])
        #expect(Fixtures.files(under: root + "/.staging").isEmpty)
    }

    @Test func workLeftByAKilledProcessIsSweptAndALiveOnesIsNot() async throws {
        let root = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(root) }
        // A dead process's session: its lock file is there, and no one holds it.
        let dead = root + "/.staging/0dead"
        try FileManager.default.createDirectory(atPath: dead + "/half-staged", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dead + "/half-staged/video.mp4"))
        try Data().write(to: URL(fileURLWithPath: dead + "/.lock"))
        // A live process's session: another process holds its lock (flock is per open file).
        let live = root + "/.staging/1live"
        try FileManager.default.createDirectory(atPath: live + "/staging", withIntermediateDirectories: true)
        try Data("y".utf8).write(to: URL(fileURLWithPath: live + "/staging/display.jpg"))
        try Data().write(to: URL(fileURLWithPath: live + "/.lock"))
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [live + "/.lock", "-c", "read line"]
        let input = Pipe()
        holder.standardInput = input
        try holder.run()
        defer { try? input.fileHandleForWriting.close(); holder.waitUntilExit() }
        try await eventually { (try? Tool.run("flock", ["-n", live + "/.lock", "true"]).status) == 1 }

        let store = try LocalStore(root: root)
        _ = try store.makeStaging()
        #expect(!FileManager.default.fileExists(atPath: dead), "the dead session is removed")
        #expect(FileManager.default.fileExists(atPath: live + "/staging/display.jpg"), "the live one is untouched")
    }

    @Test func discardLeavesNothing() throws {
        let root = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(root) }
        let store = try LocalStore(root: root)
        let staging = try store.makeStaging()
        try Data("x".utf8).write(to: URL(fileURLWithPath: staging.path("x")))
        store.discard(staging)
        #expect(Fixtures.files(under: root).isEmpty)
    }

    @Test func unwritableRootIsFILE_007() {
        #expect {
            try LocalStore(root: "/proc/kiln-cannot-exist")
        } throws: { ($0 as? KilnError)?.code == .file007 }
    }

    @Test func digestsMatchKnownVectorsAndStreamLargeFiles() throws {
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        let abc = directory + "/abc"
        try Data("abc".utf8).write(to: URL(fileURLWithPath: abc))
        #expect(try FileDigest.sha256(path: abc) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // 3 MiB of zeros crosses several read chunks.
        let zeros = directory + "/zeros"
        try Data(count: 3 << 20).write(to: URL(fileURLWithPath: zeros))
        #expect(try FileDigest.sha256(path: zeros) == "bbd05cf6097ac9b1f89ea29d2542c1b7b67ee46848393895f5a9e43fa1f621e5")
    }
}
