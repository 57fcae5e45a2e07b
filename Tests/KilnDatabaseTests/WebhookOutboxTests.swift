import Foundation
import KilnDatabase
import KilnTestSupport
import Testing

/// The webhook outbox on its own: one delivery per event and URL, due times, attempts, what a
/// losing server withdraws, the log per tenant, and the window the log keeps.
@Suite struct WebhookOutboxTests {
    @Test func deliveriesAreKeptOncePerEventAndURLAndEndAsTheirAttemptsSay() async throws {
        let directory = Fixtures.scratchDirectory("kiln-outbox")
        defer { Fixtures.cleanUp(directory) }
        let database = try KilnDatabase(directory: directory)
        let outbox = WebhookOutbox(database)
        let keys = APIKeys(database)
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
        let due = try await outbox.due(at: now, limit: 10)
        #expect(due.count == 3)

        let first = try #require(due.first { $0.eventID == "evt_1" && $0.url == "http://a" })
        try await outbox.attempted(first.id, status: 503, error: "HTTP 503", delivered: false, retryAt: now.addingTimeInterval(60))
        #expect(try await outbox.due(at: now, limit: 10).count == 2, "not due again before its retry")
        let retried = try #require(try await outbox.due(at: now.addingTimeInterval(61), limit: 10).first { $0.id == first.id })
        #expect(retried.attempts == 1 && retried.lastStatus == 503 && retried.lastError == "HTTP 503")
        try await outbox.attempted(first.id, status: 204, error: nil, delivered: true, retryAt: nil)
        let second = try #require(due.first { $0.eventID == "evt_1" && $0.url == "http://b" })
        try await outbox.attempted(second.id, status: nil, error: "refused", delivered: false, retryAt: nil)

        // Another server handed evt_2 on: its untried deliveries go.
        try await outbox.withdraw(eventID: "evt_2")
        #expect(try await outbox.due(at: now.addingTimeInterval(3600), limit: 10).isEmpty)
        let log = try await outbox.log(tenant: "acme", limit: 10)
        #expect(Set(log.map(\.status)) == [.delivered, .failed] && log.count == 2)
        #expect(try await outbox.log(tenant: k2, limit: 10).isEmpty, "a key made without a tenant has its own, named by its id")
        // The server's own endpoint (the operator's URL) is in no key's log.
        try await outbox.add([WebhookDelivery(eventID: "evt_1", type: "job.succeeded", keyID: k1, endpoint: .server,
                                              url: "http://operator", body: Data("{}".utf8), at: now)])
        #expect(try await outbox.log(tenant: "acme", limit: 10).allSatisfy { $0.endpoint == .key })
        #expect(try await outbox.log(tenant: nil, limit: 10).contains { $0.url == "http://operator" })

        // Ended deliveries leave the log after its window; pending ones never do.
        try await outbox.add([delivery("evt_3", "http://a", key: k1)])
        try await outbox.prune(before: now.addingTimeInterval(1))
        #expect(try await outbox.log(tenant: "acme", limit: 10).map(\.eventID) == ["evt_3"])
        #expect(try await outbox.log(tenant: nil, limit: 10).map(\.eventID).sorted() == ["evt_1", "evt_3"], "the pending server one stays")
    }
}
