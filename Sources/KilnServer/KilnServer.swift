import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnQueue
import Logging
import NIOCore
import NIOHTTPTypes
import ServiceLifecycle
import Synchronization

/// The HTTP API (`kiln serve`, SPEC §6): one engine (`Pipeline`), the embedded database, and
/// the routes. Built by one call that tests make with in-memory settings and port 0; run as a
/// swift-service-lifecycle `Service`: on graceful shutdown the listener drains in-flight
/// requests, then the job runner lets running jobs finish.
public final class KilnServer: Service, Sendable {
    public let settings: ServerSettings
    public let pipeline: Pipeline
    public let database: KilnDatabase
    let queue: any JobQueue
    /// Keys, media records, idempotency answers, upload records and the webhook outbox: in the
    /// embedded database, or in PostgreSQL shared by every node (`--database`).
    public let state: SharedState
    /// The shared database, when the state (or the queue) lives in PostgreSQL.
    let shared: PostgresDatabase?
    var keys: any KeyStore { state.keys }
    var idempotency: any IdempotencyStore { state.idempotency }
    var records: any MediaRecordStore { state.records }
    let uploads: UploadArea
    let metrics = KilnMetrics()
    let limiter: RateLimiter
    /// What `/ready` answers, reused for `settings.readyCache`.
    let readiness: Readiness
    /// Received uploads to media now or to a job: every upload route and the upload sweeper hand theirs here.
    let ingest: IngestService
    let runner: JobRunner
    /// Stored media as the routes reach it and show it.
    var media: MediaAccess {
        MediaAccess(store: pipeline.store, records: records) { [weak self] in
            self?.listeningPort.flatMap { self?.fetchURLs(port: $0) }
        }
    }
    /// A complete resumable upload's last step: the tus handler's and the sweeper's.
    var completion: UploadCompletion {
        UploadCompletion(area: uploads, ingest: ingest, answers: IngestAnswers(present: media.present),
                         base: settings.engine.ingestOptions)
    }
    let logger: Logger
    let formats: FormatSupport
    /// The secrets that sign and check the keyless URLs of renditions: given (`--url-secret`),
    /// or the one kept in the state, made once for every node (known once the server starts).
    private let keptURLSecrets = Mutex<[String]>([])
    var urlSecrets: [String] { settings.urlSecrets.isEmpty ? keptURLSecrets.withLock { $0 } : settings.urlSecrets }
    private let boundPort = Mutex<(port: Int?, waiters: [CheckedContinuation<Int, Never>])>((nil, []))

    /// Opens the database, builds the pipeline and checks the configuration: FILE_007, API_001
    /// or FILE_006 before anything listens.
    public init(settings: ServerSettings, logger: Logger = Logger(label: "kiln")) async throws(KilnError) {
        self.settings = settings
        self.logger = logger
        database = try KilnDatabase(directory: settings.engine.dataDirectory)
        pipeline = try await settings.engine.makePipeline()
        // The queue's database holds the shared state too, unless another is named.
        let shared = try (settings.databaseURL ?? settings.queueURL).map { url throws(KilnError) in
            try PostgresDatabase(url: url, logger: logger)
        }
        self.shared = shared
        switch (settings.queueURL, shared) {
        case (let url?, let shared?) where url == (settings.databaseURL ?? url):
            queue = PostgresJobQueue(database: shared)
        case (let url?, _):
            // The queue in a database of its own (`--queue` and `--database` name two).
            queue = try PostgresJobQueue(url: url, logger: logger)
        default:
            queue = SQLiteJobQueue(database)
        }
        state = shared.map(SharedState.postgres) ?? .embedded(database)
        // Shared state: an upload's chunks go to the store every node reads, not this node's disk.
        let bytes: any UploadBytes = if shared != nil, let store = pipeline.store {
            ObjectUploadBytes(objects: store.handOff, scratch: pipeline.temporaryDirectory)
        } else {
            FileUploadBytes(directory: settings.engine.dataDirectory + "/uploads")
        }
        uploads = UploadArea(bytes: bytes, records: state.uploads,
                             expiry: settings.uploadExpiry, lifetime: settings.uploadLifetime)
        limiter = RateLimiter(limit: settings.rateLimit, counter: state.rates)
        formats = FormatSupport.current()
        readiness = Readiness(database: database, shared: shared, queue: queue, store: pipeline.store, cache: settings.readyCache)
        ingest = IngestService(pipeline: pipeline, queue: queue, records: state.records, base: settings.engine.ingestOptions,
                               dataDirectory: settings.engine.dataDirectory, shared: queue is PostgresJobQueue)
        runner = JobRunner(queue: queue, ingest: ingest, metrics: metrics,
                           settings: RunnerSettings(workerName: settings.workerName, lease: settings.lease,
                                                    dataDirectory: settings.engine.dataDirectory,
                                                    timeout: settings.engine.ingestOptions.timeout),
                           logger: logger)
    }

    /// The port, when the server listens already (nil before).
    public var listeningPort: Int? { boundPort.withLock { $0.port } }

    /// The port the server listens on, once it does.
    public func port() async -> Int {
        await withCheckedContinuation { continuation in
            let port: Int? = boundPort.withLock { state in
                if state.port == nil { state.waiters.append(continuation) }
                return state.port
            }
            if let port { continuation.resume(returning: port) }
        }
    }

    /// Whether workers elsewhere run this server's jobs (inputs are then handed off in the store).
    var queueIsShared: Bool { ingest.shared }

