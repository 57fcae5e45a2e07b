import AsyncHTTPClient
import Synchronization
import Foundation
import KilnCore
import KilnDatabase
import KilnQueue
import Logging
import NIOCore
import ServiceLifecycle
import Tracing

/// Job and media events posted to webhooks (issue 13): `job.succeeded`, `job.failed` (a
/// cancelled job too: its status says so) and `media.deleted`, each in the envelope and signed
/// (`WebhookSignature`). Events reach the outbox (`OutboxStore`) one way or the other:
/// a finished job's event is pending in the job's own row until its deliveries are written;
/// a deletion writes its deliveries before the DELETE answers. `WebhookDeliverer` then sends
/// them, at least once, with growing pauses between attempts.
struct Webhooks: Sendable {
    static let eventHeader = "Kiln-Event"
    static let eventIDHeader = "Kiln-Event-Id"
    static let deliveryHeader = "Kiln-Delivery"

    let server: KilnServer
    var outbox: any OutboxStore { server.state.outbox }
    var settings: ServerSettings { server.settings }

    /// What a webhook receives in the envelope's `data`.
    struct Event: Encodable, Sendable {
        let id: String
        let type: String
        let createdAt: String
        /// job.* events: the job as `GET /v1/jobs/{id}` shows it.
        let job: JobView?
        /// media.deleted: the item that went.
        let media: DeletedMedia?

        enum CodingKeys: String, CodingKey {
            case id, type, job, media
            case createdAt = "created_at"
        }
    }

    struct DeletedMedia: Encodable, Sendable {
        let id: String
        let deleted = true
    }

    /// Where `keyID`'s events go: the server's webhooks and the key's own.
    func endpoints(keyID: String?) async throws -> [(WebhookDelivery.Endpoint, String)] {
        var targets = settings.webhookURLs.map { (WebhookDelivery.Endpoint.server, $0) }
        if let keyID, let own = try await server.keys.webhook(keyID) { targets.append((.key, own.url)) }
        return targets
    }

    /// Writes an event's deliveries to `endpoints` (none: the event is built for no one).
    /// `trace`: what made the event (the request's, or the job's upload's), joined by each delivery.
    func post(_ event: @autoclosure () -> Event, keyID: String?, to endpoints: [(WebhookDelivery.Endpoint, String)],
              trace: [String: String]? = TraceCarrier.current()) async throws {
        guard !endpoints.isEmpty else { return }
        let event = event()
        let body = try Reply.encoder.encode(Envelope.success(event, meta: Meta(requestId: event.id)))
        let trace = TraceCarrier.text(trace)
        try await outbox.add(endpoints.map {
            WebhookDelivery(eventID: event.id, type: event.type, keyID: keyID, endpoint: $0.0, url: $0.1, body: body, trace: trace)
        })
    }

    /// Writes a deletion's deliveries (before the DELETE answers: nothing is lost after it).
    func mediaDeleted(_ id: String, keyID: String?) async throws {
        try await post(Event(id: "evt_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""),
                             type: "media.deleted", createdAt: Date().formatted(.iso8601), job: nil, media: DeletedMedia(id: id)),
                       keyID: keyID, to: try await endpoints(keyID: keyID))
    }

    /// Hands finished jobs' events to the outbox: their deliveries first, then the job marked as
    /// sent (a crash in between writes the same deliveries again, which the outbox ignores: one
    /// delivery per event and URL). Several API nodes may post the same event at once: their
    /// deliveries to a URL are one row, whoever wrote it, and none is withdrawn (a node that
    /// lost the race once deleted the winner's row before it was marked delivered).
    func takeJobEvents(present: (MediaItem) -> MediaItem) async throws {
        for job in try await server.queue.pendingEvents(limit: 100) {
            let type = job.status == .succeeded ? "job.succeeded" : "job.failed"
            let payload = try? JSONDecoder().decode(JobPayload.self, from: job.payload)
            let keyID = payload?.keyID
            try await post(Event(id: "evt_" + job.id, type: type, createdAt: job.updatedAt.formatted(.iso8601),
                                 job: JobView(job, present: present), media: nil),
                           keyID: keyID, to: try await endpoints(keyID: keyID), trace: payload?.trace)
            try await server.queue.markEventSent(job.id)
        }
    }

