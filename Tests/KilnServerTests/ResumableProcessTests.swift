import Foundation
import KilnTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real tus client (tuspy, Tests/Support/tus_upload.py) against a real `kiln serve` that is
/// killed between chunks: the upload resumes after the restart from the offset the server kept,
/// and the media it makes holds exactly the bytes sent.
@Suite(.serialized) struct ResumableProcessTests {
    static func tuspy(_ server: ServeProcess, _ file: String, chunk: Int, _ extra: [String]) async throws -> [String: Any] {
        let script = Fixtures.root + "/Tests/Support/tus_upload.py"
        let run = try await Tool.detached {
            try Tool.run("python3", [script, "http://127.0.0.1:\(server.port)", server.writeKey, file, String(chunk)] + extra)
        }
        #expect(run.status == 0, "\(run.stderr.suffix(3_000))\n\(server.log.suffix(2_000))")
        return try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
    }

    @Test func anInterruptedUploadResumesAfterARestartWithItsChecksumsVerified() async throws {
        let data = Fixtures.scratchDirectory("kiln-tus-kill")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        defer { Fixtures.cleanUp(data) }
        let video = Fixtures.sample("video/h264-aac-faststart.mp4")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: video)[.size] as? Int)
        let chunk = 16_384

        let first = try await ServeProcess(data: data)
        // Three chunks, the first sent with a wrong checksum: refused (460), asked again, sent again.
        let started = try await Self.tuspy(first, video, chunk: chunk, ["--stop-at", String(3 * chunk), "--corrupt-first"])
        #expect(started["offset"] as? Int == 3 * chunk)
        #expect((started["statuses"] as? [Int]) == [460, 204, 204, 204], "\(started)")
        #expect(first.log.contains("code=FILE_008"))
        let url = try #require(started["url"] as? String)
        let id = try #require(url.split(separator: "/").last.map(String.init))
        // The server dies between chunks; what it counted is on disk.
        first.signal(SIGKILL)
        _ = try await first.waitForExit()
        #expect((try FileManager.default.attributesOfItem(atPath: data + "/uploads/" + id)[.size] as? Int) == 3 * chunk)

        let second = try await ServeProcess(data: data, key: first.writeKey)
        // The restarted server listens on another free port; the upload's path is the same.
        let resumed = try await Self.tuspy(second, video, chunk: chunk, ["--url", "http://127.0.0.1:\(second.port)/v1/uploads/" + id])
        #expect(resumed["offset"] as? Int == size)
        let statuses = try #require(resumed["statuses"] as? [Int])
        #expect(statuses.count == (size - 3 * chunk + chunk - 1) / chunk && statuses.allSatisfy { $0 == 204 }, "resumed at \(3 * chunk), not 0")
        // The last answer points at the video's job; the job's media holds the bytes sent.
        let location = try #require((resumed["headers"] as? [String: String])?["kiln-location"])
        #expect(location.hasPrefix("/v1/jobs/job_"))
        let job = String(location.dropFirst("/v1/jobs/".count))
        let ended = try await second.poll(job) { ["succeeded", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
        #expect(ended["status"] as? String == "succeeded", "\(ended)")
        let media = try #require(ended["media"] as? [String: Any])
        let digest = String(decoding: try await Tool.check("sha256sum", [video]).stdout.prefix(64), as: UTF8.self)
        #expect(media["source_sha256"] as? String == digest)
        #expect(media["input"] as? String == "h264-aac-faststart.mp4")
        // HEAD after the end says the same; nothing is left under uploads/.
        let head = try await second.tus(.HEAD, "/v1/uploads/" + id)
        #expect(head.headers.first(name: "Upload-Offset") == String(size) && head.headers.first(name: "Kiln-Location") == location)
        #expect(Fixtures.files(under: data + "/uploads").isEmpty)
        second.signal(SIGTERM)
        #expect(try await second.waitForExit() == 0)
    }
}
