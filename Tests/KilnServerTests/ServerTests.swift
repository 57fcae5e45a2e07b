import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnServer
import KilnTestSupport
import KilnStorage
import NIOHTTP1
import Testing

/// `kiln serve` over real HTTP on loopback: uploads, read-back, jobs, and every code the
/// server answers on its own.
@Suite(.serialized) struct ServerTests {
    /// An image uploaded to `server`: its id and its first rendition (name, SHA-256, bytes).
    static func uploaded(_ server: TestServer) async throws -> (id: String, name: String, sha: String, bytes: Int) {
        let created = try await server.upload(Fixtures.sample("orient-6.jpg"), fields: [("preset", "default"), ("fit", "reject")])
        #expect(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        let id = try #require(created.data["id"] as? String)
        let first = try #require((created.data["renditions"] as? [[String: Any]])?.first)
        return (id, try #require(first["name"] as? String), try #require(first["sha256"] as? String),
                try #require(first["bytes"] as? Int))
    }

    @Test func anImageIsUploadedReadBackAndReused() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let created = try await server.upload(Fixtures.sample("orient-6.jpg"), fields: [("preset", "default"), ("fit", "reject")])
        #expect(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        #expect(created.headers.first(name: "x-request-id")?.hasPrefix("req_") == true)
        #expect(created.headers.first(name: "X-RateLimit-Limit") == "600")
        let id = try #require(created.data["id"] as? String)
        let renditions = try #require(created.data["renditions"] as? [[String: Any]])
        #expect(renditions.allSatisfy { $0["path"] == nil && ($0["url"] as? String)?.hasPrefix("/v1/media/\(id)/") == true })

        // The same bytes and options: the same media, not processed again.
        let again = try await server.upload(Fixtures.sample("orient-6.jpg"))
        #expect(again.status == 200 && again.data["id"] as? String == id && again.data["reused"] as? Bool == true)

        let read = try await server.request(.GET, "/v1/media/\(id)", key: server.readKey)
        #expect(read.status == 200 && read.data["id"] as? String == id)
    }

