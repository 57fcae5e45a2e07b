import Foundation
import KilnCore
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The job queue in PostgreSQL, shared by `kiln serve` and any number of `kiln worker`s on any
/// machines (SPEC §8). The same contract as the embedded queue (`JobQueue`, and its
/// conformance suite): a claim is one `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED)`,
/// so concurrent claimers never take one job twice nor wait on each other; leases, retries,
/// dead letters and unique jobs are columns and partial indexes; an enqueue sends
/// `NOTIFY kiln_jobs`, which wakes idle workers (`onWork`) without polling.
///
/// `run()` keeps the connection pool and the LISTEN connection up; `serving(_:)` also
/// migrates (several processes may migrate at once: an advisory lock serializes them).
public final class PostgresJobQueue: JobQueue {
    public static let channel = "kiln_jobs"

    /// The database it lives in, shared with the other stores of one process.
    public let database: PostgresDatabase
    private var logger: Logger { database.logger }
    private let handlers = Mutex<[@Sendable () -> Void]>([])

    /// A queue in the database `url` names (see `PostgresDatabase`). FILE_007 when it cannot be read.
    public convenience init(url: String, logger: Logger = Logger(label: "kiln.queue"),
                            now testClock: (@Sendable () -> Date)? = nil) throws(KilnError)
    {
        self.init(database: try PostgresDatabase(url: url, logger: logger, now: testClock))
    }

    public init(database: PostgresDatabase) { self.database = database }

    // MARK: Service

