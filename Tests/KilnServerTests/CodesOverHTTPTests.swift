import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnServer
import KilnStorage
import KilnTestSupport
import Testing

/// The media and processing codes as a client meets them over HTTP: answered at once for
/// images, or as the failed job's `error` for videos (checked when the job runs).
@Suite(.serialized) struct CodesOverHTTPTests {
    /// Polls a job until it ends.
    static func finished(_ server: TestServer, _ reply: Reply) async throws -> [String: Any] {
        let id = try #require((reply.data["job"] as? [String: Any])?["id"] as? String, "\(reply.json)")
        return try await server.finishedJob(id).data
    }

    static func code(_ job: [String: Any]) -> String? { (job["error"] as? [String: Any])?["code"] as? String }

    @Test func mediaCodes() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let answered: [(sample: String, query: String, code: String, status: Int)] = [
            ("bad/corrupt.jpg", "", "FILE_005", 422),
            ("bad/bomb.png", "", "MEDIA_003", 422),
            ("panorama.jpg", "?preset=instagram-feed", "MEDIA_004", 422),
        ]
        for (sample, query, code, status) in answered {
            let reply = try await server.upload(Fixtures.sample(sample), query: query)
            #expect(reply.status == status && reply.code == code, "\(sample): \(reply.json)")
            let error = try #require(reply.json["error"] as? [String: Any])
            #expect((error["message"] as? String)?.isEmpty == false && error["details"] != nil)
        }
        // Videos are checked in their job: the job fails with the code.
        let jobs: [(sample: String, query: String, code: String)] = [
            ("video/long-95s.mp4", "?preset=facebook-reel", "MEDIA_005"),
            ("video/audio-only.webm", "", "MEDIA_006"),
        ]
        for (sample, query, code) in jobs {
            let accepted = try await server.upload(Fixtures.sample(sample), query: query)
            #expect(accepted.status == 202, "\(sample): \(accepted.json)")
            let job = try await Self.finished(server, accepted)
            #expect(job["status"] as? String == "failed" && Self.code(job) == code, "\(sample): \(job)")
            #expect(job["media"] == nil)
        }
        #expect(Fixtures.files(under: server.directory + "/jobs").isEmpty, "failed jobs' files are gone too")
    }

    @Test func aRenditionMissingFromTheStoreIsFILE_002() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let created = try await server.upload(Fixtures.sample("orient-5.jpg"))
        let id = try #require(created.data["id"] as? String)
        try FileManager.default.removeItem(atPath: server.directory + "/media/\(id)/thumb.jpg")
        let missing = try await server.request(.GET, "/v1/media/\(id)/thumb", key: server.readKey)
        #expect(missing.status == 404 && missing.code == "FILE_002", "\(missing.json)")
        // Where the server keeps it (a path here, a bucket and key on R2) is not the client's to see.
        #expect(!String(decoding: missing.body, as: UTF8.self).contains(server.directory), "\(missing.json)")
        #expect(!String(decoding: missing.body, as: UTF8.self).contains("thumb.jpg"), "\(missing.json)")
    }

    @Test func deadlinePassedIsPROCESSING_003() async throws {
        let server = try await TestServer.start { $0.engine.timeout = .milliseconds(1) }
        defer { Task { await server.stop() } }
        let reply = try await server.upload(Fixtures.sample("photo.jpg"))
        #expect(reply.status == 504 && reply.code == "PROCESSING_003", "\(reply.json)")
        #expect(reply.headers.first(name: "Retry-After") != nil)
        #expect(Fixtures.files(under: server.directory + "/media").isEmpty, "nothing half-stored")
    }

    @Test func cancellingAJobIsPROCESSING_005() async throws {
        let server = try await TestServer.start { $0.engine.jobs = 1 }
        defer { Task { await server.stop() } }
        // The engine's one place is held, so the video's job cannot start before it is cancelled.
        let (gate, holder) = await Self.holdTheEngine(server)
        let accepted = try await server.upload(Fixtures.sample("video/vp9-opus.webm"))
        let id = try #require((accepted.data["job"] as? [String: Any])?["id"] as? String)
        #expect(try await server.request(.DELETE, "/v1/jobs/\(id)", key: server.readKey).code == "AUTH_002")
        let cancelled = try await server.request(.DELETE, "/v1/jobs/\(id)", key: server.writeKey)
        #expect(cancelled.status == 200, "\(cancelled.json)")
        gate.open()
        _ = try await holder.value
        let job = try await Self.finished(server, accepted)
        #expect(job["status"] as? String == "cancelled" && Self.code(job) == "PROCESSING_005", "\(job)")
        #expect(try await server.request(.DELETE, "/v1/jobs/job_00000000000000000000000000000000", key: server.writeKey).code == "API_002")
    }
}

