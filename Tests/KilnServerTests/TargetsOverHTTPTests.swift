import Foundation
import KilnCore
import KilnTestSupport
import Testing

/// `targets=a,b,c` over HTTP: one upload, one outcome per target, and a status that says whether
/// all (201), some (207) or none succeeded.
@Suite struct TargetsOverHTTPTests {
    static func targets(_ reply: Reply) -> [[String: Any]] { reply.data["targets"] as? [[String: Any]] ?? [] }
    static func codes(_ reply: Reply) -> [String?] {
        targets(reply).map { ($0["error"] as? [String: Any])?["code"] as? String }
    }

    @Test func oneImageForFourTargetsAnswersFourOutcomes() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let names = ["instagram-feed", "x", "linkedin", "bluesky"]
        let reply = try await server.upload(Fixtures.sample("photo.jpg"), query: "?targets=" + names.joined(separator: ","))
        #expect(reply.status == 201, "\(reply.json)")
        #expect(reply.json["success"] as? Bool == true)
        let outcomes = Self.targets(reply)
        #expect(outcomes.map { $0["target"] as? String } == names)
        #expect(outcomes.allSatisfy { $0["status"] as? String == "changed" && !($0["warnings"] as? [String] ?? []).isEmpty })
        var ids: Set<String> = []
        for outcome in outcomes {
            let item = try #require(outcome["item"] as? [String: Any])
            let id = try #require(item["id"] as? String)
            ids.insert(id)
            // Each target's item is the tenant's, readable with its key, and fetchable with none.
            #expect(try await server.request(.GET, "/v1/media/\(id)", key: server.readKey).status == 200)
            #expect(try await server.request(.GET, "/v1/media/\(id)", key: server.rivalKey).status == 404)
            let rendition = try #require((item["renditions"] as? [[String: Any]])?.first)
            let fetch = try #require(rendition["fetch_url"] as? String)
            let start = try #require(fetch.range(of: "/fetch/"))
            let path = String(fetch[start.lowerBound...])
            #expect(try await server.request(.GET, path).status == 200)
        }
        #expect(ids.count == 4)
        // The same upload as a form field: the same four items, found stored (200).
        let again = try await server.upload(Fixtures.sample("photo.jpg"), fields: [("targets", names.joined(separator: ","))])
        #expect(again.status == 200, "\(again.json)")
        #expect(Set(Self.targets(again).compactMap { ($0["item"] as? [String: Any])?["id"] as? String }) == ids)
    }

    @Test func someOrNoneSucceedingSaysSo() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        // 3:1 fits X, not Instagram: 207, each target with its own answer.
        let some = try await server.upload(Fixtures.sample("panorama.jpg"), query: "?targets=x,instagram-feed")
        #expect(some.status == 207 && some.json["success"] as? Bool == false && some.json["error"] == nil, "\(some.json)")
        #expect(Self.codes(some) == [nil, "MEDIA_004"])
        #expect(Self.targets(some).map { $0["status"] as? String } == ["accepted", "rejected"])
        // A broken file: no target takes it; the status is its code's, every target says why.
        let none = try await server.upload(Fixtures.sample("bad/truncated.jpg"), query: "?targets=x,bluesky")
        #expect(none.code == "FILE_005" && none.status == Int(ErrorCode.file005.entry.httpStatus))
        #expect(Self.codes(none) == ["FILE_005", "FILE_005"])
        // An unknown target is the request's error, before the body.
        #expect(try await server.upload(Fixtures.sample("photo.jpg"), query: "?targets=x,nope").code == "API_001")
        // A carousel: the target that refuses one item names it; the other target's carousel is made.
        let files = try ["photo.jpg", "panorama.jpg"].map {
            ("file", $0, try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample($0)))))
        }
        let carousel = try await server.request(
            .POST, "/v1/carousels?targets=instagram-feed,x", key: server.writeKey,
            headers: [("Content-Type", "multipart/form-data; boundary=\(TestServer.boundary)")],
            body: TestServer.multipart(files: files))
        #expect(carousel.status == 207, "\(carousel.json)")
        let outcomes = Self.targets(carousel)
        let failed = try #require(outcomes.first?["failed_item"] as? [String: Any])
        #expect(failed["index"] as? Int == 1 && failed["name"] as? String == "panorama.jpg")
        let made = try #require(outcomes.last?["carousel"] as? [String: Any])
        #expect((outcomes.last?["items"] as? [Any])?.count == 2)
        #expect(try await server.request(.GET, "/v1/media/\(try #require(made["id"] as? String))", key: server.readKey).status == 200)
    }

    @Test func aVideoJobAndAResumableUploadCarryTheirOutcomes() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let accepted = try await server.upload(Fixtures.sample("video/h264-aac-faststart.mp4"),
                                               query: "?targets=default,youtube-shorts")
        #expect(accepted.status == 202, "\(accepted.json)")
        let id = try #require((accepted.data["job"] as? [String: Any])?["id"] as? String)
        let job = try await server.finishedJob(id)
        #expect(job.data["status"] as? String == "succeeded", "\(job.json)")
        let outcomes = try #require(job.data["targets"] as? [[String: Any]])
        #expect(outcomes.map { ($0["error"] as? [String: Any])?["code"] as? String } == [nil, "MEDIA_004"])
        let video = try #require((outcomes[0]["item"] as? [String: Any])?["renditions"] as? [[String: Any]])
        #expect(video.contains { $0["name"] as? String == "video" && ($0["url"] as? String)?.hasPrefix("/v1/media/") == true })

        // tus: the targets in Upload-Metadata; the upload's view holds the outcomes.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("panorama.jpg"))))
        let metadata = ["filename": "panorama.jpg", "targets": "x,instagram-feed"]
            .map { "\($0.key) \(Data($0.value.utf8).base64EncodedString())" }.joined(separator: ",")
        let created = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", String(bytes.count)),
                                                                          ("Upload-Metadata", metadata)])
        let location = try #require(created.headers.first(name: "Location"), "\(created.json)")
        let patched = try await server.tus(.PATCH, location, headers: [("Upload-Offset", "0")], body: bytes,
                                           contentType: "application/offset+octet-stream")
        #expect(patched.status == 204, "\(patched.json)")
        let view = try await server.request(.GET, location, key: server.writeKey)
        #expect((view.data["targets"] as? [[String: Any]])?.map { $0["status"] as? String } == ["accepted", "rejected"],
                "\(view.json)")
    }
}

