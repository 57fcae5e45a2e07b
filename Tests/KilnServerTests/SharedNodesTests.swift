import Crypto
import Foundation
import KilnCore
import KilnDatabase
import KilnServer
import KilnTestSupport
import Testing

/// Two API nodes on one PostgreSQL and one store, a client alternating between them: nothing a
/// request needs lives on one node only (keys, uploads and their bytes, idempotency answers,
/// the rate limit).
@Suite struct SharedNodesTests {
    /// Two servers (each with its own data directory) on a fresh database and one shared store
    /// directory; the second stops when `body` is done, the first too.
    static func withNodes(rateLimit: Int = 600, webhook: WebhookTests.Receiver? = nil,
                          _ body: @Sendable (TestServer, TestServer, String) async throws -> Void) async throws
    {
        let url = try await PostgresCluster.started().database() + "?sslmode=disable"
        let media = Fixtures.scratchDirectory("kiln-shared-media")
        defer { Fixtures.cleanUp(media) }
        func node() async throws -> TestServer {
            try await TestServer.start {
                $0.databaseURL = url
                $0.databaseWait = .seconds(120)  // the whole suite runs beside it on two cores
                $0.engine.outDirectory = media
                $0.rateLimit = rateLimit
                $0.uploadMinChunk = 16 << 10  // the test's chunks are a third of a 100 kB photo
                if let webhook { WebhookTests.fast(&$0, webhook, secrets: ["shared"]) }
            }
        }
        let (a, b) = (try await node(), try await node())
        do {
            try await body(a, b, media)
        } catch {
            await a.stop()
            await b.stop()
            throw error
        }
        await a.stop()
        await b.stop()
    }

    @Test func aTusUploadWhoseChunksAlternateNodesCompletesWhenOneStops() async throws {
        try await Self.withNodes { a, b, media in
            // A key made on one node works on the other.
            #expect(try await b.request(.GET, "/v1/media/" + String(repeating: "0", count: 64), key: a.writeKey).status == 404)
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
            let created = try await a.tus(.POST, "/v1/uploads", headers: [
                ("Upload-Length", String(bytes.count)),
                ("Upload-Metadata", ResumableUploadTests.metadata(["filename": "photo.jpg", "preset": "default"])),
            ])
            #expect(created.status == 201)
            let location = try #require(created.headers.first(name: "Location"))
            let third = bytes.count / 3
            // Chunk one on B, chunk two on A; then A stops, and B takes the rest.
            for (node, range) in [(b, 0..<third), (a, third..<2 * third)] {
                let sent = try await node.tus(.PATCH, location, key: a.writeKey, headers: [("Upload-Offset", String(range.lowerBound))],
                                              body: Array(bytes[range]), contentType: "application/offset+octet-stream")
                #expect(sent.status == 204, "\(sent.json)")
            }
            // The chunks are in the shared store, not on either node's disk.
            let chunks = Fixtures.files(under: media).filter { $0.hasPrefix(".kiln-upload-") }
            #expect(chunks.count == 2, "\(chunks)")
            // Each upload's chunks under a prefix of its own (listed alone), none but the last tiny.
            let id = String(location.dropFirst("/v1/uploads/".count))
            #expect(chunks.allSatisfy { $0.hasPrefix(".kiln-upload-\(id).") }, "\(chunks)")
            let tiny = try await a.tus(.PATCH, location, key: a.writeKey, headers: [("Upload-Offset", String(2 * third))],
                                       body: Array(bytes[(2 * third)..<(2 * third + 100)]), contentType: "application/offset+octet-stream")
            #expect(tiny.status == 400 && tiny.code == "API_001", "\(tiny.json)")
            #expect(Fixtures.files(under: a.directory + "/uploads").isEmpty && Fixtures.files(under: b.directory + "/uploads").isEmpty)
            await a.stop()
            let head = try await b.tus(.HEAD, location, key: a.writeKey)
            #expect(head.headers.first(name: "Upload-Offset") == String(2 * third))
            let last = try await b.tus(.PATCH, location, key: a.writeKey, headers: [("Upload-Offset", String(2 * third))],
                                       body: Array(bytes[(2 * third)...]), contentType: "application/offset+octet-stream")
            #expect(last.status == 204, "\(last.json)")
            let made = try #require(last.headers.first(name: "Kiln-Location"))
            let item = try await b.request(.GET, made, key: a.readKey)
            let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            #expect(item.status == 200 && (item.data["source_sha256"] as? String) == digest)
            #expect(Fixtures.files(under: media).filter { $0.hasPrefix(".kiln-upload-") }.isEmpty, "the chunks went once processed")
        }
    }

