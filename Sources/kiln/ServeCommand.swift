import ArgumentParser
import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnServer
import Logging
import ServiceLifecycle

/// `kiln serve`: the HTTP API on the engine, under swift-service-lifecycle. SIGTERM or SIGINT
/// stops accepting connections, lets in-flight requests and jobs finish (at most
/// `--shutdown-grace` seconds), then exits 0.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP API.")

    @OptionGroup var settings: PipelineSettings

    @Option(name: .long, help: "Address to listen on (env KILN_HOST; default: 127.0.0.1).")
    var host: String?

    @Option(name: .long, help: "Port to listen on, 0 for any free one (env KILN_PORT; default: 8080).")
    var port: Int?

    @Option(name: .long, help: "Requests per minute per API key (env KILN_RATE_LIMIT; default: 600).")
    var rateLimit: Int?

    @Option(name: .long, help: "Seconds a connection may send nothing before it is closed (default: 60).")
    var idleTimeout: Double = 60

    @Option(name: .long, help: "Seconds in-flight work may take after SIGTERM (default: 30).")
    var shutdownGrace: Double = 30

    @Option(name: .long, help: "A shared job queue, postgres://USER:PASSWORD@HOST[:PORT]/DB (env KILN_QUEUE_URL): video jobs are then run by `kiln worker`s, their files handed off through the store.")
    var queue: String?

    @Option(name: .long, help: "Where keys, media records, idempotency answers, upload records and the webhook outbox live, postgres://USER:PASSWORD@HOST[:PORT]/DB (env KILN_DATABASE_URL; default: the --queue database, else the embedded SQLite): every API node on it is interchangeable.")
    var database: String?

    @Option(name: .long, help: "Post every job and deletion event to this URL (repeat for several; env KILN_WEBHOOK_URLS, comma-separated). Keys may have their own: `kiln keys webhook`.")
    var webhook: [String] = []

    @Option(name: .long, help: "A secret that signs the --webhook events (repeat while rotating: each signs; env KILN_WEBHOOK_SECRETS, comma-separated).")
    var webhookSecret: [String] = []

    @Flag(name: .long, help: "Let keys' webhooks reach loopback, private and link-local addresses (env KILN_WEBHOOK_ALLOW_PRIVATE=1); the server's own --webhook always may.")
    var webhookAllowPrivate = false

    @Option(name: .long, help: "Hours a resumable upload (/v1/uploads) lives after its last chunk (env KILN_UPLOAD_EXPIRY_HOURS; default: 24).")
    var uploadExpiryHours: Double?

    @Option(name: .long, help: "Hours a resumable upload may live from its creation, however its chunks come (env KILN_UPLOAD_LIFETIME_HOURS; default: 168).")
    var uploadLifetimeHours: Double?

    @Option(name: .long, help: "With shared state, the smallest resumable upload chunk but the last, in bytes (env KILN_UPLOAD_MIN_CHUNK; default: 262144).")
    var uploadMinChunk: Int64?

    @Option(name: .long, help: "An origin whose pages may call the API from a browser, e.g. https://app.example.com (repeat for several, * for any; env KILN_CORS_ORIGINS, comma-separated).")
    var corsOrigin: [String] = []

    @Flag(name: .long, help: "Create a first API key (media:write) when no key was ever made, and print it (never after keys were revoked).")
    var firstKey = false

    @Option(name: .long, help: "A secret that signs keyless fetch URLs (repeat while rotating: the first signs, all verify; env KILN_URL_SECRETS, comma-separated; default: one made and kept in DATA/url-secret).")
    var urlSecret: [String] = []

    @Option(name: .long, help: "Hours a fetch URL may live at most (env KILN_URL_MAX_HOURS; default: 168).")
    var urlMaxHours: Double?

    @Option(name: .long, help: "Where platforms reach this server, e.g. https://media.example.com (env KILN_PUBLIC_URL; default: http://HOST:PORT).")
    var publicURL: String?

    @Option(name: .long, help: "Seconds /ready reuses its check of the database and store (env KILN_READY_CACHE; default: 5; 0 checks every time).")
    var readyCache: Double?

    @Option(name: .long, help: "Days an ended job stays readable at /v1/jobs/{id} (env KILN_KEEP_JOBS_DAYS; default: 7).")
    var keepJobsDays: Double?

    @Option(name: .long, help: "Hours an Idempotency-Key's first answer is kept for retries (env KILN_KEEP_IDEMPOTENCY_HOURS; default: 24).")
    var keepIdempotencyHours: Double?

    @Option(name: .long, help: "The most unfinished resumable uploads one tenant may have (env KILN_TENANT_OPEN_UPLOADS; default: 100).")
    var tenantOpenUploads: Int?

    @Option(name: .long, help: "The most bytes one tenant's unfinished resumable uploads may hold, by their declared lengths (env KILN_TENANT_UPLOAD_BYTES; default: 50000000000).")
    var tenantUploadBytes: Int64?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = Telemetry.logger("kiln")
        do {
            let tracing = try Telemetry.start(service: "kiln-serve")
            var server = ServerSettings(engine: try settings.configuration())
            server.host = host ?? environment["KILN_HOST"] ?? server.host
            server.port = port ?? environment["KILN_PORT"].flatMap(Int.init) ?? server.port
            server.rateLimit = rateLimit ?? environment["KILN_RATE_LIMIT"].flatMap(Int.init) ?? server.rateLimit
            server.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
            server.shutdownGrace = .milliseconds(Int64(shutdownGrace * 1000))
            server.queueURL = queue ?? environment["KILN_QUEUE_URL"]
            server.databaseURL = database ?? environment["KILN_DATABASE_URL"]
            func list(_ name: String) -> [String] {
                (environment[name] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            server.webhookURLs = webhook.isEmpty ? list("KILN_WEBHOOK_URLS") : webhook
            server.webhookSecrets = webhookSecret.isEmpty ? list("KILN_WEBHOOK_SECRETS") : webhookSecret
            for url in server.webhookURLs { try WebhookSettings.check(url: url) }
            server.webhookAllowPrivate = webhookAllowPrivate || environment["KILN_WEBHOOK_ALLOW_PRIVATE"] == "1"
            server.corsOrigins = corsOrigin.isEmpty ? list("KILN_CORS_ORIGINS") : corsOrigin
            for origin in server.corsOrigins where origin != "*" && !(origin.hasPrefix("https://") || origin.hasPrefix("http://")) {
                throw KilnError.invalidRequest("--cors-origin \(origin) is not an origin; write it as https://host[:port], or *",
                                               fields: ["cors-origin": "scheme://host[:port]"])
            }
            guard server.webhookURLs.isEmpty || !server.webhookSecrets.isEmpty else {
                throw KilnError.invalidRequest("--webhook needs at least one --webhook-secret to sign its events",
                                               fields: ["webhook-secret": "a secret shared with the receiver"])
            }
            /// A span of time from its flag, else its environment variable, else `fallback`, in
            /// units of `unit` seconds; above 0 (or 0 too, when `zero` allows it).
            func span(_ flag: Double?, _ option: String, _ variable: String, _ fallback: Double, unit: Double,
                      zero: Bool = false) throws(KilnError) -> Duration {
                let value = flag ?? environment[variable].flatMap(Double.init) ?? fallback
                guard value > 0 || (zero && value == 0) else {
                    throw KilnError.invalidRequest("--\(option) must be \(zero ? "0 or more" : "above 0")", fields: [option: "a number"])
                }
                return .milliseconds(Int64(value * unit * 1000))
            }
            let hour = 3600.0
            server.uploadExpiry = try span(uploadExpiryHours, "upload-expiry-hours", "KILN_UPLOAD_EXPIRY_HOURS", 24, unit: hour)
            server.uploadMinChunk = uploadMinChunk ?? environment["KILN_UPLOAD_MIN_CHUNK"].flatMap(Int64.init) ?? server.uploadMinChunk
            server.uploadLifetime = try span(uploadLifetimeHours, "upload-lifetime-hours", "KILN_UPLOAD_LIFETIME_HOURS", 168, unit: hour)
            server.tenantOpenUploads = tenantOpenUploads ?? environment["KILN_TENANT_OPEN_UPLOADS"].flatMap(Int.init) ?? server.tenantOpenUploads
            server.tenantUploadBytes = tenantUploadBytes ?? environment["KILN_TENANT_UPLOAD_BYTES"].flatMap(Int64.init)
                ?? server.tenantUploadBytes
            guard server.tenantOpenUploads > 0, server.tenantUploadBytes > 0 else {
                throw KilnError.invalidRequest("--tenant-open-uploads and --tenant-upload-bytes must be above 0")
            }
            server.jobRetention = try span(keepJobsDays, "keep-jobs-days", "KILN_KEEP_JOBS_DAYS", 7, unit: 24 * hour)
            server.idempotencyRetention = try span(keepIdempotencyHours, "keep-idempotency-hours", "KILN_KEEP_IDEMPOTENCY_HOURS", 24,
                                                   unit: hour)
            server.urlSecrets = urlSecret.isEmpty ? list("KILN_URL_SECRETS") : urlSecret
            server.urlMaxLifetime = try span(urlMaxHours, "url-max-hours", "KILN_URL_MAX_HOURS", 168, unit: hour)
            server.publicURL = publicURL ?? environment["KILN_PUBLIC_URL"]
            if let base = server.publicURL, !(base.hasPrefix("https://") || base.hasPrefix("http://")) {
                throw KilnError.invalidRequest("--public-url \(base) is not a URL; write it as https://host[:port][/path]",
                                               fields: ["public-url": "scheme://host[:port][/path]"])
            }
            server.readyCache = try span(readyCache, "ready-cache", "KILN_READY_CACHE", 5, unit: 1, zero: true)
            // Expired uploads go within a tenth of their lifetime (at most every minute).
            server.uploadSweep = min(.seconds(60), server.uploadExpiry / 10)
            guard server.rateLimit > 0, (0...65535).contains(server.port) else {
                throw KilnError.invalidRequest("the port must be 0-65535 and the rate limit above 0")
            }
            if firstKey {
                server.firstKey = { secret in Self.say("A first API key (media:write), shown once:\n  \(secret)") }
            }
            let kiln = try await KilnServer(settings: server, logger: logger)
            // Services stop in reverse order: the trace exporter flushes last.
            var group = ServiceGroupConfiguration(services: (tracing.map { [$0] } ?? []) + [kiln],
                                                  gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
            // Past the grace, what is still running is cancelled (a cancelled job runs again at the next start).
            group.maximumGracefulShutdownDuration = server.shutdownGrace
            let host = server.host
            Task {
                let port = await kiln.port()
                Self.say("Kiln is serving http://\(host):\(port)/ (the upload page; the API under /v1)")
            }
            try await ServiceGroup(configuration: group).run()
        } catch let error as KilnError {
            FileHandle.standardError.write(Data("kiln serve: \(error.code.rawValue): \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// A line on stdout at once (print is block-buffered when stdout is a file or pipe).
    private static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
}
