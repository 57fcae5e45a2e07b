import Foundation
import KilnCore
import KilnDatabase
import KilnTestSupport
import Testing

/// What every backend of `SharedState` must do: the embedded SQLite stores and the PostgreSQL
/// ones that let API nodes be interchangeable. Each case takes fresh stores.
enum StateConformance {
    static func keys(_ state: SharedState) async throws {
        let keys = state.keys
        // The first key, asked for by eight servers starting at once: one is made.
        let firsts = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<8 { group.addTask { try await keys.createFirst(name: "first key", scope: .write)?.secret } }
            return try await group.reduce(into: [String]()) { if let secret = $1 { $0.append(secret) } }
        }
        let listed = try await keys.list().count
        #expect(firsts.count == 1 && listed == 1, "\(firsts.count) first keys")
        #expect(try await keys.authenticate(firsts.first ?? "")?.scope == .write)
        let again = try await keys.createFirst(name: "again", scope: .write)
        #expect(again == nil, "never again once one was made")
        let (key, secret) = try await keys.create(name: "ci", scope: .read)
        #expect(secret.hasPrefix("kiln_\(key.id)_") && key.tenant == key.id, "a key made without a tenant has its own")
        // Times come back within a microsecond (each backend keeps epoch seconds).
        let found = try #require(try await keys.authenticate(secret))
        #expect(found.id == key.id && found.scope == .read && abs(found.createdAt.timeIntervalSince(key.createdAt)) < 1e-5)
        var tampered = secret
        tampered.removeLast()
        tampered.append(secret.last == "a" ? "b" : "a")
        #expect(try await keys.authenticate(tampered) == nil)
        #expect(try await keys.authenticate("kiln_nope") == nil)
        let acme = try await keys.create(name: "acme", scope: .admin, tenant: "acme").key
        #expect(try await keys.list().map(\.id).dropFirst() == [key.id, acme.id], "oldest first (after the first key)")
        #expect(try await keys.list(tenant: "acme").map(\.id) == [acme.id])
        // A key's webhook, its secrets rotated; none once the key is revoked.
        let hook = APIKeys.Webhook(url: "https://example.com/hook", secrets: ["old", "new"])
        #expect(try await keys.setWebhook(acme.id, hook))
        #expect(try await keys.webhook(acme.id) == hook)
        #expect(try await keys.setWebhook("missing", hook) == false)
        #expect(try await keys.revoke(acme.id))
        #expect(try await keys.revoke(acme.id), "revoking twice still names a key")
        #expect(try await keys.revoke("missing") == false)
        #expect(try await keys.webhook(acme.id) == nil)
        #expect(try await keys.key(acme.id)?.revokedAt != nil)
        #expect(try await keys.setWebhook(key.id, hook))
        #expect(try await keys.setWebhook(key.id, nil))
        #expect(try await keys.webhook(key.id) == nil)
        await #expect(throws: KilnError.self) { try await keys.create(name: " ", scope: .read) }
        await #expect(throws: KilnError.self) { try await keys.create(name: "x", scope: .read, tenant: "no spaces") }
    }

    static func idempotency(_ state: SharedState) async throws {
        let store = state.idempotency
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try await store.begin(keyID: "k", idempotencyKey: "a", requestHash: "h1", at: start) == nil, "first: go ahead")
        let marker = try #require(try await store.begin(keyID: "k", idempotencyKey: "a", requestHash: "h1", at: start))
        #expect(marker.inFlight && marker.requestHash == "h1", "a retry meets the first's marker")
        #expect(try await store.begin(keyID: "other", idempotencyKey: "a", requestHash: "h", at: start) == nil, "per key")
        let answer = IdempotencyRecords.Answer(requestHash: "h1", status: 201, body: Data("{\"ok\":1}".utf8))
        try await store.record(keyID: "k", idempotencyKey: "a", answer)
        #expect(try await store.begin(keyID: "k", idempotencyKey: "a", requestHash: "h2", at: start) == answer)
        // A marker a crash left is taken over once it is older than any request may take.
        #expect(try await store.begin(keyID: "k", idempotencyKey: "b", requestHash: "h", at: start) == nil)
        let later = start.addingTimeInterval(IdempotencyRecords.inFlightLimit + 1)
        #expect(try await store.begin(keyID: "k", idempotencyKey: "b", requestHash: "h", at: later) == nil)
        // An abandoned first request leaves nothing: its retry runs anew. A kept answer stays.
        try await store.abandon(keyID: "k", idempotencyKey: "b")
        try await store.abandon(keyID: "k", idempotencyKey: "a")
        #expect(try await store.begin(keyID: "k", idempotencyKey: "b", requestHash: "h", at: later) == nil)
        #expect(try await store.begin(keyID: "k", idempotencyKey: "a", requestHash: "h1", at: later) == answer)
        try await store.prune(before: Date().addingTimeInterval(1))
        #expect(try await store.begin(keyID: "k", idempotencyKey: "a", requestHash: "h1", at: later) == nil, "pruned")
    }

    static func item(_ id: String) -> MediaItem {
        let facts = ImageFacts(format: "jpeg", mime: "image/jpeg", sizeBytes: 10, width: 1, height: 1, orientation: 1,
                               colorSpace: "srgb", bands: 3, bitDepth: 8, hasAlpha: false, hasICCProfile: false, pages: 1,
                               metadata: [])
        let options = ProcessingOptions(preset: "default", presetDigest: "d", fit: .reject, type: .auto, keepOriginal: false)
        return MediaItem(id: id, sourceSha256: String(repeating: "1", count: 64), options: options, input: nil, kind: .image,
                         mime: "image/jpeg", source: .image(facts),
                         renditions: [Rendition(name: "display", file: "display.jpg", format: .jpeg, width: 1, height: 1,
                                                bytes: 10, sha256: String(repeating: "0", count: 64))])
    }

    static func mediaRecords(_ state: SharedState) async throws {
        let records = state.records
        let (a, b, c) = (item("a"), item("b"), item("c"))
        try await records.add(a, tenant: "acme", keyID: "k1")
        try await records.add(a, tenant: "acme", keyID: "k1")  // a second of the same is ignored
        #expect(try await records.tenant(of: "a") == "acme")
        #expect(try await records.tenant(of: "nothing") == nil)
        // Two carousels hold b; one holds c. Releasing the first frees nothing, the second b and c.
        try await records.add(CarouselRecord(id: "car1", preset: "default", items: ["a", "b"], tenant: "acme"), items: [a, b],
                              tenant: "acme", keyID: "k1")
        try await records.add(CarouselRecord(id: "car2", preset: "default", items: ["b", "c"], tenant: "acme"), items: [b, c],
                              tenant: "acme", keyID: "k1")
        // An item a carousel lists is not released from under it: API_010 names the carousels.
        do {
            _ = try await records.release(id: "b", tenant: "acme")
            Issue.record("b was released though car1 and car2 list it")
        } catch let error as KilnError {
            #expect(error.code == .api010 && error.details["carousels"] == .array([.string("car1"), .string("car2")]), "\(error)")
        }
        #expect(try await records.tenant(of: "b") == "acme")
        #expect(try await records.release(id: "car1", tenant: "acme").isEmpty, "a is still uploaded, b is in car2")
        #expect(Set(try await records.release(id: "car2", tenant: "acme")) == ["b", "c"])
        #expect(try await records.tenant(of: "car2") == nil)
        // Another tenant's release touches nothing of acme's.
        #expect(try await records.release(id: "a", tenant: "other").isEmpty)
        #expect(try await records.tenant(of: "a") == "acme")
        #expect(try await records.release(id: "a", tenant: "acme").isEmpty)
        #expect(try await records.tenant(of: "a") == nil)
        // What targets made: each succeeded target's item or carousel; a refused one nothing.
        try await records.add([TargetOutcome(target: "x", items: [item("t1")]),
                               TargetOutcome(target: "y", error: KilnError.cancelled(), failedItem: nil)],
                              tenant: "acme", keyID: nil)
        #expect(try await records.tenant(of: "t1") == "acme")
    }

    static func uploads(_ state: SharedState) async throws {
        let uploads = state.uploads
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func upload(_ id: String, length: Int64?, tenant: String = "acme") -> UploadRecord {
            UploadRecord(id: id, keyID: "k1", tenant: tenant, length: length, metadata: ["filename": "a.jpg", "preset": "x"],
                         createdAt: now, expiresAt: now.addingTimeInterval(3600))
        }
        #expect(try await uploads.create(upload("u1", length: 100), maxOpen: 2, maxBytes: 150))
        #expect(try await uploads.create(upload("u2", length: 60), maxOpen: 2, maxBytes: 150) == false, "over the bytes cap")
        #expect(try await uploads.create(upload("u3", length: nil), maxOpen: 2, maxBytes: 150), "deferred: counted at its offset")
        #expect(try await uploads.create(upload("u4", length: 1), maxOpen: 2, maxBytes: 150) == false, "over the count cap")
        #expect(try await uploads.create(upload("o1", length: 1, tenant: "other"), maxOpen: 2, maxBytes: 150), "per tenant")
        let open = try await uploads.open(tenant: "acme", at: now)
        #expect(open.count == 2 && open.bytes == 100)
        #expect(try await uploads.get("u1") == upload("u1", length: 100))
        // The offset moves only from where it is (one writer wins), the deferred length is fixed once.
        let expiry = now.addingTimeInterval(7200)
        #expect(try await uploads.advance("u1", from: 0, to: 40, length: nil, expiresAt: expiry))
        #expect(try await uploads.advance("u1", from: 0, to: 50, length: nil, expiresAt: expiry) == false)
        #expect(try await uploads.advance("u3", from: 0, to: 30, length: 30, expiresAt: expiry))
        #expect(try await uploads.get("u3")?.isComplete == true)
        #expect(try await uploads.advance("u1", from: 40, to: 100, length: nil, expiresAt: expiry))
        #expect(try await uploads.awaitingProcessing().map(\.id) == ["u1", "u3"])
        let result = UploadResult(status: 201, body: Data("{}".utf8), location: "/v1/media/x")
        try await uploads.finish("u1", result)
        #expect(try await uploads.get("u1")?.result == result)
        #expect(try await uploads.awaitingProcessing().map(\.id) == ["u3"])
        #expect(try await uploads.advance("u1", from: 100, to: 101, length: nil, expiresAt: expiry) == false, "finished")
        let after = try await uploads.open(tenant: "acme", at: now)
        #expect(after.count == 1 && after.bytes == 30, "a finished upload is not open")
        // One writer at a time, on any node; a hold runs out if its writer stopped without a word.
        #expect(try await uploads.claimWriter("u3", writer: "node-a", until: now.addingTimeInterval(60), at: now))
        #expect(try await uploads.claimWriter("u3", writer: "node-b", until: now.addingTimeInterval(60), at: now) == false)
        #expect(try await uploads.claimWriter("u3", writer: "node-a", until: now.addingTimeInterval(90), at: now), "renewed")
        #expect(try await uploads.claimWriter("u3", writer: "node-b", until: now.addingTimeInterval(120), at: now.addingTimeInterval(61))
            == false, "the renewal holds past the first lease")
        try await uploads.releaseWriter("u3", writer: "node-b")  // not its hold: nothing
        #expect(try await uploads.claimWriter("u3", writer: "node-b", until: now.addingTimeInterval(60), at: now) == false)
        try await uploads.releaseWriter("u3", writer: "node-a")
        #expect(try await uploads.claimWriter("u3", writer: "node-b", until: now.addingTimeInterval(60), at: now))
        #expect(try await uploads.claimWriter("u3", writer: "node-c", until: now.addingTimeInterval(200), at: now.addingTimeInterval(61)),
                "node-b stopped: its hold ran out")
        #expect(try await uploads.claimWriter("gone", writer: "node-a", until: now, at: now) == false, "no such upload")
        #expect(try await uploads.expired(at: now.addingTimeInterval(3601)) == ["o1"])
        try await uploads.remove("o1")
        #expect(try await uploads.get("o1") == nil)
        // Room for a chunk of a deferred upload is checked and reserved in one write, tenant-wide;
        // it counts while its writer's hold runs, and is freed by the chunk's count or the hold's end.
        #expect(try await uploads.create(upload("d1", length: nil, tenant: "quota"), maxOpen: 5, maxBytes: 100))
        #expect(try await uploads.create(upload("d2", length: nil, tenant: "quota"), maxOpen: 5, maxBytes: 100))
        #expect(try await uploads.claimWriter("d1", writer: "a", until: now.addingTimeInterval(60), at: now))
        #expect(try await uploads.claimWriter("d2", writer: "b", until: now.addingTimeInterval(60), at: now))
        #expect(try await uploads.reserve("d1", tenant: "quota", bytes: 90, maxBytes: 100, at: now))
        #expect(try await uploads.reserve("d2", tenant: "quota", bytes: 90, maxBytes: 100, at: now) == false, "the room is taken")
        #expect(try await uploads.open(tenant: "quota", at: now).bytes == 90)
        #expect(try await uploads.open(tenant: "quota", at: now.addingTimeInterval(61)).bytes == 0, "a dead writer's room runs out")
        try await uploads.releaseWriter("d1", writer: "a")
        #expect(try await uploads.reserve("d2", tenant: "quota", bytes: 90, maxBytes: 100, at: now), "freed with the hold")
        #expect(try await uploads.advance("d2", from: 0, to: 90, length: nil, expiresAt: expiry))
        #expect(try await uploads.open(tenant: "quota", at: now).bytes == 90, "counted once: the offset, not the reservation too")
        // Many at once: the cap holds.
        var ids: [String] = []
        for n in 0..<8 {
            ids.append("r\(n)")
            #expect(try await uploads.create(upload("r\(n)", length: nil, tenant: "race"), maxOpen: 20, maxBytes: 1000))
            #expect(try await uploads.claimWriter("r\(n)", writer: "w\(n)", until: now.addingTimeInterval(60), at: now))
        }
        let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for id in ids { group.addTask { try await uploads.reserve(id, tenant: "race", bytes: 300, maxBytes: 1000, at: now) } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(granted == 3, "three chunks of 300 fit under 1000")
    }

    static func outbox(_ state: SharedState) async throws {
        let (outbox, keys) = (state.outbox, state.keys)
        let k1 = try await keys.create(name: "one", scope: .write, tenant: "acme").key.id
        let k2 = try await keys.create(name: "two", scope: .write).key.id
        _ = try await keys.create(name: "acme's other", scope: .read, tenant: "acme")
        let now = Date()
        func delivery(_ event: String, _ url: String, key: String?) -> WebhookDelivery {
            WebhookDelivery(eventID: event, type: "job.succeeded", keyID: key, endpoint: .key, url: url, body: Data("{}".utf8), at: now)
        }
        try await outbox.add([delivery("evt_1", "http://a", key: k1), delivery("evt_1", "http://b", key: k1),
                              delivery("evt_2", "http://a", key: k2)])
        // The same event and URL again (a crash before the event was marked): ignored.
        try await outbox.add([delivery("evt_1", "http://a", key: k1)])
        let due = try await outbox.claim(at: now, limit: 10, lease: 30)
        #expect(due.count == 3)
        #expect(try await outbox.claim(at: now, limit: 10, lease: 30).isEmpty, "claimed: held from every other claimer")

        let first = try #require(due.first { $0.eventID == "evt_1" && $0.url == "http://a" })
        let second = try #require(due.first { $0.eventID == "evt_1" && $0.url == "http://b" })
        try await outbox.attempted(first.id, status: 503, error: "HTTP 503", delivered: false, retryAt: now.addingTimeInterval(60))
        try await outbox.release(second.id, at: now)
        #expect(try await outbox.claim(at: now, limit: 10, lease: 30).map(\.id) == [second.id], "handed back: due at once")
        // Past the lease, a claim whose sender stopped is due again; the retried one only at its time.
        let expired = try await outbox.claim(at: now.addingTimeInterval(31), limit: 10, lease: 30)
        #expect(Set(expired.map(\.id)) == Set(due.map(\.id)).subtracting([first.id]))
        let retried = try #require(try await outbox.claim(at: now.addingTimeInterval(61), limit: 10, lease: 30).first { $0.id == first.id })
        #expect(retried.attempts == 1 && retried.lastStatus == 503 && retried.lastError == "HTTP 503")
        try await outbox.attempted(first.id, status: 204, error: nil, delivered: true, retryAt: nil)
        try await outbox.attempted(second.id, status: nil, error: "refused", delivered: false, retryAt: nil)

        #expect(try await outbox.claim(at: now.addingTimeInterval(3600), limit: 10, lease: 30).map(\.eventID) == ["evt_2"],
                "only the untried delivery is due again")
        let log = try await outbox.log(tenant: "acme", limit: 10)
        #expect(Set(log.map(\.status)) == [.delivered, .failed] && log.count == 2)
        #expect(log.first { $0.status == .delivered }?.deliveredAt != nil)
        #expect(try await outbox.log(tenant: k2, limit: 10).map(\.eventID) == ["evt_2"],
                "a key made without a tenant has its own, named by its id")
        // The server's own endpoint (the operator's URL) is in no key's log.
        try await outbox.add([WebhookDelivery(eventID: "evt_1", type: "job.succeeded", keyID: k1, endpoint: .server,
                                              url: "http://operator", body: Data("{}".utf8), at: now)])
        #expect(try await outbox.log(tenant: "acme", limit: 10).allSatisfy { $0.endpoint == .key })
        #expect(try await outbox.log(tenant: nil, limit: 10).contains { $0.url == "http://operator" })
        // A delivery keeps the trace of what made its event.
        let traced = #"{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}"#
        try await outbox.add([WebhookDelivery(eventID: "evt_t", type: "media.deleted", keyID: nil, endpoint: .server,
                                              url: "http://operator", body: Data("{}".utf8), at: now, trace: traced)])
        #expect(try await outbox.log(tenant: nil, limit: 10).first { $0.eventID == "evt_t" }?.trace == traced)

        // Ended deliveries leave the log after its window; pending ones never do.
        try await outbox.add([delivery("evt_3", "http://a", key: k1)])
        try await outbox.prune(before: now.addingTimeInterval(1))
        #expect(try await outbox.log(tenant: "acme", limit: 10).map(\.eventID) == ["evt_3"])
        #expect(try await outbox.log(tenant: nil, limit: 10).map(\.eventID).sorted() == ["evt_1", "evt_2", "evt_3", "evt_t"],
                "the pending ones stay")
    }

    static func rates(_ state: SharedState) async throws {
        let rates = state.rates
        let start = Date(timeIntervalSince1970: 1_800_000_000)  // a window's start (a multiple of 60)
        for expected in 1...3 { #expect(try await rates.take("k1", window: 60, at: start.addingTimeInterval(5)) == expected) }
        #expect(try await rates.take("k2", window: 60, at: start) == 1, "per key")
        #expect(try await rates.take("k1", window: 60, at: start.addingTimeInterval(60)) == 1, "a new window starts at 1")
        // Windows that ended are forgotten; the current one is kept.
        try await rates.prune(before: start.addingTimeInterval(61))
        #expect(try await rates.take("k1", window: 60, at: start.addingTimeInterval(61)) == 2)
        #expect(try await rates.take("k2", window: 60, at: start.addingTimeInterval(59)) == 1, "k2's first window was pruned")
    }

    static func kept(_ state: SharedState) async throws {
        let first = try await state.kept.value("url-secret") { "made first" }
        #expect(first == "made first")
        #expect(try await state.kept.value("url-secret") { "made again" } == "made first", "made once, then read")
        #expect(try await state.kept.value("other") { "another" } == "another")
    }

    static let cases: [(String, @Sendable (SharedState) async throws -> Void)] = [
        ("keys", keys), ("idempotency", idempotency), ("media records", mediaRecords), ("uploads", uploads),
        ("outbox", outbox), ("rates", rates), ("kept values", kept),
    ]
}

