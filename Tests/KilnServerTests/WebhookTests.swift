import AsyncHTTPClient
import Foundation
import KilnCore
import KilnDatabase
@testable import KilnServer
import KilnTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Webhooks end to end: a receiver on loopback (Tests/Support/webhook_receiver.py, which checks
/// the signatures with Python's hmac) that fails its first posts; events arrive signed, at least
/// once, after outages, restarts and secret rotations, and the delivery log says what happened.
@Suite(.serialized) struct WebhookTests {
    /// A receiver failing its first `failFirst` posts, checking signatures against `secrets`.
    final class Receiver: Sendable {
        let harness: Harness
        let log: String
        let url: String

        init(failFirst: Int = 0, secrets: [String], redirect: Bool = false, hang: Bool = false) throws {
            log = Fixtures.scratchDirectory("kiln-webhook-log") + ".jsonl"
            harness = try Harness(script: "webhook_receiver.py",
                                  arguments: [log, String(failFirst), secrets.joined(separator: ",")]
                                      + (redirect ? ["redirect"] : hang ? ["hang"] : []),
                                  timeout: 30, hint: "python3's http.server")
            url = "http://127.0.0.1:\(harness.info["port"] as? Int ?? 0)/hooks"
        }

        deinit {
            harness.stop()
            try? FileManager.default.removeItem(atPath: log)
        }

        var posts: [[String: Any]] {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        /// The posts once `done` holds for them (bounded).
        func wait(seconds: Double = 60, until done: ([[String: Any]]) -> Bool) async throws -> [[String: Any]] {
            let deadline = Date().addingTimeInterval(seconds)
            while true {
                let posts = posts
                if done(posts) { return posts }
                guard Date() < deadline else { throw Tool.Failure(description: "the receiver got only \(posts)") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        /// The posts once one with event `type` was answered 204.
        func delivered(_ type: String) async throws -> [[String: Any]] {
            try await wait { $0.contains { $0["event"] as? String == type && $0["answered"] as? Int == 204 } }
        }
    }

    static func fast(_ settings: inout ServerSettings, _ receiver: Receiver, secrets: [String]) {
        settings.webhookURLs = [receiver.url]
        settings.webhookSecrets = secrets
        settings.webhookBackoff = .milliseconds(100)
        settings.webhookPoll = .milliseconds(50)
        // The receivers are on loopback: keys' endpoints may be internal here (tested apart).
        settings.webhookAllowPrivate = true
    }

    static func keyID(_ key: String) -> String { String(key.split(separator: "_")[1]) }

    @Test func aJobEventArrivesSignedAfterAReceiverOutage() async throws {
        let receiver = try Receiver(failFirst: 2, secrets: ["s3cret"])
        let server = try await TestServer.start { Self.fast(&$0, receiver, secrets: ["s3cret"]) }
        defer { Task { await server.stop() } }
        let answer = try await server.upload(Fixtures.sample("video/no-audio.mp4"))
        let job = try #require((answer.data["job"] as? [String: Any])?["id"] as? String)
        #expect(try await server.finishedJob(job).data["status"] as? String == "succeeded")

        let posts = try await receiver.delivered("job.succeeded")
        // Two refused attempts, then the third accepted: one event, one delivery, three posts.
        #expect(posts.map { $0["answered"] as? Int } == [503, 503, 204])
        #expect(Set(posts.compactMap { $0["event_id"] as? String }) == ["evt_" + job])
        #expect(Set(posts.compactMap { $0["delivery"] as? String }).count == 1)
        for post in posts { #expect(post["verified"] as? [Bool] == [true] && post["signatures"] as? Int == 1) }
        // The envelope, with the job as GET /v1/jobs shows it.
        let body = try #require(posts.last?["body"] as? [String: Any])
        #expect(body["success"] as? Bool == true)
        let data = try #require(body["data"] as? [String: Any])
        #expect(data["type"] as? String == "job.succeeded" && data["id"] as? String == "evt_" + job)
        let shown = try #require(data["job"] as? [String: Any])
        #expect(shown["id"] as? String == job && shown["status"] as? String == "succeeded")
        #expect((shown["media"] as? [String: Any])?["id"] is String)

        // The delivery log, in the database; through the API a key sees only its own endpoint's
        // deliveries, never the server's (its URL is the operator's).
        // The receiver logs its answer before the server has read it: the attempt is recorded just after.
        let deadline = ContinuousClock.now + .seconds(30)
        var delivery = try #require(try await server.server.state.outbox.log(tenant: nil, limit: 10).first { $0.eventID == "evt_" + job })
        while delivery.status != .delivered, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            delivery = try #require(try await server.server.state.outbox.log(tenant: nil, limit: 10).first { $0.eventID == "evt_" + job })
        }
        #expect(delivery.status == .delivered && delivery.attempts == 3 && delivery.lastStatus == 204 && delivery.url == receiver.url)
        for key in [server.writeKey, server.readKey] {
            #expect((try await server.request(.GET, "/v1/webhooks/deliveries", key: key).data["deliveries"] as? [Any])?.isEmpty == true,
                    "no key sees the server's webhook")
        }
        #expect(try await server.request(.GET, "/v1/webhooks/deliveries?limit=0", key: server.writeKey).code == "API_001")
        let metrics = String(decoding: try await server.request(.GET, "/metrics").body, as: UTF8.self)
        for line in [#"kiln_webhook_attempts_total{outcome="retried"} 2"#, #"kiln_webhook_attempts_total{outcome="delivered"} 1"#] {
            #expect(metrics.contains(line), "\(line)")
        }
    }

    @Test func aKeysOwnWebhookRotatesItsSecretWithoutAGap() async throws {
        let everything = try Receiver(secrets: ["server"])
        let own = try Receiver(secrets: ["old", "new"])
        let server = try await TestServer.start { Self.fast(&$0, everything, secrets: ["server"]) }
        defer { Task { await server.stop() } }
        let keys = server.server.state.keys
        let key = Self.keyID(server.writeKey)
        #expect(try await keys.setWebhook(key, .init(url: own.url, secrets: ["old", "new"])))

        func deleteAnImage(_ sample: String) async throws -> String {
            let item = try await server.upload(Fixtures.sample(sample))
            let id = try #require(item.data["id"] as? String)
            #expect(try await server.request(.DELETE, "/v1/media/\(id)", key: server.writeKey).status == 200)
            return id
        }
        // While rotating, both secrets sign: a receiver on either accepts.
        let first = try await deleteAnImage("photo.jpg")
        let during = try await own.delivered("media.deleted")
        #expect(during.count == 1 && during[0]["signatures"] as? Int == 2 && during[0]["verified"] as? [Bool] == [true, true])
        let deleted = ((during[0]["body"] as? [String: Any])?["data"] as? [String: Any])?["media"] as? [String: Any]
        #expect(deleted?["id"] as? String == first)
        let all = try await everything.delivered("media.deleted")
        #expect(all.count == 1 && all[0]["verified"] as? [Bool] == [true])

        // The old secret retired: only the new one signs.
        #expect(try await keys.setWebhook(key, .init(url: own.url, secrets: ["new"])))
        _ = try await deleteAnImage("grey.png")
        let after = try await own.wait { $0.count == 2 }
        #expect(after[1]["signatures"] as? Int == 1 && after[1]["verified"] as? [Bool] == [false, true])

        // The key's log: its own endpoint's deliveries only.
        let log = try await server.request(.GET, "/v1/webhooks/deliveries", key: server.writeKey)
        let urls = Set((log.data["deliveries"] as? [[String: Any]] ?? []).compactMap { $0["url"] as? String })
        #expect(urls == [own.url], "\(urls)")
    }

    /// A key's endpoint may not reach inside Kiln's network (SSRF): refused when set, and at each
    /// delivery (a name can be pointed elsewhere after it was set) unless the operator allows it;
    /// a redirect is never followed, and the receiver's answer is not kept.
    @Test func aKeysEndpointCannotReachInsideTheNetwork() async throws {
        for url in ["http://127.0.0.1:8080/x", "http://localhost/x", "http://169.254.169.254/latest/meta-data", "http://10.0.0.7/",
                    "http://[::1]/x", "http://[fd00::1]/x", "http://0.0.0.0/"] {
            #expect(throws: KilnError.self, "\(url)") { try WebhookSettings.check(url: url, keyEndpoint: true) }
            #expect(throws: Never.self) { try WebhookSettings.check(url: url, keyEndpoint: true, allowPrivate: true) }
            #expect(throws: Never.self) { try WebhookSettings.check(url: url) }
        }
        #expect(EndpointGuard.isInternal([100, 64, 0, 1]) && EndpointGuard.isInternal([172, 31, 255, 255]))
        #expect(!EndpointGuard.isInternal([8, 8, 8, 8]) && !EndpointGuard.isInternal([172, 32, 0, 1]))
        #expect(!EndpointGuard.isInternal([0x26, 0x06, 0x47, 0] + [UInt8](repeating: 0, count: 12)))
        // The IPv6 forms that carry an IPv4 address or reach a local network: refused.
        for url in ["http://[::127.0.0.1]/x", "http://[64:ff9b::a9fe:a9fe]/x", "http://[64:ff9b:1::1]/x",
                    "http://[2002:a9fe:a9fe::1]/x", "http://[2001:0:a9fe:a9fe::1]/x", "http://[fec0::1]/x"] {
            #expect(throws: KilnError.self, "\(url)") { try WebhookSettings.check(url: url, keyEndpoint: true) }
        }
        // A name that does not resolve may be set (its DNS may come later), but nothing is sent to it.
        #expect(throws: Never.self) { try WebhookSettings.check(url: "http://kiln-no-such-host.invalid/x", keyEndpoint: true) }
        #expect(await EndpointGuard.vet("http://kiln-no-such-host.invalid/x") == .unresolved("kiln-no-such-host.invalid"))
        #expect(EndpointGuard.verdict(host: "a.test", addresses: [[8, 8, 8, 8], [10, 0, 0, 1]]) == .internalAddress("10.0.0.1"),
                "every address is checked, not the first")
        #expect(EndpointGuard.verdict(host: "a.test", addresses: [[8, 8, 8, 8]]) == .allowed(host: "a.test", address: "8.8.8.8"))

        let own = try Receiver(secrets: ["s"])
        let server = try await TestServer.start { settings in
            settings.webhookBackoff = .milliseconds(100)
            settings.webhookPoll = .milliseconds(50)
        }
        defer { Task { await server.stop() } }
        // Set behind the check's back, as a name later pointed at loopback would be.
        #expect(try await server.server.state.keys.setWebhook(Self.keyID(server.writeKey), .init(url: own.url, secrets: ["s"])))
        let item = try await server.upload(Fixtures.sample("photo.jpg"))
        #expect(try await server.request(.DELETE, "/v1/media/\(try #require(item.data["id"] as? String))", key: server.writeKey).status == 200)
        let outbox = server.server.state.outbox
        let refused = try await Self.ended(outbox)
        #expect(refused.status == .failed && refused.attempts == 1 && refused.lastError?.contains("internal address 127.0.0.1") == true,
                "\(refused)")
        #expect(own.posts.isEmpty, "nothing was sent")
    }

    /// Names are resolved on threads of their own, a few at once: resolvers that hang (a tarpit
    /// DNS server) do not hold the cooperative pool, and a caller waits a bounded time.
    @Test func aHangingResolverHoldsNeitherThePoolNorTheCaller() async throws {
        let gate = DispatchSemaphore(value: 0)
        let hanging: @Sendable (String) -> [[UInt8]]? = { _ in
            gate.wait()
            return [[8, 8, 8, 8]]
        }
        let vets = (0..<8).map { _ in Task { await EndpointGuard.vet("http://tarpit.test/x", timeout: .seconds(120), resolve: hanging) } }
        // Eight lookups hang (four on resolver threads, four waiting for one): work on the pool still runs.
        #expect(await Task.detached { 6 * 7 }.value == 42)
        #expect(await EndpointGuard.vet("http://slow.test/x", timeout: .milliseconds(100), resolve: hanging) == .unresolved("slow.test"),
                "a lookup that does not answer in time is refused")
        for _ in 0..<9 { gate.signal() }
        for vet in vets { #expect(await vet.value == .allowed(host: "tarpit.test", address: "8.8.8.8")) }
    }

    /// A checked endpoint is reached at the address that was checked, by its name: the request
    /// carries the name as Host, and the name is not looked up again.
    @Test func aDeliveryGoesToTheAddressThatWasChecked() async throws {
        let own = try Receiver(secrets: ["s"])
        let port = try #require(URL(string: own.url)?.port)
        let client = Webhooks.pinnedClient(host: "kiln-pinned.invalid", address: "127.0.0.1")
        defer { client.shutdown { _ in } }
        var request = HTTPClientRequest(url: "http://kiln-pinned.invalid:\(port)/hooks")
        request.method = .POST
        let response = try await client.execute(request, timeout: .seconds(30))
        #expect(response.status.code == 204)
        #expect(own.posts.first?["host"] as? String == "kiln-pinned.invalid:\(port)", "\(own.posts)")
    }

    @Test func aRedirectIsNotFollowedAndTheAnswerIsNotKept() async throws {
        let bouncing = try Receiver(secrets: ["s"], redirect: true)
        let server = try await TestServer.start { settings in
            Self.fast(&settings, bouncing, secrets: ["s"])
            settings.webhookAttempts = 1
        }
        defer { Task { await server.stop() } }
        let item = try await server.upload(Fixtures.sample("photo.jpg"))
        #expect(try await server.request(.DELETE, "/v1/media/\(try #require(item.data["id"] as? String))", key: server.writeKey).status == 200)
        let ended = try await Self.ended(server.server.state.outbox)
        #expect(ended.status == .failed && ended.lastStatus == 302 && ended.lastError == "HTTP 302", "\(ended)")
        #expect(bouncing.posts.map { $0["path"] as? String } == ["/hooks"], "never to /elsewhere")
    }

    /// A dead endpoint (it takes the post and never answers) holds only its own deliveries: the
    /// key's endpoint gets every event while the server's are all still in flight, unanswered.
    @Test func aDeadEndpointDelaysOnlyItsOwnDeliveries() async throws {
        let dead = try Receiver(secrets: ["server"], hang: true)
        let own = try Receiver(secrets: ["own"])
        let server = try await TestServer.start { Self.fast(&$0, dead, secrets: ["server"]) }
        defer { Task { await server.stop() } }
        #expect(try await server.server.state.keys.setWebhook(Self.keyID(server.writeKey), .init(url: own.url, secrets: ["own"])))
        for sample in ["photo.jpg", "grey.png", "small.jpg", "orient-3.jpg", "cmyk.jpg"] {
            let item = try await server.upload(Fixtures.sample(sample))
            #expect(try await server.request(.DELETE, "/v1/media/\(try #require(item.data["id"] as? String))", key: server.writeKey).status == 200)
        }
        let posts = try await own.wait { $0.count == 5 }
        #expect(posts.allSatisfy { $0["answered"] as? Int == 204 })
        let stuck = try await server.server.state.outbox.log(tenant: nil, limit: 20).filter { $0.endpoint == .server }
        #expect(stuck.count == 5 && stuck.allSatisfy { $0.status == .pending && $0.attempts == 0 },
                "the dead endpoint's deliveries wait on it alone: \(stuck.map { ($0.status, $0.attempts) })")
        #expect((1...2).contains(dead.posts.count), "at most two at a time to one endpoint")
    }

    /// A revoked key's pending deliveries are dropped, never sent (and never unsigned).
    @Test func aRevokedKeysDeliveriesAreDropped() async throws {
        let own = try Receiver(secrets: ["s"])
        let server = try await TestServer.start { settings in
            settings.webhookPoll = .milliseconds(50)
            settings.webhookAllowPrivate = true
        }
        defer { Task { await server.stop() } }
        let keys = server.server.state.keys
        let key = Self.keyID(server.writeKey)
        #expect(try await keys.setWebhook(key, .init(url: own.url, secrets: ["s"])))
        #expect(try await keys.revoke(key))
        let outbox = server.server.state.outbox
        try await outbox.add([WebhookDelivery(eventID: "evt_late", type: "media.deleted", keyID: key, endpoint: .key, url: own.url,
                                              body: Data("{}".utf8))])
        let dropped = try await Self.ended(outbox)
        #expect(dropped.status == .failed && dropped.lastError?.contains("revoked") == true, "\(dropped)")
        #expect(own.posts.isEmpty)
    }

    /// A pending delivery goes where the key's endpoint is at each attempt: its webhook moved,
    /// the retries reach the new URL, signed with the new endpoint's secret, and the old one gets
    /// nothing more; the log names where it went.
    @Test func aPendingDeliveryFollowsTheKeysEndpointWhenItMoves() async throws {
        let old = try Receiver(failFirst: 1_000, secrets: ["old"])
        let new = try Receiver(secrets: ["new"])
        let server = try await TestServer.start { settings in
            settings.webhookPoll = .milliseconds(50)
            settings.webhookBackoff = .milliseconds(200)
            settings.webhookAllowPrivate = true
        }
        defer { Task { await server.stop() } }
        let keys = server.server.state.keys
        let key = Self.keyID(server.writeKey)
        #expect(try await keys.setWebhook(key, .init(url: old.url, secrets: ["old"])))
        let item = try await server.upload(Fixtures.sample("photo.jpg"))
        #expect(try await server.request(.DELETE, "/v1/media/\(item.data["id"] as? String ?? "")", key: server.writeKey).status == 200)
        _ = try await old.wait { !$0.isEmpty }  // the first attempt failed at the old endpoint
        #expect(try await keys.setWebhook(key, .init(url: new.url, secrets: ["new"])))
        let arrived = try await new.delivered("media.deleted")
        #expect(arrived.last?["verified"] as? [Bool] == [true], "signed with the new endpoint's secret: \(arrived)")
        let ended = try await Self.ended(server.server.state.outbox)
        #expect(ended.status == .delivered && ended.url == new.url, "\(ended)")
        // Ended (delivered): no attempt is left to go anywhere; the old endpoint saw only those before the move.
        #expect(old.posts.allSatisfy { $0["answered"] as? Int != 204 })
    }

    /// The first delivery once it has ended (bounded wait).
    static func ended(_ outbox: any OutboxStore) async throws -> WebhookDelivery {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let delivery = try await outbox.log(tenant: nil, limit: 10).first, delivery.status != .pending { return delivery }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Tool.Failure(description: "no delivery ended")
    }

    /// The outbox is the job's own row: a job that ended while no server was delivering (a crash
    /// just after its end was recorded) has its event sent by the next server that starts.
    @Test func aJobThatEndedBeforeACrashStillHasItsEventDelivered() async throws {
        let directory = Fixtures.scratchDirectory("kiln-webhook-crash")
        let job: String
        do {
            let queue = SQLiteJobQueue(try KilnDatabase(directory: directory))
            job = try await queue.enqueue(NewJob(kind: "media", payload: Data("{}".utf8))).id
            _ = try await queue.claim(worker: "gone", lease: .seconds(30))
            let error = try JSONEncoder().encode(KilnError.corrupt("the test says so"))
            #expect(try await queue.finish(job, worker: "gone", .failed(error, retry: false)))
        }
        let receiver = try Receiver(secrets: ["s"])
        let server = try await TestServer.start {
            $0.engine.dataDirectory = directory
            Self.fast(&$0, receiver, secrets: ["s"])
        }
        defer { Task { await server.stop() } }
        let posts = try await receiver.delivered("job.failed")
        let data = try #require((posts.last?["body"] as? [String: Any])?["data"] as? [String: Any])
        let shown = try #require(data["job"] as? [String: Any])
        #expect(shown["id"] as? String == job && (shown["error"] as? [String: Any])?["code"] as? String == "FILE_005")
        // Handed on once: later rounds send nothing more.
        try await Task.sleep(for: .milliseconds(500))
        #expect(receiver.posts.count == 1)
    }

    /// A delivery refused once, then the server killed before its retry: the next server sends it.
    @Test func aPendingDeliveryOutlivesAKilledServer() async throws {
        let data = Fixtures.scratchDirectory("kiln-webhook-kill")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        defer { Fixtures.cleanUp(data) }
        let receiver = try Receiver(failFirst: 1, secrets: ["k"])
        let arguments = ["--webhook", receiver.url, "--webhook-secret", "k"]
        let first = try await ServeProcess(data: data, arguments: arguments)
        let item = try await first.upload(Fixtures.sample("photo.jpg"))
        let id = try #require(item.data["id"] as? String)
        #expect(try await first.request(.DELETE, "/v1/media/\(id)", key: first.writeKey).status == 200)
        _ = try await receiver.wait { !$0.isEmpty }
        first.signal(SIGKILL)
        _ = try await first.waitForExit()

        let second = try await ServeProcess(data: data, key: first.writeKey, arguments: arguments)
        let posts = try await receiver.delivered("media.deleted")
        #expect(posts.map { $0["answered"] as? Int } == [503, 204])
        #expect(Set(posts.compactMap { $0["delivery"] as? String }).count == 1, "the same delivery, tried again")
        second.signal(SIGTERM)
        #expect(try await second.waitForExit() == 0)
    }

    @Test func aWebhookWithoutASecretOrWithABadURLStopsTheStart() async throws {
        for (arguments, needle) in [(["--webhook", "http://127.0.0.1:9/x"], "--webhook-secret"),
                                    (["--webhook", "ftp://example.com/x", "--webhook-secret", "s"], "http(s)")] {
            let data = Fixtures.scratchDirectory("kiln-webhook-config")
            defer { Fixtures.cleanUp(data) }
            let run = try await Tool.detached { try Tool.run(ServeProcess.binary, ["serve", "--data", data, "--port", "0"] + arguments) }
            #expect(run.status == 1)
            let said = run.stderr
            #expect(said.contains("API_001") && said.contains(needle), "\(said)")
        }
    }
}
