import Foundation
import KilnTestSupport
import Testing

/// The upload page at `/`, driven in headless Chromium (Debian's chromium and chromium-driver,
/// selenium from PyPI) by Tests/Support/page_test.py: an image, a video job and a refused file,
/// each ending with its result shown on the page.
@Suite(.serialized) struct UploadPageTests {
    @Test func pageShowsRenditionsJobProgressAndErrors() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let page = try await server.request(.GET, "/")
        #expect(page.status == 200 && page.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
        // Nothing fetched from elsewhere: no CDN, no build step.
        #expect(!String(decoding: page.body, as: UTF8.self).contains("://"))

        let files = ["photo.jpg", "video/no-audio.mp4", "bad/doc.pdf"].map(Fixtures.sample)
        let script = Fixtures.root + "/Tests/Support/page_test.py"
        let run = try await Tool.detached {
            try Tool.run("python3", [script, "http://127.0.0.1:\(server.port)", server.writeKey, "default"] + files)
        }
        #expect(run.status == 0, "\(run.stderr.suffix(4_000))")
        var boxes: [String: [String: Any]] = [:]
        for line in run.stdout.split(separator: UInt8(ascii: "\n")) {
            let box = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            boxes[box["name"] as? String ?? ""] = box
        }
        #expect(boxes.count == 3, "\(String(decoding: run.stdout, as: UTF8.self))")

        let image = try #require(boxes["photo.jpg"])
        let imageText = image["text"] as? String ?? ""
        #expect(imageText.contains("display: jpeg") && imageText.contains("thumb: jpeg"), "\(imageText)")
        #expect(imageText.contains("warning: stripped GPS metadata"))
        // Both renditions shown, decoded by the browser at their real widths.
        #expect((image["images"] as? [Int])?.count == 2 && (image["images"] as? [Int])?.allSatisfy { $0 > 0 } == true)

        let video = try #require(boxes["no-audio.mp4"])
        let videoText = video["text"] as? String ?? ""
        #expect(videoText.contains("job job_") && videoText.contains("video: mp4") && videoText.contains("poster: jpeg"), "\(videoText)")
        #expect((video["progress"] as? [Double])?.allSatisfy { $0 == 1 } == true, "upload and job progress both full")
        #expect((video["images"] as? [Int])?.count == 2)

        let refused = try #require(boxes["doc.pdf"])
        #expect((refused["text"] as? String)?.contains("FILE_003: Unsupported file format") == true)
        #expect((refused["images"] as? [Int])?.isEmpty == true)
    }
}