    /// The pool, and a connection that LISTENs (reconnected when it drops), until cancelled:
    /// its owner cancels it once the work that uses it is done (not at the start of a graceful
    /// shutdown, when running jobs still renew their leases and record their ends).
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.database.run() }
            group.addTask { await self.listen() }
        }
    }

    /// Runs `body` with the queue up: the pool and LISTEN running, the schema migrated (within
    /// `migrateWithin`); cancels them once `body` is done. What every process that uses the
    /// shared queue wraps its work in.
    public func serving<T: Sendable>(migrateWithin limit: Duration = .seconds(30),
                                     _ body: @Sendable () async throws -> T) async throws -> T {
        try await database.serving(migrateWithin: limit, alongside: { await self.listen() }, body)
    }

    /// Brings the schema up to date (`PostgresDatabase.migrate`).
    public func migrate(within limit: Duration = .seconds(30)) async throws(KilnError) {
        try await database.migrate(within: limit)
    }

    /// FILE_006 unless the database answers within `limit` (readiness probes).
    public func checkAvailable(within limit: Duration = .seconds(5)) async throws(KilnError) {
        try await database.checkAvailable(within: limit)
    }

    private func listen() async {
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        // Look once on (re)connecting: work may have come while nobody listened.
                        self.wakeHandlers()
                        for try await _ in notifications { self.wakeHandlers() }
                    }
                }
            } catch where !Task.isCancelled {
                logger.warning("listening for new jobs failed (workers poll meanwhile): \(PostgresDatabase.describe(error))")
                try? await Task.sleep(for: .seconds(1))
            } catch {}
        }
    }

    private func wakeHandlers() {
        for handler in handlers.withLock({ $0 }) { handler() }
    }

    public func onWork(_ handler: @escaping @Sendable () -> Void) {
        handlers.withLock { $0.append(handler) }
    }

    // MARK: JobQueue

    private static let columns = """
        id, kind, status, stage, progress, priority, payload, result, error, attempts, dedupe_key, worker,
        cancel_requested, dead_letter, created_at, updated_at
        """

    public func enqueue(_ job: NewJob) async throws(KilnError) -> JobRecord {
        let time = database.clock()
        let record: JobRecord? = try await database.query { client in
            // A concurrent enqueue of the same key may win the insert, and its job may even end
            // before the read: a few rounds settle it.
            for _ in 0..<5 {
                if let inserted = try await Self.first(client.query("""
                    INSERT INTO kiln_jobs (id, kind, status, priority, payload, dedupe_key, available_at, created_at, updated_at)
                    VALUES (\(job.id), \(job.kind), 'queued', \(job.priority), \(job.payload), \(job.dedupeKey), \(unescaped: time), \(unescaped: time), \(unescaped: time))
                    ON CONFLICT (dedupe_key) WHERE status IN ('queued', 'running') DO NOTHING
                    RETURNING \(unescaped: Self.columns)
                    """, logger: self.logger)) {
                    try await client.query("SELECT pg_notify(\(Self.channel), \(job.kind))", logger: self.logger)
                    return inserted
                }
                if let existing = try await Self.first(client.query("""
                    SELECT \(unescaped: Self.columns) FROM kiln_jobs
                    WHERE dedupe_key = \(job.dedupeKey) AND status IN ('queued', 'running')
                    """, logger: self.logger)) {
                    return existing
                }
            }
            return nil
        }
        guard let record else { throw KilnError.internalError("job \(job.id) could not be added (its key kept changing hands)") }
        return record
    }

    public func claim(worker: String, lease: Duration) async throws(KilnError) -> JobRecord? {
        let time = database.clock()
        let expiry = database.clock(JobControl.seconds(lease))
        return try await database.query { client in
            // A job whose workers were all lost is not offered again: it is a dead letter.
            try await client.query("""
                UPDATE kiln_jobs SET status = 'failed', dead_letter = true, error = \(JobPolicy.workersLost(JobPolicy.maxAttempts)),
                    worker = NULL, lease_expires_at = NULL, updated_at = \(unescaped: time)
                WHERE status = 'running' AND lease_expires_at < \(unescaped: time) AND attempts >= \(JobPolicy.maxAttempts)
                """, logger: self.logger)
            return try await Self.first(client.query("""
                UPDATE kiln_jobs SET status = 'running', worker = \(worker), lease_expires_at = \(unescaped: expiry),
                    attempts = attempts + 1, updated_at = \(unescaped: time)
                WHERE id = (
                    SELECT id FROM kiln_jobs
                    WHERE (status = 'queued' AND available_at <= \(unescaped: time)) OR (status = 'running' AND lease_expires_at < \(unescaped: time))
                    ORDER BY priority DESC, created_at, id
                    FOR UPDATE SKIP LOCKED LIMIT 1)
                RETURNING \(unescaped: Self.columns)
                """, logger: self.logger))
        }
    }

    public func renew(_ id: String, worker: String, lease: Duration, stage: String?, progress: Double)
        async throws(KilnError) -> LeaseAnswer
    {
        let time = database.clock()
        let expiry = database.clock(JobControl.seconds(lease))
        return try await database.query { client in
            let rows = try await client.query("""
                UPDATE kiln_jobs SET lease_expires_at = \(unescaped: expiry), stage = \(stage), progress = \(progress), updated_at = \(unescaped: time)
                WHERE id = \(id) AND worker = \(worker) AND status = 'running'
                RETURNING cancel_requested
                """, logger: self.logger)
            for try await cancel in rows.decode(Bool.self) { return cancel ? .cancelRequested : .held }
            return .lost
        }
    }

    @discardableResult
    public func finish(_ id: String, worker: String, _ outcome: JobOutcome) async throws(KilnError) -> Bool {
        let time = database.clock()
        return try await database.query { client in
            try await client.withTransaction(logger: self.logger) { connection in
                var attempts: Int?
                for try await value in try await connection.query("""
                    SELECT attempts FROM kiln_jobs WHERE id = \(id) AND worker = \(worker) AND status = 'running' FOR UPDATE
                    """, logger: self.logger).decode(Int.self) { attempts = value }
                guard let attempts else { return false }
                switch outcome {
                case .succeeded(let result):
                    try await connection.query("""
                        UPDATE kiln_jobs SET status = 'succeeded', result = \(result), progress = 1, stage = 'done',
                            worker = NULL, lease_expires_at = NULL, updated_at = \(unescaped: time) WHERE id = \(id)
                        """, logger: self.logger)
                case .failed(let error, let retry) where retry && attempts < JobPolicy.maxAttempts:
                    let due = database.clock(JobPolicy.backoff(afterAttempt: attempts))
                    try await connection.query("""
                        UPDATE kiln_jobs SET status = 'queued', error = \(error), worker = NULL, lease_expires_at = NULL,
                            available_at = \(unescaped: due), updated_at = \(unescaped: time) WHERE id = \(id)
                        """, logger: self.logger)
                case .failed(let error, let retry):
                    try await connection.query("""
                        UPDATE kiln_jobs SET status = 'failed', error = \(error), dead_letter = \(retry), worker = NULL,
                            lease_expires_at = NULL, updated_at = \(unescaped: time) WHERE id = \(id)
                        """, logger: self.logger)
                case .cancelled(let error):
                    try await connection.query("""
                        UPDATE kiln_jobs SET status = 'cancelled', error = \(error), worker = NULL, lease_expires_at = NULL,
                            updated_at = \(unescaped: time) WHERE id = \(id)
                        """, logger: self.logger)
                }
                return true
            }
        }
    }

    public func cancel(_ id: String, reason: Data) async throws(KilnError) -> JobRecord? {
        let time = database.clock()
        return try await database.query { client in
            // One statement: a queued job is cancelled, a running one is asked (its worker reads
            // the request at its next lease renewal, within a second).
            try await Self.first(client.query("""
                UPDATE kiln_jobs SET
                    status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
                    error = CASE WHEN status = 'queued' THEN \(reason) ELSE error END,
                    cancel_requested = cancel_requested OR status = 'running',
                    updated_at = CASE WHEN status IN ('queued', 'running') THEN \(unescaped: time) ELSE updated_at END
                WHERE id = \(id)
                RETURNING \(unescaped: Self.columns)
                """, logger: self.logger))
        }
    }

    @discardableResult
    public func release(worker: String) async throws(KilnError) -> Int {
        let time = database.clock()
        return try await database.query { client in
            var count = 0
            for try await _ in try await client.query("""
                UPDATE kiln_jobs SET status = 'queued', worker = NULL, lease_expires_at = NULL, available_at = \(unescaped: time),
                    updated_at = \(unescaped: time) WHERE worker = \(worker) AND status = 'running' RETURNING id
                """, logger: self.logger) { count += 1 }
            if count > 0 { try await client.query("SELECT pg_notify(\(Self.channel), 'released')", logger: self.logger) }
            return count
        }
    }

    public func job(_ id: String) async throws(KilnError) -> JobRecord? {
        try await database.query { client in
            try await Self.first(client.query("SELECT \(unescaped: Self.columns) FROM kiln_jobs WHERE id = \(id)", logger: self.logger))
        }
    }

    public func stats() async throws(KilnError) -> QueueStats {
        let time = database.clock()
        return try await database.query { client in
            var counts: [JobStatus: Int] = [:]
            for try await (status, count) in try await client.query(
                "SELECT status, count(*)::bigint FROM kiln_jobs GROUP BY status", logger: self.logger
            ).decode((String, Int).self) {
                if let status = JobStatus(rawValue: status) { counts[status] = count }
            }
            var dead = 0
            var oldest: Date?
            for try await (count, first) in try await client.query("""
                SELECT (SELECT count(*) FROM kiln_jobs WHERE dead_letter AND status = 'failed')::bigint,
                       (SELECT min(created_at) FROM kiln_jobs WHERE status = 'queued' AND available_at <= \(unescaped: time))
                """, logger: self.logger).decode((Int, Date?).self) { (dead, oldest) = (count, first) }
            return QueueStats(counts: counts, deadLetters: dead, oldestQueuedAt: oldest)
        }
    }

    public func deadLetters(limit: Int) async throws(KilnError) -> [JobRecord] {
        try await database.query { client in
            var records: [JobRecord] = []
            for try await row in try await client.query("""
                SELECT \(unescaped: Self.columns) FROM kiln_jobs WHERE dead_letter AND status = 'failed'
                ORDER BY updated_at DESC, id LIMIT \(limit)
                """, logger: self.logger) { records.append(try Self.record(row)) }
            return records
        }
    }

    public func requeue(_ id: String) async throws(KilnError) -> JobRecord? {
        let time = database.clock()
        return try await database.query { client in
            let record = try await Self.first(client.query("""
                UPDATE kiln_jobs SET status = 'queued', dead_letter = false, attempts = 0, error = NULL,
                    available_at = \(unescaped: time), updated_at = \(unescaped: time)
                WHERE id = \(id) AND dead_letter AND status = 'failed'
                RETURNING \(unescaped: Self.columns)
                """, logger: self.logger))
            if record != nil { try await client.query("SELECT pg_notify(\(Self.channel), 'requeued')", logger: self.logger) }
            return record
        }
    }

    public func pendingEvents(limit: Int) async throws(KilnError) -> [JobRecord] {
        try await database.query { client in
            var records: [JobRecord] = []
            for try await row in try await client.query("""
                SELECT \(unescaped: Self.columns) FROM kiln_jobs
                WHERE event_sent_at IS NULL AND status IN ('succeeded', 'failed', 'cancelled')
                ORDER BY updated_at, id LIMIT \(limit)
                """, logger: self.logger) { records.append(try Self.record(row)) }
            return records
        }
    }

    @discardableResult
    public func markEventSent(_ id: String) async throws(KilnError) -> Bool {
        let time = database.clock()
        return try await database.query { client in
            let rows = try await client.query("""
                UPDATE kiln_jobs SET event_sent_at = \(unescaped: time) WHERE id = \(id) AND event_sent_at IS NULL RETURNING id
                """, logger: self.logger)
            for try await _ in rows { return true }
            return false
        }
    }

    @discardableResult
    public func prune(endedLongerThan retention: Duration) async throws(KilnError) -> Int {
        let time = database.clock(-JobControl.seconds(retention))
        return try await database.query { client in
            let rows = try await client.query("""
                DELETE FROM kiln_jobs WHERE status IN ('succeeded', 'failed', 'cancelled') AND NOT dead_letter
                    AND event_sent_at IS NOT NULL AND updated_at < \(unescaped: time) RETURNING id
                """, logger: self.logger)
            var count = 0
            for try await _ in rows { count += 1 }
            return count
        }
    }

    // MARK: Rows and errors

    private static func first(_ rows: PostgresRowSequence) async throws -> JobRecord? {
        for try await row in rows { return try record(row) }
        return nil
    }

    private static func record(_ row: PostgresRow) throws -> JobRecord {
        let (id, kind, status, stage, progress, priority, payload, result, error, attempts, dedupeKey, worker,
             cancelRequested, deadLetter, createdAt, updatedAt) = try row.decode(
            (String, String, String, String?, Double, Int, Data, Data?, Data?, Int, String?, String?, Bool, Bool, Date, Date).self)
        return JobRecord(id: id, kind: kind, status: JobStatus(rawValue: status) ?? .failed, stage: stage, progress: progress,
                         priority: priority, payload: payload, result: result, error: error, attempts: attempts,
                         dedupeKey: dedupeKey, worker: worker, cancelRequested: cancelRequested, deadLetter: deadLetter,
                         createdAt: createdAt, updatedAt: updatedAt)
    }
}