    /// The pause before attempt `attempt + 1`: the backoff, doubled each time, at most an hour.
    func retryDelay(afterAttempt attempt: Int) -> Duration {
        let base = JobControl.seconds(settings.webhookBackoff)
        return .milliseconds(Int64(min(3600, base * pow(2, Double(max(0, attempt - 1)))) * 1000))
    }

    /// One attempt at one delivery, recorded: 2xx delivers it; anything else tries again later,
    /// until the attempts are used up.
    func send(_ delivery: WebhookDelivery, client: HTTPClient, logger: Logger) async throws {
        // A span in the trace of what made the event; the receiver is told it (`traceparent`).
        let parent = TraceCarrier.context(TraceCarrier.carrier(text: delivery.trace))
        try await withSpan("webhook \(delivery.type)", context: parent, ofKind: .client) { span in
            span.attributes["kiln.webhook.delivery"] = delivery.id
            try await attempt(delivery, client: client, trace: TraceCarrier.carrier(span.context) ?? [:], logger: logger)
        }
    }

    private func attempt(_ delivery: WebhookDelivery, client: HTTPClient, trace: [String: String], logger: Logger) async throws {
        // Read now, not when the event was made: a key's endpoint as it is at this attempt (moved,
        // its secret rotated) gets it, signed with that endpoint's secret.
        var secrets = settings.webhookSecrets
        var url = delivery.url
        var pinned: (host: String, address: String)?
        if delivery.endpoint == .key {
            // A revoked key's (or a cleared webhook's) deliveries are dropped, never sent unsigned.
            let hook: APIKeys.Webhook? = if let keyID = delivery.keyID { try await server.keys.webhook(keyID) } else { nil }
            guard let hook, !hook.secrets.isEmpty else {
                return try await drop(delivery, "dropped: the key was revoked or its webhook cleared", logger: logger)
            }
            secrets = hook.secrets
            url = hook.url
            if !settings.webhookAllowPrivate {
                // Resolved once and checked whole; the request then goes to the address checked.
                switch await EndpointGuard.vet(url) {
                case .allowed(let host, let address): pinned = (host, address)
                case .internalAddress(let address):
                    return try await drop(delivery, "refused: the endpoint resolves to the internal address \(address)", logger: logger)
                case .unresolved(let host):
                    // Not sent: a failed attempt, tried again later.
                    return try await record(delivery, url: url, status: nil, failure: "\(host) does not resolve", logger: logger)
                }
            }
        }
        guard !secrets.isEmpty else { return try await drop(delivery, "dropped: no secret to sign it", logger: logger) }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: Reply.jsonType)
        request.headers.add(name: "User-Agent", value: "Kiln-Webhooks")
        for (name, value) in trace { request.headers.add(name: name, value: value) }
        request.headers.add(name: Self.eventHeader, value: delivery.type)
        request.headers.add(name: Self.eventIDHeader, value: delivery.eventID)
        request.headers.add(name: Self.deliveryHeader, value: delivery.id)
        request.headers.add(name: WebhookSignature.header, value: WebhookSignature.sign(Array(delivery.body), secrets: secrets))
        request.body = .bytes(ByteBuffer(bytes: delivery.body))
        var status: Int?
        var failure: String?
        // A pinned endpoint gets a client of its own that connects to the checked address for its
        // name (the name stays the Host and the TLS name): no second lookup can move it.
        let sender = pinned.map { Self.pinnedClient(host: $0.host, address: $0.address) } ?? client
        defer { if pinned != nil { sender.shutdown { _ in } } }
        do {
            let response = try await sender.execute(request, timeout: .seconds(10))
            status = Int(response.status.code)
            // The receiver's answer is not kept (the log holds the status only): read a little so
            // the connection can be reused, never all of it. A redirect is not followed.
            _ = try? await response.body.collect(upTo: 1024)
            if !(200..<300).contains(status ?? 0) { failure = "HTTP \(status ?? 0)" }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            failure = "\(error)"
        }
        try await record(delivery, url: url, status: status, failure: failure, logger: logger)
    }

    /// Records an attempt at `url`: delivered, or tried again later until the attempts run out.
    private func record(_ delivery: WebhookDelivery, url: String, status: Int?, failure: String?, logger: Logger) async throws {
        let delivered = failure == nil
        let attempt = delivery.attempts + 1
        let retryAt = delivered || attempt >= settings.webhookAttempts
            ? nil : Date().addingTimeInterval(JobControl.seconds(retryDelay(afterAttempt: attempt)))
        try await outbox.attempted(delivery.id, status: status, error: failure, delivered: delivered, retryAt: retryAt,
                                   url: url == delivery.url ? nil : url)
        server.metrics.webhookAttempt(delivered ? "delivered" : retryAt == nil ? "failed" : "retried")
        if !delivered {
            let next = retryAt == nil ? "given up" : "tried again later"
            logger.warning("webhook \(delivery.type) to \(url) failed (attempt \(attempt)): \(failure ?? ""); \(next)")
        }
    }
}

