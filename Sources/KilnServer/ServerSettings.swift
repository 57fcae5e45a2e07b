import Foundation
import KilnPipeline

/// How `kiln serve` runs: the engine's configuration plus the HTTP front end's own settings.
public struct ServerSettings: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests); `KilnServer.port()` tells which.
    public var port = 8080
    public var engine: KilnConfiguration
    /// Requests per minute per API key (`KILN_RATE_LIMIT`).
    public var rateLimit = 600
    /// A connection that sends nothing for this long is closed (a stalled upload included).
    public var idleTimeout: Duration = .seconds(60)
    /// Secrets that sign fetch URLs (`--url-secret`; the first signs, all verify). Empty: one
    /// is made and kept in `<data>/url-secret`.
    public var urlSecrets: [String] = []
    /// The longest life of a fetch URL.
    public var urlMaxLifetime: Duration = .seconds(7 * 24 * 3600)
    /// Where platforms reach this server (`--public-url`); nil: `http://host:port`.
    public var publicURL: String?
    /// How long `/ready` reuses its last check of the database and store (a probe every second
    /// from each balancer does not reach the bucket every second).
    public var readyCache: Duration = .seconds(5)
    /// The longest `GET /v1/jobs/{id}?wait=true` holds a request.
    public var waitLimit: Duration = .seconds(30)
    /// On SIGTERM, how long in-flight requests and jobs may take before they are cancelled
    /// (cancelled jobs are queued again and run after the next start).
    public var shutdownGrace: Duration = .seconds(30)
    /// How long a claimed job is held without a renewal; the name the server claims jobs under.
    public var lease: Duration = .seconds(30)
    public var workerName = "local"
    /// A shared job queue (`postgres://…`, `kiln serve --queue`): jobs are run by `kiln worker`s
    /// on any machine (and by this server too), their inputs handed off through the store.
    /// Nil: the embedded SQLite queue, run here.
    public var queueURL: String?
    /// Where keys, media records, idempotency answers, resumable upload records and the
    /// webhook outbox live when several API nodes share them (`postgres://…`, `kiln serve
    /// --database`). Nil: in the queue's PostgreSQL when there is one, else the embedded SQLite.
    public var databaseURL: String?
    /// How long a start waits for the shared database to answer and be migrated (FILE_006 past it).
    public var databaseWait: Duration = .seconds(30)
    /// Told the secret of a first key (media:write), made when the server starts on a database
    /// where no key was ever made (`--first-key`); nil: none is made.
    public var firstKey: (@Sendable (String) -> Void)?
    /// How long a resumable upload lives after its last chunk (tus `Upload-Expires`).
    public var uploadExpiry: Duration = .seconds(24 * 3600)
    /// The most a resumable upload lives from its creation, chunks or not.
    public var uploadLifetime: Duration = .seconds(7 * 24 * 3600)
    /// With shared state (each chunk an object in the bucket): the smallest chunk but the last,
    /// so one upload cannot be made of thousands of tiny objects.
    public var uploadMinChunk: Int64 = 256 << 10
    /// The most unfinished resumable uploads one tenant may have open, and bytes in them.
    public var tenantOpenUploads = 100
    public var tenantUploadBytes: Int64 = 50_000_000_000
    /// Where every job and deletion event is posted (`kiln serve --webhook`), besides each key's
    /// own webhook; signed with each of `webhookSecrets` (two while one is rotated).
    public var webhookURLs: [String] = []
    /// Origins whose pages may call the API from a browser (`--cors-origin`; `*` for any).
    public var corsOrigins: [String] = []
    public var webhookSecrets: [String] = []
    /// Whether keys' webhooks may reach loopback, private and link-local addresses (the
    /// operator's own `--webhook` always may).
    public var webhookAllowPrivate = false
    /// A failed delivery is tried again after this, then after twice as long each time (at most
    /// an hour between two), `webhookAttempts` times in all.
    public var webhookBackoff: Duration = .seconds(5)
    public var webhookAttempts = 12
    /// How often the outbox is looked at.
    public var webhookPoll: Duration = .milliseconds(500)
    /// How long an `Idempotency-Key`'s answer is kept, and an ended job (its status, result and
    /// error for polls); how often both are pruned (with the webhook log).
    public var idempotencyRetention: Duration = .seconds(24 * 3600)
    public var jobRetention: Duration = .seconds(7 * 24 * 3600)
    public var housekeeping: Duration = .seconds(3600)
    /// How often expired uploads are removed and completed ones left unprocessed are processed.
    public var uploadSweep: Duration = .seconds(60)

    public init(engine: KilnConfiguration) { self.engine = engine }

    /// A worker name unique to this process on a shared queue (several workers share a host).
    public static var processWorkerName: String {
        ProcessInfo.processInfo.hostName + "-" + String(ProcessInfo.processInfo.processIdentifier)
    }
}
