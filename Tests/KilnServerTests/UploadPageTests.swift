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

    /// The page's own tus client through a network drop: the browser goes offline a third of the
    /// way in, the page retries, and once back online it resumes from the offset the server kept
    /// (not from 0); the media holds exactly the file's bytes.
    @Test func anInterruptedUploadResumesWhereTheServerLeftIt() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let photo = Fixtures.sample("photo.jpg")
        let script = Fixtures.root + "/Tests/Support/page_test.py"
        let run = try await Tool.detached {
            try Tool.run("python3", [script, "--interrupt", "http://127.0.0.1:\(server.port)", server.writeKey, "default", photo])
        }
        #expect(run.status == 0, "\(run.stderr.suffix(4_000))")
        let box = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        let text = box["text"] as? String ?? ""
        #expect((box["retries"] as? Int ?? 0) >= 1, "\(text)")
        let resumed = try #require(text.firstMatch(of: /resumed at (\d+)/).flatMap { Int($0.1) }, "\(text)")
        #expect(resumed > 0 && resumed % 16_384 == 0, "resumed at a chunk the server kept, not at 0")
        #expect(text.contains("display: jpeg") && text.contains("thumb: jpeg"), "\(text)")
        #expect((box["images"] as? [Int])?.count == 2)
        // The bytes that arrived in pieces are the file's.
        let id = try #require(text.firstMatch(of: /image image\/jpeg ([0-9a-f]{64})/).map { String($0.1) }, "\(text)")
        let item = try await server.request(.GET, "/v1/media/\(id)", key: server.readKey)
        let digest = String(decoding: try await Tool.check("sha256sum", [photo]).stdout.prefix(64), as: UTF8.self)
        #expect(item.data["source_sha256"] as? String == digest)
    }
}

/// The page's targets: a file is preflighted as soon as it is chosen, one column per target,
/// then uploaded for every target at once; each column shows its renditions with fetch URLs
/// that work with no key.
@Suite(.serialized) struct UploadPageTargetsTests {
    @Test func thePagePreflightsAndShowsEveryTarget() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let files = ["panorama.jpg", "video/h264-aac-faststart.mp4"].map(Fixtures.sample)
        let script = Fixtures.root + "/Tests/Support/page_targets_test.py"
        let run = try await Tool.detached {
            try Tool.run("python3", [script, "http://127.0.0.1:\(server.port)", server.writeKey, "x,instagram-feed,youtube-shorts"]
                         + files)
        }
        #expect(run.status == 0, "\(run.stderr.suffix(4_000))")
        let page = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        func byName(_ list: Any?) -> [String: [String: Any]] {
            Dictionary((list as? [[String: Any]] ?? []).map { (($0["name"] as? String ?? "").components(separatedBy: " ").last ?? "", $0) },
                       uniquingKeysWith: { first, _ in first })
        }
        let told = byName(page["preflight"])
        // The panorama: X takes it as it is; Instagram's feed refuses 3:1; a Short takes no image.
        let photo = try #require(told["panorama.jpg"], "\(told.keys)")
        #expect(photo["cells"] as? [String: String] == ["x": "accepted", "instagram-feed": "rejected", "youtube-shorts": "rejected"])
        #expect((photo["text"] as? String)?.contains("MEDIA_004") == true)
        // The 4:3 clip: X and Instagram take it (changed or not), a Short refuses 4:3.
        let clip = try #require(told["h264-aac-faststart.mp4"])
        #expect((clip["cells"] as? [String: String])?["youtube-shorts"] == "rejected")

        let made = byName(page["results"])
        let upload = try #require(made["panorama.jpg"], "\(made.keys)")
        // The upload answers as the preflight said.
        #expect(upload["cells"] as? [String: String] == photo["cells"] as? [String: String], "\(upload["text"] ?? "")")
        let links = try #require(upload["fetch"] as? [String])
        #expect(links.count == 2, "X's display and thumb: \(links)")
        for link in links {
            let start = try #require(link.range(of: "/fetch/"))
            let fetched = try await server.request(.GET, String(link[start.lowerBound...]))
            #expect(fetched.status == 200 && fetched.headers.first(name: "Content-Type") == "image/jpeg")
        }
        let video = try #require(made["h264-aac-faststart.mp4"])
        #expect((video["cells"] as? [String: String])?["x"] != "rejected" && (video["cells"] as? [String: String])?["youtube-shorts"] == "rejected",
                "\(video["text"] ?? "")")
        #expect((video["fetch"] as? [String])?.isEmpty == false)
    }
}

/// The page's crop windows: each target's window is drawn over the chosen picture, and a click on
/// the picture sets `focus` there: the preflight moves the windows and the upload keeps it.
@Suite(.serialized) struct UploadPageFocusTests {
    @Test func aClickOnThePictureSetsTheFocusAndMovesTheWindows() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let script = Fixtures.root + "/Tests/Support/page_focus_test.py"
        let run = try await Tool.detached {
            try Tool.run("python3", [script, "http://127.0.0.1:\(server.port)", server.writeKey, "instagram-story,x",
                                     Fixtures.sample("panorama.jpg")])
        }
        #expect(run.status == 0, "\(run.stderr.suffix(4_000))")
        let page = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        func window(_ key: String) throws -> [Int] {
            let windows = try #require(page[key] as? [String: String], "\(page)")
            #expect(windows["x"] == nil, "X takes 3:1 whole: no window")
            return try #require(windows["instagram-story"]).split(separator: ",").compactMap { Int($0) }
        }
        // The 1500x500 panorama cut to 9:16: a 281x500 window, centred, then around a tenth across.
        let before = try window("before"), after = try window("after")
        #expect(before == [610, 0, 281, 500], "\(before)")
        #expect(after.count == 4 && after[0] < 100 && after[2] == 281, "\(after)")
        let focus = try #require(page["focus"] as? String)
        let x = try #require(focus.split(separator: ",").first.flatMap { Double($0) }, "\(focus)")
        #expect(abs(x - 0.1) < 0.03, "\(focus)")
        #expect((page["caption"] as? String)?.contains("focus auto") == true)
        #expect((page["result"] as? String)?.contains("around the focus \(focus)") == true, "\(page["result"] ?? "")")
    }
}