    @Test func aWebhookIsDeliveredOnceThoughBothNodesRunTheOutbox() async throws {
        let receiver = try WebhookTests.Receiver(secrets: ["shared"])
        try await Self.withNodes(webhook: receiver) { a, b, _ in
            // Three deletions on B, each one event: both nodes claim the shared outbox every 50 ms.
            var ids: [String] = []
            for sample in ["orient-2.jpg", "orient-3.jpg", "orient-4.jpg"] {
                let made = try await a.upload(Fixtures.sample(sample))
                let id = try #require(made.data["id"] as? String)
                #expect(try await b.request(.DELETE, "/v1/media/\(id)", key: a.writeKey).status == 200)
                ids.append(id)
            }
            // Once every delivery is recorded delivered, no other claim can send it again.
            let deadline = Date().addingTimeInterval(60)
            while try await a.server.state.outbox.log(tenant: nil, limit: 10).filter({ $0.status == .delivered }).count < 3 {
                try #require(Date() < deadline, "not delivered: \(receiver.posts)")
                try await Task.sleep(for: .milliseconds(50))
            }
            let deleted = receiver.posts.filter { $0["event"] as? String == "media.deleted" }
            #expect(deleted.count == 3, "each event posted once: \(deleted)")
            #expect(Set(deleted.compactMap { $0["event_id"] as? String }).count == 3)
        }
    }

    @Test func aQueueAndAStateInTwoDatabasesEachHoldTheirOwn() async throws {
        let cluster = try await PostgresCluster.started()
        let (queue, state) = await (try cluster.database(), try cluster.database())
        let server = try await TestServer.start {
            $0.queueURL = queue + "?sslmode=disable"
            $0.databaseURL = state + "?sslmode=disable"
            $0.databaseWait = .seconds(120)
        }
        defer { Task { await server.stop() } }
        let queued = try await server.upload(Fixtures.sample("video/h264-aac-faststart.mp4"))
        #expect(queued.status == 202)
        func count(_ url: String, _ table: String) async throws -> String {
            let rows = try await Tool.check("psql", ["-tA", url, "-c", "SELECT count(*) FROM \(table)"])
            return String(decoding: rows.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // The job in the queue's database, the keys in the state's: each migrated and up.
        let (jobsInQueue, jobsInState) = (try await count(queue, "kiln_jobs"), try await count(state, "kiln_jobs"))
        #expect(jobsInQueue == "1" && jobsInState == "0")
        let (keysInState, keysInQueue) = (try await count(state, "kiln_api_keys"), try await count(queue, "kiln_api_keys"))
        #expect(keysInState == "4" && keysInQueue == "0")
        #expect(try await server.request(.GET, "/ready").status == 200)
    }

    @Test func idempotencyAndTheRateLimitHoldAcrossNodes() async throws {
        try await Self.withNodes(rateLimit: 8) { a, b, _ in
            let first = try await a.upload(Fixtures.sample("orient-2.jpg"), headers: [("Idempotency-Key", "across")])
            #expect(first.status == 201)
            let replay = try await b.upload(Fixtures.sample("orient-2.jpg"), key: a.writeKey, headers: [("Idempotency-Key", "across")])
            #expect(replay.status == 201 && replay.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(replay.data["id"] as? String == first.data["id"] as? String)
            // A fetch URL signed by A (no --url-secret: the secret kept in the shared state) opens on B with no key.
            let rendition = try #require((first.data["renditions"] as? [[String: Any]])?.first)
            let url = try #require(rendition["fetch_url"] as? String)
            #expect(try await b.request(.GET, FetchURLTests.local(url)).status == 200)
            // Eight requests a minute for a key, counted once for both nodes, with a key of its own.
            // A count that straddles a minute's edge starts again in the next window: counted again.
            var statuses: [Int] = []
            for _ in 0..<3 {
                let key = try await a.server.state.keys.create(name: "counted", scope: .read, tenant: "test").secret
                let minute = Int(Date().timeIntervalSince1970) / 60
                statuses = []
                for index in 0..<10 {
                    let node = index.isMultiple(of: 2) ? a : b
                    statuses.append(try await node.request(.GET, "/v1/media/" + String(repeating: "0", count: 64), key: key).status)
                }
                if Int(Date().timeIntervalSince1970) / 60 == minute { break }
            }
            #expect(statuses == Array(repeating: 404, count: 8) + [429, 429], "\(statuses)")
        }
    }
}