    @Test func aRenditionIsSentWithItsETagAndA304ForAMatch() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let (id, name, sha, bytes) = try await Self.uploaded(server)
        let whole = try await server.request(.GET, "/v1/media/\(id)/\(name)", key: server.readKey)
        #expect(whole.status == 200 && whole.headers.first(name: "ETag") == "\"\(sha)\"")
        #expect(whole.body.count == bytes)
        #expect(whole.headers.first(name: "Content-Type") == "image/jpeg")
        let cached = try await server.request(.GET, "/v1/media/\(id)/\(name)", key: server.readKey,
                                              headers: [("If-None-Match", "\"\(sha)\"")])
        #expect(cached.status == 304 && cached.body.isEmpty)
        let missing = try await server.request(.GET, "/v1/media/\(id)/nope", key: server.readKey)
        #expect(missing.status == 404 && missing.code == "API_002")
    }

    @Test func aRenditionIsReadByRangeAndARangePastItsEndIs416() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let (id, name, _, _) = try await Self.uploaded(server)
        let whole = try await server.request(.GET, "/v1/media/\(id)/\(name)", key: server.readKey)
        let part = try await server.request(.GET, "/v1/media/\(id)/\(name)", key: server.readKey, headers: [("Range", "bytes=10-19")])
        #expect(part.status == 206 && part.body == whole.body[10..<20])
        #expect(part.headers.first(name: "Content-Range") == "bytes 10-19/\(whole.body.count)")
        let tail = try await server.request(.GET, "/v1/media/\(id)/\(name)", key: server.readKey, headers: [("Range", "bytes=-5")])
        #expect(tail.status == 206 && tail.body == whole.body.suffix(5))
        let past = try await server.request(.GET, "/v1/media/\(id)/\(name)", key: server.readKey,
                                            headers: [("Range", "bytes=99999999-")])
        #expect(past.status == 416 && past.code == "API_006")
        #expect(past.headers.first(name: "Content-Range") == "bytes */\(whole.body.count)")
        let odd = try await server.request(.GET, "/v1/media/\(id)/\(name)", key: server.readKey, headers: [("Range", "items=1-2")])
        #expect(odd.status == 200 && odd.body == whole.body, "a range in another unit is ignored")
    }

    @Test func deletingNeedsTheWriteScopeAndThenTheMediaIsGone() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let (id, _, _, _) = try await Self.uploaded(server)
        #expect(try await server.request(.DELETE, "/v1/media/\(id)", key: server.readKey).code == "AUTH_002")
        #expect(try await server.request(.DELETE, "/v1/media/\(id)", key: server.writeKey).status == 200)
        #expect(try await server.request(.GET, "/v1/media/\(id)", key: server.readKey).code == "API_002")
        #expect(try await server.request(.DELETE, "/v1/media/\(id)", key: server.writeKey).code == "API_002")
    }

    @Test func everySampleUploads() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let images = try FileManager.default.contentsOfDirectory(atPath: Fixtures.root + "/samples")
            .filter { ["jpg", "png", "webp", "avif", "heic", "jxl", "gif", "tiff"].contains(($0 as NSString).pathExtension) }
        #expect(images.count >= 8)
        for name in images.sorted() {
            let reply = try await server.upload(Fixtures.sample(name))
            #expect(reply.status == 201 || reply.status == 200, "\(name): \(String(decoding: reply.body, as: UTF8.self))")
        }
    }

    @Test func videoIsAJob() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let accepted = try await server.upload(Fixtures.sample("video/vp9-opus.webm"))
        #expect(accepted.status == 202)
        let job = try #require(accepted.data["job"] as? [String: Any])
        let id = try #require(job["id"] as? String)
        #expect(job["status"] as? String == "queued")
        #expect(accepted.headers.first(name: "Location") == "/v1/jobs/\(id)")
        let polled = try await server.finishedJob(id)
        #expect(polled.data["status"] as? String == "succeeded", "\(polled.json)")
        #expect(polled.data["progress"] as? Double == 1)
        let media = try #require(polled.data["media"] as? [String: Any])
        #expect(media["kind"] as? String == "video")
        let mediaID = try #require(media["id"] as? String)
        #expect(try await server.request(.GET, "/v1/media/\(mediaID)", key: server.readKey).status == 200)
        // The received file is gone once the job is over.
        #expect(Fixtures.files(under: server.directory + "/jobs").isEmpty)
        #expect(try await server.request(.GET, "/v1/jobs/job_missing", key: server.readKey).code == "API_002")
    }

    /// A job accepted before a crash: its row says running under this worker, its file is kept.
    /// The next start gives it back and runs it to the end.
    @Test func jobLeftRunningByACrashIsFinishedAfterRestart() async throws {
        let directory = Fixtures.scratchDirectory("kiln-crash")
        defer { Fixtures.cleanUp(directory) }
        let input = directory + "/jobs/job_crashed/0"
        try FileManager.default.createDirectory(atPath: directory + "/jobs/job_crashed", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.sample("video/vp9-opus.webm"), toPath: input)
        let queue = SQLiteJobQueue(try KilnDatabase(directory: directory))
        let payload = #"{"inputs":[{"path":"\#(input)","name":"clip.webm"}],"carousel":false,"preset":"default","type":"auto","fit":"reject"}"#
        _ = try await queue.enqueue(NewJob(id: "job_crashed", kind: "media", payload: Data(payload.utf8)))
        _ = try await queue.claim(worker: "local", lease: .seconds(3600))

        var engine = KilnConfiguration()
        engine.dataDirectory = directory
        var settings = ServerSettings(engine: engine)
        settings.port = 0
        let server = try await KilnServer(settings: settings)
        let task = Task { try await server.run() }
        defer { task.cancel() }
        _ = await server.port()
        var record = try await queue.job("job_crashed")
        let deadline = ContinuousClock.now + .seconds(120)
        while record?.status.isFinished != true, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            record = try await queue.job("job_crashed")
        }
        #expect(record?.status == .succeeded)
        #expect(record?.attempts == 2)
        #expect(!FileManager.default.fileExists(atPath: input))
    }

    @Test func accessCodes() async throws {
        let server = try await TestServer.start { $0.rateLimit = 3 }
        defer { Task { await server.stop() } }
        let none = try await server.request(.GET, "/v1/presets")
        #expect(none.status == 401 && none.code == "AUTH_001")
        #expect(try await server.request(.GET, "/v1/presets", key: "kiln_0000000000_bad").code == "AUTH_001")
        #expect(try await server.request(.GET, "/v1/presets", headers: [("Authorization", "Basic eDp5")]).code == "AUTH_001")
        let forbidden = try await server.upload(Fixtures.sample("orient-1.jpg"), key: server.readKey)
        #expect(forbidden.status == 403 && forbidden.code == "AUTH_002")
        // The read key has used 1 of its 3; two more pass, the next is refused with the headers.
        #expect(try await server.request(.GET, "/v1/formats", key: server.readKey).status == 200)
        let last = try await server.request(.GET, "/v1/presets", key: server.readKey)
        #expect(last.status == 200 && last.headers.first(name: "X-RateLimit-Remaining") == "0")
        let limited = try await server.request(.GET, "/v1/presets", key: server.readKey)
        #expect(limited.status == 429 && limited.code == "API_004")
        #expect(Int(limited.headers.first(name: "Retry-After") ?? "") ?? 0 >= 1)
        #expect(limited.headers.first(name: "X-RateLimit-Limit") == "3")
        // Revoked keys stop at once.
        let keys = server.server.state.keys
        let (key, secret) = try await keys.create(name: "soon revoked", scope: .read)
        #expect(try await server.request(.GET, "/v1/presets", key: secret).status == 200)
        _ = try await keys.revoke(key.id)
        #expect(try await server.request(.GET, "/v1/presets", key: secret).code == "AUTH_001")
    }

    @Test func routeCodesAndRequestIDs() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let unknown = try await server.request(.GET, "/v1/nothing", key: server.readKey)
        #expect(unknown.status == 404 && unknown.code == "API_002")
        let method = try await server.request(.PUT, "/v1/media", key: server.writeKey)
        #expect(method.status == 405 && method.code == "API_003")
        let echoed = try await server.request(.GET, "/health", headers: [("x-request-id", "client-123")])
        #expect(echoed.headers.first(name: "x-request-id") == "client-123")
        #expect((echoed.json["meta"] as? [String: Any])?["request_id"] as? String == "client-123")
        let replaced = try await server.request(.GET, "/health", headers: [("x-request-id", "bad id with spaces")])
        #expect(replaced.headers.first(name: "x-request-id")?.hasPrefix("req_") == true)
        #expect(try await server.request(.GET, "/ready").status == 200)
        let metrics = try await server.request(.GET, "/metrics")
        let text = String(decoding: metrics.body, as: UTF8.self)
        #expect(text.contains("kiln_http_requests_total") && text.contains("kiln_errors_total"))
        #expect(text.contains("kiln_engine_queue_depth"))
        let formats = try await server.request(.GET, "/v1/formats", key: server.readKey)
        let decode = try #require(formats.data["decode"] as? [[String: Any]])
        #expect(decode.contains { $0["name"] as? String == "jpeg" && $0["available"] as? Bool == true })
        let presets = try await server.request(.GET, "/v1/presets", key: server.readKey)
        #expect((presets.data["presets"] as? [[String: Any]])?.isEmpty == false)
    }

    @Test func badUploads() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let text = Fixtures.scratchDirectory("kiln-text") + ".txt"
        try Data("just some text, not media".utf8).write(to: URL(fileURLWithPath: text))
        defer { Fixtures.cleanUp(text) }
        #expect(try await server.upload(text).code == "FILE_003")
        // A file under another part name is told where it goes (with a file name, or too long for a field).
        let misnamed = try await server.upload(Fixtures.sample("orient-1.jpg"), field: "image")
        #expect(misnamed.status == 400 && misnamed.code == "FILE_001", "\(misnamed.json)")
        #expect(((misnamed.json["error"] as? [String: Any])?["message"] as? String ?? "").contains("part named `file`"))
        let unnamed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("orient-1.jpg"))))
        let bare = Array("--\(TestServer.boundary)\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n".utf8) + unnamed
            + Array("\r\n--\(TestServer.boundary)--\r\n".utf8)
        #expect(try await server.request(.POST, "/v1/media", key: server.writeKey,
                                         headers: [("Content-Type", "multipart/form-data; boundary=\(TestServer.boundary)")],
                                         body: bare).code == "FILE_001")
        let unknown = try await server.upload(Fixtures.sample("orient-1.jpg"), fields: [("colour", "red")])
        #expect(unknown.code == "API_001" && ((unknown.json["error"] as? [String: Any])?["details"] as? [String: Any])?["fields"] != nil)
        #expect(try await server.upload(Fixtures.sample("orient-1.jpg"), fields: [("fit", "stretch")]).code == "API_001")
        #expect(try await server.upload(Fixtures.sample("orient-1.jpg"), query: "?preset=nope").code == "API_001")
        #expect(try await server.upload(Fixtures.sample("video/vp9-opus.webm"), query: "?type=image").code == "MEDIA_001")
        let jpeg = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("orient-1.jpg"))))
        let multipart = ("Content-Type", "multipart/form-data; boundary=\(TestServer.boundary)")
        // No file part, a body cut before its closing boundary, a body that is not multipart, an empty file.
        let noFile = TestServer.multipart(fields: [("preset", "default")], files: [])
        #expect(try await server.request(.POST, "/v1/media", key: server.writeKey, headers: [multipart], body: noFile).code == "FILE_001")
        let cut = TestServer.multipart(files: [("file", "a.jpg", jpeg)], closed: false)
        #expect(try await server.request(.POST, "/v1/media", key: server.writeKey, headers: [multipart], body: cut).code == "FILE_001")
        let inside = Array(TestServer.multipart(files: [("file", "a.jpg", jpeg)]).prefix(jpeg.count / 2))
        #expect(try await server.request(.POST, "/v1/media", key: server.writeKey, headers: [multipart], body: inside).code == "FILE_001")
        #expect(try await server.request(.POST, "/v1/media", key: server.writeKey, headers: [("Content-Type", "image/jpeg")], body: jpeg).code == "FILE_001")
        let empty = TestServer.multipart(files: [("file", "empty.jpg", [])])
        #expect(try await server.request(.POST, "/v1/media", key: server.writeKey, headers: [multipart], body: empty).code == "FILE_001")
        let two = TestServer.multipart(files: [("file", "a.jpg", jpeg), ("file", "b.jpg", jpeg)])
        #expect(try await server.request(.POST, "/v1/media", key: server.writeKey, headers: [multipart], body: two).code == "API_001")
        let late = Array(TestServer.multipart(files: [("file", "a.jpg", jpeg)]).dropLast(Array("--\(TestServer.boundary)--\r\n".utf8).count))
            + Array("--\(TestServer.boundary)\r\nContent-Disposition: form-data; name=\"preset\"\r\n\r\ndefault\r\n--\(TestServer.boundary)--\r\n".utf8)
        #expect(try await server.request(.POST, "/v1/media", key: server.writeKey, headers: [multipart], body: late).code == "API_001")
        // Nothing received is left behind.
        #expect(Fixtures.files(under: server.directory + "/tmp").isEmpty)
    }

    @Test func carouselOfImages() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let first = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("orient-1.jpg"))))
        let second = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("orient-3.jpg"))))
        let multipart = ("Content-Type", "multipart/form-data; boundary=\(TestServer.boundary)")
        let body = TestServer.multipart(files: [("file", "1.jpg", first), ("file", "2.jpg", second)])
        let created = try await server.request(.POST, "/v1/carousels", key: server.writeKey, headers: [multipart], body: body)
        #expect(created.status == 201, "\(created.json)")
        #expect((created.data["items"] as? [Any])?.count == 2)
        let one = TestServer.multipart(files: [("file", "1.jpg", first)])
        #expect(try await server.request(.POST, "/v1/carousels", key: server.writeKey, headers: [multipart], body: one).code == "MEDIA_002")
    }

    @Test func idempotencyKeyReplaysTheFirstAnswer() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let first = try await server.upload(Fixtures.sample("orient-2.jpg"), headers: [("Idempotency-Key", "upload-1")])
        #expect(first.status == 201)
        let second = try await server.upload(Fixtures.sample("orient-2.jpg"), headers: [("Idempotency-Key", "upload-1")])
        #expect(second.status == 201 && second.body == first.body)
        #expect(second.headers.first(name: "Idempotent-Replayed") == "true")
        // The key with another request: refused, whether the query or the file differs.
        let other = try await server.upload(Fixtures.sample("orient-2.jpg"), query: "?fit=crop", headers: [("Idempotency-Key", "upload-1")])
        #expect(other.status == 422 && other.code == "API_009", "\(other.json)")
        let otherFile = try await server.upload(Fixtures.sample("orient-3.jpg"), headers: [("Idempotency-Key", "upload-1")])
        #expect(otherFile.status == 422 && otherFile.code == "API_009", "\(otherFile.json)")
        let otherField = try await server.upload(Fixtures.sample("orient-2.jpg"), fields: [("fit", "pad")], headers: [("Idempotency-Key", "upload-1")])
        #expect(otherField.code == "API_009")
        #expect(try await server.upload(Fixtures.sample("orient-2.jpg"), headers: [("Idempotency-Key", "upload-1")]).status == 201,
                "the same request still replays")

        // A first request still in flight: a retry waits (409), until a crash's marker is old enough to take over.
        let keyID = String(server.writeKey.split(separator: "_")[1])
        let records = server.server.state.idempotency
        #expect(try await records.begin(keyID: keyID, idempotencyKey: "busy", requestHash: "POST /v1/media?") == nil)
        let busy = try await server.upload(Fixtures.sample("orient-2.jpg"), headers: [("Idempotency-Key", "busy")])
        #expect(busy.status == 409 && busy.code == "API_007" && busy.headers.first(name: "Retry-After") != nil, "\(busy.json)")
        let stale = Date().addingTimeInterval(-IdempotencyRecords.inFlightLimit - 60)
        #expect(try await records.begin(keyID: keyID, idempotencyKey: "crashed", requestHash: "POST /v1/media?", at: stale) == nil)
        #expect(try await server.upload(Fixtures.sample("orient-2.jpg"), headers: [("Idempotency-Key", "crashed")]).status == 200, "ran: the item it stored before")
        // A first request that failed leaves no marker: its retry runs.
        let text = Fixtures.scratchDirectory("kiln-idem") + ".txt"
        try Data("not media".utf8).write(to: URL(fileURLWithPath: text))
        defer { Fixtures.cleanUp(text) }
        #expect(try await server.upload(text, headers: [("Idempotency-Key", "refused")]).code == "FILE_003")
        #expect(try await server.upload(text, headers: [("Idempotency-Key", "refused")]).code == "FILE_003")
    }

    @Test func expectContinueAndEarlyRefusals() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let base = "POST /v1/media HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=\(TestServer.boundary)\r\nExpect: 100-continue\r\n"
        // A body the server will take: 100 Continue before any of it is sent.
        let go = try await Tool.detached { [server] in
            try server.raw(base + "Authorization: Bearer \(server.writeKey)\r\nContent-Length: 5000\r\n\r\n")
        }
        #expect(go.hasPrefix("HTTP/1.1 100 Continue"))
        // Over the largest request: 413 on the headers alone, and the connection closes.
        let big = try await Tool.detached { [server] in
            try server.raw(base + "Authorization: Bearer \(server.writeKey)\r\nContent-Length: 99999999999\r\n\r\n")
        }
        #expect(big.hasPrefix("HTTP/1.1 413") && big.contains("FILE_004") && !big.contains("100 Continue"))
        #expect(big.lowercased().contains("connection: close"))
        // No key: 401 before the body.
        let anonymous = try await Tool.detached { [server] in try server.raw(base + "Content-Length: 5000\r\n\r\n") }
        #expect(anonymous.hasPrefix("HTTP/1.1 401") && anonymous.contains("AUTH_001"))
    }
}

