import Foundation
import KilnCore
import KilnPipeline
import KilnServer
import KilnTestSupport
import Synchronization
import Testing

/// The server under pressure: uploads past the engine's queue, an oversize body with no
/// Content-Length, a store that goes away.
@Suite(.serialized) struct ProtectionTests {
    final class Count: Sendable {
        private let count = Atomic<Int>(0)
        func add() { count.add(1, ordering: .relaxed) }
        var value: Int { count.load(ordering: .relaxed) }
    }

    @Test func concurrentUploadsPastTheQueueGetPROCESSING_004() async throws {
        let server = try await TestServer.start {
            $0.engine.jobs = 1
            $0.engine.queueDepth = 1
        }
        defer { Task { await server.stop() } }
        let pipeline = server.server.pipeline
        // Another client of the same engine holds its one place until the gate opens.
        let (gate, holder) = await holdTheEngine(pipeline)

        let finished = Count()
        let uploads = (1...4).map { index in
            Task {
                defer { finished.add() }
                return try await server.upload(Fixtures.sample("orient-\(index).jpg"))
            }
        }
        // One upload waits in the queue; the other three are answered while the place is held.
        try await eventually(seconds: 60) { finished.value == 3 && pipeline.places.stats.waiting == 1 }
        gate.open()
        _ = try await holder.value
        var replies: [Reply] = []
        for upload in uploads { replies.append(try await upload.value) }

        let refused = replies.filter { $0.status == 503 }
        #expect(refused.count == 3, "\(replies.map(\.status))")
        for reply in refused {
            #expect(reply.code == "PROCESSING_004")
            #expect(Int(reply.headers.first(name: "Retry-After") ?? "") ?? 0 >= 1)
            #expect((reply.json["error"] as? [String: Any])?["retryable"] as? Bool == true)
        }
        #expect(replies.filter { $0.status == 201 }.count == 1, "the queued upload ran once the place was free")
        let stats = pipeline.places.stats
        #expect(stats.running == 0 && stats.waiting == 0)
        #expect(Fixtures.files(under: server.directory + "/tmp").isEmpty, "refused uploads leave nothing behind")
    }

    @Test func oversizeChunkedUploadIsCutMidStream() async throws {
        let presets = Fixtures.scratchDirectory("kiln-presets") + ".json"
        defer { Fixtures.cleanUp(presets) }
        try Data(#"[{"name": "tiny", "summary": "100 kB at most", "image": {"max_bytes": 100000}, "video": {"max_bytes": 100000}, "renditions": [{"name": "thumb", "long_edge": 320}]}]"#.utf8)
            .write(to: URL(fileURLWithPath: presets))
        let server = try await TestServer.start { $0.engine.presetsFile = presets }
        defer { Task { await server.stop() } }

        // A JPEG that grows past the preset's 100 kB, sent chunked (no Content-Length to refuse
        // up front), and never finished: the answer must come while the body is still open.
        let jpeg = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("panorama.jpg"))))
        let part = TestServer.multipart(files: [("file", "big.jpg", jpeg + [UInt8](repeating: 0, count: 400_000))], closed: false)
        var body: [UInt8] = []
        for start in stride(from: 0, to: part.count, by: 16_384) {
            let chunk = part[start..<min(start + 16_384, part.count)]
            body += Array(String(chunk.count, radix: 16).utf8) + Array("\r\n".utf8) + chunk + Array("\r\n".utf8)
        }
        let head = "POST /v1/media?preset=tiny HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(server.writeKey)\r\n"
            + "Content-Type: multipart/form-data; boundary=\(TestServer.boundary)\r\nTransfer-Encoding: chunked\r\n\r\n"
        let answer = try await Tool.detached { [server, body] in try server.raw(head, body: body, seconds: 20) }
        #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(600))")
        #expect(answer.contains("FILE_004") && answer.lowercased().contains("connection: close"))
        #expect(Fixtures.files(under: server.directory + "/tmp").isEmpty, "the cut upload's file is gone")
    }

    @Test func readinessFailsWhenTheStoreIsGoneWithoutShowingItsPath() async throws {
        let server = try await TestServer.start { $0.readyCache = .zero }
        defer { Task { await server.stop() } }
        #expect(try await server.request(.GET, "/ready").status == 200)
        // The store's directory replaced by a file, as when a volume is not mounted.
        let media = server.directory + "/media"
        try FileManager.default.removeItem(atPath: media)
        try Data().write(to: URL(fileURLWithPath: media))
        let ready = try await server.request(.GET, "/ready")
        #expect(ready.status == 503 && ready.code == "FILE_006", "\(ready.json)")
        #expect(ready.headers.first(name: "Retry-After") != nil)
        // The envelope names no path of the server's (the log keeps it under the request id).
        let text = String(decoding: ready.body, as: UTF8.self)
        #expect(!text.contains(server.directory) && !text.contains("/media") && text.contains("req_"), "\(text)")
        #expect(try await server.request(.GET, "/health").status == 200, "alive, only not ready")
    }

    /// A balancer probing every second reaches the store once per cache window.
    @Test func readinessIsCheckedOncePerWindow() async throws {
        let server = try await TestServer.start { $0.readyCache = .seconds(3600) }
        defer { Task { await server.stop() } }
        #expect(try await server.request(.GET, "/ready").status == 200)
        let media = server.directory + "/media"
        try FileManager.default.removeItem(atPath: media)
        try Data().write(to: URL(fileURLWithPath: media))
        #expect(try await server.request(.GET, "/ready").status == 200, "the last check is reused within its window")
    }
}

/// The idle timeout is for a silent client, not a busy server: an upload read whole and waiting
/// for the engine outlives the timeout, while a connection that sends nothing is closed by it.
@Suite(.serialized) struct IdleTimeoutTests {
    @Test func aRequestTheServerIsStillWorkingOnIsNotCut() async throws {
        let server = try await TestServer.start {
            $0.engine.jobs = 1
            $0.engine.queueDepth = 2
            $0.idleTimeout = .seconds(1)
        }
        defer { Task { await server.stop() } }
        let pipeline = server.server.pipeline
        let (gate, holder) = await holdTheEngine(pipeline)
        // Read whole, then waiting for the engine's one place.
        let upload = Task { try await server.upload(Fixtures.sample("small.jpg")) }
        try await eventually(seconds: 60) { pipeline.places.stats.waiting == 1 }
        // A connection opened now that sends nothing: once the server closes it, the idle time
        // has passed for the waiting upload's connection too.
        let port = server.port
        let closed = try await Tool.detached {
            let silent = try RawConnection(port: port, seconds: 60)
            return silent.receive()
        }
        #expect(closed.isEmpty, "the silent connection was closed with no answer")
        gate.open()
        _ = try await holder.value
        let reply = try await upload.value
        #expect(reply.status == 201, "the waiting upload got its answer: \(reply.status)")
    }
}

/// Another client of the engine takes a place and holds it at its checks until the gate opens.
func holdTheEngine(_ pipeline: Pipeline) async -> (Gate, Task<MediaItem, any Error>) {
    let gate = Gate()
    let holder = Task {
        try await pipeline.ingest(path: Fixtures.sample("photo.jpg"), options: IngestOptions(progress: { event in
            if event.stage == .checked { gate.hold() }
        }))
    }
    await gate.waitUntilReached()
    return (gate, holder)
}
