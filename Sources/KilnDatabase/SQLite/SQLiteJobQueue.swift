import Foundation
import GRDB
import KilnCore

/// The job queue in the embedded database. SQLite has one writer at a time, so a claim (select
/// the next job, mark it running) inside one write transaction can never hand a job to two
/// workers, across threads or processes.
public struct SQLiteJobQueue: JobQueue {
    let database: KilnDatabase
    /// The clock the queue reads (tests move it to expire leases).
    let now: @Sendable () -> Date

    public init(_ database: KilnDatabase, now: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.now = now
    }

    public func enqueue(_ job: NewJob) async throws(KilnError) -> JobRecord {
        let time = now().timeIntervalSince1970
        defer { for listener in database.workListeners.withLock({ $0 }) { listener() } }
        return try await database.write { db in
            if let key = job.dedupeKey,
               let row = try Row.fetchOne(db, sql: """
                   SELECT * FROM jobs WHERE dedupe_key = ? AND status IN ('queued', 'running') ORDER BY created_at LIMIT 1
                   """, arguments: [key])
            {
                return Self.record(row)
            }
            try db.execute(sql: """
                INSERT INTO jobs (id, kind, status, priority, payload, dedupe_key, available_at, created_at, updated_at)
                VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)
                """, arguments: [job.id, job.kind, job.priority, job.payload, job.dedupeKey, time, time, time])
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [job.id]) else {
                throw KilnError.internalError("job \(job.id) vanished after insert")
            }
            return Self.record(row)
        }
    }

    /// A job enqueued in this process wakes `handler` at once.
    public func onWork(_ handler: @escaping @Sendable () -> Void) {
        database.workListeners.withLock { $0.append(handler) }
    }

    public func claim(worker: String, lease: Duration) async throws(KilnError) -> JobRecord? {
        let time = now().timeIntervalSince1970
        let expiry = time + JobControl.seconds(lease)
        return try await database.write { db in
            // A job whose workers were all lost is not offered a fourth time: it is a dead letter.
            try db.execute(sql: """
                UPDATE jobs SET status = 'failed', dead_letter = 1, error = ?, worker = NULL, lease_expires_at = NULL,
                    updated_at = ? WHERE status = 'running' AND lease_expires_at < ? AND attempts >= ?
                """, arguments: [JobPolicy.workersLost(JobPolicy.maxAttempts), time, time, JobPolicy.maxAttempts])
            guard let row = try Row.fetchOne(db, sql: """
                SELECT * FROM jobs
                WHERE (status = 'queued' AND available_at <= ?)
                   OR (status = 'running' AND lease_expires_at < ?)
                ORDER BY priority DESC, created_at, id LIMIT 1
                """, arguments: [time, time])
            else { return nil }
            let id: String = row["id"]
            try db.execute(sql: """
                UPDATE jobs SET status = 'running', worker = ?, lease_expires_at = ?, attempts = attempts + 1,
                    updated_at = ? WHERE id = ?
                """, arguments: [worker, expiry, time, id])
            return try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.record)
        }
    }

    public func renew(_ id: String, worker: String, lease: Duration, stage: String?, progress: Double)
        async throws(KilnError) -> LeaseAnswer
    {
        let time = now().timeIntervalSince1970
        let expiry = time + JobControl.seconds(lease)
        return try await database.write { db in
            try db.execute(sql: """
                UPDATE jobs SET lease_expires_at = ?, stage = ?, progress = ?, updated_at = ?
                WHERE id = ? AND worker = ? AND status = 'running'
                """, arguments: [expiry, stage, progress, time, id, worker])
            guard db.changesCount == 1 else { return .lost }
            let cancel = try Bool.fetchOne(db, sql: "SELECT cancel_requested FROM jobs WHERE id = ?", arguments: [id])
            return cancel == true ? .cancelRequested : .held
        }
    }

    @discardableResult
    public func finish(_ id: String, worker: String, _ outcome: JobOutcome) async throws(KilnError) -> Bool {
        let time = now().timeIntervalSince1970
        return try await database.write { db in
            guard let attempts = try Int.fetchOne(db, sql: """
                SELECT attempts FROM jobs WHERE id = ? AND worker = ? AND status = 'running'
                """, arguments: [id, worker])
            else { return false }
            switch outcome {
            case .succeeded(let result):
                try db.execute(sql: """
                    UPDATE jobs SET status = 'succeeded', result = ?, progress = 1, stage = 'done', worker = NULL,
                        lease_expires_at = NULL, updated_at = ? WHERE id = ?
                    """, arguments: [result, time, id])
            case .failed(let error, let retry) where retry && attempts < JobPolicy.maxAttempts:
                try db.execute(sql: """
                    UPDATE jobs SET status = 'queued', error = ?, worker = NULL, lease_expires_at = NULL,
                        available_at = ?, updated_at = ? WHERE id = ?
                    """, arguments: [error, time + JobPolicy.backoff(afterAttempt: attempts), time, id])
            case .failed(let error, let retry):
                try db.execute(sql: """
                    UPDATE jobs SET status = 'failed', error = ?, dead_letter = ?, worker = NULL, lease_expires_at = NULL,
                        updated_at = ? WHERE id = ?
                    """, arguments: [error, retry, time, id])
            case .cancelled(let error):
                try db.execute(sql: """
                    UPDATE jobs SET status = 'cancelled', error = ?, worker = NULL, lease_expires_at = NULL,
                        updated_at = ? WHERE id = ?
                    """, arguments: [error, time, id])
            }
            return true
        }
    }

    public func cancel(_ id: String, reason: Data) async throws(KilnError) -> JobRecord? {
        let time = now().timeIntervalSince1970
        return try await database.write { db in
            try db.execute(sql: """
                UPDATE jobs SET status = 'cancelled', error = ?, updated_at = ? WHERE id = ? AND status = 'queued'
                """, arguments: [reason, time, id])
            try db.execute(sql: """
                UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ? AND status = 'running'
                """, arguments: [time, id])
            return try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.record)
        }
    }

    @discardableResult
    public func release(worker: String) async throws(KilnError) -> Int {
        let time = now().timeIntervalSince1970
        return try await database.write { db in
            try db.execute(sql: """
                UPDATE jobs SET status = 'queued', worker = NULL, lease_expires_at = NULL, available_at = ?,
                    updated_at = ? WHERE worker = ? AND status = 'running'
                """, arguments: [time, time, worker])
            return db.changesCount
        }
    }

    public func job(_ id: String) async throws(KilnError) -> JobRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.record)
        }
    }

    public func stats() async throws(KilnError) -> QueueStats {
        let time = now().timeIntervalSince1970
        return try await database.read { db in
            var counts: [JobStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status") {
                if let status = JobStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            let dead = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE dead_letter = 1 AND status = 'failed'") ?? 0
            let oldest = try Double.fetchOne(db, sql: """
                SELECT MIN(created_at) FROM jobs WHERE status = 'queued' AND available_at <= ?
                """, arguments: [time])
            return QueueStats(counts: counts, deadLetters: dead, oldestQueuedAt: oldest.map(Date.init(timeIntervalSince1970:)))
        }
    }

    public func deadLetters(limit: Int) async throws(KilnError) -> [JobRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM jobs WHERE dead_letter = 1 AND status = 'failed' ORDER BY updated_at DESC, id LIMIT ?
                """, arguments: [limit]).map(Self.record)
        }
    }

    public func requeue(_ id: String) async throws(KilnError) -> JobRecord? {
        let time = now().timeIntervalSince1970
        return try await database.write { db in
            try db.execute(sql: """
                UPDATE jobs SET status = 'queued', dead_letter = 0, attempts = 0, error = NULL, available_at = ?,
                    updated_at = ? WHERE id = ? AND dead_letter = 1 AND status = 'failed'
                """, arguments: [time, time, id])
            guard db.changesCount == 1 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.record)
        }
    }

    public func pendingEvents(limit: Int) async throws(KilnError) -> [JobRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM jobs WHERE event_sent_at IS NULL AND status IN ('succeeded', 'failed', 'cancelled')
                ORDER BY updated_at, id LIMIT ?
                """, arguments: [limit]).map(Self.record)
        }
    }

    @discardableResult
    public func markEventSent(_ id: String) async throws(KilnError) -> Bool {
        let time = now().timeIntervalSince1970
        return try await database.write { db in
            try db.execute(sql: "UPDATE jobs SET event_sent_at = ? WHERE id = ? AND event_sent_at IS NULL", arguments: [time, id])
            return db.changesCount == 1
        }
    }

    @discardableResult
    public func prune(endedLongerThan retention: Duration) async throws(KilnError) -> Int {
        let time = now().addingTimeInterval(-JobControl.seconds(retention))
        return try await database.write { db in
            try db.execute(sql: """
                DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'cancelled') AND NOT dead_letter
                    AND event_sent_at IS NOT NULL AND updated_at < ?
                """, arguments: [time.timeIntervalSince1970])
            return db.changesCount
        }
    }

    static func record(_ row: Row) -> JobRecord {
        JobRecord(id: row["id"], kind: row["kind"], status: JobStatus(rawValue: row["status"]) ?? .failed,
                  stage: row["stage"], progress: row["progress"], priority: row["priority"], payload: row["payload"],
                  result: row["result"], error: row["error"], attempts: row["attempts"], dedupeKey: row["dedupe_key"],
                  worker: row["worker"], cancelRequested: row["cancel_requested"], deadLetter: row["dead_letter"],
                  createdAt: Date(timeIntervalSince1970: row["created_at"]),
                  updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }
}
