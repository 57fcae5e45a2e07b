import Foundation
import KilnTestSupport
import Testing

/// Browsers on another origin: preflights answered before any key is asked for (tus routes
/// included), the allowed origin named on every answer with the headers a script must read
/// exposed, other origins refused, and nothing changed when no origin is allowed.
@Suite struct CORSTests {
    static let app = "http://app.example.test:5173"

    @Test func aPreflightFromAnAllowedOriginIsAnsweredForEveryV1Route() async throws {
        let server = try await TestServer.start { $0.corsOrigins = [Self.app] }
        defer { Task { await server.stop() } }
        for (method, path) in [("PATCH", "/v1/uploads/abc"), ("POST", "/v1/uploads"), ("HEAD", "/v1/uploads/abc"),
                               ("DELETE", "/v1/media/abc"), ("POST", "/v1/media"), ("GET", "/v1/jobs/abc"),
                               ("POST", "/v1/carousels")] {
            let reply = try await server.request(.OPTIONS, path, headers: [
                ("Origin", Self.app), ("Access-Control-Request-Method", method),
                ("Access-Control-Request-Headers", "authorization, tus-resumable, upload-offset, content-type"),
            ])
            #expect(reply.status == 204, "\(method) \(path): \(reply.status)")
            #expect(reply.headers.first(name: "Access-Control-Allow-Origin") == Self.app)
            let methods = reply.headers.first(name: "Access-Control-Allow-Methods") ?? ""
            #expect(methods.contains(method), "\(methods)")
            let allowed = (reply.headers.first(name: "Access-Control-Allow-Headers") ?? "").lowercased()
            for header in ["authorization", "tus-resumable", "upload-offset", "upload-length", "upload-metadata",
                           "upload-checksum", "idempotency-key", "content-type"] {
                #expect(allowed.contains(header), "\(header) in \(allowed)")
            }
        }
    }

    @Test func answersNameTheOriginAndExposeWhatAClientReads() async throws {
        let server = try await TestServer.start { $0.corsOrigins = [Self.app] }
        defer { Task { await server.stop() } }
        let reply = try await server.request(.GET, "/v1/presets", key: server.readKey, headers: [("Origin", Self.app)])
        #expect(reply.status == 200 && reply.headers.first(name: "Access-Control-Allow-Origin") == Self.app)
        #expect(reply.headers[canonicalForm: "Vary"].contains { $0.contains("Origin") })
        let exposed = (reply.headers.first(name: "Access-Control-Expose-Headers") ?? "").lowercased()
        for header in ["location", "upload-offset", "upload-length", "upload-expires", "kiln-location", "tus-resumable",
                       "tus-version", "tus-max-size", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                       "retry-after", "x-request-id"] {
            #expect(exposed.contains(header), "\(header) in \(exposed)")
        }
        // A refusal is readable too: the envelope of a missing key carries the origin.
        let refused = try await server.request(.GET, "/v1/presets", headers: [("Origin", Self.app)])
        #expect(refused.status == 401 && refused.headers.first(name: "Access-Control-Allow-Origin") == Self.app)
        // Same-origin and non-browser requests carry none of it.
        let plain = try await server.request(.GET, "/v1/presets", key: server.readKey)
        #expect(plain.headers.first(name: "Access-Control-Allow-Origin") == nil)
    }

    @Test func anotherOriginIsRefused() async throws {
        let server = try await TestServer.start { $0.corsOrigins = [Self.app] }
        defer { Task { await server.stop() } }
        let preflight = try await server.request(.OPTIONS, "/v1/media", headers: [
            ("Origin", "https://evil.example.test"), ("Access-Control-Request-Method", "POST")])
        #expect(preflight.status == 403 && preflight.headers.first(name: "Access-Control-Allow-Origin") == nil)
        #expect(String(decoding: preflight.body, as: UTF8.self).contains("AUTH_002"))
        let read = try await server.request(.GET, "/v1/presets", key: server.readKey,
                                            headers: [("Origin", "https://evil.example.test")])
        #expect(read.headers.first(name: "Access-Control-Allow-Origin") == nil, "the browser keeps the answer from the page")
    }

