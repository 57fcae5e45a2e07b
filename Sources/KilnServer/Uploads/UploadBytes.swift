import Foundation
import KilnCore
import KilnPipeline
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where a resumable upload's bytes wait between its chunks. On one node, one file on its disk;
/// with the state shared by several nodes, one object per chunk in the store (the bucket, or
/// the directory every node shares), so the next chunk, HEAD or DELETE may reach any node.
/// The upload's row says how many bytes count (`offset`): a chunk is written, then counted.
protocol UploadBytes: Sendable {
    /// Makes room for a new upload.
    func create(_ id: String) async throws(KilnError)
    /// The first `count` bytes kept (fewer when fewer are there).
    func head(_ id: String, count: Int) async throws(KilnError) -> [UInt8]
    /// A writer for the chunk that starts at `offset` (what is kept past it no longer counts).
    func chunk(_ id: String, at offset: Int64) async throws(KilnError) -> any ChunkWriter
    /// The first `length` bytes as one local file, in order, for the pipeline; `done` once read.
    func file(_ id: String, length: Int64) async throws(KilnError) -> (path: String, done: @Sendable () -> Void)
    /// Removes the upload's bytes (removing what is not there is not an error).
    func remove(_ id: String) async
    /// Removes what no row names (a crash between making the room and the row), as `known` says.
    func removeOrphans(known: (String) async throws(KilnError) -> Bool) async throws(KilnError)
}

/// One chunk on its way: written in blocks, then committed (it counts once its offset is
/// recorded) or discarded (nothing of it is kept).
protocol ChunkWriter: Sendable {
    func write(_ block: [UInt8]) async throws(KilnError)
    /// On disk, or in the store: safe to count.
    func commit() async throws(KilnError)
    func discard() async
}

// MARK: One node: a file

/// One file per upload under `<data>/uploads`.
struct FileUploadBytes: UploadBytes {
    let directory: String

    func path(_ id: String) -> String { directory + "/" + id }

    func create(_ id: String) async throws(KilnError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw KilnError.storageUnavailable("cannot create \(directory): \(error.localizedDescription)")
        }
        // Owner-only, never one that exists.
        let descriptor = open(path(id), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw KilnError.storageUnavailable("cannot create \(path(id)): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
    }

    func head(_ id: String, count: Int) async throws(KilnError) -> [UInt8] {
        guard let file = FileHandle(forReadingAtPath: path(id)) else { throw KilnError.notFoundResource("upload \(id)") }
        defer { try? file.close() }
        do { return [UInt8](try file.read(upToCount: count) ?? Data()) } catch {
            throw KilnError.storageUnavailable("cannot read \(path(id)): \(error.localizedDescription)")
        }
    }

    func chunk(_ id: String, at offset: Int64) async throws(KilnError) -> any ChunkWriter {
        let file = try BlockFile(writing: path(id))
        // Bytes past the recorded offset (a chunk cut off before it was counted) go first.
        try file.truncate(to: offset)
        return Writer(file: file, start: offset)
    }

    func file(_ id: String, length: Int64) async throws(KilnError) -> (path: String, done: @Sendable () -> Void) {
        (path(id), {})
    }

    func remove(_ id: String) async { unlink(path(id)) }

    func removeOrphans(known: (String) async throws(KilnError) -> Bool) async throws(KilnError) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where try await !known(name) { unlink(path(name)) }
    }

    /// Writes at the file's end from `start`; discarding cuts it back.
    final class Writer: ChunkWriter {
        let file: BlockFile
        let start: Int64
        private let written = Mutex<Int64>(0)

        init(file: BlockFile, start: Int64) {
            self.file = file
            self.start = start
        }

        func write(_ block: [UInt8]) async throws(KilnError) {
            let at = written.withLock { $0 }
            try await file.write(block, at: start + at)
            written.withLock { $0 = at + Int64(block.count) }
        }

        func commit() async throws(KilnError) { try await file.sync() }

        func discard() async { try? file.truncate(to: start) }
    }
}

// MARK: Several nodes: objects

/// One object per chunk, `.kiln-upload-<id>.<offset>` (20 digits, so key order is byte order),
/// in the store every node shares: each upload's chunks under a prefix of their own, listed
/// alone (one tenant's thousands of chunks cost no other upload a thing). The prefix holds no
/// `/` (moto refuses a signed listing whose prefix holds one) and starts `.kiln-`, which a
/// bucket's public domain must not serve. A chunk is spooled to the node's disk while it
/// arrives and put whole once it is complete: a node that dies mid-chunk loses that chunk only.
struct ObjectUploadBytes: UploadBytes {
    let objects: any ObjectStore
    /// Where chunks are spooled, and complete uploads put together for the pipeline.
    let scratch: String

    static let prefix = ".kiln-upload-"