extension Webhooks {
    /// Ends a delivery without sending it.
    func drop(_ delivery: WebhookDelivery, _ reason: String, logger: Logger) async throws {
        try await outbox.attempted(delivery.id, status: nil, error: reason, delivered: false, retryAt: nil)
        server.metrics.webhookAttempt("failed")
        logger.warning("webhook \(delivery.type) to \(delivery.url) \(reason)")
    }

    /// Deliveries go through a client that never follows a redirect: a 3xx is a failed attempt,
    /// so an endpoint cannot bounce Kiln's request inside the network.
    static let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                   configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    /// A client whose connections to `host` go to `address`, for one attempt.
    static func pinnedClient(host: String, address: String) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.dnsOverride = [host: address]
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }
}

/// Webhook settings as an operator gives them (`kiln serve --webhook`, `kiln keys webhook`).
public enum WebhookSettings {
    /// An http(s) URL with a host; API_001 otherwise. A key's endpoint (`keyEndpoint`) must also
    /// not reach an internal address unless `allowPrivate`.
    public static func check(url: String, keyEndpoint: Bool = false, allowPrivate: Bool = false) throws(KilnError) {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
              !(parsed.host ?? "").isEmpty else {
            throw KilnError.invalidRequest("the webhook URL \(url) is not an http(s) URL", fields: ["webhook": "http(s)://host/path"])
        }
        // A name that does not resolve yet may be set (its DNS may come later); each delivery
        // resolves it again, and refuses it while it does not resolve.
        if keyEndpoint, !allowPrivate, case .internalAddress(let address) = EndpointGuard.vetBlocking(url) {
            throw KilnError.invalidRequest(
                "the webhook URL \(url) reaches the internal address \(address); give a public endpoint (an operator may allow internal ones with --allow-private)",
                fields: ["webhook": "a public http(s) endpoint"])
        }
    }

    /// A new signing secret: `whsec_` and 32 random letters and digits.
    public static func newSecret() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyz23456789ABCDEFGHJKLMNPQRSTUVWXYZ")
        var generator = SystemRandomNumberGenerator()
        return "whsec_" + String((0..<32).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}

/// Sends the outbox: at each round, finished jobs' events become deliveries, and the deliveries
/// that are due are sent (a few at once). On shutdown, a delivery in flight is left pending and
/// sent after the next start.
struct WebhookDeliverer: Service {
    let webhooks: Webhooks
    let present: @Sendable (MediaItem) -> MediaItem
    let logger: Logger
    /// Deliveries in flight at once, and to one endpoint: a slow or dead endpoint holds at most
    /// its own two, never the others' turn.
    static let parallel = 16
    static let perEndpoint = 2
    private let inFlight = InFlight()