/// `POST /v1/preflight`: the per-target report from a file's first bytes, nothing stored.
@Suite struct PreflightOverHTTPTests {
    @Test func theFirstBytesAndTheSizeTellEachTarget() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("panorama.jpg"))))
        // A form with the size and only the first 16 KiB of the file.
        let form = try await server.request(
            .POST, "/v1/preflight", key: server.writeKey,
            headers: [("Content-Type", "multipart/form-data; boundary=\(TestServer.boundary)")],
            body: TestServer.multipart(fields: [("targets", "x,instagram-feed"), ("size", String(bytes.count))],
                                       files: [("file", "panorama.jpg", Array(bytes.prefix(16 << 10)))]))
        #expect(form.status == 200, "\(form.json)")
        let previews = try #require(form.data["targets"] as? [[String: Any]])
        #expect(previews.map { $0["status"] as? String } == ["accepted", "rejected"])
        #expect((previews[1]["error"] as? [String: Any])?["code"] as? String == "MEDIA_004")
        #expect((form.data["bytes_read"] as? Int ?? .max) <= 16 << 10)
        // The file itself as the body: its Content-Length is its size.
        let raw = try await server.request(.POST, "/v1/preflight?targets=instagram-feed,bluesky&fit=crop", key: server.writeKey,
                                           headers: [("Content-Type", "image/jpeg")], body: bytes)
        #expect(raw.status == 200, "\(raw.json)")
        let cropped = try #require((raw.data["targets"] as? [[String: Any]])?.first)
        #expect(cropped["status"] as? String == "changed")
        #expect((cropped["changes"] as? [String])?.contains { $0.contains("cropped") } == true, "\(cropped)")
        // Nothing was stored.
        #expect(Fixtures.files(under: server.directory + "/media").filter { !$0.hasPrefix(".") }.isEmpty)
        // A body far larger than its header: answered from its first bytes, the rest never read.
        let claimed = 40 << 20
        let head = "POST /v1/preflight?targets=x HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(server.writeKey)\r\n"
            + "Content-Type: image/jpeg\r\nContent-Length: \(claimed)\r\n\r\n"
        let answer = try await Tool.detached { try server.raw(head, body: bytes, seconds: 20) }
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(600))")
        #expect(answer.lowercased().contains("connection: close") && answer.contains("\"target\":\"x\""))
        #expect(answer.contains("41.94 MB over x's 5 MB"), "the declared size, not the bytes sent, is held to the limit")
    }
}