    /// Where upload `id`'s chunks are: its own prefix.
    static func prefix(of id: String) -> String { prefix + id + "." }

    static func key(_ id: String, _ offset: Int64) -> String {
        prefix(of: id) + String(repeating: "0", count: max(0, 20 - String(offset).count)) + String(offset)
    }

    /// Where a chunk starts, from its key.
    static func offset(_ key: String) -> Int64? { key.split(separator: ".").last.flatMap { Int64($0) } }

    /// The upload's chunk objects, in key (so offset) order: one listing of its own prefix.
    private func chunkObjects(of id: String) async throws(KilnError) -> [ObjectInfo] {
        try await objects.list(prefix: Self.prefix(of: id))
    }

    /// The chunks that count, in order: each starts where the one before ended, up to `length`.
    private func chunks(_ id: String, length: Int64) async throws(KilnError) -> [(key: String, start: Int64, size: Int64)] {
        var chunks: [(key: String, start: Int64, size: Int64)] = []
        var next: Int64 = 0
        for object in try await chunkObjects(of: id) where next < length {
            guard let start = Self.offset(object.key) else { continue }
            // One put at an offset replaces any before it: a chunk retried at the same offset.
            guard start == next else { continue }
            chunks.append((object.key, start, min(object.size, length - start)))
            next = start + object.size
        }
        guard next >= length else {
            throw KilnError.storageUnavailable("the upload \(id) has \(next) of its \(length) bytes in the store")
        }
        return chunks
    }

    func create(_ id: String) async throws(KilnError) {}

    func head(_ id: String, count: Int) async throws(KilnError) -> [UInt8] {
        // The chunks in order from the first, as far as `count` bytes (small chunks: several).
        var bytes: [UInt8] = []
        var next: Int64 = 0
        for object in try await chunkObjects(of: id) where bytes.count < count {
            guard Self.offset(object.key) == next, object.size > 0 else { continue }
            do {
                let want = Int64(min(count - bytes.count, Int(clamping: object.size)))
                for try await block in try await objects.open(key: object.key, range: 0...(want - 1)).body { bytes += block }
            } catch let error as KilnError {
                throw error
            } catch {
                throw KilnError.storageUnavailable("cannot read the upload \(id): \(error)")
            }
            next += object.size
        }
        return Array(bytes.prefix(count))
    }

    func chunk(_ id: String, at offset: Int64) async throws(KilnError) -> any ChunkWriter {
        let spool = try ReceivedUpload.createFile(in: scratch)
        return Writer(objects: objects, key: Self.key(id, offset), spool: try BlockFile(writing: spool))
    }

    func file(_ id: String, length: Int64) async throws(KilnError) -> (path: String, done: @Sendable () -> Void) {
        let path = try ReceivedUpload.createFile(in: scratch)
        do {
            let file = try BlockFile(writing: path)
            var at: Int64 = 0
            // One stream, chunk after chunk: nothing of it held in memory beyond a block.
            for chunk in try await chunks(id, length: length) {
                let stored = try await objects.open(key: chunk.key, range: 0...max(0, chunk.size - 1))
                for try await block in stored.body {
                    try await file.write(block, at: at)
                    at += Int64(block.count)
                }
            }
            try await file.sync()
        } catch {
            unlink(path)
            throw error as? KilnError ?? KilnError.storageUnavailable("cannot read the upload \(id): \(error)")
        }
        return (path, { unlink(path) })
    }

    func remove(_ id: String) async {
        for object in (try? await chunkObjects(of: id)) ?? [] {
            try? await objects.delete(key: object.key)
        }
    }

    func removeOrphans(known: (String) async throws(KilnError) -> Bool) async throws(KilnError) {
        var seen: Set<String> = []
        // The sweep alone lists every upload's chunks (a few times an hour, not per request).
        for object in try await objects.list(prefix: Self.prefix) {
            let parts = object.key.dropFirst(Self.prefix.count).split(separator: ".")
            guard let id = parts.first.map(String.init), seen.insert(id).inserted else { continue }
            if try await !known(id) { await remove(id) }
        }
    }

    /// Spools the chunk; commit puts it whole, discard drops the spool.
    final class Writer: ChunkWriter {
        let objects: any ObjectStore
        let key: String
        let spool: BlockFile
        private let written = Mutex<Int64>(0)

        init(objects: any ObjectStore, key: String, spool: BlockFile) {
            self.objects = objects
            self.key = key
            self.spool = spool
        }

        deinit { unlink(spool.path) }

        func write(_ block: [UInt8]) async throws(KilnError) {
            let at = written.withLock { $0 }
            try await spool.write(block, at: at)
            written.withLock { $0 = at + Int64(block.count) }
        }

        func commit() async throws(KilnError) {
            try await objects.put(file: spool.path, key: key, contentType: "application/octet-stream")
        }

        func discard() async { unlink(spool.path) }
    }
}
