import AsyncHTTPClient
import Foundation
@testable import KilnServer
import KilnTestSupport
import Testing

/// Keyless URLs of renditions (issue 21, item 4): a platform fetches them with no key, with
/// exact headers, HEAD and Range; an altered or expired one is AUTH_003; another tenant cannot
/// mint them; a deleted item is 404.
@Suite struct FetchURLTests {
    static func start() async throws -> TestServer {
        try await TestServer.start { $0.urlSecrets = ["new-secret", "old-secret"] }
    }

    /// The path and query of an absolute URL on the test server.
    static func local(_ url: String) -> String {
        guard let range = url.range(of: "/fetch/") else { return url }
        return String(url[range.lowerBound...])
    }

    @Test func anItemsRenditionsCanBeFetchedWithNoKey() async throws {
        let server = try await Self.start()
        defer { Task { await server.stop() } }
        let uploaded = try await server.upload(Fixtures.sample("photo.jpg"))
        let id = try #require(uploaded.data["id"] as? String)
        let rendition = try #require((uploaded.data["renditions"] as? [[String: Any]])?.first)
        let url = try #require(rendition["fetch_url"] as? String)
        #expect(url.hasPrefix("http://127.0.0.1:\(server.port)/fetch/\(id)/"), "\(url)")
        let expiresAt = try #require((rendition["fetch_expires_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
        #expect(abs(expiresAt.timeIntervalSinceNow - 7 * 24 * 3600) < 120, "the longest life by default")

        let lifeLeft = Int(expiresAt.timeIntervalSinceNow) + 1
        let fetched = try await server.request(.GET, Self.local(url))
        #expect(fetched.status == 200)
        #expect(fetched.body.count == rendition["bytes"] as? Int)
        #expect(fetched.headers.first(name: "Content-Length") == String(rendition["bytes"] as? Int ?? -1))
        #expect(fetched.headers.first(name: "Content-Type")?.hasPrefix("image/") == true)
        #expect(fetched.headers.first(name: "ETag") == "\"\(rendition["sha256"] as? String ?? "")\"")
        let maxAge = fetched.headers.first(name: "Cache-Control")?.split(separator: "=").last.flatMap { Int($0) } ?? .max
        #expect(maxAge <= lifeLeft, "cached no longer than the URL lives")
        let head = try await server.request(.HEAD, Self.local(url))
        #expect(head.status == 200 && head.body.isEmpty && head.headers.first(name: "Content-Length") == String(rendition["bytes"] as? Int ?? -1))
        let part = try await server.request(.GET, Self.local(url), headers: [("Range", "bytes=0-99")])
        #expect(part.status == 206 && part.body.count == 100)

        // Deleted: its URL no longer verifies (the record that named its tenant is gone), and it
        // answers as any id no one holds does.
        #expect(try await server.request(.DELETE, "/v1/media/\(id)", key: server.writeKey).status == 200)
        let gone = try await server.request(.GET, Self.local(url))
        #expect(gone.status == 403 && gone.code == "AUTH_003")
    }