    /// How long a claimed delivery is held from other nodes: past a send's 10 s timeout. One whose
    /// node stopped mid-send is due again after it.
    static let lease: TimeInterval = 60

    /// Ended deliveries stay in the log this long.
    static let logWindow: TimeInterval = 30 * 24 * 3600

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                // Sends run beside the rounds, not inside them: a round never waits for an endpoint.
                try await withThrowingDiscardingTaskGroup { group in
                    while true {
                        await round(&group)
                        try await Task.sleep(for: webhooks.settings.webhookPoll)
                    }
                }
            }
        } catch is CancellationError {
            // Shutting down: what was not sent stays pending in the outbox.
        }
    }

    /// Hands finished jobs' events on, then starts the due deliveries that have room: not one
    /// already in flight, at most `perEndpoint` to one URL, `parallel` in all.
    func round(_ group: inout ThrowingDiscardingTaskGroup<any Error>) async {
        do { try await webhooks.takeJobEvents(present: present) } catch { logger.warning("webhooks: \(error)") }
        do {
            // Claimed for a lease longer than a send may take; one that cannot start here goes back.
            for delivery in try await webhooks.outbox.claim(at: Date(), limit: 64, lease: Self.lease) {
                guard inFlight.start(delivery, perEndpoint: Self.perEndpoint, total: Self.parallel) else {
                    try await webhooks.outbox.release(delivery.id, at: Date())
                    continue
                }
                let (webhooks, logger, inFlight) = (webhooks, logger, inFlight)
                group.addTask {
                    defer { inFlight.end(delivery) }
                    do { try await webhooks.send(delivery, client: Webhooks.client, logger: logger) } catch is CancellationError {
                        // Shutting down: it stays pending, due again once its claim runs out.
                    } catch {
                        logger.warning("webhooks: \(error)")
                    }
                }
            }
        } catch {
            logger.warning("webhooks: \(error)")
        }
    }

    /// The deliveries being sent, by id and by endpoint URL.
    final class InFlight: Sendable {
        private let state = Mutex<(ids: Set<String>, byURL: [String: Int])>(([], [:]))

        func start(_ delivery: WebhookDelivery, perEndpoint: Int, total: Int) -> Bool {
            state.withLock { state in
                guard !state.ids.contains(delivery.id), state.ids.count < total,
                      state.byURL[delivery.url, default: 0] < perEndpoint else { return false }
                state.ids.insert(delivery.id)
                state.byURL[delivery.url, default: 0] += 1
                return true
            }
        }

        func end(_ delivery: WebhookDelivery) {
            state.withLock { state in
                state.ids.remove(delivery.id)
                state.byURL[delivery.url, default: 1] -= 1
                if state.byURL[delivery.url] == 0 { state.byURL[delivery.url] = nil }
            }
        }
    }
}

/// One line of `GET /v1/webhooks/deliveries`.
struct DeliveryView: Encodable, Sendable {
    let id: String
    let eventId: String
    let type: String
    let endpoint: String
    let url: String
    let status: String
    let attempts: Int
    let lastStatus: Int?
    let lastError: String?
    let nextAttemptAt: String?
    let createdAt: String
    let deliveredAt: String?

    init(_ delivery: WebhookDelivery) {
        id = delivery.id
        eventId = delivery.eventID
        type = delivery.type
        endpoint = delivery.endpoint.rawValue
        url = delivery.url
        status = delivery.status.rawValue
        attempts = delivery.attempts
        lastStatus = delivery.lastStatus
        lastError = delivery.lastError
        nextAttemptAt = delivery.status == .pending ? delivery.nextAttemptAt.formatted(.iso8601) : nil
        createdAt = delivery.createdAt.formatted(.iso8601)
        deliveredAt = delivery.deliveredAt?.formatted(.iso8601)
    }

    enum CodingKeys: String, CodingKey {
        case id, type, endpoint, url, status, attempts
        case eventId = "event_id", lastStatus = "last_status", lastError = "last_error"
        case nextAttemptAt = "next_attempt_at", createdAt = "created_at", deliveredAt = "delivered_at"
    }
}
