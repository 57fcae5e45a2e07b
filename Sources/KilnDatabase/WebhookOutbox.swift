import Foundation
import KilnCore

/// One event on its way to one endpoint: the outbox row a deliverer sends, retries and logs.
public struct WebhookDelivery: Sendable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// Not yet accepted by the endpoint; sent at `nextAttemptAt`.
        case pending
        /// The endpoint answered 2xx.
        case delivered
        /// The endpoint refused every attempt: given up.
        case failed
    }

    /// Which endpoint: the server's own (`kiln serve --webhook`) or the event's key's.
    public enum Endpoint: String, Sendable, Codable {
        case server
        case key
    }

    public let id: String
    public let eventID: String
    public let type: String
    /// The key whose job or deletion made the event.
    public let keyID: String?
    public let endpoint: Endpoint
    public let url: String
    public let body: Data
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastStatus: Int?
    public var lastError: String?
    public let createdAt: Date
    public var deliveredAt: Date?
    /// The trace of what made the event (W3C trace context as JSON), for the delivery's span.
    public var trace: String?

    public init(id: String? = nil, eventID: String, type: String, keyID: String?, endpoint: Endpoint, url: String, body: Data,
                at time: Date = Date(), trace: String? = nil) {
        self.id = id ?? "dlv_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        self.eventID = eventID
        self.type = type
        self.keyID = keyID
        self.endpoint = endpoint
        self.url = url
        self.body = body
        status = .pending
        attempts = 0
        nextAttemptAt = time
        createdAt = time
        self.trace = trace
    }
}

/// The durable outbox of webhook deliveries (in the embedded database). An event's rows are
/// written before it counts as handed on, and a row goes from pending to delivered only once
/// its endpoint answered 2xx: a crash anywhere in between sends it again (at least once;
/// receivers deduplicate by the event id).
public protocol OutboxStore: Sendable {
    /// Adds deliveries; one per event and URL (a second add of the same is ignored).
    func add(_ deliveries: [WebhookDelivery]) async throws(KilnError)
    /// Takes up to `limit` pending deliveries due at `time`, oldest first, and holds them from
    /// every other claimer until `time + lease` (when one whose sender died is due again): on
    /// any number of nodes, each attempt is made by one.
    func claim(at time: Date, limit: Int, lease: TimeInterval) async throws(KilnError) -> [WebhookDelivery]
    /// Hands a claimed delivery back untried: due again at `time`.
    func release(_ id: String, at time: Date) async throws(KilnError)
    /// Records an attempt: delivered (2xx), tried again at `retryAt`, or given up (nil `retryAt`).
    /// `url`: where the attempt went, when not where the delivery was first written to (a key's
    /// webhook moved since): the log then names it.
    func attempted(_ id: String, status: Int?, error: String?, delivered: Bool, retryAt: Date?, url: String?, at time: Date)
        async throws(KilnError)
    /// Forgets deliveries that ended (delivered or given up) before `time`: the log keeps a window.
    func prune(before time: Date) async throws(KilnError)
    /// The delivery log of the endpoints of `tenant`'s keys (never the server's webhook, whose
    /// URL is the operator's), or with nil of every endpoint, newest first.
    func log(tenant: String?, limit: Int) async throws(KilnError) -> [WebhookDelivery]
}

extension OutboxStore {
    public func attempted(_ id: String, status: Int?, error: String?, delivered: Bool, retryAt: Date?, url: String? = nil)
        async throws(KilnError)
    {
        try await attempted(id, status: status, error: error, delivered: delivered, retryAt: retryAt, url: url, at: Date())
    }
}