    @Test func urlsAreMintedForTheTenantOnlyAndRefusedWhenAlteredOrExpired() async throws {
        let server = try await Self.start()
        defer { Task { await server.stop() } }
        let uploaded = try await server.upload(Fixtures.sample("photo.jpg"))
        let id = try #require(uploaded.data["id"] as? String)
        let json = ("Content-Type", "application/json")
        let minted = try await server.request(.POST, "/v1/media/\(id)/urls", key: server.readKey, headers: [json],
                                              body: Array(#"{"expires_in": 600, "renditions": ["thumb"]}"#.utf8))
        #expect(minted.status == 200, "\(minted.json)")
        let link = try #require((minted.data["urls"] as? [[String: Any]])?.first)
        #expect(link["rendition"] as? String == "thumb" && (minted.data["urls"] as? [Any])?.count == 1)
        let expiresAt = try #require((link["expires_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
        #expect(abs(expiresAt.timeIntervalSinceNow - 600) < 60)
        let path = Self.local(try #require(link["url"] as? String))
        #expect(try await server.request(.GET, path).status == 200)

        // Another tenant cannot mint them; a life past the maximum is refused.
        #expect(try await server.request(.POST, "/v1/media/\(id)/urls", key: server.rivalKey).status == 404)
        let tooLong = try await server.request(.POST, "/v1/media/\(id)/urls", key: server.readKey, headers: [json],
                                               body: Array(#"{"expires_in": 999999999}"#.utf8))
        #expect(tooLong.code == "API_001")

        // Altered: the signature, the expiry, or the rendition.
        func code(_ path: String) async throws -> (Int, String?) {
            let reply = try await server.request(.GET, path)
            return (reply.status, reply.code)
        }
        let flipped = path.hasSuffix("A") ? String(path.dropLast()) + "B" : String(path.dropLast()) + "A"
        #expect(try await code(flipped) == (403, "AUTH_003"))
        let later = path.replacingOccurrences(of: "expires=\(Int(expiresAt.timeIntervalSince1970))",
                                              with: "expires=\(Int(expiresAt.timeIntervalSince1970) + 3600)")
        #expect(try await code(later) == (403, "AUTH_003"))
        #expect(try await code(path.replacingOccurrences(of: "/thumb?", with: "/display?")) == (403, "AUTH_003"))
        #expect(try await code("/fetch/\(id)/thumb") == (403, "AUTH_003"))
        // One spelling of the expiry: a sign or leading zeros is another URL, not this one.
        let seconds = "\(Int(expiresAt.timeIntervalSince1970))"
        #expect(try await code(path.replacingOccurrences(of: "expires=" + seconds, with: "expires=+" + seconds)) == (403, "AUTH_003"))
        #expect(try await code(path.replacingOccurrences(of: "expires=" + seconds, with: "expires=000" + seconds)) == (403, "AUTH_003"))

        // No keyless oracle: an id no one holds answers exactly as a held one with a bad signature.
        let unknownID = String(repeating: "ab", count: 32)
        let held = try await server.request(.GET, flipped)
        let unheld = try await server.request(.GET, flipped.replacingOccurrences(of: id, with: unknownID))
        #expect(unheld.status == held.status && unheld.code == held.code)
        let message = { (reply: Reply) in ((reply.json["error"] as? [String: Any])?["message"] as? String) ?? "" }
        #expect(message(unheld) == message(held) && !message(held).isEmpty)

        // Expired (signed by the server's own secret, an hour ago); an old secret still verifies.
        let signer = server.server.fetchURLs(port: server.port)
        let tenant = "test"
        let expired = signer.path(tenant: tenant, id: id, rendition: "thumb", expires: Date().addingTimeInterval(-3600))
        let answer = try await server.request(.GET, expired)
        #expect(answer.status == 403 && answer.code == "AUTH_003" && (answer.json["error"] as? [String: Any])?["message"].map { "\($0)" }?.contains("expired") == true)
        let rotated = FetchURLs(secrets: ["old-secret"], maxLifetime: .seconds(600), base: "")
            .path(tenant: tenant, id: id, rendition: "thumb", expires: Date().addingTimeInterval(600))
        #expect(try await server.request(.GET, rotated).status == 200, "a URL signed before the rotation still works")
        let stranger = FetchURLs(secrets: ["not-ours"], maxLifetime: .seconds(600), base: "")
            .path(tenant: tenant, id: id, rendition: "thumb", expires: Date().addingTimeInterval(600))
        #expect(try await server.request(.GET, stranger).code == "AUTH_003")
        // Signed for another tenant: not this item's.
        let wrongTenant = signer.path(tenant: "rival", id: id, rendition: "thumb", expires: Date().addingTimeInterval(600))
        #expect(try await server.request(.GET, wrongTenant).code == "AUTH_003")
    }
}
