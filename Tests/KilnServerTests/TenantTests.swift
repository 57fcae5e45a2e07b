import AsyncHTTPClient
import Foundation
import KilnDatabase
import KilnTestSupport
import Testing

/// Two tenants on one server (issue 20, item 1): the test tenant's write and read keys share
/// everything it makes; the rival tenant's key is answered 404 for all of it, on every route,
/// exactly as for what does not exist, and learns nothing from sending the same bytes.
@Suite struct TenantTests {
    static let multipart = ("Content-Type", "multipart/form-data; boundary=\(TestServer.boundary)")

    @Test func anotherTenantGets404ForEveryRouteAndLearnsNothingFromTheSameBytes() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
        func send(_ name: String, key: String) async throws -> Reply {
            try await server.request(.POST, "/v1/media", key: key, headers: [Self.multipart],
                                     body: TestServer.multipart(files: [("file", name, bytes)]))
        }
        let ours = try await send("our-launch.jpg", key: server.writeKey)
        #expect(ours.status == 201, "\(ours.json)")
        let id = try #require(ours.data["id"] as? String)
        let rendition = try #require((ours.data["renditions"] as? [[String: Any]])?.first?["name"] as? String)

        // The same bytes and options from the rival: an item of its own, made as if new.
        let theirs = try await send("rival.jpg", key: server.rivalKey)
        #expect(theirs.status == 201 && theirs.data["reused"] == nil, "the rival must not learn the bytes were seen: \(theirs.json)")
        let theirID = try #require(theirs.data["id"] as? String)
        #expect(theirID != id)
        #expect(theirs.data["input"] as? String == "rival.jpg")
        // The test tenant's own second upload of them is its item again.
        let again = try await send("again.jpg", key: server.writeKey)
        #expect(again.status == 200 && again.data["id"] as? String == id && again.data["reused"] as? Bool == true)