    public func run() async throws {
        // The shared database's connections stay up until the server (and its running jobs) is done.
        let wait = settings.databaseWait
        let queue = queue as? PostgresJobQueue
        let state = shared.flatMap { $0 === queue?.database ? nil : $0 }
        // Each PostgreSQL database up (the queue's with its LISTEN), the innermost serving.
        let served: @Sendable () async throws -> Void = {
            guard let queue else { return try await self.serve() }
            try await queue.serving(migrateWithin: wait) { try await self.serve() }
        }
        guard let state else { return try await served() }
        try await state.serving(migrateWithin: wait, served)
    }

    private func serve() async throws {
        if shared != nil, let count = try await StateCopy.keysLeftBehind(embedded: database, shared: state.keys) {
            // An upgrade to shared state would answer every old key 401: refuse, and say how.
            let directory = settings.engine.dataDirectory
            throw KilnError.storageNotConfigured(
                "the shared database has no API keys while the embedded one in \(directory) holds \(count); "
                + "copy them first: kiln state copy --from \(directory) --to <the shared database's postgres:// URL>, then start again")
        }
        try await makeFirstKey()
        if settings.urlSecrets.isEmpty {
            // One secret for every node on a shared state; an embedded server's comes from the
            // file earlier versions kept it in (fetch URLs outlive the upgrade).
            let (directory, embedded) = (settings.engine.dataDirectory, shared == nil)
            let secret = try await state.kept.value("url-secret") { () throws(KilnError) in
                embedded ? try Self.keptSecret(in: directory) : Self.newSecret()
            }
            keptURLSecrets.withLock { $0 = [secret] }
        }
        let idle = settings.idleTimeout
        let app = Application(
            router: makeRouter(),
            server: .http1(configuration: .init(additionalChannelHandlers: [IdleStateHandler(readTimeout: TimeAmount(idle)),
                                                                            CloseWhenIdle()],
                                                idleTimeout: TimeAmount(idle))),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "kiln"),
            // With a shared queue this is the API tier: `kiln worker`s run the jobs.
            services: (queueIsShared ? [] : [runner]) + backgroundServices(),
            onServerRunning: { channel in self.listening(on: channel) },
            logger: logger)
        try await app.run()
    }

    /// A first key when one is asked for and none was ever made (revoking every key must not
    /// open a way back in): before the server listens, on whichever database holds the keys.
    private func makeFirstKey() async throws(KilnError) {
        guard let tell = settings.firstKey, let first = try await keys.createFirst(name: "first key", scope: .write) else { return }
        tell(first.secret)
    }

    /// What runs beside the listener: resumable uploads' upkeep, the webhook outbox, and the
    /// pruning of what is kept for a while.
    private func backgroundServices() -> [any Service] {
        [UploadSweeper(completion: completion, interval: settings.uploadSweep, logger: logger),
                WebhookDeliverer(webhooks: Webhooks(server: self), present: media.present, logger: logger),
                Housekeeping(server: self, logger: logger)]
    }

    private func listening(on channel: any Channel) {
        let port = channel.localAddress?.port ?? 0
        let waiters = boundPort.withLock { state in
            state.port = port
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
        logger.info("kiln serve listening on http://\(settings.host):\(port)")
    }

    /// The resources' controllers, each with its own dependencies.
    func controllers() -> [any Controller] {
        let media = media
        let answers = IngestAnswers(present: media.present)
        return [
            MediaUploadController(ingest: ingest, answers: answers, idempotency: idempotency, metrics: metrics,
                                  base: settings.engine.ingestOptions),
            MediaController(media: media, metrics: metrics, webhooks: Webhooks(server: self)),
            FetchController(media: media, metrics: metrics),
            JobsController(queue: queue, runner: runner, outbox: state.outbox, present: media.present, waitLimit: settings.waitLimit),
            UploadsController(pipeline: pipeline, area: uploads, completion: completion, metrics: metrics, settings: settings),
            KeysController(keys: keys),
            OperationsController(pipeline: pipeline, formats: formats, metrics: metrics, queue: queue, readiness: readiness),
        ]
    }

    /// The one list of routes (`openapi.yaml` describes each; a test keeps them equal).
    func routes() -> [Route] { controllers().flatMap(\.routes) }

    func makeRouter() -> Router<KilnRequestContext> {
        let table = routes()
        var routes = RouteCatalog()
        for route in table { routes.add(route.method, route.path) }
        let router = Router(context: KilnRequestContext.self)
        // Middleware applies to the routes added after it, and to "not found". A span per request
        // first (a no-op without a tracer), continuing a caller's `traceparent`.
        router.middlewares.add(TracingMiddleware<KilnRequestContext>())
        router.middlewares.add(FrontMiddleware(routes: routes, metrics: metrics,
                                               cors: CORSPolicy(origins: settings.corsOrigins)))
        let keyed = Dictionary(uniqueKeysWithValues: Scope.allCases.map {
            ($0, router.group().add(middleware: AccessMiddleware(keys: keys, limiter: limiter, needed: $0)))
        })
        for route in table {
            if let scope = route.scope, let group = keyed[scope] {
                group.on(RouterPath(route.path), method: route.method, use: route.handler)
            } else {
                router.on(RouterPath(route.path), method: route.method, use: route.handler)
            }
        }
        return router
    }
}

/// Closes a connection that has read nothing for the idle time (a stalled upload, a silent
/// keep-alive connection); the body iterator then fails and the upload's temp file goes. A
/// connection whose request has been read whole and whose answer is not yet sent is the server's
/// to finish (queued image work, the last tus chunk, a slow download): silence from the client
/// is expected then, and it is not cut. One per connection (the handlers are made per channel).
final class CloseWhenIdle: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Touched only on the channel's event loop.
    private var working = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { working = true }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { working = false }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            if !working { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