    /// A keyless `/fetch` answer may sit in a shared cache: every one varies by Origin, or a copy
    /// made without CORS headers (no Origin, or another one) would be handed to the allowed page.
    @Test func everyAnswerVariesByOriginWhenCORSIsOn() async throws {
        let server = try await TestServer.start { $0.corsOrigins = [Self.app] }
        defer { Task { await server.stop() } }
        let uploaded = try await server.upload(Fixtures.sample("photo.jpg"))
        let id = try #require(uploaded.data["id"] as? String)
        let minted = try await server.request(.POST, "/v1/media/\(id)/urls", key: server.readKey)
        let url = try #require((minted.data["urls"] as? [[String: Any]])?.first?["url"] as? String)
        let path = String(url[try #require(url.range(of: "/fetch/")).lowerBound...])
        for origin in [nil, "https://evil.example.test", Self.app] {
            let reply = try await server.request(.GET, path, headers: origin.map { [("Origin", $0)] } ?? [])
            #expect(reply.status == 200)
            #expect(reply.headers[canonicalForm: "Vary"].contains { $0.contains("Origin") }, "\(origin ?? "no origin")")
        }
        let refused = try await server.request(.GET, "/fetch/\(id)/thumb?expires=1&signature=x")
        #expect(refused.status == 403 && refused.headers[canonicalForm: "Vary"].contains { $0.contains("Origin") })
    }

    @Test func withNoOriginAllowedNothingChanges() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let reply = try await server.request(.OPTIONS, "/v1/uploads", headers: [
            ("Origin", Self.app), ("Access-Control-Request-Method", "POST")])
        // tus discovery, as without an Origin.
        #expect(reply.status == 204 && reply.headers.first(name: "Tus-Version") == "1.0.0")
        #expect(reply.headers.first(name: "Access-Control-Allow-Origin") == nil)
    }
}

/// The real thing: a page served from another origin (localhost on another port) runs a tus
/// upload against `kiln serve` in headless Chromium, reading the headers tus needs; a server that
/// does not allow that origin is refused by the browser itself.
@Suite(.serialized) struct CORSBrowserTests {
    @Test func aPageOnAnotherOriginRunsATusUpload() async throws {
        let pagePort = try Loopback.freePort()
        let origin = "http://localhost:\(pagePort)"
        let server = try await TestServer.start { $0.corsOrigins = [origin] }
        defer { Task { await server.stop() } }
        let other = try await TestServer.start()
        defer { Task { await other.stop() } }
        let photo = Fixtures.sample("photo.jpg")
        let script = Fixtures.root + "/Tests/Support/cors_page_test.py"
        let run = try await Tool.detached {
            try Tool.run("python3", [script, String(pagePort), "http://127.0.0.1:\(server.port)",
                                     "http://127.0.0.1:\(other.port)", server.writeKey, photo])
        }
        #expect(run.status == 0, "\(run.stderr.suffix(4_000))")
        let page = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any],
                                "\(String(decoding: run.stdout, as: UTF8.self))")
        #expect(page["error"] == nil, "\(page)")
        #expect(page["origin"] as? String == origin)
        #expect(page["create"] as? Int == 201 && (page["location"] as? String)?.hasPrefix("/v1/uploads/") == true, "\(page)")
        #expect((page["request_id"] as? String)?.hasPrefix("req_") == true && page["rate_limit"] as? String == "600")
        let size = try #require((try FileManager.default.attributesOfItem(atPath: photo)[.size] as? Int))
        #expect(page["offsets"] as? [Int] == [size / 2, size] && page["head_offset"] as? Int == size, "\(page)")
        #expect(page["patch"] as? Int == 204 && (page["kiln_location"] as? String)?.hasPrefix("/v1/media/") == true)
        #expect(page["media"] as? Int == 200)
        let digest = try await Tool.check("sha256sum", [photo]).stdout
        #expect(page["source_sha256"] as? String == String(decoding: digest.prefix(64), as: UTF8.self))
        // Not allowed there: the browser blocks the call before the page sees any answer.
        #expect(page["other"] == nil && (page["other_error"] as? String)?.contains("Failed to fetch") == true, "\(page)")
    }
}

/// Answers made for a key are for its caller's cache only: a shared cache (a CDN, a proxy) in
/// front of Kiln must not hand one tenant's media to another.
@Suite struct CacheControlTests {
    @Test func answersToAKeyedRequestArePrivate() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let created = try await server.upload(Fixtures.sample("small.jpg"))
        #expect(created.status == 201, "\(created.json)")
        #expect(created.headers.first(name: "Cache-Control") == "private")
        let id = try #require(created.data["id"] as? String)
        let item = try await server.request(.GET, "/v1/media/\(id)", key: server.readKey)
        #expect(item.status == 200 && item.headers.first(name: "Cache-Control") == "private")
        let bytes = try await server.request(.GET, "/v1/media/\(id)/display", key: server.readKey)
        #expect(bytes.status == 200 && bytes.headers.first(name: "Cache-Control") == "private, max-age=31536000, immutable")
        let refused = try await server.request(.GET, "/v1/media/\(id)", key: "kiln_not_a_key")
        #expect(refused.status == 401)
        // Keyless routes keep their own policy (the page, health, metrics).
        #expect(try await server.request(.GET, "/health").headers.first(name: "Cache-Control") != "private")
    }
}
