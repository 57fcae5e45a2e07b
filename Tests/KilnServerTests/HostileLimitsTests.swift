import Foundation
import KilnTestSupport
import Testing

/// Limits a hostile client cannot pass: each request is sent in part over a raw socket, and the
/// server must answer before the rest of the body could have been spooled.
@Suite struct HostileLimitsTests {
    static let boundary = "kilnhostile"

    /// The head of a multipart request declaring `length` bytes, and the first file part's
    /// headers with `first` bytes of `sample`.
    static func request(_ path: String, key: String, length: Int, sample: String, first: Int = 8192) throws -> [UInt8] {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample(sample))).prefix(first))
        let head = "POST \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\n"
            + "Content-Type: multipart/form-data; boundary=\(boundary)\r\nContent-Length: \(length)\r\n\r\n"
            + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"part\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n"
        return Array(head.utf8) + bytes
    }

    /// Sent and read on a thread of its own: a blocking read on the test's pool would starve the
    /// server running in the same process.
    static func answer(_ server: TestServer, _ bytes: [UInt8]) async throws -> (status: Int, body: String) {
        let port = server.port
        let text = try await Tool.detached {
            let connection = try RawConnection(port: port, seconds: 20)
            connection.send(bytes)
            return connection.receive()
        }
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, text)
    }

    @Test func aCarouselForAPresetWithoutCarouselsIsRefusedAtItsFirstPart() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        // 25 videos declared (2.5 GB), 8 KiB sent: the answer comes without the rest.
        let bytes = try Self.request("/v1/carousels?preset=instagram-reel", key: server.writeKey, length: 25 * 100_000_000,
                                     sample: "video/no-audio.mp4")
        let reply = try await Self.answer(server, bytes)
        #expect(reply.status == 400 && reply.body.contains("MEDIA_002") && reply.body.contains("does not take carousels"),
                "\(reply.body)")
        #expect(Fixtures.files(under: server.directory + "/tmp").filter { !$0.hasSuffix(".sqlite") }.isEmpty == true)
    }

    @Test func aVideoInAnImageCarouselIsRefusedAtItsFirstBytes() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let bytes = try Self.request("/v1/carousels?preset=x", key: server.writeKey, length: 100_000_000,
                                     sample: "video/no-audio.mp4")
        let reply = try await Self.answer(server, bytes)
        #expect(reply.status == 400 && reply.body.contains("MEDIA_002") && reply.body.contains("does not take videos"),
                "\(reply.body)")
    }

    @Test func theChosenPresetsCapHoldsTheDeclaredLength() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        // Bluesky takes 4 images of at most 50 MiB: 300 MB is over, though other presets take more.
        let bytes = try Self.request("/v1/carousels?preset=bluesky", key: server.writeKey, length: 300_000_000,
                                     sample: "photo.jpg", first: 0)
        let reply = try await Self.answer(server, bytes)
        #expect(reply.status == 413 && reply.body.contains("FILE_004"), "\(reply.body)")
        // The same length for a preset that takes it is read on.
        let taken = try await server.request(.POST, "/v1/carousels?preset=tiktok", key: server.writeKey, headers: [
            ("Content-Type", "multipart/form-data; boundary=\(Self.boundary)")], body: Array("--\(Self.boundary)--\r\n".utf8))
        #expect(taken.code == "FILE_001", "an empty form, not a size refusal: \(taken.json)")
    }

    /// Chunks push an upload's expiry on, but never past its lifetime from creation: a client
    /// sending a byte now and then cannot hold the disk for ever.
    @Test func chunksDoNotExtendAnUploadPastItsLifetime() async throws {
        let server = try await TestServer.start { settings in
            settings.uploadExpiry = .seconds(3600)
            settings.uploadLifetime = .seconds(90)
        }
        defer { Task { await server.stop() } }
        let start = Date()
        let created = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "100000")])
        let end = Date()
        let location = try #require(created.headers.first(name: "Location"))
        func expires(_ reply: Reply) throws -> Date {
            let text = try #require(reply.headers.first(name: "Upload-Expires"))
            let format = DateFormatter()
            format.locale = Locale(identifier: "en_US_POSIX")
            format.timeZone = TimeZone(identifier: "GMT")
            format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            return try #require(format.date(from: text), "\(text)")
        }
        let head = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))).prefix(5000))
        let chunk = try await server.tus(.PATCH, location, headers: [("Upload-Offset", "0")], body: head,
                                         contentType: "application/offset+octet-stream")
        #expect(chunk.status == 204, "\(chunk.json)")
        for reply in [created, chunk] {
            let at = try expires(reply)
            // The lifetime (90 s from creation), not the hour after the last chunk.
            // (Created between `start` and `end`; the header counts whole seconds.)
            #expect(at.timeIntervalSince(start) >= 89 && at.timeIntervalSince(end) <= 91, "\(at) for a creation in \(start)...\(end)")
        }
    }

    @Test func uploadMetadataIsAtMost4KiB() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let big = "filename " + Data(repeating: 0x61, count: 3500).base64EncodedString()
        let refused = try await server.request(.POST, "/v1/uploads", key: server.writeKey, headers: [
            ("Tus-Resumable", "1.0.0"), ("Upload-Length", "1000"), ("Upload-Metadata", big)])
        #expect(refused.status == 400 && refused.code == "API_001", "\(refused.json)")
        let fine = try await server.request(.POST, "/v1/uploads", key: server.writeKey, headers: [
            ("Tus-Resumable", "1.0.0"), ("Upload-Length", "1000"), ("Upload-Metadata", "filename " + Data("a.jpg".utf8).base64EncodedString())])
        #expect(fine.status == 201)
    }
}