extension CodesOverHTTPTests {
    /// Takes the engine's one place (a photo held once checked) until `gate.open()`; the task
    /// ends when the photo is done.
    static func holdTheEngine(_ server: TestServer) async -> (Gate, Task<MediaItem, any Error>) {
        let gate = Gate()
        let pipeline = server.server.pipeline
        let holder = Task {
            try await pipeline.ingest(path: Fixtures.sample("photo.jpg"), options: IngestOptions(progress: { event in
                if event.stage == .checked { gate.hold() }
            }))
        }
        await gate.waitUntilReached()
        return (gate, holder)
    }

    @Test func theSameVideoAndOptionsAreOneJobWhileItIsUnfinished() async throws {
        let server = try await TestServer.start { $0.engine.jobs = 1 }
        defer { Task { await server.stop() } }
        // The engine's one place is held: the first job cannot end before the others are sent.
        let (gate, holder) = await Self.holdTheEngine(server)
        func job(_ query: String = "") async throws -> String {
            let accepted = try await server.upload(Fixtures.sample("video/vp9-opus.webm"), query: query)
            return try #require((accepted.data["job"] as? [String: Any])?["id"] as? String, "\(accepted.json)")
        }
        let first = try await job()
        #expect(try await job() == first, "the same bytes and options: one job")
        let other = try await job("?fit=pad")
        #expect(other != first, "other options: another job")
        // The duplicate's received file went at once; the two jobs keep theirs.
        #expect(Set(Fixtures.files(under: server.directory + "/jobs").map { $0.split(separator: "/")[0] }) == [Substring(first), Substring(other)])
        gate.open()
        _ = try await holder.value
        let ended = try await server.finishedJob(first).data
        #expect(ended["status"] as? String == "succeeded", "\(ended)")
    }

    /// FILE_007 is said before anything listens: a server that cannot store never starts.
    @Test func aBucketThatRefusesTheKeyStopsTheStartWithFILE_007() async throws {
        let moto = try await MotoS3.started()
        await #expect {
            _ = try await TestServer.start { settings in
                settings.engine.storage = .r2
                settings.engine.r2 = S3Configuration(endpoint: URL(string: moto.endpoint)!, bucket: moto.bucket,
                                                     credentials: .init(accessKeyID: moto.accessKeyID, secretAccessKey: "wrong"))
            }
        } throws: { error in
            guard let error = error as? KilnError, error.code == .file007 else { return false }
            return error.message.contains("KILN_R2_SECRET_ACCESS_KEY") && !error.message.contains("wrong")
        }
    }
}

extension CodesOverHTTPTests {
    /// API_005 is Kiln's own failure: a job whose stored record cannot be read (as after a
    /// hand-edited database) fails with it, and nothing internal is shown.
    @Test func aJobThatCannotBeReadFailsWithAPI_005() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let queue = SQLiteJobQueue(server.server.database)
        let job = try await queue.enqueue(NewJob(kind: "media", payload: Data(#"{"tenant": "test", "inputs": "not a payload"}"#.utf8)))
        let polled = try await server.finishedJob(job.id)
        let error = try #require(polled.data["error"] as? [String: Any], "\(polled.json)")
        #expect(polled.data["status"] as? String == "failed" && error["code"] as? String == "API_005")
        #expect(!(error["message"] as? String ?? "").contains("not a payload"))
    }
}