/// `limits` over HTTP: a form field, the query, or tus metadata narrows a target to the account
/// it will be posted from; a wider or malformed one is 400 API_001 naming `limits`.
@Suite struct AccountLimitsOverHTTPTests {
    @Test func limitsNarrowATargetFromAFieldTheQueryOrTusMetadata() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let limits = #"{"bluesky": {"max_bytes": 60000, "max_width": 800}}"#
        let field = try await server.upload(Fixtures.sample("photo.jpg"), fields: [("preset", "bluesky"), ("limits", limits)])
        #expect(field.status == 201, "\(field.json)")
        let display = try #require((field.data["renditions"] as? [[String: Any]])?.first)
        #expect((display["bytes"] as? Int ?? .max) <= 60_000 && (display["width"] as? Int ?? .max) <= 800)
        let query = try await server.upload(Fixtures.sample("photo.jpg"),
                                            query: "?preset=bluesky&limits=" + (limits.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        #expect(query.status == 200 && query.data["id"] as? String == field.data["id"] as? String, "the same limits, the same item")
        let own = try await server.upload(Fixtures.sample("photo.jpg"), fields: [("preset", "bluesky")])
        #expect(own.status == 201 && own.data["id"] as? String != field.data["id"] as? String)

        // tus: the limits ride in Upload-Metadata.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
        let metadata = ["filename": "photo.jpg", "preset": "bluesky", "limits": limits]
            .map { "\($0.key) \(Data($0.value.utf8).base64EncodedString())" }.joined(separator: ",")
        let created = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", String(bytes.count)), ("Upload-Metadata", metadata)])
        #expect(created.status == 201, "\(created.json)")
        let location = try #require(created.headers.first(name: "Location"))
        let done = try await server.tus(.PATCH, location, headers: [("Upload-Offset", "0")], body: bytes,
                                        contentType: "application/offset+octet-stream")
        let media = try #require(done.headers.first(name: "Kiln-Location"))
        #expect(media == "/v1/media/" + (field.data["id"] as? String ?? ""), "tus makes the same narrowed item")
    }

    @Test func aWiderOrMalformedLimitIsAPI_001NamingLimits() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        for limits in [#"{"x": {"max_items": 9}}"#, #"{"x": {"max_length": 3}}"#, "nope", #"{"tiktok": {"max_bytes": 5}}"#] {
            let reply = try await server.upload(Fixtures.sample("photo.jpg"), fields: [("preset", "x"), ("limits", limits)])
            #expect(reply.status == 400 && reply.code == "API_001", "\(limits): \(reply.json)")
            let fields = ((reply.json["error"] as? [String: Any])?["details"] as? [String: Any])?["fields"] as? [String: Any]
            #expect(fields?["limits"] != nil, "\(limits): \(reply.json)")
        }
        let tus = try await server.tus(.POST, "/v1/uploads", headers: [
            ("Upload-Length", "1000"), ("Upload-Metadata", "preset " + Data("tiktok".utf8).base64EncodedString()
                + ",limits " + Data(#"{"tiktok": {"max_duration_seconds": 900}}"#.utf8).base64EncodedString()),
        ])
        #expect(tus.status == 400 && tus.code == "API_001", "\(tus.json)")
    }
}