        // Reads: the tenant's other key sees it with its own file name; the rival sees nothing.
        let read = try await server.request(.GET, "/v1/media/\(id)", key: server.readKey)
        #expect(read.status == 200 && read.data["input"] as? String == "our-launch.jpg")
        let unknown = String(repeating: "0", count: 64)
        for path in ["/v1/media/\(id)", "/v1/media/\(id)/\(rendition)"] {
            let refused = try await server.request(.GET, path, key: server.rivalKey)
            let missing = try await server.request(.GET, path.replacingOccurrences(of: id, with: unknown), key: server.rivalKey)
            #expect(refused.status == 404 && refused.code == "API_002", "\(path)")
            #expect(refused.code == missing.code && Self.withoutIDs(refused, id) == Self.withoutIDs(missing, unknown),
                    "another tenant's media reads as one that does not exist")
            #expect(!String(decoding: refused.body, as: UTF8.self).contains("our-launch"))
        }
        #expect(try await server.request(.GET, "/v1/media/\(id)/\(rendition)", key: server.readKey).status == 200)

        // Deletes: the rival cannot; its delete of its own leaves ours whole.
        #expect(try await server.request(.DELETE, "/v1/media/\(id)", key: server.rivalKey).status == 404)
        #expect(try await server.request(.DELETE, "/v1/media/\(theirID)", key: server.rivalKey).status == 200)
        #expect(try await server.request(.GET, "/v1/media/\(id)/\(rendition)", key: server.readKey).status == 200)
        let store = try #require(server.server.pipeline.store)
        let (theirsKept, oursKept) = (try await store.exists(theirID), try await store.exists(id))
        #expect(!theirsKept && oursKept)
        // Our delete by our other write key... the read key cannot write; the write key can.
        #expect(try await server.request(.DELETE, "/v1/media/\(id)", key: server.readKey).code == "AUTH_002")
        #expect(try await server.request(.DELETE, "/v1/media/\(id)", key: server.writeKey).status == 200)
        #expect(try await !store.exists(id), "stored bytes go when nothing holds them")
    }

    @Test func jobsCarouselsAndResumableUploadsAreTheTenants() async throws {
        let server = try await TestServer.start { $0.engine.jobs = 1 }
        defer { Task { await server.stop() } }
        // A job: the rival can neither poll nor cancel it, and its own copy is its own job.
        let video = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("video/no-audio.mp4"))))
        func sendVideo(_ key: String) async throws -> String? {
            let reply = try await server.request(.POST, "/v1/media", key: key, headers: [Self.multipart],
                                                 body: TestServer.multipart(files: [("file", "clip.mp4", video)]))
            return (reply.data["job"] as? [String: Any])?["id"] as? String
        }
        let job = try #require(try await sendVideo(server.writeKey))
        let rivalJob = try #require(try await sendVideo(server.rivalKey))
        #expect(rivalJob != job, "job dedupe is per tenant")
        #expect(try await server.request(.GET, "/v1/jobs/\(job)", key: server.rivalKey).status == 404)
        #expect(try await server.request(.GET, "/v1/jobs/\(job)?wait=true", key: server.rivalKey).status == 404)
        #expect(try await server.request(.DELETE, "/v1/jobs/\(job)", key: server.rivalKey).status == 404)
        let finished = try await server.finishedJob(job)
        #expect(finished.data["status"] as? String == "succeeded", "the rival's cancel did not reach it: \(finished.json)")
        let media = try #require((finished.data["media"] as? [String: Any])?["id"] as? String)
        #expect(try await server.request(.GET, "/v1/media/\(media)", key: server.readKey).status == 200)
        #expect(try await server.request(.GET, "/v1/media/\(media)", key: server.rivalKey).status == 404)
        #expect(try await server.request(.DELETE, "/v1/jobs/\(rivalJob)", key: server.writeKey).status == 404)

        // A carousel: its record and items are the tenant's; deleting it takes the items nothing else holds.
        let images = try ["orient-1.jpg", "orient-3.jpg"].map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample($0)))) }
        let carousel = try await server.request(.POST, "/v1/carousels", key: server.writeKey, headers: [Self.multipart],
                                                body: TestServer.multipart(files: [("file", "1.jpg", images[0]), ("file", "2.jpg", images[1])]))
        #expect(carousel.status == 201, "\(carousel.json)")
        let carouselID = try #require((carousel.data["carousel"] as? [String: Any])?["id"] as? String)
        let items = try #require((carousel.data["carousel"] as? [String: Any])?["items"] as? [String])
        for id in [carouselID] + items {
            #expect(try await server.request(.GET, "/v1/media/\(id)", key: server.rivalKey).status == 404)
            #expect(try await server.request(.GET, "/v1/media/\(id)", key: server.readKey).status == 200)
        }
        #expect(try await server.request(.DELETE, "/v1/media/\(carouselID)", key: server.rivalKey).status == 404)
        // An item the carousel lists is not deleted from under it: 409, and the carousel still shows both.
        let held = try await server.request(.DELETE, "/v1/media/\(items[0])", key: server.writeKey)
        #expect(held.status == 409 && held.code == "API_010", "\(held.json)")
        let shown = try await server.request(.GET, "/v1/media/\(carouselID)", key: server.readKey)
        #expect((shown.data["items"] as? [[String: Any]])?.count == 2, "\(shown.json)")
        // No server path in an answer (the carousel's folder under the data directory was shown).
        for reply in [carousel, shown] {
            #expect(!String(decoding: reply.body, as: UTF8.self).contains(server.directory), "\(reply.json)")
            #expect((reply.data["carousel"] as? [String: Any])?["location"] == nil)
        }
        #expect(try await server.request(.GET, "/v1/media/\(items[0])/thumb", key: server.readKey).status == 200)
        #expect(try await server.request(.DELETE, "/v1/media/\(carouselID)", key: server.writeKey).status == 200)
        let store = try #require(server.server.pipeline.store)
        for id in [carouselID] + items { #expect(try await !store.exists(id)) }

        // A resumable upload: every tus route answers the rival 404.
        let created = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "10")])
        let location = try #require(created.headers.first(name: "Location"))
        let chunk = [("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream")]
        #expect(try await server.tus(.HEAD, location, key: server.rivalKey).status == 404)
        #expect(try await server.tus(.GET, location, key: server.rivalKey).status == 404)
        #expect(try await server.tus(.PATCH, location, key: server.rivalKey, headers: chunk, body: Array("0123".utf8)).status == 404)
        #expect(try await server.tus(.POST, location, key: server.rivalKey, headers: [("X-HTTP-Method-Override", "DELETE")]).status == 404)
        #expect(try await server.tus(.DELETE, location, key: server.rivalKey).status == 404)
        let head = try await server.tus(.HEAD, location, key: server.readKey)
        #expect(head.status == 200 && head.headers.first(name: "Upload-Offset") == "0", "nothing the rival sent counted")
    }

    @Test func deliveriesAreSeenByTheTenantsKeysOnly() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let keys = server.server.state.keys
        let writer = try #require(try await keys.list(tenant: "test").first { $0.scope == .write })
        #expect(try await keys.setWebhook(writer.id, .init(url: "http://hooks.example.com/kiln", secrets: ["s"])))
        let uploaded = try await server.upload(Fixtures.sample("grey.png"))
        let id = try #require(uploaded.data["id"] as? String)
        #expect(try await server.request(.DELETE, "/v1/media/\(id)", key: server.writeKey).status == 200)
        func log(_ key: String) async throws -> [[String: Any]] {
            try await server.request(.GET, "/v1/webhooks/deliveries", key: key).data["deliveries"] as? [[String: Any]] ?? []
        }
        #expect(try await log(server.readKey).contains { $0["type"] as? String == "media.deleted" }, "the tenant's other key sees it")
        #expect(try await log(server.rivalKey).isEmpty)
    }

    /// An admin key makes, lists and revokes keys over HTTP; other keys cannot.
    @Test func anAdminKeyManagesKeysForTenants() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let json = ("Content-Type", "application/json")
        func create(_ body: String, key: String) async throws -> Reply {
            try await server.request(.POST, "/v1/keys", key: key, headers: [json], body: Array(body.utf8))
        }
        #expect(try await create(#"{"name": "c1", "scope": "media:write", "tenant": "customer-1"}"#, key: server.writeKey).code == "AUTH_002")
        #expect(try await server.request(.GET, "/v1/keys", key: server.writeKey).code == "AUTH_002")

        let made = try await create(#"{"name": "c1", "scope": "media:write", "tenant": "customer-1"}"#, key: server.adminKey)
        #expect(made.status == 201, "\(made.json)")
        #expect(made.headers.first(name: "Cache-Control") == "no-store")
        let secret = try #require(made.data["secret"] as? String)
        let key = try #require(made.data["key"] as? [String: Any])
        let keyID = try #require(key["id"] as? String)
        #expect(key["tenant"] as? String == "customer-1" && key["scope"] as? String == "media:write" && key["hash"] == nil)
        // The new key works, in its own tenant.
        let uploaded = try await server.upload(Fixtures.sample("grey.png"), key: secret)
        let id = try #require(uploaded.data["id"] as? String)
        #expect(try await server.request(.GET, "/v1/media/\(id)", key: server.readKey).status == 404)
        #expect(try await server.request(.GET, "/v1/media/\(id)", key: secret).status == 200)
        // A second key for the customer shares its media; one made without a tenant gets its own.
        let second = try #require(try await create(#"{"name": "c1 reader", "scope": "media:read", "tenant": "customer-1"}"#,
                                                   key: server.adminKey).data["secret"] as? String)
        #expect(try await server.request(.GET, "/v1/media/\(id)", key: second).status == 200)
        let alone = try await create(#"{"name": "solo", "scope": "media:read"}"#, key: server.adminKey)
        let aloneKey = try #require(alone.data["key"] as? [String: Any])
        #expect(aloneKey["tenant"] as? String == aloneKey["id"] as? String)

        let listed = try await server.request(.GET, "/v1/keys?tenant=customer-1", key: server.adminKey)
        let names = (listed.data["keys"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names == ["c1", "c1 reader"])
        #expect(!String(decoding: listed.body, as: UTF8.self).contains("kiln_"), "no secret is listed")

        // Bad asks say what to send.
        #expect(try await create(#"{"name": "x", "scope": "root"}"#, key: server.adminKey).code == "API_001")
        #expect(try await create(#"{"name": "x", "scope": "media:read", "tenant": "a/b"}"#, key: server.adminKey).code == "API_001")
        #expect(try await server.request(.POST, "/v1/keys", key: server.adminKey, body: Array("{}".utf8)).code == "API_001")

        // Revoked: refused at once.
        let revoked = try await server.request(.DELETE, "/v1/keys/\(keyID)", key: server.adminKey)
        #expect(revoked.status == 200 && revoked.data["revoked_at"] is String)
        #expect(try await server.request(.GET, "/v1/media/\(id)", key: secret).code == "AUTH_001")
        #expect(try await server.request(.DELETE, "/v1/keys/nosuchkey0", key: server.adminKey).status == 404)
    }

    /// Each tenant may hold so many unfinished resumable uploads and bytes in them; the rival's
    /// are counted apart.
    @Test func openResumableUploadsAreCappedPerTenant() async throws {
        let server = try await TestServer.start {
            $0.tenantOpenUploads = 2
            $0.tenantUploadBytes = 1000
        }
        defer { Task { await server.stop() } }
        let first = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "600")])
        #expect(first.status == 201)
        let over = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "500")])
        #expect(over.status == 429 && over.code == "API_004" && over.headers.first(name: "Retry-After") != nil, "\(over.json)")
        let deferred = try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Defer-Length", "1")])
        #expect(deferred.status == 201)
        let colleague = try await server.server.state.keys.create(name: "colleague", scope: .write, tenant: "test").secret
        let third = try await server.tus(.POST, "/v1/uploads", key: colleague, headers: [("Upload-Length", "1")])
        #expect(third.code == "API_004", "two open uploads are the tenant's cap, whichever key made them")
        // A deferred upload grows only into the bytes left (400 of 1000).
        let location = try #require(deferred.headers.first(name: "Location"))
        let chunk = [("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream")]
        let big = try await server.tus(.PATCH, location, headers: chunk + [("Upload-Length", "900")], body: [UInt8](repeating: 1, count: 10))
        #expect(big.code == "API_004", "\(big.json)")
        #expect(try await server.tus(.HEAD, location).headers.first(name: "Upload-Offset") == "0")
        // The rival is counted on its own.
        #expect(try await server.tus(.POST, "/v1/uploads", key: server.rivalKey, headers: [("Upload-Length", "900")]).status == 201)
        // A terminated upload frees its place.
        let firstLocation = try #require(first.headers.first(name: "Location"))
        #expect(try await server.tus(.DELETE, firstLocation).status == 204)
        #expect(try await server.tus(.POST, "/v1/uploads", headers: [("Upload-Length", "500")]).status == 201)
    }

    /// An answer with the ids taken out (two 404s differ only in the id they name and their request id).
    static func withoutIDs(_ reply: Reply, _ id: String) -> String {
        var error = (reply.json["error"] as? [String: Any]) ?? [:]
        error["request_id"] = nil
        let text = String(decoding: (try? JSONSerialization.data(withJSONObject: error, options: .sortedKeys)) ?? Data(), as: UTF8.self)
        return text.replacingOccurrences(of: id, with: "ID")
    }
}