/// Items that take the job path or another store.
@Suite(.serialized) struct ServerJobAndBucketTests {
    @Test func carouselHoldingAVideoIsAJobWithEveryItemShown() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let image = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("orient-1.jpg"))))
        let video = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("video/no-audio.mp4"))))
        let body = TestServer.multipart(files: [("file", "1.jpg", image), ("file", "2.mp4", video)])
        let accepted = try await server.request(.POST, "/v1/carousels", key: server.writeKey,
                                                headers: [("Content-Type", "multipart/form-data; boundary=\(TestServer.boundary)")],
                                                body: body)
        #expect(accepted.status == 202, "\(accepted.json)")
        let id = try #require((accepted.data["job"] as? [String: Any])?["id"] as? String)
        let polled = try await server.finishedJob(id)
        #expect(polled.data["status"] as? String == "succeeded", "\(polled.json)")
        let media = try #require(polled.data["media"] as? [String: Any])
        let carousel = try #require(media["carousel"] as? [String: Any])
        let items = try #require(media["items"] as? [[String: Any]])
        #expect(items.map { $0["kind"] as? String } == ["image", "video"])
        // Every rendition has its address here, and the carousel reads back as one.
        for item in items {
            for rendition in item["renditions"] as? [[String: Any]] ?? [] {
                let url = try #require(rendition["url"] as? String)
                #expect(try await server.request(.GET, url, key: server.readKey).status == 200, "\(url)")
            }
        }
        let carouselID = try #require(carousel["id"] as? String)
        let read = try await server.request(.GET, "/v1/media/\(carouselID)", key: server.readKey)
        #expect((read.data["items"] as? [Any])?.count == 2)
    }

    @Test func renditionsOnABucketRedirectToPresignedURLs() async throws {
        let moto = try await MotoS3.started()
        let server = try await TestServer.start { settings in
            settings.engine.storage = .r2
            settings.engine.r2 = S3Configuration(endpoint: URL(string: moto.endpoint)!, bucket: moto.bucket,
                                                 credentials: .init(accessKeyID: moto.accessKeyID,
                                                                    secretAccessKey: moto.secretAccessKey))
        }
        defer { Task { await server.stop() } }
        #expect(try await server.request(.GET, "/ready").status == 200)
        let created = try await server.upload(Fixtures.sample("orient-7.jpg"))
        #expect(created.status == 201 || created.status == 200, "\(created.json)")
        let id = try #require(created.data["id"] as? String)
        let rendition = try #require((created.data["renditions"] as? [[String: Any]])?.first)
        #expect((rendition["url"] as? String)?.contains("X-Amz-Signature=") == true, "items show the bucket's URL")
        let name = try #require(rendition["name"] as? String)
        let redirect = try await server.request(.GET, "/v1/media/\(id)/\(name)", key: server.readKey)
        #expect(redirect.status == 302)
        #expect(redirect.headers.first(name: "ETag") == "\"\(rendition["sha256"] as? String ?? "")\"")
        // The bucket's presigned URL (its signing is checked against AWS's own example in
        // SigV4Tests; moto with signatures on cannot serve presigned GETs: it wants a header).
        let location = try #require(redirect.headers.first(name: "Location"))
        #expect(location.split(separator: "?").first == (rendition["url"] as? String)?.split(separator: "?").first)
        #expect(location.contains("X-Amz-Signature="))
        #expect(location.hasPrefix(moto.endpoint + "/" + moto.bucket + "/\(id)/"))
        // The redirect is cached by its caller only, and no longer than the hour the URL works.
        #expect(redirect.headers.first(name: "Cache-Control") == "private, max-age=3300")
        // A platform's fetch URL on a bucket without a public domain: presigned for the asked life.
        let fetchURL = try #require(rendition["fetch_url"] as? String)
        #expect(fetchURL.hasPrefix(moto.endpoint + "/" + moto.bucket + "/\(id)/") && fetchURL.contains("X-Amz-Expires=604800"),
                "\(fetchURL)")
        let minted = try await server.request(.POST, "/v1/media/\(id)/urls", key: server.readKey,
                                              headers: [("Content-Type", "application/json")], body: Array(#"{"expires_in": 900}"#.utf8))
        let link = try #require((minted.data["urls"] as? [[String: Any]])?.first)
        #expect((link["url"] as? String)?.contains("X-Amz-Expires=900") == true && link["expires_at"] is String, "\(minted.json)")
        #expect(try await server.request(.DELETE, "/v1/media/\(id)", key: server.writeKey).status == 200)
    }
}
