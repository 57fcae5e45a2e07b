import Foundation
import KilnCore

/// A job's life, the one place it is described (SPEC §6, docs/operations.md):
///
/// - `queued`: received, waiting to be claimed (from `available_at`, later after a retry's backoff).
/// - `running`: claimed by one worker under a lease it renews (with the job's progress) while it
///   works. A worker that stops renewing (killed, cut off) loses the job when the lease expires,
///   and the job is offered again; each claim counts as an attempt.
/// - `succeeded`: the result is stored.
/// - `failed`: a failure that retrying cannot fix (the input's fault), or a retryable one whose
///   attempts (`JobPolicy.maxAttempts`) are used up, including workers lost mid-job that many
///   times. Those last are *dead letters* (`deadLetter`): kept for an operator, who can
///   `requeue` them once the cause is fixed.
/// - `cancelled`: cancelled while queued, or stopped by its worker after a cancel was asked.
///
/// Jobs with the same `dedupeKey` (the same media and options) are one job while unfinished.
/// Higher `priority` is claimed first, then the oldest.
public enum JobStatus: String, Codable, Sendable, CaseIterable {
    case queued, running, succeeded, failed, cancelled

    public var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// A job as stored. `payload` (what to do), `result` and `error` are JSON the queue does not read.
public struct JobRecord: Sendable, Equatable {
    public let id: String
    public let kind: String
    public var status: JobStatus
    public var stage: String?
    public var progress: Double
    public let priority: Int
    public let payload: Data
    public var result: Data?
    public var error: Data?
    public var attempts: Int
    public let dedupeKey: String?
    public var worker: String?
    public var cancelRequested: Bool
    /// Failed after its attempts were used up (see `JobStatus`).
    public var deadLetter: Bool
    public let createdAt: Date
    public var updatedAt: Date
}

/// A job to add.
public struct NewJob: Sendable {
    public let id: String
    public let kind: String
    public let payload: Data
    /// Higher runs first.
    public let priority: Int
    /// Jobs with the same key that are not finished are one job: enqueue gives back the first.
    public let dedupeKey: String?

    public init(id: String = "job_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""),
                kind: String, payload: Data, priority: Int = 0, dedupeKey: String? = nil) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.priority = priority
        self.dedupeKey = dedupeKey
    }
}

/// What a lease renewal learns.
public enum LeaseAnswer: Sendable, Equatable {
    /// Keep working.
    case held
    /// Someone asked to cancel: stop, then `finish(..., .cancelled)`.
    case cancelRequested
    /// The lease is gone (expired and claimed elsewhere, or the job is finished): stop, record nothing.
    case lost
}

/// How a claimed job ended.
public enum JobOutcome: Sendable {
    case succeeded(Data)
    /// `retry`: put it back (with backoff) while attempts remain.
    case failed(Data, retry: Bool)
    case cancelled(Data)
}

/// The durable job queue the front ends share. The embedded SQLite queue implements it; a
/// PostgreSQL one can follow and must pass the same conformance suite (KilnDatabaseTests).
public protocol JobQueue: Sendable {
    /// Adds a job (or returns the unfinished job with the same `dedupeKey`).
    func enqueue(_ job: NewJob) async throws(KilnError) -> JobRecord
    /// The next job for `worker`: highest priority, then oldest; a running job whose lease
    /// expired counts as queued. Nil when there is none.
    func claim(worker: String, lease: Duration) async throws(KilnError) -> JobRecord?
    /// Renews the lease and records progress.
    func renew(_ id: String, worker: String, lease: Duration, stage: String?, progress: Double)
        async throws(KilnError) -> LeaseAnswer
    /// Ends a claimed job; false (nothing written) when `worker` no longer holds it.
    @discardableResult
    func finish(_ id: String, worker: String, _ outcome: JobOutcome) async throws(KilnError) -> Bool
    /// Cancels a queued job at once, or asks the worker of a running one; nil when unknown.
    func cancel(_ id: String, reason: Data) async throws(KilnError) -> JobRecord?
    /// Gives back every job `worker` holds (a worker that restarted under the same name).
    @discardableResult
    func release(worker: String) async throws(KilnError) -> Int
    func job(_ id: String) async throws(KilnError) -> JobRecord?
    /// Jobs per status, dead letters, and when the oldest queued job was added.
    func stats() async throws(KilnError) -> QueueStats
    /// Failed jobs that used up their attempts, newest first.
    func deadLetters(limit: Int) async throws(KilnError) -> [JobRecord]
    /// Offers a dead letter again with fresh attempts; nil when `id` is not a dead letter.
    func requeue(_ id: String) async throws(KilnError) -> JobRecord?
    /// Finished jobs (succeeded, failed, cancelled) whose event has not been sent yet, oldest
    /// first. Derived from the job's own state, so a finish and its pending event are one write:
    /// a crash between finishing a job and delivering its event still delivers it (issue 13).
    func pendingEvents(limit: Int) async throws(KilnError) -> [JobRecord]
    /// The finished job's event is handed on (to the webhook outbox); it is not pending again.
    /// False when it was not pending (another server handed it on first).
    @discardableResult
    func markEventSent(_ id: String) async throws(KilnError) -> Bool
    /// Forgets jobs that ended more than `retention` ago (by the queue's clock) and whose event
    /// was handed on (dead letters stay for the operator); returns how many went.
    @discardableResult
    func prune(endedLongerThan retention: Duration) async throws(KilnError) -> Int
    /// Calls `handler` whenever work may have been added (by this process, or by another
    /// through a shared queue's notifications), so idle workers look at once instead of at
    /// their next poll.
    func onWork(_ handler: @escaping @Sendable () -> Void)
}

/// What the queue holds, for metrics.
public struct QueueStats: Sendable, Equatable {
    public var counts: [JobStatus: Int]
    public var deadLetters: Int
    /// When the oldest job that is queued and due was added; nil when none is.
    public var oldestQueuedAt: Date?

    public init(counts: [JobStatus: Int], deadLetters: Int, oldestQueuedAt: Date?) {
        self.counts = Dictionary(uniqueKeysWithValues: JobStatus.allCases.map { ($0, counts[$0] ?? 0) })
        self.deadLetters = deadLetters
        self.oldestQueuedAt = oldestQueuedAt
    }
}

/// Attempts and backoff shared by the queues.
public enum JobPolicy {
    public static let maxAttempts = 3

    /// The error a job gets when its workers were lost (lease expired) on every attempt.
    public static func workersLost(_ attempts: Int) -> Data {
        let error = KilnError.internalError(
            "the job's worker stopped without ending it \(attempts) times (killed or cut off); it is kept as a dead letter: fix the cause, then requeue it")
        return (try? JSONEncoder().encode(error)) ?? Data("{}".utf8)
    }

    /// A job's priority from the bytes it has to process: smaller first, so images and short
    /// clips are not held up behind long videos (100 for a few MB, down to 0 from about 1 GB).
    public static func priority(bytes: Int64) -> Int {
        max(0, 100 - Int(min(bytes / 10_000_000, 100)))
    }

    /// Seconds before attempt `attempt` (1-based) is offered again: 2, 4, 8, ... at most 60.
    public static func backoff(afterAttempt attempt: Int) -> Double {
        min(60, pow(2, Double(max(1, attempt))))
    }
}