@Suite struct SQLiteStateTests {
    @Test(arguments: StateConformance.cases.map(\.0))
    func conformance(_ name: String) async throws {
        let directory = Fixtures.scratchDirectory("kiln-state")
        defer { Fixtures.cleanUp(directory) }
        let run = try #require(StateConformance.cases.first { $0.0 == name }?.1)
        try await run(.embedded(try KilnDatabase(directory: directory)))
    }
}

/// The same on a throwaway PostgreSQL, and what only a database shared by several nodes must
/// also get right: writers racing on several connections.
@Suite struct PostgresStateTests {
    static func withState(_ body: @Sendable (SharedState) async throws -> Void) async throws {
        let database = try await PostgresDatabase(url: try PostgresCluster.started().database() + "?sslmode=disable")
        try await database.serving(migrateWithin: .seconds(120)) { try await body(.postgres(database)) }
    }

    @Test(arguments: StateConformance.cases.map(\.0))
    func conformance(_ name: String) async throws {
        let run = try #require(StateConformance.cases.first { $0.0 == name }?.1)
        try await Self.withState(run)
    }

    @Test func racingWritersEachGetOneAnswer() async throws {
        try await Self.withState { state in
            // Twelve nodes begin one idempotency key at once: one goes ahead, the others meet its marker.
            let ahead = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<12 {
                    group.addTask { try await state.idempotency.begin(keyID: "k", idempotencyKey: "same", requestHash: "h") == nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(ahead == 1)
            // Twelve uploads of one tenant at once under a cap of three: three are made.
            let now = Date()
            let made = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<12 {
                    group.addTask {
                        try await state.uploads.create(UploadRecord(id: "u\(index)", keyID: "k", tenant: "acme", length: 10,
                                                                    metadata: [:], createdAt: now,
                                                                    expiresAt: now.addingTimeInterval(60)),
                                                       maxOpen: 3, maxBytes: .max)
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(made == 3)
            // Two nodes claim the outbox at once: every delivery is taken by exactly one.
            try await state.outbox.add((0..<40).map {
                WebhookDelivery(eventID: "evt_\($0)", type: "job.succeeded", keyID: nil, endpoint: .server, url: "http://a",
                                body: Data(), at: now)
            })
            let taken = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        var mine: [String] = []
                        while case let claimed = try await state.outbox.claim(at: now, limit: 3, lease: 60), !claimed.isEmpty {
                            mine += claimed.map(\.id)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(taken.count == 40 && Set(taken).count == 40)
            // Two nodes count one key at once: every request is counted once (1...60, no gap, no repeat).
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<60 { group.addTask { try await state.rates.take("busy", window: 60, at: now) } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(counts.sorted() == Array(1...60))
            // Nodes starting at once agree on one URL secret.
            let secrets = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 { group.addTask { try await state.kept.value("url-secret") { "node \(index)" } } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(secrets.count == 1)
        }
    }
}
