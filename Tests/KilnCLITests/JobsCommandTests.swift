import Foundation
import KilnCore
import KilnDatabase
import KilnTestSupport
import Synchronization
import Testing

/// `kiln jobs` on both queues: a dead letter is listed with its error, requeued, and counted.
@Suite struct JobsCommandTests {
    /// Makes a dead letter (a retryable failure on every attempt) in `queue`, moving its clock
    /// past each backoff.
    static func deadLetter(in queue: any JobQueue, clock: Clock) async throws -> String {
        let job = try await queue.enqueue(NewJob(kind: "media", payload: Data("{}".utf8)))
        let error = try JSONEncoder().encode(KilnError.storageUnavailable("the bucket answered 503"))
        for attempt in 1...JobPolicy.maxAttempts {
            _ = try #require(try await queue.claim(worker: "w", lease: .seconds(30)))
            try await queue.finish(job.id, worker: "w", .failed(error, retry: true))
            clock.advance(JobPolicy.backoff(afterAttempt: attempt) + 1)
        }
        return job.id
    }

    final class Clock: Sendable {
        private let time = Mutex<Date>(Date().addingTimeInterval(-3_600))
        var now: Date { time.withLock { $0 } }
        func advance(_ seconds: Double) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    static func kiln(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let run = try await Tool.run(BatchCommandTests.binary, ["jobs"] + arguments)
        return (run.status, String(decoding: run.stdout, as: UTF8.self), run.stderr)
    }

    static func check(_ location: [String], job: String) async throws {
        let dead = try await kiln(["dead"] + location)
        #expect(dead.status == 0 && dead.stdout.hasPrefix(job) && dead.stdout.contains("FILE_006"), "\(dead)")
        #expect(dead.stdout.contains("attempts 3"))
        let stats = try await kiln(["stats"] + location)
        #expect(stats.stdout.contains("failed\t1") && stats.stdout.contains("dead letters\t1"), "\(stats)")
        let requeued = try await kiln(["requeue", job] + location)
        #expect(requeued.status == 0 && requeued.stdout == "requeued \(job)\n", "\(requeued)")
        let after = try await kiln(["stats"] + location)
        #expect(after.stdout.contains("queued\t1") && after.stdout.contains("dead letters\t0"), "\(after)")
        #expect(try await kiln(["dead"] + location).stdout.isEmpty)
        // Twice, or an unknown id: not a dead letter.
        let again = try await kiln(["requeue", job] + location)
        #expect(again.status == 1 && again.stderr.contains("API_002"), "\(again)")
    }

    @Test func onTheEmbeddedQueue() async throws {
        let data = Fixtures.scratchDirectory("kiln-jobs")
        defer { Fixtures.cleanUp(data) }
        let clock = Clock()
        let job = try await Self.deadLetter(in: SQLiteJobQueue(try KilnDatabase(directory: data), now: { clock.now }), clock: clock)
        try await Self.check(["--data", data], job: job)
    }

    @Test func onTheSharedQueue() async throws {
        let url = try await PostgresCluster.started().database() + "?sslmode=disable"
        let clock = Clock()
        let queue = try PostgresJobQueue(url: url, now: { clock.now })
        let job = try await queue.serving(migrateWithin: .seconds(120)) { try await Self.deadLetter(in: queue, clock: clock) }
        try await Self.check(["--queue", url], job: job)
    }
}
