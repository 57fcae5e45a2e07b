import Foundation
import KilnCore
import KilnDatabase
import KilnTestSupport
import Synchronization
import Testing

/// A clock the test moves (leases and backoff without waiting).
final class TestClock: Sendable {
    private let time = Mutex<Date>(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// The behaviour every `JobQueue` backend must have. Each case takes a fresh queue and the
/// clock it reads; a PostgreSQL backend runs the same cases.
enum JobQueueConformance {
    static func payload(_ text: String) -> Data { Data(text.utf8) }

    static func ordering(_ queue: any JobQueue, _ clock: TestClock) async throws {
        _ = try await queue.enqueue(NewJob(id: "a", kind: "media", payload: payload("a"), priority: 0))
        clock.advance(1)
        _ = try await queue.enqueue(NewJob(id: "b", kind: "media", payload: payload("b"), priority: 5))
        clock.advance(1)
        _ = try await queue.enqueue(NewJob(id: "c", kind: "media", payload: payload("c"), priority: 0))
        var order: [String] = []
        while let job = try await queue.claim(worker: "w", lease: .seconds(30)) { order.append(job.id) }
        #expect(order == ["b", "a", "c"])
        let stats = try await queue.stats()
        #expect(stats.counts[.running] == 3 && stats.counts[.queued] == 0 && stats.deadLetters == 0)
    }

    static func concurrentClaimers(_ queue: any JobQueue, _ clock: TestClock) async throws {
        for index in 0..<40 { _ = try await queue.enqueue(NewJob(id: "j\(index)", kind: "media", payload: payload("\(index)"))) }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var mine: [String] = []
                    while let job = try await queue.claim(worker: "w\(worker)", lease: .seconds(30)) { mine.append(job.id) }
                    return mine
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(claimed.count == 40)
        #expect(Set(claimed).count == 40)
    }

    static func leaseExpiry(_ queue: any JobQueue, _ clock: TestClock) async throws {
        _ = try await queue.enqueue(NewJob(id: "x", kind: "media", payload: payload("x")))
        let first = try #require(try await queue.claim(worker: "dead", lease: .seconds(10)))
        #expect(try await queue.claim(worker: "other", lease: .seconds(10)) == nil)
        clock.advance(5)
        #expect(try await queue.renew("x", worker: "dead", lease: .seconds(10), stage: "processing", progress: 0.5) == .held)
        #expect(try await queue.job("x")?.progress == 0.5)
        clock.advance(11)
        let second = try #require(try await queue.claim(worker: "other", lease: .seconds(10)))
        #expect(second.id == first.id && second.attempts == 2)
        // The first worker lost it: its renewal and its result are refused.
        #expect(try await queue.renew("x", worker: "dead", lease: .seconds(10), stage: nil, progress: 0.9) == .lost)
        #expect(try await queue.finish("x", worker: "dead", .succeeded(payload("late"))) == false)
        #expect(try await queue.finish("x", worker: "other", .succeeded(payload("ok"))))
        let done = try #require(try await queue.job("x"))
        #expect(done.status == .succeeded && done.result == payload("ok") && done.progress == 1)
    }

    static func retries(_ queue: any JobQueue, _ clock: TestClock) async throws {
        _ = try await queue.enqueue(NewJob(id: "r", kind: "media", payload: payload("r")))
        for attempt in 1...JobPolicy.maxAttempts {
            let job = try #require(try await queue.claim(worker: "w", lease: .seconds(30)))
            #expect(job.attempts == attempt)
            try await queue.finish("r", worker: "w", .failed(payload("busy"), retry: true))
            if attempt < JobPolicy.maxAttempts {
                #expect(try await queue.job("r")?.status == .queued)
                // Backoff: not offered before it is due.
                #expect(try await queue.claim(worker: "w", lease: .seconds(30)) == nil)
                clock.advance(JobPolicy.backoff(afterAttempt: attempt) + 0.1)
            }
        }
        let failed = try #require(try await queue.job("r"))
        #expect(failed.status == .failed && failed.error == payload("busy") && failed.deadLetter)
        // A failure that is not retryable ends the job at once, and is no dead letter.
        _ = try await queue.enqueue(NewJob(id: "n", kind: "media", payload: payload("n")))
        _ = try await queue.claim(worker: "w", lease: .seconds(30))
        try await queue.finish("n", worker: "w", .failed(payload("corrupt"), retry: false))
        let corrupt = try #require(try await queue.job("n"))
        #expect(corrupt.status == .failed && !corrupt.deadLetter)
        #expect(try await queue.deadLetters(limit: 10).map(\.id) == ["r"])
    }

    static func deadLetter(_ queue: any JobQueue, _ clock: TestClock) async throws {
        _ = try await queue.enqueue(NewJob(id: "d", kind: "media", payload: payload("d")))
        // Three workers die holding it (their leases expire).
        for attempt in 1...JobPolicy.maxAttempts {
            let job = try #require(try await queue.claim(worker: "w\(attempt)", lease: .seconds(10)))
            #expect(job.id == "d" && job.attempts == attempt)
            clock.advance(11)
        }
        // Not offered a fourth time: a dead letter, with an error that says why.
        #expect(try await queue.claim(worker: "w4", lease: .seconds(10)) == nil)
        let dead = try #require(try await queue.job("d"))
        #expect(dead.status == .failed && dead.deadLetter && dead.worker == nil)
        let error = try JSONDecoder().decode(KilnError.self, from: try #require(dead.error))
        #expect(error.code == .api005 && error.message.contains("dead letter"), "\(error)")
        let stats = try await queue.stats()
        #expect(stats.deadLetters == 1 && stats.counts[.failed] == 1 && stats.oldestQueuedAt == nil)
        #expect(try await queue.deadLetters(limit: 10).map(\.id) == ["d"])
        // Requeued by an operator: offered again with fresh attempts.
        #expect(try await queue.requeue("missing") == nil)
        let again = try #require(try await queue.requeue("d"))
        #expect(again.status == .queued && again.attempts == 0 && !again.deadLetter)
        #expect(try await queue.stats().oldestQueuedAt != nil)
        #expect(try await queue.claim(worker: "w5", lease: .seconds(10))?.attempts == 1)
        #expect(try await queue.requeue("d") == nil, "only dead letters are requeued")
    }

    static func cancellation(_ queue: any JobQueue, _ clock: TestClock) async throws {
        _ = try await queue.enqueue(NewJob(id: "q", kind: "media", payload: payload("q")))
        #expect(try await queue.cancel("q", reason: payload("stop"))?.status == .cancelled)
        #expect(try await queue.claim(worker: "w", lease: .seconds(30)) == nil)
        _ = try await queue.enqueue(NewJob(id: "r", kind: "media", payload: payload("r")))
        _ = try await queue.claim(worker: "w", lease: .seconds(30))
        #expect(try await queue.cancel("r", reason: payload("stop"))?.cancelRequested == true)
        #expect(try await queue.renew("r", worker: "w", lease: .seconds(30), stage: nil, progress: 0.2) == .cancelRequested)
        try await queue.finish("r", worker: "w", .cancelled(payload("stopped")))
        #expect(try await queue.job("r")?.status == .cancelled)
        #expect(try await queue.cancel("missing", reason: payload("")) == nil)
    }

    static func uniqueJobs(_ queue: any JobQueue, _ clock: TestClock) async throws {
        let first = try await queue.enqueue(NewJob(id: "u1", kind: "media", payload: payload("1"), dedupeKey: "same"))
        let second = try await queue.enqueue(NewJob(id: "u2", kind: "media", payload: payload("2"), dedupeKey: "same"))
        #expect(second.id == first.id)
        _ = try await queue.claim(worker: "w", lease: .seconds(30))
        try await queue.finish("u1", worker: "w", .succeeded(payload("ok")))
        // Once finished, the same key makes a new job.
        let third = try await queue.enqueue(NewJob(id: "u3", kind: "media", payload: payload("3"), dedupeKey: "same"))
        #expect(third.id == "u3")
    }

    static func release(_ queue: any JobQueue, _ clock: TestClock) async throws {
        _ = try await queue.enqueue(NewJob(id: "k", kind: "media", payload: payload("k")))
        _ = try await queue.claim(worker: "local", lease: .seconds(300))
        // The worker restarted under the same name: what it held is offered again at once.
        #expect(try await queue.release(worker: "local") == 1)
        let again = try #require(try await queue.claim(worker: "local", lease: .seconds(300)))
        #expect(again.id == "k" && again.status == .running)
    }

    static func events(_ queue: any JobQueue, _ clock: TestClock) async throws {
        for id in ["s", "f", "r", "c", "q"] {
            _ = try await queue.enqueue(NewJob(id: id, kind: "media", payload: payload(id)))
            clock.advance(1)
        }
        #expect(try await queue.pendingEvents(limit: 10).isEmpty, "queued jobs have no event")
        for (id, outcome) in [("s", JobOutcome.succeeded(payload("ok"))), ("f", .failed(payload("bad"), retry: false)),
                              ("r", .failed(payload("busy"), retry: true))] {
            let job = try #require(try await queue.claim(worker: "w", lease: .seconds(30)))
            #expect(job.id == id)
            clock.advance(1)
            try await queue.finish(id, worker: "w", outcome)
        }
        clock.advance(1)
        _ = try await queue.cancel("c", reason: payload("stop"))
        // Ended jobs are pending, oldest first; one to be retried has not ended.
        #expect(try await queue.pendingEvents(limit: 10).map(\.id) == ["s", "f", "c"])
        #expect(try await queue.pendingEvents(limit: 2).map(\.id) == ["s", "f"])
        #expect(try await queue.markEventSent("s"))
        #expect(try await !queue.markEventSent("s"), "handed on once: a second server finds it taken")
        #expect(try await queue.pendingEvents(limit: 10).map(\.id) == ["f", "c"])
    }

    /// Ended jobs whose event went are forgotten after the retention; running ones, ones whose
    /// event is pending, and dead letters stay.
    static func pruning(_ queue: any JobQueue, _ clock: TestClock) async throws {
        for id in ["old", "pending", "running"] { _ = try await queue.enqueue(NewJob(id: id, kind: "media", payload: payload(id))) }
        for id in ["old", "pending"] {
            let job = try #require(try await queue.claim(worker: "w", lease: .seconds(3600)))
            #expect(job.id == id)
            try await queue.finish(id, worker: "w", .succeeded(payload("ok")))
        }
        _ = try await queue.claim(worker: "w", lease: .seconds(3600))
        #expect(try await queue.markEventSent("old"))
        clock.advance(7200)
        #expect(try await queue.prune(endedLongerThan: .seconds(3600)) == 1)
        #expect(try await queue.job("old") == nil)
        #expect(try await queue.job("pending") != nil)
        #expect(try await queue.job("running") != nil)
        #expect(try await queue.prune(endedLongerThan: .seconds(3600)) == 0)
    }

    static let cases: [(String, @Sendable (any JobQueue, TestClock) async throws -> Void)] = [
        ("ordering", ordering), ("concurrent claimers", concurrentClaimers), ("lease expiry", leaseExpiry),
        ("retries", retries), ("dead letter", deadLetter), ("cancellation", cancellation), ("unique jobs", uniqueJobs),
        ("release", release), ("events", events), ("pruning", pruning),
    ]
}

@Suite struct SQLiteJobQueueTests {
    @Test(arguments: JobQueueConformance.cases.map(\.0))
    func conformance(_ name: String) async throws {
        let directory = Fixtures.scratchDirectory("kiln-queue")
        defer { Fixtures.cleanUp(directory) }
        let clock = TestClock()
        let queue = SQLiteJobQueue(try KilnDatabase(directory: directory), now: { clock.now })
        let run = try #require(JobQueueConformance.cases.first { $0.0 == name }?.1)
        try await run(queue, clock)
    }

    @Test func jobsSurviveReopening() async throws {
        let directory = Fixtures.scratchDirectory("kiln-queue")
        defer { Fixtures.cleanUp(directory) }
        _ = try await SQLiteJobQueue(try KilnDatabase(directory: directory)).enqueue(NewJob(id: "d", kind: "media", payload: Data("p".utf8)))
        let reopened = SQLiteJobQueue(try KilnDatabase(directory: directory))
        #expect(try await reopened.job("d")?.payload == Data("p".utf8))
    }
}

/// What only the embedded key store has to show (the rest is `StateConformance.keys`): two
/// processes on one file, and no secret in it.
@Suite struct APIKeyTests {
    @Test func anotherProcessSeesTheKeysAndNoSecretIsKept() async throws {
        let directory = Fixtures.scratchDirectory("kiln-keys")
        defer { Fixtures.cleanUp(directory) }
        let keys = SQLiteKeyStore(try KilnDatabase(directory: directory))
        let (key, secret) = try await keys.create(name: "ci", scope: .read)
        // Another process (kiln keys) sees the same database, and its revocation counts here.
        let other = SQLiteKeyStore(try KilnDatabase(directory: directory))
        #expect(try await other.list().map(\.id) == [key.id])
        #expect(try await other.revoke(key.id))
        #expect(try await keys.authenticate(secret) == nil)
        // The secret itself is nowhere in the database file.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + KilnDatabase.fileName))
        #expect(bytes.range(of: Data(secret.utf8)) == nil)
    }

    @Test func scopes() {
        #expect(Scope.write.allows(.read) && Scope.write.allows(.write) && !Scope.write.allows(.admin))
        #expect(Scope.read.allows(.read) && !Scope.read.allows(.write))
        #expect(Scope.admin.allows(.read) && Scope.admin.allows(.write) && Scope.admin.allows(.admin))
    }
}
