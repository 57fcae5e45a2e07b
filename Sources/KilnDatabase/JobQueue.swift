import Foundation
import KilnCore

/// A job's life (SPEC §6): `queued` (received, waiting) -> `running` (claimed by a worker under
/// a lease) -> `succeeded` | `failed` | `cancelled`. A running job whose worker stops renewing
/// its lease is offered again; a retryable failure goes back to `queued` after a backoff until
/// its attempts are used up.
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
    /// Jobs per status.
    func counts() async throws(KilnError) -> [JobStatus: Int]
}

/// Attempts and backoff shared by the queues.
public enum JobPolicy {
    public static let maxAttempts = 3

    /// Seconds before attempt `attempt` (1-based) is offered again: 2, 4, 8, ... at most 60.
    public static func backoff(afterAttempt attempt: Int) -> Double {
        min(60, pow(2, Double(max(1, attempt))))
    }
}
