import Foundation
import KilnCore
import KilnDatabase
import KilnTestSupport
import Synchronization
import Testing

/// The PostgreSQL queue on a throwaway cluster: the conformance suite the embedded queue
/// passes, and what only a shared queue has (concurrent migrations, notifications).
@Suite struct PostgresJobQueueTests {
    /// A queue on a new database of the shared test cluster, running for the time of `body`.
    static func withQueue(clock: TestClock? = nil, url: String? = nil,
                          _ body: @Sendable (PostgresJobQueue) async throws -> Void) async throws {
        let url = if let url { url } else { try await PostgresCluster.started().database() }
        let now: (@Sendable () -> Date)? = if let clock { { clock.now } } else { nil }
        let queue = try PostgresJobQueue(url: url + "?sslmode=disable", now: now)
        // A generous bound: the whole suite runs beside this on two cores.
        try await queue.serving(migrateWithin: .seconds(120)) { try await body(queue) }
    }

    @Test(arguments: JobQueueConformance.cases.map(\.0))
    func conformance(_ name: String) async throws {
        let clock = TestClock()
        let run = try #require(JobQueueConformance.cases.first { $0.0 == name }?.1)
        try await Self.withQueue(clock: clock) { queue in try await run(queue, clock) }
    }

    @Test func severalProcessesMigrateAtOnce() async throws {
        let url = try await PostgresCluster.started().database()
        // Six queues (as six processes starting together) migrate one fresh database at once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 { group.addTask { try await Self.withQueue(url: url) { _ in } } }
            try await group.waitForAll()
        }
        // Each version applied once, in order.
        let versions = try await Tool.check("psql", ["-tA", url, "-c", "SELECT string_agg(version::text, ',' ORDER BY version) FROM kiln_migrations"])
        #expect(String(decoding: versions.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            == (1...PostgresDatabase.schemaVersion).map(String.init).joined(separator: ","))
    }

    @Test func concurrentEnqueuesOfOneKeyMakeOneJob() async throws {
        try await Self.withQueue { queue in
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<12 {
                    group.addTask {
                        try await queue.enqueue(NewJob(id: "k\(index)", kind: "media", payload: Data(), dedupeKey: "same")).id
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            #expect(try await queue.stats().counts[.queued] == 1)
        }
    }

    @Test func anEnqueueWakesIdleWorkersOfOtherProcesses() async throws {
        let url = try await PostgresCluster.started().database()
        try await Self.withQueue(url: url) { producer in
            try await Self.withQueue(url: url) { worker in
                let woken = Mutex(0)
                worker.onWork { woken.withLock { $0 += 1 } }
                // Until the worker's LISTEN is up (it wakes once when it connects, and at each
                // enqueue from then on), enqueue now and then.
                let deadline = ContinuousClock.now + .seconds(20)
                while woken.withLock({ $0 }) == 0 {
                    try #require(ContinuousClock.now < deadline, "never woken")
                    _ = try await producer.enqueue(NewJob(kind: "media", payload: Data()))
                    try await Task.sleep(for: .milliseconds(100))
                }
                // Listening now: one enqueue in another process wakes it.
                let before = woken.withLock { $0 }
                _ = try await producer.enqueue(NewJob(kind: "media", payload: Data()))
                try await eventually(seconds: 20) { woken.withLock { $0 } > before }
            }
        }
    }

    @Test func aBadURLIsRefusedWithItsCode() {
        for url in ["mysql://x@h/db", "postgres://", "postgres://u@h/db?sslmode=sometimes"] {
            #expect(throws: KilnError.self) { try PostgresJobQueue(url: url) }
            do { _ = try PostgresJobQueue(url: url) } catch { #expect(error.code == .file007, "\(url)") }
        }
    }
}
