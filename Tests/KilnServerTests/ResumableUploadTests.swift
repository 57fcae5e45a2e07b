import Crypto
import Foundation
import KilnDatabase
import KilnServer
import KilnTestSupport
import NIOHTTP1
import Testing

/// tus 1.0 at /v1/uploads, request by request: what a chunk may do to an upload, and what it may
/// not (a bad checksum, a wrong offset, growing past the limit) without leaving a byte behind.
@Suite struct ResumableUploadTests {
    static let tinyPresets = #"""
        [{"name": "tiny", "summary": "20 kB at most", "image": {"max_bytes": 20000}, "renditions": [{"name": "thumb", "long_edge": 64}]},
         {"name": "mixed", "summary": "images to 20 kB, videos to 10 MB", "image": {"max_bytes": 20000}, "video": {"max_bytes": 10000000},
          "renditions": [{"name": "thumb", "long_edge": 64}]}]
        """#

    /// A server whose presets add "tiny" (a 20 kB limit) and "mixed" (images to 20 kB, videos to 10 MB).
    static func server(_ adjust: @escaping (inout ServerSettings) -> Void = { _ in }) async throws -> TestServer {
        let presets = Fixtures.scratchDirectory("kiln-tus-presets") + "/presets.json"
        try Data(tinyPresets.utf8).write(to: URL(fileURLWithPath: presets))
        return try await TestServer.start {
            $0.engine.presetsFile = presets
            adjust(&$0)
        }
    }

    static func metadata(_ pairs: [String: String]) -> String {
        pairs.map { "\($0.key) \(Data($0.value.utf8).base64EncodedString())" }.joined(separator: ",")
    }

    static func sha256(_ bytes: some Sequence<UInt8>) -> String { Data(SHA256.hash(data: Array(bytes))).base64EncodedString() }

    /// Bytes kept on disk for upload `id`.
    static func stored(_ server: TestServer, _ id: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: server.directory + "/uploads/" + id)[.size] as? Int) ?? nil
    }

    @Test func optionsAdvertisesTheProtocolWithoutAKey() async throws {
        let server = try await Self.server()
        defer { Task { await server.stop() } }
        let answer = try await server.request(.OPTIONS, "/v1/uploads")
        #expect(answer.status == 204)
        #expect(answer.headers.first(name: "Tus-Version") == "1.0.0")
        let extensions = Set((answer.headers.first(name: "Tus-Extension") ?? "").split(separator: ",").map(String.init))
        #expect(extensions.isSuperset(of: ["creation", "creation-with-upload", "creation-defer-length", "checksum", "expiration", "termination"]))
        #expect(answer.headers.first(name: "Tus-Checksum-Algorithm") == "sha1,sha256")
        // The largest file any preset takes (built-in video presets: 4 GiB).
        #expect(answer.headers.first(name: "Tus-Max-Size") == String(4 << 30))
    }

    @Test func anImageInCheckedChunksIsProcessedByItsLastByte() async throws {
        let server = try await Self.server()
        defer { Task { await server.stop() } }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
        let created = try await server.tus(.POST, "/v1/uploads", headers: [
            ("Upload-Length", String(bytes.count)), ("Upload-Metadata", Self.metadata(["filename": "photo.jpg", "preset": "default", "filetype": "image/jpeg"])),
        ])
        #expect(created.status == 201, "\(created.json)")
        let location = try #require(created.headers.first(name: "Location"))
        #expect(location.hasPrefix("/v1/uploads/"))
        #expect(created.headers.first(name: "Upload-Expires")?.hasSuffix(" GMT") == true)
        let id = String(location.dropFirst("/v1/uploads/".count))

        var offset = 0
        var last: Reply?
        for chunk in stride(from: 0, to: bytes.count, by: 40_000).map({ bytes[$0..<min($0 + 40_000, bytes.count)] }) {
            let answer = try await server.tus(.PATCH, location, headers: [
                ("Upload-Offset", String(offset)), ("Content-Type", "application/offset+octet-stream"),
                ("Upload-Checksum", "sha256 " + Self.sha256(chunk)),
            ], body: Array(chunk))
            #expect(answer.status == 204, "\(answer.json)")
            offset += chunk.count
            #expect(answer.headers.first(name: "Upload-Offset") == String(offset))
            if offset < bytes.count {
                let head = try await server.tus(.HEAD, location)
                #expect(head.headers.first(name: "Upload-Offset") == String(offset) && head.headers.first(name: "Kiln-Location") == nil)
                #expect(Self.stored(server, id) == offset)
            }
            last = answer
        }
        // The last chunk's answer points at the media, as HEAD does from then on.
        let media = try #require(last?.headers.first(name: "Kiln-Location"))
        #expect(media.hasPrefix("/v1/media/"))
        let item = try await server.request(.GET, media, key: server.readKey)
        #expect(item.status == 200)
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        #expect(item.data["source_sha256"] as? String == digest, "the bytes that arrived are the bytes sent")
        #expect(item.data["input"] as? String == "photo.jpg")
        let head = try await server.tus(.HEAD, location)
        #expect(head.status == 200 && head.headers.first(name: "Kiln-Location") == media)
        #expect(head.headers.first(name: "Upload-Length") == String(bytes.count))
        #expect(head.headers.first(name: "Cache-Control") == "no-store")
        let view = try await server.request(.GET, location, key: server.writeKey)
        #expect(view.data["state"] as? String == "succeeded" && view.data["location"] as? String == media)
        // Its bytes went into the pipeline: none are left under uploads/.
        #expect(Self.stored(server, id) == nil)
    }

    @Test func aChunkThatDoesNotMatchItsChecksumIsRefusedAndNotKept() async throws {
        let server = try await Self.server()
        defer { Task { await server.stop() } }
        let created = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "10")])
        let location = try #require(created.headers.first(name: "Location"))
        let id = String(location.dropFirst("/v1/uploads/".count))
        let good = Array("abcde".utf8)
        let sha1 = Data(Insecure.SHA1.hash(data: good)).base64EncodedString()
        for (body, checksum) in [(Array("abcdX".utf8), "sha1 " + sha1), (good, "sha256 " + Self.sha256(Array("other".utf8)))] {
            let refused = try await server.tus(.PATCH, location, headers: [
                ("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream"), ("Upload-Checksum", checksum),
            ], body: body)
            #expect(refused.status == 460 && refused.code == "FILE_008", "\(refused.json)")
            #expect(try await server.tus(.HEAD, location).headers.first(name: "Upload-Offset") == "0")
            #expect(Self.stored(server, id) == 0, "nothing of the chunk was kept")
        }
        let unknown = try await server.tus(.PATCH, location, headers: [
            ("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream"), ("Upload-Checksum", "md5 AAAA"),
        ], body: good)
        #expect(unknown.status == 400 && unknown.code == "API_001")
        let accepted = try await server.tus(.PATCH, location, headers: [
            ("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream"), ("Upload-Checksum", "sha1 " + sha1),
        ], body: good)
        #expect(accepted.status == 204 && accepted.headers.first(name: "Upload-Offset") == "5")
    }

    @Test func wrongOffsetsVersionsAndTypesAreRefused() async throws {
        let server = try await Self.server()
        defer { Task { await server.stop() } }
        let created = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "10")],
                                           body: Array("abc".utf8), contentType: "application/offset+octet-stream")
        // creation-with-upload: the body is the first chunk.
        #expect(created.status == 201 && created.headers.first(name: "Upload-Offset") == "3")
        let location = try #require(created.headers.first(name: "Location"))
        let conflict = try await server.tus(.PATCH, location, headers: [("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream")],
                                            body: Array("xyz".utf8))
        #expect(conflict.status == 409 && conflict.code == "API_007")
        #expect((conflict.json["error"] as? [String: Any]).flatMap { ($0["details"] as? [String: Any])?["offset"] as? Int } == 3)
        let noVersion = try await server.request(.PATCH, location, key: server.writeKey,
                                                 headers: [("Upload-Offset", "3"), ("Content-Type", "application/offset+octet-stream")],
                                                 body: Array("def".utf8))
        #expect(noVersion.status == 412 && noVersion.code == "API_008" && noVersion.headers.first(name: "Tus-Version") == "1.0.0")
        let wrongType = try await server.tus(.PATCH, location, headers: [("Upload-Offset", "3"), ("Content-Type", "text/plain")],
                                             body: Array("def".utf8))
        #expect(wrongType.status == 400 && wrongType.code == "API_001")
        let past = try await server.tus(.PATCH, location, headers: [("Upload-Offset", "3"), ("Content-Type", "application/offset+octet-stream")],
                                        body: Array("defghijkl".utf8))
        #expect(past.status == 413 && past.code == "FILE_004", "past its Upload-Length")
        #expect(try await server.tus(.HEAD, location).headers.first(name: "Upload-Offset") == "3")
        // Another key of the tenant sees it, another tenant's does not; bad creations say why.
        #expect(try await server.tus(.HEAD, location, key: server.readKey).status == 200)
        let other = try await server.tus(.HEAD, location, key: server.rivalKey)
        #expect(other.status == 404)
        let neither = try await server.tus(.POST, "/v1/uploads")
        #expect(neither.status == 400 && neither.code == "API_001")
        let badPreset = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "1"), ("Upload-Metadata", Self.metadata(["preset": "nope"]))])
        #expect(badPreset.status == 400 && badPreset.code == "API_001")
        let badMetadata = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "1"), ("Upload-Metadata", "preset %%%")])
        #expect(badMetadata.status == 400 && badMetadata.code == "API_001")
    }

    /// A connection lost mid-chunk: without a checksum what arrived counts (tus core); with one
    /// nothing does, since it cannot be checked.
    @Test func aChunkCutOffKeepsWhatArrivedUnlessItHadAChecksum() async throws {
        let server = try await Self.server()
        defer { Task { await server.stop() } }
        let body = [UInt8](repeating: 7, count: 4_000)
        func cutOff(_ location: String, checksum: String?) throws {
            let connection = try RawConnection(port: server.port)
            var head = "PATCH \(location) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(server.writeKey)\r\nTus-Resumable: 1.0.0\r\n"
                + "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: 10000\r\n"
            if let checksum { head += "Upload-Checksum: \(checksum)\r\n" }
            connection.send(Array((head + "\r\n").utf8) + body)
            // The connection closes here, 6,000 bytes short.
        }
        let plain = try #require(try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "10000")]).headers.first(name: "Location"))
        try cutOff(plain, checksum: nil)
        let deadline = Date().addingTimeInterval(30)
        var offset: String?
        while offset != "4000", Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            offset = try await server.tus(.HEAD, plain).headers.first(name: "Upload-Offset")
        }
        #expect(offset == "4000")

        let checked = try #require(try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "10000")]).headers.first(name: "Location"))
        try cutOff(checked, checksum: "sha256 " + Self.sha256([UInt8](repeating: 7, count: 10_000)))
        // Once the cut request has been answered (the second FILE_001), a chunk at 0 is taken:
        // nothing of the cut one was kept.
        while try await !String(decoding: server.request(.GET, "/metrics").body, as: UTF8.self)
            .contains(#"kiln_errors_total{code="FILE_001"} 2"#), Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(Self.stored(server, String(checked.dropFirst("/v1/uploads/".count))) == 0)
        var retry = try await server.tus(.PATCH, checked, headers: [("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream")],
                                         body: Array("abc".utf8))
        while retry.status == 409, retry.code == "API_007", Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            retry = try await server.tus(.PATCH, checked, headers: [("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream")],
                                         body: Array("abc".utf8))
        }
        #expect(retry.status == 204 && retry.headers.first(name: "Upload-Offset") == "3", "\(retry.json)")
    }

    /// tus core: clients behind proxies that pass only GET and POST send the method in a header.
    @Test func aPostWithAMethodOverrideIsThatMethod() async throws {
        let server = try await Self.server()
        defer { Task { await server.stop() } }
        let created = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "6")])
        let location = try #require(created.headers.first(name: "Location"))
        let patched = try await server.tus(.POST, location, headers: [
            ("X-HTTP-Method-Override", "PATCH"), ("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream"),
        ], body: Array("abc".utf8))
        #expect(patched.status == 204 && patched.headers.first(name: "Upload-Offset") == "3")
        let head = try await server.tus(.POST, location, headers: [("X-HTTP-Method-Override", "HEAD")])
        #expect(head.status == 200 && head.headers.first(name: "Upload-Offset") == "3")
        let none = try await server.tus(.POST, location)
        #expect(none.status == 400 && none.code == "API_001")
        #expect(try await server.tus(.POST, location, headers: [("X-HTTP-Method-Override", "DELETE")]).status == 204)
        #expect(try await server.tus(.HEAD, location).status == 404)
    }

    @Test func aDeferredLengthCannotGrowPastThePresetsLimit() async throws {
        let server = try await Self.server()
        defer { Task { await server.stop() } }
        let tooBig = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "20001"), ("Upload-Metadata", Self.metadata(["preset": "tiny"]))])
        #expect(tooBig.status == 413 && tooBig.code == "FILE_004")
        // Image bytes (the first bytes say what an upload is): the start of a 100 kB photo.
        let photo = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
        let created = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Defer-Length", "1"), ("Upload-Metadata", Self.metadata(["preset": "tiny"]))])
        #expect(created.status == 201)
        let location = try #require(created.headers.first(name: "Location"))
        let id = String(location.dropFirst("/v1/uploads/".count))
        #expect(try await server.tus(.HEAD, location).headers.first(name: "Upload-Defer-Length") == "1")
        let first = try await server.tus(.PATCH, location, headers: [("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream")],
                                         body: Array(photo[0..<15_000]))
        #expect(first.status == 204)
        // Never declaring the length does not let it grow past 20 kB.
        let over = try await server.tus(.PATCH, location, headers: [("Upload-Offset", "15000"), ("Content-Type", "application/offset+octet-stream")],
                                        body: Array(photo[15_000..<21_000]))
        #expect(over.status == 413 && over.code == "FILE_004")
        #expect(Self.stored(server, id) == 15_000)
        let declaredOver = try await server.tus(.PATCH, location, headers: [
            ("Upload-Offset", "15000"), ("Content-Type", "application/offset+octet-stream"), ("Upload-Length", "30000"),
        ], body: Array(photo[15_000..<15_010]))
        #expect(declaredOver.status == 413)
        let head = try await server.tus(.HEAD, location)
        #expect(head.headers.first(name: "Upload-Offset") == "15000" && head.headers.first(name: "Upload-Defer-Length") == "1")
    }

    /// The first bytes say what an upload is: from then on it is held to that kind's limit, and
    /// a format Kiln refuses is refused at once, not after its last byte.
    @Test func anUploadIsHeldToItsKindsLimitFromItsFirstBytes() async throws {
        let server = try await Self.server()
        defer { Task { await server.stop() } }
        let photo = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
        let mixed = ("Upload-Metadata", Self.metadata(["preset": "mixed"]))
        func chunk(_ location: String, at offset: Int, _ bytes: ArraySlice<UInt8>) async throws -> Reply {
            try await server.tus(.PATCH, location, headers: [("Upload-Offset", String(offset)), ("Content-Type", "application/offset+octet-stream")],
                                 body: Array(bytes))
        }
        func id(_ location: String) -> String { String(location.dropFirst("/v1/uploads/".count)) }

        // Declared at 100 kB: under the preset's 10 MB, over its 20 kB for images.
        let declared = try #require(try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", String(photo.count)), mixed])
            .headers.first(name: "Location"))
        let refused = try await chunk(declared, at: 0, photo[0..<16_384])
        #expect(refused.status == 413 && refused.code == "FILE_004" && (refused.json["error"] as? [String: Any])?["message"] as? String ?? "" != "",
                "\(refused.json)")
        #expect(((refused.json["error"] as? [String: Any])?["message"] as? String)?.contains("images") == true)
        #expect(Self.stored(server, id(declared)) == 0)

        // Deferred: the first 16 kB pass; the next chunk would pass 20 kB.
        let deferred = try #require(try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Defer-Length", "1"), mixed])
            .headers.first(name: "Location"))
        #expect(try await chunk(deferred, at: 0, photo[0..<16_384]).status == 204)
        let over = try await chunk(deferred, at: 16_384, photo[16_384..<32_768])
        #expect(over.status == 413 && over.code == "FILE_004")
        #expect(Self.stored(server, id(deferred)) == 16_384)

        // Not media: refused at its first chunk.
        let pdf = Array("%PDF-1.4\n".utf8) + [UInt8](repeating: UInt8(ascii: " "), count: 9_990)
        let document = try #require(try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", String(pdf.count))])
            .headers.first(name: "Location"))
        let notMedia = try await chunk(document, at: 0, pdf[0..<8_192])
        #expect(notMedia.status == 415 && notMedia.code == "FILE_003", "\(notMedia.json)")
        #expect(Self.stored(server, id(document)) == 0)
    }

    /// The tenant's room is checked and reserved in one write: two chunks of 90,000 bytes sent at
    /// once to two deferred-length uploads, under a 100,000-byte cap, cannot both be taken.
    @Test func twoParallelChunksCannotBothTakeTheTenantsLastRoom() async throws {
        let server = try await Self.server { $0.tenantUploadBytes = 100_000 }
        defer { Task { await server.stop() } }
        let photo = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
        let chunk = Array(photo[0..<90_000])
        var locations: [String] = []
        for _ in 0..<2 {
            let created = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Defer-Length", "1")])
            locations.append(try #require(created.headers.first(name: "Location"), "\(created.json)"))
        }
        let answers = try await withThrowingTaskGroup(of: Reply.self) { group in
            for location in locations {
                group.addTask {
                    try await server.tus(.PATCH, location, headers: [("Upload-Offset", "0")], body: chunk,
                                         contentType: "application/offset+octet-stream")
                }
            }
            return try await group.reduce(into: [Reply]()) { $0.append($1) }
        }
        let taken = answers.filter { $0.status == 204 }
        #expect(taken.count == 1, "\(answers.map { ($0.status, $0.code ?? "") })")
        #expect(answers.contains { $0.status != 204 && $0.code != nil }, "the other is refused with its code")
        let held = locations.map { Self.stored(server, String($0.dropFirst("/v1/uploads/".count))) ?? 0 }.reduce(0, +)
        #expect(held == 90_000, "\(held) bytes held under a 100,000-byte cap")
        // The refused chunk's room was never kept: a small one still fits beside the first.
        let open = try await server.server.state.uploads.open(tenant: "test")
        #expect(open.bytes == 90_000, "\(open)")
    }

    @Test func aRefusedFileEndsTheUploadWithItsCodeAndTerminationRemovesIt() async throws {
        let server = try await Self.server()
        defer { Task { await server.stop() } }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("bad/doc.pdf"))))
        let created = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", String(bytes.count))])
        let location = try #require(created.headers.first(name: "Location"))
        let last = try await server.tus(.PATCH, location, headers: [("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream")],
                                        body: bytes)
        #expect(last.status == 415 && last.code == "FILE_003", "\(last.json)")
        #expect(last.headers.first(name: "Upload-Offset") == String(bytes.count), "the bytes were taken; the file was refused")
        let view = try await server.request(.GET, location, key: server.writeKey)
        #expect(view.data["state"] as? String == "failed")
        #expect((view.data["error"] as? [String: Any])?["code"] as? String == "FILE_003")

        // Termination: an unfinished upload and its bytes go.
        let other = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "100")],
                                         body: Array("abc".utf8), contentType: "application/offset+octet-stream")
        let otherLocation = try #require(other.headers.first(name: "Location"))
        let id = String(otherLocation.dropFirst("/v1/uploads/".count))
        #expect(Self.stored(server, id) == 3)
        #expect(try await server.tus(.DELETE, otherLocation).status == 204)
        #expect(try await server.tus(.HEAD, otherLocation).status == 404)
        #expect(Self.stored(server, id) == nil)
    }

    @Test func expiredUploadsAreRemoved() async throws {
        let server = try await Self.server {
            $0.uploadExpiry = .milliseconds(600)
            $0.uploadSweep = .milliseconds(100)
        }
        defer { Task { await server.stop() } }
        let created = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "100")],
                                           body: Array("abc".utf8), contentType: "application/offset+octet-stream")
        let location = try #require(created.headers.first(name: "Location"))
        let id = String(location.dropFirst("/v1/uploads/".count))
        #expect(Self.stored(server, id) == 3)
        let deadline = Date().addingTimeInterval(30)
        while Self.stored(server, id) != nil, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(Self.stored(server, id) == nil, "the sweeper removed its bytes")
        #expect(try await server.tus(.HEAD, location).status == 404)
    }

    /// A crash after the last byte was counted but before it was processed: the next start
    /// processes it, and the upload then points at its media.
    @Test func aCompleteUploadLeftUnprocessedIsProcessedAtTheNextStart() async throws {
        let directory = Fixtures.scratchDirectory("kiln-tus-crash")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg")))
        do {
            let records = SQLiteUploadStore(try KilnDatabase(directory: directory))
            let now = Date()
            try await records.create(UploadRecord(id: "leftover", keyID: nil, tenant: "test", length: Int64(bytes.count), metadata: ["filename": "photo.jpg"],
                                                  createdAt: now, expiresAt: now.addingTimeInterval(3600)))
            try FileManager.default.createDirectory(atPath: directory + "/uploads", withIntermediateDirectories: true)
            try bytes.write(to: URL(fileURLWithPath: directory + "/uploads/leftover"))
            #expect(try await records.advance("leftover", from: 0, to: Int64(bytes.count), length: nil, expiresAt: now.addingTimeInterval(3600)))
            // And a file without its row (a crash between the two): removed.
            try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/uploads/orphan"))
        }
        let server = try await TestServer.start { $0.engine.dataDirectory = directory }
        defer { Task { await server.stop() } }
        let records = server.server.state.uploads
        let deadline = Date().addingTimeInterval(60)
        var record = try await records.get("leftover")
        while record?.result == nil, Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
            record = try await records.get("leftover")
        }
        let location = try #require(record?.result?.location)
        #expect(record?.result?.status == 201)
        #expect(try await server.request(.GET, location, key: server.readKey).status == 200)
        #expect(!FileManager.default.fileExists(atPath: directory + "/uploads/orphan"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/uploads/leftover"))
    }
}

extension LoopbackHTTP {
    /// A tus request: `Tus-Resumable` and the write key (unless another is given).
    func tus(_ method: HTTPMethod, _ path: String, key: String? = nil, headers: [(String, String)] = [], body: [UInt8]? = nil,
             contentType: String? = nil) async throws -> Reply {
        var all = [("Tus-Resumable", "1.0.0")] + headers
        if let contentType { all.append(("Content-Type", contentType)) }
        return try await request(method, path, key: key ?? writeKey, headers: all, body: body)
    }
}
