import KilnCore
import KilnDatabase
import Synchronization

/// Whether the server can serve: the embedded database answers, the shared one (state, queue)
/// does, and the store is usable. An answer is reused for `cache` (a balancer probing every
/// second does not reach the bucket every second).
final class Readiness: Sendable {
    let database: KilnDatabase
    let shared: PostgresDatabase?
    let queue: any JobQueue
    let store: (any MediaStore)?
    let cache: Duration
    private let last = Mutex<(at: ContinuousClock.Instant, failure: KilnError?)?>(nil)

    init(database: KilnDatabase, shared: PostgresDatabase?, queue: any JobQueue, store: (any MediaStore)?, cache: Duration) {
        self.database = database
        self.shared = shared
        self.queue = queue
        self.store = store
        self.cache = cache
    }

    /// Nil when ready, else why not (FILE_006, FILE_007).
    func check() async -> KilnError? {
        let now = ContinuousClock.now
        if let cached = last.withLock({ last in last.flatMap { now - $0.at < cache ? $0 : nil } }) { return cached.failure }
        let failure: KilnError?
        do throws(KilnError) {
            try await probe()
            failure = nil
        } catch {
            failure = error
        }
        last.withLock { $0 = (now, failure) }
        return failure
    }

    private func probe() async throws(KilnError) {
        guard await database.ping() else { throw KilnError.storageUnavailable("the database does not answer") }
        // The shared database (state, queue) must answer too, or no request could be served.
        if let shared { try await shared.checkAvailable() }
        if let queue = queue as? PostgresJobQueue, queue.database !== shared { try await queue.checkAvailable() }
        guard let store else { throw KilnError.storageNotConfigured("the server has no store") }
        try await store.checkAvailable()
    }
}
